"""Showing failures: the banner, background operations, and the one excepthook.

    run_op(coro, banner, on_success=cb)     # Anki-style: start, route AgentError to the banner
    install_excepthook(show)                # sys.excepthook + the event loop's handler: log, show

A failure the user can act on (:class:`AgentError`) shows its own text ("what happened — what
to do"); anything else is a bug: it is logged with its traceback and shown in one line.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

from desktop.client import AgentError
from desktop.ui.qt import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, Qt, QWidget
from desktop.ui.theme import GAP

log = logging.getLogger("flypack.desktop")
T = TypeVar("T")

_LEVEL_PREFIX = {"error": "✕ Error", "warning": "! Warning", "info": "i Note"}


class Banner(QFrame):
    """A dismissable one-line message across the top of a view (text, not colour alone)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(GAP * 2, GAP // 2, GAP, GAP // 2)
        lay.setSpacing(GAP)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QPushButton("✕")
        self.close_button.setAccessibleName("Dismiss message")
        self.close_button.setToolTip("Dismiss message")
        self.close_button.clicked.connect(self.hide)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.close_button)
        self.hide()

    def show_message(self, text: str, level: str = "error") -> None:
        self.setProperty("level", level)
        self.label.setText(f"{_LEVEL_PREFIX.get(level, level)}: {text}")
        self.style().unpolish(self)
        self.style().polish(self)
        self.show()

    @property
    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""


def describe(exc: BaseException) -> str:
    if isinstance(exc, AgentError):
        return str(exc)
    return f"unexpected error ({type(exc).__name__}: {exc}); it was logged — please report it"


def run_op(
    coro: Coroutine[Any, Any, T],
    show_error: Callable[[str], None],
    on_success: Callable[[T], None] | None = None,
    on_failure: Callable[[BaseException], None] | None = None,
) -> asyncio.Task[T]:
    """Run ``coro`` on the event loop; success and failure go to callbacks, never raise."""

    def done(task: asyncio.Task[T]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            if on_success is not None:
                on_success(task.result())
            return
        if not isinstance(exc, AgentError):
            log.error("operation failed", exc_info=exc)
        if on_failure is not None:
            on_failure(exc)
        else:
            show_error(describe(exc))

    task = asyncio.get_event_loop().create_task(coro)
    task.add_done_callback(done)
    return task


def install_excepthook(show: Callable[[str], None],
                       loop: asyncio.AbstractEventLoop | None = None) -> None:
    """One hook for uncaught errors in Qt slots and in event-loop callbacks: log and show."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        log.error("uncaught error", exc_info=(kind, exc, tb))
        try:
            show(describe(exc))
        except Exception:  # the UI may be gone already
            pass

    def loop_handler(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, BaseException):
            hook(type(exc), exc, exc.__traceback__)
        else:
            log.error("event loop: %s", context.get("message"))

    sys.excepthook = hook
    if loop is not None:
        loop.set_exception_handler(loop_handler)
