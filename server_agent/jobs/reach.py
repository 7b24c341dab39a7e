"""What the playbook user can reach, decided once when the jobs queue starts (issue 14).

When the agent is root, ansible runs as the unprivileged ``[jobs] run_as`` user (design §9:
root is not bound by RLIMIT_NPROC and may read the agent's secrets). That user must reach four
things: an interpreter, ansible's packages (plus ansible-runner's event callback and the
``ansible-playbook`` script), and the jobs' work dir. A clone in a 0700 home (root's, or the
demo's 0700 temp state dir) puts some of them out of its reach. The plan, first fit wins::

    work dir   [jobs] work_dir if set (must be reachable: else jobs fail, with the reason)
               else <state_dir>/jobs if the user can enter every parent
               else FALLBACK a fresh 0711 dir in /tmp, removed when the agent stops (it
                    holds the agent's PID: the next agent removes one a killed agent left)
    runtime    1. the agent's venv python (production: /opt/..., built from /usr/bin/python3)
               2. a python of the same X.Y it can run (the venv's base, /usr/bin/pythonX.Y,
                  /usr/local/bin/pythonX.Y) with the venv's site-packages on PYTHONPATH
               3. FALLBACK the same interpreters with a root-owned, read-only copy of
                  ansible-core's distributions (and ansible-runner's callback) in
                  <work dir>/runtime: privilege separation is kept
               4. FALLBACK no interpreter it can run: ansible runs as the agent's own user
                  with the rlimits only; logged at start-up and written into every job's
                  ``reason`` (never silent)

Every runtime is checked by running it as that user (:func:`probe`): it imports ansible and
reads the script and the callback the way a job would, so ACLs, ``noexec`` mounts and the like
are judged as they are, not guessed from mode bits. The work dir is judged by its mode bits
(:func:`~server_agent.jobs.runas.blocked_at`, which also names the directory that blocks).
Nothing outside the agent's own state and work dirs is ever chmod-ed: a user's home stays as
it is.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import pwd
import shutil
import site
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Literal

from server_agent.jobs.errors import SandboxError
from server_agent.jobs.runas import RunUser, blocked_at, why_blocked

log = logging.getLogger("flypack.jobs")

VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
SYSTEM_PYTHONS: tuple[str, ...] = (f"/usr/bin/python{VERSION}", f"/usr/local/bin/python{VERSION}")
TEMP_PARENTS: tuple[str, ...] = ("/tmp", "/var/tmp")
RUNTIME_ROOTS = ("ansible-core",)  # what ansible-playbook needs, with its requirements
RUNTIME_SKIP = ("ansible_test/",)  # ansible-core's test harness: never run by a playbook
PROBE_TIMEOUT_S = 60.0

Kind = Literal["venv", "interpreter", "copy", "agent-user", "own-user"]


@dataclass(frozen=True)
class Runtime:
    """How ansible-playbook is started (after the sandbox dropped to the user)."""

    python: str  # the interpreter; also ansible_python_interpreter of local tasks
    playbook_bin: str  # the ansible-playbook script, run as ``python <script>``
    pythonpath: str | None = None  # ansible's packages, when python is not the venv's own
    callback_dir: str | None = None  # ansible-runner's callback (AWX_LIB_DIRECTORY) if moved
    bin_dir: str | None = None  # put first on PATH

    def env(self) -> dict[str, str]:
        out = {}
        if self.pythonpath:
            out["PYTHONPATH"] = self.pythonpath
        if self.callback_dir:
            out["AWX_LIB_DIRECTORY"] = self.callback_dir
        return out


@dataclass(frozen=True)
class RunPlan:
    user: RunUser | None  # who ansible runs as; None = the agent's own user
    runtime: Runtime
    work_dir: Path
    kind: Kind
    temporary_work_dir: bool = False  # created for this agent run, removed when it stops
    notes: tuple[str, ...] = ()  # each fallback taken, for the start-up log
    job_note: str = ""  # added to every job's reason: the sandbox is weaker than designed

    @property
    def separated(self) -> bool:
        return self.user is not None

    def summary(self) -> str:
        who = f"{self.user.name} (uid {self.user.uid})" if self.user else \
            f"the agent's own user ({_me()})"
        how = {"venv": "the agent's venv", "interpreter": "the agent's venv packages",
               "copy": f"a copy of ansible in {self.work_dir / 'runtime'}",
               "agent-user": "the agent's venv", "own-user": "the agent's venv"}[self.kind]
        tmp = " (temporary: removed when the agent stops)" if self.temporary_work_dir else ""
        return (f"ansible runs as {who} with {self.runtime.python} and {how}; "
                f"job dirs in {self.work_dir}{tmp}")


def _me() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return f"uid {os.geteuid()}"


# --- probing a runtime as the user -----------------------------------------------------------

_PROBE = r"""
import json, os, sys
out = {"version": "%d.%d" % sys.version_info[:2], "missing": []}
for p in json.loads(sys.argv[1]):
    ok = os.access(p, os.X_OK if os.path.isdir(p) else os.R_OK)
    if not ok:
        out["missing"].append(p)
