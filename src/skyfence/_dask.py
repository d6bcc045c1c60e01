"""``detect --engine dask``: the streaming engine on a Dask distributed cluster.

Two stages of tasks:

1. one task per Parquet file reads it (only the needed columns, by batches),
   validates it exactly as the local reader does, and splits its fixes into
   ``k`` buckets by a hash of the aircraft address;
2. one task per bucket gathers that bucket from every file (in file order, so
   that of two fixes with the same time the first read is kept, as locally)
   and runs :class:`~skyfence._stream.StreamDetector` over it.

A bucket holds whole aircraft, and the stream engine cuts tracks into pieces
that depend only on the fixes, so the episodes are identical to a local run.
The client sorts them as :func:`skyfence.detect` does.

Workers read the files themselves: paths must be visible to every worker
(a shared file system) or be fsspec URLs (``s3://bucket/prefix/`` with
``s3fs`` installed on the workers, credentials from the usual AWS variables).
"""

from __future__ import annotations

import math

import numpy as np

from ._errors import ConfigError
from ._tracks import ReadStats

BUCKET_ROWS = 4_000_000  # fixes per bucket task, at most about


class _Summary:
    def __init__(self):
        self.stats = ReadStats()
        self.duplicates = 0
        self.n_tracks = 0
        self.suspect_fixes = 0
        self.regrouped = True


def _url(item: str, inner: str) -> str:
    return item.split("://", 1)[0] + "://" + inner if "://" in item else inner


def _read_split(path: str, k: int, opts: dict):
    """Stage 1: one file's fixes in ``k`` aircraft buckets (Arrow tables, callsigns as text)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from ._stream import split_by_aircraft
    from .io._parquet import _filesystem, iter_batches

    fs, inner = _filesystem(path)
    names: dict[str, int] = {}
    stats = ReadStats()
    parts: list[list] = [[] for _ in range(k)]
    for tracks in iter_batches([inner], fs, display=lambda p: path, **opts):
        stats.merge(tracks.stats)
        for j, t in enumerate(split_by_aircraft(tracks, k, names)):
            if t.num_rows:
                parts[j].append(t)
    dictionary = pa.array(list(names), pa.string())
    out = []
    for j in range(k):
        if not parts[j]:
            out.append(None)
            continue
        t = pa.concat_tables(parts[j]).combine_chunks()
        codes = t.column("callsign").chunk(0) if t.column("callsign").num_chunks else pa.array([], pa.int32())
        mask = pc.less(codes, 0)
        cs = pa.DictionaryArray.from_arrays(pc.if_else(mask, None, codes), dictionary)
        out.append(t.set_column(t.schema.get_field_index("callsign"), "callsign", cs))
    return out, stats


def _pick(result, j: int):
    return result[0][j]


def _detect_bucket(parts: list, zones, max_gap: float, window_s: float):
    """Stage 2: one bucket, all its files, through the stream engine."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from ._stream import BUCKET_COLUMNS, StreamDetector, bucket_from_columns

    det = StreamDetector(zones, max_gap=max_gap, window_s=window_s, close_idle=False)  # files in any order
    for t in parts:
        if t is None:
            continue
        cs = t.column("callsign").combine_chunks()
        names = cs.dictionary.to_pylist()
        codes = pc.fill_null(cs.indices, -1).to_numpy(zero_copy_only=False).astype(np.int32)
        c = {name: t.column(name).to_numpy() for name in BUCKET_COLUMNS if name != "callsign"}
        c["callsign"] = codes
        det.feed(bucket_from_columns(c, tuple(names)))
    recs = det.finish_records()
    return recs, det.duplicates, (det.n_tracks, det.suspect_fixes)


def detect_dask(inputs, zones, scheduler, *, max_gap: float = 60.0, columns=None, time_unit=None,
                altitude_unit=None, batch_rows: int = 500_000, n_buckets: int | None = None,
                source: str | None = None, window_s: float | None = None):  # fmt: skip
    """Episodes of Parquet datasets, computed on a Dask cluster.

    Parameters
    ----------
    inputs:
        Parquet files, directories, globs or fsspec URLs, readable by the workers.
    zones:
        Zones to test (sent to every worker once).
    scheduler:
        The scheduler's address (``tcp://host:8786``) or a ``distributed.Client``.
    n_buckets:
        Aircraft buckets (stage-2 tasks); default: enough for about 4 million
        fixes each, and at least two per worker.

    Returns
    -------
    (pyarrow.Table, summary)
        The same table as a local run of the same inputs.
    """
    try:
        from distributed import Client
    except ImportError:
        raise ConfigError("--engine dask needs Dask: pip install 'skyfence[dask]'") from None
    from ._stream import WINDOW_S, records_table
    from .io._parquet import count_rows, dataset_files, is_parquet_dataset

    window_s = WINDOW_S if window_s is None else window_s
    files = []
    total = 0
    for item in map(str, inputs):
        if item == "-" or not is_parquet_dataset(item):
            raise ConfigError(f"{item}: --engine dask reads Parquet files, directories, globs or URLs")
        fs, found = dataset_files(item)
        total += count_rows(found, fs)
        files.extend(_url(item, f) for f in found)
    own = not isinstance(scheduler, Client)
    try:
        client = Client(scheduler) if own else scheduler
    except OSError as e:
        raise ConfigError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from None
    try:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        k = n_buckets or max(2 * n_workers, math.ceil(total / BUCKET_ROWS))
        opts = dict(batch_rows=batch_rows, columns=columns, time_unit=time_unit, altitude_unit=altitude_unit)
        [zones_f] = client.scatter([list(zones)], broadcast=True)
        stage1 = [client.submit(_read_split, f, k, opts, pure=False) for f in files]
        stage2 = []
        for j in range(k):
            picks = [client.submit(_pick, s, j) for s in stage1]
            stage2.append(client.submit(_detect_bucket, picks, zones_f, max_gap, window_s, pure=False))
        results = client.gather(stage2)
        summary = _Summary()
        for _, stats in client.gather(stage1):
            summary.stats.merge(stats)
    finally:
        if own:
            client.close()
    recs = [r for r, _, _ in results]
    keys = recs[0].keys() if recs else []
    merged = {key: np.concatenate([r[key] for r in recs]) for key in keys}
    summary.duplicates = sum(d for _, d, _ in results)
    summary.n_tracks = sum(t for _, _, (t, _) in results)
    summary.suspect_fixes = sum(f for _, _, (_, f) in results)
    source = ", ".join(map(str, inputs)) if source is None else source
    return records_table(merged, zones, source), summary
