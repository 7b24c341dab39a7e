"""SNMP v2c/v3 identification with pysnmp 7 asyncio and ONE shared engine per process.

    SnmpIdentifier(community, port, timeout_s, retries, versions=("2c", "3"),
                   v3=SnmpV3User(...), loopback_ports=(1161,)).identify(address)
                   -> SnmpInfo | None
    .failures   {address: reason} of devices that answered but refused us (wrong v3 key ...)
    .answered_port  {address: port} the port each identified device answered on

On loopback addresses (a simulated segment: unprivileged simulators cannot bind 161) the
``loopback_ports`` are asked together with ``port`` (so a silent one costs no extra timeout);
the first in that order that answers is used. Other addresses get ``port`` only.

The versions are tried in order per address; the first that answers is used for the rest of
that device's requests. SNMPv3 uses USM (user, auth and priv protocol, keys from the agent's
credential store); a device that rejects the user or its keys (a Report PDU: unknown user,
wrong digest, decryption error) yields None and a reason in ``failures``, silence only None.

Reads the system group (sysName, sysDescr, sysObjectID, sysLocation), the engine id, the
interface names and MACs (ifDescr/ifName, ifPhysAddress) and LLDP-MIB remote neighbours
(lldpRemChassisId, lldpRemPortId, lldpRemSysName) for topology. A device that does not answer
the first GET within the timeout is skipped (None), so silent addresses cost one request.
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from server_agent.discovery.errors import SnmpConfigError
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

AUTH_PROTOCOLS = ("none", "MD5", "SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512")
PRIV_PROTOCOLS = ("none", "DES", "AES", "AES-192", "AES-256")
VERSIONS = ("2c", "3")
MIN_KEY_LEN = 8  # RFC 3414: pass phrases shorter than 8 characters are refused

_AUTH_ATTR = {"none": "usmNoAuthProtocol", "MD5": "usmHMACMD5AuthProtocol",
              "SHA": "usmHMACSHAAuthProtocol", "SHA-224": "usmHMAC128SHA224AuthProtocol",
              "SHA-256": "usmHMAC192SHA256AuthProtocol",
              "SHA-384": "usmHMAC256SHA384AuthProtocol",
              "SHA-512": "usmHMAC384SHA512AuthProtocol"}
# AES-192/256: the Blumenthal key extension, as Net-SNMP and most devices do it
_PRIV_ATTR = {"none": "usmNoPrivProtocol", "DES": "usmDESPrivProtocol",
              "AES": "usmAesCfb128Protocol", "AES-192": "usmAesBlumenthalCfb192Protocol",
              "AES-256": "usmAesBlumenthalCfb256Protocol"}
_V3_HINTS = {"unknown user": "the device has no such USM user",
             "digest": "wrong auth key or auth protocol",
             "decrypt": "wrong priv key or priv protocol",
             "security level": "the device does not support this auth/priv combination",
             "time window": "engine time out of sync (retry)"}


@dataclass(frozen=True)
class SnmpV3User:
    """One USM user. The keys come from the credential store or the environment; never
    logged (``repr`` leaves them out)."""

    user: str
    auth_protocol: str = "SHA"
    auth_key: str = field(default="", repr=False)
    priv_protocol: str = "AES"
    priv_key: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if not self.user:
            raise SnmpConfigError("SNMPv3 needs a user name")
        if self.auth_protocol not in AUTH_PROTOCOLS:
            raise SnmpConfigError(f"SNMPv3 auth protocol {self.auth_protocol!r}: use one of "
                                  f"{', '.join(AUTH_PROTOCOLS)}")
        if self.priv_protocol not in PRIV_PROTOCOLS:
            raise SnmpConfigError(f"SNMPv3 priv protocol {self.priv_protocol!r}: use one of "
                                  f"{', '.join(PRIV_PROTOCOLS)}")
        if self.auth_protocol == "none" and self.priv_protocol != "none":
            raise SnmpConfigError("SNMPv3 privacy needs authentication: set an auth protocol "
                                  "or priv protocol 'none'")
        for kind, proto, key in (("auth", self.auth_protocol, self.auth_key),
                                 ("priv", self.priv_protocol, self.priv_key)):
            if proto != "none" and len(key) < MIN_KEY_LEN:
                raise SnmpConfigError(
                    f"SNMPv3 user {self.user!r}: the {kind} key is "
                    f"{'missing' if not key else 'shorter than 8 characters'} "
                    f"({kind} protocol {proto})")

    @property
    def level(self) -> str:
        if self.auth_protocol == "none":
            return "noAuthNoPriv"
        return "authNoPriv" if self.priv_protocol == "none" else "authPriv"


def check_versions(versions: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    out = tuple(versions)
    if not out or len(set(out)) != len(out) or not all(v in VERSIONS for v in out):
        raise SnmpConfigError(f"SNMP versions {list(out)}: use \"2c\", \"3\" or both in the "
                              "order to try, each once")
    return out


def v3_reason(user: str, indication: object) -> str:
    text = str(indication)
    hint = next((h for k, h in _V3_HINTS.items() if k in text.lower()), "")
    return f"SNMPv3 user {user!r} refused: {text}" + (f" ({hint})" if hint else "")


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


def _peer_engine_known(target: Any) -> bool:
    """Did the target's SNMP engine answer our engine-id discovery (a live v3 agent)?"""
    try:
        mp = shared_engine().message_processing_subsystems[3]
        engine_id, _ctx, _name = mp.get_peer_engine_info(target.TRANSPORT_DOMAIN,
                                                         target.transport_address)
    except (AttributeError, KeyError, TypeError):
        return False
    return bool(engine_id)


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
                 retries: int = 0, versions: tuple[str, ...] = ("2c",),
                 v3: SnmpV3User | None = None, loopback_ports: tuple[int, ...] = ()) -> None:
        self.community = community
        self.port = port
        self.loopback_ports = tuple(p for p in dict.fromkeys(loopback_ports) if p != port)
        self.answered_port: dict[str, int] = {}
        self.timeout_s = timeout_s
        self.retries = retries
        self.versions = check_versions(versions)
        if "3" in self.versions and v3 is None:
            raise SnmpConfigError("SNMP version 3 is enabled but no SNMPv3 user is set")
        self.v3 = v3
        self.failures: dict[str, str] = {}

    def ports_for(self, address: str) -> tuple[int, ...]:
        """The ports to try, in order: ``port``, then on loopback the ``loopback_ports``."""
        try:
            loopback = ipaddress.IPv4Address(address).is_loopback
        except ValueError:
            loopback = False
        return (self.port, *self.loopback_ports) if loopback else (self.port,)

    async def _target(self, address: str, port: int) -> Any:
        from pysnmp.hlapi.v3arch.asyncio import UdpTransportTarget

        return await UdpTransportTarget.create((address, port), timeout=self.timeout_s,
                                               retries=self.retries)

    def _auth(self, version: str) -> Any:
        from pysnmp.hlapi.v3arch import asyncio as hl

        if version == "2c" or self.v3 is None:
            return hl.CommunityData(self.community, mpModel=1)
        u = self.v3
        return hl.UsmUserData(u.user, authKey=u.auth_key or None, privKey=u.priv_key or None,
                              authProtocol=getattr(hl, _AUTH_ATTR[u.auth_protocol]),
                              privProtocol=getattr(hl, _PRIV_ATTR[u.priv_protocol]))

    async def _get(self, target: Any, oids: list[str], version: str) -> dict[str, Any] | None:
        from pysnmp.hlapi.v3arch.asyncio import ContextData, ObjectIdentity, ObjectType, get_cmd

        err, status, _idx, binds = await get_cmd(
            shared_engine(), self._auth(version), target, ContextData(),
            *[ObjectType(ObjectIdentity(o)) for o in oids])
        if err and version == "3" and self.v3 is not None:
            address = str(target.transport_address[0])
            if "timeout" not in str(err).lower():
                self.failures[address] = v3_reason(self.v3.user, err)
            elif _peer_engine_known(target):
                # the device answered engine discovery, then dropped the request: Net-SNMP
                # does so when the privacy key is wrong (the PDU decrypts to garbage)
                self.failures[address] = (
                    f"SNMPv3 user {self.v3.user!r} refused: the device answered engine "
                    f"discovery but not the {self.v3.level} request (wrong priv key or priv "
                    "protocol, or the user has no read access)")
        if err or status:
            return None
        out: dict[str, Any] = {}
        for name, value in binds:
            cls = type(value).__name__
            if cls in ("NoSuchObject", "NoSuchInstance", "EndOfMibView"):
                continue
            out[str(name)] = value
        return out

    async def _walk(self, target: Any, root: str, version: str) -> list[tuple[str, Any]]:
        from pysnmp.hlapi.v3arch.asyncio import (
            ContextData,
            ObjectIdentity,
            ObjectType,
            bulk_walk_cmd,
        )

        rows: list[tuple[str, Any]] = []
        auth = self._auth(version)
        async for err, status, _idx, binds in bulk_walk_cmd(
                shared_engine(), auth, target, ContextData(), 0, 25,
                ObjectType(ObjectIdentity(root)), lexicographicMode=False):
            if err or status:
                break
            for name, value in binds:
                rows.append((str(name), value))
            if len(rows) >= MAX_ROWS * 4:
                break
        return rows

    async def _system(self, address: str,
                      port: int) -> tuple[Any, str, dict[str, Any]] | None:
        """The system group from ``address:port`` with the first version that answers."""
        target = await self._target(address, port)
        for version in self.versions:
            got = await self._get(target, [SYS_DESCR, SYS_OBJECT_ID, SYS_NAME, SYS_LOCATION],
                                  version)
            if got:
                return target, version, got
        return None

    async def identify(self, address: str) -> SnmpInfo | None:
        ports = self.ports_for(address)
        # several ports (loopback) are asked at once: a silent one costs no extra timeout
        answers = await asyncio.gather(*(self._system(address, p) for p in ports))
        found = next(((p, a) for p, a in zip(ports, answers, strict=True) if a), None)
        if found is None:
            return None
        self.answered_port[address] = found[0]
        target, version, got = found[1]
        info = SnmpInfo(
            sys_descr=_text(got[SYS_DESCR]) if SYS_DESCR in got else "",
            sys_object_id=_oid(got[SYS_OBJECT_ID]) if SYS_OBJECT_ID in got else "",
            sys_name=_text(got[SYS_NAME]) if SYS_NAME in got else "",
            sys_location=_text(got[SYS_LOCATION]) if SYS_LOCATION in got else "",
        )
        try:
            eng = await self._get(target, [ENGINE_ID], version)
            if eng and ENGINE_ID in eng:
                info.engine_id = bytes(eng[ENGINE_ID].asOctets()).hex()
            info.interfaces = await self._interfaces(target, version)
            info.lldp = await self._lldp(target, version)
        except (TimeoutError, OSError):
            pass  # the system group is enough to classify
        self.failures.pop(address, None)  # a v3 refusal before a later version answered
        return info

    async def _interfaces(self, target: Any, version: str) -> list[dict[str, Any]]:
        rows: dict[int, dict[str, Any]] = {}
        for root, key in ((IF_DESCR, "name"), (IF_NAME, "name"), (IF_PHYS, "mac")):
            for oid, value in await self._walk(target, root, version):
                index = int(oid.rsplit(".", 1)[1])
                if len(rows) >= MAX_ROWS and index not in rows:
                    continue
                text = _text(value)
                if key == "mac":
                    raw = bytes(value.asOctets())
                    text = ":".join(f"{b:02x}" for b in raw) if len(raw) == 6 else ""
                rows.setdefault(index, {"index": index})[key] = text
        return [rows[i] for i in sorted(rows)]

    async def _lldp(self, target: Any, version: str) -> list[dict[str, str]]:
        cols = {"5": "chassis_id", "7": "port_id", "8": "port_descr", "9": "sys_name"}
        rows: dict[str, dict[str, str]] = {}
        for oid, value in await self._walk(target, LLDP_REM, version):
            rest = oid[len(LLDP_REM) + 1:].split(".")
            if len(rest) < 4 or rest[0] not in cols:
                continue
            # index: lldpRemTimeMark.lldpRemLocalPortNum.lldpRemIndex
            key = ".".join(rest[1:4])
            row = rows.setdefault(key, {"local_port": rest[2]})
            row[cols[rest[0]]] = _text(value)
        return list(rows.values())[:MAX_ROWS]
