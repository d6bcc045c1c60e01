"""Opening a track source: a path (plain or gzip) or ``-`` for stdin, and
recognising its format from its first bytes."""

from __future__ import annotations

import os
import stat
import sys
import zlib

from .._errors import TrackFormatError

HEAD_SIZE = 1 << 16
_GZIP_MAGIC = b"\x1f\x8b"
_OTHER_COMPRESSION = {
    b"PK\x03\x04": "a zip archive",
    b"BZh": "bzip2-compressed data",
    b"\xfd7zXZ\x00": "xz-compressed data",
    b"(\xb5/\xfd": "zstd-compressed data",
    b"ARROW1": "an Arrow IPC/Feather file",
}
DELIMITERS = (",", ";", "\t", "|")


class Source:
    """The bytes of one track source, read lazily where that is possible.

    ``name`` is the source as given (for messages and ``Tracks.source``).  A
    plain file keeps its ``path`` so that Arrow can read it directly; stdin and
    gzip data are held in ``data``.
    """

    def __init__(self, name: str, *, path: str | None = None, data: bytes | None = None, gzip: bool = False):
        self.name = name
        self.path = path
        self._data = data
        self.gzip = gzip
        if data is not None:
            self.head = data[:HEAD_SIZE]
        else:
            with open(path, "rb") as f:
                self.head = f.read(HEAD_SIZE)

    @property
    def data(self) -> bytes:
        """All bytes (read on first use for a plain file)."""
        if self._data is None:
            with open(self.path, "rb") as f:
                self._data = f.read()
        return self._data

    def arrow_input(self):
        """Something pyarrow readers accept: the path, or a buffer reader."""
        import pyarrow as pa

        if self.path is not None and self._data is None:
            return self.path
        return pa.BufferReader(self.data)

    def error(self, message: str, **kw) -> TrackFormatError:
        return TrackFormatError(message, source=self.name, **kw)


def open_source(source) -> Source:
    """Open ``source`` (path-like or ``-``), gunzipping it when its content is gzip."""
    if source is None:
        raise TrackFormatError("no track source given")
    name = os.fsdecode(os.fspath(source))
    if name == "-":
        stdin = sys.stdin
        buf = getattr(stdin, "buffer", None)
        if stdin is None:
            raise TrackFormatError("standard input is closed", source="-")
        raw = (buf if buf is not None else stdin).read()
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        return _from_bytes(name, raw)
    try:
        if os.path.isdir(name):
            raise TrackFormatError("is a directory, not a track file", source=name)
        if not stat.S_ISREG(os.stat(name).st_mode):  # a pipe, /dev/stdin, ...
            with open(name, "rb") as f:
                return _from_bytes(name, f.read())
        size = os.path.getsize(name)
        with open(name, "rb") as f:
            magic = f.read(2)
    except FileNotFoundError:
        raise TrackFormatError("no such file", source=name) from None
    except PermissionError:
        raise TrackFormatError("permission denied", source=name) from None
    except OSError as e:
        raise TrackFormatError(f"cannot read: {e.strerror or e}", source=name) from None
    if size == 0:
        raise TrackFormatError("empty file", source=name)
    if magic == _GZIP_MAGIC:
        with open(name, "rb") as f:
            return _from_bytes(name, f.read())
    src = Source(name, path=name)
    if not src.head.strip():
        if size <= HEAD_SIZE or not src.data.strip():
            raise TrackFormatError("empty file (only white space)", source=name)
    return src


def _from_bytes(name: str, raw: bytes) -> Source:
    is_gzip = raw[:2] == _GZIP_MAGIC
    if is_gzip:
        raw = gunzip(raw, name)
    if not raw.strip():
        what = "empty gzip content" if is_gzip else "empty file"
        if name == "-" and not is_gzip:
            what = "empty input"
        raise TrackFormatError(what, source=name)
    return Source(name, data=raw, gzip=is_gzip)


def gunzip(raw: bytes, name: str) -> bytes:
    """Decompress all gzip members of ``raw``; truncation and corruption are errors."""
    parts = []
    rest = raw
    while True:
        d = zlib.decompressobj(31)
        try:
            parts.append(d.decompress(rest))
        except zlib.error as e:
            raise TrackFormatError(f"corrupt gzip data ({e})", source=name) from None
        if not d.eof:
            raise TrackFormatError(
                f"truncated gzip file: the compressed data ends early (after {len(raw)} bytes)", source=name
            )
        rest = d.unused_data
        if not rest.strip(b"\x00"):
            break
        if rest[:2] != _GZIP_MAGIC:
            raise TrackFormatError("corrupt gzip file: unexpected data after the end of the gzip stream", source=name)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def sniff(src: Source) -> str:
    """``"parquet"``, ``"json"`` or ``"csv"`` from the first bytes; else an error."""
    head = src.head
    if head[:4] == b"PAR1":
        return "parquet"
    for magic, what in _OTHER_COMPRESSION.items():
        if head.startswith(magic):
            raise src.error(f"unknown format: {what}; track files are JSON, CSV or Parquet, plain or gzip")
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] in (b"[", b"{"):
        return "json"
    if b"\x00" in head:
        raise src.error("unknown format: binary data, not JSON, CSV or Parquet (plain or gzip)")
    first = header_line(src)
    if any(d in first for d in DELIMITERS):
        return "csv"
    shown = first if len(first) <= 60 else first[:57] + "..."
    raise src.error(
        f"unknown format: text that is neither JSON nor CSV (first line {shown!r}); "
        "track files are JSON, CSV or Parquet, plain or gzip",
        line=1,
    )


def header_line(src: Source) -> str:
    """The first non-empty line of a text source, decoded."""
    text = src.head.decode("utf-8", errors="replace").lstrip("\ufeff")
    for line in text.splitlines():
        if line.strip():
            return line
    return ""
