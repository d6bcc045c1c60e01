"""Depth: the largest geodesic distance from a zone's lateral boundary that a
path inside the zone reaches.

Distance to the boundary is 1-Lipschitz along a path, so between two samples
``L`` apart (in arc length) with distances ``d1``, ``d2`` nothing exceeds
``(d1 + d2 + L) / 2``; nor does it exceed, near the chord between them, the
distance to the nearer of their two nearest boundary points
(:func:`_piece_bound`, the tighter one along a boundary).  A branch and
bound over (geodesic) arc length, from the two ends, splits the pieces whose
bound beats the best sample by more than ``max(TOL_M, TOL_REL * best)``
(where that bound peaks) until none is left: the result is within 10 m or
0.5 % (whichever is larger) of the true maximum.  Each nearest-edge query
starts from the nearer known boundary point of its piece.

Distances are measured in an azimuthal equidistant projection (:func:`project`)
centred within 0.5 deg of the path's centre: within 2 m of WGS84 geodesic distances
up to 50 km from the centre, within 0.05 % up to 300 km.  The zone's edges around a centre (a *window*)
are projected once, put in a uniform grid for nearest-edge queries, and
used by every episode near that centre in one compiled call.  A window is widened until it holds
every edge nearer to the path than the depth found.  Edges on the
antimeridian (cuts of zones written in two halves) are not boundary.
"""

from __future__ import annotations

import collections
import math
import threading
import weakref

import numba
import numpy as np

from ._borrow import borrow
from ._threads import pool_map

TOL_M = 10.0
TOL_REL = 0.005  # and 0.5 % of the depth: deep paths along a boundary need no metre precision
# window half-heights, degrees of latitude: 2 covers the depth of most paths (about 100 km),
# 3 about 200 km; deeper ones (far inside large states) widen by about 1.6x a step, not at
# once to the whole zone.  Depth CPU per 10 M fixes (without the 2: border-dense traffic
# 1.02 s, (3, 8, 180) 1.09 s, (4, 16, 180) 1.2 s; global synth traffic 6.1 s, (3, 8, 180)
# 11.7 s, (3, 8, 16, 180) 7.7 s).  The first step of 2: border-dense 1.06 s either way,
# global synth traffic (its windows are seldom reused: smaller ones cost less to build)
# 6.0 -> 5.4 s; (2, 4, 8, ..) 5.6 s, (1.5, 3, 5, ..) 5.5 s
WINDOWS = (2.0, 3.0, 5.0, 8.0, 12.0, 20.0, 40.0, 180.0)
WINDOW_CACHE_BYTES = 64 << 20  # windows kept between calls (see WindowCache)


A_WGS84 = 6378137.0
E2_WGS84 = 0.00669437999014


@numba.njit(cache=True, nogil=True, inline="always")
def _frame(lon0, lat0):
    p0 = math.radians(lat0)
    s0, c0 = math.sin(p0), math.cos(p0)
    w = math.sqrt(1.0 - E2_WGS84 * s0 * s0)
    l0 = math.radians(lon0)
    return lon0, s0, c0, A_WGS84 / w, A_WGS84 * (1.0 - E2_WGS84) / (w * w * w), math.sin(l0), math.cos(l0)


@numba.njit(cache=True, nogil=True, inline="always")
def _aeqd(sp, cp, sd, cd, frame):
    """The projection of a point given the sine and cosine of its latitude
    (``sp``, ``cp``) and of its longitude less the centre's (``sd``, ``cd``).

    The angle ``c`` from the centre enters as ``c / sin(c)``: a power series
    in ``sin(c)^2`` within 5.7 degrees of the centre (its error there is under
    1e-13), ``atan2`` farther."""
    _, s0, c0, n_rad, m_rad, _, _ = frame
    u = cp * sd
    v = c0 * sp - s0 * cp * cd
    q = u * u + v * v  # sin(c)^2 on the unit sphere
    z = s0 * sp + c0 * cp * cd  # cos(c)
    if q <= 0.01 and z > 0.0:
        k = 1.0 + q * (1.0 / 6.0 + q * (3.0 / 40.0 + q * (5.0 / 112.0 + q * (35.0 / 1152.0 + q * (63.0 / 2816.0)))))
    else:
        h = math.sqrt(q)
        c = math.atan2(h, z)
        k = 1.0 if c < 1e-12 else c / h
    return n_rad * k * u, m_rad * k * v


