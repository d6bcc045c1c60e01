"""Flights: which aircraft flies which route when, and with which profile.

A *slot* is one aircraft flying legs back to back: it lands, turns round on
the ground for 35 to 90 minutes (no fixes; real feeds lose most aircraft on
the ground too) and leaves again from the airport it landed at.  At the start
of the window every slot is at a random point of its current leg or
turnaround, so the number airborne is about the same at every moment (no
day/night cycle).  The number of slots is chosen so that on average
``aircraft`` of them are airborne.

Routes: the origin of a slot's first leg is drawn by airport weight
(:mod:`._airports`); every leg then draws a stage length and flies to an
airport at about that great-circle distance (within 12 %, widened if none),
drawn by weight among those.  Stage lengths follow a log-normal distribution
(median 800 km, sigma 0.75, 150 to 5,000 km; about 45 % of flights under
800 km, 85 % under 2,000 km), and from airports named ``International`` 12 %
of legs are long haul (median 7,500 km, sigma 0.3, 3,500 to 15,500 km)
between international airports only.  This follows the shape of the real
stage-length distribution of scheduled flights: mostly short and medium
haul, a few percent long haul.

Profiles, per leg (SI units): an aircraft class from the stage length
(turboprop for half the legs under 600 km, wide-body above 4,500 km, else
narrow-body), a cruise true airspeed and level for the class, a wind
component along the track (normal, sigma 12 m/s), a climb at 1,500-3,000
ft/min on average and a descent at 1,200-2,200 ft/min.  The cruise level is
lowered on short legs so that climb and descent use at most 85 % of the
route, and rounded down to the semicircular rule (odd thousands of feet
eastbound, even westbound, from the initial great-circle bearing).  Climb
and descent rates are highest at the bottom of the climb and the top of the
descent (1.4 times the average) and lowest near the level (0.6 times);
speed grows linearly in time from lift-off to cruise and falls from cruise to
touchdown.  The route is the WGS84 geodesic (pyproj), sampled every 50 km.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from ._airports import Airports

FT = 0.3048
FPM = FT / 60.0
EARTH_R = 6_371_008.8
TURN_MIN_S, TURN_MAX_S = 35 * 60, 90 * 60
WAYPOINT_SPACING_M = 50_000.0

# class: turboprop, narrow-body, wide-body
TAS = ((130.0, 150.0), (220.0, 235.0), (240.0, 255.0))  # m/s
LEVEL_FT = ((17_000, 25_000), (33_000, 39_000), (35_000, 41_000))
CLIMB_FPM = ((1_500, 2_000), (2_000, 3_000), (2_000, 3_000))
DESCENT_FPM = ((1_200, 1_800), (1_500, 2_200), (1_500, 2_200))
LIFTOFF = (55.0, 80.0, 85.0)  # m/s
TOUCHDOWN = (50.0, 72.0, 75.0)


@dataclass
class Legs:
    """Legs sorted by departure time; times in seconds since the epoch, SI units."""

    id: np.ndarray  # int64 serial number of the leg (creation order; seeds its per-fix noise)
    slot: np.ndarray  # int64
    origin: np.ndarray  # int64 airport index
    dest: np.ndarray
    dep: np.ndarray  # float64 s
    arr: np.ndarray
    length: np.ndarray  # m, geodesic
    cls: np.ndarray  # int8
    # profile (float64): phase durations, speeds (ground), heights
    t_climb: np.ndarray
    t_cruise: np.ndarray
    t_descent: np.ndarray
    v0: np.ndarray
    vcr: np.ndarray
    vl: np.ndarray
    h0: np.ndarray
    hcr: np.ndarray
    h1: np.ndarray
    geo_ratio: np.ndarray  # geometric / pressure altitude above the field
    number: np.ndarray  # int32 flight number
    squawk: np.ndarray  # int32 (octal digits as a decimal number, e.g. 2143)
    # waypoints: leg i uses wp_start[i] .. wp_start[i] + wp_n[i]
    wp_start: np.ndarray
    wp_n: np.ndarray
    wp_step: np.ndarray  # m between waypoints of the leg
    wp_xyz: np.ndarray  # (n, 3) unit vectors
    wp_az: np.ndarray  # forward azimuth at each waypoint, degrees

    def __len__(self) -> int:
        return len(self.dep)

    def take(self, idx) -> "Legs":
        """A subset (waypoints shared)."""
        kw = {k: (v if k in ("wp_xyz", "wp_az") else v[idx]) for k, v in self.__dict__.items()}
        return Legs(**kw)


def stage_lengths(rng: np.random.Generator, n: int, international: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stage lengths (m) and whether each is long haul, for origins of ``international`` class."""
    short = np.exp(rng.normal(math.log(800e3), 0.75, n))
    # redraw out-of-range values once, clip the rest (keeps the shape, bounded)
    bad = (short < 150e3) | (short > 5_000e3)
    short[bad] = np.exp(rng.normal(math.log(800e3), 0.75, int(bad.sum())))
    short = np.clip(short, 150e3, 5_000e3)
    long = np.clip(np.exp(rng.normal(math.log(7_500e3), 0.3, n)), 3_500e3, 15_500e3)
    is_long = international & (rng.random(n) < 0.12)
    return np.where(is_long, long, short), is_long


