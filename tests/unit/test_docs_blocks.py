"""The docs-as-tests convention (tests/journeys/docs_blocks.py), checked without a demo: which
blocks count as shell, markers and their reasons, console output matching; and the repository's
own docs follow it (so `make test` already fails on an unmarked block with a hard-coded URL)."""

from __future__ import annotations

from pathlib import Path

from tests.journeys.docs_blocks import matches, parse, stray_markers
from tests.support import ROOT

DOC = """# t

```sh
curl -fsS "$FLYPACK_URL/api/v1/health"
```

<!-- illustrative: writes /etc/flypack on a real server -->
```sh
flypack-agent cert create --cert /etc/flypack/agent.crt --key k
```

```
flypack-agent: agent.toml: devices[1].address: not an IP address
```

```
make demo
```

<!-- run: cwd=repo timeout=90 -->
```console
$ curl -fsS "$FLYPACK_URL/api/v1/health" \\
>   -H 'accept: application/json'
{"status":"ok",...,"flypack":"<demo-url>"}
```

```text
curl is shown here as text on purpose
```

<!-- illustrative: -->
```bash
curl http://127.0.0.1:8080/api/v1/devices
```

```sh
flypack-agent cert create --cert /etc/flypack/agent.crt --key /etc/flypack/agent.key
```

<!-- run: cwd=home -->
"""


def blocks(tmp_path: Path) -> list:  # type: ignore[type-arg]
    p = tmp_path / "t.md"
    p.write_text(DOC)
    return parse(p)


def test_which_blocks_are_shell_and_how_they_are_marked(tmp_path: Path) -> None:
    b = blocks(tmp_path)
    assert [x.is_shell for x in b] == [True, True, False, True, True, False, True, True]
    assert [x.runs for x in b] == [True, False, False, True, True, False, False, True]
    assert b[1].marker_text == "writes /etc/flypack on a real server"
    assert b[4].options == {"cwd": "repo", "timeout": "90"} and b[4].timeout_s == 90
    assert b[0].timeout_s == 60 and not b[0].problems()


def test_console_blocks_split_commands_and_shown_output(tmp_path: Path) -> None:
    c = blocks(tmp_path)[4]
    subst = {"<demo-url>": "http://127.0.0.1:1234"}
    assert c.script(subst) == ('curl -fsS "$FLYPACK_URL/api/v1/health" \\\n'
                               "  -H 'accept: application/json'\n")
    assert c.expected(subst) == ['{"status":"ok",...,"flypack":"http://127.0.0.1:1234"}']
    out = 'noise\n{"status":"ok","version":"1","flypack":"http://127.0.0.1:1234"}\n'
    assert matches(out, c.expected(subst)) is None
    assert "not found" in (matches('{"status":"degraded"}', c.expected(subst)) or "")


def test_problems_named(tmp_path: Path) -> None:
    b = blocks(tmp_path)
    probs = b[6].problems()
    assert any("needs its reason" in p for p in probs)
    assert not any("hard-coded" in p for p in probs)  # illustrative: not run
    b[6].marker = ""
    assert any("hard-coded http://127.0.0.1:8080" in p for p in b[6].problems())
    assert any("'/etc/' would change the host" in p for p in b[7].problems())
    assert not b[1].problems()  # the same command, marked illustrative: fine
    line = DOC.splitlines().index("<!-- run: cwd=home -->") + 1
    assert stray_markers(tmp_path / "t.md") == [f"t.md:{line}: marker not followed by a "
                                                "fenced block"]


def test_the_repositorys_docs_follow_the_convention() -> None:
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    problems = [p for d in docs for b in parse(d) for p in b.problems()]
    problems += [p for d in docs for p in stray_markers(d)]
    assert not problems, "\n".join(problems)
