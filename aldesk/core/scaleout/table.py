"""The vectors table: a folder of Parquet parts (``item``, ``sha1``, ``vector`` as a fixed-size list of float32)
and ``manifest.json`` (model card id and fingerprint, dim, aldesk version, counts, failures with reasons).

Each part is written whole under a temporary name and renamed (:mod:`aldesk.core.atomic`), by whichever worker
embedded its rows: a run killed at any moment leaves complete parts only, and a rerun skips every item already
in one. The folder holds nothing else aldesk wrote, so it is recognised by its manifest; a folder that exists,
is not empty and has no manifest is somebody else's and is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aldesk import __version__
from aldesk.core.atomic import atomic_file, clean_stale
from aldesk.core.progress import UserError

FORMAT = "aldesk-vectors/1"
MANIFEST = "manifest.json"
PART_PREFIX = "part-"
PART_SUFFIX = ".parquet"


@dataclass
class Manifest:
    """What a vectors table holds and how it was made."""

    model_id: str
    fingerprint: str
    dim: int
    kind: str
    source: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[dict[str, str]] = field(default_factory=list)
    aldesk_version: str = __version__
    format: str = FORMAT

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, d: dict[str, Any], where: Path) -> Manifest:
        if d.get("format") != FORMAT:
            raise UserError(
                f"{where} is not an aldesk vectors table (format {d.get('format')!r}, want {FORMAT})."
            )
        try:
            return cls(
                model_id=str(d["model_id"]),
                fingerprint=str(d["fingerprint"]),
                dim=int(d["dim"]),
                kind=str(d["kind"]),
                source=str(d.get("source", "")),
                counts={str(k): int(v) for k, v in dict(d.get("counts", {})).items()},
                failures=[
                    {"item": str(f["item"]), "reason": str(f["reason"])} for f in d.get("failures", [])
                ],
                aldesk_version=str(d.get("aldesk_version", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise UserError(f"{where}: its manifest is damaged ({exc}).") from None


def pyarrow() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.parquet  # noqa: F401 - the submodule, loaded for pa.parquet
    except ImportError:
        raise UserError("Reading and writing vector tables needs pyarrow: pip install pyarrow") from None
    return pa


def read_manifest(folder: Path) -> Manifest:
    path = Path(folder) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{folder} is not an aldesk vectors table: it has no {MANIFEST}.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path} cannot be read: {exc}") from None
    return Manifest.from_json(data, Path(folder))


def write_manifest(folder: Path, manifest: Manifest) -> None:
    with atomic_file(Path(folder) / MANIFEST, "w", encoding="utf-8") as f:
        json.dump(manifest.to_json(), f, indent=1)
        f.write("\n")


def prepare_folder(folder: Path, manifest: Manifest, protected: Sequence[Path] = ()) -> bool:
    """Make (or take back, for a resumed run) the output folder. Returns True when it already held a table made
    with the same model (the run resumes); refuses somebody else's folder, a link, a file, a table of another
    model, and any folder that is or holds one of ``protected`` (the source, a project)."""
    folder = Path(folder)
    real = Path(os.path.realpath(folder))
    for p in protected:
        rp = Path(os.path.realpath(p))
        if real == rp or rp.is_relative_to(real) or real.is_relative_to(rp):
            raise UserError(f"{folder} would overwrite {p}: choose another output folder.")
    if folder.is_symlink():
        raise UserError(f"{folder} is a symbolic link: give a real folder.")
    if not folder.exists():
        folder.mkdir(parents=True)
        write_manifest(folder, manifest)
        return False
    if not folder.is_dir():
        raise UserError(f"{folder} exists and is not a folder.")
    if not (folder / MANIFEST).exists():
        if any(folder.iterdir()):
            raise UserError(f"{folder} is not empty and holds no aldesk vectors table: choose a new folder.")
        write_manifest(folder, manifest)
        return False
    old = read_manifest(folder)
    if (old.model_id, old.fingerprint) != (manifest.model_id, manifest.fingerprint):
        raise UserError(
            f"{folder} holds vectors of the model {old.model_id}, not {manifest.model_id}: choose a new folder."
        )
    if old.source and manifest.source and old.source != manifest.source:
        raise UserError(
            f"{folder} holds vectors of {old.source}, not {manifest.source}: choose a new folder."
        )
    return True


def parts(folder: Path) -> list[Path]:
    """The table's complete parts (temporaries of a killed writer are not parts)."""
    out = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if (
            entry.name.startswith(PART_PREFIX)
            and entry.name.endswith(PART_SUFFIX)
            and entry.is_file(follow_symlinks=False)
        ):
            out.append(Path(entry.path))
    return out


def write_part(folder: Path, items: list[str], sha1: list[str], vectors: np.ndarray) -> Path | None:
    """One part, written whole (temporary name, fsync, rename), named by its items. None when there is nothing to
    write."""
    if not items:
        return None
    pa = pyarrow()
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    flat = pa.array(vectors.reshape(-1), type=pa.float32())
    table = pa.table(
        {
            "item": pa.array(items, type=pa.string()),
            "sha1": pa.array(sha1, type=pa.string()),
            "vector": pa.FixedSizeListArray.from_arrays(flat, dim),
        }
    )
    # Named by its items: a batch written again (Ray retries the task of an actor killed after it wrote its part
    # but before it reported it) replaces its own part instead of adding a second copy of every item.
    name = hashlib.sha256("\0".join(items).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    target = Path(folder) / f"{PART_PREFIX}{name}{PART_SUFFIX}"
    with atomic_file(target, "wb") as f:  # aldesk's one write-whole mechanism: temporary name, fsync, rename
        pa.parquet.write_table(table, f)
    return target


def clean_temporaries(folder: Path) -> None:
    """Remove what killed writers left (aldesk's own temporary names, of processes that are gone)."""
    for entry in os.scandir(folder):
        if ".aldesk-tmp-" in entry.name and entry.name.startswith("."):
            target = Path(folder) / entry.name[1 : entry.name.index(".aldesk-tmp-")]
            clean_stale(target)


def written_items(folder: Path) -> set[str]:
    """Every item that has a vector in a complete part."""
    pa = pyarrow()
    done: set[str] = set()
    for part in parts(folder):
        done.update(pa.parquet.read_table(part, columns=["item"]).column("item").to_pylist())
    return done


@dataclass
class Chunk:
    items: list[str]
    sha1: list[str]
    vectors: np.ndarray


def iter_chunks(folder: Path, dim: int) -> Iterator[Chunk]:
    """The table part by part (bounded memory: a 1M-row table is never held whole)."""
    pa = pyarrow()
    for part in parts(folder):
        t = pa.parquet.read_table(part)
        col = t.column("vector").combine_chunks()
        flat = col.flatten().to_numpy(zero_copy_only=False)
        vecs = np.asarray(flat, dtype=np.float32).reshape(len(t), -1)
        if vecs.shape[1] != dim:
            raise UserError(f"{part}: vectors of {vecs.shape[1]} values, the manifest says {dim}.")
        yield Chunk(t.column("item").to_pylist(), t.column("sha1").to_pylist(), vecs)


def read_all(folder: Path, dim: int) -> Chunk:
    """The whole table in one Chunk, rows in part order (for the graph job)."""
    items: list[str] = []
    sha1: list[str] = []
    blocks: list[np.ndarray] = []
    for c in iter_chunks(folder, dim):
        items += c.items
        sha1 += c.sha1
        blocks.append(c.vectors)
    vecs = np.concatenate(blocks) if blocks else np.zeros((0, dim), np.float32)
    return Chunk(items, sha1, vecs)
