"""Bad input to the sources (issue 11, items 14, 15, 18 and the /dev/zero / FIFO part of 19), with real files.

Real non-UTF-8 names written through bytes paths, a real 1,100-deep tree, real gzip/bz2/xz/zstd/zip files, real
UTF-16/32 files, a real FIFO; the command line runs as a real second process.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import lzma
import os
import shutil
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

import pytest

from aldesk.core.progress import UserError
from aldesk.core.project import Project
from aldesk.core.sources import images as images_mod
from aldesk.core.sources import load_csv, load_images, load_source
from aldesk.core.sources import text_bytes as text_bytes_mod

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file names, links and FIFOs")


def _touch(path: Path | bytes, data: bytes = PNG) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def _one_line(exc: BaseException) -> str:
    msg = str(exc)
    assert msg and "\n" not in msg and "\r" not in msg, msg
    return msg


def cli(*args: str, home: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    # The timeout only ends a hung child (a FIFO opened blocking would never return); it asserts no duration.
    env = {
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_DATA_HOME": str(home / "data"),
        "HOME": str(home),
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
    }
    return subprocess.run(
        [sys.executable, "-m", "aldesk", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def _assert_one_line_failure(r: subprocess.CompletedProcess, *needles: str) -> None:
    assert r.returncode != 0, r.stdout
    assert "Traceback" not in r.stderr, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    for n in needles:
        assert n in lines[0], lines[0]


# ------------------------------------------------------------------ item 14: names, depth, links


@posix_only
def test_non_utf8_file_and_folder_names_are_skipped_and_listed(tmp_path: Path) -> None:
    root = tmp_path / "data"
    _touch(root / "cat" / "1.png")
    _touch(root / "dog" / "2.png")
    base = os.fsencode(root)
    try:
        _touch(base + b"/cat/caf\xe9.png")  # Latin-1 "café": not UTF-8
        _touch(base + b"/\xff\xfedir/3.png")  # a whole folder with a non-UTF-8 name
    except OSError as exc:  # some file systems (e.g. ZFS with utf8only) refuse such names
        pytest.skip(f"this file system refuses non-UTF-8 names: {exc}")
    ds = load_images(root)
    # The rest of the folder opens; the two names are listed with the bytes shown, not dropped silently.
    assert ds.keys == ["cat/1.png", "dog/2.png"]
    assert ds.known_labels == ["cat", "dog"]
    assert sorted((p.key, p.reason) for p in ds.problems) == [
        ("\\xff\\xfedir", "folder name is not valid UTF-8 text; rename it to use it"),
        ("cat/caf\\xe9.png", "file name is not valid UTF-8 text; rename it to use it"),
    ]
    for p in ds.problems:  # every problem can be printed, stored and exported as UTF-8
        p.key.encode("utf-8")
    project = Project.create(tmp_path / "p.aldesk", ds, ["cat", "dog"], model_id="m")
    assert project.dataset().keys == ["cat/1.png", "dog/2.png"]
    project.close()

    # End to end in a second process: `aldesk init` succeeds and lists the skipped names in readable form.
    r = cli("init", str(root), "--project", str(tmp_path / "q.aldesk"), home=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert "cat/caf\\xe9.png" in r.stdout and "not valid UTF-8" in r.stdout


@posix_only
def test_data_folder_or_csv_whose_own_path_is_not_utf8_is_refused_in_one_line(tmp_path: Path) -> None:
    folder = os.fsencode(tmp_path) + b"/d\xe9ta"
    try:
        _touch(folder + b"/cat/1.png")
        _touch(folder + b"/texts.csv", b"text\nhello there\n")
    except OSError as exc:
        pytest.skip(f"this file system refuses non-UTF-8 names: {exc}")
    for path in (folder, folder + b"/texts.csv"):
        with pytest.raises(UserError) as err:
            load_source(Path(os.fsdecode(path)))
        msg = _one_line(err.value)
        assert "d\\xe9ta" in msg and "not valid UTF-8" in msg
    # Not a traceback from SQLite after the user chose everything: the command says so and creates nothing.
    r = cli("init", os.fsdecode(folder), "--project", str(tmp_path / "p.aldesk"), home=tmp_path)
    _assert_one_line_failure(r, "not valid UTF-8")
    assert not (tmp_path / "p.aldesk").exists()


def _deep_chain(root: Path, depth: int) -> list[str]:
    """Make root/d/d/.../d ``depth`` levels deep (relative to a dir fd: no path gets long), return each level."""
    rels = []
    fd = os.open(root, os.O_RDONLY)
    try:
        for i in range(depth):
            os.mkdir("d", dir_fd=fd)
            nxt = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = nxt
            rels.append("/".join(["d"] * (i + 1)))
            if i + 1 in (50, depth):
                with open(os.open("x.png", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "wb") as f:
                    f.write(PNG)
    finally:
        os.close(fd)
    return rels


def _remove_chain(root: Path, depth: int) -> None:
    # shutil.rmtree recurses (RecursionError at this depth on 3.11): remove bottom-up through dir fds instead.
    fds = [os.open(root, os.O_RDONLY)]
    try:
        for _ in range(depth):
            fds.append(os.open("d", os.O_RDONLY, dir_fd=fds[-1]))
        for level in range(depth, 0, -1):
            for name in os.listdir(fds[level]):
                os.unlink(name, dir_fd=fds[level])
            os.close(fds.pop())
            os.rmdir("d", dir_fd=fds[-1])
    finally:
        for fd in fds:
            os.close(fd)


@posix_only
def test_1100_nested_folders_no_recursion_error_depth_cap_listed(tmp_path: Path) -> None:
    root = tmp_path / "deep"
    root.mkdir()
    _touch(root / "top.png")
    depth = 1100
    assert depth > sys.getrecursionlimit()  # a recursive walk would die here
    _deep_chain(root, depth)
    try:
        ds = load_images(root)
        assert ds.keys == ["/".join(["d"] * 50) + "/x.png", "top.png"]
        cut = "/".join(["d"] * (images_mod.MAX_DEPTH + 1))
        assert [(p.key, p.reason) for p in ds.problems] == [
            (cut, f"folder nested deeper than {images_mod.MAX_DEPTH} levels; not read")
        ]
    finally:
        _remove_chain(root, depth)


@posix_only
def test_links_leaving_the_root_are_not_followed_and_loops_are_broken(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    _touch(outside / "elsewhere.png")
    _touch(outside / "secret.png", b"the user's private file")
    root = tmp_path / "data"
    _touch(root / "cat" / "1.png")
    _touch(root / "dog" / "2.png")
    os.symlink(outside, root / "cat" / "more")  # a linked folder out of the root
    os.symlink(outside / "secret.png", root / "dog" / "3.png")  # a linked file out of the root
    os.symlink(root, root / "dog" / "loop")  # a loop back to the root
    os.symlink(root / "cat", root / "alias")  # a second way into a folder inside the root
    ds = load_images(root)
    assert ds.keys == ["cat/1.png", "dog/2.png"]  # the real paths, each image once, nothing from outside
    assert [(p.key, p.reason) for p in ds.problems] == [
        ("cat/more", "link to a folder outside data; not followed"),
        ("dog/3.png", "link to a file outside data; not followed"),
    ]
    assert any("already read" in n for n in ds.notes)
    assert ds.known_labels == ["cat", "dog"]


@posix_only
def test_fifo_and_device_inside_an_image_folder_are_problems_not_items(tmp_path: Path) -> None:
    root = tmp_path / "data"
    _touch(root / "1.png")
    os.mkfifo(root / "pipe.png")
    os.symlink("/dev/zero", root / "zero.png")  # inside the root by name, a device by nature
    ds = load_images(root)
    assert ds.keys == ["1.png"]
    reasons = {p.key: p.reason for p in ds.problems}
    assert reasons["pipe.png"].startswith("not a regular file")
    assert "zero.png" in reasons  # refused, as a link out of the folder or as a device


# ------------------------------------------------------------------ item 15: a stray quote


def _rows(n: int) -> list[str]:
    return [f"review number {i} was fine,{'pos' if i % 2 else 'neg'}\n" for i in range(n)]


def test_stray_opening_quote_in_10000_rows_names_its_line(tmp_path: Path) -> None:
    lines = ["text,label\n", *_rows(10_000)]
    lines[6] = '"review number 5 opens a quote,pos\n'  # line 7 of the file
    p = tmp_path / "reviews.csv"
    p.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(UserError) as err:
        load_csv(p)
    msg = _one_line(err.value)
    assert "reviews.csv" in msg and "line 7" in msg and "10,001" in msg and '""' in msg

    # The command line fails the same way, one line and a non-zero exit, and creates no project.
    project = tmp_path / "r.aldesk"
    r = cli("init", str(p), "--project", str(project), home=tmp_path)
    _assert_one_line_failure(r, "line 7")
    assert not project.exists()


def test_stray_quote_closed_by_a_later_quote_is_found_too(tmp_path: Path) -> None:
    lines = ["text,label\n", *_rows(600)]
    lines[10] = '"a stray quote here,pos\n'  # line 11
    lines[500] = '"a properly quoted, later cell",neg\n'  # line 501: its opening quote ends the stray one
    p = tmp_path / "t.csv"
    p.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(UserError) as err:
        load_csv(p)
    msg = _one_line(err.value)
    assert "line 11" in msg and "11–501" in msg


def test_legitimate_multiline_cells_still_read(tmp_path: Path) -> None:
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(["text", "label"])
    texts = [f'paragraph one, of {i}\nparagraph two, still\n\nthree "quoted", ok' for i in range(200)]
    for i, t in enumerate(texts):
        w.writerow([t, "a" if i % 2 else "b"])
    p = tmp_path / "multi.csv"
    p.write_bytes(buf.getvalue().encode("utf-8"))
    ds = load_csv(p)
    assert ds.keys == texts and len(ds) == 200


# ------------------------------------------------------------------ item 18: compressed and wide encodings


def _compressed(kind: str, data: bytes, path: Path) -> None:
    if kind == "gzip":
        path.write_bytes(gzip.compress(data))
    elif kind == "bzip2":
        path.write_bytes(bz2.compress(data))
    elif kind == "xz":
        path.write_bytes(lzma.compress(data))
    elif kind == "zstd":
        zstd = shutil.which("zstd")
        if zstd is None:
            pytest.skip("no zstd program to make a real .zst file")
        raw = path.with_suffix(".raw")
        raw.write_bytes(data)
        subprocess.run([zstd, "-q", "-f", str(raw), "-o", str(path)], check=True)
    elif kind == "zip":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("reviews.csv", data)


@pytest.mark.parametrize("kind", ["gzip", "bzip2", "xz", "zstd", "zip"])
def test_compressed_file_named_csv_is_named_as_such(tmp_path: Path, kind: str) -> None:
    p = tmp_path / "reviews.csv"
    _compressed(kind, b"text,label\n" + b"".join(r.encode() for r in _rows(50)), p)
    with pytest.raises(UserError) as err:
        load_source(p)
    msg = _one_line(err.value)
    assert kind in msg.replace("7-Zip", "")
    assert "unpack it first" in msg and "UTF-8" not in msg  # not the misleading "re-save as UTF-8"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_wide_encodings_without_bom_are_decoded_and_said(tmp_path: Path, encoding: str) -> None:
    text = "text,label\nnaïve café,pos\n日本語のレビュー,neg\nplain ascii words,pos\n"
    p = tmp_path / "wide.csv"
    p.write_bytes(text.encode(encoding))  # these codecs write no byte-order mark
    ds = load_csv(p)
    assert ds.keys == ["naïve café", "日本語のレビュー", "plain ascii words"]
    assert ds.known_labels == ["pos", "neg", "pos"]
    assert any(encoding.upper() in n and "byte-order mark" in n for n in ds.notes)


@pytest.mark.parametrize("encoding", ["utf-32", "utf-16"])
def test_wide_encodings_with_bom(tmp_path: Path, encoding: str) -> None:
    p = tmp_path / "bom.csv"
    p.write_bytes("text,label\nhello there,a\nbye now,b\n".encode(encoding))  # with a BOM
    assert load_csv(p).keys == ["hello there", "bye now"]


def test_bad_known_labels_become_unknown_and_nfd_twins_merge(tmp_path: Path) -> None:
    nfc = "café"
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfc != nfd
    rows = [
        ("t1", nfc),
        ("t2", nfd),
        ("t3", "bad\x00label"),
        ("t4", "evil\u202egnp.exe"),
        ("t5", "x" * 10_000),
        ("t6", "plain"),
        ("t7", "plain"),
    ]
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(["text", "label"])
    w.writerows(rows)
    p = tmp_path / "labels.csv"
    p.write_bytes(buf.getvalue().encode("utf-8"))
    ds = load_csv(p, label_column="label")
    assert ds.known_labels == [nfc, nfc, None, None, None, "plain", "plain"]
    note = next(n for n in ds.notes if "known label" in n and "left out" in n)
    assert note.startswith("3 known label(s) left out") and "\x00" not in note


@posix_only
def test_nfd_folder_names_give_nfc_known_labels(tmp_path: Path) -> None:
    nfd = unicodedata.normalize("NFD", "écureuil")
    _touch(tmp_path / nfd / "1.png")
    _touch(tmp_path / "chat" / "2.png")
    ds = load_images(tmp_path)
    assert ds.known_labels == ["chat", "écureuil"] and unicodedata.is_normalized("NFC", ds.known_labels[1])
    assert ds.keys[1] == f"{nfd}/1.png"  # the key is the real file name, so the file is found again


# ------------------------------------------------------------------ item 19 (part): FIFOs, devices, size cap


@posix_only
def test_fifo_and_dev_zero_as_input_are_refused_without_opening(tmp_path: Path) -> None:
    fifo = tmp_path / "texts.csv"
    os.mkfifo(fifo)
    # In a second process: were the FIFO opened for reading, it would block forever waiting for a writer.
    code = (
        "import sys\n"
        "from aldesk.core.progress import UserError\n"
        "from aldesk.core.sources import load_csv, load_source\n"
        "for fn in (load_source, load_csv):\n"
        "    for path in sys.argv[1:]:\n"
        "        try:\n"
        "            fn(path)\n"
        "        except UserError as exc:\n"
        "            print(fn.__name__, path, '|', exc)\n"
        "        else:\n"
        "            print(fn.__name__, path, '| loaded')\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, str(fifo), "/dev/zero"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert len(out) == 4, r.stdout
    assert out[0].startswith(f"load_source {fifo} | ") and "neither a folder nor a regular file" in out[0]
    assert out[1].startswith("load_source /dev/zero | ") and "neither a folder nor a regular file" in out[1]
    assert out[2].startswith(f"load_csv {fifo} | ") and "a named pipe (FIFO), not a file" in out[2]
    assert out[3].startswith("load_csv /dev/zero | ") and "a device, not a file" in out[3]

    for bad in (str(fifo), "/dev/zero"):
        r = cli("init", bad, "--project", str(tmp_path / "x.aldesk"), home=tmp_path, timeout=120)
        _assert_one_line_failure(r, "neither a folder nor a regular file")


def test_text_files_larger_than_the_cap_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "big.csv"
    p.write_text("text\n" + "".join(f"text number {i}\n" for i in range(500)), encoding="utf-8")
    assert len(load_csv(p)) == 500
    monkeypatch.setattr(
        text_bytes_mod, "MAX_TEXT_BYTES", p.stat().st_size - 1
    )  # a real file one byte too big
    with pytest.raises(UserError) as err:
        load_csv(p)
    assert "big.csv is larger than" in _one_line(err.value) and "split it" in str(err.value)
