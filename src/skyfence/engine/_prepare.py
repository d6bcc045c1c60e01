"""Turn a reader's rows into engine-ready tracks.

Sort by (icao24, time) keeping the first of equal times, split into tracks at
gaps longer than ``max_gap`` and fill missing altitudes linearly in time inside
each track.  All vectorised; the few loops are compiled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from .._tracks import Tracks


@dataclass
class Prepared:
    """Tracks sorted and split, with the altitude series the engine compares.

    ``start``: int64 index of each track's first fix, plus ``len`` at the end.
    ``alt_fl``: barometric altitude (ft) for flight-level limits.
    ``alt_msl``: geometric altitude where known, else barometric, for MSL/AGL.
    ``geo_used``: bool per fix, True where ``alt_msl`` is geometric.
    ``flags``: uint16 integrity flags per fix (:mod:`skyfence._integrity`),
    set when the episodes are built.
    """

    tracks: Tracks
    start: np.ndarray
    alt_fl: np.ndarray
    alt_msl: np.ndarray
    geo_used: np.ndarray
    duplicates: int
    flags: np.ndarray | None = None

    @property
    def n_tracks(self) -> int:
        return len(self.start) - 1


def prepare(tracks: Tracks, max_gap: float = 60.0) -> Prepared:
    icao, time = tracks.icao24, tracks.time
    n = len(time)
    if n > 1 and not _is_sorted(icao, time):
        tracks = tracks.take(aircraft_order(icao, time))
        icao, time = tracks.icao24, tracks.time
    if n > 1:
        dup = np.zeros(n, bool)
        dup[1:] = (icao[1:] == icao[:-1]) & (time[1:] == time[:-1])
        ndup = int(dup.sum())
        if ndup:
            tracks = tracks.take(~dup)
            icao, time = tracks.icao24, tracks.time
    else:
        ndup = 0
    n = len(time)
    brk = np.ones(n, bool)
    if n > 1:
        brk[1:] = (icao[1:] != icao[:-1]) | ((time[1:] - time[:-1]) > max_gap)
    start = np.append(np.flatnonzero(brk), n).astype(np.int64)
    alt_fl = _fill(tracks.alt_baro_ft, time, start)
    geo = _fill(tracks.alt_geo_ft, time, start)
    geo_used = ~np.isnan(geo)
    alt_msl = np.where(geo_used, geo, alt_fl)
    return Prepared(tracks, start, alt_fl, alt_msl, geo_used, ndup)


def aircraft_order(icao: np.ndarray, time: np.ndarray) -> np.ndarray:
    """``np.lexsort((time, icao))``: rows by aircraft, then time, equal times in
    input order.  Rows in or near time order (as OpenSky's database and
    receivers give them: by report time, each fix's own position time a little
    earlier) are sorted by address with a stable radix sort, then each
    aircraft's rows by time with a stable insertion sort, which moves the few
    rows out of place (a tenth of lexsort's time on 500 k rows); lexsort when
    that would move too many."""
    if len(icao) > 1 and icao.dtype == np.uint32 and _small_keys(icao):
        order = _radix_order(icao)
        if _sort_runs_by_time(icao, time, order, 4 * len(icao)):
            return order
    return np.lexsort((time, icao))


@numba.njit(cache=True, nogil=True)
def _small_keys(icao):
    """Addresses below 2^24: :func:`_radix_order` applies."""
    for i in range(len(icao)):
        if icao[i] >= 1 << 24:
            return False
    return True


@numba.njit(cache=True, nogil=True)
def _sort_runs_by_time(icao, time, order, budget):
    """Sort ``order`` (rows grouped by aircraft, each aircraft's in input order)
    by time within each aircraft, in place, stably (an insertion sort: rows
    nearly in order cost one pass).  False, leaving ``order`` unusable, when a
    time is NaN or more than ``budget`` moves would be needed."""
    moves = 0
    for k in range(len(order)):
        i = order[k]
        ti = time[i]
        if ti != ti:
            return False
        j = k - 1
        while j >= 0 and icao[order[j]] == icao[i] and time[order[j]] > ti:
            order[j + 1] = order[j]
            j -= 1
            moves += 1
        order[j + 1] = i
        if moves > budget:
            return False
    return True


@numba.njit(cache=True, nogil=True)
def _radix_order(keys):
    """Stable order of 24-bit ``keys``: counting sorts on the low, then the high 12 bits."""
    n = len(keys)
    low = np.empty(n, np.int64)
    order = np.empty(n, np.int64)
    count = np.zeros(4097, np.int64)
    for i in range(n):
        count[(keys[i] & 4095) + 1] += 1
    for b in range(4096):
        count[b + 1] += count[b]
    for i in range(n):
        b = keys[i] & 4095
        low[count[b]] = i
        count[b] += 1
    count[:] = 0
    for i in range(n):
        count[(keys[i] >> 12) + 1] += 1
    for b in range(4096):
        count[b + 1] += count[b]
    for k in range(n):
        i = low[k]
        b = keys[i] >> 12
        order[count[b]] = i
        count[b] += 1
    return order


@numba.njit(cache=True)
def _is_sorted(icao, time):
    for i in range(1, len(time)):
        if icao[i] < icao[i - 1] or (icao[i] == icao[i - 1] and time[i] < time[i - 1]):
            return False
    return True


@numba.njit(cache=True)
def _fill_kernel(values, time, start, out):
    for k in range(len(start) - 1):
        a, b = start[k], start[k + 1]
        prev = -1
        for i in range(a, b):
            v = values[i]
            if not np.isnan(v):
                if prev >= 0 and i - prev > 1:
                    v0 = values[prev]
                    t0 = time[prev]
                    dt = time[i] - t0
                    for j in range(prev + 1, i):
                        out[j] = v0 + (v - v0) * (time[j] - t0) / dt
                out[i] = v
                prev = i


def _fill(values: np.ndarray, time: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Linear interpolation in time of NaNs between known values, per track."""
    out = np.full(len(values), np.nan)
    _fill_kernel(values, time, start, out)
    return out
