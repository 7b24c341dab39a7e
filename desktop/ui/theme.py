"""Themes (dark, and a light high-contrast 'sunlight' one) and the state/severity icons.

Icons differ by shape *and* colour, and views always put text beside them: no state is told
by colour alone. Touch sizes: controls at least 48 px high, 8 px spacing (``TOUCH``, ``GAP``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from desktop.ui.qt import (
    QApplication,
    QBrush,
    QColor,
    QFont,
    QIcon,
    QPainter,
    QPalette,
    QPen,
    QPixmap,
    QPointF,
    QPolygonF,
    QRectF,
    Qt,
)
from server_agent.contract import DeviceState, Severity

TOUCH = 48
GAP = 8


@dataclass(frozen=True)
class Theme:
    name: str
    window: str
    base: str
    alt_base: str
    text: str
    muted: str
    accent: str
    button: str
    border: str
    ok: str
    warn: str
    bad: str
    info: str
    stale: str
    curves: tuple[str, ...]


DARK = Theme(
    "dark", window="#1b1f24", base="#22272e", alt_base="#272d35", text="#e8eaed",
    muted="#9aa4af", accent="#4aa3ff", button="#2f3742", border="#3d4652",
    ok="#3fb950", warn="#f0a020", bad="#ff5c5c", info="#58a6ff", stale="#8b949e",
    curves=("#4aa3ff", "#f0a020", "#3fb950", "#ff7bd5", "#c9d1d9", "#ff5c5c", "#a371f7"),
)
SUNLIGHT = Theme(
    "sunlight", window="#ffffff", base="#ffffff", alt_base="#eef1f4", text="#000000",
    muted="#303030", accent="#0041a8", button="#e2e6ea", border="#000000",
    ok="#006b1b", warn="#8a4b00", bad="#b00000", info="#0041a8", stale="#505050",
    curves=("#0041a8", "#b35900", "#006b1b", "#a0006e", "#000000", "#b00000", "#5a2ca0"),
)


def stylesheet(t: Theme) -> str:
    weight = "600" if t.name == "sunlight" else "400"
    return f"""
    QWidget {{ background: {t.window}; color: {t.text}; font-size: 15px;
               font-weight: {weight}; }}
    QPushButton, QLineEdit, QCheckBox {{ min-height: {TOUCH}px; }}
    QPushButton {{ background: {t.button}; border: 2px solid {t.border}; border-radius: 6px;
                   padding: 0 16px; min-width: {TOUCH}px; }}
    QPushButton#segment {{ padding: 0 6px; }}
    QPushButton:pressed, QPushButton:checked {{ background: {t.accent}; color: {t.window}; }}
    QPushButton:disabled {{ color: {t.muted}; border-color: {t.alt_base}; }}
    QPushButton#primary {{ background: {t.accent}; color: {t.window}; font-weight: 700; }}
    QLineEdit {{ background: {t.base}; border: 2px solid {t.border}; border-radius: 6px;
                 padding: 0 8px; }}
    QLineEdit:focus {{ border-color: {t.accent}; }}
    QCheckBox::indicator {{ width: 28px; height: 28px; }}
    QTableView {{ background: {t.base}; alternate-background-color: {t.alt_base};
                  gridline-color: {t.border}; border: 1px solid {t.border};
                  selection-background-color: {t.accent}; selection-color: {t.window}; }}
    QHeaderView::section {{ background: {t.button}; color: {t.text}; border: none;
                            border-right: 1px solid {t.border}; padding: 4px 8px;
                            min-height: 36px; font-weight: 700; }}
    QLabel#title {{ font-size: 20px; font-weight: 700; }}
    QLabel#muted {{ color: {t.muted}; }}
    QLabel#sectionTitle {{ font-size: 16px; font-weight: 700; padding-top: 4px; }}
    QFrame#banner[level="error"] {{ background: {t.bad}; }}
    QFrame#banner[level="warning"] {{ background: {t.warn}; }}
    QFrame#banner[level="info"] {{ background: {t.info}; }}
    QFrame#banner QLabel, QFrame#banner QPushButton {{ background: transparent;
        color: {t.window if t.name == "dark" else "#ffffff"}; font-weight: 700; }}
    QFrame#banner QPushButton {{ border: 2px solid currentColor; }}
    QSplitter::handle {{ background: {t.button}; }}
    QComboBox, QSpinBox, QDoubleSpinBox {{ min-height: {TOUCH}px; background: {t.base};
        border: 2px solid {t.border}; border-radius: 6px; padding: 0 8px; }}
    QComboBox QAbstractItemView {{ background: {t.base}; selection-background-color:
        {t.accent}; }}
    QSpinBox::up-button, QSpinBox::down-button, QDoubleSpinBox::up-button,
    QDoubleSpinBox::down-button {{ width: {TOUCH}px; }}
    QTabBar::tab {{ min-height: {TOUCH + 8}px; min-width: 150px; padding: 0 20px;
        font-size: 18px; font-weight: 700; background: {t.button};
        border: 2px solid {t.border}; border-bottom: none; margin-right: {GAP}px; }}
    QTabBar::tab:selected {{ background: {t.accent}; color: {t.window}; }}
    QTabWidget::pane {{ border: 2px solid {t.border}; top: -2px; }}
    QListWidget {{ background: {t.base}; border: 1px solid {t.border}; }}
    QListWidget::item {{ min-height: {TOUCH}px; padding: 0 8px; }}
    QListWidget::item:selected {{ background: {t.accent}; color: {t.window}; }}
    QPlainTextEdit {{ background: {t.base}; border: 1px solid {t.border};
        font-family: monospace; font-size: 14px; }}
    QPushButton#tile {{ text-align: left; padding: 12px 16px; min-height: 170px;
        font-size: 17px; border-width: 4px; }}
    QPushButton#tile[level="critical"], QPushButton#tile[level="unreachable"] {{
        border-color: {t.bad}; }}
    QPushButton#tile[level="degraded"], QPushButton#tile[level="warning"],
    QPushButton#tile[level="stale"] {{ border-color: {t.warn}; }}
    QPushButton#tile[level="ok"] {{ border-color: {t.ok}; }}
    QLabel#hop {{ border: 2px solid {t.border}; border-radius: 6px; padding: 6px 10px; }}
    QLabel#hop[state="ok"] {{ border-color: {t.ok}; }}
    QLabel#hop[state="failing"] {{ border-color: {t.bad}; }}
    QLabel#hop[state="caused_upstream"] {{ border: 2px dashed {t.warn}; }}
    QLabel#hop[state="unknown"] {{ border: 2px dotted {t.stale}; }}
    QLabel#hop[bad="true"] {{ border: 4px solid {t.bad}; font-weight: 700; }}
    QLabel#counter[bad="true"] {{ color: {t.bad}; font-weight: 700; }}
    QLabel#counter[past="true"] {{ color: {t.muted}; }}
    QLabel#fingerprint {{ font-family: monospace; font-size: 16px; font-weight: 700;
        background: {t.base}; border: 2px solid {t.border}; padding: 8px; }}
    QStatusBar {{ color: {t.muted}; }}
    """


_current: Theme | None = None
on_apply: list[Callable[[Theme], None]] = []  # called by apply() with the new theme


def current() -> Theme:
    """The theme last applied (DARK before any)."""
    return _current or DARK


def apply(app: QApplication, t: Theme) -> None:
    pal = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, t.window), (QPalette.ColorRole.Base, t.base),
        (QPalette.ColorRole.AlternateBase, t.alt_base), (QPalette.ColorRole.Text, t.text),
        (QPalette.ColorRole.WindowText, t.text), (QPalette.ColorRole.Button, t.button),
        (QPalette.ColorRole.ButtonText, t.text), (QPalette.ColorRole.Highlight, t.accent),
        (QPalette.ColorRole.HighlightedText, t.window),
    ):
        pal.setColor(role, QColor(colour))
    app.setPalette(pal)
    app.setStyleSheet(stylesheet(t))
    global _current
    _current = t
    for hook in on_apply:  # pyqtgraph's defaults, once it is loaded (desktop.ui.graph)
        hook(t)
    Icons.theme = t
    Icons.cache.clear()


# --- icons: shape + colour + glyph ---------------------------------------------------------

_SIZE = 24


def _shape_icon(shape: str, colour: str, glyph: str, outline: str) -> QIcon:
    pm = QPixmap(_SIZE * 2, _SIZE * 2)  # drawn at 2x for crisp scaling
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QPen(QColor(outline), 3))
    p.setBrush(QBrush(QColor(colour)))
    r = QRectF(3, 3, _SIZE * 2 - 6, _SIZE * 2 - 6)
    if shape == "circle":
        p.drawEllipse(r)
    elif shape == "triangle":
        p.drawPolygon(QPolygonF([QPointF(r.center().x(), r.top()), r.bottomRight(),
                                 r.bottomLeft()]))
    elif shape == "square":
        p.drawRect(r)
    else:  # octagon
        w = r.width() * 0.29
        p.drawPolygon(QPolygonF([
            QPointF(r.left() + w, r.top()), QPointF(r.right() - w, r.top()),
            QPointF(r.right(), r.top() + w), QPointF(r.right(), r.bottom() - w),
            QPointF(r.right() - w, r.bottom()), QPointF(r.left() + w, r.bottom()),
            QPointF(r.left(), r.bottom() - w), QPointF(r.left(), r.top() + w),
        ]))
    font = QFont()
    font.setBold(True)
    font.setPixelSize(26)
    p.setFont(font)
    p.setPen(QColor("#ffffff" if colour != "#ffffff" else "#000000"))
    text_rect = r.adjusted(0, 8, 0, 0) if shape == "triangle" else r
    p.drawText(text_rect, int(Qt.AlignmentFlag.AlignCenter), glyph)
    p.end()
    return QIcon(pm)


class Icons:
    theme: Theme = DARK
    cache: dict[str, QIcon] = {}

    @classmethod
    def _get(cls, key: str, shape: str, colour: str, glyph: str) -> QIcon:
        icon = cls.cache.get(key)
        if icon is None:
            icon = cls.cache[key] = _shape_icon(shape, colour, glyph, cls.theme.border)
        return icon

    @classmethod
    def state(cls, state: DeviceState, stale: bool = False) -> QIcon:
        t = cls.theme
        if stale:
            return cls._get("stale", "circle", t.stale, "…")
        spec = {
            DeviceState.up: ("circle", t.ok, "✓"),
            DeviceState.degraded: ("triangle", t.warn, "!"),
            DeviceState.down: ("square", t.bad, "✕"),
            DeviceState.unknown: ("circle", t.stale, "?"),
        }[state]
        return cls._get(f"state-{state.value}", *spec)

    @classmethod
    def severity(cls, sev: Severity) -> QIcon:
        t = cls.theme
        spec = {
            Severity.critical: ("octagon", t.bad, "!"),
            Severity.major: ("triangle", t.bad, "!"),
            Severity.minor: ("triangle", t.warn, "!"),
            Severity.warning: ("circle", t.info, "i"),
        }[sev]
        return cls._get(f"sev-{sev.value}", *spec)

    @classmethod
    def cleared(cls) -> QIcon:
        """A cleared alarm: never the icon of an active one (grey circle, a check)."""
        return cls._get("cleared", "circle", cls.theme.stale, "✓")

    @classmethod
    def link(cls, up: bool) -> QIcon:
        t = cls.theme
        return (cls._get("link-up", "circle", t.ok, "✓") if up
                else cls._get("link-down", "square", t.bad, "✕"))
