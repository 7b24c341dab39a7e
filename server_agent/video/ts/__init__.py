"""MPEG-TS analysis (ETSI TR 101 290 priority 1 and 2), vectorised with numpy.

Public API: :class:`TsAnalyzer` (feed chunks), :func:`analyze_file`, :func:`report`,
:data:`COUNTERS` (the counter names of design §8), :class:`Tr101290Settings`, and the
:class:`TsError` tree.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from server_agent.video.ts.checks import COUNTERS, P1, P2, Tr101290Settings
from server_agent.video.ts.errors import EmptyInput, NotTransportStream, TruncatedInput, TsError

if TYPE_CHECKING:
    from server_agent.video.ts.analyzer import TsAnalyzer
    from server_agent.video.ts.file_report import analyze_file, render_text, report

# numpy (~20 MB of RSS) loads when the analyzer is first used, not when the agent starts.
# No submodule may share a name with a lazy attribute: importing a submodule binds its name on
# this package, and the module would then shadow the function (``report`` was once both).
_LAZY = {"TsAnalyzer": "analyzer", "analyze_file": "file_report", "render_text": "file_report",
         "report": "file_report"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["COUNTERS", "P1", "P2", "EmptyInput", "NotTransportStream", "Tr101290Settings",
           "TruncatedInput", "TsAnalyzer", "TsError", "analyze_file", "render_text", "report"]
