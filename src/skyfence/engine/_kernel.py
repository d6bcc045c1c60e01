"""Compiled kernels: point-in-zone, segment sweeps, episode assembly.

Pure functions of numpy arrays, compiled with numba (cached on disk after the
first run).  Not thread-safe to share output buffers; safe to call from
several threads on different inputs.

Segment semantics: between fixes ``i`` and ``i+1`` the aircraft moves on the
straight lon/lat segment (the short way across the antimeridian) at constant
speed; altitude is linear in time.  A position on the segment is addressed by
``(i, t)`` with ``t`` in [0, 1].
"""

from __future__ import annotations

import numba
import numpy as np

from ._borrow import alive, borrow, borrow_grid
from ._threads import pool_ranges, row_shares
from ._index import BARO, EPS, OPEN, RES, cell_box, cell_of, cells_into



@numba.njit(cache=True)
def _max_overlap(ent_ptr):
    """Most zones any cell lists: a bound on the zones holding one point, and
    on the episodes open at once on a track."""
    m = 1
    for c in range(len(ent_ptr) - 1):
        m = max(m, ent_ptr[c + 1] - ent_ptr[c])
    return m


@numba.njit(cache=True, inline="always")
def _side(px, py, qx, qy, ax, ay):
    """True when a is strictly left of p->q (a point on the line counts as right)."""
    return (qx - px) * (ay - py) - (qy - py) * (ax - px) > 0.0


@numba.njit(cache=True, inline="always")
def _cross_u(px, py, qx, qy, ax, ay, bx, by):
    """Parameter on p->q where edge a->b crosses it, or -1 when it does not."""
    if _side(px, py, qx, qy, ax, ay) == _side(px, py, qx, qy, bx, by):
        return -1.0
    op = (bx - ax) * (py - ay) - (by - ay) * (px - ax)
    oq = (bx - ax) * (qy - ay) - (by - ay) * (qx - ax)
    if (op > 0.0) == (oq > 0.0):
        return -1.0
    u = op / (op - oq)
    return min(max(u, 0.0), 1.0)


@numba.njit(cache=True, inline="always")
def _crosses(px, py, qx, qy, ax, ay, bx, by):
    """``_cross_u(...) >= 0`` without the parameter and without branches
    (the same four orientation tests, so always the same answer)."""
    sa = (qx - px) * (ay - py) - (qy - py) * (ax - px) > 0.0
    sb = (qx - px) * (by - py) - (qy - py) * (bx - px) > 0.0
    op = (bx - ax) * (py - ay) - (by - ay) * (px - ax) > 0.0
    oq = (bx - ax) * (qy - ay) - (by - ay) * (qx - ax) > 0.0
    return (sa != sb) & (op != oq)


@numba.njit(cache=True)
def zones_at(x, y, g, out):
    """Zones containing point (x, y) into ``out``; return their count."""
    top_off, top_n = g[0], g[1]
    return zones_in_cell(x, y, cell_of(x, y, top_off, top_n, RES), g, out)


@numba.njit(cache=True, inline="always")
def zones_in_cell(x, y, c, g, out):
    """:func:`zones_at` for a point known to be in subcell ``c``."""
    top_off, top_n, ent_ptr, ent_zone, ent_state, ent_e0, ent_e1, cell_edges, cell_pure, refx, refy, ex0, ey0, ex1, ey1 = g
    m = 0
    rx, ry = refx[c], refy[c]
    for j in range(ent_ptr[c], ent_ptr[c + 1]):
        st = ent_state[j]
        inside = st != 0  # full (2), or partial with the reference point inside (1)
        if st != 2:
            for q in range(ent_e0[j], ent_e1[j]):
                e = cell_edges[q]
                inside ^= _crosses(rx, ry, x, y, ex0[e], ey0[e], ex1[e], ey1[e])
        if inside and m < len(out):
            out[m] = ent_zone[j]
            m += 1
    return m


@numba.njit(cache=True, inline="always")
def first_zone_in_cell(x, y, c, g):
    """The first zone (in the cell's entry order) holding a point known to be in
    subcell ``c``, or -1: :func:`zones_in_cell`'s first answer, without
    testing the entries after it."""
    top_off, top_n, ent_ptr, ent_zone, ent_state, ent_e0, ent_e1, cell_edges, cell_pure, refx, refy, ex0, ey0, ex1, ey1 = g
    rx, ry = refx[c], refy[c]
    for j in range(ent_ptr[c], ent_ptr[c + 1]):
        st = ent_state[j]
        inside = st != 0
        if st != 2:
            for q in range(ent_e0[j], ent_e1[j]):
                e = cell_edges[q]
                inside ^= _crosses(rx, ry, x, y, ex0[e], ey0[e], ex1[e], ey1[e])
        if inside:
            return ent_zone[j]
    return -1


