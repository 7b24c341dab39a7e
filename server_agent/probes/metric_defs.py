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
