"""Run the simulated segment alone: ``python -m server_agent.sim [--scale seed] [--devices F]``.

For benchmarks that must measure the agent without the simulator's own CPU: start this, then
an agent whose config lists the devices written to ``--devices`` (``[[devices]]`` tables).
There is no fault API in this mode (that lives in the agent, `flypack-agent demo`). Stops on
SIGINT/SIGTERM, or after ``--seconds``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from pathlib import Path

from server_agent.config import ConfigError, SimSection
from server_agent.sim.segment import SimulatedSegment


def devices_toml(seg: SimulatedSegment) -> str:
    out = []
    for d in seg.device_sections():
        out.append(f'[[devices]]\nname = "{d.name}"\naddress = "{d.address}"\n'
                   f'role = "{d.role.value}"\nvendor = {json.dumps(d.vendor)}\n'
                   f"model = {json.dumps(d.model)}\nprobes = {json.dumps(d.probes)}\n")
    return "\n".join(out)


async def _main(seg: SimulatedSegment, seconds: float | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await seg.start()
    print(f"simulated segment: {len(seg.devices)} devices, {len(seg.senders)} streams; "
          "Ctrl-C to stop", flush=True)
    for note in seg.notes:
        print(f"note: {note}", flush=True)
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass
    finally:
        await seg.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m server_agent.sim", description=__doc__)
    p.add_argument("--scale", choices=["small", "seed"], default="small")
    p.add_argument("--base-address", default="127.77.0.0")
    p.add_argument("--no-snmp", action="store_true")
    p.add_argument("--devices", type=Path, help="write [[devices]] TOML for the agent here")
    p.add_argument("--seconds", type=float, help="stop after this long")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: "
                        "%(message)s")
    try:
        cfg = SimSection(enabled=True, scale=args.scale, base_address=args.base_address,
                         snmp=not args.no_snmp)
        seg = SimulatedSegment(cfg)
        seg.bind()
    except (ConfigError, ValueError) as exc:
        print(f"flypack sim: {exc}", file=sys.stderr)
        return 2
    if args.devices:
        args.devices.write_text(devices_toml(seg))
    try:
        import uvloop  # the agent runs on uvloop too (uvicorn[standard]); cheaper per packet

        uvloop.run(_main(seg, args.seconds))
    except ImportError:
        asyncio.run(_main(seg, args.seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
