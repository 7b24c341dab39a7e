"""Every command a user can type: each `flypack-agent` and `flypack-desktop` subcommand, found
in the real argparse parsers (a new subcommand without cases here fails the first test), runs

  - with --help: exit 0, its own usage line, every one of its options listed and explained;
  - with real input: exit codes as documented (design §8, docs/srt.md, docs/wizard.md,
    docs/discovery.md): ts-analyze on a TS file, stream-check on a live UDP stream sent here,
    discover against the demo's own simulated segment, provision against a real sshd ...;
  - with bad input: one clear line on stderr, exit 2.

Never a traceback: every run's stderr is checked for one. Everything runs on 127.0.0.0/8;
every process and sender started here is bounded and stopped by its PID.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.journeys.demo_run import DemoRun
from tests.support import ROOT, free_port, require_binary, stop_process, write_config
from tests.ts_synth import RATE, build

BIN = Path(sys.executable).parent
AGENT, DESKTOP = "flypack-agent", "flypack-desktop"


# --- the commands, from the real parsers ----------------------------------------------------

def _leaves(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
            ) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every runnable command: leaf subparsers, and a parser whose subcommand is optional."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs or not subs[0].required:
        yield prefix, parser
    for action in subs:
        for name, sub in action.choices.items():
            yield from _leaves(sub, (*prefix, name))


def _parsers() -> dict[str, argparse.ArgumentParser]:
    from desktop.app import build_parser as desktop_parser
    from server_agent.cli import build_parser as agent_parser

    out: dict[str, argparse.ArgumentParser] = {}
    for prog, parser in ((AGENT, agent_parser()), (DESKTOP, desktop_parser())):
        for cmd, sub in _leaves(parser):
            out[" ".join((prog, *cmd))] = sub
    return out


PARSERS = _parsers()


@dataclass
class Run:
    argv: list[str]
    code: int
    out: str
    err: str

    def __str__(self) -> str:
        return f"{' '.join(self.argv)} -> {self.code}\nstdout:\n{self.out}\nstderr:\n{self.err}"


def run(command: str, *args: str, stdin: str = "", timeout: float = 120,
        env: dict[str, str] | None = None) -> Run:
    prog, *cmd = command.split()
    argv = [str(BIN / prog), *cmd, *args]
    r = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout,
                       env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})},
                       cwd=ROOT)
    got = Run([command, *args], r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr, got
    return got


def one_line_error(r: Run, command: str) -> str:
    """exit 2 and exactly one line on stderr that names the program."""
    lines = [line for line in r.err.splitlines() if "propagateSizeHints" not in line]
    assert r.code == 2 and len(lines) == 1, r
    assert lines[0].startswith(command.split()[0]), r
    return lines[0]


# --- every command is covered ---------------------------------------------------------------

# command -> the test below that runs it with real input (or its documented refusal path)
REAL = {
    "flypack-agent serve": "test_serve_answers_then_stops_on_sigterm",
    "flypack-agent demo": "test_demo_refuses_a_port_in_use",
    "flypack-agent user add": "test_user_add_and_list",
    "flypack-agent user list": "test_user_add_and_list",
    "flypack-agent cert create": "test_cert_create_prints_the_fingerprint",
    "flypack-agent ts-analyze": "test_ts_analyze_a_real_ts_file",
    "flypack-agent stream-check": "test_stream_check_a_live_udp_stream",
    "flypack-agent discover": "test_discover_identifies_the_demos_own_segment",
    "flypack-desktop": "test_desktop_app_smoke",
    "flypack-desktop provision": "test_provision_against_a_real_sshd",
}

NOT_THERE = str(ROOT / "no-such-dir" / "agent.toml")
# command -> bad arguments and a fragment of the one-line error they must produce
BAD: dict[str, list[tuple[list[str], str]]] = {
    "flypack-agent serve": [(["--config", NOT_THERE], "no such file"),
                            (["--config", "x.toml", "--port", "0"], "not a port number"),
                            ([], "required: --config")],
    "flypack-agent demo": [(["--port", "99999"], "not a port number"),
                           (["--scale", "huge"], "invalid choice: 'huge'"),
                           (["--state-dir", "/proc/flypack-demo"], "--state-dir")],
    "flypack-agent user add": [(["bob", "--role", "admin", "--config", NOT_THERE],
                                "no such file"),
                               (["bob", "--role", "wizard", "--config", "x.toml"],
                                "invalid choice: 'wizard'")],
    "flypack-agent user list": [(["--config", NOT_THERE], "no such file")],
    "flypack-agent cert create": [(["--cert", "/etc/passwd/c.pem", "--key", "/etc/passwd/k"],
                                   "choose a writable place"),
                                  (["--cert", "c.pem"], "required: --key")],
    "flypack-agent ts-analyze": [([NOT_THERE], "cannot read"),
                                 (["/etc/hostname"], "is not an MPEG-TS file"),
                                 ([], "required: FILE")],
    "flypack-agent stream-check": [(["http://example.invalid/x"], "unknown scheme 'http'"),
                                   (["udp://@:5000", "--seconds", "0"], "--seconds"),
                                   (["udp://@:5000", "--dscp", "99"], "--dscp")],
    "flypack-agent discover": [(["banana"], "is not a CIDR"),
                               (["127.0.0.0/8"], "more than the limit"),
                               (["127.77.1.0/30", "--snmp-version", "2"], "use 2c, 3"),
                               (["127.77.1.0/30", "--snmp-port", "70000"], "not a UDP port")],
    "flypack-desktop": [(["--log-level", "LOUD"], "invalid choice: 'LOUD'"),
                        (["bogus"], "invalid choice: 'bogus'")],
    "flypack-desktop provision": [(["--host", "127.0.0.1", "--settings", NOT_THERE],
                                   "cannot read the settings"),
                                  (["--host", "127.0.0.1", "--settings", "s.json", "--port",
                                    "0"], "not a port number"),
                                  (["--settings", "s.json"], "required: --host")],
}


def test_every_command_has_help_real_and_bad_input_cases() -> None:
    commands = set(PARSERS)
    # the parsers really are enumerated (nested ones included), not a copy of this table
    assert {"flypack-agent user add", "flypack-agent cert create",
            "flypack-desktop provision", "flypack-agent ts-analyze"} <= commands
    missing_real = sorted(commands - set(REAL))
    missing_bad = sorted(commands - set(BAD))
    assert not missing_real and not missing_bad, (
        f"commands without a real-input case here: {missing_real}; without a bad-input "
        f"case: {missing_bad}: add them to REAL / BAD")
    assert set(REAL) == set(BAD) == commands  # and no stale entries
    names = {n for n, v in globals().items() if n.startswith("test_") and callable(v)}
    assert set(REAL.values()) <= names


@pytest.mark.parametrize("command", sorted(PARSERS))
def test_help_lists_and_explains_every_option(command: str) -> None:
    r = run(command, "--help")
    assert r.code == 0 and r.err == "", r
    assert r.out.startswith(f"usage: {command} "), r  # its own help, not the program's
    parser = PARSERS[command]
    undocumented = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction | argparse._HelpAction):
            continue
        names = action.option_strings or [str(action.metavar or action.dest)]
        assert all(n in r.out for n in names), (names, r)
        if not action.help:
            undocumented.append(names[0])
    assert not undocumented, f"{command}: options without a help text: {undocumented}"


CASES = [(c, argv, msg) for c, cases in sorted(BAD.items()) for argv, msg in cases]


@pytest.mark.parametrize(("command", "argv", "message"), CASES,
                         ids=[f"{c} {' '.join(a)}" for c, a, _ in CASES])
def test_bad_input_is_one_clear_line_and_exit_2(command: str, argv: list[str], message: str,
                                               tmp_path: Path) -> None:
    line = one_line_error(run(command, *argv), command)
    assert message in line, line


# --- real input -----------------------------------------------------------------------------

def test_serve_answers_then_stops_on_sigterm(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, free_port())
    port = free_port()  # --port overrides [agent].port
    err = tmp_path / "serve.err"
    with err.open("w") as fh:
        proc = subprocess.Popen([str(BIN / AGENT), "serve", "--config", str(cfg), "--port",
                                 str(port)], stdout=subprocess.DEVNULL, stderr=fh)
    try:
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        assert health is not None and health.json()["status"] == "ok", err.read_text()
        proc.send_signal(signal.SIGTERM)
        # a clean stop: uvicorn shuts down, then re-raises the signal it caught (the Unix
        # convention; systemd counts death by SIGTERM as a clean exit)
        assert proc.wait(30) in (0, -signal.SIGTERM)
    finally:
        stop_process(proc)
    assert "Traceback" not in err.read_text()


def test_the_simulator_runs_alone_as_documented(tmp_path: Path) -> None:
    """docs/configuration.md: `python -m server_agent.sim --scale seed --devices devices.toml`
    (beside the session's demo, so on the next free block): it writes the seed's 174
    devices for an agent's config, serves them, and stops cleanly on Ctrl-C."""
    env = dict(os.environ, PATH=f"{BIN}:{os.environ.get('PATH', '')}")
    err = tmp_path / "sim.err"
    with err.open("w") as fh:
        proc = subprocess.Popen(["python", "-m", "server_agent.sim", "--scale", "seed",
                                 "--devices", "devices.toml"], cwd=tmp_path, env=env,
                                stdout=subprocess.DEVNULL, stderr=fh)
    devices = tmp_path / "devices.toml"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:  # bounded
            if devices.exists() and devices.read_text().count("[[devices]]") == 174:
                break
            time.sleep(0.3)
        text = devices.read_text() if devices.exists() else ""
        assert text.count("[[devices]]") == 174, err.read_text()
        first = re.search(r'address = "(127\.\d+\.1\.1)"', text)
        assert first, text[:500]
        echo = re.search(r'"udp:(\d+)"', text)
        assert echo, text[:500]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:  # enc-01 answers
            s.settimeout(5)
            s.sendto(b"ping", (first.group(1), int(echo.group(1))))
            assert s.recvfrom(64)[0] == b"ping"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0, err.read_text()
    finally:
        stop_process(proc)
    assert "Traceback" not in err.read_text()


@pytest.mark.timeout(400)  # the session's demo may start first (up to 4 minutes)
def test_demo_refuses_a_port_in_use(demo: DemoRun) -> None:
    """A second full demo is not started here: it costs a core for minutes and the session's
    demo already runs the same code (scripts/demo.py -> run_demo, as `flypack-agent demo`).
    Its refusal path is exercised: the port of the running demo is in use."""
    line = one_line_error(run(f"{AGENT} demo", "--port", str(demo.port)), AGENT)
    assert f"port {demo.port}" in line and "in use" in line and "--port" in line


def test_user_add_and_list(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, free_port())
    r = run(f"{AGENT} user add", "alice", "--role", "operator", "--config", str(cfg),
            stdin="long-enough-1\n")
    assert (r.code, r.out.strip()) == (0, "user alice added with role operator"), r
    assert "too short" in one_line_error(
        run(f"{AGENT} user add", "bob", "--role", "viewer", "--config", str(cfg),
            stdin="short\n"), AGENT)
    r = run(f"{AGENT} user list", "--config", str(cfg))
    assert (r.code, r.out) == (0, "alice\toperator\n"), r


def test_cert_create_prints_the_fingerprint(tmp_path: Path) -> None:
    cert, key = tmp_path / "agent.crt", tmp_path / "agent.key"
    r = run(f"{AGENT} cert create", "--cert", str(cert), "--key", str(key), "--host",
            "127.0.0.1")
    assert r.code == 0, r
    fp = r.out.split("SHA-256 fingerprint: ")[1].strip()
    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", fp), r
    assert (key.stat().st_mode & 0o777) == 0o600
    again = run(f"{AGENT} cert create", "--cert", str(cert), "--key", str(key))
    assert "--force" in one_line_error(again, AGENT)


def _ts(packets: list[bytearray]) -> bytes:
    return b"".join(bytes(p) for p in packets)


def _drop_video_payload(packets: list[bytearray], every: int) -> list[bytearray]:
    """Every ``every``-th packet of PID 0x100 that carries payload is lost: CC errors."""
    out, n = [], 0
    for p in packets:
        if (p[1] & 0x1F, p[2]) == (0x01, 0x00) and p[3] & 0x10:
            n += 1
            if n % every == 0:
                continue
        out.append(p)
    return out


def test_ts_analyze_a_real_ts_file(tmp_path: Path) -> None:
    clean, damaged = tmp_path / "clean.ts", tmp_path / "damaged.ts"
    clean.write_bytes(_ts(build(2.0)))
    damaged.write_bytes(_ts(_drop_video_payload(build(2.0), 50)))
    r = run(f"{AGENT} ts-analyze", str(clean))
    assert r.code == 0 and "TR 101 290" in r.out and "PIDs:" in r.out, r
    r = run(f"{AGENT} ts-analyze", str(clean), "--json")
    doc = json.loads(r.out)
    assert r.code == 0 and doc["priority1_ok"] is True and doc["packets"] == 2000, r
    assert set(doc["tr101290"].values()) == {0}
    # exit 0 whatever the analysis found (design §8): errors are in the report
    r = run(f"{AGENT} ts-analyze", str(damaged), "--json")
    doc = json.loads(r.out)
    assert r.code == 0 and doc["tr101290"]["continuity_count_error"] > 0, r
    assert doc["priority1_ok"] is False
    # could not analyse: empty and truncated files
    (tmp_path / "empty.ts").write_bytes(b"")
    assert "is empty" in one_line_error(run(f"{AGENT} ts-analyze", str(tmp_path / "empty.ts")),
                                        AGENT)
    (tmp_path / "cut.ts").write_bytes(clean.read_bytes()[:188 * 40 + 100])
    assert "truncated" in one_line_error(run(f"{AGENT} ts-analyze", str(tmp_path / "cut.ts")),
                                         AGENT)


class UdpSender:
    """A paced CBR TS sender to 127.0.0.1:port (7 packets a datagram) until stopped, at most
    60 s (the data lasts 60 s: never looped, so no false CC jump at a loop point)."""

    def __init__(self, port: int, packets: list[bytearray]) -> None:
        self.port, self.data = port, _ts(packets)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._send, daemon=True)

    def _send(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            t0 = time.monotonic()
            for n, off in enumerate(range(0, len(self.data), 1316)):
                if self.stop.is_set() or time.monotonic() - t0 > 60:
                    return
                s.sendto(self.data[off:off + 1316], ("127.0.0.1", self.port))
                wait = t0 + (n + 1) * 1316 * 8 / RATE - time.monotonic()
                if wait > 0:
                    time.sleep(wait)

    def __enter__(self) -> UdpSender:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)


