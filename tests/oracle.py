"""Independent brute-force oracle for skyfence's episode semantics.

This module deliberately shares no code with ``skyfence.detect``: it only uses
the input data model (``Tracks``, ``Zone``, ``Limit``) and re-implements the
semantics literally with shapely, so that the engine can be checked against it.

Semantics implemented (the spec)
--------------------------------
- A track is one icao24's fixes, stable-sorted by time; of several fixes with
  the same time the first in input order is kept.  A track is split wherever
  two consecutive fixes are more than ``max_gap`` seconds apart (exactly
  ``max_gap`` does not split).
- Between consecutive fixes the aircraft moves on the straight lon/lat segment
  (planar in degrees) at constant speed, the short way round across the
  antimeridian; altitude is linear in time.
- NaN fix altitudes (barometric and geometric separately) are filled by linear
  interpolation in time from the neighbouring fixes of the same track that
  have a value; leading/trailing NaN stay NaN.
- FL limits compare with barometric altitude; MSL and AGL limits compare with
  the fix's geometric altitude where it has one (after the fill), else its
  barometric altitude.  SFC floor = no floor, UNL ceiling = no ceiling; inside
  vertically means ``lower <= alt <= upper``.  A NaN altitude is never inside
  a vertical limit (so never inside a zone with vertical limits) and does not
  matter for open (SFC/UNL) limits.
- An episode is a maximal time interval during which the path is laterally
  inside the closed (Multi)Polygon and inside its vertical band.  Intervals of
  consecutive segments that touch merge; zero-length episodes are dropped.
  An episode that begins at the first fix of its track has
  ``entry_observed=False`` (entry_time = that fix's time), likewise for the
  exit at the last fix.

How (brute force, per segment)
------------------------------
Every segment is a shapely LineString in unwrapped longitudes (the end
longitude is shifted by 360 so the segment goes the short way).  Longitude is
taken modulo 360: each segment is also tested shifted by -360 and +360, which
handles both antimeridian crossings against zones written within [-180, 180]
(e.g. two polygons of a MultiPolygon either side) and zones written with
longitudes beyond 180.  An STRtree over zone geometries gives candidate
(segment, zone) pairs from bounding boxes; the vertical interval of the
segment parameter ``s`` in [0, 1] is computed analytically; the lateral
interval comes from ``shapely.intersection`` (each LineString piece ->
[min s, max s] of its coordinates; Points are zero-length and ignored).  Two
sound shortcuts avoid overlays with huge country polygons: a segment that the
(prepared) zone ``contains_properly`` is laterally inside over [0, 1], and a
segment that does not ``intersect`` it is outside.  Intervals are mapped to
time and unioned per (track, zone).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

#: intervals closer than this (seconds) are considered touching; episodes not
#: longer than this are dropped as zero-length.
EPS_T = 1e-6

COLUMNS = ["icao24", "zone", "entry_time", "exit_time", "entry_observed", "exit_observed"]


# --------------------------------------------------------------------------- tracks


def build_tracks(tracks, max_gap: float = 60.0) -> dict:
    """Sort, de-duplicate and split fixes into tracks; fill NaN altitudes.

    Returns a dict of numpy arrays, one row per kept fix, ordered by track then
    time: ``track`` (track number), ``icao24``, ``time``, ``lat``, ``lon``,
    ``baro`` (filled barometric ft), ``msl`` (filled geometric ft where known,
    else filled barometric ft).
    """
    icao = np.asarray(tracks.icao24, dtype=np.uint32)
    time = np.asarray(tracks.time, dtype=np.float64)
    # stable: sort by time, then (stably) by icao24 -> equal times keep input order
    o = np.argsort(time, kind="stable")
    o = o[np.argsort(icao[o], kind="stable")]
    icao, time = icao[o], time[o]
    same = (icao[1:] == icao[:-1]) & (time[1:] == time[:-1])
    keep = np.concatenate([[True], ~same])
    o, icao, time = o[keep], icao[keep], time[keep]
    lat = np.asarray(tracks.lat, dtype=np.float64)[o]
    lon = np.asarray(tracks.lon, dtype=np.float64)[o]
    baro = np.asarray(tracks.alt_baro_ft, dtype=np.float64)[o].copy()
    geo = np.asarray(tracks.alt_geo_ft, dtype=np.float64)[o].copy()

    n = len(time)
    new = np.ones(n, dtype=bool)
    if n > 1:
        new[1:] = (icao[1:] != icao[:-1]) | ((time[1:] - time[:-1]) > max_gap)
    track = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    ends = np.concatenate([starts[1:], [n]])
    for a, b in zip(starts, ends):
        for col in (baro, geo):
            _fill(time[a:b], col[a:b])
    msl = np.where(np.isnan(geo), baro, geo)
    return dict(track=track, icao24=icao, time=time, lat=lat, lon=lon, baro=baro, msl=msl)


def _fill(t: np.ndarray, v: np.ndarray) -> None:
    """Linear interpolation in time of interior NaN, in place (view)."""
    ok = ~np.isnan(v)
    if ok.all() or not ok.any():
        return
    idx = np.flatnonzero(ok)
    a, b = idx[0], idx[-1] + 1
    v[a:b] = np.interp(t[a:b], t[ok], v[ok])


# --------------------------------------------------------------------------- vertical


def _limit_kind(limit, floor: bool) -> str:
    """'open', 'baro' or 'msl' for one limit."""
    if floor and limit.ref == "SFC":
        return "open"
    if not floor and limit.ref == "UNL":
        return "open"
    if limit.ref == "FL":
        return "baro"
    if limit.ref in ("MSL", "AGL"):
        return "msl"
    raise NotImplementedError(f"oracle: {'lower' if floor else 'upper'} limit {limit!r} not supported")


def _half(a0, a1, level, ge: bool):
    """Parameter interval {s in [0,1]: a(s) >= level} (ge) or <= level.

    a(s) = a0 + (a1 - a0) s.  Returns (lo, hi); empty when lo > hi (or NaN).
    """
    a0 = np.asarray(a0, dtype=np.float64)
    a1 = np.asarray(a1, dtype=np.float64)
    level = np.asarray(level, dtype=np.float64)
    da = a1 - a0
    with np.errstate(divide="ignore", invalid="ignore"):
        sc = (level - a0) / da
    lo = np.zeros(a0.shape)
    hi = np.ones(a0.shape)
    flat = da == 0
    ok_flat = (a0 >= level) if ge else (a0 <= level)
    rising = da > 0
    falling = da < 0
    # a >= L: rising -> s >= sc ; falling -> s <= sc
    # a <= L: rising -> s <= sc ; falling -> s >= sc
    up = rising if ge else falling
    down = falling if ge else rising
    lo = np.where(up, np.maximum(sc, 0.0), lo)
    hi = np.where(down, np.minimum(sc, 1.0), hi)
    empty = (flat & ~ok_flat) | np.isnan(a0) | np.isnan(a1)
    lo = np.where(empty, 1.0, lo)
    hi = np.where(empty, 0.0, hi)
    return lo, hi


# --------------------------------------------------------------------------- main


def oracle_episodes(tracks, zones, *, max_gap: float = 60.0) -> pd.DataFrame:
    """All episodes of all tracks in all zones, brute force (see module doc)."""
    fx = build_tracks(tracks, max_gap=max_gap)
    zones = list(zones)
    trk = fx["track"]
    # segments: fix i -> fix i+1 within the same track
    i0 = np.flatnonzero(trk[1:] == trk[:-1])
    i1 = i0 + 1
    x0, y0 = fx["lon"][i0], fx["lat"][i0]
    x1, y1 = fx["lon"][i1], fx["lat"][i1]
    dx = x1 - x0
    x1u = np.where(dx > 180, x1 - 360, np.where(dx < -180, x1 + 360, x1))
    dx = x1u - x0
    dy = y1 - y0
    use_x = np.abs(dx) >= np.abs(dy)
    degenerate = (dx == 0) & (dy == 0)
    nseg = len(i0)

    if nseg == 0 or not zones:
        return _empty()

    # three copies of each segment, shifted by -360, 0, +360 degrees
    shifts = np.array([-360.0, 0.0, 360.0])
    seg_of = np.tile(np.arange(nseg), 3)
    shift_of = np.repeat(shifts, nseg)
    sx0 = x0[seg_of] + shift_of
    sx1 = x1u[seg_of] + shift_of
    sy0, sy1 = y0[seg_of], y1[seg_of]
    deg = degenerate[seg_of]
    geoms = np.empty(len(seg_of), dtype=object)
    coords = np.stack([np.stack([sx0, sy0], -1), np.stack([sx1, sy1], -1)], 1)
    if (~deg).any():
        geoms[~deg] = shapely.linestrings(coords[~deg])
    if deg.any():
        geoms[deg] = shapely.points(coords[deg, 0])

    zgeom = np.array([z.geometry for z in zones], dtype=object)
    tree = shapely.STRtree(zgeom)
    qi, zi = tree.query(geoms)  # bounding boxes only
    if len(qi) == 0:
        return _empty()
    seg = seg_of[qi]

    # vertical interval of s for each candidate pair
    vlo = np.zeros(len(qi))
    vhi = np.ones(len(qi))
    alt = {"baro": (fx["baro"][i0], fx["baro"][i1]), "msl": (fx["msl"][i0], fx["msl"][i1])}
    for k, z in enumerate(zones):
        m = zi == k
        if not m.any():
            continue
        for limit, floor in ((z.lower, True), (z.upper, False)):
            kind = _limit_kind(limit, floor)
            if kind == "open":
                continue
            a0, a1 = alt[kind]
            lo, hi = _half(a0[seg[m]], a1[seg[m]], float(limit.ft), ge=floor)
            vlo[m] = np.maximum(vlo[m], lo)
            vhi[m] = np.minimum(vhi[m], hi)
    keep = vhi > vlo  # zero-length vertical windows cannot give an episode
    qi, zi, seg, vlo, vhi = qi[keep], zi[keep], seg[keep], vlo[keep], vhi[keep]

    # lateral interval of s
    shapely.prepare(zgeom)
    g = geoms[qi]
    zg = zgeom[zi]
    lat_lo = np.full(len(qi), 1.0)
    lat_hi = np.full(len(qi), 0.0)
    hit = shapely.intersects(zg, g)
    inside = hit & shapely.contains_properly(zg, g)
    pointlike = hit & deg[qi]  # a stationary aircraft on/in the zone: whole segment
    whole = inside | pointlike
    lat_lo[whole] = 0.0
    lat_hi[whole] = 1.0
    cross = np.flatnonzero(hit & ~whole)

    pieces_pair = [np.flatnonzero(whole)]
    pieces_lo = [lat_lo[whole]]
    pieces_hi = [lat_hi[whole]]
    if len(cross):
        inter = shapely.intersection(g[cross], zg[cross])
        parts, pidx = _flat_parts(inter)
        is_line = shapely.get_type_id(parts) == 1  # LineString (incl. LinearRing=2 not expected)
        parts, pidx = parts[is_line], pidx[is_line]
        xy, cidx = shapely.get_coordinates(parts, return_index=True)
        pair = cross[pidx[cidx]]
        s_seg = seg[pair]
        sh = shift_of[qi[pair]]
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.where(
                use_x[s_seg],
                (xy[:, 0] - sh - x0[s_seg]) / dx[s_seg],
                (xy[:, 1] - y0[s_seg]) / dy[s_seg],
            )
        s = np.clip(s, 0.0, 1.0)
        # per piece: [min s, max s]
        plo = np.full(len(parts), np.inf)
        phi = np.full(len(parts), -np.inf)
        np.minimum.at(plo, cidx, s)
        np.maximum.at(phi, cidx, s)
        pieces_pair.append(cross[pidx])
        pieces_lo.append(plo)
        pieces_hi.append(phi)

    pp = np.concatenate(pieces_pair)
    lo = np.maximum(np.concatenate(pieces_lo), vlo[pp])
    hi = np.minimum(np.concatenate(pieces_hi), vhi[pp])
    ok = hi > lo
    pp, lo, hi = pp[ok], lo[ok], hi[ok]
    if len(pp) == 0:
        return _empty()

    # to time: t = t0 (1 - s) + t1 s  (exact at s = 0 and s = 1)
    sg = seg[pp]
    t0, t1 = fx["time"][i0[sg]], fx["time"][i1[sg]]
    ts = t0 * (1 - lo) + t1 * lo
    te = t0 * (1 - hi) + t1 * hi
    tr = trk[i0[sg]]
    zz = zi[pp]
    return _union(fx, tr, zz, ts, te, zones)


def _flat_parts(geoms):
    """Flatten (nested) multi-part geometries; returns parts and input index."""
    parts, idx = shapely.get_parts(geoms, return_index=True)
    while True:
        multi = shapely.get_type_id(parts) >= 4
        if not multi.any():
            return parts, idx
        sub, sidx = shapely.get_parts(parts[multi], return_index=True)
        parts = np.concatenate([parts[~multi], sub])
        idx = np.concatenate([idx[~multi], idx[multi][sidx]])


def _union(fx, tr, zz, ts, te, zones) -> pd.DataFrame:
    order = np.lexsort((ts, zz, tr))
    tr, zz, ts, te = tr[order], zz[order], ts[order], te[order]
    rows = []
    n = len(tr)
    i = 0
    while i < n:
        cur_t, cur_z, a, b = tr[i], zz[i], ts[i], te[i]
        j = i + 1
        while j < n and tr[j] == cur_t and zz[j] == cur_z and ts[j] <= b + EPS_T:
            b = max(b, te[j])
            j += 1
        rows.append((cur_t, cur_z, a, b))
        i = j
    if not rows:
        return _empty()
    r = np.array(rows, dtype=object)
    tr = r[:, 0].astype(np.int64)
    zz = r[:, 1].astype(np.int64)
    a = r[:, 2].astype(np.float64)
    b = r[:, 3].astype(np.float64)
    # first / last fix time of each track
    trk, time = fx["track"], fx["time"]
    first = np.full(trk.max() + 1, np.inf)
    last = np.full(trk.max() + 1, -np.inf)
    np.minimum.at(first, trk, time)
    np.maximum.at(last, trk, time)
    entry_obs = a > first[tr] + EPS_T
    exit_obs = b < last[tr] - EPS_T
    a = np.where(entry_obs, a, first[tr])
    b = np.where(exit_obs, b, last[tr])
    keep = (b - a) > EPS_T
    icao_of_track = np.zeros(trk.max() + 1, dtype=np.uint32)
    icao_of_track[trk] = fx["icao24"]
    df = pd.DataFrame(
        {
            "icao24": [format(int(x), "06x") for x in icao_of_track[tr[keep]]],
            "zone": [zones[k].id for k in zz[keep]],
            "entry_time": a[keep],
            "exit_time": b[keep],
            "entry_observed": entry_obs[keep],
            "exit_observed": exit_obs[keep],
        }
    )
    return df.sort_values(["icao24", "entry_time", "zone"], kind="stable").reset_index(drop=True)


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "icao24": pd.Series([], dtype=object),
            "zone": pd.Series([], dtype=object),
            "entry_time": pd.Series([], dtype=np.float64),
            "exit_time": pd.Series([], dtype=np.float64),
            "entry_observed": pd.Series([], dtype=bool),
            "exit_observed": pd.Series([], dtype=bool),
        }
    )


# --------------------------------------------------------------------------- self-check


def point_sample_mismatches(tracks, zones, episodes: pd.DataFrame, *, n=20000, seed=0, max_gap=60.0) -> list[str]:
    """Check ``episodes`` (oracle output) by sampling random points on the path.

    Independent of the segment/interval machinery above: at random times the
    interpolated position is tested with ``shapely.covers`` (lon modulo 360)
    and the interpolated altitude against the limits; the result must equal
    "inside some episode" except within 1 ms of an episode boundary.
    """
    fx = build_tracks(tracks, max_gap)
    trk = fx["track"]
    i0 = np.flatnonzero(trk[1:] == trk[:-1])
    if len(i0) == 0:
        return []
    rng = np.random.default_rng(seed)
    k = rng.choice(i0, n)
    s = rng.random(n)
    k1 = k + 1
    t = fx["time"][k] * (1 - s) + fx["time"][k1] * s
    x0, x1 = fx["lon"][k], fx["lon"][k1]
    x1 = np.where(x1 - x0 > 180, x1 - 360, np.where(x1 - x0 < -180, x1 + 360, x1))
    x = x0 * (1 - s) + x1 * s
    x = (x + 180) % 360 - 180
    y = fx["lat"][k] * (1 - s) + fx["lat"][k1] * s
    alt = {
        "baro": fx["baro"][k] * (1 - s) + fx["baro"][k1] * s,
        "msl": fx["msl"][k] * (1 - s) + fx["msl"][k1] * s,
    }
    pts = [shapely.points(x + sh, y) for sh in (-360.0, 0.0, 360.0)]
    out = []
    tk = trk[k]
    icao = np.array([format(int(v), "06x") for v in fx["icao24"][k]])
    for z in zones:
        g = z.geometry
        shapely.prepare(g)
        inside = np.zeros(n, dtype=bool)
        bx0, by0, bx1, by1 = shapely.bounds(g)
        for sh, p in zip((-360.0, 0.0, 360.0), pts):
            cand = (x + sh >= bx0) & (x + sh <= bx1) & (y >= by0) & (y <= by1)
            inside[cand] |= shapely.covers(g, p[cand])
        for limit, floor in ((z.lower, True), (z.upper, False)):
            kind = _limit_kind(limit, floor)
            if kind == "open":
                continue
            a = alt[kind]
            with np.errstate(invalid="ignore"):
                inside &= (a >= limit.ft) if floor else (a <= limit.ft)
        d = episodes[episodes["zone"] == z.id]
        in_ep = np.zeros(n, dtype=bool)
        near = np.zeros(n, dtype=bool)
        for ic, grp in d.groupby("icao24"):
            m = icao == ic
            if not m.any():
                continue
            a = grp["entry_time"].to_numpy()
            b = grp["exit_time"].to_numpy()
            tt = t[m][:, None]
            in_ep[m] = ((tt >= a) & (tt <= b)).any(1)
            near[m] = ((np.abs(tt - a) < 1e-3) | (np.abs(tt - b) < 1e-3)).any(1)
        bad = np.flatnonzero((inside != in_ep) & ~near)
        for j in bad[:5]:
            out.append(
                f"zone {z.id} icao24 {icao[j]} track {tk[j]} t={t[j]:.3f} lon={x[j]:.6f} lat={y[j]:.6f}: "
                f"sampled inside={inside[j]} but in episode={in_ep[j]}"
            )
    return out


# --------------------------------------------------------------------------- comparison


def engine_frame(table, *, sort: bool = True) -> pd.DataFrame:
    """The engine's pyarrow result as the oracle's columns (float epoch seconds)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def secs(name):
        col = table.column(name)
        unit = col.type.unit
        scale = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}[unit]
        return np.asarray(pc.cast(col, pa.int64()).to_numpy(), dtype=np.float64) / scale

    df = pd.DataFrame(
        {
            "icao24": [str(v) for v in table.column("icao24").to_pylist()],
            "zone": [str(v) for v in table.column("zone").to_pylist()],
            "entry_time": secs("entry_time"),
            "exit_time": secs("exit_time"),
            "entry_observed": np.asarray(table.column("entry_observed").to_pylist(), dtype=bool),
            "exit_observed": np.asarray(table.column("exit_observed").to_pylist(), dtype=bool),
        }
    )
    if not sort:
        return df
    return df.sort_values(["icao24", "entry_time", "zone"], kind="stable").reset_index(drop=True)


