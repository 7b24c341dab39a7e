"""Preflight: can this machine become a flypack server? One read-only script over SSH, then
pure decisions (unit-tested) -> a list of checks, each ok / warn / fail with what to do.

    facts = gather(ssh, become_password=..., mirror="http://127.0.0.1:8000/debian")
    checks = evaluate(facts, has_bundle=True)
    blocked = any(c.status == "fail" for c in checks)

Never probes the internet: package sources are an offline bundle carried by the laptop, or a
mirror the technician configured (asked from the target, with a bounded timeout).
"""

from __future__ import annotations

import re
import shlex
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from desktop.provisioning.errors import ProvisionError, RemoteCommandFailed

if TYPE_CHECKING:
    from desktop.provisioning.ssh import SshSession

__all__ = ["Check", "Facts", "evaluate", "gather", "mirror_probe", "parse_facts", "run"]

OK, WARN, FAIL = "ok", "warn", "fail"
GIB = 1024 ** 3
MIN_RAM, GOOD_RAM = 1 * GIB, 2 * GIB  # the stack (VictoriaMetrics, Grafana) wants 2 GiB
MIN_DISK, GOOD_DISK = 1 * GIB, 10 * GIB  # packages + bundle need ~1 GiB; history grows
SKEW_WARN_S, SKEW_FAIL_S = 2.0, 120.0  # TLS validity and JWT lifetimes need close clocks
ARCHES = {"x86_64": "amd64", "aarch64": "arm64"}

# POSIX sh; only reads. Each fact is one "key=value" line.
SCRIPT = r"""
if [ -r /etc/os-release ]; then . /etc/os-release; fi
echo "os_id=${ID:-}"; echo "os_version=${VERSION_ID:-}"; echo "os_name=${PRETTY_NAME:-}"
echo "arch=$(uname -m)"
awk '/^MemTotal:/ {print "mem_kb=" $2}' /proc/meminfo 2>/dev/null
echo "disk_kb=$(df -Pk /var 2>/dev/null | awk 'NR==2 {print $4}')"
echo "uid=$(id -u)"
if command -v sudo >/dev/null 2>&1; then echo have_sudo=1
  if sudo -n true >/dev/null 2>&1; then echo sudo_nopasswd=1; else echo sudo_nopasswd=0; fi
else echo have_sudo=0; fi
if command -v python3 >/dev/null 2>&1; then echo "python3=$(python3 -V 2>&1)"; fi
for f in /etc/flypack/agent.toml /opt/flypack /etc/systemd/system/flypack-agent.service; do
  if [ -e "$f" ]; then echo "flypack_path=$f"; fi
done
for i in /sys/class/net/*; do n=${i##*/}; [ "$n" = lo ] || echo "iface=$n"; done
ip -o -4 addr show 2>/dev/null | awk '$2 != "lo" {print "addr=" $2 " " $4}'
grep -hsE '^(deb |URIs:)' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
  | head -n 4 | sed 's/^/apt_source=/'
echo "now=$(date +%s.%N)"
"""


@dataclass(frozen=True)
class Check:
    key: str
    title: str
    status: str  # ok | warn | fail
    detail: str
    hint: str = ""


@dataclass
class Facts:
    values: dict[str, str] = field(default_factory=dict)
    multi: dict[str, list[str]] = field(default_factory=dict)
    skew_s: float | None = None  # target clock minus laptop clock
    sudo_with_password: bool | None = None  # None: not tried
    mirror: str | None = None
    mirror_answer: str | None = None  # HTTP status line, or None when it did not answer

    def get(self, key: str) -> str:
        return self.values.get(key, "")

    def number(self, key: str) -> int | None:
        v = self.get(key)
        return int(v) if v.isdigit() else None


def parse_facts(text: str) -> Facts:
    facts = Facts()
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[a-z0-9_]+", key):
            continue
        value = value.strip()
        facts.values.setdefault(key, value)
        facts.multi.setdefault(key, []).append(value)
    return facts


_HOST = re.compile(r"[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\]")