# a point this far (degrees) inside the box of the last edge-free subcell is
# in that subcell: far above the rounding of the box and of cell_of
_INNER = 1e-9


@numba.njit(cache=True, nogil=True)
def classify(lon, lat, g, result):
    """First zone containing each point (-1 for none) into ``result``.

    While points stay well inside one edge-free subcell they reuse its answer
    after four comparisons (no cell lookup): on tracks in time order most
    fixes take that path.
    """
    g = borrow_grid(g)
    lon, lat, result = borrow(lon), borrow(lat), borrow(result)
    top_off, top_n, ent_ptr, ent_zone, ent_state, ent_e0, ent_e1, cell_edges, cell_pure, refx, refy, ex0, ey0, ex1, ey1 = g
    bx0, by0, bx1, by1 = np.inf, np.inf, -np.inf, -np.inf  # inner box of the last edge-free subcell
    last = -1
    for i in range(len(lon)):
        x, y = lon[i], lat[i]
        if bx0 < x < bx1 and by0 < y < by1:
            result[i] = last
            continue
        c, cx, cy, h = cell_box(x, y, top_off, top_n, RES)
        if cell_pure[c]:
            last = ent_zone[ent_ptr[c]] if ent_ptr[c + 1] > ent_ptr[c] else -1
            bx0, by0, bx1, by1 = cx + _INNER, cy + _INNER, cx + h - _INNER, cy + h - _INNER
            result[i] = last
            continue
        bx0, by0, bx1, by1 = np.inf, np.inf, -np.inf, -np.inf
        result[i] = first_zone_in_cell(x, y, c, g)


@numba.njit(cache=True, inline="always")
def _vertical(z, f0, f1, m0, m1, zlo, zup, zlo_kind, zup_kind):
    """Sub-interval [v0, v1] of [0, 1] within zone z's band; v0 > v1 if none."""
    v0, v1 = 0.0, 1.0
    for which in range(2):
        kind = zlo_kind[z] if which == 0 else zup_kind[z]
        if kind == OPEN:
            continue
        if kind == BARO:
            h0, h1 = f0, f1
        else:
            h0, h1 = m0, m1
        if np.isnan(h0) or np.isnan(h1):
            return 1.0, 0.0
        lim = zlo[z] if which == 0 else zup[z]
        d = h1 - h0
        # lower: h(t) >= lim ; upper: h(t) <= lim  (as -h(t) >= -lim)
        if which == 1:
            h0, d, lim = -h0, -d, -lim
        if d == 0.0:
            if h0 < lim:
                return 1.0, 0.0
        elif d > 0.0:
            v0 = max(v0, (lim - h0) / d)
        else:
            v1 = min(v1, (lim - h0) / d)
    return v0, v1


@numba.njit(cache=True)
def _grown(a, n, m):
    """A larger copy of ``a`` (room for at least ``m``) keeping its first ``n`` values."""
    b = np.empty(max(2 * len(a), m + 16), a.dtype)
    b[:n] = a[:n]
    return b


@numba.njit(cache=True)
def _grown_rows(a, n, m):
    """:func:`_grown` for a 2-d array (rows)."""
    b = np.empty((max(2 * a.shape[0], m + 16), a.shape[1]), a.dtype)
    b[:n] = a[:n]
    return b


