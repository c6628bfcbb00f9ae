"""A second opinion (aldesk/core/quality/compare.py): kappa as sklearn defines it, per-class agreement, matching by
key and by content hash, and a merge that never writes to its inputs unless told to."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from aldesk.core.dataset import Dataset
from aldesk.core.labeling.actions import Action
from aldesk.core.progress import UserError
from aldesk.core.project import Project
from aldesk.core.quality import compare

TEXTS = [f"review number {i}" for i in range(30)]
A_LABELS = {i: ("pos" if i % 3 else "neg") for i in range(20)}  # items 0..19
B_LABELS = {i: ("pos" if i % 3 else "neg") for i in range(5, 25)}  # items 5..24, with some disagreements
for i in (6, 7, 9, 12):
    B_LABELS[i] = "neu" if i == 12 else ("neg" if A_LABELS[i] == "pos" else "pos")


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _project(path: Path, keys: list[str], labels: dict[int, str], hashes: list[str] | None = None) -> Path:
    classes = sorted(set(labels.values()))
    p = Project.create(path, Dataset("text", path.parent / "t.csv", keys), classes, model_id="m")
    if hashes is not None:
        p.set_hashes(hashes)
    seq = p.next_seq()
    acts = []
    for c in classes:
        items = tuple(i for i, lab in labels.items() if lab == c)
        acts.append(Action("label", items, c, (None,) * len(items), "user", seq=seq + len(acts)))
    p.journal_many(acts)
    p.close()
    return path


def _kappa_by_hand(a: list[str], b: list[str]) -> float:
    """sklearn.metrics.cohen_kappa_score, written out: confusion matrix C, p_o = trace / n,
    p_e = sum_k (row_k / n)(col_k / n), kappa = (p_o - p_e) / (1 - p_e)."""
    cats = sorted(set(a) | set(b))
    C = np.zeros((len(cats), len(cats)))
    for x, y in zip(a, b, strict=True):
        C[cats.index(x), cats.index(y)] += 1
    n = C.sum()
    po = np.trace(C) / n
    pe = float((C.sum(axis=1) / n) @ (C.sum(axis=0) / n))
    return float((po - pe) / (1 - pe))


def _fingerprint(path: Path) -> list[tuple[str, int, bytes]]:
    """Every file of the project's folder: name, mtime and bytes (an input must not change, nor gain companions)."""
    return sorted(
        (f.name, f.stat().st_mtime_ns, f.read_bytes()) for f in path.parent.iterdir() if f.is_file()
    )


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = _project(tmp_path / "a" / "a.aldesk", TEXTS, A_LABELS)
    b = _project(tmp_path / "b" / "b.aldesk", TEXTS, B_LABELS)
    return a, b


def test_kappa_and_per_class_agreement_match_the_formula(pair: tuple[Path, Path]) -> None:
    a, b = pair
    before = _fingerprint(a) + _fingerprint(b)
    cmp = compare.compare_files(a, b)
    both = sorted(set(A_LABELS) & set(B_LABELS))
    la, lb = [A_LABELS[i] for i in both], [B_LABELS[i] for i in both]
    assert len(cmp.pairs) == len(both) == 15
    assert cmp.kappa == pytest.approx(_kappa_by_hand(la, lb))
    assert cmp.observed == pytest.approx(11 / 15)
    assert cmp.only_a == 5 and cmp.only_b == 5
    assert [p.key for p in cmp.disagreements] == [TEXTS[i] for i in (6, 7, 9, 12)]
    per = {c.name: c for c in cmp.per_class}
    n_a = sum(x == "pos" for x in la)
    n_b = sum(y == "pos" for y in lb)
    n_both = sum(x == y == "pos" for x, y in zip(la, lb, strict=True))
    assert (per["pos"].n_a, per["pos"].n_b, per["pos"].both) == (n_a, n_b, n_both)
    assert per["pos"].agreement == pytest.approx(2 * n_both / (n_a + n_b))
    assert per["neu"].n_a == 0 and per["neu"].n_b == 1 and per["neu"].agreement == 0.0
    assert _fingerprint(a) + _fingerprint(b) == before  # read-only: mtimes and bytes unchanged, nothing added


