"""The demo from a fresh clone in a 0700 home, as root (issue 14, finding 1), as a person does:

    git clone <this repository> ~/flypack         (~ = a new 0700 dir: root's home, simulated)
    cd ~/flypack && make demo DEMO_ARGS=--no-desktop
                     scripts/setup.sh makes the clone's own .venv (pip; timed, printed)
    the desktop's Jobs tab (the real widgets of desktop/ui/jobs.py, offscreen) logged in to
    that demo: the connectivity check on the routers -> successful, its tasks in the output
    the same playbook through the API -> successful
    Ctrl-C (SIGINT to the terminal's process group) -> nothing of the demo is left running,
                     and the job dirs the agent made outside the home are gone

The clone is of HEAD (what CI tests, everything committed). ``FLYPACK_JOURNEY_WORKTREE=1``
copies the working tree instead (tracked and new files, as they are now), to try uncommitted
work. Slow: set-up creates a venv and pip-installs the project (minutes; pip's cache helps),
then two real playbook runs.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync
from pytestqt.qtbot import QtBot

from desktop.client import AgentClient, JobsApi
from desktop.ui import theme
from desktop.ui.dashboard import Dashboard
from desktop.ui.qt import QApplication, Qt
from tests.e2e.fleet_support import until
from tests.journeys.demo_run import DemoRun
from tests.support import ROOT, free_port, require_root

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3000)]
WORKTREE = os.environ.get("FLYPACK_JOURNEY_WORKTREE") == "1"
SETUP_WITHIN_S = 2400.0  # a cold pip install on a slow mirror; with pip's cache ~1-3 min
SYSTEM_PYTHON = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
ROUTERS = ["rtr-01", "rtr-02", "rtr-03", "rtr-04"]
TASKS = ("Probe the device over TCP", "Report the device", "Summarise the group")


def _fresh_clone(dest: Path) -> str:
    if not WORKTREE:
        subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(dest)],
                       check=True, timeout=300)
        head = subprocess.run(["git", "-C", str(dest), "log", "--oneline", "-1"],
                              capture_output=True, text=True, check=True).stdout.strip()
        return f"a clone of HEAD ({head})"
    out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard", "-z"],
                         capture_output=True, check=True, timeout=60).stdout
    for rel in filter(None, out.decode().split("\0")):
        src = ROOT / rel
        if src.is_file() or src.is_symlink():  # a deleted tracked file is listed too
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel, follow_symlinks=False)
    return "a copy of the working tree (FLYPACK_JOURNEY_WORKTREE=1)"


def _terminal_env(home: Path) -> dict[str, str]:
    """A login shell's environment: no venv of this test run on PATH, HOME the 0700 dir;
    pip's own cache is kept (PIP_CACHE_DIR), as a person's second clone would have it."""
    drop = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "DISPLAY", "WAYLAND_DISPLAY",
            "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "QT_QPA_PLATFORM")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    here = {str(Path(sys.prefix) / "bin"), str(ROOT / ".venv" / "bin")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "/usr/bin:/bin").split(os.pathsep)
                                  if p and p.rstrip("/") not in here)
    cache = Path(os.environ.get("PIP_CACHE_DIR") or Path.home() / ".cache" / "pip")
    if cache.is_dir():
        env["PIP_CACHE_DIR"] = str(cache)
    env["HOME"] = str(home)
    return env


class MakeDemo:
    """``make demo`` in its own session (a terminal's process group), its output read live."""

    def __init__(self, clone: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(
            ["make", "demo", f"DEMO_ARGS=--no-desktop --port {self.port}"], cwd=clone, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.lines: list[tuple[float, str]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append((time.monotonic() - self.t0, line))

    def output(self) -> str:
        return "".join(line for _, line in list(self.lines))

    def when(self, pattern: str) -> float | None:
        """Seconds from the start to the first line matching ``pattern``."""
        return next((t for t, line in list(self.lines) if re.search(pattern, line)), None)

    def wait_for(self, pattern: str, within_s: float) -> float:
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            if (t := self.when(pattern)) is not None:
                return t
            if self.proc.poll() is not None:
                time.sleep(0.5)  # the reader's last lines
                if (t := self.when(pattern)) is not None:
                    return t
                pytest.fail(f"make demo exited with {self.proc.returncode} before "
                            f"{pattern!r}:\n{self.output()[-6000:]}")
            time.sleep(0.5)
        pytest.fail(f"no {pattern!r} within {within_s:.0f} s:\n{self.output()[-6000:]}")

    def run(self) -> DemoRun:
        """The banner, parsed as tests.journeys.demo_run reads it (URL, password, state dir)."""
        text = self.output()
        password = text.split("password ", 1)[1].split()[0]
        url = text.split("agent:", 1)[1].split()[0]
        state_dir = Path(text.split("state dir:", 1)[1].split()[0])
        return DemoRun(proc=self.proc, url=url, port=self.port, password=password,
                       state_dir=state_dir, banner=text)

    def ctrl_c(self, within_s: float = 90.0) -> int:
        """What Ctrl-C in the terminal does: SIGINT to the whole foreground process group."""
        try:
            os.killpg(self.proc.pid, signal.SIGINT)
        except ProcessLookupError:
            pass
        try:
            return self.proc.wait(within_s)
        except subprocess.TimeoutExpired:
            pytest.fail(f"make demo did not stop within {within_s:.0f} s of Ctrl-C:\n"
                        f"{self.output()[-4000:]}")
        finally:
            self._reader.join(5)

    def kill_leftovers(self) -> None:
        """By session (this make's), should a failed test leave any."""
        for pid in _session(self.proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _session(sid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[3]) == sid and fields[0] != "Z":  # session id; zombies are gone already
            out.append(int(entry))
    return out


def _mentioning(needle: str) -> list[str]:
    """Processes whose command line, working dir or FLYPACK_JOB_DIR mention ``needle``."""
    hits = []
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace")
            cwd = os.readlink(f"/proc/{entry}/cwd")
            env = Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if needle in cmd or cwd.startswith(needle) or needle.encode() in env:
            hits.append(f"{entry}: {cmd[:200]}")
    return hits


@pytest.fixture
def root_home() -> Iterator[Path]:
    """A new 0700 directory standing in for root's home (mkdtemp makes it 0700)."""
    require_root("the journey is root's: a clone in root's home (the playbook user is "
                 "another user only when the agent is root)")
    home = Path(tempfile.mkdtemp(prefix="flypack-root-home-"))
    assert home.stat().st_mode & 0o777 == 0o700
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _run_on_loop(qapp: QApplication, scenario: Callable[[], Coroutine[Any, Any, None]],
                 stop: Callable[[], Coroutine[Any, Any, None]]) -> None:
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(scenario())
    finally:
        loop.run_until_complete(stop())
        loop.close()
        asyncio.set_event_loop(None)


def _connectivity_from_the_desktop(qtbot: QtBot, qapp: QApplication, run: DemoRun) -> str:
    """The Jobs tab of the dashboard, logged in to the demo: the connectivity check on the
    routers, by its buttons; the tab's output when the job ended."""
    theme.apply(qapp, theme.DARK)
    d = Dashboard(fleet=True)
    qtbot.addWidget(d)
    d.resize(1366, 740)
    d.show()
    d.show_tab("jobs")
    panel = d.jobs
    client = AgentClient(run.url)
    LEFT = Qt.MouseButton.LeftButton

    async def scenario() -> None:
        await client.login("admin", run.password)
        panel.attach(JobsApi(client))
        await until(lambda: panel.playbooks and panel.form is not None, 30, "the catalog",
                     panel.status.text)
        names = [p.name for p in panel.playbooks]
        panel.catalog.setCurrentRow(names.index("connectivity-check"))
        await until(lambda: panel.targets is not None and "routers" in panel.targets.chips,
                     10, "the target groups")
        assert panel.targets is not None and panel.form is not None
        for name, chip in panel.targets.chips.items():
            if chip.isChecked() != (name == "routers"):
                qtbot.mouseClick(chip, LEFT)  # type: ignore[no-untyped-call]
        panel.form.inputs["count"].setValue(1)  # type: ignore[attr-defined]
        qtbot.mouseClick(panel.run, LEFT)  # type: ignore[no-untyped-call]
        await until(lambda: panel.job is not None, 30, "the job to start", panel.status.text)
        await until(lambda: panel.job is not None and panel.job.done, 300, "the job to end",
                     lambda: panel.status.text() + "\n" + panel.output.toPlainText()[-3000:])
        await until(lambda: "ended:" in panel.output.toPlainText(), 30, "the last output")

    async def stop() -> None:
        await panel.stop()
        await client.aclose()

    _run_on_loop(qapp, scenario, stop)
    assert panel.job is not None
    out = panel.output.toPlainText()
    assert panel.job.status == "successful", f"{panel.status.text()}\n{out[-3000:]}"
    status = panel.status.text()
    assert status.startswith(f"Job {panel.job.id}:") and "SUCCESSFUL" in status, status
    return out


def test_demo_from_a_fresh_clone_in_a_0700_home_runs_playbooks(
        root_home: Path, qtbot: QtBot, qapp: QApplication) -> None:
    clone = root_home / "flypack"
    how = _fresh_clone(clone)
    demo = MakeDemo(clone, _terminal_env(root_home))
    work_dir = Path("/nonexistent")
    run: DemoRun | None = None
    try:
        up = demo.wait_for(r"^Ctrl-C to stop", SETUP_WITHIN_S)
        setup_s = demo.when(r"scripts/demo\.py") or up
        print(f"\n{how}: `make demo` set-up (scripts/setup.sh: venv + pip) took {setup_s:.0f} s,"
              f" the demo was up after {up:.0f} s")
        run = demo.run()
        # the agent planned, at start-up, who runs ansible and where; the demo shows its
        # warnings: the two fallbacks a 0700 home needs (work dir, runtime)
        demo.wait_for(r"jobs: the playbook user 'flypack-jobs' cannot enter", 180)
        demo.wait_for(r"jobs: the playbook user (cannot use the agent's venv|"
                      r"'flypack-jobs' cannot run ansible)", 180)
        text = demo.output()
        m = re.search(r"job dirs go to (\S+) instead \(FALLBACK", text)
        assert m, text[-4000:]
        work_dir = Path(m.group(1))
        assert not work_dir.is_relative_to(root_home)  # the home is the playbook user's wall
        separated = "FALLBACK: ansible runs as root" not in text
        if os.path.exists(SYSTEM_PYTHON):  # a python it can run: the separation is kept
            assert separated and "privilege separation kept" in text, text[-4000:]

        out = _connectivity_from_the_desktop(qtbot, qapp, run)
        for task in TASKS:
            assert f"TASK [{task}]" in out, out[-3000:]  # per-task events, shown in the tab
        for host in ROUTERS:
            assert f"[{host}]" in out and f"{host}: reachable" in out, out[-3000:]
        assert "4 of 4 reachable" in out

        r = run.api("POST", "/api/v1/jobs", json={"playbook": "connectivity-check",
                                                  "limit": ["switches"], "vars": {"count": 1}})
        assert r.status_code == 201, r.text
        jid = r.json()["id"]
        deadline = time.monotonic() + 300
        job = r.json()
        while job["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.5)
            job = run.api("GET", f"/api/v1/jobs/{jid}").json()
        assert job["status"] == "successful", job
        assert sorted(job["stats"]) == ["sw-01", "sw-02"]
        if separated:
            assert job["reason"] == "", job
            uid = (work_dir / str(jid) / "home" / ".ansible").stat().st_uid
            assert uid != 0  # ansible-playbook made its ~/.ansible as the playbook user
        else:
            assert "FALLBACK" in job["reason"], job
    finally:
        rc = demo.ctrl_c()
        left = _session(demo.proc.pid)
        demo.kill_leftovers()  # a failed test leaves nothing running either
    # make re-raises Ctrl-C on itself (-SIGINT); the demo under it ends cleanly
    assert rc in (0, 2, 130, -signal.SIGINT), f"make demo exited with {rc}:\n" \
        f"{demo.output()[-3000:]}"
    assert "flypack demo stopped" in demo.output(), demo.output()[-3000:]
    assert left == [], f"left running after Ctrl-C: {left}"
    assert _mentioning(str(clone)) == []
    assert _mentioning(str(work_dir)) == []
    assert not work_dir.exists(), f"{work_dir} was left behind"
    assert run is not None and not run.state_dir.exists()
    assert root_home.stat().st_mode & 0o777 == 0o700  # nobody chmod-ed the home
