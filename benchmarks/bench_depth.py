"""The per-episode depth (``max_depth_m``) alone, on bench_detect's episodes.

1. Writes bench_detect's traffic (``_data.py``, default 2 M fixes, copies of
   real tracks centred on ``world`` border vertices) as OpenSky Parquet,
   reads it and runs ``skyfence.detect`` against ``world`` once, capturing
   the arguments of the depth stage (``engine._depth.depths``: the paths
   inside, their arc lengths, zones and zone edges).
2. Times ``depths`` on them, 1 thread, in process CPU seconds (median of
   ``--repeat``), and prints the split: projecting and gridding the edge
   windows vs the branch and bound.
3. Checks every depth against the same measurement run to 0.5 m instead of
   max(10 m, 0.5 %) (``--no-check`` skips it): each must be within the
   promised max(10 m, 0.5 %) of it.  This checks how far the tolerance lets
   the result fall short; the independent brute-force check (shapely, dense
   sampling, no shared pruning) is in ``tests/test_measure.py``.

Run:  .venv/bin/python benchmarks/bench_depth.py [--fixes N] [--repeat K]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import header, make_traffic  # noqa: E402
from bench_detect import write_opensky_parquet  # noqa: E402


def capture(n_fixes: int, seed: int):
    import skyfence
    from skyfence.engine import _episodes

    zones = skyfence.read_zones("world")
    traffic = make_traffic(n_fixes, zones, seed=seed)
    with tempfile.TemporaryDirectory(prefix="skyfence-bench-") as tmp:
        path = Path(tmp) / "traffic.parquet"
        write_opensky_parquet(traffic, path)
        tracks = skyfence.read_tracks(path)
    real = _episodes.depths
    cap: dict = {}

    def spy(ptr, lon, lat, cum, zone, zone_edges, n_threads=1, cache=None):
        # captured without the window cache: each timed call builds its windows
        edges = {int(z): zone_edges(int(z)) for z in np.unique(zone)}
        cap.update(args=(ptr, lon, lat, cum, zone, edges.__getitem__))
        return real(ptr, lon, lat, cum, zone, zone_edges, n_threads, cache)

    _episodes.depths = spy
    try:
        skyfence.detect(tracks, zones)
    finally:
        _episodes.depths = real
    return cap["args"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixes", type=int, default=2_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--no-check", action="store_true", help="skip the 0.5 m reference")
    args = ap.parse_args(argv)
    from skyfence.engine import _depth

    header("bench_depth: max_depth_m of bench_detect's episodes, 1 thread")
    t0 = time.perf_counter()
    dargs = capture(args.fixes, args.seed)
    ptr, lon, lat, cum, zone, _ = dargs
    n = len(zone)
    print(f"captured {n:,} episodes, {len(lon):,} path points in {time.perf_counter() - t0:.1f} s")
    _depth.depths(*dargs)  # warm (compile caches)
    runs = []
    for _ in range(args.repeat):
        c0 = time.process_time()
        got = _depth.depths(*dargs)
        runs.append(time.process_time() - c0)
    med = statistics.median(runs)
    print(f"depths(), 1 thread: median {med:.3f} s CPU (runs {', '.join(f'{r:.3f}' for r in runs)}); "
          f"{med / n * 1e6:.1f} us per episode")  # fmt: skip
    split = {"windows": 0.0, "branch and bound": 0.0}
    win0, bnb0 = _depth.Window.__init__, _depth._bnb_batch

    def win(self, *a):
        c = time.process_time()
        win0(self, *a)
        split["windows"] += time.process_time() - c

    def bnb(*a):
        c = time.process_time()
        bnb0(*a)
        split["branch and bound"] += time.process_time() - c

    _depth.Window.__init__, _depth._bnb_batch = win, bnb
    try:
        _depth.depths(*dargs)
    finally:
        _depth.Window.__init__, _depth._bnb_batch = win0, bnb0
    print("split: " + ", ".join(f"{k} {v:.3f} s" for k, v in split.items()))
    if not args.no_check:
        t0 = time.perf_counter()
        tol = _depth.TOL_M, _depth.TOL_REL
        _depth.TOL_M, _depth.TOL_REL = 0.5, 0.0
        try:
            ref = _depth.depths(*dargs)
        finally:
            _depth.TOL_M, _depth.TOL_REL = tol
        allow = np.maximum(10.0, 0.005 * ref)
        err = ref - got
        print(f"vs the same to 0.5 m ({time.perf_counter() - t0:.1f} s): worst shortfall {err.max():.1f} m = "
              f"{(err / allow).max():.3f} of the allowance, {(err > allow).sum()} over it; "
              f"above it by up to {(-err).max():.2f} m")  # fmt: skip
        if (err > allow).any() or np.isnan(got).any():
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