def test_stream_check_a_live_udp_stream() -> None:
    """Exit codes of design §8 and docs/srt.md: 0 the check ran (whatever it found), 1 alarms
    with --fail-on-alarm, 2 it could not run (here: nothing arrived)."""
    port = free_port(kind=socket.SOCK_DGRAM)
    with UdpSender(port, build(60.0)):
        r = run(f"{AGENT} stream-check", f"udp://@127.0.0.1:{port}", "--seconds", "1",
                "--json")
    doc = json.loads(r.out)
    assert r.code == 0 and doc["bitrate_bps"] > 0 and "tr101290" in doc, r
    port = free_port(kind=socket.SOCK_DGRAM)
    with UdpSender(port, _drop_video_payload(build(60.0), 20)):
        r = run(f"{AGENT} stream-check", f"udp://@127.0.0.1:{port}", "--seconds", "1",
                "--fail-on-alarm")
    assert r.code == 1 and "tr101290 continuity_count_error" in r.out.split("alarms: ")[1], r
    silent = f"udp://@127.0.0.1:{free_port(kind=socket.SOCK_DGRAM)}"
    line = one_line_error(run(f"{AGENT} stream-check", silent, "--seconds", "1"), AGENT)
    assert "no datagram arrived" in line


@pytest.mark.timeout(400)  # the session's demo may start first (up to 4 minutes)
def test_discover_identifies_the_demos_own_segment(demo: DemoRun) -> None:
    """As a user would, without knowing the simulator's SNMP port (issue 14 finding 8)."""
    sim = demo.api("GET", "/api/v1/sim/devices").json()
    want = {d["address"]: d for d in sim if d["role"] in ("decoder", "router")}
    nets = sorted({str(ipaddress.ip_network(f"{a}/29", strict=False)) for a in want})
    r = run(f"{AGENT} discover", *nets, "--no-mdns", timeout=180)
    assert r.code == 0, r
    lines = r.out.splitlines()
    assert lines[0].split()[:3] == ["ADDRESS", "MAC", "ROLE"], r  # a header
    found = {line.split()[0]: line.split() for line in lines[1:-1]}
    assert set(want) <= set(found), r
    for address, d in want.items():
        assert found[address][2] == d["role"], (d, found[address])
        assert d["name"] in found[address] and "snmp" in found[address][-1], found[address]


