"""The app layer and the CLI need no Qt: importing them loads no PySide6 or pyqtgraph, and ``simulate --plot``
writes its PNG in a process where PySide6 cannot be imported at all."""

from __future__ import annotations

import subprocess
import sys

from tests.app.conftest import DEMO, cli

BLOCK_QT = """
import sys
class _NoQt:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph'):
            raise ImportError(f'{name} is blocked in this test')
        return None
sys.meta_path.insert(0, _NoQt())
"""


def test_app_and_cli_import_no_qt():
    code = (
        "import sys\n"
        "import aldesk.app, aldesk.app.paths, aldesk.app.settings, aldesk.app.workspace, aldesk.app.curves_png\n"
        "import aldesk.cli, aldesk.cli.app_cmds, aldesk.cli.project_cmds, aldesk.cli.simulate_cmd\n"
        "aldesk.cli.build_parser()\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph'))\n"
        "bad += sorted(m for m in sys.modules if m.startswith('aldesk.ui'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"loaded: {out.stdout}"


def test_simulate_plot_without_pyside6(tmp_path):
    from PIL import Image

    png = tmp_path / "curves.png"
    r = cli(
        "simulate",
        str(DEMO / "texts.csv"),
        "--label-column",
        "label",
        "--folds",
        "2",
        "--budget",
        "25",
        "--strategies",
        "uid,margin",
        "--plot",
        str(png),
        "--quiet",
        home=tmp_path / "home",
        pre=BLOCK_QT,
    )
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    with Image.open(png) as img:
        assert img.format == "PNG" and img.size == (1200, 800)
        rgb = img.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # axes, text, three curves: not a blank image
    white = max(colours)[1]
    assert white == (255, 255, 255)
    # the strategies' colours are drawn: the palette's first two and the grey of random
    present = {c for _, c in colours}
    for want in ((0x4E, 0x79, 0xA7), (0xF2, 0x8E, 0x2B), (0x7F, 0x7F, 0x7F)):
        assert want in present, want
    assert not list(tmp_path.glob(".curves.png.aldesk-tmp-*"))  # no temporary file left


def test_the_blocker_really_blocks(tmp_path):
    """The blocker above is effective: a command that needs Qt fails under it (so the test above proves the
    plot path does not import it)."""
    code = BLOCK_QT + "\nimport PySide6.QtCore\n"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert r.returncode != 0 and "blocked in this test" in r.stderr
