"""Who runs ansible, with what, and where (server_agent.jobs.reach, issue 14): the mode-bit
check that names the blocking directory, the plan's order of fallbacks with its edges faked,
and the read-only copy of ansible's runtime."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from server_agent.jobs import reach
from server_agent.jobs.errors import SandboxError
from server_agent.jobs.reach import ProbeResult, Runtime, plan_run
from server_agent.jobs.runas import (
    RunUser,
    blocked_at,
    can_enter,
    check_reachable,
    why_blocked,
    write_launcher,
)

USER = RunUser("flypack-jobs", 54321, 54321)  # no such account is needed for mode bits


@pytest.fixture
def tree() -> Iterator[Path]:
    """A temp dir every user can enter (pytest's own tmp_path sits under a 0700 dir)."""
    path = Path(tempfile.mkdtemp(prefix="flypack-reach-test-"))
    os.chmod(path, 0o711)
    try:
        yield path
    finally:
        for dirpath, dirnames, _ in os.walk(path):
            for n in dirnames:
                os.chmod(os.path.join(dirpath, n), 0o700)
        shutil.rmtree(path, ignore_errors=True)


# --- mode bits -----------------------------------------------------------------------------

def _st(uid: int, gid: int, mode: int) -> os.stat_result:
    return os.stat_result((0o040000 | mode, 0, 0, 2, uid, gid, 0, 0, 0, 0))


@pytest.mark.parametrize(("uid", "gid", "mode", "ok"), [
    (0, 0, 0o711, True),           # others may search
    (0, 0, 0o700, False),          # a 0700 home
    (0, USER.gid, 0o710, True),    # through the group
    (USER.uid, 0, 0o700, True),    # its own
    (USER.uid, 0, 0o077, False),   # its own without u+x: the owner class decides
    (0, USER.gid, 0o701, False),   # the group class decides, not "other"
])
def test_can_enter_follows_the_first_matching_class(uid: int, gid: int, mode: int,
                                                    ok: bool) -> None:
    assert can_enter(_st(uid, gid, mode), USER) is ok


def test_blocked_at_names_the_first_directory_and_its_mode(tree: Path) -> None:
    (tree / "home" / "clone" / "state").mkdir(parents=True)
    os.chmod(tree / "home", 0o700)
    target = tree / "home" / "clone" / "state" / "jobs"  # does not exist yet
    assert blocked_at(target, USER) == (tree / "home", 0o700)
    assert why_blocked(target, USER) == f"'flypack-jobs' cannot enter {tree / 'home'} (mode 0700)"
    with pytest.raises(SandboxError, match="cannot enter"):
        check_reachable(target, USER)
    check_reachable(target, None)  # the agent's own user: nothing to check
    os.chmod(tree / "home", 0o711)
    assert blocked_at(target, USER) is None and why_blocked(target, USER) == ""


# --- the plan, its edges faked ---------------------------------------------------------------

VENV = Runtime("/home/x/.venv/bin/python", "/home/x/.venv/bin/ansible-playbook",
               bin_dir="/home/x/.venv/bin")
SYS = "/usr/bin/python" + reach.VERSION


class Edges:
    """Fakes for plan_run: which runtimes the user can run, and what was made."""

    def __init__(self, tree: Path, runs: set[tuple[str, str | None]]) -> None:
        self.tree = tree
        self.runs = runs  # (python, pythonpath) the fake user can run
        self.probed: list[Runtime] = []
        self.copied: list[Path] = []
        self.temps: list[Path] = []

    def probe(self, user: RunUser, rt: Runtime) -> ProbeResult:
        self.probed.append(rt)
        if (rt.python, rt.pythonpath) in self.runs:
            return ProbeResult(True)
        return ProbeResult(False, f"cannot run {rt.python} with {rt.pythonpath}")

    def temp(self, user: RunUser) -> Path:
        path = Path(tempfile.mkdtemp(prefix="temp-", dir=self.tree))
        self.temps.append(path)
        return path

    def copy(self, dest: Path) -> Runtime:
        self.copied.append(dest)
        return Runtime("", str(dest / "bin" / "ansible-playbook"), str(dest / "site"),
                       str(dest / "callback"), str(dest / "bin"))

    def plan(self, default: Path, configured: Path | None = None,
             user: RunUser | None = USER) -> reach.RunPlan:
        return plan_run(user, default, configured, probe_fn=self.probe, make_temp=self.temp,
                        copy_fn=self.copy, candidates=lambda: [SYS],
                        venv=lambda: VENV, venv_site=lambda: [str(self.tree)])


def test_agent_not_root_runs_as_itself_and_probes_nothing(tree: Path) -> None:
    e = Edges(tree, set())
    plan = e.plan(tree / "state" / "jobs", user=None)
    assert (plan.kind, plan.user, plan.runtime) == ("own-user", None, VENV)
    assert e.probed == [] and plan.notes == () and plan.job_note == ""


def test_production_layout_uses_the_venv_and_the_state_dir(tree: Path) -> None:
    e = Edges(tree, {(VENV.python, None)})
    plan = e.plan(tree / "state" / "jobs")
    assert (plan.kind, plan.user, plan.runtime) == ("venv", USER, VENV)
    assert plan.work_dir == tree / "state" / "jobs" and not plan.temporary_work_dir
    assert plan.notes == () and plan.job_note == "" and plan.separated
    assert (plan.work_dir.stat().st_mode & 0o777) == 0o711  # made, enterable, not listable


def test_state_dir_in_a_0700_home_gives_a_temporary_work_dir(tree: Path) -> None:
    (tree / "home").mkdir(mode=0o700)
    e = Edges(tree, {(VENV.python, None)})
    plan = e.plan(tree / "home" / "state" / "jobs")
    assert plan.work_dir == e.temps[0] and plan.temporary_work_dir
    assert plan.kind == "venv" and plan.user == USER
    assert len(plan.notes) == 1 and "cannot enter" in plan.notes[0]
    assert "FALLBACK" in plan.notes[0] and "removed when the agent stops" in plan.notes[0]
    assert not (tree / "home" / "state").exists()  # nothing made in the home, nothing chmod-ed
    assert (tree / "home").stat().st_mode & 0o777 == 0o700


def test_a_configured_work_dir_out_of_reach_is_an_error_naming_it(tree: Path) -> None:
    (tree / "home").mkdir(mode=0o700)
    e = Edges(tree, {(VENV.python, None)})
    with pytest.raises(SandboxError) as exc:
        e.plan(tree / "x", configured=tree / "home" / "jobs")
    assert f"cannot enter {tree / 'home'} (mode 0700)" in str(exc.value)
    assert "unset work_dir" in exc.value.hint and e.temps == []


def test_venv_python_out_of_reach_uses_a_system_python_with_the_venv_packages(
        tree: Path) -> None:
    e = Edges(tree, {(SYS, str(tree))})
    plan = e.plan(tree / "jobs")
    assert plan.kind == "interpreter" and plan.user == USER
    assert plan.runtime == Runtime(SYS, VENV.playbook_bin, str(tree), bin_dir=VENV.bin_dir)
    assert plan.runtime.env() == {"PYTHONPATH": str(tree)}
    assert e.copied == [] and "cannot use the agent's venv python" in plan.notes[0]


def test_venv_out_of_reach_copies_ansible_and_keeps_the_separation(tree: Path) -> None:
    e = Edges(tree, {(SYS, str(tree / "jobs" / "runtime" / "site"))})
    plan = e.plan(tree / "jobs")
    assert plan.kind == "copy" and plan.user == USER and plan.job_note == ""
    assert e.copied == [tree / "jobs" / "runtime"]
    rt = plan.runtime
    assert rt.python == SYS and rt.playbook_bin == str(tree / "jobs/runtime/bin/ansible-playbook")
    assert rt.env() == {"PYTHONPATH": str(tree / "jobs/runtime/site"),
                        "AWX_LIB_DIRECTORY": str(tree / "jobs/runtime/callback")}
    assert "privilege separation kept" in plan.notes[-1]
    # the order: the venv, the system python with the venv's packages, then with the copy
    assert [(p.python, p.pythonpath) for p in e.probed] == [
        (VENV.python, None), (SYS, str(tree)), (SYS, str(tree / "jobs/runtime/site"))]


def test_no_python_it_can_run_falls_back_to_the_agent_user_and_says_so(tree: Path) -> None:
    (tree / "home").mkdir(mode=0o700)
    e = Edges(tree, set())
    default = tree / "home" / "state" / "jobs"
    plan = e.plan(default)
    assert plan.kind == "agent-user" and plan.user is None and not plan.separated
    assert plan.runtime == VENV and plan.work_dir == default  # the agent reaches its own
    assert not plan.temporary_work_dir and not e.temps[0].exists()  # the temp dir is gone
    assert "FALLBACK" in plan.notes[0] and "no privilege separation" in plan.notes[0]
    assert "cannot run /usr/bin/python" in plan.notes[0]  # what was tried, and why not
    assert "not flypack-jobs" in plan.job_note and "FALLBACK" in plan.job_note


def test_summary_says_who_with_what_and_where(tree: Path) -> None:
    e = Edges(tree, {(SYS, str(tree / "jobs" / "runtime" / "site"))})
    text = e.plan(tree / "jobs").summary()
    assert text.startswith(f"ansible runs as flypack-jobs (uid {USER.uid}) with {SYS}")
    assert f"job dirs in {tree / 'jobs'}" in text


def test_temporary_work_dir_is_marked_and_those_of_dead_agents_go(tree: Path) -> None:
    dead = subprocess.run(["sh", "-c", "echo $$"], capture_output=True, text=True,
                          check=True).stdout.strip()
    stale = tree / "flypack-jobs-stale1"
    (stale / "7").mkdir(parents=True)
    (stale / reach.OWNER_FILE).write_text(f"{dead} 12345\n")
    alive = tree / "flypack-jobs-alive1"
    alive.mkdir()
    (alive / reach.OWNER_FILE).write_text(f"{os.getpid()} {reach._start_time(os.getpid())}\n")
    unmarked = tree / "flypack-jobs-other1"
    unmarked.mkdir()
    (tree / "home").mkdir(mode=0o700)
    made = reach.temp_work_dir(USER, parents=[str(tree / "home"), str(tree)])
    assert made.parent == tree and made.name.startswith("flypack-jobs-")  # not in the home
    assert made.stat().st_mode & 0o777 == 0o711
    assert (made / reach.OWNER_FILE).read_text().split()[0] == str(os.getpid())
    assert not stale.exists() and alive.exists() and unmarked.exists()
    with pytest.raises(SandboxError, match="can enter none of"):
        reach.temp_work_dir(USER, parents=[str(tree / "home")])


# --- the launcher runs the planned runtime ---------------------------------------------------

def test_launcher_execs_the_planned_python_and_script(tmp_path: Path) -> None:
    script = write_launcher(tmp_path / "bin", USER, 2048, 900, tmp_path / "pid", (),
                            SYS, "/w/runtime/bin/ansible-playbook")
    argv = shlex.split(script.read_text().splitlines()[1])
    assert argv[1:4] == [sys.executable, "-m", "server_agent.jobs.sandbox"]  # root's part
    assert argv[argv.index("--uid") + 1] == str(USER.uid)
    assert argv[-4:] == ["--", SYS, "/w/runtime/bin/ansible-playbook", "$@"]


# --- the copy of ansible's runtime -----------------------------------------------------------

def test_runtime_copy_is_read_only_hard_links_and_imports_alone(tree: Path) -> None:
    dists = {d.metadata["Name"].lower() for d in reach.runtime_distributions()}
    assert {"ansible-core", "jinja2", "pyyaml", "markupsafe"} <= dists
    dest = tree / "work" / "runtime"
    dest.parent.mkdir()
    rt = reach.copy_runtime(dest)
    init = dest / "site" / "ansible" / "__init__.py"
    import ansible

    orig = Path(ansible.__file__)
    assert init.is_file() and init.read_bytes() == orig.read_bytes()
    assert orig.stat().st_mode & 0o777 == init.stat().st_mode & 0o777  # never chmod-ed
    assert not (dest / "site" / "ansible_test").exists()
    assert (dest / "callback" / "awx_display.py").is_file()
    assert (dest / "bin" / "ansible-playbook").is_file()
    for dirpath, _, _ in os.walk(dest):
        assert os.stat(dirpath).st_mode & 0o777 == 0o755, dirpath
    # no site-packages but the copy's: ansible and its requirements import from it
    out = subprocess.run([sys.executable, "-S", "-c", "import ansible, jinja2, yaml, "
                          "ansible.constants; print(ansible.__file__)"],
                         env={**rt.env(), "PATH": "/usr/bin:/bin", "HOME": str(tree)},
                         capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == str(init)
    stamp = (dest / "stamp.json").stat().st_mtime_ns
    assert reach.copy_runtime(dest) == rt  # same versions: reused, not rebuilt
    assert (dest / "stamp.json").stat().st_mtime_ns == stamp


def test_interpreters_are_of_the_agents_version_and_each_once() -> None:
    found = reach.interpreters(extra=[sys.executable])
    reals = [os.path.realpath(p) for p in found]
    assert len(reals) == len(set(reals))
    assert os.path.realpath(sys.executable) in reals
