"""Stream paths against a real agent with the simulated segment: a fault at each hop of
``sim-enc-01``'s path (enc-01 -> sw-01 -> rtr-01 -> link-01 -> agent) moves the first failing
hop there, the stream's alarms name it instead of the downstream symptoms, and a device
downstream of the failing hop has its own alarms held back until it is the first failing."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.test_sim_streams_agent import sim_toml, wait_for
from tests.support import agent_process, require_binary

FAST_PROBES = "\n[probes]\ninterval_s = 0.5\ntimeout_s = 0.4\nloss_window = 6\n"
S = "sim-enc-01"


def active_alarms(url: str, h: dict[str, str]) -> list[dict[str, Any]]:
    r = httpx.get(f"{url}/api/v1/alarms", params={"active": "true"}, headers=h, timeout=10)
    r.raise_for_status()
    return list(r.json()["alarms"])


def stream(url: str, h: dict[str, str], sid: str = S) -> dict[str, Any]:
    r = httpx.get(f"{url}/api/v1/streams/{sid}", headers=h, timeout=10)
    r.raise_for_status()
    return dict(r.json())


def states(s: dict[str, Any]) -> dict[str, str]:
    return {hop["name"]: hop["state"] for hop in s["path"]}


def fault(url: str, h: dict[str, str], target: str, body: dict[str, Any]) -> None:
    r = httpx.put(f"{url}/api/v1/sim/faults/{target}", headers=h, json=body, timeout=10)
    assert r.status_code == 200, r.text


def heal(url: str, h: dict[str, str]) -> None:
    assert httpx.delete(f"{url}/api/v1/sim/faults", headers=h, timeout=10).status_code == 204
    wait_for(lambda: stream(url, h)["first_failing_hop"] is None
             and not [a for a in active_alarms(url, h) if a["stream"] == S],
             "the path to heal", timeout=40)


def first_is(url: str, h: dict[str, str], hop: str, timeout: float = 30) -> dict[str, Any]:
    """Wait until ``hop`` fails first, everything failing after it says caused_upstream and
    the stream's one active alarm names it; returns the stream."""
    def ok() -> dict[str, Any] | None:
        s = stream(url, h)
        keys = {a["key"] for a in active_alarms(url, h) if a["stream"] == S}
        st = states(s)
        after = list(st)[list(st).index(hop) + 1:]
        if (s["first_failing_hop"] == hop and st[hop] == "failing"
                and st["agent"] == "caused_upstream"
                and all(st[x] in ("ok", "caused_upstream", "unknown") for x in after)
                and keys == {f"stream/{S}/path/{hop}"}):
            return s
        return None
    return dict(wait_for(ok, f"{hop} to be the first failing hop", timeout=timeout))


