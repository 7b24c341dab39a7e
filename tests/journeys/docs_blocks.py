"""The shell blocks of README.md and docs/*.md, for the docs-as-tests journey.

    parse(path)        every fenced block, with the marker on the line before it
    Block.is_shell     ```sh / bash / shell / console, or unlabelled with a command first
    Block.problems()   a marker without a reason or on a block that is not shell; an unknown
                       run option; in a block that runs: a hard-coded demo URL, or a command
                       that would change the host (/etc, systemctl, apt, ...): never run
    Block.script()     what bash runs (placeholders substituted); Block.expected(): the output
                       a ```console block shows
    matches(out, exp)  each expected line in order; "..." in a line matches any text

The convention (docs/architecture.md, "Docs as tests"):
    <!-- illustrative: <reason> -->   the next block is not run; the reason says why
    <!-- run: cwd=repo timeout=90 --> the next block runs in the repository (not a temporary
                                      directory) and may take up to 90 s (default 60, max 300)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

SHELL_INFO = {"sh", "bash", "shell", "console", "zsh"}
COMMANDS = ("make", "curl", "flypack-agent", "flypack-desktop", "python", "python3",
            "ansible-playbook", "ansible", "systemctl", "docker", "docker-compose", "export",
            "cd", "git", "pip", "apt", "apt-get", "sudo", "printf", "echo", "ssh", "scp",
            "journalctl", "promtool", "victoria-metrics", ". .venv/bin/activate")
LOOKS_LIKE_COMMAND = re.compile(
    r"^(\$ |(" + "|".join(re.escape(c) for c in COMMANDS) + r")(\s|$)|[A-Z_][A-Z0-9_]*=\S)")
MARKER = re.compile(r"^ {0,3}<!--\s*(illustrative|run)\s*:?\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([^`\s]*)")
HARD_URL = re.compile(r"https?://(127\.0\.0\.1|localhost):\d+")
# a block that would change the host the tests run on (as root in CI) is never run: it must be
# marked illustrative
HOST_CHANGING = re.compile(
    r"(^|[\s='\"])/(etc|usr|var|opt|srv|boot|root)/|\bsystemctl\b|\bsudo\b|\bapt(-get)?\b|"
    r"\bdpkg\b|\buseradd\b|\bmkfs|\bip\s+(link|addr|route|netns)\b|\bnft\b|\biptables\b|"
    r"\bansible-playbook\b|\bdocker(-compose)?\b")
RUN_OPTIONS = {"cwd": {"tmp", "repo"}}
DEFAULT_TIMEOUT_S, MAX_TIMEOUT_S = 60, 300


@dataclass
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    info: str
    lines: list[str]
    marker: str = ""  # "illustrative" | "run" | ""
    marker_text: str = ""
    options: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.line}"

    @property
    def is_shell(self) -> bool:
        if self.info:
            return self.info.lower() in SHELL_INFO
        first = next((ln.strip() for ln in self.lines if ln.strip()), "")
        return bool(LOOKS_LIKE_COMMAND.match(first))

    @property
    def runs(self) -> bool:
        return self.is_shell and self.marker != "illustrative"

    @property
    def timeout_s(self) -> int:
        return int(self.options.get("timeout", DEFAULT_TIMEOUT_S))

    def problems(self) -> list[str]:
        out = []
        if self.marker and not self.is_shell:
            out.append(f"{self.where}: <!-- {self.marker}: --> sits on a block that is not "
                       "a shell block (label it ```sh, or remove the marker)")
        if self.marker == "illustrative" and len(self.marker_text) < 10:
            out.append(f"{self.where}: <!-- illustrative: ... --> needs its reason (say why "
                       "this block cannot run against the demo)")
        for key, value in self.options.items():
            if key == "timeout":
                if not value.isdigit() or not 0 < int(value) <= MAX_TIMEOUT_S:
                    out.append(f"{self.where}: run option timeout={value}: want 1 to "
                               f"{MAX_TIMEOUT_S} seconds")
            elif key not in RUN_OPTIONS or value not in RUN_OPTIONS[key]:
                out.append(f"{self.where}: unknown run option {key}={value} (known: "
                           "cwd=tmp|repo, timeout=SECONDS)")
        if self.runs and (m := HARD_URL.search("\n".join(self.lines))):
            out.append(f"{self.where}: hard-coded {m.group(0)}: the demo prints its own URL; "
                       "write \"$FLYPACK_URL\" (or mark the block illustrative)")
        if self.runs and (m := HOST_CHANGING.search("\n".join(self.lines))):
            out.append(f"{self.where}: {m.group(0).strip()!r} would change the host the "
                       "tests run on: not run; mark the block illustrative with the reason")
        return out

    def _console(self) -> tuple[list[str], list[str]]:
        cmds: list[str] = []
        expected: list[str] = []
        cont = False
        for ln in self.lines:
            if ln.startswith("$ ") or (cont and cmds):
                cmds.append(ln[2:] if ln.startswith("$ ") else ln.removeprefix("> "))
                cont = ln.rstrip().endswith("\\")
            elif ln.strip():
                expected.append(ln.rstrip())
        return cmds, expected

    def script(self, subst: dict[str, str]) -> str:
        body = self._console()[0] if self.info == "console" else self.lines
        text = "\n".join(body) + "\n"
        for key, value in subst.items():
            text = text.replace(key, value)
        return text

    def expected(self, subst: dict[str, str]) -> list[str]:
        if self.info != "console":
            return []
        out = []
        for ln in self._console()[1]:
            for key, value in subst.items():
                ln = ln.replace(key, value)
            out.append(ln)
        return out


def _options(text: str) -> dict[str, str]:
    opts: dict[str, str] = {}
    for word in text.split():
        key, _, value = word.partition("=")
        opts[key] = value
    return opts


def parse(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = m.group(1), m.group(2), m.group(3)
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            j += 1
        body = [ln[len(indent):] if ln.startswith(indent) else ln.lstrip()
                for ln in lines[i + 1:j]]
        block = Block(path, i + 1, info, body)
        k = i - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        if k >= 0 and (mk := MARKER.match(lines[k])):
            block.marker, block.marker_text = mk.group(1), mk.group(2)
            if block.marker == "run":
                block.options = _options(block.marker_text)
        blocks.append(block)
        i = j + 1
    return blocks


def stray_markers(path: Path) -> list[str]:
    """Markers that are not followed by a fenced block (a typo or a moved block)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out = []
    for n, ln in enumerate(lines):
        if MARKER.match(ln):
            k = n + 1
            while k < len(lines) and not lines[k].strip():
                k += 1
            if k >= len(lines) or not FENCE.match(lines[k]):
                out.append(f"{path.name}:{n + 1}: marker not followed by a fenced block")
    return out


def matches(output: str, expected: list[str]) -> str | None:
    """None when each expected line is found in order among the output's lines; else why not.
    ``...`` inside an expected line matches any text."""
    got = [ln.rstrip() for ln in output.splitlines()]
    at = 0
    for exp in expected:
        pattern = re.compile("^" + ".*".join(re.escape(p) for p in exp.split("...")) + "$")
        while at < len(got) and not pattern.match(got[at]):
            at += 1
        if at == len(got):
            return f"expected output line not found (in order): {exp!r}"
        at += 1
    return None
