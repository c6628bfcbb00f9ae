"""Enter (accept the k-NN's suggestion) is logged as origin "suggestion", a class key as "user": exports and the
audit can tell an accepted prediction from a typed label (real window, real keys, the real project file)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from aldesk.core.project import Project
from tests.ui.helpers import class_key
from tests.ui.test_settings import _project_workspace


def test_enter_logs_a_suggestion_and_a_class_key_a_user_label(qtbot, make_window, tmp_path: Path) -> None:
    path = tmp_path / "p.aldesk"
    win = make_window()
    win.set_workspace(_project_workspace(path), density=False)
    win.ctl.session.audit_every = 0  # no audit item: every pick keeps the origin its key gives
    typed = []
    for n in (1, 2, 3, 1, 2, 3):
        typed.append(win.ctl.current)
        qtbot.keyClick(win, class_key(n))
    accepted = win.ctl.current
    predicted = win.ctl.session.predict(accepted).predicted
    assert predicted is not None
    qtbot.keyClick(win, Qt.Key.Key_Return)
    assert win.ctl.session.label_of(accepted) == predicted
    with Project.open(path, readonly=True) as p:  # what was committed, read by a second connection
        rows = {r.item: r for r in p.label_rows()}
    assert rows[accepted].origin == "suggestion" and rows[accepted].cls == predicted
    assert all(rows[i].origin == "user" for i in typed)
