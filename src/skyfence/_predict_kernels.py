"""Compiled helpers of the predicted-entry warnings (see :mod:`skyfence._predict`).

Kinematics at each issue point, predicted paths, closest approach to a zone
and the warning-episode state machine.  Pure functions of numpy arrays,
compiled with numba (cached on disk).  No geometry decision is taken here:
whether and when a predicted path enters a zone is decided by the crossing
kernel of :mod:`skyfence.engine`.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .engine._depth import _frame, _project1
from .engine._index import RES, cells_in_box

KT = 1852.0 / 3600.0  # m/s per knot


@numba.njit(cache=True, inline="always")
def _wrap180(x):
    return (x + 180.0) % 360.0 - 180.0


@numba.njit(cache=True, inline="always")
def _radii(lat0):
    """Prime-vertical and meridional radii of WGS84 at ``lat0`` (those of the
    engine's azimuthal equidistant frame, :func:`skyfence.engine._depth._frame`)."""
    frame = _frame(0.0, lat0)
    return frame[3], frame[4]


@numba.njit(cache=True, inline="always")
def aeqd_inv(x, y, lon0, lat0, n_rad, m_rad):
    """Inverse of the engine's azimuthal equidistant projection about
    ``(lon0, lat0)`` (:func:`skyfence.engine._depth._project1`): (lon, lat)
    in degrees, lon in [-180, 180)."""
    u, v = x / n_rad, y / m_rad
    c = math.hypot(u, v)
    if c < 1e-15:
        return lon0, lat0
    p0 = math.radians(lat0)
    s0, c0 = math.sin(p0), math.cos(p0)
    sc, cc = math.sin(c), math.cos(c)
    sa, ca = u / c, v / c  # sin, cos of the azimuth
    sp = min(1.0, max(-1.0, s0 * cc + c0 * sc * ca))
    lat = math.degrees(math.asin(sp))
    dl = math.atan2(sa * sc * c0, cc - s0 * sp)
    return _wrap180(lon0 + math.degrees(dl)), lat


@numba.njit(cache=True)
def _velocity(i, a, time, lat, lon, gs, trk, vr, alt, fresh, base):
    """Velocity at fix ``i`` of the track starting at fix ``a``.

    Reported groundspeed/track (and vertical rate) from the latest fix at
    most ``fresh`` s old that has them; otherwise derived from the position
    (altitude) change since the latest fix at least ``base`` s earlier (at
    most ``6 * base`` s).  Returns ``(gs_kt, track_deg, vr_fpm, source)``,
    source 1 reported, 2 derived, 0 unknown (then gs is NaN); an unknown
    vertical rate is 0.
    """
    t = time[i]
    g = np.nan
    h = np.nan
    src = 0
    j = i
    while j >= a and t - time[j] <= fresh:
        if not np.isnan(gs[j]) and not np.isnan(trk[j]):
            g, h, src = gs[j], trk[j], 1
            break
        j -= 1
    jb = i - 1
    while jb > a and t - time[jb] < base:
        jb -= 1
    dt = t - time[jb] if jb >= a else 0.0
    derivable = jb >= a and dt >= 1.0 and dt <= 6.0 * base
    if src == 0 and derivable:
        n_rad, m_rad = _radii(0.5 * (lat[i] + lat[jb]))
        phi = math.radians(0.5 * (lat[i] + lat[jb]))
        dx = math.radians(_wrap180(lon[i] - lon[jb])) * n_rad * math.cos(phi)
        dy = math.radians(lat[i] - lat[jb]) * m_rad
        g = math.hypot(dx, dy) / dt / KT
        h = math.degrees(math.atan2(dx, dy)) % 360.0
        src = 2
    v = np.nan
    j = i
    while j >= a and t - time[j] <= fresh:
        if not np.isnan(vr[j]):
            v = vr[j]
            break
        j -= 1
    if np.isnan(v) and derivable and not np.isnan(alt[i]) and not np.isnan(alt[jb]):
        v = (alt[i] - alt[jb]) / dt * 60.0
    if np.isnan(v):
        v = 0.0
    return g, h, v, src


@numba.njit(cache=True, nogil=True)
def kinematics(issue, first, time, lat, lon, gs, trk, vr, alt, fresh, base, window, max_turn_dps,
               out_gs, out_trk, out_vr, out_om, out_src):
    """Groundspeed (kt), track (deg), vertical rate (ft/min), turn rate (deg/s)
    and velocity source at each issue fix ``issue[q]`` (its track starts at
    fix ``first[q]``).  The turn rate is the track change since the latest fix
    at least ``window`` s earlier (within ``3 * window``), divided by the time,
    clipped to ``max_turn_dps``."""
    for q in range(len(issue)):
        i, a = issue[q], first[q]
        g, h, v, src = _velocity(i, a, time, lat, lon, gs, trk, vr, alt, fresh, base)
        om = 0.0
        if src > 0:
            m = i - 1
            while m > a and time[i] - time[m] < window:
                m -= 1
            dt = time[i] - time[m] if m >= a else 0.0
            if m >= a and dt >= 0.5 * window and dt <= 3.0 * window:
                _, h2, _, src2 = _velocity(m, a, time, lat, lon, gs, trk, vr, alt, fresh, base)
                if src2 > 0:
                    om = _wrap180(h - h2) / dt
                    om = min(max_turn_dps, max(-max_turn_dps, om))
        out_gs[q], out_trk[q], out_vr[q], out_om[q], out_src[q] = g, h, v, om, src


@numba.njit(cache=True, nogil=True)
def paths(lon0, lat0, speed, trk, om, fl0, msl0, vr_fps, turn, offset, taus, max_turn_deg,
          out_lon, out_lat, out_fl, out_msl, out_x, out_y):
    """Predicted path ``p``: ``len(taus)`` points, ``taus`` seconds ahead.

    Straight (``turn[p]`` false): along the geodesic at the current track.
    Constant turn rate: heading ``trk + om * tau`` until it has turned by
    ``max_turn_deg``, straight on after.  Speed and vertical rate constant.
    ``offset[p]`` (m) shifts the path sideways (right of the heading
    positive): a parallel path, used to find near misses.  Positions are
    computed in the azimuthal equidistant plane of the current fix
    (``out_x``, ``out_y``, metres east/north) and mapped back to lon/lat.
    """
    npts = len(taus)
    for p in range(len(lon0)):
        n_rad, m_rad = _radii(lat0[p])
        psi0 = math.radians(trk[p])
        w = math.radians(om[p]) if turn[p] else 0.0
        v = speed[p]
        t_turn = math.radians(max_turn_deg) / abs(w) if w != 0.0 else np.inf
        for k in range(npts):
            tau = taus[k]
            if w == 0.0:
                x = v * tau * math.sin(psi0)
                y = v * tau * math.cos(psi0)
                psi = psi0
            else:
                tt = min(tau, t_turn)
                psi = psi0 + w * tt
                x = v / w * (math.cos(psi0) - math.cos(psi))
                y = v / w * (math.sin(psi) - math.sin(psi0))
                if tau > tt:
                    x += v * (tau - tt) * math.sin(psi)
                    y += v * (tau - tt) * math.cos(psi)
            if offset[p] != 0.0:
                x += offset[p] * math.cos(psi)
                y -= offset[p] * math.sin(psi)
            j = p * npts + k
            out_x[j], out_y[j] = x, y
            out_lon[j], out_lat[j] = aeqd_inv(x, y, lon0[p], lat0[p], n_rad, m_rad)
            out_fl[j] = fl0[p] + vr_fps[p] * tau
            out_msl[j] = msl0[p] + vr_fps[p] * tau


@numba.njit(cache=True, inline="always")
def _seg_point(px, py, ax, ay, bx, by):
    """Distance from p to segment a-b and the parameter of the nearest point."""
    dx, dy = bx - ax, by - ay
    ll = dx * dx + dy * dy
    t = 0.0 if ll == 0.0 else min(1.0, max(0.0, ((px - ax) * dx + (py - ay) * dy) / ll))
    return math.hypot(px - ax - t * dx, py - ay - t * dy), t


@numba.njit(cache=True, inline="always")
def _orient(ax, ay, bx, by, cx, cy):
    return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)


