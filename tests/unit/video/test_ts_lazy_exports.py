"""Issue 14 finding 2: the package's lazy exports are the functions, in any import order
(`ts-analyze` once crashed: ``report`` was both a submodule and a function)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import server_agent.video.ts as ts
from tests.support import ROOT

IMPORT_ORDERS = [
    "from server_agent.video.ts import TsError, analyze_file, render_text, report",
    # a submodule imported first binds its own name on the package
    "import server_agent.video.ts.analyzer, server_agent.video.ts.file_report\n"
    "from server_agent.video.ts import TsAnalyzer, analyze_file, render_text, report",
]


def test_no_submodule_shadows_a_lazy_export() -> None:
    submodules = {m.name for m in pkgutil.iter_modules(ts.__path__)}
    assert not submodules & set(ts._LAZY), submodules & set(ts._LAZY)


def test_lazy_exports_are_callables_in_a_fresh_interpreter() -> None:
    for order in IMPORT_ORDERS:
        code = (f"{order}\nimport types\n"
                "for f in (analyze_file, render_text, report):\n"
                "    assert not isinstance(f, types.ModuleType), f\n"
                "    assert callable(f), f\n")
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           cwd=ROOT, timeout=60)
        assert r.returncode == 0, (order, r.stderr)