@numba.njit(cache=True, nogil=True, inline="always")
def _project1(lon, lat, frame):
    p = math.radians(lat)
    dl = math.radians(lon - frame[0])
    return _aeqd(math.sin(p), math.cos(p), math.sin(dl), math.cos(dl), frame)


@numba.njit(cache=True, nogil=True, inline="always")
def _project_trig(sp, cp, sl, cl, frame):
    """:func:`_project1` from the sines and cosines of latitude and longitude."""
    sl0, cl0 = frame[5], frame[6]
    return _aeqd(sp, cp, sl * cl0 - cl * sl0, cl * cl0 + sl * sl0, frame)


BLOCK = 64  # consecutive edges boxed together: a window skips the blocks its box does not meet


def edge_arrays(ex0, ey0, ex1, ey1) -> tuple:
    """What :func:`_window_edges` makes windows from: the edges; the sines and
    cosines of the latitude and longitude of their end vertices (it projects
    them with those); and the lon/lat box of each block of ``BLOCK``
    consecutive edges (``bx0, bx1, by0, by1``: edges along a ring are near one
    another, so a window's scan skips most of a large zone's blocks)."""
    p, lam = np.radians(ey1), np.radians(ex1)
    starts = np.arange(0, len(ex0), BLOCK)
    if len(ex0):
        boxes = (np.minimum.reduceat(np.minimum(ex0, ex1), starts), np.maximum.reduceat(np.maximum(ex0, ex1), starts),
                 np.minimum.reduceat(np.minimum(ey0, ey1), starts), np.maximum.reduceat(np.maximum(ey0, ey1), starts))
    else:
        boxes = (np.empty(0),) * 4
    return (ex0, ey0, ex1, ey1, np.sin(p), np.cos(p), np.sin(lam), np.cos(lam), *boxes)


@numba.njit(cache=True, nogil=True)
def project(lon, lat, lon0, lat0):
    """Azimuthal equidistant projection centred on (lon0, lat0), in metres.

    The spherical formula, scaled east-west by the WGS84 prime-vertical and
    north-south by the meridional radius of curvature at the centre, so that
    scales match the ellipsoid there.  Planar distances between points within
    50 km of the centre are within 2 m of WGS84 geodesic distances, within
    0.05 % up to 300 km (checked against pyproj.Geod in the tests).
    """
    frame = _frame(lon0, lat0)
    x = np.empty(len(lon))
    y = np.empty(len(lon))
    for i in range(len(lon)):
        x[i], y[i] = _project1(lon[i], lat[i], frame)
    return x, y


PIECE_DEG = 0.05  # edges are projected in pieces no longer than this


@numba.njit(cache=True, nogil=True)
def _window_edges(ex0, ey0, ex1, ey1, sp1, cp1, sl1, cl1, bx0, bx1, by0, by1, cx, cy, w, wlon, piece):
    """The edges meeting the box ``cx ± wlon``, ``cy ± w`` (also shifted by
    ±360 where the box crosses the antimeridian), cut into pieces of at most
    ``piece`` degrees (so that each stays straight in the projection to
    within a metre) and projected on (cx, cy), as chains of points: a (2, m)
    array of ``x, y`` where pieces ``i`` run from point ``i`` to point
    ``i + 1`` and a NaN point ends a chain (consecutive edges sharing a vertex
    form one chain: half the memory of separate segments, so that twice as
    many windows stay cached).  Two passes (count, then write) over the
    blocks of edges whose box meets the window's, no temporaries; end
    vertices from the sines and cosines of their coordinates (``sp1 .. cl1``;
    these and the block boxes ``bx0 .. by1`` from :func:`edge_arrays`)."""
    ex0, ey0, ex1, ey1 = borrow(ex0), borrow(ey0), borrow(ex1), borrow(ey1)
    sp1, cp1, sl1, cl1 = borrow(sp1), borrow(cp1), borrow(sl1), borrow(cl1)
    bx0, bx1, by0, by1 = borrow(bx0), borrow(bx1), borrow(by0), borrow(by1)
    frame = _frame(cx, cy)
    out = np.empty((2, 0))
    for pass_ in range(2):
        m = 0
        for si in range(3):
            shift = (0.0, 360.0, -360.0)[si]
            if (si == 1 and cx + wlon < 180.0) or (si == 2 and cx - wlon > -180.0):
                continue  # no edge can meet the box with this shift
            px, py = np.nan, np.nan  # the chain's last vertex (lon/lat)
            for blk in range(len(bx0)):
                if not (bx1[blk] + shift >= cx - wlon and bx0[blk] + shift <= cx + wlon
                        and by1[blk] >= cy - w and by0[blk] <= cy + w):  # fmt: skip
                    continue
                for e in range(blk * BLOCK, min((blk + 1) * BLOCK, len(ex0))):
                    a0, a1 = ex0[e] + shift, ex1[e] + shift
                    b0, b1 = ey0[e], ey1[e]
                    if not (max(a0, a1) >= cx - wlon and min(a0, a1) <= cx + wlon
                            and max(b0, b1) >= cy - w and min(b0, b1) <= cy + w):  # fmt: skip
                        continue
                    n = max(1, int(math.ceil(max(abs(a1 - a0), abs(b1 - b0)) / piece)))
                    if not (a0 == px and b0 == py):  # a new chain: a break (but first), its first point
                        if pass_ == 1:
                            if m > 0:
                                out[0, m], out[1, m] = np.nan, np.nan
                            xa, ya = _project1(a0, b0, frame)
                            out[0, m + (m > 0)], out[1, m + (m > 0)] = xa, ya
                        m += 2 if m > 0 else 1
                    if pass_ == 1:
                        for j in range(n):
                            if j + 1 == n:
                                xb, yb = _project_trig(sp1[e], cp1[e], sl1[e], cl1[e], frame)
                            else:
                                f = (j + 1) / n
                                xb, yb = _project1(a0 + f * (a1 - a0), b0 + f * (b1 - b0), frame)
                            out[0, m + j], out[1, m + j] = xb, yb
                    m += n
                    px, py = a1, b1
        if pass_ == 0:
            out = np.empty((2, m))
    return out


