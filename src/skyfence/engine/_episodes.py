"""From kernel output to the episode table: times, positions, evidence.

The kernel gives each episode as fix positions ``(seg, t)``; this module
interpolates times and places, counts the fixes inside, and measures the path
(geodesic length on WGS84) and its depth (largest geodesic distance from the
zone's lateral boundary reached inside).
"""

from __future__ import annotations

import math

import numba
import numpy as np
import pyarrow as pa

from .._arrow import from_numpy, hex24, strings, timestamps, words
from .._arrow import table as table_of
from .._integrity import episode_flags, fix_flags, reasons
from ..zones._model import Zone
from ._depth import A_WGS84, E2_WGS84, WindowCache, depths
from ._index import ZoneIndex
from ._prepare import Prepared


SCHEMA = pa.schema(
    [
        ("icao24", pa.string()),
        ("callsign", pa.string()),
        ("zone", pa.string()),
        ("zone_name", pa.string()),
        ("zone_kind", pa.string()),
        ("entry_time", pa.timestamp("us", tz="UTC")),
        ("exit_time", pa.timestamp("us", tz="UTC")),
        ("entry_observed", pa.bool_()),
        ("exit_observed", pa.bool_()),
        ("duration_s", pa.float64()),
        ("entry_lat", pa.float64()),
        ("entry_lon", pa.float64()),
        ("exit_lat", pa.float64()),
        ("exit_lon", pa.float64()),
        ("max_depth_m", pa.float64()),
        ("path_length_m", pa.float64()),
        ("min_alt_ft", pa.float64()),
        ("max_alt_ft", pa.float64()),
        ("n_fixes_inside", pa.int64()),
        ("altitude_source", pa.string()),
        ("lower_limit", pa.string()),
        ("upper_limit", pa.string()),
        ("track_start", pa.timestamp("us", tz="UTC")),
        ("source", pa.string()),
        ("integrity", pa.string()),
        ("integrity_reasons", pa.string()),
    ]
)

#: the ``path`` column (``paths=True``): per episode, [lon, lat, alt_ft] points
PATH_TYPE = pa.list_(pa.list_(pa.float64(), 3))


@numba.njit(cache=True)
def _fill_codes(codes, start, out_ff, out_bf):
    """Last known callsign code up to each fix, and next known from it, per track."""
    for k in range(len(start) - 1):
        a, b = start[k], start[k + 1]
        last = -1
        for i in range(a, b):
            if codes[i] >= 0:
                last = codes[i]
            out_ff[i] = last
        nxt = -1
        for i in range(b - 1, a - 1, -1):
            if codes[i] >= 0:
                nxt = codes[i]
            out_bf[i] = nxt


@numba.njit(cache=True)
def _ranges(first, last, alt, geo_used, out_min, out_max, out_geo, out_baro):
    for j in range(len(first)):
        lo, hi = np.inf, -np.inf
        g = False
        br = False
        for i in range(first[j], last[j] + 1):
            v = alt[i]
            if not np.isnan(v):
                lo = min(lo, v)
                hi = max(hi, v)
            if geo_used[i]:
                g = True
            else:
                br = True
        out_min[j], out_max[j], out_geo[j], out_baro[j] = lo, hi, g, br


def wrap_lon(x):
    """Longitudes (or longitude differences) folded into [-180, 180)."""
    return (x + 180.0) % 360.0 - 180.0


def _interp(values, seg, t, wrap=False):
    """``values`` at position ``(seg, t)`` of the fixes; ``wrap`` for longitudes."""
    nxt = np.minimum(seg + 1, len(values) - 1)
    v0, v1 = values[seg], values[nxt]
    d = wrap_lon(v1 - v0) if wrap else v1 - v0
    out = np.where(t == 0.0, v0, v0 + t * d)
    return wrap_lon(out) if wrap else out


