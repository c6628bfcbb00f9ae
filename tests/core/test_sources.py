"""Tests for aldesk.core.sources: image folders and CSV/TSV/TXT texts. Fast, no display."""

from __future__ import annotations

import codecs
import csv
import io
import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aldesk.core.progress import Cancelled, UserError
from aldesk.core.sources import IMAGE_EXTENSIONS, load_csv, load_images, load_source

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16  # not a valid image: sources must not decode


def _touch(path: Path, data: bytes = PNG_BYTES) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# ---------------------------------------------------------------- images


def test_extensions_cover_common_formats() -> None:
    for ext in (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"):
        assert ext in IMAGE_EXTENSIONS
    assert ".pdf" not in IMAGE_EXTENSIONS and ".txt" not in IMAGE_EXTENSIONS


def test_imagefolder_labels(tmp_path: Path) -> None:
    for cls in ("dog", "cat"):
        for i in range(3):
            _touch(tmp_path / cls / f"{i}.png")
    ds = load_images(tmp_path)
    assert ds.kind == "image" and len(ds) == 6
    assert ds.keys[:3] == ["cat/0.png", "cat/1.png", "cat/2.png"]
    assert ds.known_labels == ["cat"] * 3 + ["dog"] * 3
    assert ds.path(0) == tmp_path / "cat" / "0.png"


def test_nested_folders_label_is_first_level(tmp_path: Path) -> None:
    _touch(tmp_path / "a" / "x" / "y" / "1.jpg")
    _touch(tmp_path / "a" / "2.jpg")
    _touch(tmp_path / "b" / "z" / "3.JPG")
    ds = load_images(tmp_path)
    assert ds.keys == ["a/2.jpg", "a/x/y/1.jpg", "b/z/3.JPG"]
    assert ds.known_labels == ["a", "a", "b"]


def test_no_labels_when_images_at_top_or_single_subfolder(tmp_path: Path) -> None:
    _touch(tmp_path / "top.png")
    _touch(tmp_path / "a" / "1.png")
    _touch(tmp_path / "b" / "1.png")
    assert load_images(tmp_path).known_labels is None
    single = tmp_path / "single"
    _touch(single / "only" / "1.png")
    _touch(single / "only" / "2.png")
    assert load_images(single).known_labels is None


def test_hidden_files_and_dirs_skipped_non_images_ignored(tmp_path: Path) -> None:
    _touch(tmp_path / "ok.png")
    _touch(tmp_path / ".hidden.png")
    _touch(tmp_path / ".git" / "x.png")
    _touch(tmp_path / "__MACOSX" / "y.png")
    _touch(tmp_path / "notes.txt", b"hello")
    _touch(tmp_path / "data.csv", b"a,b")
    ds = load_images(tmp_path)
    assert ds.keys == ["ok.png"]
    assert ds.problems == []


def test_empty_files_are_problems(tmp_path: Path) -> None:
    _touch(tmp_path / "good.png")
    _touch(tmp_path / "empty.jpg", b"")
    ds = load_images(tmp_path)
    assert ds.keys == ["good.png"]
    assert [(p.key, p.reason) for p in ds.problems] == [("empty.jpg", "empty file")]


def test_non_image_content_with_image_extension_is_listed(tmp_path: Path) -> None:
    _touch(tmp_path / "fake.png", b"this is not a png")
    assert load_images(tmp_path).keys == ["fake.png"]


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_symlink_loop_and_broken_link(tmp_path: Path) -> None:
    _touch(tmp_path / "a" / "1.png")
    os.symlink(tmp_path, tmp_path / "a" / "loop")
    os.symlink(tmp_path / "missing.png", tmp_path / "broken.png")
    ds = load_images(tmp_path)
    assert ds.keys == ["a/1.png"]
    assert [(p.key, p.reason) for p in ds.problems] == [("broken.png", "broken link")]


def test_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        load_images(tmp_path / "nope")
    f = _touch(tmp_path / "file.png")
    with pytest.raises(UserError, match="not a folder"):
        load_images(f)
    empty = tmp_path / "empty"
    _touch(empty / "readme.txt", b"x")
    with pytest.raises(UserError, match=r"no images found in .*\.jpg, \.jpeg, \.png"):
        load_images(empty)


def test_cancel_and_progress(tmp_path: Path) -> None:
    _touch(tmp_path / "1.png")
    with pytest.raises(Cancelled):
        load_images(tmp_path, cancel=lambda: True)
    seen: list[float] = []
    load_images(tmp_path, progress=lambda f, m: seen.append(f))
    assert seen[-1] == 1.0


def test_load_source_dispatch(tmp_path: Path) -> None:
    _touch(tmp_path / "imgs" / "1.png")
    csv_path = _write(tmp_path / "t.csv", "text\nhello\n")
    assert load_source(tmp_path / "imgs").kind == "image"
    assert load_source(csv_path).kind == "text"
    with pytest.raises(UserError, match="is an image"):
        load_source(tmp_path / "imgs" / "1.png")
    with pytest.raises(UserError, match="does not exist"):
        load_source(tmp_path / "nothing.csv")


# ---------------------------------------------------------------- CSV


def test_csv_basic_with_labels(tmp_path: Path) -> None:
    p = _write(tmp_path / "t.csv", "id,text,label\n1,good movie,pos\n2,bad movie,neg\n3,fine,\n4,ok,pos\n")
    ds = load_csv(p)
    assert ds.kind == "text" and ds.root == p
    assert ds.keys == ["good movie", "bad movie", "fine", "ok"]
    assert ds.known_labels == ["pos", "neg", None, "pos"]
    assert ds.text(1) == "bad movie"


def test_csv_utf8_bom(tmp_path: Path) -> None:
    p = tmp_path / "bom.csv"
    p.write_bytes(codecs.BOM_UTF8 + "text,label\nçà va,a\nnaïve,b\n".encode())
    ds = load_csv(p)
    assert ds.keys == ["çà va", "naïve"]
    assert ds.known_labels == ["a", "b"]


def test_csv_utf16_bom(tmp_path: Path) -> None:
    p = _write(tmp_path / "u16.csv", "text\nhéllo\nwörld\n", encoding="utf-16")
    assert load_csv(p).keys == ["héllo", "wörld"]


@pytest.mark.parametrize("delim", [";", "\t", "|"])
def test_csv_other_delimiters(tmp_path: Path, delim: str) -> None:
    p = _write(tmp_path / "d.csv", f"text{delim}label\nhello, world{delim}a\nsecond, text{delim}b\n")
    ds = load_csv(p)
    assert ds.keys == ["hello, world", "second, text"]
    assert ds.known_labels == ["a", "b"]


def test_tsv_and_txt(tmp_path: Path) -> None:
    tsv = _write(tmp_path / "t.tsv", "label\tsentence\npos\tgreat; really, great\nneg\tbad\n")
    ds = load_csv(tsv)
    assert ds.keys == ["great; really, great", "bad"]
    assert ds.known_labels == ["pos", "neg"]
    txt = _write(tmp_path / "t.txt", 'first line, with comma\r\n\nsecond "quoted"\nfirst line, with comma\n')
    ds = load_csv(txt)
    assert ds.keys == ["first line, with comma", 'second "quoted"']
    assert ds.known_labels is None
    assert any("1 duplicate" in n for n in ds.notes)


def test_blank_lines_before_header(tmp_path: Path) -> None:
    p = _write(tmp_path / "b.csv", "\n  \r\ntext;label\na,b;x\nc;y\n")
    ds = load_csv(p)
    assert ds.keys == ["a,b", "c"] and ds.known_labels == ["x", "y"]


def test_single_column_unquoted_commas(tmp_path: Path) -> None:
    p = _write(tmp_path / "one.csv", "review\nhello, world\nyes; no\n")
    assert load_csv(p).keys == ["hello, world", "yes; no"]


def test_csv_embedded_newlines_quotes_and_empty_rows(tmp_path: Path) -> None:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["text", "label"])
    w.writerow(['she said "hi",\nthen left', "a"])
    w.writerow(["", ""])
    w.writerow(["line1\r\nline2", "b"])
    buf.write("\n\n,,\n")
    w.writerow(["last", "a"])
    p = _write(tmp_path / "nl.csv", buf.getvalue())
    ds = load_csv(p)
    assert ds.keys == ['she said "hi",\nthen left', "line1\r\nline2", "last"]
    assert ds.known_labels == ["a", "b", "a"]
    assert ds.problems == []