@numba.njit(cache=True)
def _seg_seg(ax, ay, bx, by, cx, cy, dx, dy):
    """Distance between segments a-b and c-d, and the parameter on a-b."""
    o1 = _orient(ax, ay, bx, by, cx, cy)
    o2 = _orient(ax, ay, bx, by, dx, dy)
    o3 = _orient(cx, cy, dx, dy, ax, ay)
    o4 = _orient(cx, cy, dx, dy, bx, by)
    if ((o1 > 0) != (o2 > 0)) and ((o3 > 0) != (o4 > 0)):
        return 0.0, o3 / (o3 - o4)
    best, _ = _seg_point(ax, ay, cx, cy, dx, dy)
    tb = 0.0
    d, _ = _seg_point(bx, by, cx, cy, dx, dy)
    if d < best:
        best, tb = d, 1.0
    d, t = _seg_point(cx, cy, ax, ay, bx, by)
    if d < best:
        best, tb = d, t
    d, t = _seg_point(dx, dy, ax, ay, bx, by)
    if d < best:
        best, tb = d, t
    return best, tb


@numba.njit(cache=True, nogil=True)
def closest(pair_path, pair_zone, lon0, lat0, px, py, plon, plat, npts, reach, g, out_d, out_k):
    """Closest lateral approach of predicted path ``pair_path[j]`` to the
    boundary of zone ``pair_zone[j]``: metres, and where along the path (a
    fractional point number; ``k`` means ``taus[k]``).

    The zone's edges are taken from the zone index's grid cells around the
    path (its box enlarged by ``reach`` metres), so only edges nearer than
    ``reach`` are certain to be seen (``inf`` when none is); edges and path
    are compared in the azimuthal equidistant plane of the path's first point
    (``px``, ``py``).  Antimeridian cut lines are not boundary.
    """
    top_off, top_n, ent_ptr, ent_zone, ent_state, ent_e0, ent_e1, cell_edges, cell_pure, refx, refy, ex0, ey0, ex1, ey1 = g
    buf = np.empty(256, np.int64)
    for j in range(len(pair_path)):
        p = pair_path[j]
        z = pair_zone[j]
        a = p * npts
        xmin = xmax = 0.0
        ymin = ymax = lat0[p]
        qx0 = qx1 = px[a]
        qy0 = qy1 = py[a]
        for k in range(npts):
            dl = _wrap180(plon[a + k] - lon0[p])
            xmin, xmax = min(xmin, dl), max(xmax, dl)
            ymin, ymax = min(ymin, plat[a + k]), max(ymax, plat[a + k])
            qx0, qx1 = min(qx0, px[a + k]), max(qx1, px[a + k])
            qy0, qy1 = min(qy0, py[a + k]), max(qy1, py[a + k])
        mlat = reach / 110000.0 * 1.05
        ymin, ymax = max(-90.0, ymin - mlat), min(90.0, ymax + mlat)
        mlon = mlat / max(math.cos(math.radians(max(abs(ymin), abs(ymax)))), 1e-3)
        xmin, xmax = lon0[p] + xmin - mlon, lon0[p] + xmax + mlon
        frame = _frame(lon0[p], lat0[p])
        best = np.inf
        bk = 0.0
        for shift in (-360.0, 0.0, 360.0):
            bx0, bx1 = max(xmin + shift, -180.0), min(xmax + shift, 180.0)
            if bx0 > bx1:
                continue
            ncell, buf = cells_in_box(bx0, ymin, bx1, ymax, top_off, top_n, RES, buf)
            for ci in range(ncell):
                c = buf[ci]
                if cell_pure[c]:
                    continue
                for en in range(ent_ptr[c], ent_ptr[c + 1]):
                    if ent_zone[en] != z or ent_state[en] == 2:
                        continue
                    for q in range(ent_e0[en], ent_e1[en]):
                        e = cell_edges[q]
                        if ex0[e] == ex1[e] and abs(ex0[e]) == 180.0:
                            continue
                        ax, ay = _project1(ex0[e], ey0[e], frame)
                        bx, by = _project1(ex1[e], ey1[e], frame)
                        lim = min(best, reach)
                        if (min(ax, bx) > qx1 + lim or max(ax, bx) < qx0 - lim
                                or min(ay, by) > qy1 + lim or max(ay, by) < qy0 - lim):
                            continue
                        ex_lo, ex_hi, ey_lo, ey_hi = min(ax, bx), max(ax, bx), min(ay, by), max(ay, by)
                        for k in range(npts - 1):
                            x0, x1, y0, y1 = px[a + k], px[a + k + 1], py[a + k], py[a + k + 1]
                            lim = min(best, reach)
                            if (ex_lo > max(x0, x1) + lim or ex_hi < min(x0, x1) - lim
                                    or ey_lo > max(y0, y1) + lim or ey_hi < min(y0, y1) - lim):
                                continue
                            d, t = _seg_seg(x0, y0, x1, y1, ax, ay, bx, by)
                            if d < best:
                                best, bk = d, k + t
        out_d[j] = best
        out_k[j] = bk


