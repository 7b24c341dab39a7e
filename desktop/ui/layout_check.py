"""Layout fitness: does every visible widget fit its window and its parent, and can every text
be read? The real-windows journey (tests/journeys/test_real_windows.py) runs it on every
screen at 1366x768 and 1920x1080; a developer can run it on any widget.

    problems = layout_problems(window)   # ["QPushButton 'Connect' extends 40 px past ..."]

What counts as a problem (each named by class, object name and text):

- the window is larger than its screen (a layout whose minimum does not fit);
- a visible widget overlaps a sibling, extends past its top-level window, or past its
  parent's contents rect (what a layout squeezed out). Content scrolled inside a scroll
  area is judged against the scrolled widget, not the window: scrolling is not clipping;
- a text is cut: a QLabel without word wrap, a button or a check box narrower than its text
  (by the font metrics, through the widget's own size hint); a word-wrapped label shorter than
  its wrapped text; a header section narrower than its title; a table cell whose text does not
  fit its column. A tooltip holding the full text counts as "the full text one tap away";
- a scroll area that needs horizontal scrolling to show its content.
"""

from __future__ import annotations

from desktop.ui.qt import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QComboBox,
    QFont,
    QFontMetrics,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPoint,
    QSplitter,
    QStyleOptionViewItem,
    Qt,
    QTableView,
    QTabWidget,
    QWidget,
)

__all__ = ["layout_problems", "name_of"]

SLACK = 1  # px: rounding of fractional layouts
MAX_ROWS = 60  # table rows looked at (the visible ones come first)
# widgets whose direct children are their own parts (placed by the widget, not a layout)
_COMPOSITE = (QAbstractScrollArea, QComboBox, QAbstractSpinBox, QLineEdit, QSplitter,
              QTabWidget)


def name_of(w: QWidget) -> str:
    text = ""
    if isinstance(w, QAbstractButton | QLabel | QLineEdit):
        text = w.text()
    text = " ".join(text.split())
    if len(text) > 60:
        text = text[:59] + "…"
    parts = [type(w).__name__]
    if w.objectName():
        parts.append(f"#{w.objectName()}")
    label = w.accessibleName() or text
    if label:
        parts.append(repr(label))
    return " ".join(parts)


def _plain(text: str) -> str:
    return " ".join(text.replace("&&", "\0").replace("&", "").replace("\0", "&").split())


def _full_text_one_tap_away(w: QWidget, text: str) -> bool:
    tip = _plain(w.toolTip())
    return bool(text) and _plain(text) in tip


def _scrolled(w: QWidget, root: QWidget) -> QWidget | None:
    """The scrolled content widget ``w`` lives in (inside a scroll area's viewport), if any."""
    child: QWidget | None = w
    parent = w.parentWidget()
    while parent is not None and child is not root:
        area = parent.parentWidget()
        if isinstance(area, QAbstractScrollArea) and parent is area.viewport():
            return child
        child, parent = parent, parent.parentWidget()
    return None


def _visible(root: QWidget) -> list[QWidget]:
    out = []
    for w in root.findChildren(QWidget):
        if w.isWindow() or not w.isVisibleTo(root):
            continue
        if w.width() <= 0 and w.height() <= 0:
            continue
        out.append(w)
    return out


def _window_problems(root: QWidget, screen: tuple[int, int] | None) -> list[str]:
    if screen is None:
        s = root.screen()
        if s is None:
            return []
        screen = s.availableGeometry().width(), s.availableGeometry().height()
    if root.width() > screen[0] + SLACK or root.height() > screen[1] + SLACK:
        return [f"{name_of(root)} is {root.width()}x{root.height()}, larger than its "
                f"screen {screen[0]}x{screen[1]} (its layout's minimum does not fit)"]
    return []


def _geometry_problems(w: QWidget, root: QWidget) -> list[str]:
    out: list[str] = []
    scrolled = _scrolled(w, root)
    if scrolled is None:  # not scrolled: the window's edges are the limit
        top_left = w.mapTo(root, QPoint(0, 0))
        right = top_left.x() + w.width() - root.width()
        bottom = top_left.y() + w.height() - root.height()
        if right > SLACK or bottom > SLACK or top_left.x() < -SLACK or top_left.y() < -SLACK:
            out.append(f"{name_of(w)} extends past its window ({_past(right, bottom)})")
    parent = w.parentWidget()
    if parent is None or w is scrolled or isinstance(parent, _COMPOSITE):
        return out
    if isinstance(parent.parentWidget(), QAbstractScrollArea):
        return out  # a viewport's or scroll bar container's own parts
    inner, g = parent.contentsRect(), w.geometry()
    right, bottom = g.right() - inner.right(), g.bottom() - inner.bottom()
    left, top = inner.left() - g.left(), inner.top() - g.top()
    if max(right, bottom, left, top) > SLACK and not out:
        out.append(f"{name_of(w)} is clipped by its parent {name_of(parent)} "
                   f"({_past(max(right, left), max(bottom, top))})")
    return out


