"""Exports of a project's labels: CSV, JSONL, ImageFolder, Label Studio JSON, Hugging Face imagefolder.

Every format carries the item's key (image path relative to the data folder, or the text itself) as ``item``,
so an export can be imported back (:mod:`aldesk.core.exchange.imports`). Predicted labels for unlabeled items are
included only when asked, from plain ``(predicted, confidence)`` arrays, so this module needs no embeddings.

Safety, because an export is often written over the previous one and then shared:

* an output is never the project, its companions (``-wal``, ``-shm``, ``-journal``, the lock, the backups) or
  the source (the CSV, the image folder): compared by resolved path and by (st_dev, st_ino), so neither a
  symlink nor a hard link gets around it (:func:`check_output`);
* a file is written under a temporary name in its folder, fsynced and renamed over the target; a folder is built
  as a temporary sibling and swapped into place. A kill leaves the previous export whole, and the next export of
  the same target removes the temporary left behind (only names of aldesk's own pattern, of a dead process);
* an existing folder is replaced only when it is empty or is a previous aldesk export (it has :data:`MARKER`);
* an image is copied or linked only when it is a regular file inside the data folder
  (:func:`aldesk.core.dataset.resolve_under_root`); refused items are listed in the report, with the reason.
"""

from __future__ import annotations

import contextlib
import csv
import ctypes
import json
import os
import re
import shutil
import stat
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import quoteattr

import numpy as np

from aldesk.core.atomic import atomic_file, fsync_dir, tmp_name
from aldesk.core.atomic import clean_stale as _clean_stale
from aldesk.core.dataset import Dataset, UnsafeItem, split_key
from aldesk.core.progress import CancelFn, ProgressFn, UserError, check
from aldesk.core.project import Project, companion_paths

FORMATS = ("csv", "jsonl", "imagefolder", "labelstudio", "hf-imagefolder")
LINK_MODES = ("copy", "hardlink", "symlink")
# A spreadsheet runs a cell starting with these as a formula (CSV injection, OWASP); tab and CR too.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# The file aldesk writes at the top of an ImageFolder / Hugging Face export: only a folder holding it is ever
# replaced by a new export (a user's folder that merely has the same name is refused, never emptied).
MARKER = ".aldesk-export"


def clean_stale(target: Path) -> list[Path]:
    """Remove the temporaries a killed export of ``target`` left beside it (a folder only when it holds
    :data:`MARKER`): :func:`aldesk.core.atomic.clean_stale`."""
    return _clean_stale(target, marker=MARKER)


@dataclass(frozen=True)
class ExportRow:
    index: int
    item: str
    label: str | None  # the user's label; None for a predicted-only row
    predicted: str | None
    confidence: float | None
    origin: str  # user / batch / imported / audit, or "predicted"


@dataclass
class ExportReport:
    path: Path
    n_labeled: int = 0
    n_predicted: int = 0
    missing: list[str] = field(default_factory=list)  # image files that were not found
    refused: list[str] = field(
        default_factory=list
    )  # "key: reason", never copied nor linked (outside the data)
    notes: list[str] = field(default_factory=list)


def safe_cell(value: object) -> str:
    """A CSV cell that a spreadsheet shows as text: formula starters get a leading apostrophe."""
    s = "" if value is None else str(value)
    return "'" + s if s.startswith(FORMULA_START) else s


def unsafe_cell(s: str) -> str:
    """The inverse of :func:`safe_cell` for cells that were neutralised by it."""
    return s[1:] if s.startswith("'") and s[1:].startswith(FORMULA_START) else s


def write_csv(
    path: Path, header: Sequence[str], rows: Iterable[Sequence[object]], *, bom: bool = False
) -> None:
    """The only CSV writer of aldesk: every cell goes through :func:`safe_cell`; written atomically."""
    with atomic_file(path, newline="", encoding="utf-8-sig" if bom else "utf-8") as f:
        w = csv.writer(f)
        w.writerow([safe_cell(h) for h in header])
        for r in rows:
            w.writerow([safe_cell(c) for c in r])