@numba.njit(cache=True, inline="always")
def _sweep_piece(px, py, qx, qy, from_start, g, zbuf, cbuf_e, cbuf_z, cbuf_u, cellbuf):
    """Lateral state of one straight piece p->q.

    Returns ``(nz, nc, ncell)``: zbuf[:nz] are the zones inside at the known
    end (p if ``from_start`` else q) and cbuf_*[:nc] the (edge, zone, u)
    crossings, one per edge, sorted by zone, then u, then edge.  The buffers
    are never grown here: when the piece meets more cells than ``cellbuf``
    holds (``ncell > len(cellbuf)``) or crosses more edges than ``cbuf_*``
    hold (``nc > len(cbuf_u)``) the caller grows them and calls again.
    """
    top_off, top_n, ent_ptr, ent_zone, ent_state, ent_e0, ent_e1, cell_edges, cell_pure, refx, refy, ex0, ey0, ex1, ey1 = g
    if from_start:
        nz = zones_at(px, py, g, zbuf)
    else:
        nz = zones_at(qx, qy, g, zbuf)
    ncell = cells_into(
        min(px, qx) - EPS, min(py, qy) - EPS, max(px, qx) + EPS, max(py, qy) + EPS, top_off, top_n, RES, cellbuf
    )
    if ncell > len(cellbuf):
        return nz, 0, ncell
    cap = len(cbuf_u)
    nc = 0
    for ci in range(ncell):
        c = cellbuf[ci]
        if cell_pure[c]:
            continue
        for j in range(ent_ptr[c], ent_ptr[c + 1]):
            if ent_state[j] == 2:
                continue
            z = ent_zone[j]
            for q in range(ent_e0[j], ent_e1[j]):
                e = cell_edges[q]
                u = _cross_u(px, py, qx, qy, ex0[e], ey0[e], ex1[e], ey1[e])
                if u >= 0.0:
                    if nc < cap:
                        cbuf_e[nc] = e
                        cbuf_z[nc] = z
                        cbuf_u[nc] = u
                    nc += 1
    if nc > cap:
        return nz, nc, ncell
    # order by (zone, u, edge): insertion sort, in place (crossings come
    # grouped by zone from each cell, so this is close to linear)
    for i in range(1, nc):
        e, z, u = cbuf_e[i], cbuf_z[i], cbuf_u[i]
        k = i - 1
        while k >= 0 and (
            cbuf_z[k] > z or (cbuf_z[k] == z and (cbuf_u[k] > u or (cbuf_u[k] == u and cbuf_e[k] > e)))
        ):
            cbuf_e[k + 1], cbuf_z[k + 1], cbuf_u[k + 1] = cbuf_e[k], cbuf_z[k], cbuf_u[k]
            k -= 1
        cbuf_e[k + 1], cbuf_z[k + 1], cbuf_u[k + 1] = e, z, u
    if ncell > 1:
        # one crossing per edge: an edge registered in several cells is seen
        # once per cell, always with the same u, so its copies are adjacent
        k = 0
        for i in range(nc):
            if i == 0 or cbuf_e[i] != cbuf_e[k - 1]:
                cbuf_e[k], cbuf_z[k], cbuf_u[k] = cbuf_e[i], cbuf_z[i], cbuf_u[i]
                k += 1
        nc = k
    return nz, nc, ncell


@numba.njit(cache=True, inline="always")
def _lateral_intervals(nz, zbuf, nc, cbuf_z, cbuf_u, from_start, ta, tb, iv_z, iv_s, iv_e, n_iv):
    """Append the inside intervals (segment parameter) of one piece; return
    the new count.  The caller makes room for ``nz + 2 * nc + 1`` more.

    Zones concerned: those inside at the known end (``zbuf``) and those
    crossed (``cbuf``, sorted by zone); no allocation on this hot path.
    """
    # zones inside at the known end
    for i in range(nz):
        z = zbuf[i]
        c0 = 0
        while c0 < nc and cbuf_z[c0] != z:
            c0 += 1
        c1 = c0
        while c1 < nc and cbuf_z[c1] == z:
            c1 += 1
        n_iv = _zone_intervals(z, True, c0, c1, cbuf_u, from_start, ta, tb, iv_z, iv_s, iv_e, n_iv)
    # zones crossed but outside at the known end
    c0 = 0
    while c0 < nc:
        z = cbuf_z[c0]
        c1 = c0
        while c1 < nc and cbuf_z[c1] == z:
            c1 += 1
        known = False
        for i in range(nz):
            if zbuf[i] == z:
                known = True
        if not known:
            n_iv = _zone_intervals(z, False, c0, c1, cbuf_u, from_start, ta, tb, iv_z, iv_s, iv_e, n_iv)
        c0 = c1
    return n_iv


@numba.njit(cache=True, inline="always")
def _zone_intervals(z, known, c0, c1, cbuf_u, from_start, ta, tb, iv_z, iv_s, iv_e, n_iv):
    """Intervals of one zone on a piece, from its state at the known end and
    its crossings ``cbuf_u[c0:c1]`` (sorted)."""
    ncz = c1 - c0
    state = known if from_start else (known != (ncz % 2 == 1))
    span = tb - ta
    u_prev = 0.0
    for k in range(ncz + 1):
        u = cbuf_u[c0 + k] if k < ncz else 1.0
        if state and u > u_prev:
            iv_z[n_iv] = z
            iv_s[n_iv] = ta + u_prev * span if u_prev > 0.0 else ta
            iv_e[n_iv] = ta + u * span if u < 1.0 else tb
            n_iv += 1
        state = not state
        u_prev = u
    return n_iv


