"""A small ctypes binding over Debian's libsrt 1.5 (``libsrt-gnutls.so.1.5``).

Only what flypack needs: sockets (caller / listener, live mode), options, receive / send,
``srt_bistats`` and the socket state. The library is found by its soname through
:func:`ctypes.util.find_library` / ``ldconfig`` (never a guessed path). ``CBytePerfMon`` is
declared field by field as in srt.h of 1.5.1; only the fields flypack reads are named, the
rest is padding of the right type so the layout stays exact.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import socket
import struct
import subprocess
import threading
from dataclasses import dataclass

from server_agent.video.srt.errors import SrtSocketError, SrtUnavailable

_CANDIDATES = ("srt-gnutls", "srt-openssl", "srt")
INVALID = -1
# SRT_SOCKSTATUS
CONNECTING, CONNECTED, BROKEN, CLOSING, CLOSED, NONEXIST = 4, 5, 6, 7, 8, 9
# SRT_SOCKOPT numbers (srt.h 1.5.1)
RCVSYN, RCVTIMEO, SNDTIMEO, SNDSYN = 2, 14, 13, 1
LATENCY, PASSPHRASE, KMSTATE, CONNTIMEO, TRANSTYPE = 23, 26, 28, 36, 50
RCVLATENCY, PEERLATENCY, PEERIDLETIMEO = 43, 44, 55
KM_SECURED = 2
LOG_CRIT = 2  # syslog levels
LIVE_PAYLOAD = 1456  # SRT_LIVE_MAX_PLSIZE

_i64, _int, _dbl, _u64 = ctypes.c_int64, ctypes.c_int, ctypes.c_double, ctypes.c_uint64


class PerfMon(ctypes.Structure):
    """``struct CBytePerfMon`` of srt.h 1.5.1, in order."""

    _fields_ = [
        ("msTimeStamp", _i64), ("pktSentTotal", _i64), ("pktRecvTotal", _i64),
        ("pktSndLossTotal", _int), ("pktRcvLossTotal", _int), ("pktRetransTotal", _int),
        ("pktSentACKTotal", _int), ("pktRecvACKTotal", _int), ("pktSentNAKTotal", _int),
        ("pktRecvNAKTotal", _int), ("usSndDurationTotal", _i64),
        ("pktSndDropTotal", _int), ("pktRcvDropTotal", _int), ("pktRcvUndecryptTotal", _int),
        ("byteSentTotal", _u64), ("byteRecvTotal", _u64), ("byteRcvLossTotal", _u64),
        ("byteRetransTotal", _u64), ("byteSndDropTotal", _u64), ("byteRcvDropTotal", _u64),
        ("byteRcvUndecryptTotal", _u64),
        # interval ("local") measurements: cleared by clear=1
        ("pktSent", _i64), ("pktRecv", _i64), ("pktSndLoss", _int), ("pktRcvLoss", _int),
        ("pktRetrans", _int), ("pktRcvRetrans", _int), ("pktSentACK", _int),
        ("pktRecvACK", _int), ("pktSentNAK", _int), ("pktRecvNAK", _int),
        ("mbpsSendRate", _dbl), ("mbpsRecvRate", _dbl), ("usSndDuration", _i64),
        ("pktReorderDistance", _int), ("pktRcvAvgBelatedTime", _dbl),
        ("pktRcvBelated", _i64), ("pktSndDrop", _int), ("pktRcvDrop", _int),
        ("pktRcvUndecrypt", _int), ("byteSent", _u64), ("byteRecv", _u64),
        ("byteRcvLoss", _u64), ("byteRetrans", _u64), ("byteSndDrop", _u64),
        ("byteRcvDrop", _u64), ("byteRcvUndecrypt", _u64),
        # instant measurements
        ("usPktSndPeriod", _dbl), ("pktFlowWindow", _int), ("pktCongestionWindow", _int),
        ("pktFlightSize", _int), ("msRTT", _dbl), ("mbpsBandwidth", _dbl),
        ("byteAvailSndBuf", _int), ("byteAvailRcvBuf", _int), ("mbpsMaxBW", _dbl),
        ("byteMSS", _int), ("pktSndBuf", _int), ("byteSndBuf", _int), ("msSndBuf", _int),
        ("msSndTsbPdDelay", _int), ("pktRcvBuf", _int), ("byteRcvBuf", _int),
        ("msRcvBuf", _int), ("msRcvTsbPdDelay", _int),
        ("pktSndFilterExtraTotal", _int), ("pktRcvFilterExtraTotal", _int),
        ("pktRcvFilterSupplyTotal", _int), ("pktRcvFilterLossTotal", _int),
        ("pktSndFilterExtra", _int), ("pktRcvFilterExtra", _int),
        ("pktRcvFilterSupply", _int), ("pktRcvFilterLoss", _int),
        ("pktReorderTolerance", _int),
        ("pktSentUniqueTotal", _i64), ("pktRecvUniqueTotal", _i64),
        ("byteSentUniqueTotal", _u64), ("byteRecvUniqueTotal", _u64),
        ("pktSentUnique", _i64), ("pktRecvUnique", _i64), ("byteSentUnique", _u64),
        ("byteRecvUnique", _u64),
    ]


def find_soname() -> str | None:
    """The soname of an installed libsrt (``libsrt-gnutls.so.1.5`` on Debian 12)."""
    for name in _CANDIDATES:
        found = ctypes.util.find_library(name)
        if found:
            return found
    try:  # find_library needs gcc/objdump on some systems; ldconfig's cache is the truth
        out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True,
                             timeout=5, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        soname = line.strip().split(" ", 1)[0]
        if soname.startswith("libsrt") and ".so." in soname:
            return soname
    return None


@dataclass(frozen=True, slots=True)
class Peer:
    host: str
    port: int


def _sockaddr(host: str, port: int) -> bytes:
    # struct sockaddr_in: family (host order), port (network order), IPv4, 8 zero bytes
    return struct.pack("=H", socket.AF_INET) + struct.pack("!H", port) + \
        socket.inet_aton(host) + b"\0" * 8


class Srt:
    """The loaded library (one per process, :func:`load`)."""

    def __init__(self, soname: str) -> None:
        try:
            self.lib = ctypes.CDLL(soname)
        except OSError as exc:
            raise SrtUnavailable(f"cannot load {soname} ({exc}); install Debian's "
                                 "libsrt1.5-gnutls (scripts/setup.sh)") from None
        self.soname = soname
        lib = self.lib
        lib.srt_getlasterror_str.restype = ctypes.c_char_p
        lib.srt_bistats.argtypes = [_int, ctypes.POINTER(PerfMon), _int, _int]
        lib.srt_recvmsg.argtypes = [_int, ctypes.c_char_p, _int]
        lib.srt_sendmsg.argtypes = [_int, ctypes.c_char_p, _int, _int, _int]
        lib.srt_setsockflag.argtypes = [_int, _int, ctypes.c_void_p, _int]
        lib.srt_getsockflag.argtypes = [_int, _int, ctypes.c_void_p, ctypes.POINTER(_int)]
        lib.srt_connect.argtypes = lib.srt_bind.argtypes = [_int, ctypes.c_char_p, _int]
        lib.srt_accept.argtypes = [_int, ctypes.c_void_p, ctypes.c_void_p]
        # libsrt logs every failed non-blocking accept at "error" level to stderr; flypack
        # reports connection problems itself, so only critical messages remain
        lib.srt_setloglevel(LOG_CRIT)
        if lib.srt_startup() < 0:
            raise SrtUnavailable(f"srt_startup failed: {self.last_error()}")
        self.version = lib.srt_getversion()

    def last_error(self) -> str:
        msg = self.lib.srt_getlasterror_str()
        return msg.decode(errors="replace") if msg else "unknown libsrt error"

    def _check(self, rc: int, what: str) -> int:
        if rc < 0:
            raise SrtSocketError(f"libsrt {what}: {self.last_error()}")
        return rc

    def create(self) -> int:
        return self._check(self.lib.srt_create_socket(), "create socket")

    def set_int(self, s: int, opt: int, value: int) -> None:
        v = _int(value)
        self._check(self.lib.srt_setsockflag(s, opt, ctypes.byref(v), ctypes.sizeof(v)),
                    f"option {opt}={value}")

    def set_bytes(self, s: int, opt: int, value: bytes) -> None:
        buf = ctypes.create_string_buffer(value, len(value))
        self._check(self.lib.srt_setsockflag(s, opt, buf, len(value)), f"option {opt}")

    def get_int(self, s: int, opt: int) -> int | None:
        v, n = _int(0), _int(ctypes.sizeof(_int))
        if self.lib.srt_getsockflag(s, opt, ctypes.byref(v), ctypes.byref(n)) < 0:
            return None
        return int(v.value)

    def connect(self, s: int, peer: Peer) -> None:
        addr = _sockaddr(peer.host, peer.port)
        self._check(self.lib.srt_connect(s, addr, len(addr)),
                    f"connect to {peer.host}:{peer.port}")

    def listen(self, s: int, host: str, port: int) -> None:
        addr = _sockaddr(host or "0.0.0.0", port)
        self._check(self.lib.srt_bind(s, addr, len(addr)), f"bind {host or '*'}:{port}")
        self._check(self.lib.srt_listen(s, 1), "listen")

    def accept(self, s: int) -> int:
        """The accepted socket, or -1 when none is waiting (a non-blocking listener)."""
        return int(self.lib.srt_accept(s, None, None))

    def recv(self, s: int, buf: ctypes.Array[ctypes.c_char]) -> int:
        return int(self.lib.srt_recvmsg(s, buf, len(buf)))

    def send(self, s: int, data: bytes) -> int:
        return int(self.lib.srt_sendmsg(s, data, len(data), -1, 1))

    def bistats(self, s: int, clear: bool) -> PerfMon | None:
        perf = PerfMon()
        if self.lib.srt_bistats(s, ctypes.byref(perf), int(clear), 1) < 0:
            return None
        return perf

    def state(self, s: int) -> int:
        return int(self.lib.srt_getsockstate(s))

    def close(self, s: int) -> None:
        self.lib.srt_close(s)


_lock = threading.Lock()
_srt: Srt | None = None


def load() -> Srt:
    """The process's libsrt; :class:`SrtUnavailable` (with what to install) when absent."""
    global _srt
    with _lock:
        if _srt is None:
            soname = find_soname()
            if soname is None:
                raise SrtUnavailable("libsrt is not installed: srt:// streams need Debian's "
                                     "libsrt1.5-gnutls (apt-get install libsrt1.5-gnutls, or "
                                     "scripts/setup.sh)")
            _srt = Srt(soname)
        return _srt
