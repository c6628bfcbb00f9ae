"""Class names (issue 11, item 18): one set of rules for create, add_class, rename_class, import and the CLI.

Names with NUL, a right-to-left override, 10,000 characters or a decomposed (NFD) twin of an existing class are
refused in one line, and nothing about the project changes; the command line runs as a real second process.
"""

from __future__ import annotations

import subprocess
import sys
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from aldesk.core.dataset import Dataset
from aldesk.core.exchange.export import export_project
from aldesk.core.exchange.imports import import_labels
from aldesk.core.names import MAX_CLASS_NAME, check_class_names, clean_class_name
from aldesk.core.progress import UserError
from aldesk.core.project import Project, ProjectError

NFC = "café"
NFD = unicodedata.normalize("NFD", NFC)
BAD = {
    "nul": ("bad\x00name", "control character (U+0000)"),
    "newline": ("two\nlines", "control character (U+000A)"),
    "rtl override": ("evil\u202egnp.exe", "text-direction control character (U+202E)"),
    "isolate": ("a\u2066b", "text-direction control character (U+2066)"),
    "line separator": ("a\u2028b", "line separator"),
    "surrogate": ("a\udcffb", "surrogate"),
    "10,000 characters": ("x" * 10_000, "10,000 characters long"),
    "wide bytes": ("😀" * 60, "bytes long in UTF-8"),
}


def _one_line(exc: BaseException) -> str:
    msg = str(exc)
    assert msg and "\n" not in msg and "\r" not in msg and "\x00" not in msg and "\u202e" not in msg, msg
    assert len(msg) < 300, msg  # a 10,000-character name is cut in the message
    return msg


def _dataset(n: int = 6) -> Dataset:
    return Dataset("text", Path("texts.csv"), [f"text {i}" for i in range(n)])


def _vectors(n: int = 6) -> np.ndarray:
    v = np.random.default_rng(0).normal(size=(n, 4)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.mark.parametrize("case", list(BAD))
def test_create_refuses_bad_names_in_one_line(tmp_path: Path, case: str) -> None:
    name, why = BAD[case]
    with pytest.raises(ProjectError) as err:
        Project.create(tmp_path / "p.aldesk", _dataset(), ["ok", name], model_id="m")
    assert why in _one_line(err.value)
    assert not (tmp_path / "p.aldesk").exists()


def test_create_refuses_nfd_twin_and_non_nfc(tmp_path: Path) -> None:
    with pytest.raises(ProjectError) as err:
        Project.create(tmp_path / "p.aldesk", _dataset(), [NFC, NFD], model_id="m")
    assert "listed twice" in _one_line(err.value) and "looks the same" in str(err.value)
    with pytest.raises(ProjectError) as err:
        Project.create(tmp_path / "p.aldesk", _dataset(), [NFD], model_id="m")
    assert "NFC" in _one_line(err.value)
    # Exactly at the limits is fine.
    p = Project.create(tmp_path / "p.aldesk", _dataset(), [NFC, "y" * MAX_CLASS_NAME, "日本"], model_id="m")
    assert p.classes == [NFC, "y" * MAX_CLASS_NAME, "日本"]
    p.close()


def test_add_and_rename_class_refuse_bad_names_and_twins(tmp_path: Path) -> None:
    path = tmp_path / "p.aldesk"
    p = Project.create(path, _dataset(), [NFC, "dog"], model_id="m")
    s = p.open_session(_vectors())
    for name in (NFD, BAD["nul"][0], BAD["rtl override"][0], BAD["10,000 characters"][0]):
        with pytest.raises(ProjectError) as err:
            s.add_class(name)
        _one_line(err.value)
        with pytest.raises(ProjectError) as err:
            s.rename_class("dog", name)
        _one_line(err.value)
    s.add_class("bird")
    s.rename_class("dog", "hound")
    p.close()
    reopened = Project.open(path)
    assert reopened.classes == [NFC, "hound", "bird"]  # nothing refused was stored
    reopened.close()


def _label_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    import csv

    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["item", "label"])
        w.writerows(rows)
    return path