def evidence(prep: Prepared, index: ZoneIndex, oi, of, paths: bool = False, n_threads: int = 1) -> dict:
    """The numeric evidence of each episode of the kernel output ``oi, of``, as
    columns in the episode table's order (aircraft, entry time, zone): its
    track, zone and end segments, entry/exit times and places, depth, path
    length, altitudes and altitude sources, fixes inside (and the paths when
    ``paths``).  :func:`episodes_table` adds the texts; the stream uses it as
    it is."""
    tr = prep.tracks
    track, zone, s0, s1 = oi[:, 0], oi[:, 1], oi[:, 2], oi[:, 3]
    t0, t1 = of[:, 0], of[:, 1]
    # chronological order per aircraft, then zone
    entry_time = _interp(tr.time, s0, t0)
    order = np.lexsort((zone, entry_time, tr.icao24[prep.start[track]]))
    track, zone, s0, s1, t0, t1, entry_time = (a[order] for a in (track, zone, s0, s1, t0, t1, entry_time))
    obs0, obs1 = oi[order, 4].astype(bool), oi[order, 5].astype(bool)
    exit_time = _interp(tr.time, s1, t1)
    first = s0 + (t0 > 0)
    last = s1 + (t1 >= 1.0)
    n_inside = np.maximum(last - first + 1, 0)
    entry_lat, exit_lat = _interp(tr.lat, s0, t0), _interp(tr.lat, s1, t1)
    entry_lon, exit_lon = _interp(tr.lon, s0, t0, True), _interp(tr.lon, s1, t1, True)
    # altitudes over the fixes inside and the interpolated ends
    ne = len(track)
    amin, amax = np.empty(ne), np.empty(ne)
    g_used, b_used = np.empty(ne, bool), np.empty(ne, bool)
    _ranges(first, last, prep.alt_fl, prep.geo_used, amin, amax, g_used, b_used)
    entry_alt, exit_alt = _interp(prep.alt_fl, s0, t0), _interp(prep.alt_fl, s1, t1)
    for v in (entry_alt, exit_alt):
        amin = np.fmin(amin, v)
        amax = np.fmax(amax, v)
    amin[~np.isfinite(amin)] = np.nan
    amax[~np.isfinite(amax)] = np.nan
    lengths, depths, path_list = _measure(
        tr, index, zone, first, last, entry_lon, entry_lat, exit_lon, exit_lat,
        prep.alt_fl if paths else None, entry_alt, exit_alt, n_threads,
    )  # fmt: skip
    return {
        "track": track, "zone": zone, "s0": s0, "s1": s1, "first": first, "last": last,
        "entry_time": entry_time, "exit_time": exit_time, "entry_observed": obs0, "exit_observed": obs1,
        "entry_lat": entry_lat, "entry_lon": entry_lon, "exit_lat": exit_lat, "exit_lon": exit_lon,
        "max_depth_m": depths, "path_length_m": lengths, "min_alt_ft": amin, "max_alt_ft": amax,
        "n_fixes_inside": n_inside, "g_used": g_used, "b_used": b_used, "paths": path_list,
    }  # fmt: skip


def episodes_table(prep: Prepared, zones: list[Zone], index: ZoneIndex, oi, of, paths: bool = False,
                   n_threads: int = 1) -> pa.Table:
    tr = prep.tracks
    ev = evidence(prep, index, oi, of, paths, n_threads)
    track, zone, s0 = ev["track"], ev["zone"], ev["s0"]
    first, last, g_used, b_used = ev["first"], ev["last"], ev["g_used"], ev["b_used"]
    ne = len(track)
    # callsign: the last one heard up to the exit, else the first heard after
    ff = np.empty(len(tr), np.int32)
    bf = np.empty(len(tr), np.int32)
    _fill_codes(tr.callsign, prep.start, ff, bf)
    s1 = ev["s1"]
    code = np.where(ff[s1] >= 0, ff[s1], bf[s1]) if ne else np.empty(0, np.int32)
    names = np.array(list(tr.callsigns) + [None], dtype=object)
    callsign = names[code] if ne else np.empty(0, object)
    if prep.flags is None:
        prep.flags = fix_flags(prep.tracks, n_threads)
    table = episode_table(
        zones, zone, icao=tr.icao24[prep.start[track]], callsign=callsign, source=tr.source,
        track_start=tr.time[prep.start[track]], g_used=g_used, b_used=b_used,
        eflags=episode_flags(prep.flags, first, last, s0, has_limits(zones, zone)),
        **{k: ev[k] for k in EVIDENCE_COLUMNS},
    )  # fmt: skip
    if paths:
        table = table.append_column("path", ev["paths"])
    return table