GROUP = 8  # grid entries boxed together (see _build_grid)
FINE_RINGS = 32  # nearest-edge queries farther than this many empty fine cells use the coarse grid


class Window:
    """A zone's edges near a centre, projected and gridded."""

    def __init__(self, edges, cx, cy, w, wlon):
        """``edges``: a zone's :func:`edge_arrays`; the box ``cx ± wlon``, ``cy ± w``
        (``wlon``: :func:`_half_width`)."""
        self.pts = _window_edges(*edges, float(cx), float(cy), float(w), float(wlon), PIECE_DEG)
        self.empty = self.pts.shape[1] == 0
        self.size = 1024 + self.pts.nbytes  # its arrays, and 1 KB for the objects
        if self.empty:
            return
        self.fine = _build_grid(self.pts, 1)
        # the coarse grid only where some cell is far enough from every edge to use it
        self.coarse = _build_grid(self.pts, 8) if self.fine[7].max() > FINE_RINGS else self.fine
        grids = (self.fine,) if self.coarse is self.fine else (self.fine, self.coarse)
        self.size += sum(a.nbytes for g in grids for a in g[5:])

class WindowCache:
    """Windows kept from call to call (a stream measures the pieces of the same
    aircraft near the same centres batch after batch), the least recently used
    dropped past ``budget`` bytes (one budget for the process, whatever the
    zone sets).  A window depends only on its zone set, zone, centre and width,
    so a cached one gives the same depths as a new one."""

    def __init__(self, budget: int = WINDOW_CACHE_BYTES):
        self.budget = budget
        self.held = 0
        self.items: collections.OrderedDict = collections.OrderedDict()
        self.owners: set = set()
        self.lock = threading.RLock()  # re-entrant: an owner's finalizer may run inside a get

    def scoped(self, owner) -> _Scoped:
        """A view whose keys are ``owner``'s (a zone index): its windows are
        dropped when ``owner`` is garbage-collected."""
        tag = id(owner)
        with self.lock:
            if tag not in self.owners:
                self.owners.add(tag)
                weakref.finalize(owner, self.drop, tag)
        return _Scoped(self, tag)

    def drop(self, tag) -> None:
        with self.lock:
            self.owners.discard(tag)
            for key in [k for k in self.items if k[0] == tag]:
                self.held -= self.items.pop(key).size

    def get(self, key, make) -> Window:
        with self.lock:
            win = self.items.get(key)
            if win is not None:
                self.items.move_to_end(key)
                return win
        win = make()
        size = win.size
        if size > self.budget // 4:
            return win
        with self.lock:
            if key not in self.items:
                self.items[key] = win
                self.held += size
                while self.held > self.budget:
                    _, old = self.items.popitem(last=False)
                    self.held -= old.size
        return win


class _Scoped:
    """A :class:`WindowCache` seen by one owner: keys prefixed with its tag."""

    def __init__(self, cache: WindowCache, tag):
        self.cache, self.tag = cache, tag

    def get(self, key, make) -> Window:
        return self.cache.get((self.tag, *key), make)


