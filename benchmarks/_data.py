"""Shared helpers of the benchmarks: real-like global traffic and the machine.

Traffic is made from real OpenSky trajectories (``quickstart``: 284k fixes at
1 s around Paris; ``switzerland``: 139k fixes at 10 s), deterministically:

1. read both files, give every (file, aircraft) a fresh id, sort by aircraft
   then time (one *copy* = 423,603 fixes of ~1,050 aircraft);
2. make as many copies as needed, each moved by a seeded random
   ``(dlon, dlat)``: the copy's centre lands on a random vertex of the
   ``world`` zones' boundaries (coasts and land borders, so every copy spans
   sea, coast, borders and inland), ``dlat`` clipped so that every latitude
   stays within +-80, longitudes wrapped into [-180, 180);
3. give each copy's aircraft their own 24-bit addresses (copies never share
   an aircraft) and keep aircraft/time order inside each copy, so the whole
   set is sorted by (icao24, time) as real feeds sorted by aircraft are;
4. cut to exactly ``n`` fixes (the last copy is cut short).

``spread="uniform"`` moves the copies uniformly over the globe instead
(mostly open sea, an easier case for a grid index).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SKYFENCE_SHARED", ROOT.parent / "shared"))
TRACKS_DIR = SHARED / "data" / "tracks" / "opensky"
BASE_FILES = ("quickstart", "switzerland")
LAT_MAX = 80.0


@dataclass
class Traffic:
    icao24: np.ndarray  # uint32
    time: np.ndarray  # float64 s
    lat: np.ndarray
    lon: np.ndarray
    alt_baro_ft: np.ndarray
    groundspeed_kt: np.ndarray
    track_deg: np.ndarray
    vertical_rate_fpm: np.ndarray
    callsign: np.ndarray  # int32 codes into callsigns, -1 none
    callsigns: tuple
    copy: np.ndarray  # int32 copy number of each fix
    copy_start: np.ndarray  # int64 first fix of each copy, plus n at the end
    shifts: np.ndarray  # (n_copies, 2) dlon, dlat

    def __len__(self) -> int:
        return len(self.time)

    def tracks(self):
        """As a :class:`skyfence.Tracks` table."""
        import skyfence

        return skyfence.Tracks.from_columns(
            icao24=self.icao24, time=self.time, lat=self.lat, lon=self.lon, alt_baro_ft=self.alt_baro_ft,
            groundspeed_kt=self.groundspeed_kt, track_deg=self.track_deg,
            vertical_rate_fpm=self.vertical_rate_fpm, callsign=self.callsign, callsigns=self.callsigns,
            source="benchmark",
        )  # fmt: skip


_ARRAYS = ("icao24", "time", "lat", "lon", "alt_baro_ft", "groundspeed_kt", "track_deg",
           "vertical_rate_fpm", "callsign", "copy")  # fmt: skip


def base_tracks():
    """quickstart + switzerland as one table sorted by a fresh aircraft id, then time."""
    import skyfence

    missing = [f for f in BASE_FILES if not (TRACKS_DIR / f"{f}.json.gz").exists()]
    if missing:
        raise SystemExit(f"benchmark data not found: {', '.join(missing)} under {TRACKS_DIR} "
                         "(set SKYFENCE_SHARED to the folder holding data/)")  # fmt: skip
    parts = [skyfence.read_tracks(TRACKS_DIR / f"{f}.json.gz") for f in BASE_FILES]
    ac = []
    for k, p in enumerate(parts):
        ac.append(p.icao24.astype(np.int64) * len(parts) + k)  # (address, file) -> distinct id
    t = skyfence.Tracks.concat(parts)
    ac = np.concatenate(ac)
    order = np.lexsort((t.time, ac))
    t = t.take(order)
    _, aid = np.unique(ac[order], return_inverse=True)
    return t, aid.astype(np.int64)


def boundary_vertices(zones) -> np.ndarray:
    import shapely

    return shapely.get_coordinates(np.array([z.geometry for z in zones], dtype=object))


def make_traffic(n: int, zones=None, seed: int = 20240601, spread: str = "boundary") -> Traffic:
    """``n`` real-like fixes of global traffic (see the module docstring)."""
    base, aid = base_tracks()
    nb = len(base)
    n_ac = int(aid.max()) + 1
    n_copies = max(1, -(-n // nb))
    if n_copies * n_ac >= 1 << 24:
        raise SystemExit(f"{n} fixes need more than 2**24 aircraft addresses")
    rng = np.random.default_rng(seed)
    lon0, lat0 = base.lon, base.lat
    cx = 0.5 * (lon0.min() + lon0.max())
    cy = 0.5 * (lat0.min() + lat0.max())
    dlat_lo, dlat_hi = -LAT_MAX - lat0.min(), LAT_MAX - lat0.max()
    if spread == "boundary":
        if zones is None:
            import skyfence

            zones = skyfence.read_zones("world")
        verts = boundary_vertices(zones)
        verts = verts[np.abs(verts[:, 1]) <= LAT_MAX]
        pick = verts[rng.integers(0, len(verts), n_copies)]
        dlon = pick[:, 0] - cx
        dlat = np.clip(pick[:, 1] - cy, dlat_lo, dlat_hi)
    elif spread == "uniform":
        dlon = rng.uniform(-180.0, 180.0, n_copies)
        dlat = rng.uniform(dlat_lo, dlat_hi, n_copies)
    else:
        raise ValueError(f"unknown spread {spread!r}")
    shifts = np.column_stack([dlon, dlat])

    reps = lambda a: np.tile(a, n_copies)[:n]  # noqa: E731
    copy = np.repeat(np.arange(n_copies, dtype=np.int32), nb)[:n]
    lon = reps(lon0) + dlon[copy]
    lon = (lon + 180.0) % 360.0 - 180.0
    lat = reps(lat0) + dlat[copy]
    icao = (copy.astype(np.int64) * n_ac + reps(aid) + 1).astype(np.uint32)
    copy_start = np.append(np.arange(n_copies, dtype=np.int64) * nb, n)
    return Traffic(
        icao24=icao, time=reps(base.time), lat=lat, lon=lon, alt_baro_ft=reps(base.alt_baro_ft),
        groundspeed_kt=reps(base.groundspeed_kt), track_deg=reps(base.track_deg),
        vertical_rate_fpm=reps(base.vertical_rate_fpm), callsign=reps(base.callsign),
        callsigns=base.callsigns, copy=copy, copy_start=copy_start, shifts=shifts,
    )  # fmt: skip


def spread_subset(traffic: Traffic, n: int, seed: int = 7) -> np.ndarray:
    """Indices of ~``n`` fixes spread over every copy: one contiguous window
    (aircraft/time order kept) at a seeded random offset in each copy."""
    cs = traffic.copy_start
    k = len(cs) - 1
    per = max(1, n // k)
    rng = np.random.default_rng(seed)
    idx = []
    for c in range(k):
        a, b = int(cs[c]), int(cs[c + 1])
        m = min(per, b - a)
        off = a + int(rng.integers(0, b - a - m + 1))
        idx.append(np.arange(off, off + m))
    idx = np.concatenate(idx)
    return idx[:n]


# ---------------------------------------------------------------- shapely baseline


class ShapelyClassifier:
    """Bounding-box prefilter + prepared polygons + ``contains_xy``, looping over
    zones (``by="zone"``) or over the zones' polygon parts (``by="part"``).

    Preparation (one-off, like skyfence's cached index) happens in ``__init__``;
    GEOS builds each prepared polygon's edge index lazily on its first query,
    so the first call is slower (the benchmark reports the median of repeats).
    """

    def __init__(self, zones, by: str = "part"):
        import shapely

        self.shapely = shapely
        geoms = np.array([shapely.from_wkb(shapely.to_wkb(z.geometry)) for z in zones], dtype=object)
        if by == "part":
            geoms, owner = shapely.get_parts(geoms, return_index=True)
        else:
            owner = np.arange(len(geoms))
        for g in geoms:
            shapely.prepare(g)
        self.geoms, self.owner = geoms, owner.astype(np.int32)
        self.bounds = shapely.bounds(geoms)

    def _candidates(self, lon, lat):
        """(i, sorted positions of the points in geometry i's box) for each geometry, and the sort."""
        order = np.argsort(lon, kind="stable")
        slon, slat = lon[order], lat[order]
        b = self.bounds
        a = np.searchsorted(slon, b[:, 0], "left")
        e = np.searchsorted(slon, b[:, 2], "right")
        for i in np.flatnonzero(e > a):
            la = slat[a[i] : e[i]]
            c = np.flatnonzero((la >= b[i, 1]) & (la <= b[i, 3]))
            if c.size:
                yield i, c + a[i], slon, slat, order

    def __call__(self, lon, lat):
        """A zone index per point (-1 none; the last zone found where zones overlap)."""
        out = np.full(len(lon), -1, np.int32)
        for i, c, slon, slat, order in self._candidates(lon, lat):
            hit = c[self.shapely.contains_xy(self.geoms[i], slon[c], slat[c])]
            out[order[hit]] = self.owner[i]
        return out

    def pairs(self, lon, lat, nz):
        """Sorted unique keys ``point * nz + zone`` of every (point, zone containing it)."""
        keys = []
        for i, c, slon, slat, order in self._candidates(lon, lat):
            hit = c[self.shapely.contains_xy(self.geoms[i], slon[c], slat[c])]
            keys.append(order[hit].astype(np.int64) * nz + self.owner[i])
        return np.unique(np.concatenate(keys)) if keys else np.empty(0, np.int64)


# ---------------------------------------------------------------- machine / timing


def git_state() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=ROOT, capture_output=True,
                               text=True).stdout  # fmt: skip
        return rev.strip() + (" (src modified)" if dirty.strip() else "")
    except OSError:
        return "?"


def header(title: str) -> None:
    print(f"== {title}")
    print(f"date: {dt.datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(f"machine: {machine()}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"skyfence commit: {git_state()}")




def skyfence_threads() -> int:
    """Threads skyfence's compiled kernels use (``$SKYFENCE_THREADS`` or all cores), 1 if it has no such notion."""
    try:
        from skyfence.engine._threads import threads
    except ImportError:
        return 1
    return threads()


def machine() -> str:
    model = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ncpu = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"nproc={ncpu}, CPU: {model}, Python {platform.python_version()}, {platform.system()} {platform.machine()}"


@dataclass
class Timing:
    wall: list
    cpu: list

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)


def timeit(fn, repeat: int):
    """Run ``fn`` ``repeat`` times; wall and process CPU seconds of each, and the last result."""
    wall, cpu = [], []
    out = None
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        t1, c1 = time.perf_counter(), time.process_time()
        wall.append(t1 - t0)
        cpu.append(c1 - c0)
    return Timing(wall, cpu), out


def fmt_rate(x: float) -> str:
    if x >= 1e6:
        return f"{x / 1e6:.2f} M/s"
    if x >= 1e3:
        return f"{x / 1e3:.1f} k/s"
    return f"{x:.0f} /s"