#: the table's columns :func:`evidence` gives as they are
EVIDENCE_COLUMNS = ("entry_time", "exit_time", "entry_observed", "exit_observed", "entry_lat", "entry_lon",
                    "exit_lat", "exit_lon", "max_depth_m", "path_length_m", "min_alt_ft", "max_alt_ft",
                    "n_fixes_inside")  # fmt: skip
ALT_SOURCES = ("none", "mixed", "geometric", "barometric")


def has_limits(zones: list[Zone], zone: np.ndarray) -> np.ndarray:
    """Whether each episode's zone (index into ``zones``; ``len(zones)``: none) has vertical limits."""
    return np.array([z.has_vertical_limits for z in zones] + [False])[zone]


def episode_table(zones: list[Zone], zone, *, icao, callsign, source, track_start, g_used, b_used, eflags,
                  **evidence_columns) -> pa.Table:  # fmt: skip
    """The episode table (``SCHEMA``), one row per episode, from its zone
    (index into ``zones``), aircraft address, callsign (object array, None
    where unknown), source name, track start (epoch s), the altitude sources
    used, the integrity flags that make it suspect (0: ok) and the
    ``EVIDENCE_COLUMNS`` (times in epoch s) -- as :func:`skyfence.detect` and
    the stream both give them."""
    zone = np.asarray(zone, np.int64)
    limited = has_limits(zones, zone)

    def named(values):  # a text per zone, "" for none
        return words(zone, [*values, ""])

    c = evidence_columns
    cols = {
        **c,
        "icao24": hex24(icao), "callsign": callsign,
        "zone": named(z.id for z in zones), "zone_name": named(z.name for z in zones),
        "zone_kind": named(z.kind for z in zones), "lower_limit": named(str(z.lower) for z in zones),
        "upper_limit": named(str(z.upper) for z in zones),
        "entry_time": timestamps(c["entry_time"]), "exit_time": timestamps(c["exit_time"]),
        "duration_s": c["exit_time"] - c["entry_time"],
        "n_fixes_inside": np.asarray(c["n_fixes_inside"], np.int64),
        # which altitudes each episode was judged on: none where its zone has no vertical
        # limits, else geometric, barometric or both (mixed)
        "altitude_source": words(np.where(~limited, 0, np.where(g_used & b_used, 1, np.where(g_used, 2, 3))),
                                 ALT_SOURCES),  # fmt: skip
        "track_start": timestamps(track_start),
        "source": words(np.zeros(len(zone), np.int64), [source]),
        "integrity": words(eflags != 0, ("ok", "suspect")),
        "integrity_reasons": strings(reasons(eflags)),
    }  # fmt: skip
    return table_of(cols, SCHEMA)


def episode_paths(tr, first, last, elon, elat, xlon, xlat):
    """All paths inside, concatenated: entry point, fixes inside, exit point.

    Returns ``(ptr, lon, lat, fix)``: path ``j`` is ``[ptr[j], ptr[j+1])``;
    longitudes are unwrapped along each path (may leave [-180, 180]); ``fix``
    is the fix index of each point, -1 for the interpolated ends.
    """
    count = np.maximum(last - first + 1, 0) + 2
    ptr = np.zeros(len(first) + 1, np.int64)
    np.cumsum(count, out=ptr[1:])
    lon = np.empty(ptr[-1])
    lat = np.empty(ptr[-1])
    fix = np.empty(ptr[-1], np.int64)
    _fill_paths(tr.lon, tr.lat, first.astype(np.int64), ptr, elon, elat, xlon, xlat, lon, lat, fix)
    return ptr, lon, lat, fix