def test_import_labels_normalises_and_refuses_bad_labels(tmp_path: Path) -> None:
    path = tmp_path / "p.aldesk"
    p = Project.create(path, _dataset(), [NFC], model_id="m")
    # An NFD label matches the NFC class: no look-alike second class.
    report = import_labels(p, _label_csv(tmp_path / "a.csv", [("text 0", NFD), ("text 1", f" {NFD} ")]))
    assert report.labeled == 2 and report.new_classes == []
    assert p.classes == [NFC]
    # A label that cannot be a class refuses the whole file, naming the row; nothing is imported.
    bad = _label_csv(tmp_path / "b.csv", [("text 2", "ok"), ("text 3", "evil\u202egnp"), ("text 4", "x\x00")])
    with pytest.raises(UserError) as err:
        import_labels(p, bad)
    msg = _one_line(err.value)
    assert "row 3 of b.csv" in msg and "U+202E" in msg and "Nothing was imported" in msg
    assert p.classes == [NFC] and sorted(p.labels()) == [0, 1]
    p.close()


def test_label_studio_config_stays_valid_xml(tmp_path: Path) -> None:
    # The names that are allowed (quotes, ampersands, non-Latin scripts) keep the Label Studio config parseable;
    # the refused ones (a NUL above all) never get this far.
    names = ['a "quoted" & <odd> name', NFC, "日本語"]
    p = Project.create(tmp_path / "p.aldesk", _dataset(), names, model_id="m")
    s = p.open_session(_vectors())
    s.label(0, NFC)
    out = tmp_path / "ls.json"
    export_project(p, "labelstudio", out)
    p.close()
    root = ET.parse(out.with_name("ls.label_config.xml")).getroot()
    assert [c.get("value") for c in root.iter("Choice")] == names


def test_clean_class_name_and_rules_directly() -> None:
    assert clean_class_name(f"  {NFD}\t") == NFC
    check_class_names([NFC, "dog", "a b", "😀"])
    with pytest.raises(UserError, match="cannot be empty"):
        check_class_names(["a", "  "])
    with pytest.raises(UserError, match="starts or ends with spaces"):
        check_class_names([" a"])


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_DATA_HOME": str(home / "data"),
        "HOME": str(home),
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
    }
    return subprocess.run(
        [sys.executable, "-m", "aldesk", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("classes", [f"ok,{BAD['rtl override'][0]}", "ok," + "z" * 10_000])
def test_cli_init_classes_refused_in_one_line(tmp_path: Path, classes: str) -> None:
    data = tmp_path / "t.csv"
    data.write_text("text\nhello there\ngeneral kenobi\n", encoding="utf-8")
    project = tmp_path / "p.aldesk"
    r = _cli("init", str(data), "--project", str(project), "--classes", classes, home=tmp_path)
    assert r.returncode != 0 and "Traceback" not in r.stderr, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "class" in lines[0] and len(lines[0]) < 300, r.stderr
    assert not project.exists()


def test_cli_init_and_open_read_a_class_list_alike(tmp_path: Path) -> None:
    """`init` and `open` (and the new-project dialog) read --classes with one function: a repeat, in any Unicode
    form, is one class (issue 12: `open a,b,a` dropped the repeat while `init` kept it and then failed)."""
    from aldesk.cli.app_cmds import _classes
    from aldesk.ui.opening.new_project_dialog import parse_classes

    typed = f"{NFD}, b ,{NFC},b,,a"
    assert _classes(typed) == parse_classes(typed) == [NFC, "b", "a"]
    data = tmp_path / "t.csv"
    data.write_text("text\nhello there\ngeneral kenobi\n", encoding="utf-8")
    project = tmp_path / "p.aldesk"
    r = _cli("init", str(data), "--project", str(project), "--classes", typed, home=tmp_path)
    assert r.returncode == 0, r.stderr
    with Project.open(project, readonly=True) as p:
        assert p.classes == [NFC, "b", "a"]
