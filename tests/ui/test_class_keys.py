"""Every class on a key (issue 13.3), with real key presses on the real window: Shift+digit for 11-20,
Shift+Alt+digit for 21-30, the type-ahead picker for any class; redo; merge and delete from the Classes menu
after a dialog that says what happens to the labels."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from aldesk.ui.labeling.class_dialog import ClassOpDialog
from aldesk.ui.labeling.picker import ClassPicker, rank_classes
from tests.ui.helpers import text_workspace

SHIFT = Qt.KeyboardModifier.ShiftModifier
ALT = Qt.KeyboardModifier.AltModifier
CTRL = Qt.KeyboardModifier.ControlModifier
CLASSES_32 = tuple(f"class{n:02d}" for n in range(1, 31)) + ("zebra crossing", "zucchini")


def _visible(kind):
    return next((w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()), None)


def test_shift_and_shift_alt_digits_reach_classes_11_to_30_and_buttons_show_them(qtbot, make_window) -> None:
    win = make_window()
    win.set_workspace(text_workspace(classes=CLASSES_32), density=False)
    ctl = win.ctl
    # Every class has a button (not only the first ten), each naming its key.
    assert len(win.label_view.class_buttons) == 32
    texts = [b.text() for b in win.label_view.class_buttons]
    assert texts[0].startswith("[1]") and texts[9].startswith("[0]")
    assert texts[10].startswith("[Shift+1]") and texts[19].startswith("[Shift+0]")
    assert "Shift+1]" in texts[20] and "Alt" in texts[20].split("]")[0]
    assert texts[30].startswith("[/]")  # past thirty: the picker's key
    for key, mods, cls in (
        (Qt.Key.Key_1, SHIFT, "class11"),
        (Qt.Key.Key_0, SHIFT, "class20"),
        (Qt.Key.Key_1, SHIFT | ALT, "class21"),
        (Qt.Key.Key_0, SHIFT | ALT, "class30"),
        (Qt.Key.Key_3, Qt.KeyboardModifier.NoModifier, "class03"),
    ):
        item = ctl.current
        qtbot.keyClick(win, key, mods)
        assert ctl.session.label_of(item) == cls, cls
    # A US layout delivers Shift+1 as "!" with Shift held: the same class.
    item = ctl.current
    qtbot.keyClick(win, Qt.Key.Key_Exclam, SHIFT)
    assert ctl.session.label_of(item) == "class11"


def test_picker_labels_by_typed_letters_and_undo_redo_follow(qtbot, make_window) -> None:
    win = make_window()
    win.set_workspace(text_workspace(classes=CLASSES_32), density=False)
    ctl = win.ctl
    item = ctl.current
    qtbot.keyClick(win, Qt.Key.Key_Slash)
    qtbot.waitUntil(lambda: _visible(ClassPicker) is not None)
    picker = _visible(ClassPicker)
    qtbot.keyClicks(picker.edit, "zuc")
    assert picker.matches() == ["zucchini"]
    qtbot.keyClick(picker.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: _visible(ClassPicker) is None)
    assert ctl.session.label_of(item) == "zucchini" and ctl.current != item
    # C opens it too; Down picks the second match.
    second = ctl.current
    qtbot.keyClick(win, Qt.Key.Key_C)
    qtbot.waitUntil(lambda: _visible(ClassPicker) is not None)
    picker = _visible(ClassPicker)
    qtbot.keyClicks(picker.edit, "z")
    assert picker.matches() == ["zebra crossing", "zucchini"]
    qtbot.keyClick(picker.edit, Qt.Key.Key_Down)
    qtbot.keyClick(picker.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: _visible(ClassPicker) is None)
    assert ctl.session.label_of(second) == "zucchini"
    # Undo twice, redo twice (Ctrl+Shift+Z), then a new label empties the redo stack.
    qtbot.keyClick(win, Qt.Key.Key_Z, CTRL)
    # 1-based, as the header shows it ("text 158" is item 157 inside).
    assert win.statusBar().currentMessage() == f"Undid label zucchini of item {second + 1:,}."
    assert f"text {second + 1:,}" in win.label_view.header.text()
    qtbot.keyClick(win, Qt.Key.Key_Z, CTRL)
    assert ctl.session.labels == {}
    qtbot.keyClick(win, Qt.Key.Key_Z, CTRL | SHIFT)
    assert ctl.session.labels == {item: "zucchini"}
    assert "Redid label zucchini of item" in win.statusBar().currentMessage()
    qtbot.keyClick(win, Qt.Key.Key_Z, CTRL | SHIFT)
    assert ctl.session.labels == {item: "zucchini", second: "zucchini"}
    qtbot.keyClick(win, Qt.Key.Key_Z, CTRL | SHIFT)
    assert "Nothing to redo" in win.statusBar().currentMessage()
    qtbot.keyClick(win, Qt.Key.Key_Z, CTRL)
    third = ctl.current
    qtbot.keyClick(win, Qt.Key.Key_1)
    qtbot.keyClick(win, Qt.Key.Key_Z, CTRL | SHIFT)
    assert ctl.session.labels == {item: "zucchini", third: "class01"}


def test_rank_classes_prefix_then_word_then_substring_then_letters() -> None:
    names = ["cat", "bobcat", "wild cat", "cart", "dog"]
    assert rank_classes(names, "ca") == ["cat", "cart", "wild cat", "bobcat"]
    assert rank_classes(names, "CT") == ["cat", "bobcat", "wild cat", "cart"]  # letters in order
    assert rank_classes(names, "") == names
    assert rank_classes(names, "xyz") == []


def test_merge_and_delete_from_the_classes_menu_say_what_happens_first(qtbot, make_window) -> None:
    win = make_window()
    win.set_workspace(text_workspace(classes=("pos", "neg", "meh")), density=False)
    ctl = win.ctl
    labeled = {}
    for key in (Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3, Qt.Key.Key_3, Qt.Key.Key_2):
        labeled[ctl.current] = key
        qtbot.keyClick(win, key)
    meh = sorted(i for i, k in labeled.items() if k == Qt.Key.Key_3)

    win.merge_action.trigger()
    qtbot.waitUntil(lambda: _visible(ClassOpDialog) is not None)
    dlg = _visible(ClassOpDialog)
    dlg.cls.setCurrentText("meh")
    dlg.into.setCurrentText("pos")
    assert "meh goes away" in dlg.what.text() and "2 labeled items get the label pos (which then has 3)" in (
        dlg.what.text()
    )
    dlg.into.setCurrentText("meh")  # into itself: refused before anything happens
    assert not dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()
    dlg.into.setCurrentText("pos")
    qtbot.mouseClick(dlg.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ctl.session.classes == ["pos", "neg"])
    assert all(ctl.session.label_of(i) == "pos" for i in meh)
    assert len(win.label_view.class_buttons) == 2

    win.delete_action.trigger()
    qtbot.waitUntil(lambda: _visible(ClassOpDialog) is not None)
    dlg = _visible(ClassOpDialog)
    dlg.cls.setCurrentText("neg")
    assert "2 labeled items become unlabeled" in dlg.what.text()
    qtbot.mouseClick(dlg.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ctl.session.classes == ["pos"])
    assert ctl.session.n_labeled == 3
    # One Ctrl+Z per class op, each restoring the class, its place, its key and its labels.
    qtbot.keyClick(win, Qt.Key.Key_Z, CTRL)
    assert ctl.session.classes == ["pos", "neg"] and ctl.session.n_labeled == 5
    qtbot.keyClick(win, Qt.Key.Key_Z, CTRL)
    assert ctl.session.classes == ["pos", "neg", "meh"]
    assert all(ctl.session.label_of(i) == "meh" for i in meh)
    assert win.label_view.class_buttons[2].text().startswith("[3]  meh  (2)")
    qtbot.keyClick(win, Qt.Key.Key_Z, CTRL | SHIFT)  # redo the merge
    assert ctl.session.classes == ["pos", "neg"]


def test_help_lists_every_key_and_where_the_settings_file_is(qtbot, make_window) -> None:
    from PySide6.QtWidgets import QMessageBox

    win = make_window()
    win.set_workspace(text_workspace(), density=False)
    qtbot.keyClick(win, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: _visible(QMessageBox) is not None)
    text = _visible(QMessageBox).text()
    for needle in (
        "Ctrl+M",
        "Ctrl+,",
        "Shift+drag",
        "Ctrl+drag",
        "Shift+1 … Shift+0",
        "Label as class 11 … 20",
        "Label as class 21 … 30",
        "Redo",
        "Ctrl+Shift+Z",
        "Pick a class by name",
        win.settings.fileName(),
    ):
        assert needle in text, needle
    _visible(QMessageBox).close()