def _half_width(w, cy):
    """A window's half-width in degrees of longitude (scalar or array): the
    half-height ``w`` widened for the latitude of its far side from centre ``cy``."""
    return np.minimum(360.0, w / np.maximum(np.cos(np.radians(np.minimum(89.0, np.abs(cy) + w))), 1e-3))


def _covered(w, cx, cy, wlon, lo, hi, la, lb) -> np.ndarray:
    """Lower bounds (m) on the distance from paths with these bounds to any edge
    outside their windows (half-height ``w`` and half-width ``wlon``, centres ``cx``, ``cy``)."""
    if w >= WINDOWS[-1]:
        return np.full(len(lo), np.inf)
    dlat = np.minimum(cy + w - lb, la - (cy - w)) * 110_000.0
    coslat = np.cos(np.radians(np.minimum(89.0, np.maximum(np.abs(la), np.abs(lb)))))
    dlon = np.minimum(cx + wlon - hi, lo - (cx - wlon)) * 111_000.0 * coslat
    return np.maximum(0.0, np.minimum(dlat, dlon) * 0.99)


def depths(ptr, lon, lat, cum, zone, zone_edges, n_threads: int = 1, cache: _Scoped | None = None) -> np.ndarray:
    """Depth of each path ``lon[ptr[j]:ptr[j+1]]`` inside zone ``zone[j]``.

    ``cum`` is the geodesic length along each path from its start (m);
    ``zone_edges(z)`` gives the zone's :func:`edge_arrays` (its edges
    ``ex0, ey0, ex1, ey1`` and what windows are made from).
    Paths sharing a window are measured in one compiled call; groups of
    paths run on ``n_threads`` threads (the compiled parts release the GIL).
    ``cache`` keeps windows for later calls with the same zones.
    """
    n = len(zone)
    out = np.full(n, np.nan)
    if n == 0:
        return out
    lo = np.minimum.reduceat(lon, ptr[:-1])
    hi = np.maximum.reduceat(lon, ptr[:-1])
    la = np.minimum.reduceat(lat, ptr[:-1])
    lb = np.maximum.reduceat(lat, ptr[:-1])
    cx = np.round((lo + hi) / 2)  # centres on a 1-degree grid
    cy = np.round((la + lb) / 2)
    # one group per (zone, centre): the paths in that order, cut where the key changes
    rank = np.empty(n, np.int64)
    rank[np.lexsort((cy, cx, zone))] = np.arange(n)
    pending = np.argsort(rank)
    for w in WINDOWS:
        if len(pending) == 0:
            break
        zp, xp, yp = zone[pending], cx[pending], cy[pending]
        new = (zp[1:] != zp[:-1]) | (xp[1:] != xp[:-1]) | (yp[1:] != yp[:-1])
        groups = np.split(pending, np.flatnonzero(new) + 1)
        wlon, covered = np.empty(n), np.empty(n)
        wlon[pending] = _half_width(w, yp)
        covered[pending] = _covered(w, xp, yp, wlon[pending], lo[pending], hi[pending], la[pending], lb[pending])

        def measure(eps, w=w, covered=covered, wlon=wlon):
            """Depths of one group of episodes; returns those needing a wider window."""
            z, x0, y0 = int(zone[eps[0]]), float(cx[eps[0]]), float(cy[eps[0]])
            def make():  # one group per (zone, centre, width)
                return Window(zone_edges(z), x0, y0, w, wlon[eps[0]])

            win = make() if cache is None else cache.get((z, x0, y0, w), make)
            if win.empty:
                return eps if w != WINDOWS[-1] else eps[:0]
            best = np.empty(len(eps))
            _bnb_batch(ptr, lon, lat, cum, eps, x0, y0, win.pts, win.fine, win.coarse, TOL_M, TOL_REL, best)
            ok = best <= covered[eps]
            out[eps[ok]] = best[ok]
            return eps[~ok]

        if n_threads > 1 and len(groups) > 1:  # a share of the groups a thread (few hand-offs)
            shares = [groups[i::n_threads] for i in range(n_threads)]
            results = [r for done in pool_map(lambda share: [measure(g) for g in share], shares) for r in done]
        else:
            results = [measure(g) for g in groups]
        pending = np.concatenate(results) if results else pending[:0]
        pending = pending[np.argsort(rank[pending])]  # groups whole again for the next width
    return out


