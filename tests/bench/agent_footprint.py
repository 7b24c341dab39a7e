"""Agent RSS and CPU with the seed-scale simulated segment probed at 1 Hz.

The simulator runs in its own process (``python -m server_agent.sim`` through SimProcess, on a
free 127.x block), so the figures are the agent's alone; when it cannot start, the group fails
with the simulator's own error. ``FLYPACK_BENCH_SIM_ARGS`` adds options to the simulator
(e.g. ``--base-address 127.150.0.0``). Baseline in the same run: the same agent with no
devices. Tiny size: the small segment, 1 + 2 s.
"""

from __future__ import annotations

import os
import shlex
import tempfile
import time
from pathlib import Path

from server_agent.config import parse_config
from server_agent.sim.__main__ import devices_toml
from server_agent.sim.process import SimProcess
from tests.bench.report import Row, size
from tests.support import agent_process

WARMUP_S, MEASURE_S = size((10.0, 30.0), (1.0, 2.0))
SCALE = size("seed", "small")
HOUR_S = size(3600, 60)  # the live buffers' fast-forwarded hour (tiny: a minute)
SIM_ARGS_ENV = "FLYPACK_BENCH_SIM_ARGS"
TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def _status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _measure(extra_config: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, agent_process(Path(tmp), extra_config) as agent:
        pid = agent.proc.pid
        time.sleep(WARMUP_S)
        c0, t0 = _cpu_s(pid), time.monotonic()
        time.sleep(MEASURE_S)
        cpu = (_cpu_s(pid) - c0) / (time.monotonic() - t0) * 100
        return {"cpu": cpu, "rss": _status_kb(pid, "VmRSS") / 1024,
                "hwm": _status_kb(pid, "VmHWM") / 1024}


def run() -> list[Row]:
    idle = _measure("")
    with tempfile.TemporaryDirectory() as tmp:
        cfg = parse_config({"sim": {"enabled": True, "scale": SCALE}}).sim
        sim = SimProcess(cfg, Path(tmp) / "sim.log", control=False,
                         extra_args=shlex.split(os.environ.get(SIM_ARGS_ENV, "")))
        try:
            ready = sim.start()  # SimError: why, in the simulator's own words
            count = len(ready.devices)
            seed = _measure("[probes]\ninterval_s = 1.0\n" + devices_toml(ready.devices))
        finally:
            sim.stop()  # by its PID
    name = f"agent, {SCALE} segment ({count} devices, probes at 1 Hz)"
    return [
        Row(name, "CPU (% of one core)", seed["cpu"], "%", "<= 15 %", seed["cpu"] <= 15,
            f"idle agent, no devices: {idle['cpu']:.1f} %"),
        Row(name, f"RSS after {WARMUP_S + MEASURE_S:g} s", seed["rss"], "MB", "<= 120 MB",
            seed["rss"] <= 120, f"idle agent: {idle['rss']:.1f} MB"),
        Row(name, "peak RSS (VmHWM)", seed["hwm"], "MB", "", None,
            f"idle agent: {idle['hwm']:.1f} MB"),
        Row(name, f"live buffers after {HOUR_S / 60:g} min (20 devices fast-forwarded, "
            "scaled)", buffer_hour_mb(20) * count / 20, "MB", "", None,
            f"RSS after {WARMUP_S + MEASURE_S:g} s + this must stay <= 120 MB"),
    ]


def buffer_hour_mb(devices: int, probes_per_device: int = 3) -> float:
    """Memory of the live buffers after one hour of 1 Hz probe series, fast-forwarded.

    The 40 s run above cannot show what an hour of 1 s aggregates costs; this publishes an
    hour of the same series (RTT and jitter varying, up and loss constant, two counters) into
    a fresh bus and measures what the buffers hold.
    """
    import random
    import tracemalloc

    from server_agent.live.bus import LiveBus, Sample, labels_of
    from server_agent.runtime import _not_a_counter

    rng = random.Random(1)
    bus = LiveBus(keeps_aggregates=_not_a_counter)
    keys = [(labels_of({"flypack": "f", "device": f"d{d}", "probe": f"p{p}"}))
            for d in range(devices) for p in range(probes_per_device)]
    tracemalloc.start()
    t0 = 1_800_000_000.0
    for sec in range(HOUR_S):
        t = t0 + sec
        batch = []
        for i, lab in enumerate(keys):
            rtt = 0.0005 + rng.random() * 0.0002
            batch += [Sample("flypack_probe_rtt_seconds", lab, t, rtt),
                      Sample("flypack_probe_jitter_seconds", lab, t, rtt / 10),
                      Sample("flypack_probe_up", lab, t, 1.0),
                      Sample("flypack_probe_loss_ratio", lab, t, 0.0),
                      Sample("flypack_probe_sent_total", lab, t, float(sec + i)),
                      Sample("flypack_probe_lost_total", lab, t, 0.0)]
        bus.publish(batch)
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return size / 2**20
