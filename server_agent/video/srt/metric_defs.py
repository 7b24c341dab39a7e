"""Metrics of SRT legs (labels flypack, stream, leg, mode). Sampled at 10 Hz from
``srt_bistats`` (monitor / relay) or the device's API (device). A relay's outgoing leg has
``leg="N.out"``. While disconnected, rates are 0 and RTT / buffer are absent (null)."""

from __future__ import annotations

from server_agent.metrics.catalog import declare

_L = ("flypack", "stream", "leg", "mode")

CONNECTED = declare("flypack_srt_connected", "gauge",
                    "1 while the SRT connection of the leg is up, else 0.", _L)
RTT = declare("flypack_srt_rtt_seconds", "gauge", "SRT round-trip time (libsrt's smoothed RTT).",
              _L, unit="seconds", peaks=True)
BANDWIDTH = declare("flypack_srt_bandwidth_bits_per_second", "gauge",
                    "libsrt's estimate of the link bandwidth.", _L, unit="bits_per_second")
RECEIVE_RATE = declare("flypack_srt_receive_rate_bits_per_second", "gauge",
                       "SRT receive rate of the leg.", _L, unit="bits_per_second")
SEND_RATE = declare("flypack_srt_send_rate_bits_per_second", "gauge",
                    "SRT send rate of the leg (sending legs: the relay's outgoing leg).", _L,
                    unit="bits_per_second")
RECEIVED = declare("flypack_srt_packets_received_total", "counter",
                   "SRT data packets received since the leg started.", _L)
LOST = declare("flypack_srt_packets_lost_total", "counter",
               "SRT sequence gaps (packets missing before retransmission).", _L)
RETRANSMITTED = declare("flypack_srt_packets_retransmitted_total", "counter",
                        "SRT packets retransmitted (received as retransmissions, or resent "
                        "by a sending leg).", _L)
DROPPED = declare("flypack_srt_packets_dropped_total", "counter",
                  "SRT packets dropped too late to play: real loss.", _L)
BELATED = declare("flypack_srt_packets_belated_total", "counter",
                  "SRT packets that arrived after their play time and were discarded.", _L)
RECEIVE_BUFFER = declare("flypack_srt_receive_buffer_seconds", "gauge",
                         "Time span of the SRT receive buffer (compare with the latency).", _L,
                         unit="seconds", peaks=True)
LATENCY = declare("flypack_srt_latency_seconds", "gauge",
                  "Negotiated SRT (TSBPD) latency of the leg.", _L, unit="seconds")
FLOW_WINDOW = declare("flypack_srt_flow_window_packets", "gauge",
                      "SRT flow window in packets.", _L)
RECONNECTS = declare("flypack_srt_reconnects_total", "counter",
                     "Times the SRT connection of the leg was re-established.", _L)
ENCRYPTED = declare("flypack_srt_encrypted", "gauge",
                    "1 when the SRT connection is encrypted (keys exchanged), else 0.", _L)