@numba.njit(cache=True, inline="always")
def _same_pure_cells(x0, y0, x1, y1, c0, g, cellbuf):
    """True when every cell the segment's box meets is edge-free and lists
    the same zones as ``c0`` (so nothing is crossed between them)."""
    top_off, top_n, ent_ptr, ent_zone, ent_state, ent_e0, ent_e1, cell_edges, cell_pure, refx, refy, ex0, ey0, ex1, ey1 = g
    ncell = cells_into(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1), top_off, top_n, RES, cellbuf)
    if ncell > len(cellbuf):
        return False
    n0 = ent_ptr[c0 + 1] - ent_ptr[c0]
    for k in range(ncell):
        c = cellbuf[k]
        if not cell_pure[c] or ent_ptr[c + 1] - ent_ptr[c] != n0:
            return False
        for j in range(n0):
            if ent_zone[ent_ptr[c] + j] != ent_zone[ent_ptr[c0] + j]:
                return False
    return True


@numba.njit(cache=True, inline="always")
def _emit(oi, of, n, track, zone, s0, t0, s1, t1, b0, b1):
    """Write episode ``n`` (the caller made room); return the new count."""
    oi[n, 0], oi[n, 1], oi[n, 2], oi[n, 3], oi[n, 4], oi[n, 5] = track, zone, s0, s1, b0, b1
    of[n, 0], of[n, 1] = t0, t1
    return n + 1


@numba.njit(cache=True, inline="always")
def _drop(op_i, op_t, op_seen, r, nop):
    """Remove open episode r (swap with the last); return the new count."""
    nop -= 1
    op_i[r, 0], op_i[r, 1], op_i[r, 2] = op_i[nop, 0], op_i[nop, 1], op_i[nop, 2]
    op_t[r], op_seen[r] = op_t[nop], op_seen[nop]
    return nop