def test_kappa_edge_cases() -> None:
    assert compare.cohen_kappa([], []) == (None, None, None)
    assert compare.cohen_kappa(["x", "x"], ["x", "x"]) == (None, 1.0, 1.0)  # undefined: one class only
    k, po, pe = compare.cohen_kappa(["x", "y"], ["y", "x"])
    assert (k, po, pe) == (pytest.approx(-1.0), 0.0, 0.5)


def test_items_are_matched_by_content_hash_and_a_changed_file_is_not_compared(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    keys_a = [f"img_{i:03}.png" for i in range(6)]
    hashes_a = [_sha(f"content {i}") for i in range(6)]
    # B: the same images renamed (moved into a folder), except img_005 whose key names another content.
    keys_b = [f"sorted/{i}.png" for i in range(5)] + ["img_005.png"]
    hashes_b = hashes_a[:5] + [_sha("something else")]
    la = dict.fromkeys(range(6), "cat")
    lb = {0: "cat", 1: "dog", 2: "cat", 3: "cat", 4: "cat", 5: "dog"}
    a = _project(tmp_path / "a" / "a.aldesk", keys_a, la, hashes_a)
    b = _project(tmp_path / "b" / "b.aldesk", keys_b, lb, hashes_b)
    cmp = compare.compare_files(a, b)
    assert {p.by for p in cmp.pairs} == {"hash"} and len(cmp.pairs) == 5
    assert cmp.content_differs == ["img_005.png"]
    assert [(p.key, p.label_b) for p in cmp.disagreements] == [("img_001.png", "dog")]


def test_merge_writes_a_new_project_and_records_whose_label_won(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    a, b = pair
    before = _fingerprint(a) + _fingerprint(b)
    out = tmp_path / "merged.aldesk"
    report = compare.merge(a, b, out, prefer="B")
    assert _fingerprint(a) + _fingerprint(b) == before
    assert report.origin == "merge:b.aldesk"
    assert report.from_b == 4 + 5 and report.kept_a == 0  # 4 disagreements + 5 items only B labeled
    with Project.open(out, readonly=True) as m:
        rows = {r.item: r for r in m.label_rows()}
        expected = {**A_LABELS, **B_LABELS}
        assert {i: r.cls for i, r in rows.items()} == expected
        assert {i for i, r in rows.items() if r.origin == "merge:b.aldesk"} == {
            6,
            7,
            9,
            12,
            20,
            21,
            22,
            23,
            24,
        }
        assert rows[0].origin == "user"  # A's own labels keep their origin (and its log, audits included)
        assert "neu" in m.classes
    with pytest.raises(UserError, match="exists already"):
        compare.merge(a, b, out, prefer="B")
    with pytest.raises(UserError, match="exists already"):
        compare.merge(a, b, a, prefer="B")  # an input is never the output
    assert _fingerprint(a) + _fingerprint(b) == before


def test_merge_preferring_a_keeps_a_on_disagreements_and_into_a_needs_asking(pair: tuple[Path, Path]) -> None:
    a, b = pair
    b_before = _fingerprint(b)
    with pytest.raises(UserError, match="not both"):
        compare.merge(a, b, None, prefer="A")  # neither an output nor --into-a: refused, nothing written
    report = compare.merge(a, b, None, prefer="A", into_a=True)
    assert report.path == a and report.kept_a == 4 and report.from_b == 5
    with Project.open(a, readonly=True) as m:
        labels = m.labels()
        assert all(labels[i] == A_LABELS[i] for i in A_LABELS)
        assert {i for i, r in ((r.item, r) for r in m.label_rows()) if r.origin.startswith("merge:")} == set(
            range(20, 25)
        )
    assert _fingerprint(b) == b_before
