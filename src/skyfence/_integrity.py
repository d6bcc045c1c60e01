"""Per-fix integrity flags: can this position be trusted?

Surveillance data lies: GNSS spoofing and jamming, stale (frozen) positions,
time glitches, CPR decoding errors, altitude decoding errors.  Each fix gets a
bitmask of reasons (``FLAGS``); an episode is ``suspect`` when its entry fix,
or half of its fixes, are flagged (see :func:`episode_flags`).

All checks look at one aircraft's fixes in time order (the prepared tracks,
sorted and without duplicate times), never across aircraft, and look back a
bounded number of fixes (``LOOK_BACK``), so the same kernel can run on a live
feed with per-aircraft state.  Gaps longer than ``max_gap`` split tracks for
the crossing engine but not here: an impossible displacement stays impossible
across a gap.

Thresholds (module constants, documented in the README section "Data
integrity"):

- ``speed``: the distance between two consecutive fixes exceeds
  ``V_MAX * dt + D_TOL`` (1800 kt, about Mach 3 in the stratosphere: no
  aircraft in service is faster; ``D_TOL`` = 1 km allows for timestamp
  jitter and stale positions on 1 s intervals).  Given to the later fix.
- ``jump``: a run of fixes that jumped away (``speed``) and came back: the
  fixes before and after the run are consistent with each other at
  ``V_MAX`` and closer to each other than half of either jump.  The whole
  run is flagged; the fix after the return is not.
- ``frozen``: the position repeats exactly while the reported ground speed
  says the aircraft has moved more than ``D_FROZEN`` (1 km) since the
  position last changed.
- ``velocity``: over a window of at least ``W_MIN`` (30 s, at most
  ``W_MAX`` = 60 s, not spanning a ``speed`` jump) the displacement differs
  from the reported velocity (ground speed and track, integrated by the
  trapezoidal rule) by more than ``V_REL`` (25 %) of the distance flown
  plus ``V_TOL`` (1.5 km), a repeated (stale) position counting from the
  time it was first reported (and repeats themselves left to ``frozen``);
  across a gap longer than the window, the
  displacement exceeds 1.5 times the higher reported speed times the gap.
- ``altitude``: barometric altitude changes faster than ``ALT_RATE``
  (40,000 ft/min) plus ``ALT_TOL`` (300 ft); spikes that come back flag the
  spike, not the fix after it (as for ``jump``).  Also a fix whose altitude
  lies more than ``ALT_SPIKE`` (200 ft) off the line between its neighbours
  when flying that would take more than 2 g of vertical acceleration
  (``2 |dev| / (dt1 dt2)``): Gillham and decoding noise, not flight.
- ``nic``: NIC below 6 (containment radius 0.6 NM or more, or unknown).
- ``nacp``: NACp below 7 (95 % position error 0.1 NM or more, or unknown).
- ``sil``: SIL 0 (probability of exceeding the containment radius unknown).
- ``time-order``: set by the readers: the fix's timestamp is earlier than
  that of the fix before it of the same aircraft in the file, or later than
  that of the fix after it, by more than ``TIME_ORDER_TOL`` (1 s), while
  those two neighbours are in order with each other: one fix out of place.
  A file listing an aircraft's flights in another order (blocks, each in
  order) gets no flag; a file in which more than 1 % of the fixes (and more
  than 3) are out of place is taken as unsorted, not as glitched, and gets
  no flag either.
"""

from __future__ import annotations

import math

import numba
import numpy as np

# reason codes, in bit order (bit k = 1 << k)
FLAG_NAMES = ("time-order", "speed", "jump", "frozen", "velocity", "altitude", "nic", "nacp", "sil")
FLAGS = {name: 1 << k for k, name in enumerate(FLAG_NAMES)}
TIME_ORDER, SPEED, JUMP, FROZEN, VELOCITY, ALTITUDE, NIC, NACP, SIL = (FLAGS[n] for n in FLAG_NAMES)

