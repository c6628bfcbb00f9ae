"""The main window's key actions (every binding of :mod:`aldesk.ui.shell.keys`) and its menu bar."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QAction, QKeySequence

from aldesk.ui.exchange.actions import ExchangeActions
from aldesk.ui.shell import keys


class WindowMenus:
    """A part of :class:`~aldesk.ui.shell.main_window.MainWindow`: its actions and menus."""

    def _make_actions(self) -> None:
        handlers = {
            "accept": lambda: self.ctl and self.ctl.accept(),
            "skip": lambda: self.ctl and self.ctl.skip(),
            "undo": lambda: self.ctl and self.ctl.undo(),
            "redo": lambda: self.ctl and self.ctl.redo(),
            "pick_class": self.ask_pick_class,
            "next": lambda: self.ctl and self.ctl.move(1),
            "prev": lambda: self.ctl and self.ctl.move(-1),
            "new_class": self.ask_new_class,
            "grid": self.show_grid,
            "more_like_this": self.more_like_this,
            "help": self.show_help,
            "find": self._find_item,
            "quit": self.close,
        }
        for n in range(1, keys.N_CLASS_KEYS + 1):
            # partial, not a lambda default: triggered(bool) would overwrite the default argument.
            handlers[f"class_{n}"] = partial(self._class_key, n)
        for a in keys.ACTIONS:
            act = QAction(a.label, self)
            act.setShortcuts(self.key_bindings[a.name])
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.triggered.connect(handlers[a.name])
            self.addAction(act)
            self.key_actions[a.name] = act
        # Menu actions with the platform's standard keys (QKeySequence.StandardKey), the old ones kept after them.
        self.open_action = QAction("Open project…", self)
        self.open_action.setShortcuts(QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self.ask_open_project)
        self.settings_action = QAction("Labeling settings (strategy, k, audit)…", self)
        self.settings_action.setShortcuts(
            keys.standard_keys(QKeySequence.StandardKey.Preferences, ("Ctrl+,",))
        )
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.settings_action.triggered.connect(self.ask_settings)
        self._update_action_state()

    @Slot()
    def _find_item(self) -> None:
        """Find (Ctrl+F): the Browse and fix tab, its search field focused."""
        browse = getattr(self, "browse", None)  # made with the first workspace
        if self.ctl is None or browse is None:
            return
        self.tabs.setCurrentWidget(browse)
        browse.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        browse.search.selectAll()

    def _make_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        for text, slot in (
            ("Open image folder…", self.ask_open_images),
            ("Open CSV of texts…", self.ask_open_texts),
            ("Compare with…", self.quality.ask_compare),
            ("Start page", self._to_start),
        ):
            file.addAction(text).triggered.connect(slot)
        file.insertAction(file.actions()[-1], self.open_action)
        file.addSeparator()
        self.rescan_action = file.addAction("Rescan the data (new and missing files)")
        self.rescan_action.triggered.connect(self.rescan_project)
        file.addAction("Add a source (a second folder or CSV)…").triggered.connect(self.ask_add_source)
        self.opener.notice.connect(lambda text: self.statusBar().showMessage(text, 15000))
        self.exchange = ExchangeActions(self)  # File › Export… and Import labels… (their dialogs and tasks)
        file.addAction("Export…").triggered.connect(self.exchange.ask_export)
        file.addAction("Import labels…").triggered.connect(self.exchange.ask_import)
        file.addSeparator()
        file.addAction(self.key_actions["quit"])
        classes = bar.addMenu("&Classes")
        classes.addAction(self.key_actions["new_class"])
        self.rename_action = classes.addAction("Rename class…")
        self.rename_action.triggered.connect(self.ask_rename_class)
        self.merge_action = classes.addAction("Merge class into another…")
        self.merge_action.triggered.connect(lambda: self.ask_class_op("merge"))
        self.delete_action = classes.addAction("Delete class…")
        self.delete_action.triggered.connect(lambda: self.ask_class_op("delete"))
        classes.addSeparator()
        classes.addAction(self.key_actions["pick_class"])
        from aldesk.ui.labeling.zero_shot import ZeroShotAction

        self.zero_shot = ZeroShotAction(self)
        classes.addAction("Describe the classes (zero-shot)…").triggered.connect(self.zero_shot.ask)
        edit = bar.addMenu("&Edit")
        edit.addAction(self.key_actions["undo"])
        edit.addAction(self.key_actions["redo"])
        review = bar.addMenu("&Review")
        self.review_action = review.addAction("Review suspicious labels")
        self.review_action.setShortcut("Ctrl+R")
        self.review_action.triggered.connect(self.quality.review_labels)
        settings = bar.addMenu("&Settings")
        settings.addAction(self.settings_action)
        from aldesk.ui.settings.reembed import ReembedAction

        self.reembed = ReembedAction(self)
        settings.addAction("Re-embed with another model…").triggered.connect(self.reembed.ask)
        helpm = bar.addMenu("&Help")
        helpm.addAction(self.key_actions["help"])
        helpm.addAction("Show the first-run hints").triggered.connect(self.show_hints)

    def _class_key(self, n: int, *_: object) -> None:
        if self.ctl is not None:
            self.ctl.label_number(n)

    def _update_action_state(self) -> None:
        labeling = (
            self.ctl is not None and self.stack.currentWidget() is self.work and self.tabs.currentIndex() == 0
        )
        for name, act in self.key_actions.items():
            # Undo/redo work in browse too (relabels there are undoable); quit and help work everywhere.
            act.setEnabled(
                name in ("quit", "help")
                or labeling
                or (name in ("undo", "redo", "find") and self.ctl is not None)
            )