try:
    import ansible, ansible.constants, jinja2, yaml
    out["ansible"] = ansible.__version__
except Exception as e:
    out["error"] = "%s: %s" % (type(e).__name__, e)
print(json.dumps(out))
"""


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    why: str = ""  # what failed, as the user saw it


Probe = Callable[[RunUser, "Runtime"], ProbeResult]


@functools.lru_cache(maxsize=64)
def probe(user: RunUser, rt: Runtime) -> ProbeResult:
    """Run ``rt.python`` as ``user`` (no supplementary groups, cwd /, a scratch HOME) with ``rt``'s
    PYTHONPATH: it must be python X.Y, import ansible and read the ansible-playbook script and
    the event callback. Cached: the answer does not change while the agent runs."""
    paths = [rt.playbook_bin, rt.callback_dir or _callback_dir()]
    try:
        with tempfile.TemporaryDirectory(prefix="flypack-probe-") as home:
            os.chown(home, user.uid, user.gid)  # ansible wants a writable ~/.ansible/tmp
            env = {"PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8", **rt.env()}
            res = subprocess.run(
                [rt.python, "-c", _PROBE, json.dumps(paths)],
                user=user.uid, group=user.gid, extra_groups=[], cwd="/", env=env,
                capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False)
    except PermissionError:
        return ProbeResult(False, f"cannot run {rt.python}: permission denied")
    except FileNotFoundError:
        return ProbeResult(False, f"no {rt.python}")
    except (OSError, subprocess.SubprocessError) as exc:
        return ProbeResult(False, f"cannot run {rt.python}: {exc}")
    try:
        out = json.loads(res.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        tail = (res.stderr or res.stdout).strip().splitlines()[-1:] or [f"exit {res.returncode}"]
        return ProbeResult(False, f"{rt.python} fails for it: {tail[0][:200]}")
    if out.get("version") != VERSION:
        return ProbeResult(False, f"{rt.python} is python {out.get('version')}, the agent's "
                                  f"packages are for {VERSION}")
    if out.get("missing"):
        return ProbeResult(False, "cannot read " + ", ".join(out["missing"]))
    if out.get("error"):
        return ProbeResult(False, f"{rt.python} cannot import ansible ({out['error'][:200]})")
    return ProbeResult(True)


# --- the venv's runtime and its copy -------------------------------------------------------

def _callback_dir() -> str:
    from ansible_runner.utils import get_callback_dir

    return str(get_callback_dir())


def venv_runtime() -> Runtime:
    """The agent's own: its python (the venv's, not resolved) and its ansible-playbook."""
    return Runtime(sys.executable, str(Path(sys.executable).with_name("ansible-playbook")),
                   bin_dir=str(Path(sys.executable).parent))


def interpreters(extra: Iterable[str] = ()) -> list[str]:
    """Interpreters of the agent's X.Y besides the venv's own, each real file once: the
    venv's base interpreter, then the system's."""
    out: list[str] = []
    seen: set[str] = set()
    for cand in [os.path.realpath(sys.executable), *extra, *SYSTEM_PYTHONS]:
        real = os.path.realpath(cand)
        if real in seen or not os.path.isfile(real):
            continue
        seen.add(real)
        out.append(cand)
    return out


def runtime_distributions(roots: Iterable[str] = RUNTIME_ROOTS) -> list[metadata.Distribution]:
    """The installed distributions ansible-playbook needs: ``roots`` and their requirements
    (markers evaluated for this interpreter, no extras), each once."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    todo = list(roots)
    found: dict[str, metadata.Distribution] = {}
    while todo:
        name = canonicalize_name(todo.pop())
        if name in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        found[name] = dist
        for req in dist.requires or []:
            r = Requirement(req)
            if r.marker is None or r.marker.evaluate({"extra": ""}):
                todo.append(r.name)
    return [found[k] for k in sorted(found)]