@numba.njit(cache=True, nogil=True)
def _build_grid(pts, coarsen):
    """Uniform grid over the pieces of projected chains (:func:`_window_edges`):
    (x0, y0, cell, nx, ny, ptr, ids, skip, boxes), ``ids`` the pieces' first points."""
    m = pts.shape[1]
    xmin, xmax, ymin, ymax, ne = np.inf, -np.inf, np.inf, -np.inf, 0
    for i in range(m):
        if not math.isnan(pts[0, i]):
            xmin, xmax = min(xmin, pts[0, i]), max(xmax, pts[0, i])
            ymin, ymax = min(ymin, pts[1, i]), max(ymax, pts[1, i])
            if i + 1 < m and not math.isnan(pts[0, i + 1]):
                ne += 1
    span = max(xmax - xmin, ymax - ymin, 1.0)
    # about 16 edges a cell, in boxed runs of GROUP: depth CPU on the benchmark's pieces (border-dense
    # traffic, global synth traffic) 0.73 s, 4.43 s; 2 edges a cell without the runs' boxes 1.05, 4.95
    # s; 2 a cell with them 0.92 s; 4 a cell 0.81 s; 8 a cell 0.77 s; 32 a cell 0.73 s
    ncell = max(1, min(1024, int(math.sqrt(0.0625 * ne)) + 1)) // coarsen + 1
    cell = span / ncell
    nx = int((xmax - xmin) / cell) + 1
    ny = int((ymax - ymin) / cell) + 1
    # each piece's cell range, computed once (the divisions are most of the cost) and
    # used to count, then to fill; -1: no piece starts at this point
    rng = np.empty((m, 4), np.int32)
    counts = np.zeros(nx * ny + 1, np.int32)
    for e in range(m - 1):
        if math.isnan(pts[0, e]) or math.isnan(pts[0, e + 1]):
            rng[e, 0] = -1
            continue
        ia = int((min(pts[0, e], pts[0, e + 1]) - xmin) / cell)
        ib = min(int((max(pts[0, e], pts[0, e + 1]) - xmin) / cell), nx - 1)
        ja = int((min(pts[1, e], pts[1, e + 1]) - ymin) / cell)
        jb = min(int((max(pts[1, e], pts[1, e + 1]) - ymin) / cell), ny - 1)
        rng[e, 0], rng[e, 1], rng[e, 2], rng[e, 3] = ia, ib, ja, jb
        for j in range(ja, jb + 1):
            for i in range(ia, ib + 1):
                counts[j * nx + i] += 1
    ptr = np.zeros(nx * ny + 1, np.int32)
    for c in range(nx * ny):
        ptr[c + 1] = ptr[c] + counts[c]
    ids = np.empty(ptr[-1], np.int32)
    fill = ptr[:-1].copy()
    for e in range(m - 1):
        if rng[e, 0] < 0:
            continue
        for j in range(rng[e, 2], rng[e, 3] + 1):
            for i in range(rng[e, 0], rng[e, 1] + 1):
                ids[fill[j * nx + i]] = e
                fill[j * nx + i] += 1
    # the box of each run of GROUP consecutive entries of ids (pieces along a chain, so
    # the box is small): a query skips the runs whose box is farther than its best
    ng = (len(ids) + GROUP - 1) // GROUP
    boxes = np.empty((4, ng))
    for g in range(ng):
        x0, y0, x1, y1 = np.inf, np.inf, -np.inf, -np.inf
        for q in range(g * GROUP, min((g + 1) * GROUP, len(ids))):
            e = ids[q]
            x0, x1 = min(x0, pts[0, e], pts[0, e + 1]), max(x1, pts[0, e], pts[0, e + 1])
            y0, y1 = min(y0, pts[1, e], pts[1, e + 1]), max(y1, pts[1, e], pts[1, e + 1])
        boxes[0, g], boxes[1, g], boxes[2, g], boxes[3, g] = x0, y0, x1, y1
    return xmin, ymin, cell, nx, ny, ptr, ids, _empty_rings(ptr, nx, ny), boxes


@numba.njit(cache=True, nogil=True)
def _empty_rings(ptr, nx, ny):
    """Chebyshev distance (cells) from each cell to the nearest cell with an
    edge: the rings a nearest-edge search may skip (exact two-pass transform)."""
    big = nx + ny + 2
    d = np.empty(nx * ny, np.int32)
    for c in range(nx * ny):
        d[c] = 0 if ptr[c + 1] > ptr[c] else big
    for j in range(ny):
        for i in range(nx):
            c = j * nx + i
            v = d[c]
            if i > 0:
                v = min(v, d[c - 1] + 1)
            if j > 0:
                v = min(v, d[c - nx] + 1)
                if i > 0:
                    v = min(v, d[c - nx - 1] + 1)
                if i < nx - 1:
                    v = min(v, d[c - nx + 1] + 1)
            d[c] = v
    for j in range(ny - 1, -1, -1):
        for i in range(nx - 1, -1, -1):
            c = j * nx + i
            v = d[c]
            if i < nx - 1:
                v = min(v, d[c + 1] + 1)
            if j < ny - 1:
                v = min(v, d[c + nx] + 1)
                if i < nx - 1:
                    v = min(v, d[c + nx + 1] + 1)
                if i > 0:
                    v = min(v, d[c + nx - 1] + 1)
            d[c] = v
    return d


