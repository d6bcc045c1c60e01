"""From kernel output to the episode table: times, positions, evidence.

The kernel gives each episode as fix positions ``(seg, t)``; this module
interpolates times and places, counts the fixes inside, and measures the path
(geodesic length on WGS84) and its depth (largest geodesic distance from the
zone's lateral boundary reached inside).
"""

from __future__ import annotations

import functools
import math

import numba
import numpy as np
import pyarrow as pa
import shapely
from pyproj import Geod, Transformer

from ..zones._model import Zone
from ._index import ZoneIndex
from ._prepare import Prepared

GEOD = Geod(ellps="WGS84")

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
    ]
)


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


def _interp(values, seg, t, wrap=False):
    nxt = np.minimum(seg + 1, len(values) - 1)
    v0, v1 = values[seg], values[nxt]
    d = v1 - v0
    if wrap:
        d = (d + 180.0) % 360.0 - 180.0
    out = np.where(t == 0.0, v0, v0 + t * d)
    if wrap:
        out = (out + 180.0) % 360.0 - 180.0
    return out


def episodes_table(prep: Prepared, zones: list[Zone], index: ZoneIndex, oi, of, paths: bool = False) -> pa.Table:
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
    for v in (_interp(prep.alt_fl, s0, t0), _interp(prep.alt_fl, s1, t1)):
        amin = np.fmin(amin, v)
        amax = np.fmax(amax, v)
    amin[~np.isfinite(amin)] = np.nan
    amax[~np.isfinite(amax)] = np.nan
    # callsign: the last one heard up to the exit, else the first heard after
    ff = np.empty(len(tr), np.int32)
    bf = np.empty(len(tr), np.int32)
    _fill_codes(tr.callsign, prep.start, ff, bf)
    code = np.where(ff[s1] >= 0, ff[s1], bf[s1]) if ne else np.empty(0, np.int32)
    names = np.array(list(tr.callsigns) + [None], dtype=object)
    callsign = names[code] if ne else np.empty(0, object)
    lengths, depths, path_list = _measure(
        tr, index, zone, first, last, entry_lon, entry_lat, exit_lon, exit_lat,
        prep.alt_fl if paths else None, _interp(prep.alt_fl, s0, t0), _interp(prep.alt_fl, s1, t1),
    )  # fmt: skip
    zarr = np.array([z.id for z in zones] + [""], dtype=object)
    limited = np.array([z.has_vertical_limits for z in zones] + [False])
    alt_source = np.where(
        ~limited[zone], "none",
        np.where(g_used & b_used, "mixed", np.where(g_used, "geometric", "barometric")),
    )  # fmt: skip
    us = lambda x: pa.array(np.round(x * 1e6).astype("int64"), pa.timestamp("us", tz="UTC"))  # noqa: E731
    cols = {
        "icao24": np.array([format(int(x), "06x") for x in tr.icao24[prep.start[track]]], dtype=object),
        "callsign": callsign,
        "zone": zarr[zone],
        "zone_name": np.array([z.name for z in zones] + [""], dtype=object)[zone],
        "zone_kind": np.array([z.kind for z in zones] + [""], dtype=object)[zone],
        "entry_time": us(entry_time),
        "exit_time": us(exit_time),
        "entry_observed": obs0,
        "exit_observed": obs1,
        "duration_s": exit_time - entry_time,
        "entry_lat": entry_lat,
        "entry_lon": entry_lon,
        "exit_lat": exit_lat,
        "exit_lon": exit_lon,
        "max_depth_m": depths,
        "path_length_m": lengths,
        "min_alt_ft": amin,
        "max_alt_ft": amax,
        "n_fixes_inside": n_inside.astype(np.int64),
        "altitude_source": alt_source.astype(object),
        "lower_limit": np.array([str(z.lower) for z in zones] + [""], dtype=object)[zone],
        "upper_limit": np.array([str(z.upper) for z in zones] + [""], dtype=object)[zone],
        "track_start": us(tr.time[prep.start[track]]),
        "source": np.full(ne, tr.source, dtype=object),
    }
    table = pa.table({k: pa.array(v, type=SCHEMA.field(k).type) if not isinstance(v, pa.Array) else v
                      for k, v in cols.items()}, schema=SCHEMA)  # fmt: skip
    if paths:
        table = table.append_column("path", pa.array(path_list, pa.list_(pa.list_(pa.float64(), 3))))
    return table


def episode_path(tr, first, last, elon, elat, xlon, xlat):
    """The path inside: entry point, the fixes inside, exit point (lon unwrapped)."""
    lon = np.concatenate([[elon], tr.lon[first : last + 1], [xlon]])
    lat = np.concatenate([[elat], tr.lat[first : last + 1], [xlat]])
    lon = lon[0] + np.cumsum(np.concatenate([[0.0], (np.diff(lon) + 180.0) % 360.0 - 180.0]))
    return lon, lat


def _measure(tr, index, zone, first, last, elon, elat, xlon, xlat, alt, ealt, xalt):
    """Geodesic path length and maximum depth of each episode, and its path
    ``[[lon, lat, alt_ft], ...]`` when ``alt`` is given."""
    ne = len(zone)
    lengths = np.zeros(ne)
    depths = np.full(ne, np.nan)
    paths = []
    meter = DepthMeter(index)
    for j in range(ne):
        lon, lat = episode_path(tr, first[j], last[j], elon[j], elat[j], xlon[j], xlat[j])
        lengths[j] = float(np.sum(GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])[2]))
        depths[j] = meter.depth(int(zone[j]), lon, lat)
        if alt is not None:
            h = np.concatenate([[ealt[j]], alt[first[j] : last[j] + 1], [xalt[j]]])
            paths.append(np.stack([(lon + 180.0) % 360.0 - 180.0, lat, h], 1).tolist())
    return lengths, depths, paths


