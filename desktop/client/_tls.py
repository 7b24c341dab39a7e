"""First contact and pinning of an agent's TLS certificate (design §8 fingerprint format).

    cert = await fetch_certificate("https://flypack-01:8443")   # no verification: first look
    cert.fingerprint            # 'AB:CD:…' SHA-256 over the DER, as openssl prints it
    ctx = pinned_context(cert.pem)   # verifies that exactly this certificate is presented

The technician compares the fingerprint with the one the agent printed (``flypack-agent cert
create``) and confirms; from then on the client trusts that certificate only. A different one
fails the handshake; :func:`check_pin` then tells "changed" apart from "unreachable".
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from dataclasses import dataclass

import httpx

from desktop.client._exceptions import AgentUnreachable, CertificateChanged

__all__ = ["PeerCertificate", "check_pin", "fetch_certificate", "fingerprint", "pinned_context"]


def fingerprint(der: bytes) -> str:
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


@dataclass(frozen=True)
class PeerCertificate:
    der: bytes

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.der)

    @property
    def pem(self) -> str:
        return ssl.DER_cert_to_PEM_cert(self.der)


def _host_port(url: str) -> tuple[str, int]:
    u = httpx.URL(url)
    if u.scheme != "https":
        raise AgentUnreachable(f"{url} does not use TLS", "use an https:// URL")
    return str(u.host), int(u.port or 443)


async def fetch_certificate(url: str, limit_s: float = 10.0) -> PeerCertificate:
    """The certificate the agent presents, without trusting it (first contact only)."""
    host, port = _host_port(url)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # we only look; nothing is sent before the user confirms
    try:
        _reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=ctx, server_hostname=host), limit_s)
    except (OSError, TimeoutError, ssl.SSLError) as exc:
        raise AgentUnreachable(f"cannot open a TLS connection to {host}:{port}: "
                               f"{exc or type(exc).__name__}",
                               "check the URL and that the agent runs with TLS") from None
    try:
        obj = writer.get_extra_info("ssl_object")
        der = obj.getpeercert(binary_form=True) if obj is not None else None
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except (OSError, ssl.SSLError):
            pass
    if not der:
        raise AgentUnreachable(f"{host}:{port} presented no certificate",
                               "is this a flypack agent?")
    return PeerCertificate(der)


def pinned_context(pem: str) -> ssl.SSLContext:
    """Trust exactly the pinned certificate (as its own anchor); TLS 1.2 at least."""
    ctx = ssl.create_default_context(cadata=pem)
    ctx.check_hostname = False  # the pin names the certificate itself, not a host
    ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


async def check_pin(url: str, pinned: str) -> None:
    """Raise :class:`CertificateChanged` if the agent now presents another certificate."""
    seen = (await fetch_certificate(url)).fingerprint
    if seen != pinned:
        raise CertificateChanged(url, pinned, seen)
