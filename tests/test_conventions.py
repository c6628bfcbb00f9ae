"""The house rules that are checked by tools (.ci/run, pre-commit) are checked by tests too, so they cannot rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _check(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "tools" / "check_heavy_imports.py"), str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_heavy_modules_are_imported_lazily_in_the_package() -> None:
    r = _check(REPO / "aldesk")
    assert r.returncode == 0, r.stdout


def test_the_heavy_import_check_finds_a_module_level_import(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "ui" / "plots").mkdir(parents=True)
    (pkg / "lazy.py").write_text("def f():\n    import numba\n    return numba\n")
    (pkg / "ui" / "plots" / "chart.py").write_text("import pyqtgraph as pg\n")  # a place meant for it
    assert _check(pkg).returncode == 0
    (pkg / "core.py").write_text("import os\nfrom onnxruntime import InferenceSession\n")
    r = _check(pkg)
    assert (
        r.returncode == 1
        and r.stdout.strip()
        == f"{pkg / 'core.py'}:2: onnxruntime imported at module level (import it where it is used)"
    )


def test_there_is_no_import_cycle_and_the_checker_finds_one(tmp_path: Path) -> None:
    pytest.importorskip("grimp", reason="import-linter's graph library: pip install -e '.[dev]'")
    r = subprocess.run(
        [sys.executable, str(REPO / "tools" / "check_cycles.py")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=REPO,
    )
    assert r.returncode == 0, r.stdout
    pkg = tmp_path / "cyc"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from cyc import b\n")
    (pkg / "b.py").write_text(
        "def f():\n    from cyc import a  # a function-level import closes the cycle too\n"
    )
    code = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r}); sys.path.insert(0, {str(REPO / 'tools')!r}); "
        "import check_cycles; print(check_cycles.cycles('cyc'))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stderr
    assert "['cyc.a', 'cyc.b']" in r.stdout