@numba.njit(cache=True, nogil=True)
def _pick_dest(origin, dist, need_intl, u, xyz, lat, weight, intl, dest):
    """For each leg: an airport at about ``dist`` (m) from ``origin``, drawn by weight.

    Airports are sorted by latitude, so only the band of latitudes the annulus
    can reach is scanned (a great-circle angle is at least the latitude difference).
    """
    n_ap = xyz.shape[0]
    cum = np.empty(n_ap)
    idx = np.empty(n_ap, np.int64)
    for i in range(len(origin)):
        o = origin[i]
        ox, oy, oz = xyz[o, 0], xyz[o, 1], xyz[o, 2]
        width = 0.12
        chosen = -1
        for _ in range(6):
            lo = min(dist[i] * (1.0 - width), 19_000e3) / EARTH_R
            hi = min(dist[i] * (1.0 + width), 20_000e3) / EARTH_R
            cmax = math.cos(lo)
            cmin = math.cos(min(hi, math.pi))
            band = math.degrees(hi) + 1e-6
            j0 = np.searchsorted(lat, lat[o] - band)
            j1 = np.searchsorted(lat, lat[o] + band, side="right")
            m = 0
            tot = 0.0
            for j in range(j0, j1):
                if j == o or (need_intl[i] and not intl[j]):
                    continue
                c = ox * xyz[j, 0] + oy * xyz[j, 1] + oz * xyz[j, 2]
                if cmin <= c <= cmax:
                    tot += weight[j]
                    cum[m] = tot
                    idx[m] = j
                    m += 1
            if m > 0:
                k = np.searchsorted(cum[:m], u[i] * tot)
                chosen = idx[min(k, m - 1)]
                break
            width *= 2.0
        if chosen < 0:  # isolated: the heaviest other airport
            best = -1.0
            for j in range(n_ap):
                if j != o and weight[j] > best:
                    best = weight[j]
                    chosen = j
        dest[i] = chosen


def _draw_route(rng, airports: Airports, origin: np.ndarray, stage=None):
    """Destinations for legs leaving ``origin`` (``stage``: drawn stage lengths and long-haul flags)."""
    dist, is_long = stage if stage is not None else stage_lengths(rng, len(origin), airports.international[origin])
    u = rng.random(len(origin))
    dest = np.empty(len(origin), np.int64)
    _pick_dest(origin, dist, is_long, u, airports.xyz, airports.lat, airports.weight, airports.international, dest)
    return dest


