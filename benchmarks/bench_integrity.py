"""Integrity flags on the real data in ``../shared/data``: rates and speed.

For each sample: fixes, share of fixes flagged (all flags, and all but
``frozen``), fixes per flag, episodes against ``world`` and how many are
``suspect``; then the speed of the flag kernel alone on ``quickstart``
(1 thread, median of 7) next to ``detect`` on the same fixes.

Run:  .venv/bin/python benchmarks/bench_integrity.py
"""

from __future__ import annotations

import collections
import os
import statistics
import time
from pathlib import Path

import numpy as np

import skyfence
from skyfence._integrity import FLAG_NAMES, FLAGS, FROZEN, fix_flags
from skyfence.engine._prepare import prepare

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tracks"
SAMPLES = ["quickstart", "switzerland", "zurich_airport", "noisy_time_issue", "noisy_takeoff", "noisy_landing",
           "noisy_ground"]  # fmt: skip


def main() -> None:
    zones = skyfence.read_zones("world")
    paths = [DATA / "opensky" / f"{s}.json.gz" for s in SAMPLES] + [DATA / "raw" / "trace_full_ac671b.readsb.json"]
    for path in paths:
        tracks = skyfence.read_tracks(path)
        f = fix_flags(prepare(tracks).tracks)
        per = {n: int(np.count_nonzero(f & FLAGS[n])) for n in FLAG_NAMES if np.any(f & FLAGS[n])}
        ep = skyfence.detect(tracks, zones).column("integrity").to_pylist()
        print(
            f"{path.name:36s} {len(f):7d} fixes  flagged {np.mean(f != 0):6.2%}  "
            f"not frozen {np.mean((f & ~np.uint16(FROZEN)) != 0):6.2%}  "
            f"episodes {len(ep):5d} suspect {collections.Counter(ep)['suspect']:4d}  {per}"
        )
    os.environ["SKYFENCE_THREADS"] = "1"
    tracks = skyfence.read_tracks(DATA / "opensky" / "quickstart.json.gz")
    tr = prepare(tracks).tracks
    fix_flags(tr, 1)
    skyfence.detect(tracks, zones)
    flags_s, detect_s = [], []
    for _ in range(7):
        t0 = time.perf_counter()
        fix_flags(tr, 1)
        flags_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        skyfence.detect(tracks, zones)
        detect_s.append(time.perf_counter() - t0)
    fl, de = statistics.median(flags_s), statistics.median(detect_s)
    print(f"flags: {len(tr) / fl / 1e6:.1f} M fixes/s per core ({fl * 1e3:.0f} ms); detect (flags included) "
          f"{de * 1e3:.0f} ms: flags are {fl / de:.0%} of it")  # fmt: skip


if __name__ == "__main__":
    main()