KT = 1852.0 / 3600.0  # m/s per knot
V_MAX = 1800.0 * KT  # m/s
D_TOL = 1000.0  # m
LOOK_BACK = 1024  # fixes
RING = 2048  # the kernel's look-back rings: a power of two above LOOK_BACK + 1
D_FROZEN = 1000.0  # m
W_MIN = 30.0  # s
W_MAX = 60.0  # s
V_REL = 0.25
V_TOL = 1500.0  # m
GAP_FACTOR = 1.5
GAP_MAX = 600.0  # s: beyond this, a gap says nothing about speed
ALT_RATE = 40000.0 / 60.0  # ft/s
ALT_TOL = 300.0  # ft
ALT_SPIKE = 200.0  # ft off the line between the neighbouring altitudes ...
ALT_ACCEL = 2.0 * 32.174  # ft/s2: ... needing more than 2 g of vertical acceleration
NIC_MIN = 6
NACP_MIN = 7
SIL_MIN = 1
TIME_ORDER_TOL = 1.0  # s
TIME_ORDER_MAX_SHARE = 0.01

R_EARTH = 6371008.8  # m, mean radius: enough for plausibility tests


# ------------------------------------------------------------------ reasons


def reasons(flags: np.ndarray) -> np.ndarray:
    """``;``-joined reason codes of each bitmask ("" for 0), as an object array."""
    flags = np.asarray(flags, dtype=np.uint16)
    values, inverse = np.unique(flags, return_inverse=True)
    names = np.array([";".join(n for n in FLAG_NAMES if int(v) & FLAGS[n]) for v in values] or [""], dtype=object)
    return names[inverse] if len(flags) else np.empty(0, object)


# ------------------------------------------------------------------ input order (readers)


@numba.njit(cache=True, nogil=True)
def _order_kernel(group, time, n_groups, tol, out):
    """Flag rows whose time is out of order with their aircraft's previous and
    next rows (file order) while those two are in order with each other.  One
    pass: a row is judged when its aircraft's next row arrives."""
    last = np.full(n_groups, -1, np.int64)  # each aircraft's last row so far
    before = np.full(n_groups, -1, np.int64)  # and the row before it
    bad = 0
    for q in range(len(time)):
        g = group[q]
        i, p = last[g], before[g]
        if p >= 0 and not time[p] > time[q] + tol:
            if time[i] < time[p] - tol or time[i] > time[q] + tol:
                out[i] = True
                bad += 1
        before[g] = i
        last[g] = q
    return bad


