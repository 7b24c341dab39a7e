"""The fault API across processes: RemoteSegment (agent side) -> ControlServer (simulator side).

Here the "simulator process" is a segment on its own event loop in a thread (tests/sim_support);
tests/integration/test_sim_process.py runs the real process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from server_agent.app import create_app
from server_agent.config import parse_config
from server_agent.contract import Role, SimFault
from server_agent.runtime import build_services
from server_agent.sim.control import ControlServer, RemoteSegment
from server_agent.sim.faults import FaultError
from server_agent.sim.segment import SimulatedSegment
from tests.sim_support import SegmentThread, running_segment, sim_section
from tests.support import PASSWORDS, refused

TOKEN = "t0ken-for-the-test"


@pytest.fixture
def served() -> Iterator[tuple[SegmentThread, ControlServer]]:
    with running_segment(sim_section()) as st:
        ctl = ControlServer(st.seg, TOKEN)
        st.call(ctl.start())
        try:
            yield st, ctl
        finally:
            st.call(ctl.close())


def remote(st: SegmentThread, url: str, token: str = TOKEN,
           exited: str | None = None) -> RemoteSegment:
    seg = st.seg
    return RemoteSegment(url, token, seg.device_sections(), seg.streams(), [], [],
                         exited=lambda: exited)



async def test_faults_reach_the_segment_and_errors_keep_their_meaning(
        served: tuple[SegmentThread, ControlServer]) -> None:
    st, ctl = served
    rs = remote(st, ctl.url)
    try:
        devs = await rs.list_devices()
        assert len(devs) == 40 and {d.address for d in devs} == \
            {d.address for d in st.seg.devices}
        ep = next(d for d in devs if d.name == "ep-005")
        state = await rs.put_fault("ep-005", SimFault(down=True))
        assert state.device == "ep-005" and state.fault.down
        assert st.seg.faults.get("ep-005").down  # the segment's own fault book
        assert refused(ep.address, ep.tcp_port)  # its services closed in the segment
        assert [f.device for f in await rs.list_faults()] == ["ep-005"]

        with pytest.raises(FaultError) as err:
            await rs.put_fault("enc-99", SimFault(down=True))
        assert err.value.status == 404 and "enc-99" in str(err.value) and err.value.hint
        with pytest.raises(FaultError) as err:
            await rs.put_fault("ep-001", SimFault.model_validate({"ts_errors": {"drop_per_s": 5}}))
        assert err.value.status == 422 and "no stream" in str(err.value)

        await rs.clear_faults("ep-005")
        assert await rs.list_faults() == []
        await rs.put_fault("rtr-01", SimFault(latency_ms=20))
        await rs.clear_faults()
        assert st.seg.faults.active() == []
    finally:
        await rs.stop()


async def test_only_the_token_holder_may_use_the_control_endpoint(
        served: tuple[SegmentThread, ControlServer]) -> None:
    st, ctl = served
    async with httpx.AsyncClient(base_url=ctl.url, timeout=5) as c:
        assert (await c.put("/faults/enc-01", json={"down": True})).status_code == 401
        r = await c.get("/faults", headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401
    assert ctl.server is not None
    assert ctl.server.sockets[0].getsockname()[0] == "127.0.0.1"
    rs = remote(st, ctl.url, token="wrong")
    try:
        with pytest.raises(FaultError) as err:
            await rs.put_fault("enc-01", SimFault(down=True))
        assert err.value.status == 503 and "token" in str(err.value)
        assert not st.seg.faults.get("enc-01").down
    finally:
        await rs.stop()


async def test_a_simulator_that_is_gone_answers_503_with_its_own_words() -> None:
    with running_segment(sim_section()) as st:
        ctl = ControlServer(st.seg, TOKEN)
        url = st.call(ctl.start())
        st.call(ctl.close())
        rs = remote(st, url, exited="the simulator (pid 4242) exited with -9: killed")
        try:
            with pytest.raises(FaultError) as err:
                await rs.list_devices()
        finally:
            await rs.stop()
    assert err.value.status == 503 and "exited with -9: killed" in str(err.value)


def test_the_agent_api_forwards_to_the_simulator(
        served: tuple[SegmentThread, ControlServer], tmp_path: Path) -> None:
    """/api/v1/sim/* of an agent built with a RemoteSegment (what the demo does)."""
    st, ctl = served
    seg: SimulatedSegment = st.seg
    sim = seg.cfg.model_dump(mode="json", exclude_none=True)
    cfg = parse_config({"agent": {"state_dir": str(tmp_path / "state")}, "sim": sim})
    gone: list[str] = []
    rs = RemoteSegment(ctl.url, TOKEN, seg.device_sections(), seg.streams(), [], [],
                       exited=lambda: gone[0] if gone else None)
    svc = build_services(cfg, rs)
    assert svc.sim is rs and len(svc.devices.targets()) == 40
    for role, pw in PASSWORDS.items():
        svc.auth.add_user(role, Role(role), pw)
    with TestClient(create_app(svc, run_background=False)) as c:
        h = {}
        for role, pw in PASSWORDS.items():
            tok = c.post("/api/v1/auth/login", json={"username": role, "password": pw})
            h[role] = {"Authorization": f"Bearer {tok.json()['access_token']}"}
        assert c.put("/api/v1/sim/faults/enc-01", json={"loss_ratio": 0.5},
                     headers=h["viewer"]).status_code == 403
        r = c.put("/api/v1/sim/faults/enc-01", json={"loss_ratio": 0.5}, headers=h["operator"])
        assert r.status_code == 200, r.text
        assert seg.faults.get("enc-01").loss_ratio == 0.5  # reached the simulator's book
        r = c.put("/api/v1/sim/faults/enc-99", json={"down": True}, headers=h["operator"])
        assert r.status_code == 404 and r.json()["error"] == "not_found" and r.json()["hint"]
        assert len(c.get("/api/v1/sim/devices", headers=h["viewer"]).json()) == 40
        assert c.delete("/api/v1/sim/faults", headers=h["operator"]).status_code == 204
        assert seg.faults.active() == []

        st.call(ctl.close())  # the simulator goes away
        gone.append("the simulator (pid 4242) exited with 1: boom")
        r = c.get("/api/v1/sim/faults", headers=h["viewer"])
        assert r.status_code == 503 and r.json()["error"] == "unavailable"
        assert "exited with 1: boom" in r.json()["detail"] and r.json()["hint"]


def test_a_fault_holds_when_the_api_answers() -> None:
    """put_fault/clear_faults return once the device's listeners match the fault, so a client
    that connects right after the 200 sees it (no race with the segment's resync)."""
    with running_segment(sim_section()) as st:
        seg = st.seg

        async def put_then_look(down: bool) -> bool:
            if down:
                await seg.put_fault("ep-005", SimFault(down=True))
            else:
                await seg.clear_faults()
            return seg.services["ep-005"].tcp is None  # before anything else can run

        assert st.call(put_then_look(True)) is True
        assert st.call(put_then_look(False)) is False


async def test_a_dropped_connection_is_retried_once_then_a_503() -> None:
    """A connection closed without an answer (the simulator busy or restarting its listener)
    is retried once: every control call is idempotent."""
    answers = [b"", b"HTTP/1.1 200 -\r\nContent-Type: application/json\r\n"
               b"Content-Length: 2\r\nConnection: close\r\n\r\n[]"]
    seen = 0

    async def flaky(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal seen
        await reader.readuntil(b"\r\n\r\n")
        reply = answers[min(seen, len(answers) - 1)]
        seen += 1
        writer.write(reply)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(flaky, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    rs = RemoteSegment(url, TOKEN, [], [], [], [])
    try:
        assert await rs.list_faults() == []
        assert seen == 2
        answers[1] = b""  # now every connection drops: one retry, then a clear 503
        seen = 0
        with pytest.raises(FaultError) as err:
            await rs.list_faults()
        assert err.value.status == 503 and "not answering" in str(err.value)
        assert seen == 2
    finally:
        await rs.stop()
        server.close()
        await server.wait_closed()
