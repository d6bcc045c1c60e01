"""Cost of judging under a policy, next to detection, on real-like global traffic.

Generates real-like traffic (``_data.py``, default 1 million fixes), detects
against ``world`` (all 250 states) plus a 15 NM ring along Turkey's border
with Syria, then times ``judge`` with a policy that judges every zone
(``match = ["*"]``: a weekday schedule, authorised by category and callsign,
a clearance, default severity rules).  Medians of 3 after a warm-up.

Run:  .venv/bin/python benchmarks/bench_policy.py [--fixes N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import skyfence  # noqa: E402
from skyfence.policy import parse_policy  # noqa: E402

POLICY = """
[[zones]]
name = "Turkey"
match = ["TUR"]
[zones.authorised]
states = ["TUR"]
[[zones.ring]]
distance = "15 NM"
along = ["SYR"]
[[zones]]
name = "states"
match = ["*"]
min_duration_s = 1
min_depth_m = 50
schedule = [ { days = ["mon", "tue", "wed", "thu", "fri"], from = "06:00", until = "18:00" } ]
[zones.authorised]
categories = ["civil"]
callsigns = ['^(THY|SWR|DLH|AFR|BAW|EZY)[0-9]+[A-Z]*$']
[[clearance]]
icao24 = ["3b7777"]
zones = ["FRA", "CHE"]
from = 2000-01-01T00:00:00Z
until = 2100-01-01T00:00:00Z
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixes", type=int, default=1_000_000)
    args = ap.parse_args()
    from _data import make_traffic  # the benchmarks' real-like traffic generator

    zones = skyfence.read_zones("world")
    tracks = make_traffic(args.fixes, zones).tracks()
    policy = parse_policy(POLICY, source="bench")
    t = time.perf_counter()
    rings = policy.rings(zones)
    t_rings = time.perf_counter() - t
    skyfence.detect(tracks, zones + rings)  # warm-up (compile, index)
    td, tj = [], []
    for _ in range(3):
        t = time.perf_counter()
        episodes = skyfence.detect(tracks, zones + rings)
        td.append(time.perf_counter() - t)
        t = time.perf_counter()
        j = skyfence.judge(episodes, policy, zones=zones, tracks=tracks)
        tj.append(time.perf_counter() - t)
    counts = {}
    for v in j.episodes.column("verdict").to_pylist():
        counts[v] = counts.get(v, 0) + 1
    print(f"{len(tracks)} fixes, {episodes.num_rows} episodes ({counts}), {j.incidents.num_rows} incidents, "
          f"{j.warnings.num_rows} warnings")
    print(f"rings built in {t_rings:.2f} s")
    print(f"detect median {statistics.median(td):.2f} s; judge median {statistics.median(tj):.2f} s "
          f"({episodes.num_rows / statistics.median(tj):.0f} episodes/s)")


if __name__ == "__main__":
    main()
