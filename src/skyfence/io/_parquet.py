"""Parquet tracks: OpenSky state vectors, traffic records, skyfence columns or
any Parquet file through a column mapping (see :mod:`._schema`).

Only the needed columns are read; text columns (``icao24``, ``callsign``) are
read dictionary-encoded so that millions of rows cost one conversion per
distinct value.
"""

from __future__ import annotations

from ._build import Context, build_tracks
from ._schema import resolve


def read_parquet(src, *, columns=None, time_unit=None, altitude_unit=None):
    import pyarrow as pa

    # ParquetFile, not read_table: pyarrow.dataset imports pandas (0.24 s of CPU)
    pf, spec = _open(src.arrow_input(), src, lambda schema: resolve(
        [f.name for f in schema], "Parquet", src, columns=columns, time_unit=time_unit, altitude_unit=altitude_unit))
    try:
        table = pf.read(columns=spec.file_columns, use_threads=True)
    except (pa.ArrowException, OSError) as e:
        raise src.error(f"corrupt or unreadable Parquet file: {_first_line(e)} ({spec.format})") from None
    ctx = Context(src, spec.format, lambda i: (i + 1, f"row {i + 1}"))
    arrays = {name: table.column(name) for name in table.column_names}
    return build_tracks(arrays, table.num_rows, spec, ctx)


