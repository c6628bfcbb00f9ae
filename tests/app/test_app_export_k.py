"""``aldesk export --predicted`` predicts with the session the window would open: the project's saved k and
strategy, not the defaults (real texts, real ONNX embedding, the export in a second process)."""

from __future__ import annotations

import csv

import numpy as np

from aldesk.core.labeling.session import DEFAULT_K
from tests.app.conftest import DEMO, cli

SAVED_K = 3


def test_export_predicted_uses_the_saved_k(tmp_path):
    from aldesk.app.workspace import card_for
    from aldesk.core.embed import embed_dataset
    from aldesk.core.exchange.export import session_predictions
    from aldesk.core.project import Project

    home = tmp_path / "home"
    data = tmp_path / "texts.csv"
    lines = (DEMO / "texts.csv").read_text(encoding="utf-8").splitlines()
    data.write_text("\n".join(lines[:61]) + "\n", encoding="utf-8")  # the header and 60 reviews
    project = tmp_path / "p.aldesk"
    r = cli("init", str(data), "--project", str(project), "--label-column", "label", home=home)
    assert r.returncode == 0, r.stderr

    with Project.open(project) as p:
        ds = p.dataset()
        # the cache the subprocess reads (XDG_CACHE_HOME=home/cache): it embeds nothing twice
        res = embed_dataset(ds, card_for(p), cache_dir=home / "cache" / "aldesk" / "embeddings")
        session = p.open_session(res.vectors, eligible=res.ok, k=SAVED_K)
        truth = ds.known_labels
        for i in range(0, 24, 2):  # twelve labels, as the window journals them
            session.label(i, truth[i])
        p.set_setting("session/k", SAVED_K)  # as the Settings dialog saves it
        p.set_setting("session/strategy", "margin")
        want = session_predictions(p.open_session(res.vectors, eligible=res.ok, k=SAVED_K))
        default = session_predictions(p.open_session(res.vectors, eligible=res.ok, k=DEFAULT_K))
    # the test can fail: k = 3 and the default k predict differently on this data
    assert not np.allclose(want[1], default[1])

    out = tmp_path / "all.csv"
    r = cli("export", str(project), "--format", "csv", "--predicted", "--out", str(out), home=home)
    assert r.returncode == 0, r.stderr
    with open(out, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 60
    got_pred = [row["predicted"] or None for row in rows]
    got_conf = np.array([float(row["confidence"]) for row in rows])
    assert got_pred == list(want[0])
    assert np.allclose(got_conf, want[1], atol=1e-4)  # the CSV keeps four decimals
    assert not np.allclose(got_conf, default[1], atol=1e-4)
