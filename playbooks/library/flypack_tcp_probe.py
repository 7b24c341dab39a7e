#!/usr/bin/python
"""Ansible module: TCP reachability and connect latency from the agent to one device."""

from __future__ import annotations

DOCUMENTATION = r"""
module: flypack_tcp_probe
short_description: TCP reachability and connect latency of a device
description:
  - Connects to each port in turn, C(count) times, bounded by C(timeout_ms) per attempt.
  - A refused connection also counts as an answer (the host is up and replied).
options:
  host: {description: Address to probe, required: true, type: str}
  ports: {description: Ports to try, type: list, elements: int, default: [22, 80]}
  count: {description: Attempts, type: int, default: 3}
  timeout_ms: {description: Timeout per attempt, type: int, default: 1000}
"""

import errno
import socket
import time

from ansible.module_utils.basic import AnsibleModule


def attempt(host: str, port: int, timeout: float) -> tuple[bool, float | None, str]:
    t0 = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True, (time.perf_counter() - t0) * 1000, "open"
    except ConnectionRefusedError:
        return True, (time.perf_counter() - t0) * 1000, "refused"
    except OSError as exc:
        if exc.errno == errno.ECONNREFUSED:
            return True, (time.perf_counter() - t0) * 1000, "refused"
        return False, None, "timeout" if isinstance(exc, TimeoutError) else str(exc)


def main() -> None:
    mod = AnsibleModule(argument_spec={
        "host": {"type": "str", "required": True},
        "ports": {"type": "list", "elements": "int", "default": [22, 80]},
        "count": {"type": "int", "default": 3},
        "timeout_ms": {"type": "int", "default": 1000},
    }, supports_check_mode=True)
    p = mod.params
    count = max(1, min(int(p["count"]), 20))
    timeout = max(0.05, min(int(p["timeout_ms"]), 5000) / 1000)
    rtts: list[float] = []
    answers: dict[int, str] = {}
    for _ in range(count):
        for port in p["ports"][:8]:
            ok, rtt, what = attempt(p["host"], int(port), timeout)
            answers[int(port)] = what
            if ok and rtt is not None:
                rtts.append(rtt)
                break
    sent = count
    got = len(rtts)
    mod.exit_json(
        changed=False, reachable=got > 0, sent=sent, answered=got,
        loss_ratio=round(1 - got / sent, 3),
        rtt_ms_min=round(min(rtts), 3) if rtts else None,
        rtt_ms_avg=round(sum(rtts) / got, 3) if rtts else None,
        rtt_ms_max=round(max(rtts), 3) if rtts else None,
        ports=answers)


if __name__ == "__main__":
    main()
