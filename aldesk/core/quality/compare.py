"""A second opinion: two projects' labels on the same items, their agreement, and a merge that says whose label won.

Items are matched by key (the image path in the data folder, or the text itself). Where both projects stored a
content hash for the item (the embedder's sha1 of the file or text), a key whose contents differ is NOT the same
item (two folders that both have ``img_001.png``), and an item renamed or moved between the two is found by its
hash. Agreement is Cohen's kappa over the items both labeled, (p_o - p_e) / (1 - p_e), with class names as the
categories, and per class the specific agreement 2 n_both / (n_A + n_B) (how often a label of that class given
by one is given by the other too).

Both inputs are read as read-only snapshots (nothing is written to them, not even a backup). :func:`merge` writes
either a NEW project file (a copy of A plus the merged labels) or, only when asked explicitly, into A; every label
it takes from B is logged with origin ``merge:<B's file name>``, one undo reverting the whole merge.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from aldesk.core.labeling.actions import grouped_labels
from aldesk.core.progress import UserError
from aldesk.core.project import Project, ProjectError


@dataclass(frozen=True)
class Pair:
    """One item both projects labeled: its index and key in A and in B, and the two labels."""

    a: int
    b: int
    key: str
    label_a: str
    label_b: str
    by: str  # "key" or "hash"

    def to_dict(self) -> dict:
        return {
            "item": self.key,
            "a": self.label_a,
            "b": self.label_b,
            "matched_by": self.by,
        }


@dataclass(frozen=True)
class ClassAgreement:
    name: str
    n_a: int  # items both labeled that A put in this class
    n_b: int
    both: int  # ... that both put in it
    agreement: float | None  # 2 both / (n_a + n_b); None when neither used the class


@dataclass
class Comparison:
    path_a: Path
    path_b: Path
    pairs: list[Pair]
    classes: list[str]
    kappa: float | None  # None when undefined (both gave one and the same class to everything)
    observed: float | None  # share of pairs that agree
    expected: float | None  # agreement expected by chance from the two label distributions
    per_class: list[ClassAgreement]
    only_a: int  # labeled in A only (or not an item of B)
    only_b: int
    content_differs: list[str] = field(default_factory=list)  # same key, different content: not compared

    @property
    def disagreements(self) -> list[Pair]:
        """The disagreement queue: pairs whose labels differ, in A's item order."""
        return [p for p in self.pairs if p.label_a != p.label_b]

    def to_dict(self) -> dict:
        return {
            "a": str(self.path_a),
            "b": str(self.path_b),
            "both_labeled": len(self.pairs),
            "only_a": self.only_a,
            "only_b": self.only_b,
            "kappa": self.kappa,
            "observed_agreement": self.observed,
            "expected_agreement": self.expected,
            "per_class": [
                {"class": c.name, "a": c.n_a, "b": c.n_b, "both": c.both, "agreement": c.agreement}
                for c in self.per_class
            ],
            "content_differs": self.content_differs,
            "disagreements": [p.to_dict() for p in self.disagreements],
        }


def cohen_kappa(a: list[str], b: list[str]) -> tuple[float | None, float | None, float | None]:
    """(kappa, observed, expected agreement) of two raters' labels on the same items."""
    n = len(a)
    if n != len(b):
        raise ValueError("both raters must label the same items")
    if n == 0:
        return None, None, None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    cats = set(a) | set(b)
    expected = sum((a.count(c) / n) * (b.count(c) / n) for c in cats)
    if expected >= 1.0:
        return None, observed, expected
    return (observed - expected) / (1.0 - expected), observed, expected


def _hashes(p: Project) -> list[str | None]:
    return [h or None for h in p.hashes()]


def match(a: Project, b: Project) -> tuple[list[tuple[int, int, str]], list[str]]:
    """(A index, B index, "key" | "hash") for every item of A that is also an item of B; and the keys that name
    an item in both but with different contents."""
    keys_b = {k: i for i, k in enumerate(b.dataset().keys)}
    ha, hb = _hashes(a), _hashes(b)
    by_hash: dict[str, int] = {}
    dup: set[str] = set()
    for i, h in enumerate(hb):
        if h is not None:
            if h in by_hash:
                dup.add(h)  # two items with one content: a hash cannot say which one
            by_hash[h] = i
    out, differs = [], []
    for i, key in enumerate(a.dataset().keys):
        j = keys_b.get(key)
        if j is not None and not (ha[i] and hb[j] and ha[i] != hb[j]):
            out.append((i, j, "key"))
            continue
        if j is not None:
            differs.append(key)
        h = ha[i]
        if h is not None and h in by_hash and h not in dup:
            out.append((i, by_hash[h], "hash"))
    return out, differs


