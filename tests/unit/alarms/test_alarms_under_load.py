"""The alarm engine on a busy agent host (issue 14, finding 4): samples taken while the agent
was starved are held and never learned, a delay shared by many devices rolls up into one
condition about the common cause, a lone device's real fault still raises its own alarm, and
the agent's own event-loop lag is judged apart. Synthetic samples, the engine's own times."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from server_agent.alarms.common import CommonMode
from server_agent.alarms.engine import AlarmEngine
from server_agent.config import AlarmsSection, DeviceSection
from server_agent.contract import Severity
from server_agent.discovery.registry import DeviceRegistry
from server_agent.live.bus import LiveBus, sample
from server_agent.store.db import Database

CFG = AlarmsSection(raise_after_s=3, clear_after_s=5, baseline_samples=10,
                    rtt_deviation_factor=4, rtt_deviation_min_ms=5)  # roll-up: defaults
DEVICES = [f"dev-{i:02d}" for i in range(10)]
PROBE = "udp:7"


class Rig:
    def __init__(self, path: Path) -> None:
        self.t = 1000.0
        self.db = Database(path)
        self.bus = LiveBus()
        self.registry = DeviceRegistry([
            DeviceSection(name=d, address=f"127.0.0.{i + 1}", probes=[PROBE])
            for i, d in enumerate(DEVICES)])
        self.engine = AlarmEngine(CFG, self.db, self.bus, self.registry, flypack="fp",
                                  clock=lambda: self.t)
        self.held = dict.fromkeys(DEVICES, 0)

    def rtt(self, device: str, ms: float, starved_ms: float = 0.0) -> None:
        """One probe result as the probe service publishes it: held count and starvation,
        then the RTT. A result with starvation was taken while the agent starved."""
        lab = {"flypack": "fp", "device": device, "probe": PROBE}
        if starved_ms:
            self.held[device] += 1
        self.bus.publish([
            sample("flypack_probe_held_total", lab, float(self.held[device]), self.t),
            sample("flypack_probe_starved_seconds", lab, starved_ms / 1000, self.t),
            sample("flypack_probe_rtt_seconds", lab, ms / 1000, self.t)])

    def second(self, ms: dict[str, float], default: float = 1.0,
               starved_ms: float = 0.0) -> None:
        """One probe interval: every device answers once, spread over the second."""
        for d in DEVICES:
            self.t += 1.0 / len(DEVICES)
            self.rtt(d, ms.get(d, default), starved_ms)

    def learn(self) -> None:
        for i in range(CFG.baseline_samples):
            self.second({}, default=1.0 + 0.1 * (i % 3))

    def loop_lag(self, ms: float) -> None:
        self.t += 1.0
        self.bus.publish([sample("flypack_agent_loop_lag_seconds", {"flypack": "fp"},
                                 ms / 1000, self.t)])

    def device_alarms(self) -> set[str]:
        return {a.device for a in self.engine.active() if a.device is not None}

    def rules(self) -> set[str]:
        return {a.rule for a in self.engine.active()}


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path / "agent.db")
    yield r
    r.db.close()


def test_samples_taken_while_starved_never_feed_the_baseline(rig: Rig) -> None:
    """Design §9: a device answering in 1 ms must not learn the agent's own 80 ms delays."""
    for i in range(2 * CFG.baseline_samples):
        starved = 80.0 if i % 2 else 0.0  # every other sample taken while the agent starved
        for d in DEVICES:
            rig.t += 0.1
            rig.rtt(d, 1.0 + starved, starved)
    base = rig.engine.baseline_ms("dev-00", PROBE)
    assert base is not None and base[0] == pytest.approx(1.0)
    assert rig.engine.held_samples >= CFG.baseline_samples


def test_a_starved_sample_the_starvation_explains_is_held_not_judged(rig: Rig) -> None:
    rig.learn()
    before = rig.engine.baseline_ms("dev-03", PROBE)
    held = rig.engine.held_samples
    for _ in range(10):  # the in-process responder answered late because the loop starved
        rig.second({"dev-03": 61.0}, starved_ms=60.0)
    assert rig.engine.active() == []
    assert rig.engine.held_samples - held == 10 * len(DEVICES)
    assert rig.engine.baseline_ms("dev-03", PROBE) == before  # not learned either