@numba.njit(cache=True)
def episodes(slot, t, prev_t, val, kind, quiet, confirm, change_s, change_rel,
             st_last, st_streak, st_open, st_val, st_ep, st_upd, next_ep, out_emit, out_ep, out_upd):
    """The warning-episode state machine, over positive predictions in time
    order per (aircraft, zone, kind) ``slot``.

    ``t``: issue time; ``prev_t``: the aircraft's previous issue time (NaN
    when none); ``val``: predicted entry time (kind 0, warning) or distance
    band (kind 1, near miss: 0 within half the near-miss distance, 1 within
    it).  A prediction counts once it has been made at ``confirm``
    consecutive issue points of the aircraft.  The first counted one opens an
    episode and is emitted; later ones are emitted only when the predicted
    entry time came earlier by more than ``max(change_s, change_rel * lead)``
    than the last one emitted (warnings; an entry predicted later needs no
    new alert) or the near miss came into a closer band; an episode closes
    after ``quiet`` s without a prediction.  The ``st_*`` arrays (per slot)
    are the state carried between calls.  Returns the next free episode number.
    """
    for r in range(len(slot)):
        s = slot[r]
        out_emit[r] = False
        if st_open[s] and t[r] - st_last[s] > quiet:
            st_open[s] = False
        streak = st_streak[s] + 1 if st_last[s] == prev_t[r] else 1
        st_streak[s] = streak
        st_last[s] = t[r]
        if streak >= confirm:
            if not st_open[s]:
                st_open[s] = True
                st_ep[s] = next_ep
                next_ep += 1
                st_upd[s] = 0
                st_val[s] = val[r]
                out_emit[r] = True
            elif kind[r] == 0:
                if st_val[s] - val[r] > max(change_s, change_rel * (val[r] - t[r])):
                    st_upd[s] += 1
                    st_val[s] = val[r]
                    out_emit[r] = True
            elif val[r] < st_val[s] - 0.5:
                st_upd[s] += 1
                st_val[s] = val[r]
                out_emit[r] = True
        out_ep[r] = st_ep[s]
        out_upd[r] = st_upd[s]
    return next_ep