def compare(a: Project, b: Project) -> Comparison:
    """Agreement of two open projects (open them read-only: this writes nothing)."""
    la, lb = a.labels(), b.labels()
    matched, differs = match(a, b)
    keys_a = a.dataset().keys
    pairs = [Pair(i, j, keys_a[i], la[i], lb[j], by) for i, j, by in matched if i in la and j in lb]
    in_pairs_b = {p.b for p in pairs}
    kappa, observed, expected = cohen_kappa([p.label_a for p in pairs], [p.label_b for p in pairs])
    classes = list(a.classes) + [c for c in b.classes if c not in a.classes]
    per_class = []
    for c in classes:
        n_a = sum(p.label_a == c for p in pairs)
        n_b = sum(p.label_b == c for p in pairs)
        both = sum(p.label_a == c and p.label_b == c for p in pairs)
        per_class.append(ClassAgreement(c, n_a, n_b, both, 2 * both / (n_a + n_b) if n_a + n_b else None))
    return Comparison(
        Path(a.path),
        Path(b.path),
        pairs,
        classes,
        kappa,
        observed,
        expected,
        per_class,
        only_a=len(la) - len(pairs),
        only_b=len(lb) - len(in_pairs_b),
        content_differs=differs,
    )


def compare_files(path_a: Path, path_b: Path) -> Comparison:
    """Open both read-only (no lock, no backup, nothing written) and compare."""
    if Path(path_a).absolute() == Path(path_b).absolute():
        raise UserError(f"{path_a} is compared with itself; name two different projects.")
    with Project.open(path_a, readonly=True) as a, Project.open(path_b, readonly=True) as b:
        return compare(a, b)


@dataclass
class MergeReport:
    path: Path
    from_b: int  # labels taken from B (B-only items, and disagreements when B is preferred)
    kept_a: int  # disagreements where A's label stayed
    not_in_a: int  # items B labeled that A does not have
    origin: str


def merge(
    path_a: Path, path_b: Path, out: Path | None, *, prefer: str = "A", into_a: bool = False
) -> MergeReport:
    """A's labels plus B's: items only B labeled get B's label; a disagreement keeps A's label (``prefer`` "A")
    or takes B's ("B"). Written to ``out`` (a new project file: a copy of A with the merge in its log) or, with
    ``into_a``, into A itself. B is only ever read."""
    if prefer not in ("A", "B"):
        raise UserError(f"--prefer {prefer!r}: say A or B.")
    path_a, path_b = Path(path_a), Path(path_b)
    if into_a == (out is not None):
        raise UserError("Merge into a new project file (--merge OUT.aldesk) or into A (--into-a), not both.")
    if path_a.absolute() == path_b.absolute():
        raise UserError(f"{path_a} is compared with itself; name two different projects.")
    with Project.open(path_a, readonly=True) as a, Project.open(path_b, readonly=True) as b:
        cmp = compare(a, b)
        matched, _ = match(a, b)
        la, lb = a.labels(), b.labels()
    origin = f"merge:{path_b.name}"
    take: dict[int, str] = {}
    kept = 0
    for d in cmp.disagreements:
        if prefer == "B":
            take[d.a] = d.label_b
        else:
            kept += 1
    paired_b = {j for _, j, _ in matched}
    for i, j, _ in matched:
        if i not in la and j in lb:
            take[i] = lb[j]
    not_in_a = sum(1 for j in lb if j not in paired_b)
    if into_a:
        target = path_a
    else:
        assert out is not None  # checked above: exactly one of out and into_a
        target = _copy_project(path_a, out, (path_a, path_b))
    try:
        with Project.open(target) as project:
            _journal_labels(project, take, origin)
    except BaseException:
        if not into_a:
            _discard(target)
        raise
    return MergeReport(target, len(take), kept, not_in_a, origin)


def _journal_labels(p: Project, take: dict[int, str], origin: str) -> None:
    """One label action per class (one group: one undo reverts the merge), new classes added first."""
    if not take:
        return
    current = p.labels()
    classes = p.classes
    seq = p.next_seq()
    by_class: dict[str, list[int]] = {
        name: [] for name in dict.fromkeys(take.values())
    }  # new classes in this order
    for i, name in sorted(take.items()):
        by_class[name].append(i)
    actions = grouped_labels(by_class, classes, current, origin, seq)
    p.journal_many(actions)


def _copy_project(src: Path, out: Path, inputs: tuple[Path, ...]) -> Path:
    """A consistent copy of project ``src`` at ``out``, which must not exist (never replaced, never an input)."""
    import sqlite3

    from aldesk.core.atomic import tmp_name
    from aldesk.core.project.connect import _snapshot

    out = Path(out)
    if out.suffix != ".aldesk":
        raise UserError(f"--merge {out}: a project file's name ends in .aldesk.")
    if any(out.absolute() == Path(p).absolute() for p in inputs) or os.path.lexists(out):
        raise UserError(f"--merge {out} exists already; the merge writes a new project file.")
    if not out.absolute().parent.is_dir():
        raise UserError(f"--merge {out}: the folder {out.absolute().parent} does not exist.")
    mem, _ = _snapshot(src)
    tmp = tmp_name(out)
    try:
        dst = sqlite3.connect(tmp)
        try:
            mem.backup(dst)
        finally:
            dst.close()
        try:
            os.link(tmp, out)  # fails if ``out`` appeared meanwhile: nothing is replaced
        except FileExistsError:
            raise UserError(f"--merge {out} exists already; the merge writes a new project file.") from None
    except sqlite3.Error as exc:
        raise ProjectError(f"Cannot write {out}: {exc}.") from None
    finally:
        mem.close()
        for p in (tmp, Path(f"{tmp}-journal")):
            if p.exists():
                p.unlink()
    return out


def _discard(path: Path) -> None:
    """Remove a merge output this call created and could not finish (never an input: see _copy_project)."""
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if p.exists():
            p.unlink()