def test_a_result_taken_while_starved_is_not_learned_even_when_judged(rig: Rig) -> None:
    """The probe fired late (held count up) but the starvation explains none of the RTT:
    it is judged, yet kept out of the baseline."""
    rig.learn()
    before = rig.engine.baseline_ms("dev-03", PROBE)
    for _ in range(10):
        rig.held["dev-03"] += 1
        rig.second({"dev-03": 3.0})
    assert rig.engine.active() == []
    assert rig.engine.baseline_ms("dev-03", PROBE) == before
    assert rig.engine.baseline_ms("dev-04", PROBE) != before


def test_late_samples_far_apart_with_held_ones_between_do_not_raise(rig: Rig) -> None:
    """Two bursts of a busy host 3 s apart, the agent starved in between: a raise needs the
    condition to hold all along, and the held samples between say nothing of it."""
    rig.learn()
    rig.second({"dev-03": 21.0})
    for _ in range(3):
        rig.second({"dev-03": 21.0}, starved_ms=25.0)
    rig.second({"dev-03": 21.0})
    assert rig.engine.active() == []


def test_one_held_sample_in_a_real_fault_does_not_delay_its_alarm(rig: Rig) -> None:
    rig.learn()
    rig.second({"dev-03": 51.0})
    rig.second({"dev-03": 51.0})
    rig.second({"dev-03": 51.0}, starved_ms=60.0)  # one the agent cannot vouch for
    rig.second({"dev-03": 51.0})
    assert rig.device_alarms() == {"dev-03"}  # raised 3 s after the first late answer


def test_a_real_fault_during_starvation_is_still_judged_on_the_rest(rig: Rig) -> None:
    rig.learn()
    for _ in range(5):  # 20 ms of starvation cannot explain a 70 ms RTT
        rig.second({"dev-03": 71.0}, starved_ms=20.0)
    assert rig.device_alarms() == {"dev-03"}
    [a] = rig.engine.active()
    assert a.rule == "rtt_deviation" and a.value == pytest.approx(71.0)


def test_a_delay_on_every_device_at_once_is_one_common_condition(rig: Rig) -> None:
    rig.learn()
    for _ in range(6):  # the agent's host or its own link adds 30 ms to every answer
        rig.second({}, default=31.0)
    assert rig.device_alarms() == set(), "one alarm per device for a common cause"
    [a] = rig.engine.active()
    assert (a.key, a.rule, a.severity, a.device) == (
        "rtt_common/agent/udp", "rtt_common", Severity.minor, None)
    assert a.message.startswith("10 of 10 devices answer udp probes late at once")
    assert "agent's host or its own link" in a.message
    for _ in range(7):
        rig.second({})
    assert rig.engine.active() == []
    assert rig.engine.baseline_ms("dev-00", PROBE) == pytest.approx((1.1, 0.07), abs=0.1)


def test_a_lone_device_raises_its_own_alarm_and_no_common_condition(rig: Rig) -> None:
    rig.learn()
    for _ in range(5):
        rig.second({"dev-07": 51.0})
    assert rig.device_alarms() == {"dev-07"}
    assert rig.rules() == {"rtt_deviation"}
    for _ in range(7):
        rig.second({})
    assert rig.engine.active() == []


def test_a_real_fault_stands_out_of_a_common_delay(rig: Rig) -> None:
    rig.learn()
    for _ in range(6):  # everyone +20 ms (busy host), dev-05 +50 ms on top (a real fault)
        rig.second({"dev-05": 71.0}, default=21.0)
    assert rig.device_alarms() == {"dev-05"}
    assert rig.rules() == {"rtt_deviation", "rtt_common"}
    dev = next(a for a in rig.engine.active() if a.device == "dev-05")
    assert "shared by other devices now" in dev.message


