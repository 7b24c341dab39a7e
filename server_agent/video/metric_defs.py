"""Metrics of stream analysis (labels flypack, stream, leg, pid, check). 10 Hz gauges carry
peaks; TR 101 290 counters are ``flypack_ts_<counter name of design §8>_total``."""

from __future__ import annotations

from server_agent.metrics.catalog import declare
from server_agent.video.ts.checks import COUNTERS

_S = ("flypack", "stream")
_L = ("flypack", "stream", "leg")

STREAM_UP = declare("flypack_stream_up", "gauge",
                    "1 when datagrams arrived on the leg in the last second, else 0.", _L)
STREAM_BITRATE = declare("flypack_stream_bitrate_bits_per_second", "gauge",
                         "UDP payload bitrate of the leg over the last second.", _L,
                         unit="bits_per_second", peaks=True)
STREAM_DATAGRAMS = declare("flypack_stream_datagrams_total", "counter",
                           "Datagrams received on the leg since the stream started.", _L)
STREAM_DSCP = declare("flypack_stream_dscp", "gauge",
                      "DSCP of the latest datagram (IP_RECVTOS).", _L)
STREAM_DSCP_MISMATCH = declare("flypack_stream_dscp_mismatch_total", "counter",
                               "Datagrams whose DSCP differs from the stream's expected one.",
                               _L)
STREAM_RTP_LOST = declare("flypack_stream_rtp_lost_total", "counter",
                          "RTP sequence numbers missing (gaps not filled later).", _L)
STREAM_RTP_REORDERED = declare("flypack_stream_rtp_reordered_total", "counter",
                               "RTP packets that arrived after a later one.", _L)
STREAM_RTP_DUPLICATES = declare("flypack_stream_rtp_duplicates_total", "counter",
                                "RTP packets received twice.", _L)
STREAM_MDI_DF = declare("flypack_stream_mdi_df_seconds", "gauge",
                        "RFC 4445 delay factor of the last 1 s interval.", _L,
                        unit="seconds", peaks=True)
STREAM_MDI_MLR = declare("flypack_stream_mdi_mlr", "gauge",
                         "RFC 4445 media loss rate: TS packets lost per second.", _S)
STREAM_IAT_MAX = declare("flypack_stream_inter_arrival_max_seconds", "gauge",
                         "Longest gap between two datagrams in the last 1 s interval.", _L,
                         unit="seconds", peaks=True)
STREAM_JOIN = declare("flypack_stream_join_seconds", "gauge",
                      "Time from opening/joining the leg to its first datagram.", _L,
                      unit="seconds")
DUAL_SKEW = declare("flypack_stream_dual_skew_seconds", "gauge",
                    "ST 2022-7: mean arrival of leg 2 minus leg 1.", _S, unit="seconds",
                    peaks=True)
DUAL_LOST = declare("flypack_stream_dual_lost_total", "counter",
                    "ST 2022-7: packets lost on leg 1 only, leg 2 only, or both "
                    "(label leg = 1, 2, both).", _L)
DUAL_HITLESS = declare("flypack_stream_dual_hitless", "gauge",
                       "ST 2022-7: 1 while nothing was lost on both legs and the skew is "
                       "within the buffer.", _S)
TS_BITRATE = declare("flypack_ts_bitrate_bits_per_second", "gauge",
                     "Transport stream bitrate over the last second (all PIDs).", _S,
                     unit="bits_per_second", peaks=True)
TS_PID_BITRATE = declare("flypack_ts_pid_bitrate_bits_per_second", "gauge",
                         "Bitrate of one PID over the last second.",
                         ("flypack", "stream", "pid"), unit="bits_per_second")
TS_ERRORED_SECONDS = declare("flypack_ts_errored_seconds_total", "counter",
                             "Seconds with at least one error of the TR 101 290 check.",
                             ("flypack", "stream", "check"))
TS_SEVERELY_ERRORED_SECONDS = declare(
    "flypack_ts_severely_errored_seconds_total", "counter",
    "Seconds with at least [tr101290].ses_errors errors of the check.",
    ("flypack", "stream", "check"))
TS_COUNTERS = {c: declare(f"flypack_ts_{c}_total", "counter",
                          f"TR 101 290 {c} count since the stream started.", _S)
               for c in COUNTERS}
STREAM_HOP_OK = declare("flypack_stream_hop_ok", "gauge",
                        "Stream path hop health: 1 ok, 0 failing or caused upstream "
                        "(missing while unknown).", ("flypack", "stream", "hop"))