def _overlap_problems(parent: QWidget, root: QWidget) -> list[str]:
    """Siblings a layout placed on top of each other (one paints over the other)."""
    if isinstance(parent, _COMPOSITE) or isinstance(parent.parentWidget(), QAbstractScrollArea):
        return []
    direct = Qt.FindChildOption.FindDirectChildrenOnly
    kids = [k for k in parent.findChildren(QWidget, options=direct)
            if not k.isWindow() and k.isVisibleTo(root) and k.width() > 0 and k.height() > 0]
    out = []
    for i, a in enumerate(kids):
        for b in kids[i + 1:]:
            both = a.geometry().intersected(b.geometry())
            if both.width() > SLACK and both.height() > SLACK:
                out.append(f"{name_of(a)} and {name_of(b)} overlap ({both.width()}x"
                           f"{both.height()} px)")
    return out


def _past(right: int, bottom: int) -> str:
    parts = []
    if right > SLACK:
        parts.append(f"{right} px too wide")
    if bottom > SLACK:
        parts.append(f"{bottom} px too high")
    return ", ".join(parts) or "outside"


def _text_problems(w: QWidget) -> list[str]:
    if isinstance(w, QLabel):
        text = w.text()
        if not text.strip():
            return []
        if w.wordWrap():
            need = w.heightForWidth(w.width())
            if need > w.height() + SLACK and not _full_text_one_tap_away(w, text):
                return [f"{name_of(w)} is cut at the bottom: its wrapped text needs {need} px "
                        f"height, it has {w.height()}"]
            return []
        need = w.sizeHint().width()
        if need > w.width() + SLACK and not _full_text_one_tap_away(w, text):
            return [f"{name_of(w)} text is cut: it needs {need} px, it has {w.width()}"]
        return []
    if isinstance(w, QAbstractButton) and w.text().strip():
        need = w.sizeHint().width()
        if need > w.width() + SLACK and not _full_text_one_tap_away(w, w.text()):
            return [f"{name_of(w)} text is cut: it needs {need} px, it has {w.width()}"]
    return []


def _header_problems(h: QHeaderView) -> list[str]:
    model = h.model()
    if model is None or not h.isVisible():
        return []
    font = QFont(h.font())
    font.setBold(True)  # the theme draws section titles bold
    fm = QFontMetrics(font)
    out = []
    horizontal = h.orientation() is Qt.Orientation.Horizontal
    for i in range(h.count()):
        if h.isSectionHidden(i):
            continue
        title = str(model.headerData(i, h.orientation(), Qt.ItemDataRole.DisplayRole) or "")
        if not title or not horizontal:
            continue
        need = fm.horizontalAdvance(title) + 2 * 8 + 2  # the theme's section padding, border
        if need > h.sectionSize(i) + SLACK:
            out.append(f"{type(h).__name__} section {title!r} is cut: it needs {need} px, "
                       f"it has {h.sectionSize(i)}")
    return out


def _cell_problems(v: QTableView) -> list[str]:
    """Cells the view elides: the delegate's own size hint for the cell (text, icon,
    margins) is wider than the column; the cell's tooltip may hold the full text."""
    model = v.model()
    if model is None:
        return []
    option = QStyleOptionViewItem()
    option.initFrom(v)
    option.decorationSize = v.iconSize()
    option.features |= QStyleOptionViewItem.ViewItemFeature.HasDisplay
    out = []
    for c in range(model.columnCount()):
        if v.isColumnHidden(c):
            continue
        width = v.columnWidth(c)
        for r in range(min(model.rowCount(), MAX_ROWS)):
            if v.isRowHidden(r):
                continue
            idx = model.index(r, c)
            text = str(model.data(idx, Qt.ItemDataRole.DisplayRole) or "")
            if not text:
                continue
            need = v.itemDelegateForIndex(idx).sizeHint(option, idx).width()
            tip = str(model.data(idx, Qt.ItemDataRole.ToolTipRole) or "")
            if need > width + SLACK and _plain(text) not in _plain(tip):
                out.append(f"{type(v).__name__} {v.objectName() or v.accessibleName()!r} "
                           f"cell ({r}, {c}) {text[:40]!r} is cut: it needs {need} px, "
                           f"the column has {width}")
                break  # one per column is enough to say it
    return out


def _scroll_problems(a: QAbstractScrollArea) -> list[str]:
    bar = a.horizontalScrollBar()
    if bar is None or a.horizontalScrollBarPolicy() is Qt.ScrollBarPolicy.ScrollBarAlwaysOff:
        return []
    per_item = isinstance(a, QAbstractItemView) and \
        a.horizontalScrollMode() is QAbstractItemView.ScrollMode.ScrollPerItem
    if bar.maximum() > (0 if per_item else SLACK):
        more = f"{bar.maximum()} {'columns' if per_item else 'px'} more"
        return [f"{name_of(a)} needs horizontal scrolling ({more})"]
    return []


def layout_problems(root: QWidget, screen: tuple[int, int] | None = None) -> list[str]:
    """Every visible widget under ``root`` (a top-level window, or any widget standing for
    one) that does not fit, and every text that is cut without its full text one tap away.
    ``screen``: the screen size to fit (default: the window's own screen)."""
    out = _window_problems(root, screen) if root.isWindow() else []
    for w in [root, *_visible(root)]:
        out += _overlap_problems(w, root)
        if w is root:
            continue
        out += _geometry_problems(w, root)
        out += _text_problems(w)
        if isinstance(w, QHeaderView):
            out += _header_problems(w)
        if isinstance(w, QTableView):
            out += _cell_problems(w)
        if isinstance(w, QAbstractScrollArea):
            out += _scroll_problems(w)
    return out
