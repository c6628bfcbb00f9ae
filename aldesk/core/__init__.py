"""Qt-free engine of aldesk: sources -> embed -> knn/scoring -> session -> project.

Importing this package must stay cheap and must never load Qt (tests check it).
Heavy modules (onnxruntime, pynndescent/numba) are imported inside the functions that need them.
"""

from aldesk.core.progress import Cancelled, UserError

__all__ = ["Cancelled", "UserError"]