def _open(source, src, spec_of, **opts):
    """A Parquet file (path or open file) and its reading spec, ``spec_of(schema)``:
    opened for its footer, then again with that footer handed over (no second
    request to a remote file) so that its address and callsign texts are read
    dictionary-encoded, one conversion per distinct value."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(source, **opts)
    except (pa.ArrowException, OSError) as e:
        raise src.error(f"corrupt or unreadable Parquet file: {_first_line(e)}") from None
    schema = pf.schema_arrow
    spec = spec_of(schema)
    roles = {v: k for k, v in spec.columns.items()}
    as_dict = [c for c in spec.file_columns if roles.get(c) in ("icao24", "callsign")
               and (pa.types.is_string(schema.field(c).type) or pa.types.is_large_string(schema.field(c).type))]
    if as_dict:
        pf = pq.ParquetFile(source, metadata=pf.metadata, read_dictionary=as_dict, **opts)
    return pf, spec


def _first_line(e) -> str:
    lines = str(e).strip().splitlines()
    return lines[0] if lines else type(e).__name__


# ---------------------------------------------------------------- datasets

#: the skyfence columns detection needs (the others are not read when streaming)
DETECT_COLUMNS = ("icao24", "time", "lat", "lon", "alt_baro_ft", "alt_geo_ft", "callsign",
                  "groundspeed_kt", "track_deg", "nic", "nacp", "sil")  # the last five: integrity flags
_GLOB = set("*?[")


class FileRef:
    """A dataset file, for messages (``Source``'s ``name`` and ``error``)."""

    def __init__(self, name: str):
        self.name = name

    def error(self, message: str, **kw):
        from .._errors import TrackFormatError

        return TrackFormatError(message, source=self.name, **kw)


def _filesystem(path: str):
    """(pyarrow filesystem, path inside it) for a local path or an fsspec URL (``s3://...``)."""
    if "://" not in path:
        return None, path
    import fsspec
    from pyarrow.fs import FSSpecHandler, PyFileSystem

    fs, inner = fsspec.core.url_to_fs(path)
    return PyFileSystem(FSSpecHandler(fs)), inner


def is_parquet_dataset(path: str) -> bool:
    """True for a directory, a glob, a URL or a file that starts with ``PAR1``."""
    import os

    if "://" in path or _GLOB & set(path) and not os.path.exists(path) or os.path.isdir(path):
        return True
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"PAR1"
    except OSError:
        return False


def dataset_files(path: str) -> tuple[object, list[str]]:
    """The Parquet files of a file, a directory (hive-partitioned or not) or a glob, sorted.

    Returns ``(filesystem, files)``; the filesystem is None for local files.
    Hidden files and files starting with ``_`` (``_SUCCESS``) are left out.
    """
    import glob
    import os

    fs, inner = _filesystem(path)
    if fs is None and os.path.isfile(inner):
        # one local file: no dataset discovery (``pyarrow.dataset`` costs ~0.15 s to import)
        return None, [inner]
    if _GLOB & set(inner) and (fs is not None or not os.path.exists(inner)):
        if fs is None:
            files = sorted(f for f in glob.glob(inner, recursive=True) if os.path.isfile(f))
        else:
            import fsspec

            f2, _ = fsspec.core.url_to_fs(path)
            files = sorted(f2.glob(inner))
        if not files:
            raise FileRef(path).error("no file matches this pattern")
        out = []
        for f in files:
            out.extend(dataset_files(f if fs is None else path.split("://")[0] + "://" + f)[1])
        return fs, out
    import pyarrow.dataset as ds

    try:
        dataset = ds.dataset(inner, format="parquet", partitioning="hive", filesystem=fs)
    except FileNotFoundError:
        raise FileRef(path).error("no such file or directory") from None
    except Exception as e:  # noqa: BLE001 - pyarrow raises many kinds on bad files
        raise FileRef(path).error(f"not a Parquet file or dataset: {_first_line(e)}") from None
    files = sorted(dataset.files)
    if not files:
        raise FileRef(path).error("no Parquet files in this directory")
    return fs, files


def file_spec(schema, name: str, *, columns=None, time_unit=None, altitude_unit=None):
    """The reading spec of one dataset file, restricted to :data:`DETECT_COLUMNS`."""
    spec = resolve([f.name for f in schema], "Parquet", FileRef(name), columns=columns, time_unit=time_unit,
                   altitude_unit=altitude_unit)  # fmt: skip
    spec.columns = {k: v for k, v in spec.columns.items() if k in DETECT_COLUMNS}
    return spec


def iter_batches(files: list[str], fs=None, *, batch_rows: int = 500_000, columns=None, time_unit=None,
                 altitude_unit=None, display=None):  # fmt: skip
    """Validated :class:`Tracks` batches from Parquet files, file after file,
    reading only the columns detection needs, one row group batch at a time.

    ``display`` maps a file path to the name used in messages and ``Tracks.source``.
    Errors name the file, the row (counted from 1 in that file) and the column.
    Columns may be read-only views of Arrow's buffers (``build_tracks(writable=False)``).
    """
    import pyarrow as pa

    for path in files:
        name = display(path) if display else path
        src = FileRef(name)
        # local files: column chunks streamed through 1 MB buffers, not the whole file's
        # columns buffered at once (pyarrow's default: 360 MB held for a 10 M-row file);
        # remote files keep pre-buffering (fewer, coalesced requests)
        opts = dict(pre_buffer=False, buffer_size=1 << 20) if fs is None else {}
        try:
            source = path if fs is None else fs.open_input_file(path)  # one open per remote file
        except (pa.ArrowException, OSError) as e:
            raise src.error(f"corrupt or unreadable Parquet file: {_first_line(e)}") from None
        pf, spec = _open(source, src, lambda schema: file_spec(
            schema, name, columns=columns, time_unit=time_unit, altitude_unit=altitude_unit), **opts)
        wanted = spec.file_columns
        offset = 0
        memo: dict = {}  # what the batches share (their dictionaries' tables)
        try:  # decoded on this thread: the stream reads on a thread of its own beside the engine,
            # and Arrow's pool would add 15 % of the reading CPU in hand-offs
            for batch in pf.iter_batches(batch_size=batch_rows, columns=wanted, use_threads=False):
                off = offset
                ctx = Context(src, spec.format, lambda i, off=off: (off + i + 1, f"row {off + i + 1}"), memo)
                arrays = {c: batch.column(c) for c in batch.schema.names}
                tracks = build_tracks(arrays, batch.num_rows, spec, ctx, writable=False)  # read, not written
                offset += batch.num_rows
                yield tracks
        except (pa.ArrowException, OSError) as e:
            raise src.error(f"corrupt or unreadable Parquet file: {_first_line(e)} ({spec.format})") from None


def count_rows(files: list[str], fs=None) -> int:
    """Rows in these Parquet files, from their footers."""
    import pyarrow.parquet as pq

    total = 0
    for path in files:
        try:
            total += pq.ParquetFile(path if fs is None else fs.open_input_file(path)).metadata.num_rows
        except Exception:  # noqa: BLE001 - reported when the file is read
            pass
    return total
