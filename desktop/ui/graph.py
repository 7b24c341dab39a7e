"""pyqtgraph, loaded with the first plot rather than at start (it costs ~0.3 s of the start).

Imported after :mod:`desktop.ui.qt`, so it binds to PySide6, the binding already loaded.
"""

from __future__ import annotations

from desktop.ui import theme
from desktop.ui.qt import QApplication  # noqa: F401  (PySide6 first, on purpose)

# isort: split
import pyqtgraph as pg


def configure(t: theme.Theme) -> None:
    pg.setConfigOptions(antialias=False, background=t.base, foreground=t.text)


configure(theme.current())
theme.on_apply.append(configure)

__all__ = ["configure", "pg"]
