"""Qt-free engine of aldesk: sources -> embed -> model (k-NN) + query (what to ask) -> labeling (session) -> project.

One folder per domain (docs/architecture.md): ``sources/`` read data, ``embed/`` turns items into vectors,
``neighbours/`` builds and stores the whole-pool graph, ``model/`` is the incremental k-NN, ``query/`` the
measures (eer among them), the strategy registry and the field's baselines, ``labeling/`` the session (labels,
undo, audits, the action log), ``project/`` the file, ``evaluate/`` simulated learning curves, ``exchange/``
exports and imports, ``maps/`` the 2-D map. Shared basics stay flat: dataset, names, progress, synthetic.

Importing this package must stay cheap and must never load Qt (tests check it).
Heavy modules (onnxruntime, pynndescent/numba) are imported inside the functions that need them.
"""

from aldesk.core.progress import Cancelled, UserError

__all__ = ["Cancelled", "UserError"]