def input_order_flags(time: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """``TIME_ORDER`` for rows (in file order) out of time order within their aircraft.

    ``groups``: small integers per aircraft (the reader's, one per distinct
    address).  Rows with NaN times must have been removed.
    Returns uint16 flags per row; all zero when the file is not in time
    order at all (more than ``TIME_ORDER_MAX_SHARE`` of pairs inverted).
    """
    n = len(time)
    out = np.zeros(n, np.uint16)
    if n < 2:
        return out
    n_groups = int(groups.max()) + 1
    bad = np.zeros(n, bool)
    k = _order_kernel(groups, np.ascontiguousarray(time, dtype=np.float64), n_groups, TIME_ORDER_TOL, bad)
    if k and (k <= 3 or k <= TIME_ORDER_MAX_SHARE * n):
        out[bad] = TIME_ORDER
    return out


# ------------------------------------------------------------------ kinematics


@numba.njit(cache=True, nogil=True, inline="always")
def _dxy(lat, lon, clat, m, i, j):
    """East and north displacement (m) from fix ``i`` to fix ``j``,
    equirectangular with the mean of the two cosines of latitude (``clat``,
    a ring indexed ``& m``)."""
    dlon = lon[j] - lon[i]
    if dlon > 180.0:
        dlon -= 360.0
    elif dlon < -180.0:
        dlon += 360.0
    k = math.pi / 180.0 * R_EARTH
    return dlon * k * 0.5 * (clat[i & m] + clat[j & m]), (lat[j] - lat[i]) * k


@numba.njit(cache=True, nogil=True, inline="always")
def _dist(lat, lon, clat, m, i, j):
    dx, dy = _dxy(lat, lon, clat, m, i, j)
    return math.sqrt(dx * dx + dy * dy)


@numba.njit(cache=True, nogil=True, inline="always")
def _velocity(gs, trk, i):
    """Reported velocity of fix ``i`` (kt east, kt north) and whether it is known."""
    if math.isnan(gs[i]) or math.isnan(trk[i]):
        return False, 0.0, 0.0
    r = math.radians(trk[i])
    return True, gs[i] * math.sin(r), gs[i] * math.cos(r)


@numba.njit(cache=True, nogil=True, inline="always")
def _quality(nic, nacp, sil, i):
    f = 0
    if nic[i] < NIC_MIN:
        f |= NIC
    if nacp[i] < NACP_MIN:
        f |= NACP
    if sil[i] < SIL_MIN:
        f |= SIL
    return f


@numba.njit(cache=True, nogil=True)
def quality_flags(nic, nacp, sil, out):
    """OR into ``out`` each fix's quality flags (NIC, NACp, SIL): those of
    :func:`fix_flags` that depend on the fix alone, so a stream can set them
    as fixes arrive and carry one flags column instead of three indicators."""
    for i in range(len(out)):
        out[i] |= _quality(nic, nacp, sil, i)


@numba.njit(cache=True, nogil=True)
def _kernel(gstart, time, lat, lon, alt, gs, trk, quality, nic, nacp, sil, out):
    """Flags of fixes ``[gstart[0], gstart[-1])``; ``gstart`` bounds aircraft;
    NIC, NACp and SIL are looked at when ``quality``.

    One pass per aircraft, each fix looking back only, at most
    ``LOOK_BACK`` fixes: what it looks back at is kept in rings of ``RING``
    entries (fix ``i`` in slot ``i & (RING - 1)``), small enough to stay in
    the cache: ``opn`` / ``aopn`` (the step into fix i broke the
    speed / altitude-rate bound and has not been matched by a return: only
    those can open a jump-and-return run, and a return never opens one),
    ``jd`` (length of the step into fix i), ``cex``/``cey``/``cl``/``cu``
    (cumulative expected displacement east/north, expected path length and
    count of steps with unknown velocity), ``first`` (first fix of the run
    of fixes at this same position), ``aprev`` (previous fix with an
    altitude), ``clat`` (cosine of the latitude).
    """
    M = RING - 1
    opn = np.empty(RING, np.bool_)
    aopn = np.empty(RING, np.bool_)
    jd = np.empty(RING)
    cex = np.empty(RING)
    cey = np.empty(RING)
    cl = np.empty(RING)
    cu = np.empty(RING, np.int64)
    first = np.empty(RING, np.int64)
    aprev = np.empty(RING, np.int64)
    clat = np.empty(RING)
    for k in range(len(gstart) - 1):
        a, b = gstart[k], gstart[k + 1]
        if quality:
            out[a] |= _quality(nic, nacp, sil, a)
        opn[a & M] = False
        aopn[a & M] = False
        first[a & M] = a
        clat[a & M] = math.cos(math.radians(lat[a]))
        cex[a & M] = cey[a & M] = cl[a & M] = 0.0
        cu[a & M] = 0
        ok0, vx0, vy0 = _velocity(gs, trk, a)
        moved = 0.0
        j = a
        barrier = a
        p = -1  # last fix with an altitude
        pp = -1  # the one before it (p may be more than a ring back)
        vp = False  # the altitude step into p broke the rate
        if not math.isnan(alt[a]):
            aprev[a & M] = -1
            p = a
        for i in range(a + 1, b):
            if quality:
                out[i] |= _quality(nic, nacp, sil, i)
            opn[i & M] = False
            aopn[i & M] = False
            dt = time[i] - time[i - 1]
            clat[i & M] = math.cos(math.radians(lat[i]))
            # speed, jumps and returns
            d = _dist(lat, lon, clat, M, i - 1, i)
            jd[i & M] = d
            viol = d > V_MAX * dt + D_TOL
            if viol:
                barrier = i
                paired = False
                for e in range(i - 1, max(a + 1, i - LOOK_BACK) - 1, -1):
                    if not opn[e & M]:
                        continue
                    q = e - 1
                    dpq = _dist(lat, lon, clat, M, q, i)
                    if dpq <= V_MAX * (time[i] - time[q]) + D_TOL and dpq < 0.5 * min(jd[e & M], d):
                        for r in range(e, i):
                            out[r] |= JUMP
                        opn[e & M] = False
                        paired = True
                        break
                if not paired:
                    out[i] |= SPEED
                    opn[i & M] = True
            # frozen positions
            first[i & M] = i
            if lat[i] == lat[i - 1] and lon[i] == lon[i - 1]:
                first[i & M] = first[(i - 1) & M]
                v0, v1 = gs[i - 1], gs[i]
                v = 0.5 * (v0 + v1) if not (math.isnan(v0) or math.isnan(v1)) else (v1 if math.isnan(v0) else v0)
                if not math.isnan(v):
                    moved += v * KT * dt
                if moved > D_FROZEN:
                    out[i] |= FROZEN
            else:
                moved = 0.0
            # velocity consistency: expected displacement, cumulative
            ok1, vx1, vy1 = _velocity(gs, trk, i)
            if ok0 and ok1:
                ex, ey, sp = 0.5 * (vx0 + vx1), 0.5 * (vy0 + vy1), 0.5 * (gs[i - 1] + gs[i])
            elif ok0:
                ex, ey, sp = vx0, vy0, gs[i - 1]
            elif ok1:
                ex, ey, sp = vx1, vy1, gs[i]
            else:
                ex = ey = sp = 0.0
            cex[i & M] = cex[(i - 1) & M] + ex * KT * dt
            cey[i & M] = cey[(i - 1) & M] + ey * KT * dt
            cl[i & M] = cl[(i - 1) & M] + sp * KT * dt
            cu[i & M] = cu[(i - 1) & M] + (0 if (ok0 and ok1) else 1)
            ok0, vx0, vy0 = ok1, vx1, vy1
            if dt > W_MIN and dt <= GAP_MAX and not viol and not (math.isnan(gs[i - 1]) or math.isnan(gs[i])):
                if d > GAP_FACTOR * max(gs[i - 1], gs[i]) * KT * dt + D_TOL:
                    out[i] |= VELOCITY
            if j < barrier:
                j = barrier
            while j + 1 < i and time[i] - time[j + 1] >= W_MIN:
                j += 1
            # a stale position was true when it was first reported
            # (j >= barrier, so j0 <= j: from more than LOOK_BACK back it is too far either way)
            j0 = max(first[j & M], barrier) if i - j <= LOOK_BACK else j
            span = time[i] - time[j0]
            if i - j0 <= LOOK_BACK and span >= W_MIN and span <= W_MAX and cu[i & M] == cu[j0 & M] and first[i & M] == i:
                ax, ay = _dxy(lat, lon, clat, M, j0, i)
                rx = ax - (cex[i & M] - cex[j0 & M])
                ry = ay - (cey[i & M] - cey[j0 & M])
                if math.sqrt(rx * rx + ry * ry) > V_REL * (cl[i & M] - cl[j0 & M]) + V_TOL:
                    out[i] |= VELOCITY
            # altitude rate, with spikes that come back
            if math.isnan(alt[i]):
                continue
            aprev[i & M] = p
            vi = p >= 0 and abs(alt[i] - alt[p]) > ALT_RATE * (time[i] - time[p]) + ALT_TOL
            if vi:
                paired = False
                for e in range(i - 1, max(a + 1, i - LOOK_BACK) - 1, -1):
                    if not aopn[e & M]:
                        continue
                    q = aprev[e & M]
                    da = abs(alt[i] - alt[q])
                    if da <= ALT_RATE * (time[i] - time[q]) + ALT_TOL and da < 0.5 * min(
                        abs(alt[e] - alt[q]), abs(alt[i] - alt[p])
                    ):
                        for r in range(e, i):
                            out[r] |= ALTITUDE
                        aopn[e & M] = False
                        paired = True
                        break
                if not paired:
                    out[i] |= ALTITUDE
                    aopn[i & M] = True
            # the fix before: a spike no aircraft can fly (out and back)
            if p >= 0 and pp >= 0 and not (vi or vp):
                q = pp
                d1, d2 = time[p] - time[q], time[i] - time[p]
                dev = alt[p] - (alt[q] + (alt[i] - alt[q]) * d1 / (d1 + d2))
                if abs(dev) > ALT_SPIKE and 2.0 * abs(dev) / (d1 * d2) > ALT_ACCEL:
                    out[p] |= ALTITUDE
            pp = p
            p = i
            vp = vi


def aircraft_starts(icao: np.ndarray) -> np.ndarray:
    """Index of each aircraft's first fix in (icao, time) order, plus ``len``."""
    n = len(icao)
    brk = np.ones(n, bool)
    if n > 1:
        brk[1:] = icao[1:] != icao[:-1]
    return np.append(np.flatnonzero(brk), n).astype(np.int64)


def fix_flags(tracks, n_threads: int | None = None, starts: np.ndarray | None = None) -> np.ndarray:
    """uint16 flags of each fix of ``tracks`` already sorted by (icao24, time)
    without duplicate times (``prepare(...).tracks``), reader flags included.
    Each aircraft's fixes are the context of its flags, or each run of rows
    between consecutive ``starts`` when given (the stream's pieces)."""
    from .engine._threads import pool_ranges, row_shares, threads

    n = len(tracks)
    out = np.array(tracks.flags, dtype=np.uint16, copy=True)
    if n == 0:
        return out
    gstart = aircraft_starts(tracks.icao24) if starts is None else starts
    cols = (tracks.time, tracks.lat, tracks.lon, tracks.alt_baro_ft, tracks.groundspeed_kt, tracks.track_deg,
            tracks.has_quality, tracks.nic, tracks.nacp, tracks.sil)  # fmt: skip

    def run(k0: int, k1: int):
        _kernel(gstart[k0 : k1 + 1], *cols, out)

    pool_ranges(run, row_shares(gstart, n_threads or threads()))
    return out


# ------------------------------------------------------------------ episodes


@numba.njit(cache=True, nogil=True)
def _episode_kernel(flags, lo, hi, keep, out_or, out_bad):
    for j in range(len(lo)):
        f = 0
        bad = 0
        for i in range(lo[j], hi[j] + 1):
            g = flags[i] & keep[j]
            f |= g
            if g:
                bad += 1
        out_or[j] = f
        out_bad[j] = bad


def episode_flags(flags: np.ndarray, first: np.ndarray, last: np.ndarray, s0: np.ndarray,
                  vertical: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
    """Flags that make each episode ``suspect`` (0 where it is ``ok``).

    An episode rests on its fixes inside (``first`` .. ``last``); one with no
    fix inside (a clip between two fixes, on segment ``s0``) rests on the two
    fixes of that segment.  It is suspect when the first of those fixes (the
    one its entry rests on) is flagged, or when at least half of them are;
    the reasons are then the flags of all of them.  ``altitude`` counts only
    for zones with vertical limits (``vertical``, per episode; default all).
    One flagged fix in the middle of a long, otherwise clean episode does not
    make it suspect: trusted fixes place the aircraft inside.
    """
    empty = last < first
    lo = np.where(empty, s0, first).astype(np.int64)
    hi = np.where(empty, np.minimum(s0 + 1, len(flags) - 1), last).astype(np.int64)
    ne = len(lo)
    keep = np.full(ne, 0xFFFF, np.uint16)
    if vertical is not None:
        keep[~np.asarray(vertical, bool)] &= np.uint16(~ALTITUDE & 0xFFFF)
    f = np.zeros(ne, np.uint16)
    bad = np.zeros(ne, np.int64)
    if ne == 0:
        return f
    _episode_kernel(flags, lo, hi, keep, f, bad)
    entry = flags[lo] & keep
    if empty.any():
        entry[empty] |= flags[hi[empty]] & keep[empty]
    suspect = (entry != 0) | (2 * bad >= hi - lo + 1) & (bad > 0)
    return np.where(suspect, f, 0).astype(np.uint16)


# ------------------------------------------------------------------ public API


def integrity_flags(tracks, *, max_gap: float = 60.0):
    """Integrity flags of every fix, as a table.

    Parameters
    ----------
    tracks:
        Fixes of any number of aircraft (:class:`skyfence.Tracks`).
    max_gap:
        As for :func:`skyfence.detect` (fixes are sorted and de-duplicated
        the same way; the checks themselves do not stop at gaps).

    Returns
    -------
    pyarrow.Table
        One row per fix in (icao24, time) order, duplicate times removed:
        ``icao24, time, lat, lon, flags`` (uint16 bitmask, bit names in
        ``skyfence._integrity.FLAG_NAMES``) and ``integrity_reasons``
        (``;``-separated reason codes, "" when the fix is clean).
    """
    import pyarrow as pa

    from .engine._prepare import prepare

    prep = prepare(tracks, max_gap)
    tr = prep.tracks
    flags = fix_flags(tr)
    return pa.table(
        {
            "icao24": pa.array(np.char.mod("%06x", tr.icao24.astype(np.int64)), pa.string()),
            "time": pa.array(np.round(tr.time * 1e6).astype("int64"), pa.timestamp("us", tz="UTC")),
            "lat": tr.lat,
            "lon": tr.lon,
            "flags": pa.array(flags, pa.uint16()),
            "integrity_reasons": pa.array(reasons(flags), pa.string()),
        }
    )