def export_rows(
    dataset: Dataset,
    labels: dict[int, tuple[str, str]],
    predicted: Sequence[str | None] | None = None,
    confidence: np.ndarray | Sequence[float] | None = None,
    *,
    include_predicted: bool = False,
    min_confidence: float = 0.0,
) -> list[ExportRow]:
    """Rows in item order: every labeled item, and with ``include_predicted`` unlabeled items whose prediction
    reaches ``min_confidence``.

    labels : item -> (class, origin)
    predicted, confidence : one per item (class name or None), e.g. from :func:`session_predictions`.
    """
    if include_predicted and (predicted is None or confidence is None):
        raise ValueError("predicted labels need predicted and confidence arrays")
    if predicted is not None and len(predicted) != len(dataset):
        raise ValueError(f"{len(predicted)} predictions for {len(dataset)} items")
    rows = []
    for i, key in enumerate(dataset.keys):
        pred = predicted[i] if predicted is not None else None
        conf = float(confidence[i]) if confidence is not None and pred is not None else None
        if i in labels:
            cls, origin = labels[i]
            rows.append(ExportRow(i, key, cls, pred, conf, origin))
        elif include_predicted and pred is not None and conf is not None and conf >= min_confidence:
            rows.append(ExportRow(i, key, None, pred, conf, "predicted"))
    return rows


def session_predictions(session: object) -> tuple[list[str | None], np.ndarray]:
    """Class names and confidences per item from a Session's ``predictions()`` (leave-one-out for labeled)."""
    idx, conf = session.predictions()  # type: ignore[attr-defined]
    classes = session.classes  # type: ignore[attr-defined]
    return [classes[int(c)] if c >= 0 else None for c in idx], np.asarray(conf, dtype=np.float64)


def export_project(
    project: Project,
    fmt: str,
    out: Path | str,
    *,
    mode: str = "copy",
    predicted: Sequence[str | None] | None = None,
    confidence: np.ndarray | Sequence[float] | None = None,
    include_predicted: bool = False,
    min_confidence: float = 0.0,
    image_url_prefix: str | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> ExportReport:
    """Write ``project``'s labels (and optionally predictions) to ``out`` in format ``fmt``.

    Refuses (one-line :class:`UserError`, nothing written) an ``out`` that is the project or one of its
    companions, or the source; see :func:`check_output`.
    """
    ds = project.dataset()
    check_output(fmt, Path(out), ds, protected=companions(project.path))
    for prefix, root in ds.sources.items():  # every added folder or CSV is a source to protect too
        rels = [split_key(k)[1] for k in ds.keys if split_key(k)[0] == prefix] if ds.kind == "image" else []
        check_output(fmt, Path(out), Dataset(ds.kind, root, rels), protected=companions(project.path))
    labels = {r.item: (r.cls, r.origin) for r in project.label_rows()}
    rows = export_rows(
        ds, labels, predicted, confidence, include_predicted=include_predicted, min_confidence=min_confidence
    )
    gone = 0
    if ds.kind == "image" and ds.missing:  # a rescan found their files gone: labels kept, never exported
        kept = [r for r in rows if r.index not in ds.missing]
        gone, rows = len(rows) - len(kept), kept
    report = write_export(
        rows,
        ds,
        project.classes,
        fmt,
        Path(out),
        mode=mode,
        model_id=project.model_id,
        image_url_prefix=image_url_prefix,
        progress=progress,
        cancel=cancel,
        protected=companions(project.path),
    )
    if gone:
        report.notes.append(
            f"{gone:,} labeled items are missing (files gone at the last rescan); not exported."
        )
    return report


def write_export(
    rows: list[ExportRow],
    dataset: Dataset,
    classes: list[str],
    fmt: str,
    out: Path,
    *,
    mode: str = "copy",
    model_id: str = "",
    image_url_prefix: str | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    protected: Sequence[Path] = (),
) -> ExportReport:
    """Write ``rows`` to ``out``; ``protected``: paths (a project and its companions) ``out`` must not touch."""
    if fmt not in FORMATS:
        raise UserError(f"Unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    if mode not in LINK_MODES:
        raise UserError(f"Unknown mode {mode!r}; choose one of {', '.join(LINK_MODES)}.")
    check_output(fmt, out, dataset, protected=protected)
    report = ExportReport(
        out, n_labeled=sum(r.label is not None for r in rows), n_predicted=sum(r.label is None for r in rows)
    )
    try:
        if fmt == "csv":
            write_csv(
                out,
                ("item", "label", "predicted", "confidence"),
                ((r.item, r.label, r.predicted, _conf(r.confidence)) for r in rows),
                bom=True,
            )
        elif fmt == "jsonl":
            with atomic_file(out, encoding="utf-8", newline="\n") as f:
                f.writelines(
                    json.dumps(
                        {
                            "item": r.item,
                            "label": r.label,
                            "predicted": r.predicted,
                            "confidence": r.confidence,
                            "origin": r.origin,
                        },
                        ensure_ascii=False,
                    )
                    + "\n"
                    for r in rows
                )
        elif fmt == "labelstudio":
            _write_labelstudio(rows, dataset, classes, out, model_id, image_url_prefix, report)
        else:
            if dataset.kind != "image":
                raise UserError(f"The {fmt} format is for images; export texts as csv, jsonl or labelstudio.")
            writer = _write_imagefolder if fmt == "imagefolder" else _write_hf_imagefolder
            with atomic_folder(out, fmt) as tmp:
                writer(rows, dataset, tmp, mode, report, progress, cancel)
    except OSError as exc:
        raise UserError(f"Cannot write {exc.filename or out}: {exc.strerror or exc}.") from None
    return report


def _conf(c: float | None) -> str:
    return "" if c is None else f"{c:.4f}"


def _row_label(r: ExportRow) -> str:
    return r.label if r.label is not None else r.predicted or ""


# ----------------------------------------------------------------------------------- file layouts
_BAD_NAME = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}


def safe_name(name: str) -> str:
    """A file or folder name valid on Windows, macOS and Linux, close to ``name``."""
    s = _BAD_NAME.sub("_", name).rstrip(". ")
    if not s or s in (".", "..") or s.split(".")[0].upper() in _RESERVED:
        s = "_" + s
    return s


def _place(src: Path, dst: Path, mode: str, report: ExportReport) -> None:
    """Put the checked source file ``src`` at ``dst``. ``src`` was resolved and checked a moment ago; a file that
    became something else since (a symlink swapped in, a FIFO) is refused here, never followed."""
    if mode == "symlink":
        try:
            os.symlink(src, dst)  # src is the resolved real path: the link never passes through another link
        except OSError as exc:
            raise UserError(f"Cannot make symbolic links here ({exc.strerror}); use --mode copy.") from None
        return
    if mode == "hardlink":
        try:
            os.link(src, dst, follow_symlinks=False)
        except OSError:
            # Other drive, or a file system without hard links: a copy is what the user needs anyway.
            if "hard links" not in " ".join(report.notes):
                report.notes.append("Some files could not be hard-linked (other drive?) and were copied.")
        else:
            if not stat.S_ISREG(os.lstat(dst).st_mode):
                os.unlink(dst)
                raise UnsafeItem(str(src), "changed into a link or special file while exporting; not linked")
            return
    _copy_regular(src, dst)


def _copy_regular(src: Path, dst: Path) -> None:
    """Copy bytes and times of ``src`` when, opened without following a final symlink, it is a regular file."""
    flags = (
        os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    )
    try:
        fd = os.open(src, flags)
    except OSError as exc:
        if exc.errno in (getattr(os, "ELOOP", -1), getattr(os, "ENXIO", -1)):
            raise UnsafeItem(
                str(src), "changed into a link or special file while exporting; not copied"
            ) from None
        raise
    with open(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeItem(str(src), "is not a regular file; not copied")
        with open(dst, "xb") as g:
            shutil.copyfileobj(f, g, 1 << 20)
    os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))