def test_desktop_app_smoke(tmp_path: Path) -> None:
    r = run(DESKTOP, "--smoke", "--config-dir", str(tmp_path / "cfg"))
    assert r.code == 0 and "main window ready" in r.out, r


def test_provision_against_a_real_sshd(tmp_path: Path) -> None:
    """Documented (docs/wizard.md): without --host-key it prints the fingerprint and stops
    (exit 2); a failed check stops before anything changes (exit 2). A full deploy needs a
    fresh VM: the slow provisioning tier (tests/provision) does that."""
    from tests.jobs_support import sshd

    keygen = require_binary("ssh-keygen")
    settings = tmp_path / "fp.json"
    settings.write_text(json.dumps({
        "flypack_id": "flypack-cli", "mgmt_interface": "eth1",
        "mgmt_address": "198.51.100.10/24",
        "monitored": [{"interface": "eth2", "address": "203.0.113.10/24"}]}))
    with sshd(tmp_path) as (port, key_text):
        key = tmp_path / "client_key"
        key.write_text(key_text)
        key.chmod(0o600)
        printed = subprocess.run([keygen, "-lf", str(tmp_path / "sshd" / "host_key.pub")],
                                 check=True, capture_output=True, text=True).stdout.split()[1]
        base = ["--host", "127.0.0.1", "--port", str(port), "--key", str(key), "--settings",
                str(settings), "--workdir", str(tmp_path / "runs")]
        r = run(f"{DESKTOP} provision", *base)
        assert r.code == 2 and printed in r.out and "--host-key" in r.out, r
        r = run(f"{DESKTOP} provision", *base, "--host-key", printed)
        assert r.code == 2 and "check fail" in r.out, r
    assert not (tmp_path / "runs").exists()  # the deploy never started
