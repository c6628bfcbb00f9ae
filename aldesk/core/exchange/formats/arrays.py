"""Array exports for the tools that work on embeddings and probabilities: cleanlab's inputs, and the embeddings.

cleanlab is AGPL-licensed: aldesk writes the files its documentation asks for and never imports it.

* ``cleanlab``: ``labels.npy`` (int64, class index per labeled item), ``pred_probs.npy`` (float32, one row of
  OUT-OF-SAMPLE class probabilities per labeled item: the exact leave-one-out k-NN,
  :func:`aldesk.core.exchange.model_outputs.loo_probabilities`), ``classes.json`` (index -> name) and
  ``items.csv`` (row -> item, label, origin), rows in the same order in all of them. Then
  ``cleanlab.filter.find_label_issues(np.load("labels.npy"), np.load("pred_probs.npy"))``.
* ``embeddings``: ``vectors.npy`` (float32, one L2-normalised row per usable item) and ``items.csv`` (row ->
  item, label, origin; an empty label for an unlabeled item).
"""

from __future__ import annotations

import json

import numpy as np

from aldesk.core.exchange.cells import write_csv
from aldesk.core.exchange.formats.job import Job
from aldesk.core.progress import UserError


def write_cleanlab(job: Job) -> None:
    outputs = job.need_outputs("cleanlab")
    rows = [r for r in job.rows if r.label is not None]  # cleanlab checks given labels, not predictions
    if not rows:
        raise UserError("The cleanlab export needs labeled items; this project has none yet.")
    classes = list(outputs.classes)
    idx = np.array([r.index for r in rows], dtype=np.int64)
    labels = np.array([classes.index(r.label) for r in rows], dtype=np.int64)  # type: ignore[arg-type]
    probs = outputs.loo_probabilities(idx).astype(np.float32)
    np.save(job.out / "labels.npy", labels, allow_pickle=False)
    np.save(job.out / "pred_probs.npy", probs, allow_pickle=False)
    (job.out / "classes.json").write_text(json.dumps(classes, ensure_ascii=False), encoding="utf-8")
    write_csv(job.out / "items.csv", ("item", "label", "origin"), ((r.item, r.label, r.origin) for r in rows))
    missing = sorted(set(range(len(classes))) - set(labels.tolist()))
    if missing:
        job.report.notes.append(
            "No labeled item of " + ", ".join(classes[c] for c in missing) + " (cleanlab needs every class)."
        )


def write_embeddings(job: Job) -> None:
    outputs = job.need_outputs("embeddings")
    idx = np.array([r.index for r in job.rows], dtype=np.int64)
    vectors = np.ascontiguousarray(outputs.vectors[idx], dtype=np.float32)
    np.save(job.out / "vectors.npy", vectors, allow_pickle=False)
    write_csv(
        job.out / "items.csv",
        ("item", "label", "origin"),
        ((r.item, r.label, "" if r.label is None else r.origin) for r in job.rows),
    )