def _profiles(rng, airports: Airports, origin, dest, length, az12):
    """Profile parameters for legs (vectorised)."""
    n = len(origin)
    u = lambda lohi: rng.uniform(lohi[:, 0], lohi[:, 1])  # noqa: E731
    cls = np.where(length > 4_500e3, 2, np.where((length < 600e3) & (rng.random(n) < 0.5), 0, 1)).astype(np.int8)
    tas = u(np.array(TAS)[cls])
    wind = rng.normal(0.0, 12.0, n)
    vcr = np.maximum(tas + wind, 0.7 * tas)
    level_ft = u(np.array(LEVEL_FT, float)[cls])
    rc = u(np.array(CLIMB_FPM, float)[cls]) * FPM
    rd = u(np.array(DESCENT_FPM, float)[cls]) * FPM
    v0 = np.array(LIFTOFF)[cls]
    vl = np.array(TOUCHDOWN)[cls]
    h0 = airports.elevation_m[origin]
    h1 = airports.elevation_m[dest]
    # height above the mean field elevation that climb + descent may use (85 % of the route)
    k = (v0 + vcr) / (2 * rc) + (vcr + vl) / (2 * rd)
    field = np.maximum(h0, h1)
    h_max_ft = (field + 0.85 * length / k) / FT
    top_ft = np.minimum(level_ft, h_max_ft)
    thousands = np.floor(top_ft / 1000.0)
    eastbound = (az12 % 360.0) < 180.0
    wrong = (thousands % 2 == 0) == eastbound  # eastbound wants odd thousands
    thousands = np.where(wrong, thousands - 1, thousands)
    hcr = np.maximum(thousands * 1000.0 * FT, field + 1000.0 * FT)
    t_climb = (hcr - h0) / rc
    t_descent = (hcr - h1) / rd
    d_climb = t_climb * (v0 + vcr) / 2
    d_descent = t_descent * (vcr + vl) / 2
    d_cruise = np.maximum(length - d_climb - d_descent, 0.0)
    # a leg too short for its profile (rare: a low cruise level was forced): shrink the phases
    scale = np.where(d_climb + d_descent > length, length / np.maximum(d_climb + d_descent, 1.0), 1.0)
    t_climb *= scale
    t_descent *= scale
    t_cruise = d_cruise / vcr
    geo_ratio = 1.0 + rng.normal(0.02, 0.015, n)
    return dict(cls=cls, t_climb=t_climb, t_cruise=t_cruise, t_descent=t_descent, v0=v0, vcr=vcr, vl=vl,
                h0=h0, hcr=hcr, h1=h1, geo_ratio=geo_ratio)  # fmt: skip


def mean_airborne_fraction(seed: int, airports: Airports) -> tuple[float, float]:
    """(mean leg duration s, fraction of a slot's time airborne), from a pilot sample."""
    from pyproj import Geod

    rng = np.random.default_rng([seed, 7])
    n = 4000
    origin = rng.choice(len(airports), n, p=airports.weight)
    dest = _draw_route(rng, airports, origin)
    az12, _, length = Geod(ellps="WGS84").inv(airports.lon[origin], airports.lat[origin],
                                             airports.lon[dest], airports.lat[dest])  # fmt: skip
    p = _profiles(rng, airports, origin, dest, length, az12)
    dur = p["t_climb"] + p["t_cruise"] + p["t_descent"]
    turn = (TURN_MIN_S + TURN_MAX_S) / 2
    return float(dur.mean()), float(dur.mean() / (dur.mean() + turn))