def test_a_few_devices_late_together_each_raise_their_own(rig: Rig) -> None:
    rig.learn()
    for _ in range(5):  # 3 of 10: fewer than rollup_min_devices, so each is judged alone
        rig.second({"dev-00": 31.0, "dev-01": 31.0, "dev-02": 31.0})
    assert rig.device_alarms() == {"dev-00", "dev-01", "dev-02"}
    assert "rtt_common" not in rig.rules()


def test_four_devices_late_together_are_a_common_cause_nothing_falls_between(
        rig: Rig) -> None:
    rig.learn()
    for _ in range(6):  # rollup_min_devices of them: discounted AND rolled up, never neither
        rig.second({"dev-00": 31.0, "dev-01": 31.0, "dev-02": 31.0, "dev-03": 31.0})
    assert rig.device_alarms() == set()
    assert rig.rules() == {"rtt_common"}


def test_a_busy_hosts_scatter_raises_nothing_per_device(rig: Rig) -> None:
    """A busy host delays a few devices at a time, a different few each second; dev-00 is
    unlucky every second, but never alone: discounted each time, as the others."""
    rig.learn()
    for i in range(10):
        late = {DEVICES[1 + (i + k) % 9]: 12.0 + k for k in range(3)}
        rig.second({"dev-00": 12.0, **late})
    assert rig.device_alarms() == set()


def test_many_devices_losing_probes_at_once_is_one_common_loss_condition(rig: Rig) -> None:
    for _ in range(5):
        for d in DEVICES:
            rig.t += 0.1
            rig.bus.publish([sample("flypack_probe_loss_ratio",
                                    {"flypack": "fp", "device": d, "probe": PROBE}, 0.2, rig.t)])
    assert rig.device_alarms() == set()
    [a] = rig.engine.active()
    assert (a.key, a.rule, a.device) == ("loss_common/agent/udp", "loss_common", None)
    assert a.message.startswith("10 of 10 devices lose udp probes at once")


def test_held_samples_keep_an_alarm_raised_yet_let_it_clear_once_shown_normal(
        rig: Rig) -> None:
    """While the agent starves, a sample its starvation explains says nothing either way: a
    raised alarm stays raised on such samples alone, and clears once normal samples span
    clear_after_s, held ones between them or not."""
    rig.learn()
    for _ in range(5):
        rig.second({"dev-03": 51.0})
    assert rig.device_alarms() == {"dev-03"}
    for _ in range(10):
        rig.second({"dev-03": 51.0}, starved_ms=60.0)
    assert rig.device_alarms() == {"dev-03"}
    for i in range(7):  # the fault ended; the agent still starves every other second
        rig.second({}, starved_ms=60.0 if i % 2 else 0.0)
    assert rig.device_alarms() == set()


def test_the_agents_own_loop_lag_raises_one_agent_condition(rig: Rig) -> None:
    for ms in (300, 20, 300, 300, 300):  # a single spike does not raise
        rig.loop_lag(ms)
    assert rig.engine.active() == []
    rig.loop_lag(400)
    [a] = rig.engine.active()
    assert (a.key, a.rule, a.severity, a.device) == (
        "agent_starved/agent/loop", "agent_starved", Severity.warning, None)
    assert "event loop runs up to 400 ms late" in a.message
    for _ in range(7):
        rig.loop_lag(10)
    assert rig.engine.active() == []


def test_common_mode_ignores_stale_devices_and_a_lone_outlier() -> None:
    cm = CommonMode(window_s=2.0, min_devices=4, share=0.5)
    for i in range(5):
        cm.add("udp", f"d{i}", 100.0, 10.0 + i, False)
    cm.add("udp", "d5", 100.0, 500.0, True)  # one device's own fault: not the common part
    assert cm.excess("udp", 100.0) == 12.0  # what half of the 6 devices reach together
    assert cm.over("udp", 100.0) == (1, 6)
    assert not cm.rolled_up("udp", 100.0)
    assert cm.excess("udp", 103.0) == 0.0  # all stale: nothing compared
    assert cm.excess("icmp", 100.0) == 0.0  # per probe kind
    for i in range(3):
        cm.add("tcp", f"d{i}", 100.0, 40.0, True)
    assert cm.excess("tcp", 100.0) == 0.0 and not cm.rolled_up("tcp", 100.0)  # too few