def test_csv_whitespace_text_is_problem(tmp_path: Path) -> None:
    p = _write(tmp_path / "w.csv", "text,label\n   ,a\nreal,b\n")
    ds = load_csv(p)
    assert ds.keys == ["real"]
    assert [(pr.key, pr.reason) for pr in ds.problems] == [("row 2", "empty text")]


def test_csv_one_megabyte_cell(tmp_path: Path) -> None:
    big = "x" * 1_200_000
    p = _write(tmp_path / "big.csv", f'text,label\n"{big}",a\nsmall,b\n')
    ds = load_csv(p)
    assert ds.keys == [big, "small"]


def test_csv_duplicates_and_conflicts(tmp_path: Path) -> None:
    p = _write(tmp_path / "dup.csv", "text,label\na,x\nb,y\na,x\na,z\nb,\nc,x\n")
    ds = load_csv(p)
    assert ds.keys == ["a", "b", "c"]
    assert ds.known_labels == ["x", "y", "x"]
    assert any("3 duplicate texts merged" in n for n in ds.notes)
    assert any("1 of those duplicates had a different known label" in n for n in ds.notes)


def test_csv_latin1_is_clear_user_error(tmp_path: Path) -> None:
    p = tmp_path / "latin.csv"
    p.write_bytes("text\ncafé crème\n".encode("latin-1"))
    with pytest.raises(UserError) as err:
        load_csv(p)
    msg = str(err.value)
    assert "latin.csv" in msg and "offset 8" in msg and "0xe9" in msg and "UTF-8" in msg


