import subprocess
import sys


def test_core_imports_no_qt_and_no_heavy_modules():
    code = (
        "import sys, aldesk.core, aldesk.core.labeling.session, aldesk.core.query.registry, aldesk.core.evaluate.simulate, aldesk.core.model.knn\n"
        "import importlib.util\n"
        "for m in ['aldesk.core.embed', 'aldesk.core.sources', 'aldesk.core.project', 'aldesk.core.exchange.export']:\n"
        "    if importlib.util.find_spec(m) is not None: __import__(m)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'shiboken6', 'pyqtgraph', 'onnxruntime', 'pynndescent', 'numba'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"aldesk.core loaded: {out.stdout}"