# ----------------------------------------------------------------------------------- output safety
def companions(project: Path | str) -> list[Path]:
    """The project file and every file or folder that belongs to it (:func:`aldesk.core.project.companion_paths`,
    which also covers the file a symlinked name points to): no export may write there."""
    return [Path(p) for p in companion_paths(Path(project))]


def _identity(path: Path) -> set[tuple[int, int]]:
    """(st_dev, st_ino) of ``path`` and, if it is a link, of what it points to: hard links share them."""
    ids = set()
    for follow in (False, True):
        try:
            st = os.stat(path, follow_symlinks=follow)
        except (OSError, ValueError):
            continue
        if st.st_ino:
            ids.add((st.st_dev, st.st_ino))
    return ids


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def check_output(fmt: str, out: Path, dataset: Dataset, *, protected: Sequence[Path] = ()) -> None:
    """Refuse an ``out`` that would overwrite, replace or sit in what is not the export's: ``protected`` (the
    project and its companions, the backup folder and anything in it) or the source (the CSV; for images the data
    folder: a folder export neither inside it nor holding it, a file export not over an item's file).

    Compared by resolved path and by (st_dev, st_ino), so a symlink or a hard link to the project is refused too.
    """
    out = Path(out)
    targets = [out]
    if fmt == "labelstudio":
        targets.append(_config_path(out))
    folder = fmt in ("imagefolder", "hf-imagefolder")
    guarded = [Path(p) for p in protected]
    if dataset.kind == "text":
        guarded.append(Path(dataset.root))
    guarded_real = [Path(os.path.realpath(p)) for p in guarded]
    guarded_ids = set().union(*(_identity(p) for p in guarded)) if guarded else set()
    root_real = Path(os.path.realpath(dataset.root))
    for target in targets:
        real = Path(os.path.realpath(target))
        what = f"--out {target}"
        for g, g_real in zip(guarded, guarded_real, strict=True):
            if real == g_real or _inside(real, g_real) or (folder and _inside(g_real, real)):
                raise UserError(
                    f"{what} would overwrite {g}, which belongs to the project or is its source; "
                    "choose another output."
                )
        if _identity(target) & guarded_ids:
            raise UserError(f"{what} is a link to the project or its source; choose another output.")
        if dataset.kind == "image":
            if folder and (_inside(real, root_real) or _inside(root_real, real)):
                raise UserError(
                    f"{what} is inside the image folder {dataset.root} or holds it; choose a folder "
                    "outside it."
                )
            if not folder and _inside(real, root_real) and real != root_real:
                key = real.relative_to(root_real).as_posix()
                if key in set(dataset.keys):
                    raise UserError(f"{what} is one of the project's images; choose another output.")
        if not folder and real == root_real:
            raise UserError(f"{what} is the project's data folder; choose a file name.")


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where that is not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: this file system cannot; fall back
        return False
    raise OSError(err, os.strerror(err), str(b))


