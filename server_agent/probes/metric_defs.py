"""Metrics of the reachability probes (labels: flypack, device, probe)."""

from __future__ import annotations

from server_agent.metrics.catalog import declare

_L = ("flypack", "device", "probe")

PROBE_RTT = declare("flypack_probe_rtt_seconds", "gauge",
                    "Round-trip time of the latest probe; null when it was lost.", _L,
                    unit="seconds")
PROBE_JITTER = declare("flypack_probe_jitter_seconds", "gauge",
                       "RFC 3550 smoothed mean of |difference of consecutive RTTs|.", _L,
                       unit="seconds")
PROBE_LOSS = declare("flypack_probe_loss_ratio", "gauge",
                     "Share of the last [probes].loss_window probes that got no answer (0..1).",
                     _L, unit="ratio")
PROBE_UP = declare("flypack_probe_up", "gauge",
                   "1 when the latest probe was answered, 0 when it was lost.", _L)
PROBE_SENT = declare("flypack_probe_sent_total", "counter", "Probes sent since start.", _L)
PROBE_LOST = declare("flypack_probe_lost_total", "counter",
                     "Probes lost (no answer in time, refused, unreachable) since start.", _L)
PROBE_STARVED = declare("flypack_probe_starved_seconds", "gauge",
                        "How long the agent's own event loop was starved during the latest "
                        "probe's flight (0 normally): the part of the RTT a responder on the "
                        "agent's loop or host may owe to it; alarms judge the RTT minus this.",
                        _L, unit="seconds")
PROBE_HELD = declare("flypack_probe_held_total", "counter",
                     "Probe results taken while the agent itself was starved (event-loop lag or "
                     "a late probe tick >= [probes].starved_lag_ms) since start; they never "
                     "feed the RTT baseline, and a time-out among them is not counted lost.",
                     _L)
AGENT_LOOP_LAG = declare("flypack_agent_loop_lag_seconds", "gauge",
                         "Largest lateness of the agent's event loop over the last second "
                         "(its own starvation, judged apart from the devices).", ("flypack",),
                         unit="seconds")