@numba.njit(cache=True, nogil=True)
def detect_kernel(lon, lat, alt_fl, alt_msl, start, g, zlo, zup, zlo_kind, zup_kind):
    """Episodes of every track in every zone.

    Returns ``(oi, of)``: int64 rows (track, zone, seg0, seg1, entry_observed,
    exit_observed) and float64 rows (t0, t1).  An episode runs from position
    (seg0, t0) to (seg1, t1) of its track's fixes.

    Every array handed to a helper is a view from :func:`borrow` (no reference
    counting per call).  Arguments are alive for the whole call; the buffers
    allocated here are owned by the ``*_own`` variables, which are used once
    more at the end (``alive``) so that they outlive their views, and are
    only grown here, with their views taken again.
    """
    g = borrow_grid(g)
    top_off, top_n, ent_ptr, ent_zone, ent_state, ent_e0, ent_e1, cell_edges, cell_pure, refx, refy, ex0, ey0, ex1, ey1 = g
    lon, lat, alt_fl, alt_msl, start = borrow(lon), borrow(lat), borrow(alt_fl), borrow(alt_msl), borrow(start)
    zlo, zup, zlo_kind, zup_kind = borrow(zlo), borrow(zup), borrow(zlo_kind), borrow(zup_kind)
    oi_own = np.empty((1024, 6), np.int64)
    of_own = np.empty((1024, 2), np.float64)
    oi, of = borrow(oi_own), borrow(of_own)
    nep = 0
    # episodes open on the current track: (zone, seg0, entry_observed), t0
    maxz = _max_overlap(ent_ptr)  # no point is in more zones than its cell lists
    op_i_own = np.empty((maxz, 3), np.int64)
    op_t_own = np.empty(maxz, np.float64)
    op_seen_own = np.empty(maxz, np.bool_)
    zbuf_own = np.empty(maxz, np.int32)
    op_i, op_t, op_seen, zbuf = borrow(op_i_own), borrow(op_t_own), borrow(op_seen_own), borrow(zbuf_own)
    cbuf_e_own = np.empty(256, np.int64)
    cbuf_z_own = np.empty(256, np.int32)
    cbuf_u_own = np.empty(256, np.float64)
    cellbuf_own = np.empty(256, np.int64)
    cbuf_e, cbuf_z, cbuf_u, cellbuf = borrow(cbuf_e_own), borrow(cbuf_z_own), borrow(cbuf_u_own), borrow(cellbuf_own)
    iv_z_own = np.empty(max(64, 2 * maxz), np.int32)
    iv_s_own = np.empty(max(64, 2 * maxz), np.float64)
    iv_e_own = np.empty(max(64, 2 * maxz), np.float64)
    iv_z, iv_s, iv_e = borrow(iv_z_own), borrow(iv_s_own), borrow(iv_e_own)
    for k in range(len(start) - 1):
        a, b = start[k], start[k + 1]
        if nep + maxz > oi.shape[0]:  # room for every episode this track can close at once
            oi_own = _grown_rows(oi_own, nep, nep + maxz)
            of_own = _grown_rows(of_own, nep, nep + maxz)
            oi, of = borrow(oi_own), borrow(of_own)
        if b - a == 1:  # a lone fix: a zero-length episode in each zone holding it
            nz = zones_at(lon[a], lat[a], g, zbuf)
            for i in range(nz):
                z = zbuf[i]
                v0, v1 = _vertical(z, alt_fl[a], alt_fl[a], alt_msl[a], alt_msl[a], zlo, zup, zlo_kind, zup_kind)
                if v0 <= v1:
                    nep = _emit(oi, of, nep, k, z, a, 0.0, a, 0.0, 0, 0)
            continue
        nop = 0
        for i in range(a, b - 1):
            x0, y0, x1, y1 = lon[i], lat[i], lon[i + 1], lat[i + 1]
            dx = x1 - x0
            if dx > 180.0:
                x1 -= 360.0
            elif dx < -180.0:
                x1 += 360.0
            n_iv = 0
            c0 = cell_of(x0, y0, top_off, top_n, RES)
            fast = False
            if -180.0 <= x1 <= 180.0 and cell_pure[c0]:
                c1 = cell_of(x1, y1, top_off, top_n, RES)
                fast = c1 == c0 or (cell_pure[c1] and _same_pure_cells(x0, y0, x1, y1, c0, g, cellbuf))
            if fast:
                # fast path: the segment meets only edge-free cells covered by the same zones
                for j in range(ent_ptr[c0], ent_ptr[c0 + 1]):
                    iv_z[n_iv] = ent_zone[j]
                    iv_s[n_iv] = 0.0
                    iv_e[n_iv] = 1.0
                    n_iv += 1
            else:
                # one piece, or two across the antimeridian, each anchored at its real fix
                npieces = 1 if -180.0 <= x1 <= 180.0 else 2
                bound = 180.0 if x1 > 180.0 else -180.0
                tc = (bound - x0) / (x1 - x0) if npieces == 2 else 1.0
                yc = y0 + tc * (y1 - y0)
                for piece in range(npieces):
                    if npieces == 1:
                        px, py, qx, qy, from_start, ta, tb = x0, y0, x1, y1, True, 0.0, 1.0
                    elif piece == 0:
                        px, py, qx, qy, from_start, ta, tb = x0, y0, bound, yc, True, 0.0, tc
                    else:
                        px, py, qx, qy, from_start, ta, tb = -bound, yc, x1 - 2.0 * bound, y1, False, tc, 1.0
                    while True:
                        nz, nc, ncell = _sweep_piece(px, py, qx, qy, from_start, g, zbuf, cbuf_e, cbuf_z, cbuf_u, cellbuf)
                        if ncell > len(cellbuf):
                            cellbuf_own = np.empty(2 * ncell, np.int64)
                            cellbuf = borrow(cellbuf_own)
                        elif nc > len(cbuf_u):
                            cbuf_e_own = np.empty(2 * nc, np.int64)
                            cbuf_z_own = np.empty(2 * nc, np.int32)
                            cbuf_u_own = np.empty(2 * nc, np.float64)
                            cbuf_e, cbuf_z, cbuf_u = borrow(cbuf_e_own), borrow(cbuf_z_own), borrow(cbuf_u_own)
                        else:
                            break
                    if n_iv + nz + 2 * nc + 1 > len(iv_s):
                        iv_z_own = _grown(iv_z_own, n_iv, n_iv + nz + 2 * nc + 1)
                        iv_s_own = _grown(iv_s_own, n_iv, n_iv + nz + 2 * nc + 1)
                        iv_e_own = _grown(iv_e_own, n_iv, n_iv + nz + 2 * nc + 1)
                        iv_z, iv_s, iv_e = borrow(iv_z_own), borrow(iv_s_own), borrow(iv_e_own)
                    n_iv = _lateral_intervals(nz, zbuf, nc, cbuf_z, cbuf_u, from_start, ta, tb, iv_z, iv_s, iv_e, n_iv)
                if npieces == 2:
                    n_iv = _join_touching(iv_z, iv_s, iv_e, n_iv)
            # room for every episode this segment can close: two per interval, one per open episode
            if nep + 2 * n_iv + nop + maxz > oi.shape[0]:
                oi_own = _grown_rows(oi_own, nep, nep + 2 * n_iv + nop + maxz)
                of_own = _grown_rows(of_own, nep, nep + 2 * n_iv + nop + maxz)
                oi, of = borrow(oi_own), borrow(of_own)
            # vertical band, then merge with the open episodes
            for r in range(nop):
                op_seen[r] = False
            for q in range(n_iv):
                z = iv_z[q]
                v0, v1 = _vertical(z, alt_fl[i], alt_fl[i + 1], alt_msl[i], alt_msl[i + 1], zlo, zup, zlo_kind, zup_kind)
                s = max(iv_s[q], v0)
                e = min(iv_e[q], v1)
                if not (s < e):
                    continue
                o = -1
                for r in range(nop):
                    if op_i[r, 0] == z:
                        o = r
                if o >= 0 and s == 0.0:
                    op_seen[o] = True  # goes on from the previous segment
                else:
                    if o >= 0:  # left at fix i, back in later on this segment
                        nep = _emit(oi, of, nep, k, z, op_i[o, 1], op_t[o], i, 0.0, op_i[o, 2], 1)
                        nop = _drop(op_i, op_t, op_seen, o, nop)
                    o = nop
                    op_i[o, 0], op_i[o, 1], op_i[o, 2] = z, i, 0 if (i == a and s == 0.0) else 1
                    op_t[o], op_seen[o] = s, True
                    nop += 1
                if e < 1.0:
                    nep = _emit(oi, of, nep, k, z, op_i[o, 1], op_t[o], i, e, op_i[o, 2], 1)
                    nop = _drop(op_i, op_t, op_seen, o, nop)
            r = 0
            while r < nop:
                if op_seen[r]:
                    r += 1
                else:  # no longer inside from fix i on
                    nep = _emit(oi, of, nep, k, op_i[r, 0], op_i[r, 1], op_t[r], i, 0.0, op_i[r, 2], 1)
                    nop = _drop(op_i, op_t, op_seen, r, nop)
        for r in range(nop):  # still inside at the track's last fix
            nep = _emit(oi, of, nep, k, op_i[r, 0], op_i[r, 1], op_t[r], b - 2, 1.0, op_i[r, 2], 0)
    result = oi_own[:nep].copy(), of_own[:nep].copy()
    alive(op_i_own, op_t_own, op_seen_own, zbuf_own, cbuf_e_own, cbuf_z_own, cbuf_u_own, cellbuf_own)
    alive(iv_z_own, iv_s_own, iv_e_own, oi_own, of_own)
    return result