class Planner:
    """Legs of a fleet, produced window by window so that memory does not grow with the span.

    About ``aircraft`` legs are airborne at any moment from ``start`` on.
    :meth:`legs_before` returns every leg departing before a time that an
    earlier call did not return; each leg has a serial ``id`` in creation
    order, so what comes out does not depend on the windows asked for.
    """

    def __init__(self, airports: Airports, *, aircraft: int, start: float, seed: int):
        from pyproj import Geod

        self.airports = airports
        self.geod = Geod(ellps="WGS84")
        _, frac = mean_airborne_fraction(seed, airports)
        n_slots = max(1, int(round(aircraft / frac)))
        self.rng = np.random.default_rng([seed, 1])
        self.home = self.rng.choice(len(airports), n_slots, p=airports.weight)
        self.n_legs = 0
        self._first = self._first_cycle(start)  # legs under way at ``start``, with their turnarounds
        self.slot = np.arange(n_slots)
        self.origin = np.empty(0, np.int64)
        self.t = np.empty(0)

    def _route(self, slot, origin, stage=None):
        a = self.airports
        dest = _draw_route(self.rng, a, origin, stage)
        az12, _, length = self.geod.inv(a.lon[origin], a.lat[origin], a.lon[dest], a.lat[dest])
        p = _profiles(self.rng, a, origin, dest, length, np.asarray(az12))
        turn = self.rng.uniform(TURN_MIN_S, TURN_MAX_S, len(slot))
        return dict(slot=slot, origin=origin, dest=dest, length=np.asarray(length), az12=np.asarray(az12),
                    turn=turn, **p)  # fmt: skip

    def _first_cycle(self, start: float) -> dict:
        # The cycle (leg + turnaround) under way at ``start`` is length-biased: a random moment
        # falls in a long cycle more often.  Accept a drawn stage length with probability
        # proportional to its cycle (estimated: cruise at 220 m/s, 30 min of climb and descent
        # overhead, mean turnaround), redraw the others, then put "now" at a uniform point of
        # the cycle flown.
        a = self.airports
        n = len(self.home)
        dist, is_long = np.empty(n), np.zeros(n, bool)
        todo = np.arange(n)
        turn_mean = (TURN_MIN_S + TURN_MAX_S) / 2
        while len(todo):
            d, lh = stage_lengths(self.rng, len(todo), a.international[self.home[todo]])
            ok = self.rng.random(len(todo)) * (15_500e3 / 220 + 1800 + turn_mean) < d / 220 + 1800 + turn_mean
            dist[todo[ok]], is_long[todo[ok]] = d[ok], lh[ok]
            todo = todo[~ok]
        r = self._route(np.arange(n), self.home.copy(), (dist, is_long))
        dur = r["t_climb"] + r["t_cruise"] + r["t_descent"]
        r["dep"] = start - self.rng.random(n) * (dur + r["turn"])
        return r

    def legs_before(self, until: float) -> dict:
        """Legs (columns, see :class:`Legs`, without waypoints) departing before ``until``, not given before."""
        out = []
        if self._first is not None:
            r, self._first = self._first, None
            out.append(self._finish(r))
            self.origin = r["dest"]
            self.t = r["dep"] + out[-1]["duration"] + r["turn"]
        while True:
            go = self.t < until
            if not go.any():
                break
            r = self._route(self.slot[go], self.origin[go])
            r["dep"] = self.t[go]
            out.append(self._finish(r))
            self.origin = self.origin.copy()
            self.origin[go] = r["dest"]
            self.t = self.t.copy()
            self.t[go] = r["dep"] + out[-1]["duration"] + r["turn"]
        if not out:
            return {}
        cat = {k: np.concatenate([o[k] for o in out]) for k in out[0]}
        order = np.lexsort((cat["id"], cat["dep"]))
        return {k: v[order] for k, v in cat.items()}

    def _finish(self, r: dict) -> dict:
        n = len(r["slot"])
        r = dict(r)
        r["duration"] = r["t_climb"] + r["t_cruise"] + r["t_descent"]
        r["arr"] = r["dep"] + r["duration"]
        r["id"] = np.arange(self.n_legs, self.n_legs + n, dtype=np.int64)
        self.n_legs += n
        r["number"] = self.rng.integers(1, 10_000, n).astype(np.int32)
        r["squawk"] = _squawks(self.rng, n)
        return r

    def legs(self, cols: dict) -> Legs:
        """:class:`Legs` with waypoints, from columns of :meth:`legs_before` (or a concatenation of them)."""
        keep = {k: v for k, v in cols.items() if k not in ("az12", "turn", "duration")}
        wp = _waypoints(self.geod, self.airports, cols["origin"], cols["length"], cols["az12"])
        return Legs(**keep, **wp)


def plan(airports: Airports, *, aircraft: int, start: float, end: float, seed: int) -> tuple[Legs, np.ndarray]:
    """All legs airborne at some moment of [start, end), and the slot -> home airport map."""
    planner = Planner(airports, aircraft=aircraft, start=start, seed=seed)
    cols = planner.legs_before(end)
    keep = np.flatnonzero(cols["arr"] > start)
    return planner.legs({k: v[keep] for k, v in cols.items()}), planner.home


def _squawks(rng, n: int) -> np.ndarray:
    """Discrete 4-digit octal codes, never 7500/7600/7700 or 0000/1200/2000/7000."""
    digits = rng.integers(0, 8, (n, 4))
    digits[:, 0] = rng.integers(1, 7, n)  # 1xxx .. 6xxx
    code = (digits * np.array([1000, 100, 10, 1])).sum(axis=1)
    code = np.where(np.isin(code, (1200, 2000)), code + 1, code)
    return code.astype(np.int32)


def _waypoints(geod, airports: Airports, origin, length, az12) -> dict:
    """Points every <= 50 km along each leg's geodesic, with the forward azimuth there."""
    n = np.maximum(np.ceil(length / WAYPOINT_SPACING_M).astype(np.int64), 1) + 1
    start = np.zeros(len(n), np.int64)
    np.cumsum(n[:-1], out=start[1:])
    total = int(n.sum())
    leg = np.repeat(np.arange(len(n)), n)
    k = np.arange(total) - start[leg]
    step = length / (n - 1)
    lon, lat, baz = geod.fwd(airports.lon[origin][leg], airports.lat[origin][leg], az12[leg], k * step[leg])
    az = np.mod(np.asarray(baz) + 180.0, 360.0)
    la, lo = np.radians(lat), np.radians(lon)
    xyz = np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=1)
    return dict(wp_start=start, wp_n=n, wp_step=step, wp_xyz=np.ascontiguousarray(xyz), wp_az=az)