def _replaceable(out: Path) -> bool:
    """True when ``out`` does not exist; False when it is an empty folder or a previous aldesk export, which
    may be replaced; refuses anything else: a user's folder is never emptied or deleted."""
    try:
        st = os.lstat(out)
    except FileNotFoundError:
        return True
    if stat.S_ISDIR(st.st_mode):
        mk = out / MARKER
        if not any(out.iterdir()) or (not mk.is_symlink() and mk.is_file()):
            return False
    raise UserError(f"{out} exists and is neither empty nor an earlier aldesk export; choose a new folder.")


@contextlib.contextmanager
def atomic_folder(out: Path, fmt: str) -> Iterator[Path]:
    """A temporary sibling folder to build an export in, put in place of ``out`` only once complete.

    The old export (if any) and the new one are swapped in one rename where the system has it, else the old one
    is renamed aside first (a kill then leaves no folder at ``out``, and the previous export under a temporary
    name that the next export removes). Never a half-written folder at ``out``.
    """
    out = Path(out)
    if not out.parent.is_dir():
        out.parent.mkdir(parents=True, exist_ok=True)
    new = _replaceable(out)
    clean_stale(out)
    tmp = tmp_name(out)
    tmp.mkdir()
    try:
        # The marker first: a killed build is recognisable as aldesk's, so it may be cleaned.
        (tmp / MARKER).write_text(json.dumps({"format": fmt, "time": time.time()}) + "\n", encoding="utf-8")
        yield tmp
        fsync_dir(tmp)
        if new:
            os.rename(tmp, out)  # fails (is refused) if something appeared at out meanwhile
        elif _exchange(tmp, out):
            shutil.rmtree(tmp)  # now the old export
        else:
            old = tmp_name(out)
            os.rename(out, old)
            os.rename(tmp, out)
            shutil.rmtree(old)
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
        raise
    fsync_dir(out.parent)


def _unique(name: str, key: str, used: set[str]) -> str:
    # The file's own name when free; else its relative path flattened; else numbered.
    for cand in (name, safe_name(key.replace("/", "__"))):
        if cand.casefold() not in used:
            used.add(cand.casefold())
            return cand
    stem, ext = os.path.splitext(name)
    n = 2
    while f"{stem}-{n}{ext}".casefold() in used:
        n += 1
    used.add(f"{stem}-{n}{ext}".casefold())
    return f"{stem}-{n}{ext}"


def _class_folders(classes: Iterable[str], report: ExportReport) -> dict[str, str]:
    folders: dict[str, str] = {}
    used: set[str] = set()
    for c in classes:
        f = safe_name(c)
        while f.casefold() in used:
            f += "_"
        used.add(f.casefold())
        folders[c] = f
        if f != c:
            report.notes.append(f"Class {c!r} is in the folder {f!r}.")
    return folders