@numba.njit(cache=True, inline="always")
def _seg_dist2(px, py, ax, ay, bx, by):
    """Squared distance from a point to a segment."""
    dx, dy = bx - ax, by - ay
    l2 = dx * dx + dy * dy
    t = 0.0 if l2 == 0.0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / l2))
    qx, qy = ax + t * dx - px, ay + t * dy - py
    return qx * qx + qy * qy


@numba.njit(cache=True, inline="always")
def _box_dist2(px, py, x0, y0, x1, y1):
    """Squared distance from a point to a box."""
    dx = max(x0 - px, 0.0, px - x1)
    dy = max(y0 - py, 0.0, py - y1)
    return dx * dx + dy * dy


@numba.njit(cache=True)
def _nearest2(px, py, pts, fine, coarse, ux, uy):
    """Distance from (px, py) to the nearest edge, and the nearest point of
    that edge: on the fine grid (about 16 edges a cell, so a query scans
    few empty cells) within 32 rings of the boundary, on the coarse one (8x
    cells) farther, where the fine grid would have too many empty rings to
    search.  ``(ux, uy)`` is a known point of the boundary (NaN if none):
    its distance is the first best, so that only cells nearer than it are
    searched.  Cells farther than the best distance found are skipped."""
    xmin, ymin, cell, nx, ny, ptr, ids, skip, boxes = fine
    ci = min(max(int(math.floor((px - xmin) / cell)), 0), nx - 1)
    cj = min(max(int(math.floor((py - ymin) / cell)), 0), ny - 1)
    if skip[cj * nx + ci] <= FINE_RINGS:
        return _nearest(px, py, pts, xmin, ymin, cell, nx, ny, ptr, ids, skip, boxes, ux, uy)
    xmin, ymin, cell, nx, ny, ptr, ids, skip, boxes = coarse
    return _nearest(px, py, pts, xmin, ymin, cell, nx, ny, ptr, ids, skip, boxes, ux, uy)


@numba.njit(cache=True)
def _nearest(px, py, pts, xmin, ymin, cell, nx, ny, ptr, ids, skip, boxes, ux, uy):
    """Distance from (px, py) to the nearest edge and its nearest point:
    ring search on the grid, starting at the first ring that holds an edge
    (``skip``); squared distances inside (one square root at the end)."""
    ci = min(max(int(math.floor((px - xmin) / cell)), 0), nx - 1)
    cj = min(max(int(math.floor((py - ymin) / cell)), 0), ny - 1)
    best = np.inf if np.isnan(ux) else (ux - px) ** 2 + (uy - py) ** 2
    best_e = -1
    rmax = max(nx, ny)
    for r in range(skip[cj * nx + ci], rmax + 1):
        for j in range(cj - r, cj + r + 1):
            if j < 0 or j >= ny:
                continue
            step = 1 if (j == cj - r or j == cj + r) else 2 * r
            i = ci - r
            while i <= ci + r:
                c = j * nx + i
                if 0 <= i < nx and ptr[c + 1] > ptr[c] and _box_dist2(
                    px, py, xmin + i * cell, ymin + j * cell, xmin + (i + 1) * cell, ymin + (j + 1) * cell
                ) < best:
                    q, qe = ptr[c], ptr[c + 1]
                    while q < qe:
                        g = q // GROUP
                        q1 = min((g + 1) * GROUP, qe)
                        if _box_dist2(px, py, boxes[0, g], boxes[1, g], boxes[2, g], boxes[3, g]) < best:
                            for k in range(q, q1):
                                e = ids[k]
                                d = _seg_dist2(px, py, pts[0, e], pts[1, e], pts[0, e + 1], pts[1, e + 1])
                                if d < best:
                                    best = d
                                    best_e = e
                        q = q1
                i += step if step > 0 else 1
        # every edge not seen yet lies in the grid but outside the box of rings 0..r
        bx0 = xmin + (ci - r) * cell
        bx1 = xmin + (ci + r + 1) * cell
        by0 = ymin + (cj - r) * cell
        by1 = ymin + (cj + r + 1) * cell
        gx1 = xmin + nx * cell
        gy1 = ymin + ny * cell
        inner = np.inf
        if bx0 > xmin:
            inner = min(inner, _box_dist2(px, py, xmin, ymin, bx0, gy1))
        if bx1 < gx1:
            inner = min(inner, _box_dist2(px, py, bx1, ymin, gx1, gy1))
        if by0 > ymin:
            inner = min(inner, _box_dist2(px, py, xmin, ymin, gx1, by0))
        if by1 < gy1:
            inner = min(inner, _box_dist2(px, py, xmin, by1, gx1, gy1))
        if best <= inner:
            break
    if best_e < 0:  # nothing nearer than the known point
        return math.sqrt(best), ux, uy
    ax, ay, bx, by = pts[0, best_e], pts[1, best_e], pts[0, best_e + 1], pts[1, best_e + 1]
    dx, dy = bx - ax, by - ay
    l2 = dx * dx + dy * dy
    t = 0.0 if l2 == 0.0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / l2))
    return math.sqrt(best), ax + t * dx, ay + t * dy


