"""Point-in-zone classification of real-like global traffic against ``world``
and against the airspaces of Germany.txt + Switzerland.txt (``--zones``).

Compares, in one run and on the same generated data (see ``_data.py``):

1. ``skyfence.classify(lon, lat, zones)`` on all fixes (default 10 million);
2. the best plain-shapely approach we know, on a subset (default 2 million):
   a longitude-sorted copy of the points, a bounding-box prefilter (numpy
   ``searchsorted`` on lon, a mask on lat) and prepared polygons
   (``shapely.prepare``) queried with ``shapely.contains_xy`` (no Point
   objects), looping over zones -- and, faster, over the zones' polygon parts
   (250 zones, ~1,100 parts: a multipolygon such as France or the USA has a
   world-wide bounding box, its parts do not);
3. what users write today: ``geopandas.sjoin(points, world, predicate="within")``
   on a smaller subset (default 200k), the timing INCLUDING building the
   points (``geopandas.points_from_xy`` + ``GeoDataFrame``) since users pay it.

skyfence.classify runs its compiled loop on ``$SKYFENCE_THREADS`` threads
(default: all cores); it is timed that way and with ``SKYFENCE_THREADS=1``.
shapely and geopandas are single-threaded.  "Per core" is fixes / process
CPU second (all threads), the targets are checked on skyfence's 1-thread run.

Correctness: on the shapely subset, skyfence's zone must contain the point
(per shapely) and -1 must mean no zone contains it; overlapping zones may
give a different but valid index.  Any disagreement exits with status 1.

Run:  .venv/bin/python benchmarks/bench_classify.py [--fixes N] ...
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import (  # noqa: E402
    ShapelyClassifier, fmt_rate, header, make_traffic, skyfence_threads, spread_subset, timeit,
)

TARGET_PER_CORE = 5e6  # issue 2's floor
TARGET_SCALE = 50e6  # issue 4's single-machine target
TARGET_RATIO = 10.0
ZONE_SETS = ("world", "airspaces")


# ---------------------------------------------------------------- baselines


def geopandas_sjoin(world_gdf, lon, lat):
    """Point construction + ``sjoin(points, world, predicate="within")``; returns the joined frame."""
    import geopandas as gpd

    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    return gpd.sjoin(pts, world_gdf, predicate="within")


def membership_disagreements(answer, pair_keys, nz) -> int:
    """Points where ``answer`` (zone or -1) is not a zone containing the point, or is -1 while one does."""
    n = len(answer)
    has_any = np.zeros(n, bool)
    has_any[pair_keys // nz] = True
    pos = answer >= 0
    key = np.arange(n, dtype=np.int64)[pos] * nz + answer[pos]
    bad_zone = ~np.isin(key, pair_keys, assume_unique=False)
    return int(np.count_nonzero(has_any & ~pos) + np.count_nonzero(bad_zone))


# ---------------------------------------------------------------- main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixes", type=int, default=10_000_000, help="fixes for skyfence (default 10 million)")
    ap.add_argument("--shapely-fixes", type=int, default=2_000_000, help="subset for shapely (default 2 million)")
    ap.add_argument("--geopandas-fixes", type=int, default=200_000, help="subset for geopandas (default 200k)")
    ap.add_argument("--repeat", type=int, default=5, help="skyfence repeats (default 5)")
    ap.add_argument("--repeat-baseline", type=int, default=3, help="shapely/geopandas repeats (default 3)")
    ap.add_argument("--spread", choices=("boundary", "uniform"), default="boundary",
                    help="where the copies go (see _data.py; default boundary)")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--skip-geopandas", action="store_true")
    ap.add_argument("--zones", action="append", choices=ZONE_SETS,
                    help="zone set, repeatable (default: both): world = the 250 states; airspaces = all of "
                         "Germany.txt and Switzerland.txt (OpenAir, thousands of small overlapping zones)")
    args = ap.parse_args(argv)
    status = 0
    for zset in args.zones or list(ZONE_SETS):
        status |= run_set(args, zset)
    return status


def load_zone_set(zset: str):
    """The zones of a benchmark zone set (see ``--zones``)."""
    import skyfence

    if zset == "world":
        return skyfence.read_zones("world")
    from _data import SHARED

    openair = SHARED / "data" / "airspaces" / "openair"
    return [z for name in ("Germany.txt", "Switzerland.txt") for z in skyfence.read_zones(openair / name)]


def run_set(args, zset: str) -> int:
    """One benchmark run against one zone set; exit status 1 on a disagreement."""
    import shapely

    import skyfence

    header(f"bench_classify: skyfence.classify vs shapely vs geopandas, zones = {zset}")
    t0 = time.perf_counter()
    zones = load_zone_set(zset)
    nz = len(zones)
    nverts = int(shapely.get_num_coordinates(np.array([z.geometry for z in zones], dtype=object)).sum())
    traffic = make_traffic(args.fixes, zones, seed=args.seed, spread=args.spread)
    n = len(traffic)
    lon, lat = traffic.lon, traffic.lat
    n_sh = min(args.shapely_fixes, n)
    n_gp = min(args.geopandas_fixes, n_sh)
    sub = spread_subset(traffic, n_sh, seed=args.seed + 1)
    n_sh = len(sub)
    slon, slat = lon[sub].copy(), lat[sub].copy()
    # the geopandas subset: the first part of each copy's window of the shapely subset
    gsel = spread_subset_of(sub, traffic.copy[sub], n_gp)
    glon, glat = slon[gsel].copy(), slat[gsel].copy()
    n_gp = len(gsel)
    print(f"zones: {nz} {'world states' if zset == 'world' else 'airspaces (Germany.txt + Switzerland.txt)'}, "
          f"{nverts:,} vertices")  # fmt: skip
    print(f"data: {n:,} fixes = {len(traffic.shifts)} shifted copies of quickstart+switzerland "
          f"({len(np.unique(traffic.icao24)):,} aircraft), spread={args.spread}, seed={args.seed}; "
          f"made in {time.perf_counter() - t0:.1f} s")  # fmt: skip
    print(f"subsets (a window in each copy, aircraft/time order kept): shapely {n_sh:,}, "
          f"geopandas {n_gp:,} (inside the shapely subset)")  # fmt: skip

    # ---- skyfence
    nthreads = skyfence_threads()
    t = time.perf_counter()
    skyfence.classify(lon[:16], lat[:16], zones)
    print(f"\nskyfence warm-up (compile/load caches, index build if not cached): {time.perf_counter() - t:.2f} s")
    tiny, _ = timeit(lambda: skyfence.classify(lon[:16], lat[:16], zones), args.repeat)
    sky_t, sky = timeit(lambda: skyfence.classify(lon, lat, zones), args.repeat)
    with one_thread():
        if nthreads > 1:
            sky1_t, sky1 = timeit(lambda: skyfence.classify(lon, lat, zones), args.repeat)
            if not np.array_equal(sky1, sky):
                print("  WARNING: 1-thread and multi-thread classify differ")
        else:
            sky1_t = sky_t
        sky_sub_t, sky_sub = timeit(lambda: skyfence.classify(slon, slat, zones), args.repeat)
    kern_t = None
    try:  # the compiled loop alone, one thread, without the per-call zone hashing + index load
        from skyfence.engine._index import load_or_build
        from skyfence.engine._kernel import classify as kernel

        grid = load_or_build(zones).grid
        kout = np.empty(n, np.int32)
        kern_t, _ = timeit(lambda: kernel(lon, lat, grid, kout), args.repeat)
        if not np.array_equal(kout, sky):
            print("  WARNING: the compiled loop alone differs from skyfence.classify")
    except Exception as e:  # internals moved: skip this diagnostic
        print(f"  (compiled-loop timing skipped: {type(e).__name__}: {e})")
    rate_all = n / sky_t.median
    per_core = n / sky1_t.cpu_median
    print(f"skyfence.classify, {n:,} fixes, {nthreads} thread(s) (SKYFENCE_THREADS or all cores): "
          f"median {sky_t.median:.3f} s (runs {runs(sky_t)}), {fmt_rate(rate_all)}; CPU {sky_t.cpu_median:.3f} s")
    if nthreads > 1:
        print(f"skyfence.classify, {n:,} fixes, 1 thread (SKYFENCE_THREADS=1): median {sky1_t.median:.3f} s "
              f"(runs {runs(sky1_t)}), {fmt_rate(n / sky1_t.median)}; CPU {sky1_t.cpu_median:.3f} s")
    print(f"  per core (fixes / CPU second, 1 thread): {fmt_rate(per_core)}")
    print(f"  fixed cost per call (16 fixes: hash the zones + load the cached index): median {tiny.median:.3f} s")
    if kern_t is not None:
        print(f"  compiled loop alone (1 thread, index in memory): median {kern_t.median:.3f} s, "
              f"{fmt_rate(n / kern_t.median)}")
    print(f"  1 thread on the shapely subset ({n_sh:,}): median {sky_sub_t.median:.3f} s, "
          f"{fmt_rate(n_sh / sky_sub_t.median)}; CPU {sky_sub_t.cpu_median:.3f} s")
    inside = sky >= 0
    print(f"  fixes inside a zone: {inside.mean():.1%}, zones hit: {len(np.unique(sky[inside]))}")
    if not np.array_equal(sky[sub], sky_sub):
        print("  WARNING: classify on the subset differs from the full run on the same points")

    # ---- shapely
    results = {}
    for by in ("zone", "part"):
        t = time.perf_counter()
        clf = ShapelyClassifier(zones, by=by)
        prep_s = time.perf_counter() - t
        tm, ans = timeit(lambda clf=clf: clf(slon, slat), args.repeat_baseline)
        results[by] = (clf, tm, ans)
        print(f"\nshapely per {by} ({len(clf.geoms):,} prepared geometries, prepared in {prep_s:.2f} s), "
              f"{n_sh:,} fixes: median {tm.median:.3f} s (runs {runs(tm)}), "
              f"{fmt_rate(n_sh / tm.median)}; CPU {tm.cpu_median:.3f} s")  # fmt: skip
    best_by = min(results, key=lambda k: results[k][1].median)
    best_clf, best_t, _ = results[best_by]
    best_rate = n_sh / best_t.median
    print(f"best shapely approach: per {best_by}")

    # ---- correctness on the shapely subset
    t = time.perf_counter()
    keys = best_clf.pairs(slon, slat, nz)
    cnt = np.bincount(keys // nz, minlength=n_sh)
    bad = membership_disagreements(sky_sub, keys, nz)
    bad_sh = {by: membership_disagreements(ans, keys, nz) for by, (_, _, ans) in results.items()}
    differ = int(np.count_nonzero(sky_sub != results[best_by][2]))
    print(f"\ncorrectness on the {n_sh:,}-fix subset ({time.perf_counter() - t:.1f} s): "
          f"{np.count_nonzero(cnt == 0):,} in no zone, {np.count_nonzero(cnt == 1):,} in one, "
          f"{np.count_nonzero(cnt > 1):,} in 2+ overlapping zones")  # fmt: skip
    print(f"  skyfence vs shapely disagreements: {bad} (must be 0); different-but-valid index "
          f"in overlaps: {differ - bad:,}")  # fmt: skip
    one = cnt <= 1
    print(f"  on points in exactly one zone or none: {int(np.count_nonzero((sky_sub != results[best_by][2])[one]))} "
          "differ (must be 0)")  # fmt: skip
    if any(bad_sh.values()):
        print(f"  (self-check) shapely loops vs shapely pairs: {bad_sh}")

    # ---- geopandas
    gp_t = None
    gp_bad = 0
    if not args.skip_geopandas:
        import geopandas as gpd

        world_gdf = gpd.GeoDataFrame({"zone": np.arange(nz)}, geometry=[z.geometry for z in zones], crs="EPSG:4326")
        geopandas_sjoin(world_gdf, glon[:1000], glat[:1000])  # warm-up
        gp_t, joined = timeit(lambda: geopandas_sjoin(world_gdf, glon, glat), args.repeat_baseline)
        li = joined.index.to_numpy().astype(np.int64)
        ri = joined["index_right"].to_numpy().astype(np.int64)
        gkeys = np.unique(li * nz + ri)
        gp_bad = membership_disagreements(sky_sub[gsel], gkeys, nz)
        # shapely pairs restricted to the geopandas subset, renumbered
        pos = np.full(n_sh, -1, np.int64)
        pos[gsel] = np.arange(n_gp)
        kp = pos[keys // nz]
        skeys = np.unique(kp[kp >= 0] * nz + (keys % nz)[kp >= 0])
        gp_vs_sh = int(len(np.setxor1d(skeys, gkeys)))
        print(f"\ngeopandas.sjoin(points, world, predicate='within'), {n_gp:,} fixes, timing includes "
              f"points_from_xy + GeoDataFrame: median {gp_t.median:.3f} s "
              f"(runs {runs(gp_t)}), {fmt_rate(n_gp / gp_t.median)}; "
              f"CPU {gp_t.cpu_median:.3f} s")  # fmt: skip
        print(f"  skyfence vs geopandas disagreements: {gp_bad} (must be 0); "
              f"geopandas vs shapely (point, zone) pairs differing: {gp_vs_sh}")  # fmt: skip

    # ---- summary
    rows = [(f"skyfence.classify, {nthreads} thread(s)", n, sky_t)]
    if nthreads > 1:
        rows.append(("skyfence.classify, 1 thread", n, sky1_t))
    rows.append(("skyfence.classify, 1 thread, subset", n_sh, sky_sub_t))
    for by in ("zone", "part"):
        rows.append((f"shapely prepared, per {by}" + (" (best)" if by == best_by else ""), n_sh, results[by][1]))
    if gp_t is not None:
        rows.append(("geopandas.sjoin within (incl. points)", n_gp, gp_t))
    print(f"\n{'approach':40} {'fixes':>11} {'median s':>9} {'fixes/s':>11} {'per core':>11} {'vs skyfence':>11}")
    for name, m, tm in rows:
        pc = m / tm.cpu_median
        print(f"{name:40} {m:>11,} {tm.median:>9.3f} {fmt_rate(m / tm.median):>11} {fmt_rate(pc):>11} "
              f"{per_core / pc:>10.1f}x")
    print("per core = fixes / process CPU second; vs skyfence = skyfence's per-core rate (1 thread, all fixes) / "
          "this row's; shapely and geopandas are single-threaded")
    ratio = per_core / (n_sh / best_t.cpu_median)
    ratio_wall = (n / sky1_t.median) / best_rate
    ratio_same = (n_sh / sky_sub_t.cpu_median) / (n_sh / best_t.cpu_median)
    print(f"skyfence / best shapely (per {best_by}): {ratio:.1f}x per core (wall, 1 thread: {ratio_wall:.1f}x; "
          f"same subset: {ratio_same:.1f}x; wall with {nthreads} thread(s): {rate_all / best_rate:.1f}x)")
    print(f"skyfence / shapely per zone: {per_core / (n_sh / results['zone'][1].cpu_median):.1f}x per core")
    if gp_t is not None:
        print(f"skyfence / geopandas: {per_core / (n_gp / gp_t.cpu_median):.0f}x per core "
              f"(wall with {nthreads} thread(s): {rate_all / (n_gp / gp_t.median):.0f}x)")

    ok1 = per_core >= TARGET_PER_CORE
    ok2 = ratio >= TARGET_RATIO
    ok3 = bad == 0 and gp_bad == 0
    print(f"\nTARGET skyfence >= {TARGET_PER_CORE / 1e6:.0f} M fixes/s per core: {fmt_rate(per_core)} -> "
          f"{'PASS' if ok1 else 'FAIL'}")
    print(f"TARGET skyfence >= {TARGET_SCALE / 1e6:.0f} M fixes/s per core (issue 4): {fmt_rate(per_core)} "
          f"({per_core / TARGET_SCALE:.2f}x) -> {'PASS' if per_core >= TARGET_SCALE else 'FAIL'}")
    print(f"TARGET skyfence >= {TARGET_RATIO:.0f}x best shapely (per core): {ratio:.1f}x -> "
          f"{'PASS' if ok2 else 'FAIL'}")
    print(f"CHECK  disagreements with shapely / geopandas = 0: {bad} / {gp_bad} -> {'PASS' if ok3 else 'FAIL'}")
    return 0 if ok3 else 1


def runs(tm) -> str:
    return ", ".join(f"{x:.3f}" for x in tm.wall)


@contextlib.contextmanager
def one_thread():
    old = os.environ.get("SKYFENCE_THREADS")
    os.environ["SKYFENCE_THREADS"] = "1"
    try:
        yield
    finally:
        if old is None:
            del os.environ["SKYFENCE_THREADS"]
        else:
            os.environ["SKYFENCE_THREADS"] = old


def spread_subset_of(sub: np.ndarray, copy_of_sub: np.ndarray, n: int) -> np.ndarray:
    """Positions in ``sub`` of ~n fixes: the first part of each copy's window."""
    copies = np.unique(copy_of_sub)
    per = max(1, n // len(copies))
    starts = np.searchsorted(copy_of_sub, copies)
    ends = np.append(starts[1:], len(sub))
    idx = np.concatenate([np.arange(a, min(a + per, e)) for a, e in zip(starts, ends)])
    return idx[:n]


if __name__ == "__main__":
    sys.exit(main())
