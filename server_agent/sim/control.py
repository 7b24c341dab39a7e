"""The simulator's fault API across processes: the demo's simulator runs in its own process.

    agent process                                    simulator process (python -m server_agent.sim)
    /api/v1/sim/* ─► svc.sim: SimControl             ControlServer on 127.0.0.1:<ephemeral>
                      ├ SimulatedSegment (in process,  ├ bearer token from FLYPACK_SIM_CONTROL_TOKEN
                      │  [sim] enabled in a config)    │  (the agent made it and passed it in the
                      └ RemoteSegment ── HTTP/JSON ───►│  child's environment: no one else has it)
                                                       └ SimulatedSegment: FaultBook, services

    GET /devices   GET /faults   PUT /faults/{device}   DELETE /faults/{device}   DELETE /faults

Errors keep their meaning: an unknown device is a 404, a fault the device cannot have a 422,
each with the simulator's own message and hint; a simulator that is gone is a 503 that says
why it stopped (:class:`~server_agent.sim.faults.FaultError` in both processes).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable, Sequence, Sized
from typing import Any, Protocol
from urllib.parse import quote, unquote

import httpx
from pydantic import ValidationError

from server_agent.config import DeviceSection
from server_agent.contract import SimDeviceInfo, SimFault, SimFaultState, Stream
from server_agent.sim.faults import FaultError
from server_agent.sim.segment import SimulatedSegment

log = logging.getLogger("flypack.sim.control")

TOKEN_ENV = "FLYPACK_SIM_CONTROL_TOKEN"
MAX_BODY = 64 * 1024


class SimControl(Protocol):
    """What the agent needs of a simulated segment, in its process or in another."""

    @property
    def notes(self) -> list[str]: ...
    @property
    def ready(self) -> asyncio.Event: ...
    @property
    def devices(self) -> Sequence[object]: ...
    @property
    def senders(self) -> Sized: ...
    def device_sections(self) -> list[DeviceSection]: ...
    def streams(self) -> list[Stream]: ...
    async def list_devices(self) -> list[SimDeviceInfo]: ...
    async def list_faults(self) -> list[SimFaultState]: ...
    async def put_fault(self, device: str, fault: SimFault) -> SimFaultState: ...
    async def clear_faults(self, device: str | None = None) -> None: ...
    async def run(self) -> None: ...
    async def stop(self) -> None: ...


# --- the simulator's side --------------------------------------------------------------------

class ControlServer:
    """Serves a segment's fault API on 127.0.0.1 to whoever holds the token."""

    def __init__(self, seg: SimulatedSegment, token: str) -> None:
        if not token:
            raise ValueError(f"the control endpoint needs a token: set {TOKEN_ENV}")
        self.seg = seg
        self._token = f"Bearer {token}".encode()
        self.server: asyncio.Server | None = None
        self.url = ""

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5.0)
            lines = head.decode("latin-1").split("\r\n")
            method, path = [*lines[0].split(), "", ""][:2]
            headers = {k.strip().lower(): v.strip() for k, _, v in
                       (ln.partition(":") for ln in lines[1:] if ln)}
            length = int(headers.get("content-length", "0") or 0)
            if not 0 <= length <= MAX_BODY:
                raise ValueError("body too large")
            body = await asyncio.wait_for(reader.readexactly(length), 5.0) if length else b""
            auth = headers.get("authorization", "").encode("latin-1")
            if not hmac.compare_digest(auth, self._token):
                status, out = 401, {"detail": "not authorised", "hint": f"the agent holds "
                                    f"the token ({TOKEN_ENV})"}
            else:
                status, out = await self._route(method, path, body)
            data = b"" if out is None else json.dumps(out).encode()
            writer.write(f"HTTP/1.1 {status} -\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
                         + data)
            await writer.drain()
        except (TimeoutError, OSError, ValueError, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def _route(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        seg = self.seg
        parts = [unquote(p) for p in path.split("?")[0].split("/") if p]
        try:
            if method == "GET" and parts == ["devices"]:
                return 200, [d.model_dump(mode="json") for d in await seg.list_devices()]
            if method == "GET" and parts == ["faults"]:
                return 200, [f.model_dump(mode="json") for f in await seg.list_faults()]
            if method == "PUT" and len(parts) == 2 and parts[0] == "faults":
                state = await seg.put_fault(parts[1], SimFault.model_validate_json(body))
                return 200, state.model_dump(mode="json")
            if method == "DELETE" and parts[:1] == ["faults"] and len(parts) <= 2:
                await seg.clear_faults(parts[1] if len(parts) == 2 else None)
                return 204, None
        except FaultError as exc:
            return exc.status, {"detail": str(exc), "hint": exc.hint}
        except ValidationError as exc:
            return 422, {"detail": "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                             for e in exc.errors()), "hint": ""}
        except Exception as exc:  # never close without an answer: the agent would see a 503
            log.exception("simulator control %s %s failed", method, path)
            return 500, {"detail": f"the simulator failed: {type(exc).__name__}: {exc}",
                         "hint": "see the simulator's log"}
        return 404, {"detail": f"no {method} {path}", "hint": "GET /devices, GET /faults, "
                     "PUT|DELETE /faults/{device}, DELETE /faults"}


# --- the agent's side ------------------------------------------------------------------------

class _QuietControl(logging.Filter):
    """httpx logs every request at INFO: not the agent's calls to its own simulator (they
    would fill the demo's terminal)."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def filter(self, record: logging.LogRecord) -> bool:
        return self.url not in record.getMessage()


class RemoteSegment:
    """A segment served by a simulator process: registered like the in-process one, its fault
    API forwarded to the process's control endpoint. ``exited`` (why the process ended, None
    while it runs) comes from whoever started it (:class:`~server_agent.sim.process.SimProcess`).
    """

    def __init__(self, control_url: str, token: str, devices: list[DeviceSection],
                 streams: list[Stream], senders: list[str], notes: list[str],
                 exited: Callable[[], str | None] = lambda: None) -> None:
        self.control_url = control_url
        self._headers = {"Authorization": f"Bearer {token}"}
        self.devices: list[DeviceSection] = devices
        self._streams = streams
        self.senders = senders
        self.notes = notes
        self.exited = exited  # why the process has ended, or None while it runs
        self.ready = asyncio.Event()
        self.ready.set()  # its owner started it and waited until it served
        self._client: httpx.AsyncClient | None = None
        self._quiet = _QuietControl(control_url)
        logging.getLogger("httpx").addFilter(self._quiet)

    def device_sections(self) -> list[DeviceSection]:
        return list(self.devices)

    def streams(self) -> list[Stream]:
        return list(self._streams)

    def _gone(self, what: str) -> FaultError:
        why = self.exited() or what
        return FaultError(503, f"the simulator is not answering: {why}",
                          "restart the demo (Ctrl-C, then make demo)")

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        if self._client is None:
            self._client = httpx.AsyncClient(base_url=self.control_url, timeout=10.0,
                                             headers=self._headers)
        for attempt in (1, 2):  # every call is idempotent: one retry on a dropped connection
            try:
                r = await self._client.request(method, path, json=body)
                break
            except httpx.TransportError as exc:
                if attempt == 2 or self.exited():
                    raise self._gone(str(exc) or type(exc).__name__) from None
                await asyncio.sleep(0.2)
            except httpx.HTTPError as exc:
                raise self._gone(str(exc) or type(exc).__name__) from None
        if r.status_code >= 400:
            try:
                err = r.json()
            except ValueError:
                err = {"detail": r.text[:200]}
            if r.status_code == 401:
                raise self._gone("the control endpoint refused the agent's token")
            raise FaultError(r.status_code, str(err.get("detail", "")), str(err.get("hint", "")))
        return r.json() if r.content else None

    async def list_devices(self) -> list[SimDeviceInfo]:
        return [SimDeviceInfo.model_validate(d) for d in await self._call("GET", "/devices")]

    async def list_faults(self) -> list[SimFaultState]:
        return [SimFaultState.model_validate(f) for f in await self._call("GET", "/faults")]

    async def put_fault(self, device: str, fault: SimFault) -> SimFaultState:
        path = f"/faults/{quote(device, safe='')}"
        return SimFaultState.model_validate(
            await self._call("PUT", path, fault.model_dump(mode="json")))

    async def clear_faults(self, device: str | None = None) -> None:
        await self._call("DELETE", "/faults" if device is None else
                         f"/faults/{quote(device, safe='')}")

    async def run(self) -> None:
        """The agent's "sim" task: report once, loudly, when the simulator process ends."""
        while True:  # a poll of the child's exit status: the process is not ours to wait on
            if (why := self.exited()) is not None:
                break
            await asyncio.sleep(1.0)
        self.notes.append(why)
        log.error("the simulated segment stopped: %s", why)

    async def stop(self) -> None:
        logging.getLogger("httpx").removeFilter(self._quiet)
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