@numba.njit(cache=True)
def _join_touching(iv_z, iv_s, iv_e, n_iv):
    """Sort intervals by zone and start, joining those that touch."""
    if n_iv < 2:
        return n_iv
    key = iv_z[:n_iv].astype(np.float64) * 4.0 + iv_s[:n_iv]
    order = np.argsort(key, kind="mergesort")
    iz, js, je = iv_z[:n_iv][order], iv_s[:n_iv][order], iv_e[:n_iv][order]
    m = 0
    for q in range(n_iv):
        if m > 0 and iz[q] == iv_z[m - 1] and js[q] <= iv_e[m - 1]:
            iv_e[m - 1] = max(iv_e[m - 1], je[q])
        else:
            iv_z[m], iv_s[m], iv_e[m] = iz[q], js[q], je[q]
            m += 1
    return m


def crossings(lon, lat, alt_fl, alt_msl, start, index, n_threads: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`detect_kernel` over the tracks bounded by ``start`` against a zone
    index (``engine._index.ZoneIndex``), on ``n_threads`` threads given ranges of
    tracks with about equal fixes; the rows of every range, in track order."""

    def run(k0: int, k1: int):
        oi, of = detect_kernel(lon, lat, alt_fl, alt_msl, start[k0 : k1 + 1],
                               index.grid, index.zlo, index.zup, index.zlo_kind, index.zup_kind)  # fmt: skip
        oi[:, 0] += k0
        return oi, of

    parts = pool_ranges(run, row_shares(start, n_threads))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
