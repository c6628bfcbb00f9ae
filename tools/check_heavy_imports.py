"""Heavy modules are imported inside the functions that need them, never at module level, outside the few modules
meant for them (DESIGN.md: heavy imports are lazy, and never on the GUI thread while the user waits).

    python tools/check_heavy_imports.py [root]

Exit 1 with one line per offence (file:line: module), 0 when clean. Run by .ci/run and pre-commit.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

# module -> the files (relative to the package root) allowed to import it at module level
HEAVY: dict[str, tuple[str, ...]] = {
    "onnxruntime": (),
    "numba": (),
    "pynndescent": (),
    "umap": (),
    "torch": (),
    "ray": (),
    "pyarrow": (),
    # the plots modules, imported by a worker (ui/shell/plots_host.py _import_plots)
    "pyqtgraph": ("ui/plots/",),
}


def offences(root: Path) -> list[str]:
    out = []
    for f in sorted(root.rglob("*.py")):
        rel = f.relative_to(root).as_posix()
        tree = ast.parse(f.read_text(encoding="utf-8"), filename=str(f))
        for node in tree.body:  # module level only: statements inside functions and classes' methods are lazy
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in HEAVY and not any(rel.startswith(p) for p in HEAVY[top]):
                    out.append(
                        f"{f}:{node.lineno}: {name} imported at module level (import it where it is used)"
                    )
    return out


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "aldesk"
    found = offences(root)
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
