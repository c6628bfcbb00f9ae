"""A text file's bytes, read safely (a regular file, bounded), and decoded: UTF-8 with or without BOM, UTF-16 or
UTF-32 with a BOM or told by their NUL bytes; anything else, a compressed file or an Office file, a one-line
UserError (see :mod:`aldesk.core.sources.texts`)."""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path

from aldesk.core.progress import UserError

MAX_TEXT_BYTES = 4 * 2**30
"""The most aldesk reads from one text file. Far above any labeling set (a 4 GiB CSV is millions of texts), but
a bound: a file that keeps growing (a log being written) must not be read until memory runs out."""
_COMPRESSED = (  # magic bytes -> what the user should be told the file is
    (b"\x1f\x8b", "a gzip-compressed file (.gz)"),
    (b"BZh", "a bzip2-compressed file (.bz2)"),
    (b"\xfd7zXZ\x00", "an xz-compressed file (.xz)"),
    (b"\x28\xb5\x2f\xfd", "a zstd-compressed file (.zst)"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive (.7z)"),
    (b"Rar!\x1a\x07", "a RAR archive (.rar)"),
)


def read_text_file(path: Path) -> bytes:
    """The bytes of ``path``, refusing anything that is not a regular file, and at most :data:`MAX_TEXT_BYTES`.

    Opened non-blocking, then checked on the open descriptor: a FIFO (which would block until some writer
    appears), a device such as ``/dev/zero`` (endless) or a socket is refused in one line, and a file swapped
    for one of those between a check and the open cannot slip through.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except IsADirectoryError as exc:
        raise UserError(f"{path} is a folder, not a CSV file.") from exc
    except FileNotFoundError as exc:
        raise UserError(f"{path} does not exist.") from exc
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from exc
    with open(fd, "rb", closefd=True) as f:  # buffered: read(n) loops until n bytes or the end
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise UserError(f"{path} is a folder, not a CSV file.")
        if not stat.S_ISREG(st.st_mode):
            raise UserError(
                f"{path} is {_file_kind(st.st_mode)}, not a file; aldesk reads texts from a CSV, "
                "TSV or TXT file."
            )
        if st.st_size > MAX_TEXT_BYTES:
            raise _too_big(path)
        try:
            data = f.read(MAX_TEXT_BYTES + 1)
        except OSError as exc:
            raise UserError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_TEXT_BYTES:  # it grew while being read
        raise _too_big(path)
    return data


def _too_big(path: Path) -> UserError:
    return UserError(
        f"{path.name} is larger than {MAX_TEXT_BYTES / 2**30:g} GiB, the most aldesk reads from one "
        "text file; split it into smaller files."
    )


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _bomless_wide(data: bytes) -> str | None:
    """The encoding of UTF-16/UTF-32 text without a byte-order mark, told by its NUL bytes, or None.

    Text in UTF-8 hardly ever has NUL bytes. UTF-16 has one in the high byte of every ASCII character (the delimiters, line
    breaks and digits of any CSV, whatever its language), so its NULs sit almost all at odd offsets (LE) or even
    ones (BE); UTF-32 has a NUL in the top byte of every character and in the next one for all of the BMP. A
    pattern that regular, confirmed by the sample decoding cleanly, is not an accident.
    """
    sample = data[:4096]
    if sample.count(0) < 4:
        return None
    sample = sample[: len(sample) // 4 * 4]

    def share(unit: int, pos: int) -> float:
        part = sample[pos::unit]
        return part.count(0) / max(1, len(part))

    candidates = []
    if share(4, 3) >= 0.95 and share(4, 2) >= 0.8 and share(4, 0) <= 0.05:
        candidates.append("utf-32-le")
    if share(4, 0) >= 0.95 and share(4, 1) >= 0.8 and share(4, 3) <= 0.05:
        candidates.append("utf-32-be")
    odd, even = sample[1::2].count(0), sample[0::2].count(0)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    # Valid UTF-8 with a few NULs (legal there) is UTF-8: far from the NUL in every other byte that ASCII gives in
    # UTF-16. Texts all in a non-Latin script have few NULs in UTF-16 too, but are not valid UTF-8.
    if not (utf8 and max(odd, even) < 0.3 * len(sample) / 2):
        if odd >= 4 and even <= odd / 20:
            candidates.append("utf-16-le")
        if even >= 4 and odd <= even / 20:
            candidates.append("utf-16-be")
    for enc in candidates:
        try:
            codecs.getincrementaldecoder(enc)().decode(sample, final=False)
        except UnicodeDecodeError:
            continue
        return enc
    return None


def _decode(path: Path, data: bytes, notes: list[str]) -> str:
    for magic, what in _COMPRESSED:
        if data.startswith(magic):
            raise UserError(
                f"{path.name} is {what}, not a CSV text; unpack it first and open the file inside."
            )
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):  # before UTF-16: FF FE 00 00 starts FF FE
        encoding, body = "utf-32", data
    elif data.startswith(codecs.BOM_UTF8):
        encoding, body = "utf-8", data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, body = "utf-16", data
    elif wide := _bomless_wide(data):
        encoding, body = wide, data
        notes.append(f"read as {wide.upper()} (the file has no byte-order mark)")
    else:
        encoding, body = "utf-8", data
    if body.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):  # zip (xlsx) or OLE (xls)
        if body.startswith(b"PK") and b"xl/" not in body[:65536] and b"[Content_Types]" not in body[:65536]:
            raise UserError(
                f"{path.name} is a zip archive, not a CSV text; unpack it first and open the file inside."
            )
        raise UserError(
            f"{path.name} looks like an Excel/Office file, not a CSV. Save it as 'CSV UTF-8' and open that."
        )
    try:
        return body.decode(encoding)
    except UnicodeDecodeError as exc:
        offset = exc.start + (len(data) - len(body))
        bad = body[exc.start : exc.start + 1].hex()
        raise UserError(
            f"{path.name} is not valid {encoding.upper()} text (byte 0x{bad} at offset {offset:,}). "
            "Re-save it as UTF-8 (e.g. in Excel: Save As → 'CSV UTF-8'; in LibreOffice: Character set → "
            "Unicode (UTF-8)) and open it again."
        ) from exc