@pytest.mark.slow
def test_a_fault_at_each_hop_moves_the_first_failing_hop(tmp_path: Path) -> None:
    require_binary("ffmpeg")
    port = 27001 + (int(time.time()) % 500) * 4
    with agent_process(tmp_path, sim_toml(port) + FAST_PROBES) as agent:
        url, h = agent.url, {"Authorization": f"Bearer {agent.token('operator')}"}
        s = stream(url, h)
        assert [(x["name"], x["kind"]) for x in s["path"]] == [
            ("enc-01", "device"), ("sw-01", "device"), ("rtr-01", "device"),
            ("link-01", "link"), ("agent", "analysis")]
        wait_for(lambda: set(states(stream(url, h)).values()) == {"ok"},
                 "every hop of the path to be ok", timeout=30)
        assert stream(url, h)["first_failing_hop"] is None

        # loss at the router: the router fails first, the link and analysis follow from it
        fault(url, h, "rtr-01", {"loss_ratio": 0.5})
        s = first_is(url, h, "rtr-01")
        why = " ".join(next(x for x in s["path"] if x["name"] == "rtr-01")["reasons"])
        assert "rtr-01 loses" in why or "rtr-01 does not answer" in why, why
        other = stream(url, h, "sim-enc-02")  # sw-02 / rtr-02: not on the faulty path
        assert other["first_failing_hop"] is None, other["path"]
        msg = next(a for a in active_alarms(url, h) if a["stream"] == S)["message"]
        assert "first failing hop rtr-01" in msg and "continuity_count_error" in msg
        heal(url, h)

        # loss on the link alone: no device says anything, the link's figures do
        fault(url, h, "link-01", {"loss_ratio": 0.3})
        s = first_is(url, h, "link-01")
        assert {x["name"]: x["state"] for x in s["path"][:3]} == {
            "enc-01": "ok", "sw-01": "ok", "rtr-01": "ok"}
        heal(url, h)

        # TS errors at the encoder: transport_error can only come from the source
        fault(url, h, "enc-01", {"ts_errors": {"drop_per_s": 10, "tei_per_s": 5}})
        s = first_is(url, h, "enc-01")
        assert "transport_error" in " ".join(s["path"][0]["reasons"])
        heal(url, h)

        # switch and router down: the switch fails first; the router's alarms are held
        fault(url, h, "sw-01", {"down": True})
        fault(url, h, "rtr-01", {"down": True})
        s = first_is(url, h, "sw-01")
        wait_for(lambda: states(stream(url, h))["rtr-01"] == "caused_upstream",
                 "the router to be caused upstream")
        wait_for(lambda: any(a["device"] == "sw-01" and a["rule"] == "unreachable"
                             for a in active_alarms(url, h)), "the switch's own alarm")
        time.sleep(2.5)  # > 3 lost probes of the router at 0.5 s: it would have raised
        assert [a for a in active_alarms(url, h) if a["device"] == "rtr-01"
                and a["rule"] != "stream_path"] == []
        sev = next(a for a in active_alarms(url, h) if a["stream"] == S)["severity"]
        assert sev == "critical"  # the silent stream's no_signal, announced with its cause
        r = httpx.delete(f"{url}/api/v1/sim/faults/sw-01", headers=h, timeout=10)
        assert r.status_code == 204
        first_is(url, h, "rtr-01")
        wait_for(lambda: any(a["device"] == "rtr-01" and a["rule"] == "unreachable"
                             for a in active_alarms(url, h)),
                 "the router's held alarm to be raised once it fails first")
        heal(url, h)

        # the encoder down: everything after it is caused upstream
        fault(url, h, "enc-01", {"down": True})
        first_is(url, h, "enc-01")
        heal(url, h)


@pytest.mark.slow
def test_srt_link_hop_uses_the_encoder_s_reported_srt_figures(tmp_path: Path) -> None:
    """A link hop judged by SRT figures the simulated encoder reports through its API
    (device-reported mode): connected = ok; the encoder down = it fails first and the link,
    now SRT-disconnected, is caused upstream."""
    require_binary("ffmpeg")
    port = 28001 + (int(time.time()) % 500) * 4
    with agent_process(tmp_path, sim_toml(port) + FAST_PROBES) as agent:
        url, h = agent.url, {"Authorization": f"Bearer {agent.token('operator')}"}
        devs = httpx.get(f"{url}/api/v1/sim/devices", headers=h, timeout=10).json()
        enc = next(d for d in devs if d["name"] == "enc-01")
        leg = (f"srt://{enc['address']}:9000?stats=device&api={enc['address']}:"
               f"{enc['http_port']}&driver=sim-makito")
        r = httpx.post(f"{url}/api/v1/streams", headers=h, timeout=10, json={
            "id": "srt-1", "legs": [leg], "path": [
                {"name": "enc-01", "kind": "device", "device": "enc-01"},
                {"name": "srt-link", "kind": "link", "leg": 1},
                {"name": "agent", "kind": "analysis"}]})
        assert r.status_code == 201, r.text
        wait_for(lambda: states(stream(url, h, "srt-1")) == {
            "enc-01": "ok", "srt-link": "ok", "agent": "ok"}, "the SRT path to be ok", 30)
        assert stream(url, h, "srt-1")["leg_status"][0]["srt"]["mode"] == "device"
        fault(url, h, "enc-01", {"down": True})
        s = wait_for(lambda: (s := stream(url, h, "srt-1"))["first_failing_hop"] == "enc-01"
                     and states(s)["srt-link"] == "caused_upstream" and s,
                     "the encoder to fail first, its SRT link caused upstream", 30)
        link = next(x for x in s["path"] if x["name"] == "srt-link")
        assert "SRT leg 1 is disconnected" in link["reasons"], link