def _link_or_copy(src: Path, dest: Path) -> None:
    """A hard link where the file is world-readable already (the same inode: no space, and its
    mode is never touched), else a copy made world-readable."""
    if os.stat(src).st_mode & stat.S_IROTH:
        try:
            os.link(src, dest)
            return
        except OSError:  # another filesystem, protected_hardlinks, ...
            pass
    shutil.copyfile(src, dest)
    os.chmod(dest, 0o644)


def _stamp(dists: list[metadata.Distribution]) -> str:
    return json.dumps({"python": VERSION, "callback": _callback_dir(),
                       "dists": {d.metadata["Name"]: d.version for d in dists}}, sort_keys=True)


def copy_runtime(dest: Path) -> Runtime:
    """A root-owned, read-only (for others) copy of ansible-core's distributions (hard links
    where possible, see :func:`_link_or_copy`), the ansible-playbook script and ansible-runner's
    callback: ``dest/{site,callback,bin}``.
    Rebuilt only when the installed versions change (``dest/stamp.json``)."""
    dists = runtime_distributions()
    stamp = _stamp(dists)
    rt = Runtime(python="", playbook_bin=str(dest / "bin" / "ansible-playbook"),
                 pythonpath=str(dest / "site"), callback_dir=str(dest / "callback"),
                 bin_dir=str(dest / "bin"))
    stamp_file = dest / "stamp.json"
    if stamp_file.is_file() and stamp_file.read_text() == stamp:
        return rt
    t0 = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix=".runtime-", dir=dest.parent))
    try:
        os.chmod(tmp, 0o755)
        size = 0
        for dist in dists:
            for f in dist.files or []:
                rel = str(f)
                if rel.startswith("..") or rel.startswith(RUNTIME_SKIP) or os.path.isabs(rel):
                    continue
                src = Path(str(f.locate()))
                if not src.is_file():
                    continue
                out = tmp / "site" / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                _link_or_copy(src, out)
                size += src.stat().st_size
        shutil.copytree(_callback_dir(), tmp / "callback", copy_function=shutil.copyfile,
                        ignore=shutil.ignore_patterns("__pycache__"))
        for dirpath, _, filenames in os.walk(tmp / "callback"):
            for n in filenames:
                os.chmod(os.path.join(dirpath, n), 0o644)
        (tmp / "bin").mkdir()
        script = Path(sys.executable).with_name("ansible-playbook")
        (tmp / "bin" / "ansible-playbook").write_text(
            script.read_text() if script.is_file() else
            "import sys\nfrom ansible.cli.playbook import main\nsys.exit(main())\n")
        os.chmod(tmp / "bin" / "ansible-playbook", 0o644)
        for dirpath, dirnames, _ in os.walk(tmp):
            for n in dirnames:
                os.chmod(os.path.join(dirpath, n), 0o755)
        (tmp / "stamp.json").write_text(stamp)
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("jobs: copied ansible's runtime (%d distributions, %.0f MB) to %s in %.2f s",
             len(dists), size / 1e6, dest, time.monotonic() - t0)
    return rt


# --- the plan --------------------------------------------------------------------------------

OWNER_FILE = "agent.owner"  # in a temporary work dir: "<pid> <start time>" of its agent


