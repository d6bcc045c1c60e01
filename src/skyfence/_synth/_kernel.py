"""Compiled fix generation: every state vector of a block of time steps.

One row per airborne leg per time step ``T = start + k * rate`` (whole
seconds), in time order and, within a second, in leg order (legs sorted by
departure), so the output needs no sort.  All randomness per row comes from a
counter-based hash of (seed, leg, step), so a row is the same whatever the
block size or the number of threads.

A state vector says where the aircraft was at ``lastposupdate``, up to 0.9 s
before ``time`` (OpenSky's snapshot time); ``lastcontact`` lies between
the two.  Small noise: position about 2 m, velocity 0.3 m/s, heading 0.1°,
vertical rate quantised to 64 ft/min and altitudes to 25 ft as ADS-B reports
them.

With ``gap_p`` > 0, coverage gaps: a gap of 5-55 s starts in a minute of a
flight with probability ``gap_p``; during it the rows go on (as OpenSky's
state vectors do) but repeat the last position and its ``lastposupdate``.
A fraction ``g`` of the time in gaps is ``gap_p = 2 g``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

FT25 = 25 * 0.3048
FPM64 = 64 * 0.3048 / 60
M_PER_DEG = 111_195.0
SHAPE = 0.4  # climb/descent rate: 1.4 x average at the bottom of the climb and top of the descent, 0.6 x at the level
GAP_SLOT = 60.0  # s: at most one coverage gap per minute of flight; mean gap 30 s

_C1 = np.uint64(0x9E3779B97F4A7C15)
_C2 = np.uint64(0xBF58476D1CE4E5B9)
_C3 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)


@numba.njit(cache=True, inline="always")
def _mix(x):
    """splitmix64 finaliser (uint64 -> uint64)."""
    x = (x ^ (x >> _S30)) * _C2
    x = (x ^ (x >> _S27)) * _C3
    return x ^ (x >> _S31)


@numba.njit(cache=True, inline="always")
def _u16(h, i):
    """Uniform [0, 1) from 16-bit part ``i`` (0..3) of hash ``h``."""
    return float((h >> np.uint64(16 * i)) & np.uint64(0xFFFF)) * (1.0 / 65536.0)


@numba.njit(cache=True)
def row_counts(first, last, k_lo, n_steps):
    """Rows per step of the block (``first``/``last``: each leg's step range, inclusive)."""
    diff = np.zeros(n_steps + 1, np.int64)
    for j in range(len(first)):
        a = max(first[j], k_lo)
        b = min(last[j], k_lo + n_steps - 1)
        if a <= b:
            diff[a - k_lo] += 1
            diff[b - k_lo + 1] -= 1
    offsets = np.zeros(n_steps + 1, np.int64)
    run = 0
    for i in range(n_steps):
        run += diff[i]
        offsets[i + 1] = offsets[i] + run
    return offsets


@numba.njit(cache=True, nogil=True)
def fill(k_lo, n_steps, offsets, start, rate, seed, gap_p, first, last, leg_id, dep,
         t_climb, t_cruise, t_descent, v0, vcr, vl, h0, hcr, h1, geo_ratio, length,
         wp_start, wp_n, wp_step, wp_xyz, wp_az,
         o_time, o_leg, o_lat, o_lon, o_vel, o_head, o_vrate, o_ground, o_baro, o_geo, o_lpu, o_lc):  # fmt: skip
    """Write the rows of steps ``k_lo .. k_lo + n_steps - 1`` at ``offsets`` (from :func:`row_counts`)."""
    n_groups = min(n_steps, 64)  # groups of steps: each leg's state is set up once per group
    seed_u = _mix(np.uint64(seed) + _C1)
    for g in range(n_groups):
        a = k_lo + (n_steps * g) // n_groups
        b = k_lo + (n_steps * (g + 1)) // n_groups  # exclusive
        cursor = offsets[a - k_lo : b - k_lo].copy()
        for j in range(len(first)):
            ka = max(first[j], a)
            kb = min(last[j], b - 1)
            if ka > kb:
                continue
            tc, tcr, td = t_climb[j], t_cruise[j], t_descent[j]
            dur = tc + tcr + td
            d_climb = tc * (v0[j] + vcr[j]) * 0.5
            d_cruise = vcr[j] * tcr
            w0 = wp_start[j]
            nseg = wp_n[j] - 1
            step = wp_step[j]
            ground = min(h0[j], h1[j])
            leg_key = _mix(seed_u ^ (np.uint64(leg_id[j]) * _C2))
            for k in range(ka, kb + 1):
                r = cursor[k - a]
                cursor[k - a] = r + 1
                key = _mix(leg_key + np.uint64(k) * _C3)
                t_snap = start + k * rate
                # nine small uniforms from two 64-bit hashes (16 bits each are plenty for noise)
                ha = _mix(key)
                hb = _mix(key ^ _C1)
                delay = 0.9 * _u16(ha, 0)  # < 1 s: consecutive fixes never share a time
                tf = round((t_snap - delay) * 1000.0) / 1000.0
                if tf < dep[j]:
                    tf = dep[j]
                na = ha
                nb = hb
                if gap_p > 0.0:
                    # coverage gaps: each minute of the flight holds, with probability gap_p, one
                    # 5-55 s gap without position updates; rows in it repeat the last position
                    gi = math.floor((tf - dep[j]) / GAP_SLOT)
                    hg = _mix(leg_key ^ (np.uint64(gi) * _C3 + _C1))
                    if _u16(hg, 0) < gap_p:
                        glen = 5.0 + 50.0 * _u16(hg, 1)
                        gs = dep[j] + gi * GAP_SLOT + (GAP_SLOT - glen) * _u16(hg, 2)
                        gs = round(gs * 1000.0) / 1000.0
                        if gs <= tf < gs + glen and gs > dep[j]:
                            tf = gs
                            na = _mix(hg ^ _C2)  # the same noise on every row of the gap
                            nb = _mix(hg ^ _C3)
                tau = min(tf - dep[j], dur)
                # along-track distance, ground speed, height, vertical rate
                if tau < tc:
                    u = tau / tc
                    s = v0[j] * tau + (vcr[j] - v0[j]) * tau * tau / (2.0 * tc)
                    v = v0[j] + (vcr[j] - v0[j]) * u
                    h = h0[j] + (hcr[j] - h0[j]) * u * (1.0 + SHAPE * (1.0 - u))
                    vr = (hcr[j] - h0[j]) / tc * (1.0 + SHAPE * (1.0 - 2.0 * u))
                elif tau < tc + tcr:
                    s = d_climb + vcr[j] * (tau - tc)
                    v = vcr[j]
                    h = hcr[j]
                    vr = 0.0
                else:
                    x = tau - tc - tcr
                    w = x / td
                    s = d_climb + d_cruise + vcr[j] * x - (vcr[j] - vl[j]) * x * x / (2.0 * td)
                    v = vcr[j] - (vcr[j] - vl[j]) * w
                    h = hcr[j] - (hcr[j] - h1[j]) * w * (1.0 + SHAPE * (1.0 - w))
                    vr = -(hcr[j] - h1[j]) / td * (1.0 + SHAPE * (1.0 - 2.0 * w))
                s = min(max(s, 0.0), length[j])
                # position on the geodesic: between waypoints, on the great circle through them
                q = s / step
                seg = min(int(q), nseg - 1)
                f = q - seg
                p0 = w0 + seg
                x0 = wp_xyz[p0, 0] + f * (wp_xyz[p0 + 1, 0] - wp_xyz[p0, 0])
                y0 = wp_xyz[p0, 1] + f * (wp_xyz[p0 + 1, 1] - wp_xyz[p0, 1])
                z0 = wp_xyz[p0, 2] + f * (wp_xyz[p0 + 1, 2] - wp_xyz[p0, 2])
                rxy = math.sqrt(x0 * x0 + y0 * y0)
                coslat = rxy / math.sqrt(rxy * rxy + z0 * z0)
                lat = math.degrees(math.atan2(z0, rxy))
                lon = math.degrees(math.atan2(y0, x0))
                az0 = wp_az[p0]
                daz = (wp_az[p0 + 1] - az0 + 540.0) % 360.0 - 180.0
                # noise (triangular, cheap): ~2 m in position, 0.3 m/s, 0.1 deg
                n1 = _u16(na, 1) + _u16(na, 2) - 1.0
                n2 = _u16(na, 3) + _u16(nb, 0) - 1.0
                n3 = _u16(nb, 1) - 0.5
                n4 = _u16(nb, 2) - 0.5
                n5 = _u16(nb, 3) - 0.5
                lat += n1 * 3.0 / M_PER_DEG
                lon += n2 * 3.0 / (M_PER_DEG * max(coslat, 0.01))
                if lon >= 180.0:
                    lon -= 360.0
                elif lon < -180.0:
                    lon += 360.0
                o_time[r] = np.int64(t_snap)
                o_leg[r] = j
                o_lat[r] = lat
                o_lon[r] = lon
                o_vel[r] = round((v + n3) * 100.0) / 100.0
                o_head[r] = round(((az0 + f * daz + 0.2 * n4) % 360.0) * 100.0) / 100.0
                o_vrate[r] = round((vr + 0.4 * n5) / FPM64) * FPM64
                o_ground[r] = h - ground < 0.5
                o_baro[r] = round(h / FT25) * FT25
                o_geo[r] = round((h + (h - ground) * (geo_ratio[j] - 1.0)) / FT25) * FT25
                o_lpu[r] = tf
                o_lc[r] = max(round((t_snap - delay * _u16(_mix(hb), 0)) * 1000.0) / 1000.0, tf)
