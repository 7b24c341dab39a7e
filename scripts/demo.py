"""`make demo`: agent + simulated flypack + VictoriaMetrics + the desktop, in one command.

    flypack-agent demo (the agent, in this process; the simulated segment in its own process,
      │                 python -m server_agent.sim, on a free 127.x block: two demos can run
      │                 side by side on different --port)
      └─ on ready: VictoriaMetrics (Debian binary) scraping the agent, for history
                   the desktop: a window when there is a display, otherwise PNGs of its
                   main screens rendered offscreen (their paths are printed)
    Ctrl-C stops everything (children by PID: the simulator, VictoriaMetrics, the desktop).

Options: --port N (default 8080), --scale small|seed, --no-desktop, --screenshots DIR.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server_agent.children import stop_child  # noqa: E402
from server_agent.metrics.victoria import (  # noqa: E402
    VictoriaMetricsError,
    VictoriaMetricsProcess,
    _free_port,
)
from server_agent.sim.demo import DemoInfo, run_demo  # noqa: E402

BIN = Path(sys.executable).parent


class Children:
    """What the demo started besides the agent; stopped by PID on the way out."""

    def __init__(self) -> None:
        self.vm: VictoriaMetricsProcess | None = None
        self.procs: list[subprocess.Popen[bytes]] = []

    def stop(self) -> None:
        for p in self.procs:
            stop_child(p, 10)
        if self.vm is not None:
            self.vm.stop()


def start_history(children: Children, info: DemoInfo, vm_port: int, vm_dir: Path) -> None:
    scrape = info.state_dir / "collector" / "scrape.yml"
    try:
        children.vm = VictoriaMetricsProcess(vm_dir, scrape, port=vm_port).start()
        print(f"  history:   VictoriaMetrics at {children.vm.url} scraping the agent", flush=True)
    except VictoriaMetricsError as exc:
        print(f"  history:   not available ({exc}); the agent answers from its own buffers",
              flush=True)


async def start_desktop(children: Children, info: DemoInfo, shots: Path) -> None:
    env = dict(os.environ, FLYPACK_PASSWORD=info.password)
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        # Popen only starts the window and returns at once; the demo never waits on it here
        children.procs.append(subprocess.Popen(  # noqa: ASYNC220
            [str(BIN / "flypack-desktop"), "--url", info.url, "--user", info.username], env=env))
        print("  desktop:   window opened (close it any time; Ctrl-C here stops the demo)",
              flush=True)
        return
    print("  desktop:   no display: rendering the main screens offscreen ...", flush=True)
    env["QT_QPA_PLATFORM"] = "offscreen"
    # runs beside the agent's event loop (this coroutine is on it): never block it
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "desktop.ui.screenshots", "--url", info.url, "--user",
        info.username, "--password-env", "FLYPACK_PASSWORD", "--out", str(shots),
        env=env, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 180)
    except TimeoutError:
        proc.kill()
        out, err = b"", b"timed out after 180 s"
    if proc.returncode == 0:
        print(f"  desktop:   screenshots in {shots}:", flush=True)
        for line in out.decode().split():
            print(f"             {line}", flush=True)
    else:
        why = (err or out).decode(errors="replace").strip()[-400:]
        print(f"  desktop:   screenshots failed: {why}", flush=True)
    print("\nthe agent keeps running: Ctrl-C to stop", flush=True)


def main() -> int:
    p = argparse.ArgumentParser(prog="make demo", description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--scale", choices=["small", "seed"], default="small")
    p.add_argument("--no-desktop", action="store_true")
    p.add_argument("--screenshots", type=Path, default=ROOT / "build" / "demo-screenshots")
    args = p.parse_args()
    children = Children()
    vm_dir = Path(tempfile.mkdtemp(prefix="flypack-demo-vm-"))
    vm_port = _free_port("127.0.0.1")

    async def on_ready(info: DemoInfo) -> None:
        await asyncio.to_thread(start_history, children, info, vm_port, vm_dir / "data")
        if not args.no_desktop:
            await start_desktop(children, info, args.screenshots)

    try:
        return run_demo(args.port, args.scale, None, on_ready,
                        history_url=f"http://127.0.0.1:{vm_port}")
    finally:
        children.stop()
        shutil.rmtree(vm_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
