"""The dashboard: top bar, banner, device table | (RTT plot over alarm list). Layout only;
:mod:`desktop.ui.session` feeds it."""

from __future__ import annotations

from desktop.client import LinkState, LinkStatus
from desktop.model import DeviceBoard, SeriesStore, fmt
from desktop.ui.alarms import AlarmPanel
from desktop.ui.devices import DeviceTableModel, DeviceTableView
from desktop.ui.errors import Banner
from desktop.ui.plot import RttPlot
from desktop.ui.qt import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSize,
    QSplitter,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.ui.theme import GAP, Icons, Theme
from server_agent.contract import DeviceState


class Dashboard(QWidget):
    logout_requested = Signal()
    theme_toggled = Signal(bool)  # True = sunlight

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dashboard")
        self.board = DeviceBoard()
        self.store = SeriesStore()
        root = QVBoxLayout(self)
        root.setContentsMargins(GAP, GAP, GAP, GAP)
        root.setSpacing(GAP)

        bar = QHBoxLayout()
        bar.setSpacing(GAP)
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
        bar.addStretch(1)
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

        split = QSplitter(Qt.Orientation.Horizontal)
        split.setHandleWidth(GAP)
        split.setChildrenCollapsible(False)
        left = QWidget()
        left_lay = QVBoxLayout(left)
        left_lay.setContentsMargins(0, 0, 0, 0)
        left_lay.setSpacing(GAP)
        self.devices_title = QLabel("Devices")
        self.devices_title.setObjectName("sectionTitle")
        left_lay.addWidget(self.devices_title)
        self.device_model = DeviceTableModel(self.board, self)
        self.devices = DeviceTableView(self.device_model)
        left_lay.addWidget(self.devices, 1)
        hint = QLabel("Tap devices to plot their RTT.")
        hint.setObjectName("muted")
        left_lay.addWidget(hint)
        split.addWidget(left)

        right = QSplitter(Qt.Orientation.Vertical)
        right.setHandleWidth(GAP)
        right.setChildrenCollapsible(False)
        self.plot = RttPlot(self.store)
        self.plot.setMinimumHeight(220)
        right.addWidget(self.plot)
        self.alarms = AlarmPanel()
        self.alarms.setMinimumHeight(180)
        right.addWidget(self.alarms)
        right.setSizes([380, 260])
        split.addWidget(right)
        split.setSizes([620, 730])
        root.addWidget(split, 1)

        self.devices.selectionModel().selectionChanged.connect(self._selection_changed)
        self.set_link(LinkStatus(LinkState.connecting))

    # --- fed by the session ----------------------------------------------------------------

    def set_identity(self, flypack: str, url: str, user: str, role: str) -> None:
        self.title.setText(flypack or "flypack")
        self.title.setToolTip(url)
        self.user_label.setText(f"{user} — role: {role}")

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
        self.update_device_title()

    def select_devices(self, ids: list[str]) -> None:
        self.devices.clearSelection()
        for device_id in ids:
            i = self.board.index_of(device_id)
            if i is not None:
                self.devices.selectRow(i)
        self.plot.show_devices(self.devices.selected_ids())

    def update_device_title(self) -> None:
        rows = self.board.rows
        counts = {s: sum(1 for r in rows if r.state is s) for s in DeviceState}
        parts = [f"{n} {s.value}" for s, n in counts.items() if n]
        stale = " (stale)" if self.board.stale else ""
        self.devices_title.setText(f"Devices — {len(rows)}: {', '.join(parts) or 'none'}{stale}")

    def _selection_changed(self) -> None:
        self.plot.show_devices(self.devices.selected_ids())

    def apply_theme(self, theme: Theme) -> None:
        self.plot.set_theme(theme)
        self.device_model.all_changed()
        self.alarms.model.layoutChanged.emit()
        self.link_icon.setPixmap(
            Icons.link(not self.board.stale).pixmap(QSize(24, 24)))

    def last_update_text(self) -> str:
        ts = [r.last_t for r in self.board.rows if r.last_t is not None]
        return f"last live data {fmt.clock(max(ts))}" if ts else "no live data yet"

