"""Run the simulated segment alone: ``python -m server_agent.sim [--scale seed] [--devices F]``.

The demo runs its segment this way (server_agent.sim.process), so that the simulated devices
answer from their own process and not from the agent's event loop; benchmarks do too, to
measure the agent without the simulator's CPU. The segment takes ``--base-address`` or, when
another simulator holds that block, the next free one of ``--blocks`` (127.77.0.0, 127.78.0.0,
...): two demos run side by side. It says why when it cannot (one line on stderr, exit 2).

``--devices F`` writes the devices as ``[[devices]]`` TOML for an agent's config;
``--ready-file F`` writes JSON once it serves (its block, devices, streams) or why it failed;
``--control`` serves the fault API on 127.0.0.1 for the holder of the token in
$FLYPACK_SIM_CONTROL_TOKEN (the demo's agent forwards /api/v1/sim/* there). Stops on
SIGINT/SIGTERM, after ``--seconds``, or with ``--parent-pid`` when its parent ends.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from server_agent.config import ConfigError, DeviceSection, parse_config
from server_agent.sim.control import TOKEN_ENV, ControlServer
from server_agent.sim.segment import SimulatedSegment, bind_free_block

log = logging.getLogger("flypack.sim")


def devices_toml(devices: list[DeviceSection]) -> str:
    """``[[devices]]`` tables for an agent's config (the segment's device_sections())."""
    out = []
    for d in devices:
        out.append(f'[[devices]]\nname = "{d.name}"\naddress = "{d.address}"\n'
                   f'role = "{d.role.value}"\nvendor = {json.dumps(d.vendor)}\n'
                   f"model = {json.dumps(d.model)}\nprobes = {json.dumps(d.probes)}\n")
    return "\n".join(out)


def _write_json(path: Path | None, data: dict[str, Any]) -> None:
    if path is None:
        return
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)  # the reader never sees half a file


def ready_info(seg: SimulatedSegment, control_url: str | None) -> dict[str, Any]:
    return {"pid": os.getpid(), "base_address": seg.cfg.base_address, "control_url": control_url,
            "devices": [d.model_dump(mode="json") for d in seg.device_sections()],
            "streams": [s.model_dump(mode="json") for s in seg.streams()],
            "senders": [s.spec.id for s in seg.senders.values()], "notes": seg.notes}


async def _orphaned(parent: int, stop: asyncio.Event) -> None:
    while True:  # no event tells a process that its parent ended: look once a second
        # (PID given, not looked up here: the parent may have ended before this started)
        if os.getppid() != parent:
            break
        await asyncio.sleep(1.0)
    log.warning("the process that started the simulator (pid %d) has ended: stopping", parent)
    stop.set()


async def _main(seg: SimulatedSegment, args: argparse.Namespace, parent: int | None) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    control = ControlServer(seg, os.environ.get(TOKEN_ENV, "")) if args.control else None
    watch = asyncio.create_task(_orphaned(parent, stop)) if parent else None
    try:
        await seg.start()
        url = await control.start() if control is not None else None
    except Exception as exc:  # its own words for the owner, not a silent exit
        log.exception("the simulated segment failed to start")
        _write_json(args.ready_file, {"error": f"{type(exc).__name__}: {exc}"})
        print(f"flypack sim: cannot start: {exc}", file=sys.stderr, flush=True)
        await seg.stop()
        return 1
    _write_json(args.ready_file, ready_info(seg, url))
    print(f"simulated segment: {len(seg.devices)} devices on {seg.cfg.base_address}, "
          f"{len(seg.senders)} streams; Ctrl-C to stop", flush=True)
    for note in seg.notes:
        print(f"note: {note}", flush=True)
    try:
        await asyncio.wait_for(stop.wait(), args.seconds)
    except TimeoutError:
        pass
    finally:
        if watch is not None:
            watch.cancel()
        if control is not None:
            await control.close()
        await seg.stop()
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m server_agent.sim", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", choices=["small", "seed"], default="small")
    p.add_argument("--base-address", default="127.77.0.0",
                   help="first address block to try (127.X.0.0; default 127.77.0.0)")
    p.add_argument("--blocks", type=int, default=16,
                   help="how many blocks from --base-address to try (1 = exactly that one)")
    p.add_argument("--no-snmp", action="store_true")
    for name in ("snmp", "echo", "tcp", "http", "stream"):
        p.add_argument(f"--{name}-port", type=int, help=f"[sim] {name}_port")
    p.add_argument("--streams", type=int, help="encoders that send a stream ([sim] streams)")
    p.add_argument("--stream-mbps", type=float)
    p.add_argument("--cache-dir", type=Path, help="encoded clip cache")
    p.add_argument("--devices", type=Path, help="write [[devices]] TOML for the agent here")
    p.add_argument("--ready-file", type=Path, help="write JSON here once serving (or failed)")
    p.add_argument("--control", action="store_true",
                   help=f"serve the fault API on 127.0.0.1 (token in ${TOKEN_ENV})")
    p.add_argument("--parent-pid", type=int, metavar="PID",
                   help="stop when this process (the one that started it) ends")
    p.add_argument("--seconds", type=float, help="stop after this long")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: "
                        "%(message)s")
    table: dict[str, Any] = {"enabled": True, "scale": args.scale,
                             "base_address": args.base_address, "snmp": not args.no_snmp}
    for key in ("snmp_port", "echo_port", "tcp_port", "http_port", "stream_port", "streams",
                "stream_mbps", "cache_dir"):
        if (value := getattr(args, key)) is not None:
            table[key] = str(value) if key == "cache_dir" else value
    try:
        if args.control and not os.environ.get(TOKEN_ENV):
            raise ConfigError(f"--control needs a token in ${TOKEN_ENV}")
        if args.blocks < 1:
            raise ConfigError("--blocks: use 1 or more")
        cfg = parse_config({"sim": table}, "python -m server_agent.sim").sim
        seg = bind_free_block(cfg, args.blocks)
    except ConfigError as exc:
        _write_json(args.ready_file, {"error": str(exc)})
        print(f"flypack sim: {exc}", file=sys.stderr)
        return 2
    if args.devices:
        args.devices.write_text(devices_toml(seg.device_sections()))
    try:
        import uvloop  # the agent runs on uvloop too (uvicorn[standard]); cheaper per packet
    except ImportError:
        return asyncio.run(_main(seg, args, args.parent_pid))
    return uvloop.run(_main(seg, args, args.parent_pid))


if __name__ == "__main__":
    sys.exit(main())
