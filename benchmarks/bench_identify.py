#!/usr/bin/env python
"""Throughput of ``skyfence.identify`` (addresses per second, medians).

Usage::

    .venv/bin/python benchmarks/bench_identify.py [--n 1000000] [--repeat 5]

Three inputs of ``--n`` random addresses (uint32, a pyarrow string array, a
Python list of str), and a feed-like case: ``--n`` rows drawn from 5,000
distinct aircraft, each with a callsign (one in seven a military rule's).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from skyfence.identity import identify
from skyfence.identity._blocks import format_icao24


def median_seconds(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    addr = rng.integers(0, 1 << 24, args.n).astype(np.uint32)
    hexes = format_icao24(addr)
    as_list = hexes.to_pylist()
    fleet = rng.integers(0, 1 << 24, 5000).astype(np.uint32)
    pick = rng.integers(0, 5000, args.n)
    names = np.array([f"FAF{i}" if i % 7 == 0 else f"AFR{i}" for i in range(5000)], dtype=object)
    identify(addr[:100])  # load the tables once
    cases = {
        "uint32": lambda: identify(addr),
        "pyarrow strings": lambda: identify(hexes),
        "list of str": lambda: identify(as_list),
        "5,000 aircraft + callsigns": lambda: identify(fleet[pick], list(names[pick])),
    }
    for name, fn in cases.items():
        s = median_seconds(fn, args.repeat)
        print(f"{name:28s} {s:6.3f} s  {args.n / s / 1e6:5.2f} M addresses/s (median of {args.repeat})")


if __name__ == "__main__":
    main()