class DepthMeter:
    """Largest geodesic distance (m) from a zone's lateral boundary on a path.

    Branch and bound along the path (straight lon/lat segments): distance to
    the boundary is 1-Lipschitz, so between two samples ``L`` apart with
    distances ``d1``, ``d2`` nothing exceeds ``(d1 + d2 + L) / 2``; pieces whose
    bound beats the best sample by more than ``DEPTH_TOL_M`` are halved until
    none is left, so the result is within ``DEPTH_TOL_M`` of the maximum.
    Distances are measured in an azimuthal equidistant projection centred
    within 0.25 deg of the path (scale error under 0.1 % within 300 km).
    Edges on the antimeridian (cuts of zones written in two halves) are not
    boundary.  Projected edge trees are cached per (zone, centre, window).
    """

    WINDOW = (0.5, 2.0, 8.0, 32.0, 180.0)  # half-widths (deg of latitude) of the cached windows

    def __init__(self, index: ZoneIndex) -> None:
        self.index = index
        self.bounds = np.searchsorted(index.edge_zone, np.arange(int(index.edge_zone.max(initial=-1)) + 2))
        self.trees: dict = {}

    def depth(self, zone: int, lon: np.ndarray, lat: np.ndarray) -> float:
        cx, cy = round((lon.min() + lon.max())), round((lat.min() + lat.max()))  # 0.5-deg centre grid
        cx, cy = cx / 2, cy / 2
        for w in self.WINDOW:
            tree, covered = self._tree(zone, cx, cy, w)
            if tree is None:
                continue
            best = _branch_and_bound(lon, lat, _aeqd(cx, cy), tree)
            # exact when the window holds every edge nearer than ``best`` to the path
            if best <= covered(lon, lat) or w == self.WINDOW[-1]:
                return best
        return float("nan")

    def _tree(self, zone, cx, cy, w):
        key = (zone, cx, cy, w)
        if key not in self.trees:
            ix = self.index
            e = slice(self.bounds[zone], self.bounds[zone + 1])
            ex0, ey0, ex1, ey1 = ix.ex0[e], ix.ey0[e], ix.ex1[e], ix.ey1[e]
            cut = (ex0 == ex1) & (np.abs(ex0) == 180.0)
            ex0, ey0, ex1, ey1 = ex0[~cut], ey0[~cut], ex1[~cut], ey1[~cut]
            wlon = min(360.0, w / max(math.cos(math.radians(min(89.0, abs(cy) + w))), 1e-3))
            sel = []
            for shift in (0.0, 360.0, -360.0):
                x0, x1 = ex0 + shift, ex1 + shift
                m = (
                    (np.maximum(x0, x1) >= cx - wlon) & (np.minimum(x0, x1) <= cx + wlon)
                    & (np.maximum(ey0, ey1) >= cy - w) & (np.minimum(ey0, ey1) <= cy + w)
                )  # fmt: skip
                if m.any():
                    sel.append((x0[m], ey0[m], x1[m], ey1[m]))
            if not sel:
                self.trees[key] = (None, None)
            else:
                to_xy = _aeqd(cx, cy)
                a0, b0, a1, b1 = (np.concatenate(c) for c in zip(*sel))
                xa, ya = to_xy.transform(a0, b0)
                xb, yb = to_xy.transform(a1, b1)
                lines = shapely.linestrings(np.stack([np.stack([xa, ya], 1), np.stack([xb, yb], 1)], 1))

                def covered(lon, lat, cx=cx, cy=cy, w=w, wlon=wlon):
                    """Distance (m, lower bound) from the path to the window's edge."""
                    if w >= 180.0:
                        return float("inf")
                    dlat = min(cy + w - lat.max(), lat.min() - (cy - w)) * 110_000.0
                    coslat = math.cos(math.radians(min(89.0, max(abs(lat.min()), abs(lat.max())))))
                    dlon = min(cx + wlon - lon.max(), lon.min() - (cx - wlon)) * 111_000.0 * coslat
                    return max(0.0, min(dlat, dlon) * 0.99)

                self.trees[key] = (shapely.STRtree(lines), covered)
        return self.trees[key]


@functools.lru_cache(maxsize=1024)
def _aeqd(lon0: float, lat0: float) -> Transformer:
    return Transformer.from_crs("EPSG:4326", f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84", always_xy=True)


DEPTH_TOL_M = 10.0


def _branch_and_bound(lon, lat, to_xy, tree) -> float:
    def dist(plon, plat):
        x, y = to_xy.transform(plon, plat)
        x, y = np.asarray(x), np.asarray(y)
        _, d = tree.query_nearest(shapely.points(x, y), return_distance=True, all_matches=False)
        return np.stack([plon, plat, x, y, np.asarray(d)], 1)

    pts = dist(np.asarray(lon, float), np.asarray(lat, float))  # rows: lon, lat, x, y, d
    best = float(pts[:, 4].max())
    a, b = pts[:-1], pts[1:]  # intervals between consecutive samples
    for _ in range(64):
        bound = (a[:, 4] + b[:, 4] + np.hypot(b[:, 2] - a[:, 2], b[:, 3] - a[:, 3])) / 2
        live = bound > best + DEPTH_TOL_M
        if not live.any():
            break
        a, b = a[live], b[live]
        m = dist((a[:, 0] + b[:, 0]) / 2, (a[:, 1] + b[:, 1]) / 2)
        best = max(best, float(m[:, 4].max()))
        a, b = np.concatenate([a, m]), np.concatenate([m, b])
    return best