@numba.njit(cache=True, inline="always")
def _point_at(lon, lat, cum, a, b, s):
    """The point at arc length ``s`` along the path ``a..b-1`` (lon, lat)."""
    lo, hi = a, b - 1
    while hi - lo > 1:  # cum[lo] <= s < cum[hi]
        mid = (lo + hi) // 2
        if cum[mid] <= s:
            lo = mid
        else:
            hi = mid
    seg = cum[hi] - cum[lo]
    f = 0.0 if seg <= 0.0 else min(1.0, max(0.0, (s - cum[lo]) / seg))
    return lon[lo] + f * (lon[hi] - lon[lo]), lat[lo] + f * (lat[hi] - lat[lo])


SPLIT_STEPS = 8  # pieces split at a multiple of 1/8 of their length
SPLIT_MIN = 0.125  # and no nearer their ends than this fraction
R_MIN = 6_335_000.0  # smallest radius of curvature of the WGS84 ellipsoid (m)


@numba.njit(cache=True, inline="always")
def _norm(x, y):
    """``hypot`` without its care for overflow (metres do not overflow): a third of its cost."""
    return math.sqrt(x * x + y * y)


@numba.njit(cache=True, inline="always")
def _piece_bound(length, d0, x0, y0, u0, v0, d1, x1, y1, u1, v1):
    """Upper bound (m) on the distance to the boundary along a piece of path
    of arc length ``length`` from ``(x0, y0)`` to ``(x1, y1)`` (projected),
    whose ends are ``d0``, ``d1`` from the boundary at its points
    ``(u0, v0)``, ``(u1, v1)``; and where to split it (a fraction of its
    length, within ``SPLIT_MIN`` of neither end): where that bound peaks.

    The smaller of two bounds:

    - Lipschitz: ``(d0 + d1 + length) / 2``;
    - nearest points: the piece (any curve of that length, allowing for the
      projection's scale error) lies within ``b``, the semi-minor axis of the
      ellipse with foci at its ends, of its chord; on the chord the distance
      to the boundary is at most ``min(|y - q0|, |y - q1|)``, each convex
      along the chord, so their minimum peaks at an end or where the chord
      crosses the bisector of ``q0 q1``.  A piece running along the boundary
      at depth ``d`` is thus pruned once about ``0.2 d`` long, not ``0.01 d``.
    """
    lip = 0.5 * (d0 + d1 + length)
    # projected length: AEQD stretches tangentially by up to (r/R)^2/6 at r from
    # its centre, and the fixed radii are off by about e^2 * 1.5 * r/R
    r = 0.5 * (_norm(x0, y0) + _norm(x1, y1) + length) / R_MIN
    lp = length * (1.0 + 0.25 * r * r + 0.02 * r + 1e-5)
    vx, vy = x1 - x0, y1 - y0
    c2 = vx * vx + vy * vy
    b = 0.5 * math.sqrt(max(lp * lp - c2, 0.0))
    e01 = _norm(x0 - u1, y0 - v1)
    e10 = _norm(x1 - u0, y1 - v0)
    m = max(min(d0, e01), min(e10, d1))
    split = 0.5
    den = 2.0 * (vx * (u1 - u0) + vy * (v1 - v0))
    if den != 0.0:
        t = -(d0 * d0 - e01 * e01) / den
        if 0.0 < t < 1.0:
            mt = _norm(x0 + t * vx - u0, y0 + t * vy - v0)
            if mt > m:
                m = mt
                split = t
    if lip < m + b:
        split = 0.5 + (d1 - d0) / (2.0 * length) if length > 0.0 else 0.5
        return lip, _snap(split)
    return m + b, _snap(split)