def test_csv_excel_file_is_user_error(tmp_path: Path) -> None:
    import zipfile

    p = tmp_path / "book.csv"  # an .xlsx is a zip whose first member is [Content_Types].xml, then xl/...
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(UserError, match="Excel"):
        load_csv(p)
    ole = tmp_path / "old.csv"
    ole.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40)
    with pytest.raises(UserError, match="Excel"):
        load_csv(ole)


def test_csv_missing_columns_list_available(tmp_path: Path) -> None:
    p = _write(tmp_path / "c.csv", "body,tag\nhello,a\n")
    with pytest.raises(UserError, match=r"no column 'text'.*'body', 'tag'"):
        load_csv(p, text_column="text")
    with pytest.raises(UserError, match=r"no column 'label'.*'body', 'tag'"):
        load_csv(p, label_column="label")
    ds = load_csv(p, text_column="BODY", label_column="tag")  # case-insensitive match
    assert ds.known_labels == ["a"]


def test_csv_header_only_and_empty(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no rows"):
        load_csv(_write(tmp_path / "h.csv", "text,label\n"))
    with pytest.raises(UserError, match="empty"):
        load_csv(_write(tmp_path / "e.csv", "\n \n"))


def test_text_column_autodetect(tmp_path: Path) -> None:
    rows = "id,title,notes_long,score\n" + "".join(
        f"{i},T{i},this is a much longer description number {i},{i * 0.5}\n" for i in range(10)
    )
    ds = load_csv(_write(tmp_path / "a.csv", rows))
    assert ds.keys[0] == "this is a much longer description number 0"
    assert any("notes_long" in n for n in ds.notes)
    # A named column wins even when another is longer.
    named = "Message,other\nhi," + "z" * 200 + "\nyo," + "y" * 200 + "\n"
    assert load_csv(_write(tmp_path / "b.csv", named)).keys == ["hi", "yo"]
    # Numeric columns are never chosen, however long.
    numeric = "n,word\n123456789012345,a\n223456789012345,b\n"
    assert load_csv(_write(tmp_path / "c.csv", numeric)).keys == ["a", "b"]


def test_label_autodetect_is_conservative(tmp_path: Path) -> None:
    # Every row a different "category": an id, not a label.
    p = _write(tmp_path / "ids.csv", "text,category\n" + "".join(f"t{i},c{i}\n" for i in range(10)))
    ds = load_csv(p)
    assert ds.known_labels is None
    assert any("not used as known labels" in n for n in ds.notes)
    # One value only: nothing to learn from.
    p = _write(tmp_path / "one.csv", "text,label\na,x\nb,x\nc,x\n")
    assert load_csv(p).known_labels is None
    # A column not named like a label is never picked up.
    p = _write(tmp_path / "other.csv", "text,mood\na,x\nb,y\nc,x\nd,y\n")
    assert load_csv(p).known_labels is None


# ---------------------------------------------------------------- fuzz

_cells = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=600), suffix=st.sampled_from([".csv", ".tsv", ".txt"]))
def test_fuzz_arbitrary_bytes_load_or_user_error(tmp_path: Path, data: bytes, suffix: str) -> None:
    p = tmp_path / f"fuzz{suffix}"
    p.write_bytes(data)
    try:
        ds = load_csv(p)
    except UserError:
        return
    assert len(ds.keys) == len(set(ds.keys)) > 0
    assert all(k.strip() for k in ds.keys)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.tuples(_cells, _cells), max_size=30),
    delim=st.sampled_from([",", ";", "\t", "|"]),
    bom=st.booleans(),
)
def test_fuzz_written_rows_round_trip(
    tmp_path: Path, rows: list[tuple[str, str]], delim: str, bom: bool
) -> None:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=delim)
    w.writerow(["text", "label"])
    w.writerows(rows)
    p = tmp_path / "rt.csv"
    p.write_bytes((codecs.BOM_UTF8 if bom else b"") + buf.getvalue().encode())
    expected = list(dict.fromkeys(t for t, _ in rows if t.strip()))
    try:
        ds = load_csv(p)
    except UserError as exc:
        assert not expected, f"valid rows rejected: {exc}"
        return
    assert ds.keys == expected


# ---------------------------------------------------------------- bundled demo

DEMO = Path(__file__).resolve().parents[2] / "aldesk" / "resources" / "demo"


@pytest.mark.skipif(not DEMO.is_dir(), reason="demo data not generated")
def test_bundled_demo_loads() -> None:
    images = load_source(DEMO / "images")
    assert len(images) == 300 and len(set(images.known_labels or [])) == 10
    assert images.problems == []
    texts = load_source(DEMO / "texts.csv")
    assert len(texts) == 400 and sorted(set(texts.known_labels or [])) == ["fresh", "rotten"]
    assert (texts.known_labels or []).count("fresh") == 200
    assert (DEMO / "LICENSE.md").is_file()
