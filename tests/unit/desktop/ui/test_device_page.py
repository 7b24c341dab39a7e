"""The device page's edit form: a role picker, a checked name, what is sent on save."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from desktop.model import DeviceBoard, SeriesStore
from desktop.ui import theme
from desktop.ui.device_page import DevicePage
from desktop.ui.qt import QApplication, Qt
from desktop.ui.touch import touch_problems
from server_agent.contract import Device, DeviceRole

LEFT = Qt.MouseButton.LeftButton


def page_for(qtbot: QtBot, qapp: QApplication, **dev: object) -> DevicePage:
    theme.apply(qapp, theme.DARK)
    board = DeviceBoard()
    board.set_devices([Device(id="enc-01", name="enc-01", role=DeviceRole.encoder,
                              address="127.0.0.1", **dev)])  # type: ignore[arg-type]
    page = DevicePage(SeriesStore())
    qtbot.addWidget(page)
    page.resize(1300, 640)
    page.show()
    page.set_can_edit(True)
    page.show_device(board.rows[0])
    return page


def test_edit_sends_name_role_notes_and_the_picker_is_touch_sized(
        qtbot: QtBot, qapp: QApplication) -> None:
    page = page_for(qtbot, qapp)
    assert page.role_edit.value() == "encoder"
    assert "Set by hand: nothing" in page.details.text()
    assert touch_problems(page) == []
    page.name_edit.setText("cam-left")
    qtbot.mouseClick(page.role_edit.buttons["decoder"], LEFT)  # type: ignore[no-untyped-call]
    page.notes_edit.setText("rack 2")
    with qtbot.waitSignal(page.save_requested) as sent:
        qtbot.mouseClick(page.save, LEFT)  # type: ignore[no-untyped-call]
    assert sent.args == ["enc-01", {"name": "cam-left", "role": "decoder", "notes": "rack 2"}]
    assert page.role_edit.value() == "decoder"  # exclusive: one role at a time
    assert sum(b.isChecked() for b in page.role_edit.buttons.values()) == 1


def test_the_form_scrolls_on_a_short_screen(qtbot: QtBot, qapp: QApplication) -> None:
    page = page_for(qtbot, qapp)
    page.resize(1300, 380)
    qapp.processEvents()
    assert page.save.visibleRegion().isEmpty()  # below the fold: scroll, never squeeze
    assert page.role_edit.buttons["unknown"].height() >= theme.TOUCH
    page.form_area.ensureWidgetVisible(page.save)
    qapp.processEvents()
    with qtbot.waitSignal(page.save_requested):
        qtbot.mouseClick(page.save, LEFT)  # type: ignore[no-untyped-call]


def test_a_bad_name_is_refused_before_sending(qtbot: QtBot, qapp: QApplication) -> None:
    page = page_for(qtbot, qapp)
    page.name_edit.setText("cam left!")
    with qtbot.assertNotEmitted(page.save_requested):
        qtbot.mouseClick(page.save, LEFT)  # type: ignore[no-untyped-call]
    assert page.edit_note.text().startswith("✕ not saved: the name 'cam left!' may hold only")
    assert page.save.isEnabled()


def test_empty_name_removes_the_override(qtbot: QtBot, qapp: QApplication) -> None:
    page = page_for(qtbot, qapp, overrides=["name"], notes="spare")
    assert "Set by hand: name" in page.details.text() and page.notes_edit.text() == "spare"
    page.row.device.name = "cam-left"  # type: ignore[union-attr]
    page.name_edit.setText("")
    with qtbot.waitSignal(page.save_requested) as sent:
        qtbot.mouseClick(page.save, LEFT)  # type: ignore[no-untyped-call]
    assert sent.args == ["enc-01", {"name": None, "notes": "spare"}]


def test_viewers_cannot_edit(qtbot: QtBot, qapp: QApplication) -> None:
    page = page_for(qtbot, qapp)
    page.set_can_edit(False)
    assert not page.save.isEnabled() and not page.role_edit.isEnabled()
    assert page.edit_note.text() == "Editing needs the operator role."
