#!/usr/bin/python
"""Ansible module: a short, bounded capture of a UDP stream (e.g. MPEG-TS) into a file."""

from __future__ import annotations

DOCUMENTATION = r"""
module: flypack_udp_capture
short_description: Capture a UDP stream for a few seconds into a file
description:
  - Binds C(address):C(port) (joins the group when C(address) is multicast) and writes the
    payloads of the datagrams it receives to C(dest), for at most C(seconds) and C(max_bytes).
  - When the port is taken (the agent itself monitors that stream) nothing is captured and
    C(captured) is false with the reason; the task does not fail.
options:
  address: {description: Address to listen on, type: str, default: 0.0.0.0}
  port: {description: UDP port, type: int, required: true}
  seconds: {description: Capture duration, type: float, default: 3}
  max_bytes: {description: Stop after this many bytes, type: int, default: 20000000}
  dest: {description: File to write, type: path, required: true}
"""

import ipaddress
import os
import socket
import struct
import time

from ansible.module_utils.basic import AnsibleModule


def main() -> None:
    mod = AnsibleModule(argument_spec={
        "address": {"type": "str", "default": "0.0.0.0"},
        "port": {"type": "int", "required": True},
        "seconds": {"type": "float", "default": 3.0},
        "max_bytes": {"type": "int", "default": 20_000_000},
        "dest": {"type": "path", "required": True},
    })
    p = mod.params
    seconds = max(0.1, min(float(p["seconds"]), 60.0))
    limit = max(1, min(int(p["max_bytes"]), 200_000_000))
    addr = ipaddress.ip_address(p["address"])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((str(addr), int(p["port"])))
    except OSError as exc:
        sock.close()
        mod.exit_json(changed=False, captured=False, bytes=0, datagrams=0,
                      reason=f"cannot listen on {addr}:{p['port']}: {exc.strerror}")
    if addr.is_multicast:
        mreq = struct.pack("4s4s", addr.packed, socket.inet_aton("0.0.0.0"))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    total = count = 0
    deadline = time.monotonic() + seconds
    with open(p["dest"], "wb") as fh:
        while total < limit:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            sock.settimeout(left)
            try:
                data = sock.recv(65536)
            except TimeoutError:
                break
            fh.write(data)
            total += len(data)
            count += 1
    sock.close()
    os.chmod(p["dest"], 0o640)
    mod.exit_json(changed=True, captured=count > 0, bytes=total, datagrams=count,
                  dest=p["dest"], reason="" if count else "no datagrams arrived")


if __name__ == "__main__":
    main()