@numba.njit(cache=True, inline="always")
def _snap(split):
    """The split fraction on a grid of 1/SPLIT_STEPS, SPLIT_MIN from either
    end: samples then move only when the peak crosses a grid line, so the
    same path measured from inputs a few ulps apart (a streamed track, a
    batch) almost always gets the same samples and the same depth."""
    return min(max(round(split * SPLIT_STEPS) / SPLIT_STEPS, SPLIT_MIN), 1.0 - SPLIT_MIN)


@numba.njit(cache=True, inline="always")
def _put(stack, i, c, s, d, x, y, u, v):
    """One end of piece ``i`` (columns ``c .. c + 5``): arc length, distance,
    projected point, its nearest boundary point."""
    stack[i, c], stack[i, c + 1], stack[i, c + 2], stack[i, c + 3], stack[i, c + 4], stack[i, c + 5] = s, d, x, y, u, v


@numba.njit(cache=True, nogil=True)
def _bnb_batch(ptr, lon, lat, cum, eps, lon0, lat0, pts, fine, coarse, tol, rel, out):
    """Branch and bound on arc length along paths ``eps`` (see module docstring).

    Only the sampled points are projected, so long paths cost no more than
    their samples.  Each sample keeps its nearest boundary point, for
    :func:`_piece_bound`.  The arrays passed on per sample are borrowed views
    (no reference counting per call; the arguments outlive the call)."""
    ptr, lon, lat, cum, eps, pts = borrow(ptr), borrow(lon), borrow(lat), borrow(cum), borrow(eps), borrow(pts)
    fine = fine[:5] + (borrow(fine[5]), borrow(fine[6]), borrow(fine[7]), borrow(fine[8]))
    coarse = coarse[:5] + (borrow(coarse[5]), borrow(coarse[6]), borrow(coarse[7]), borrow(coarse[8]))
    frame = _frame(lon0, lat0)
    stack = np.empty((64, 12))  # s, d, x, y, u, v at both ends of a piece
    for k in range(len(eps)):
        a, b = ptr[eps[k]], ptr[eps[k] + 1]
        total = cum[b - 1]
        top = 0
        best = 0.0
        n0 = 1 if total > 0.0 else 0
        qx, qy = np.nan, np.nan
        for j in range(n0 + 1):
            s = total * j / n0 if n0 else 0.0
            plon, plat = _point_at(lon, lat, cum, a, b, s)
            px, py = _project1(plon, plat, frame)
            d, qx, qy = _nearest2(px, py, pts, fine, coarse, qx, qy)
            best = max(best, d)
            if j == 0:
                _put(stack, top, 0, s, d, px, py, qx, qy)
            else:
                _put(stack, top, 6, s, d, px, py, qx, qy)
                top += 1
        while top > 0:
            top -= 1
            p = stack[top]
            s0, s1 = p[0], p[6]
            bound, split = _piece_bound(s1 - s0, p[1], p[2], p[3], p[4], p[5], p[7], p[8], p[9], p[10], p[11])
            if bound <= best + max(tol, rel * best):
                continue
            sm = s0 + split * (s1 - s0)  # where the bound peaks: samples land near the deepest point
            plon, plat = _point_at(lon, lat, cum, a, b, sm)
            px, py = _project1(plon, plat, frame)
            if (px - p[4]) ** 2 + (py - p[5]) ** 2 <= (px - p[10]) ** 2 + (py - p[11]) ** 2:
                qx, qy = p[4], p[5]
            else:
                qx, qy = p[10], p[11]
            dm, qx, qy = _nearest2(px, py, pts, fine, coarse, qx, qy)
            best = max(best, dm)
            if top + 2 > stack.shape[0]:
                st2 = np.empty((2 * stack.shape[0], 12))
                st2[:top + 1] = stack[:top + 1]
                stack = st2
            # the piece's second half goes on top of its first (slot top keeps s0 .. and gets sm as its end)
            for f in range(6):
                stack[top + 1, 6 + f] = stack[top, 6 + f]
            _put(stack, top + 1, 0, sm, dm, px, py, qx, qy)
            _put(stack, top, 6, sm, dm, px, py, qx, qy)
            top += 2
        out[k] = best
