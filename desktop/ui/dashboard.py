"""One flypack's dashboard: top bar, banner, and four large touch tabs — Streams, Devices
(table with search/filter, or one device's page), Jobs, Alarms. Layout only;
:mod:`desktop.ui.session` feeds it."""

from __future__ import annotations

from desktop.client import LinkState, LinkStatus
from desktop.model import DeviceBoard, SeriesStore, fmt
from desktop.model.streams import StreamStore
from desktop.ui.alarms import AlarmPanel
from desktop.ui.device_page import DevicePage
from desktop.ui.devices import DeviceTableModel, DeviceTableView
from desktop.ui.errors import Banner
from desktop.ui.jobs import JobsPanel
from desktop.ui.plot import RttPlot
from desktop.ui.qt import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QResizeEvent,
    QSize,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    Qt,
    QTabWidget,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.streams import StreamsPanel
from desktop.ui.theme import GAP, Icons, Theme
from server_agent.contract import DeviceRole, DeviceState

TABS = ("streams", "devices", "jobs", "alarms")


class ElidedLabel(QLabel):
    """One line that takes the room it is given and elides the rest; the full text is in its
    tooltip (one tap away) and its accessible description."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def set_full_text(self, text: str) -> None:
        self.full = text
        self.setToolTip(text)
        self.setAccessibleDescription(text)
        self._elide()

    def _elide(self) -> None:
        room = self.contentsRect().width()
        shown = self.fontMetrics().elidedText(self.full, Qt.TextElideMode.ElideRight, room)
        if shown != self.text():
            self.setText(shown)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()


class Dashboard(QWidget):
    logout_requested = Signal()
    back_requested = Signal()  # to the fleet overview
    theme_toggled = Signal(bool)  # True = sunlight

    def __init__(self, parent: QWidget | None = None, *, fleet: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("dashboard")
        self.board = DeviceBoard()
        self.store = SeriesStore()
        self.stream_store = StreamStore()
        root = QVBoxLayout(self)
        root.setContentsMargins(GAP, GAP, GAP, GAP)
        root.setSpacing(GAP)

        bar = QHBoxLayout()
        bar.setSpacing(GAP)
        self.back = QPushButton("◀ Fleet")
        self.back.setAccessibleName("Back to the fleet overview")
        self.back.clicked.connect(self.back_requested)
        self.back.setVisible(fleet)
        bar.addWidget(self.back)
        self.title = QLabel("flypack")
        self.title.setObjectName("title")
        bar.addWidget(self.title)
        self.link_icon = QLabel()
        self.link_icon.setFixedSize(QSize(28, 28))
        self.link_label = QLabel("live: connecting…")
        self.link_label.setAccessibleName("Live link state")
        bar.addSpacing(GAP * 2)
        bar.addWidget(self.link_icon)
        bar.addWidget(self.link_label)
        # why the dashboard opened where it did: in the bar, so the tabs never move under a
        # finger when it appears or goes (the banner below would push them down)
        self.context = ElidedLabel()
        self.context.setObjectName("context")
        self.context.setAccessibleName("Opened at")
        self.context_target: object | None = None
        bar.addSpacing(GAP)
        bar.addWidget(self.context, 1)
        self.user_label = QLabel("")
        self.user_label.setObjectName("muted")
        bar.addWidget(self.user_label)
        self.sunlight = QPushButton("☀ Sunlight")
        self.sunlight.setCheckable(True)
        self.sunlight.setAccessibleName("Sunlight theme")
        self.sunlight.setToolTip("Light high-contrast theme for bright daylight")
        self.sunlight.toggled.connect(self.theme_toggled)
        bar.addWidget(self.sunlight)
        self.logout = QPushButton("Log out")
        self.logout.setAccessibleName("Log out")
        self.logout.clicked.connect(self.logout_requested)
        bar.addWidget(self.logout)
        root.addLayout(bar)

        self.banner = Banner()
        root.addWidget(self.banner)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(False)
        self.streams = StreamsPanel(self.stream_store)
        self.tabs.addTab(self.streams, "Streams")
        self.tabs.addTab(self._devices_tab(), "Devices")
        self.jobs = JobsPanel()
        self.tabs.addTab(self.jobs, "Jobs")
        self.alarms = AlarmPanel()
        self.tabs.addTab(self.alarms, "Alarms")
        root.addWidget(self.tabs, 1)

        self.devices.selectionModel().selectionChanged.connect(self._selection_changed)
        self.devices.doubleClicked.connect(lambda idx: self.open_device(
            self.board.rows[idx.row()].id))
        self.set_link(LinkStatus(LinkState.connecting))

    def _devices_tab(self) -> QWidget:
        self.device_stack = QStackedWidget()
        page = QWidget()
        col = QVBoxLayout(page)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(GAP)
        tools = QHBoxLayout()
        tools.setSpacing(GAP)
        self.devices_title = QLabel("Devices")
        self.devices_title.setObjectName("sectionTitle")
        tools.addWidget(self.devices_title, 1)
        self.search = QLineEdit()
        self.search.setPlaceholderText("search name, address, vendor")
        self.search.setAccessibleName("Search devices")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(240)
        self.role_filter = QComboBox()
        self.role_filter.setAccessibleName("Filter by role")
        self.role_filter.addItem("all roles", "")
        for r in DeviceRole:
            self.role_filter.addItem(r.value, r.value)
        self.state_filter = QComboBox()
        self.state_filter.setAccessibleName("Filter by state")
        self.state_filter.addItem("all states", "")
        for s in DeviceState:
            self.state_filter.addItem(s.value, s.value)
        self.open_button = QPushButton("Open device ▶")
        self.open_button.clicked.connect(self._open_selected)
        for w in (self.search, self.role_filter, self.state_filter):
            tools.addWidget(w)
        tools.addWidget(self.open_button)
        self.search.textChanged.connect(self.refilter)
        self.role_filter.currentIndexChanged.connect(self.refilter)
        self.state_filter.currentIndexChanged.connect(self.refilter)
        col.addLayout(tools)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setHandleWidth(GAP)
        split.setChildrenCollapsible(False)
        self.device_model = DeviceTableModel(self.board, self, self.store)
        self.devices = DeviceTableView(self.device_model)
        split.addWidget(self.devices)
        self.plot = RttPlot(self.store)
        self.plot.setMinimumHeight(220)
        split.addWidget(self.plot)
        split.setSizes([900, 440])
        col.addWidget(split, 1)
        hint = QLabel("Tap devices to plot their RTT; double-tap or 'Open device' for details.")
        hint.setObjectName("muted")
        col.addWidget(hint)
        self.device_stack.addWidget(page)
        self.device_page = DevicePage(self.store)
        self.device_page.back_requested.connect(
            lambda: self.device_stack.setCurrentIndex(0))
        self.device_stack.addWidget(self.device_page)
        return self.device_stack

    # --- navigation ---------------------------------------------------------------------

    def show_tab(self, name: str) -> None:
        self.tabs.setCurrentIndex(TABS.index(name))
        if name == "devices":
            self.device_stack.setCurrentIndex(0)

    def show_context(self, text: str, target: object = None) -> None:
        """Say why the dashboard opened here (``target``: what the note is about, so that
        the fleet window can take it away when that problem is gone)."""
        self.context_target = target
        self.context.set_full_text(text)

    def clear_context(self) -> None:
        self.context_target = None
        self.context.set_full_text("")

    def open_device(self, device_id: str) -> bool:
        i = self.board.index_of(device_id)
        if i is None:
            return False
        self.tabs.setCurrentIndex(TABS.index("devices"))
        self.device_page.stale = self.board.stale
        self.device_page.show_device(self.board.rows[i])
        self.device_stack.setCurrentWidget(self.device_page)
        return True

    def _open_selected(self) -> None:
        ids = self.devices.selected_ids()
        if ids:
            self.open_device(ids[-1])

    def refilter(self) -> None:
        shown = self.devices.apply_filter(self.search.text(),
                                          str(self.role_filter.currentData() or ""),
                                          str(self.state_filter.currentData() or ""))
        self.update_device_title(shown)

    # --- fed by the session ----------------------------------------------------------------

    def set_identity(self, flypack: str, url: str, user: str, role: str) -> None:
        self.title.setText(flypack or "flypack")
        self.title.setToolTip(url)
        self.user_label.setText(f"{user} — {role}")

    def set_link(self, status: LinkStatus) -> None:
        up = status.state is LinkState.up
        self.link_icon.setPixmap(Icons.link(up).pixmap(QSize(24, 24)))
        if up:
            text = "live: connected"
        elif status.state is LinkState.down:
            wait = status.retry_in_s or 0.0
            retry = f", retry in {wait:.0f} s" if wait >= 1 else ", retrying"
            text = f"live: DOWN{retry} — data stale"
        elif status.state is LinkState.connecting:
            text = "live: connecting…"
        else:
            text = "live: closed — data stale"
        self.link_label.setText(text)
        self.link_label.setToolTip(status.detail)
        was_stale = self.board.stale
        self.board.stale = not up
        if was_stale != self.board.stale:
            self.device_model.all_changed()
            self.update_device_title()
            self.streams.set_stale(self.board.stale)
        if up:
            self.plot.set_stale(None)
        elif self.plot.stale_since is None and status.state is not LinkState.connecting:
            self.plot.set_stale(status.since)

    def devices_reshaped(self) -> None:
        keep = set(self.devices.selected_ids())
        self.device_model.reset_rows()
        sel = self.devices.selectionModel()
        for row in self.board.rows:
            if row.id in keep:
                i = self.board.index_of(row.id)
                if i is not None:
                    self.devices.selectRow(i)
        if not sel.hasSelection() and self.board.rows:
            self.select_devices([r.id for r in self.board.rows[:3]])
        self.refilter()

    def select_devices(self, ids: list[str]) -> None:
        self.devices.clearSelection()
        for device_id in ids:
            i = self.board.index_of(device_id)
            if i is not None:
                self.devices.selectRow(i)
        self.plot.show_devices(self.devices.selected_ids())

    def update_device_title(self, shown: int | None = None) -> None:
        rows = self.board.rows
        counts = {s: sum(1 for r in rows if r.state is s) for s in DeviceState}
        parts = [f"{n} {s.value}" for s, n in counts.items() if n]
        stale = " (stale)" if self.board.stale else ""
        filt = f" — {shown} shown" if shown is not None and shown != len(rows) else ""
        self.devices_title.setText(
            f"Devices — {len(rows)}: {', '.join(parts) or 'none'}{stale}{filt}")
        page = self.device_page
        if page.row is not None and self.device_stack.currentWidget() is page:
            i = self.board.index_of(page.row.id)
            if i is not None:
                page.stale = self.board.stale
                page.show_device(self.board.rows[i])

    def _selection_changed(self) -> None:
        self.plot.show_devices(self.devices.selected_ids())

    def apply_theme(self, theme: Theme) -> None:
        self.plot.set_theme(theme)
        self.device_page.plot.set_theme(theme)
        self.streams.apply_theme(theme)
        self.device_model.all_changed()
        self.alarms.model.layoutChanged.emit()
        self.link_icon.setPixmap(
            Icons.link(not self.board.stale).pixmap(QSize(24, 24)))

    def last_update_text(self) -> str:
        ts = [r.last_t for r in self.board.rows if r.last_t is not None]
        return f"last live data {fmt.clock(max(ts))}" if ts else "no live data yet"
