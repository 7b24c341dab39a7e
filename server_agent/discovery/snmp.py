"""SNMP v2c identification with pysnmp 7 asyncio and ONE shared engine per process.

    SnmpIdentifier(community, port, timeout_s, retries).identify(address) -> SnmpInfo | None

Reads the system group (sysName, sysDescr, sysObjectID, sysLocation), the engine id, the
interface names and MACs (ifDescr/ifName, ifPhysAddress) and LLDP-MIB remote neighbours
(lldpRemChassisId, lldpRemPortId, lldpRemSysName) for topology. A device that does not answer
the first GET within the timeout is skipped (None), so silent addresses cost one request.
"""

from __future__ import annotations

import asyncio
from typing import Any

from server_agent.discovery.model import SnmpInfo

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"
SYS_LOCATION = "1.3.6.1.2.1.1.6.0"
ENGINE_ID = "1.3.6.1.6.3.10.2.1.1.0"
IF_DESCR = "1.3.6.1.2.1.2.2.1.2"
IF_PHYS = "1.3.6.1.2.1.2.2.1.6"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
LLDP_REM = "1.3.6.1.0.8802.1.1.2.1.4.1.1"  # lldpRemEntry: .5 chassis id, .7 port id, .9 name
MAX_ROWS = 256

_ENGINE: tuple[asyncio.AbstractEventLoop, Any] | None = None


def shared_engine() -> Any:
    """The process's one SnmpEngine (created lazily: importing pysnmp costs ~30 MB).

    Its transport belongs to the event loop that first used it; the agent has one loop for
    its lifetime. A new loop (a second ``asyncio.run`` in the CLI or tests) gets a fresh
    engine and the old one's dispatcher is closed."""
    global _ENGINE
    loop = asyncio.get_running_loop()
    if _ENGINE is None or _ENGINE[0] is not loop:
        from pysnmp.hlapi.v3arch.asyncio import SnmpEngine

        if _ENGINE is not None:
            try:
                _ENGINE[1].close_dispatcher()
            except Exception:
                pass
        _ENGINE = (loop, SnmpEngine())
    return _ENGINE[1]


def _text(value: Any) -> str:
    try:
        raw = value.asOctets()
    except AttributeError:
        return str(value.prettyPrint())
    if raw and all(32 <= b < 127 or b in (9, 10, 13) for b in raw):
        return str(raw.decode("ascii")).strip()
    return ":".join(f"{b:02x}" for b in raw)


def _oid(value: Any) -> str:
    try:
        return ".".join(str(int(x)) for x in value.asTuple())
    except (AttributeError, TypeError, ValueError):
        return str(value)


class SnmpIdentifier:
    def __init__(self, community: str = "public", port: int = 161, timeout_s: float = 1.0,
                 retries: int = 0) -> None:
        self.community = community
        self.port = port
        self.timeout_s = timeout_s
        self.retries = retries

    async def _target(self, address: str) -> Any:
        from pysnmp.hlapi.v3arch.asyncio import UdpTransportTarget

        return await UdpTransportTarget.create((address, self.port), timeout=self.timeout_s,
                                               retries=self.retries)

    def _auth(self) -> Any:
        from pysnmp.hlapi.v3arch.asyncio import CommunityData

        return CommunityData(self.community, mpModel=1)

    async def _get(self, target: Any, oids: list[str]) -> dict[str, Any] | None:
        from pysnmp.hlapi.v3arch.asyncio import ContextData, ObjectIdentity, ObjectType, get_cmd

        err, status, _idx, binds = await get_cmd(
            shared_engine(), self._auth(), target, ContextData(),
            *[ObjectType(ObjectIdentity(o)) for o in oids])
        if err or status:
            return None
        out: dict[str, Any] = {}
        for name, value in binds:
            cls = type(value).__name__
            if cls in ("NoSuchObject", "NoSuchInstance", "EndOfMibView"):
                continue
            out[str(name)] = value
        return out

    async def _walk(self, target: Any, root: str) -> list[tuple[str, Any]]:
        from pysnmp.hlapi.v3arch.asyncio import (
            ContextData,
            ObjectIdentity,
            ObjectType,
            bulk_walk_cmd,
        )

        rows: list[tuple[str, Any]] = []
        async for err, status, _idx, binds in bulk_walk_cmd(
                shared_engine(), self._auth(), target, ContextData(), 0, 25,
                ObjectType(ObjectIdentity(root)), lexicographicMode=False):
            if err or status:
                break
            for name, value in binds:
                rows.append((str(name), value))
            if len(rows) >= MAX_ROWS * 4:
                break
        return rows

    async def identify(self, address: str) -> SnmpInfo | None:
        target = await self._target(address)
        got = await self._get(target, [SYS_DESCR, SYS_OBJECT_ID, SYS_NAME, SYS_LOCATION])
        if not got:
            return None
        info = SnmpInfo(
            sys_descr=_text(got[SYS_DESCR]) if SYS_DESCR in got else "",
            sys_object_id=_oid(got[SYS_OBJECT_ID]) if SYS_OBJECT_ID in got else "",
            sys_name=_text(got[SYS_NAME]) if SYS_NAME in got else "",
            sys_location=_text(got[SYS_LOCATION]) if SYS_LOCATION in got else "",
        )
        try:
            eng = await self._get(target, [ENGINE_ID])
            if eng and ENGINE_ID in eng:
                info.engine_id = bytes(eng[ENGINE_ID].asOctets()).hex()
            info.interfaces = await self._interfaces(target)
            info.lldp = await self._lldp(target)
        except (TimeoutError, OSError):
            pass  # the system group is enough to classify
        return info

    async def _interfaces(self, target: Any) -> list[dict[str, Any]]:
        rows: dict[int, dict[str, Any]] = {}
        for root, key in ((IF_DESCR, "name"), (IF_NAME, "name"), (IF_PHYS, "mac")):
            for oid, value in await self._walk(target, root):
                index = int(oid.rsplit(".", 1)[1])
                if len(rows) >= MAX_ROWS and index not in rows:
                    continue
                text = _text(value)
                if key == "mac":
                    raw = bytes(value.asOctets())
                    text = ":".join(f"{b:02x}" for b in raw) if len(raw) == 6 else ""
                rows.setdefault(index, {"index": index})[key] = text
        return [rows[i] for i in sorted(rows)]

    async def _lldp(self, target: Any) -> list[dict[str, str]]:
        cols = {"5": "chassis_id", "7": "port_id", "8": "port_descr", "9": "sys_name"}
        rows: dict[str, dict[str, str]] = {}
        for oid, value in await self._walk(target, LLDP_REM):
            rest = oid[len(LLDP_REM) + 1:].split(".")
            if len(rest) < 4 or rest[0] not in cols:
                continue
            # index: lldpRemTimeMark.lldpRemLocalPortNum.lldpRemIndex
            key = ".".join(rest[1:4])
            row = rows.setdefault(key, {"local_port": rest[2]})
            row[cols[rest[0]]] = _text(value)
        return list(rows.values())[:MAX_ROWS]