def _iso(t: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _fmt(r) -> str:
    return (
        f"{r.icao24} {r.zone} [{_iso(r.entry_time)} .. {_iso(r.exit_time)}] "
        f"({r.exit_time - r.entry_time:.1f} s, entry_observed={bool(r.entry_observed)}, "
        f"exit_observed={bool(r.exit_observed)})"
    )


def _one_way(a: pd.DataFrame, b: pd.DataFrame, min_duration, tol, a_name, b_name, flags) -> list[str]:
    out = []
    groups = {key: g for key, g in b.groupby(["icao24", "zone"])}
    long = a[(a["exit_time"] - a["entry_time"]) > min_duration]
    for r in long.itertuples(index=False):
        g = groups.get((r.icao24, r.zone))
        if g is None:
            out.append(f"in {a_name}, missing from {b_name}: {_fmt(r)} (no {b_name} episode for this pair)")
            continue
        err = np.maximum(np.abs(g["entry_time"].to_numpy() - r.entry_time), np.abs(g["exit_time"].to_numpy() - r.exit_time))
        overlap = (g["entry_time"].to_numpy() <= r.exit_time + tol) & (g["exit_time"].to_numpy() >= r.entry_time - tol)
        if not overlap.any():
            out.append(f"in {a_name}, missing from {b_name}: {_fmt(r)} (no overlapping {b_name} episode)")
            continue
        err = np.where(overlap, err, np.inf)
        j = int(np.argmin(err))
        m = g.iloc[j]
        if err[j] > tol:
            out.append(f"times differ: {a_name} {_fmt(r)} vs {b_name} {_fmt(m)}")
        elif flags and (bool(m.entry_observed) != bool(r.entry_observed) or bool(m.exit_observed) != bool(r.exit_observed)):
            out.append(f"observed flags differ: {a_name} {_fmt(r)} vs {b_name} {_fmt(m)}")
    return out


def compare_episodes(oracle_df: pd.DataFrame, engine_df: pd.DataFrame, *, min_duration=1.0, tol=0.5) -> list[str]:
    """Mismatches between oracle and engine episodes (empty list = agree).

    Every oracle episode longer than ``min_duration`` must have an engine
    episode of the same icao24 and zone, overlapping it, with entry and exit
    within ``tol`` seconds and the same observed flags; every engine episode
    longer than ``min_duration`` must likewise have an oracle counterpart.
    """
    return _one_way(oracle_df, engine_df, min_duration, tol, "oracle", "engine", True) + _one_way(
        engine_df, oracle_df, min_duration, tol, "engine", "oracle", False
    )


def report(mismatches: list[str], n_oracle: int, n_engine: int, first: int = 15) -> str:
    head = "\n  ".join(mismatches[:first])
    more = f"\n  ... and {len(mismatches) - first} more" if len(mismatches) > first else ""
    return (
        f"{len(mismatches)} mismatches between oracle ({n_oracle} episodes) and engine ({n_engine} episodes):"
        f"\n  {head}{more}"
    )
