"""Guard against the PySide6 6.12.0 regression found here: on Python 3.11 every call of a
void Qt method dropped one reference to ``None`` (no incref before returning it), so an app
died with "none_dealloc" after a few thousand calls. Python 3.12+ hides it (immortal None);
Bookworm's 3.11 does not."""

from __future__ import annotations

import gc
import sys

from desktop.ui.qt import QApplication, QLabel


def test_void_qt_calls_keep_none_alive(qapp: QApplication) -> None:
    label = QLabel("x")
    gc.collect()
    before = sys.getrefcount(None)
    for _ in range(1000):
        label.setText("y")
        QApplication.processEvents()
    gc.collect()
    assert sys.getrefcount(None) > before - 50, "this PySide6 build leaks None references"