def _present_images(rows, dataset, report, progress, cancel):
    """(row, source file) for the rows whose image exists; missing ones go to ``report.missing``."""
    for n, r in enumerate(rows):
        if n % 256 == 0:
            check(cancel)
            if progress:
                progress(n / max(1, len(rows)), "exporting images")
        try:
            src = dataset.resolve(r.item)
        except UnsafeItem as exc:
            report.refused.append(str(exc))
            continue
        if not src.is_file():
            report.missing.append(r.item)
            continue
        yield r, src


def _place_checked(r, src, dst, mode, report) -> bool:
    try:
        _place(src, dst, mode, report)
    except UnsafeItem as exc:
        report.refused.append(f"{r.item}: {exc.reason}")
        return False
    return True


def _write_imagefolder(rows, dataset, out, mode, report, progress, cancel) -> None:
    folders = _class_folders(dict.fromkeys(_row_label(r) for r in rows), report)
    used: dict[str, set[str]] = {f: set() for f in folders.values()}
    for f in folders.values():
        (out / f).mkdir()
    for r, src in _present_images(rows, dataset, report, progress, cancel):
        folder = folders[_row_label(r)]
        _place_checked(
            r, src, out / folder / _unique(safe_name(Path(r.item).name), r.item, used[folder]), mode, report
        )


def _write_hf_imagefolder(rows, dataset, out, mode, report, progress, cancel) -> None:
    # Hugging Face `load_dataset("imagefolder", data_dir=out)`: a split folder with the images and a
    # metadata.csv whose `file_name` is relative to it. File names never start with a formula character, so the
    # neutralising writer cannot break the link between metadata.csv and the file.
    split = out / "train"
    split.mkdir()
    used: set[str] = set()
    meta = []
    for r, src in _present_images(rows, dataset, report, progress, cancel):
        name = safe_name(Path(r.item).name)
        if name.startswith(FORMULA_START) or name.startswith("'"):
            name = "_" + name
        name = _unique(name, "_" + r.item if r.item.startswith(FORMULA_START) else r.item, used)
        if _place_checked(r, src, split / name, mode, report):
            meta.append((name, _row_label(r), r.item, r.origin, _conf(r.confidence)))
    write_csv(split / "metadata.csv", ("file_name", "label", "item", "origin", "confidence"), meta)


def _write_labelstudio(rows, dataset, classes, out, model_id, image_url_prefix, report) -> None:
    """Label Studio tasks (Basic Label Studio JSON): ``annotations`` for labels, ``predictions`` for predicted.

    An image task points Label Studio at a file, so an item outside the data folder is refused (left out, listed
    in ``report.refused``): a task must not make a server hand out ``/etc/passwd``."""
    to_name, data_key = ("image", "image") if dataset.kind == "image" else ("text", "text")

    def result(cls: str) -> list[dict]:
        return [{"from_name": "label", "to_name": to_name, "type": "choices", "value": {"choices": [cls]}}]

    tasks = []
    for r in rows:
        if dataset.kind == "image":
            try:
                src = dataset.resolve(r.item)
            except UnsafeItem as exc:
                report.refused.append(str(exc))
                continue
            if image_url_prefix is None:
                # Label Studio's local file serving (LOCAL_FILES_SERVING_ENABLED=true,
                # LOCAL_FILES_DOCUMENT_ROOT=/): the path below the document root.
                value = "/data/local-files/?d=" + quote(src.as_posix().lstrip("/"))
            else:
                value = image_url_prefix + quote(r.item)
        else:
            value = r.item
        task: dict = {"data": {data_key: value, "item": r.item}}
        if r.label is not None:
            task["annotations"] = [{"result": result(r.label), "ground_truth": False}]
        elif r.predicted is not None:
            task["predictions"] = [
                {"model_version": model_id or "aldesk", "score": r.confidence, "result": result(r.predicted)}
            ]
        tasks.append(task)
    with atomic_file(out, encoding="utf-8") as f:
        json.dump(tasks, f, ensure_ascii=False, indent=1)
    # The labeling config that matches these tasks, to paste into the Label Studio project's settings.
    tag = (
        '<Image name="image" value="$image"/>'
        if dataset.kind == "image"
        else '<Text name="text" value="$text"/>'
    )
    choices = "\n".join(f"    <Choice value={quoteattr(c)}/>" for c in classes)
    config = (
        f'<View>\n  {tag}\n  <Choices name="label" toName="{to_name}" choice="single">\n{choices}\n'
        "  </Choices>\n</View>\n"
    )
    with atomic_file(_config_path(out), encoding="utf-8") as f:
        f.write(config)


def _config_path(out: Path) -> Path:
    return out.with_name(out.stem + ".label_config.xml")