@numba.njit(cache=True, nogil=True)
def _fill_paths(tlon, tlat, first, ptr, elon, elat, xlon, xlat, lon, lat, fix):
    """Points of each path (see :func:`episode_paths`), longitudes unwrapped:
    each point's longitude plus the multiple of 360 that keeps it within 180
    of the point before (exact where the path does not cross the antimeridian)."""
    for j in range(len(first)):
        a, b = ptr[j], ptr[j + 1]
        prev = elon[j]
        lon[a], lat[a], fix[a] = prev, elat[j], -1
        off = 0.0
        for k in range(a + 1, b):
            if k == b - 1:
                x, y, f = xlon[j], xlat[j], -1
            else:
                f = first[j] + (k - a - 1)
                x, y = tlon[f], tlat[f]
            x += off
            if x - prev > 180.0 or x - prev < -180.0:
                step = (x - prev + 180.0) % 360.0 - 180.0
                off += 360.0 * round(((prev + step) - x) / 360.0)
                x = prev + step
            lon[k], lat[k], fix[k] = x, y, f
            prev = x


@numba.njit(cache=True, nogil=True)
def _arc_lengths(ptr, lon, lat):
    """Length (m) along each path from its start, on the WGS84 ellipsoid.

    Each step uses the meridional and prime-vertical radii at its mid
    latitude; for steps up to 20 km (a minute at 600 kt) that is within 1e-5
    of the geodesic (checked against pyproj.Geod in the tests).
    """
    out = np.zeros(len(lon))
    for k in range(len(ptr) - 1):
        total = 0.0
        for i in range(ptr[k] + 1, ptr[k + 1]):
            s = math.sin(math.radians(0.5 * (lat[i] + lat[i - 1])))
            w = math.sqrt(1.0 - E2_WGS84 * s * s)
            dy = math.radians(lat[i] - lat[i - 1]) * A_WGS84 * (1.0 - E2_WGS84) / (w * w * w)
            dx = math.radians(lon[i] - lon[i - 1]) * A_WGS84 / w * math.sqrt(max(0.0, 1.0 - s * s))  # cos(phi)
            total += math.sqrt(dx * dx + dy * dy)
            out[i] = total
    return out


_WINDOWS = WindowCache()  # one per process, shared by the zone sets in use (empty until used)


def _measure(tr, index, zone, first, last, elon, elat, xlon, xlat, alt, ealt, xalt, n_threads=1):
    """Geodesic path length and maximum depth of each episode, and its path
    ``[[lon, lat, alt_ft], ...]`` when ``alt`` is given."""
    ptr, lon, lat, fix = episode_paths(tr, first, last, elon, elat, xlon, xlat)
    ne = len(zone)
    if ne == 0:
        return np.zeros(0), np.zeros(0), _path_array(np.zeros(1, np.int64), np.empty((0, 3)))
    cum = _arc_lengths(ptr, lon, lat)
    lengths = cum[ptr[1:] - 1]
    dep = depths(ptr, lon, lat, cum, zone.astype(np.int64), index.boundary, n_threads, _WINDOWS.scoped(index))
    paths = None
    if alt is not None:
        h = alt[np.where(fix < 0, 0, fix)]
        h[ptr[:-1]] = ealt
        h[ptr[1:] - 1] = xalt
        paths = _path_array(ptr, np.stack([wrap_lon(lon), lat, h], 1))
    return lengths, dep, paths


def _path_array(ptr: np.ndarray, points: np.ndarray) -> pa.Array:
    """The ``path`` column: episode ``j`` is ``points[ptr[j]:ptr[j + 1]]`` (n x 3)."""
    flat = pa.FixedSizeListArray.from_arrays(from_numpy(points.ravel()), 3)
    return pa.ListArray.from_arrays(from_numpy(ptr.astype(np.int32)), flat).cast(PATH_TYPE)
