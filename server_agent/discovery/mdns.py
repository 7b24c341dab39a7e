"""mDNS / DNS-SD browsing (python-zeroconf): NMOS IS-04 nodes and vendor services.

Browses only on the given interface addresses (those on-link to a swept subnet), never on
every interface: the agent must not chatter on networks it was not asked to look at.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from server_agent.discovery.model import MdnsService

log = logging.getLogger("flypack.discovery.mdns")

SERVICE_TYPES = (
    "_nmos-node._tcp.local.",      # AMWA NMOS IS-04 node API
    "_nmos-register._tcp.local.",  # IS-04 registration API (a registry)
    "_nmos-query._tcp.local.",     # IS-04 query API
    "_http._tcp.local.",
    "_rtsp._tcp.local.",
    "_ndi._tcp.local.",            # NDI sources
    "_ssh._tcp.local.",
    "_device-info._tcp.local.",
)


def _props(raw: dict[bytes, bytes | None]) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in list(raw.items())[:32]:
        out[k.decode("utf-8", "replace")[:64]] = (v or b"").decode("utf-8", "replace")[:256]
    return out


async def browse(interface_ips: list[str], wait_s: float = 2.0,
                 types: tuple[str, ...] = SERVICE_TYPES) -> dict[str, list[MdnsService]]:
    """address -> services announced from it, after browsing for ``wait_s`` seconds."""
    if not interface_ips:
        return {}
    from zeroconf import IPVersion, ServiceStateChange
    from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

    seen: set[tuple[str, str]] = set()

    def on_change(zeroconf: Any, service_type: str, name: str,
                  state_change: ServiceStateChange) -> None:
        if state_change is not ServiceStateChange.Removed and len(seen) < 4096:
            seen.add((service_type, name))

    try:
        azc = AsyncZeroconf(interfaces=interface_ips, ip_version=IPVersion.V4Only)
    except OSError as exc:
        log.warning("mDNS browsing unavailable: %s", exc)
        return {}
    out: dict[str, list[MdnsService]] = {}
    try:
        browser = AsyncServiceBrowser(azc.zeroconf, list(types), handlers=[on_change])
        await asyncio.sleep(wait_s)
        await browser.async_cancel()
        for stype, name in sorted(seen):
            info = AsyncServiceInfo(stype, name)
            if not await info.async_request(azc.zeroconf, 1000):
                continue
            svc = MdnsService(type=stype, name=name.removesuffix("." + stype),
                              port=info.port or 0, properties=_props(info.properties))
            for addr in info.parsed_addresses(IPVersion.V4Only):
                out.setdefault(addr, []).append(svc)
    finally:
        await azc.async_close()
    return out