def _start_time(pid: int) -> str | None:
    """The process's start time (clock ticks after boot): a PID with another start time is
    another process."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _stale(path: Path) -> bool:
    """A temporary work dir of an agent that is gone (killed: it could not remove it)."""
    try:
        st = path.lstat()
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
            return False
        pid, started = (path / OWNER_FILE).read_text().split()
    except (OSError, ValueError):
        return False
    return _start_time(int(pid)) != started


def temp_work_dir(user: RunUser, parents: Iterable[str] | None = None) -> Path:
    """A fresh work dir (mkdtemp: unique, the agent's, then 0711) under the first of
    ``parents`` (default: $TMPDIR, /tmp, /var/tmp) the user can enter, marked with this
    agent's PID and start time; those of agents that are gone are removed first."""
    if parents is None:
        parents = [tempfile.gettempdir(), *TEMP_PARENTS]
    tried = list(dict.fromkeys(parents))
    for parent in tried:
        if os.path.isdir(parent) and blocked_at(Path(parent), user) is None:
            for old in Path(parent).glob("flypack-jobs-*"):
                if _stale(old):
                    log.info("jobs: removing %s, the temporary work dir of an agent that is "
                             "gone", old)
                    shutil.rmtree(old, ignore_errors=True)
            path = Path(tempfile.mkdtemp(prefix="flypack-jobs-", dir=parent))
            os.chmod(path, 0o711)
            (path / OWNER_FILE).write_text(f"{os.getpid()} {_start_time(os.getpid())}\n")
            return path
    raise SandboxError(f"the playbook user {user.name!r} can enter none of {', '.join(tried)}",
                       "set [jobs] work_dir to a folder it can reach")


def plan_run(user: RunUser | None, default_work_dir: Path, configured_work_dir: Path | None,
             *, probe_fn: Probe | None = None,
             make_temp: Callable[[RunUser], Path] | None = None,
             copy_fn: Callable[[Path], Runtime] | None = None,
             candidates: Callable[[], list[str]] | None = None,
             venv: Callable[[], Runtime] | None = None,
             venv_site: Callable[[], list[str]] | None = None) -> RunPlan:
    """Decide who runs ansible, with what, and where (the module's docstring has the order).

    Raises SandboxError only when a configured ``[jobs] work_dir`` is out of the user's reach:
    every other gap has a fallback. The edges (probe, temp dir, copy, interpreters, the venv)
    are arguments, defaulting to this module's functions, so that tests can fake them.
    """
    probe_fn = probe_fn or probe
    make_temp = make_temp or temp_work_dir
    copy_fn = copy_fn or copy_runtime
    candidates = candidates or interpreters
    venv_site = venv_site or site.getsitepackages
    own = (venv or venv_runtime)()
    if user is None:  # the agent is not root: ansible runs as the agent's own user
        return RunPlan(None, own, configured_work_dir or default_work_dir, "own-user")
    notes: list[str] = []
    temporary = False
    if configured_work_dir is not None:
        if why := why_blocked(configured_work_dir, user):
            raise SandboxError(f"[jobs] work_dir {configured_work_dir}: the playbook user {why}",
                               "choose a folder it can reach, or unset work_dir (the agent "
                               "then picks one; docs/jobs.md)")
        work_dir = configured_work_dir
    elif why := why_blocked(default_work_dir, user):
        work_dir = make_temp(user)
        temporary = True
        notes.append(f"the playbook user {why}: job dirs go to {work_dir} instead (FALLBACK; "
                     "removed when the agent stops; set [jobs] work_dir to a folder it can "
                     "reach to keep them)")
    else:
        work_dir = default_work_dir
    work_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(work_dir, 0o711)  # the agent's own work dir: enterable, not listable
    tried: list[str] = []

    def attempt(rt: Runtime) -> bool:
        res = probe_fn(user, rt)
        if not res.ok and res.why not in tried:
            tried.append(res.why)
        return res.ok

    if attempt(own):
        return RunPlan(user, own, work_dir, "venv", temporary, tuple(notes))
    venv_why = tried[0] if tried else "?"
    pythons = candidates()
    sites = [p for p in venv_site() if os.path.isdir(p)]
    for py in pythons if sites else []:
        rt = Runtime(py, own.playbook_bin, os.pathsep.join(sites), bin_dir=own.bin_dir)
        if attempt(rt):
            notes.append(f"the playbook user cannot use the agent's venv python ({venv_why}): "
                         f"ansible runs on {py} with the venv's packages")
            return RunPlan(user, rt, work_dir, "interpreter", temporary, tuple(notes))
    copied: Runtime | None = None
    if pythons:
        copied = copy_fn(work_dir / "runtime")
        for py in pythons:
            rt = Runtime(py, copied.playbook_bin, copied.pythonpath, copied.callback_dir,
                         copied.bin_dir)
            if attempt(rt):
                notes.append(f"the playbook user cannot use the agent's venv ({venv_why}): "
                             f"ansible runs on {py} from a read-only copy of its packages in "
                             f"{work_dir / 'runtime'} (FALLBACK; privilege separation kept)")
                return RunPlan(user, rt, work_dir, "copy", temporary, tuple(notes))
    # no interpreter the user can run: the agent's own user, with the rlimits (never silently)
    if temporary:
        shutil.rmtree(work_dir, ignore_errors=True)
    elif copied is not None:
        shutil.rmtree(work_dir / "runtime", ignore_errors=True)
    why = "; ".join(tried) or f"no python {VERSION} found"
    me = _me()
    job_note = (f"ran as {me} (the agent's user), not {user.name}: {user.name} cannot run "
                f"python {VERSION} here (FALLBACK; rlimits applied; docs/jobs.md)")
    notes = [f"the playbook user {user.name!r} cannot run ansible ({why}): FALLBACK: ansible "
             f"runs as {me}, the agent's own user, with the rlimits only (no privilege "
             f"separation); every job's reason says so. To keep the separation, install the "
             f"agent where {user.name!r} can reach it (docs/jobs.md)"]
    final = configured_work_dir or default_work_dir
    return RunPlan(None, own, final, "agent-user", False, tuple(notes), job_note)