def mirror_probe(url: str) -> str:
    """A bash command that asks ``url`` (http only) from the target, bounded to 5 s."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or not _HOST.fullmatch(parts.hostname):
        raise ProvisionError(f"the mirror {url!r} is not an http:// URL with a host name",
                             "enter it as http://host[:port]/path (e.g. an apt-cacher-ng)")
    port = parts.port or 80
    path = parts.path or "/"
    request = f"HEAD {path} HTTP/1.0\r\nHost: {parts.hostname}\r\n\r\n"
    inner = (f"exec 3<>/dev/tcp/{parts.hostname}/{port} && printf %s {shlex.quote(request)} >&3 "
             "&& head -n 1 <&3")
    return (f"timeout 5 bash -c {shlex.quote(inner)} 2>/dev/null | tr -d '\\r' "
            "| sed 's/^/mirror_answer=/'")


def gather(ssh: SshSession, *, become_password: str | None = None,
           mirror: str | None = None) -> Facts:
    """Run the read-only script on the target (as the login user) and measure clock skew."""
    before = time.time()
    rc, out, err = ssh.run("sh -s", stdin=SCRIPT, timeout=60)
    after = time.time()
    if rc != 0 and "now=" not in out:
        raise RemoteCommandFailed(f"the checks could not run on the target (exit {rc}): "
                                  f"{err.strip()[:200]}",
                                  "make sure the user has a normal POSIX shell (sh)")
    facts = parse_facts(out)
    try:  # the target read its clock somewhere in the round trip: compare with the middle
        facts.skew_s = float(facts.get("now")) - (before + after) / 2
    except ValueError:
        facts.skew_s = None
    needs_password = facts.get("uid") != "0" and facts.get("sudo_nopasswd") != "1"
    if needs_password and facts.get("have_sudo") == "1" and become_password:
        rc, _, _ = ssh.run("sudo -S -k -p '' true", stdin=become_password + "\n", timeout=30)
        facts.sudo_with_password = rc == 0
    if mirror:
        facts.mirror = mirror
        _, answer, _ = ssh.run(mirror_probe(mirror), timeout=15)
        facts.mirror_answer = parse_facts(answer).get("mirror_answer") or None
    return facts


def _gib(n: float) -> str:
    return f"{n / GIB:.1f} GiB"


def _os(f: Facts) -> Check:
    name = f.get("os_name") or f.get("os_id") or "unknown"
    if f.get("os_id") == "debian" and f.get("os_version") == "12":
        return Check("os", "Operating system", OK, name)
    return Check("os", "Operating system", FAIL, f"{name} — flypack servers run Debian 12 "
                 "(bookworm)", "install Debian 12 on this machine (netinst or the flypack "
                 "image), then run the wizard again")


def _arch(f: Facts) -> Check:
    arch = f.get("arch") or "unknown"
    if arch in ARCHES:
        return Check("arch", "Architecture", OK, f"{arch} ({ARCHES[arch]})")
    return Check("arch", "Architecture", FAIL, f"{arch} is not supported",
                 "use a 64-bit x86 (amd64) or ARM (arm64) machine")


def _ram(f: Facts) -> Check:
    kb = f.number("mem_kb")
    if kb is None:
        return Check("ram", "Memory", WARN, "could not read /proc/meminfo",
                     "make sure the machine has at least 2 GiB of RAM")
    n = kb * 1024
    if n < MIN_RAM:
        return Check("ram", "Memory", FAIL, f"{_gib(n)} RAM",
                     f"give the machine at least {_gib(GOOD_RAM)} of RAM")
    if n < GOOD_RAM * 0.95:  # "2 GiB" machines report a little less
        return Check("ram", "Memory", WARN, f"{_gib(n)} RAM: the monitoring stack may swap",
                     f"{_gib(GOOD_RAM)} or more is recommended")
    return Check("ram", "Memory", OK, f"{_gib(n)} RAM")


def _disk(f: Facts) -> Check:
    kb = f.number("disk_kb")
    if kb is None:
        return Check("disk", "Disk space", WARN, "could not read the free space of /var",
                     f"make sure /var has at least {_gib(GOOD_DISK)} free")
    n = kb * 1024
    if n < MIN_DISK:
        return Check("disk", "Disk space", FAIL, f"{_gib(n)} free on /var",
                     f"free at least {_gib(MIN_DISK)} on /var (apt-get clean, remove old "
                     "logs) or grow the disk, then run the checks again")
    if n < GOOD_DISK:
        return Check("disk", "Disk space", WARN, f"{_gib(n)} free on /var",
                     f"history needs room: {_gib(GOOD_DISK)} or more is recommended")
    return Check("disk", "Disk space", OK, f"{_gib(n)} free on /var")


def _privileges(f: Facts) -> Check:
    if f.get("uid") == "0":
        return Check("sudo", "Administrator rights", OK, "logged in as root")
    if f.get("have_sudo") != "1":
        return Check("sudo", "Administrator rights", FAIL,
                     "not root and sudo is not installed",
                     "log in as root, or install sudo and add this user to the sudo group")
    if f.get("sudo_nopasswd") == "1":
        return Check("sudo", "Administrator rights", OK, "sudo without a password")
    if f.sudo_with_password:
        return Check("sudo", "Administrator rights", OK, "sudo with the given password")
    if f.sudo_with_password is False:
        return Check("sudo", "Administrator rights", FAIL, "sudo refused the given password",
                     "check the sudo password; the user must be in the sudo group")
    return Check("sudo", "Administrator rights", FAIL, "sudo needs a password",
                 "enter the sudo password on the first page (or log in as root)")


def _existing(f: Facts) -> Check:
    paths = f.multi.get("flypack_path", [])
    if not paths:
        return Check("existing", "Existing flypack install", OK, "none — a fresh install")
    return Check("existing", "Existing flypack install", WARN,
                 f"found {', '.join(paths)}",
                 "the deploy updates it in place and keeps its state and users; continue "
                 "only if this is the flypack you mean")


def _clock(f: Facts) -> Check:
    if f.skew_s is None:
        return Check("clock", "Clock", WARN, "could not read the target's clock",
                     "make sure its date is right (date -u)")
    s = abs(f.skew_s)
    detail = f"{s:.1f} s {'ahead of' if f.skew_s > 0 else 'behind'} this laptop"
    if s <= SKEW_WARN_S:
        return Check("clock", "Clock", OK, detail)
    fix = "set it: sudo date -u -s @$(date +%s) (from this laptop's time), and give it NTP"
    if s <= SKEW_FAIL_S:
        return Check("clock", "Clock", WARN, detail, fix)
    return Check("clock", "Clock", FAIL, detail + ": certificates and logins would fail", fix)


def _packages(f: Facts, has_bundle: bool) -> Check:
    sources = "; ".join(f.multi.get("apt_source", [])) or "none"
    if has_bundle:
        return Check("packages", "Packages", OK, "the offline bundle on this laptop will be "
                     f"copied to the target (its apt sources: {sources})")
    if f.mirror and f.mirror_answer and " 200" in f.mirror_answer + " ":
        return Check("packages", "Packages", OK, f"the mirror {f.mirror} answers from the "
                     f"target ({f.mirror_answer})")
    if f.mirror:
        return Check("packages", "Packages", FAIL, f"the mirror {f.mirror} does not answer "
                     f"from the target ({f.mirror_answer or 'no answer in 5 s'})",
                     "fix the mirror address, or choose the offline bundle on the first page")
    return Check("packages", "Packages", FAIL, "offline bundle required: no offline bundle "
                 f"chosen and no mirror configured (target's apt sources: {sources})",
                 "choose the offline bundle (flypack-bundle-*.tar, built by `python -m "
                 "desktop.provisioning.bundle`) on the first page, or enter a package "
                 "mirror the target can reach")


def _python(f: Facts) -> Check:
    v = f.get("python3")
    return Check("python", "Python", OK, v if v else
                 "not installed — the deploy's bootstrap step installs it")


def evaluate(f: Facts, *, has_bundle: bool) -> list[Check]:
    return [_os(f), _arch(f), _ram(f), _disk(f), _privileges(f), _existing(f), _clock(f),
            _python(f), _packages(f, has_bundle)]


def run(ssh: SshSession, *, has_bundle: bool, become_password: str | None = None,
        mirror: str | None = None) -> list[Check]:
    return evaluate(gather(ssh, become_password=become_password, mirror=mirror),
                    has_bundle=has_bundle)
