"""Reachability probes: ICMP echo, TCP connect, UDP echo; RTT, jitter and loss per device.

    ProbeError
     └── ProbeUnavailable   this kind of probe cannot run on this host (e.g. no CAP_NET_RAW)
"""

from server_agent.probes.base import ProbeError, ProbeSpec, ProbeUnavailable

__all__ = ["ProbeError", "ProbeSpec", "ProbeUnavailable"]
