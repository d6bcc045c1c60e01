"""The public entry point of the engine: ``detect(tracks, zones)``."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ._tracks import Tracks
from .engine._episodes import episodes_table
from .engine._index import load_or_build
from .engine._kernel import crossings
from .engine._prepare import prepare
from .engine._threads import pool_ranges, threads
from .zones._model import Zone


def detect(tracks: Tracks, zones: list[Zone], *, max_gap: float = 60.0, paths: bool = False) -> pa.Table:
    """Every episode of every aircraft inside every zone, exactly.

    Parameters
    ----------
    tracks:
        Fixes of any number of aircraft, in any order (see :class:`Tracks`).
    zones:
        Zones to test, e.g. ``read_zones("world")``.
    max_gap:
        A track is split where consecutive fixes are more than this many
        seconds apart.
    paths:
        Add a ``path`` column: the path inside, ``[lon, lat, alt_ft]`` from
        the entry point through the fixes inside to the exit point.

    Returns
    -------
    pyarrow.Table
        One row per episode (schema ``skyfence.engine._episodes.SCHEMA``),
        ordered by aircraft and entry time.  ``.to_pandas()`` for pandas.
    """
    return detect_prepared(tracks, zones, max_gap=max_gap, paths=paths)[0]


def detect_prepared(tracks: Tracks, zones: list[Zone], *, max_gap: float = 60.0, paths: bool = False):
    """:func:`detect`, also returning the prepared tracks (for summaries)."""
    prep = prepare(tracks, max_gap)
    index = load_or_build(zones)
    n_threads = threads()
    oi, of = crossings(prep.tracks.lon, prep.tracks.lat, prep.alt_fl, prep.alt_msl, prep.start, index, n_threads)
    return episodes_table(prep, zones, index, oi, of, paths, n_threads), prep


def classify(lon, lat, zones: list[Zone]):
    """For each point, the index in ``zones`` of a zone containing it, or -1.

    Lateral only (no vertical limits, no time).  Points in aircraft/time order
    are fastest: consecutive points in one edge-free grid cell share a lookup.
    """
    from .engine._kernel import classify as _classify

    lon = np.ascontiguousarray(lon, dtype=np.float64)
    lat = np.ascontiguousarray(lat, dtype=np.float64)
    out = np.empty(len(lon), np.int32)
    grid = load_or_build(zones).grid

    def run(a: int, b: int):
        _classify(lon[a:b], lat[a:b], grid, out[a:b])

    pool_ranges(run, np.unique(np.linspace(0, len(lon), threads() + 1).astype(np.int64)))
    return out
