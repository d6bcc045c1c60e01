"""How fast ``skyfence synth`` writes synthetic OpenSky state vectors, and in how much memory.

Runs ``skyfence synth OUT --fixes N`` as a subprocess (end to end: start-up,
route planning, fix generation, Parquet writing) ``--repeat`` times into a
temporary folder (or ``--keep DIR``), and prints per run the wall time, the
child's CPU time, its peak RSS, the bytes written, and fixes per second; then
the median, and what that rate means for 100 million and 1 billion fixes
(size and time scale linearly: generation streams one row group at a time).

A second, in-process measurement splits the time: planning (airports,
routes, profiles), the compiled generator alone (no writing), and writing
Parquet alone (the same tables written again), all on the same data.

Run:  .venv/bin/python benchmarks/bench_synth.py [--fixes 10000000] [--repeat 3] [--aircraft 10000]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import ROOT, header  # noqa: E402

SKYFENCE = Path(sys.executable).with_name("skyfence")


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def run_cli(out: Path, args) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [str(SKYFENCE), "synth", str(out), "--fixes", str(args.fixes), "--aircraft", str(args.aircraft),
           "--compression", args.compression, "--seed", str(args.seed), "-q"]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        sys.exit(f"synth failed ({proc.returncode}): {proc.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "rss_mb": after.ru_maxrss / 1024, "bytes": du(out), "cmd": " ".join(cmd[1:])}


def split(out: Path, args) -> None:
    """Planning, generation and writing timed separately, in process."""
    import numpy as np

    import skyfence._synth as S
    from skyfence._synth._airports import load_airports
    from skyfence._synth._routes import plan

    n_steps = max(1, int(args.fixes / args.aircraft))
    t = time.perf_counter()
    airports = load_airports()
    legs, home = plan(airports, aircraft=args.aircraft, start=0.0, end=float(n_steps), seed=args.seed)
    icao_s, airline_s = S._identities(home, airports, args.seed)
    icao, callsign = icao_s[legs.slot], S._callsigns(airline_s[legs.slot], legs.number)
    squawk = np.char.zfill(legs.squawk.astype(str), 4)
    t_plan = time.perf_counter() - t
    first = np.floor(legs.dep).astype(np.int64) + 1
    last = np.floor(legs.arr).astype(np.int64)
    per = max(1, 1_000_000 // args.aircraft)
    blocks = S._blocks(0, 1, n_steps, per)
    S._generate(0, 1, 0, 1, args.seed, legs, first, last, icao, callsign, squawk)  # warm
    c, t = time.process_time(), time.perf_counter()
    tables = [S._generate(k, n, 0, 1, args.seed, legs, first, last, icao, callsign, squawk) for k, n in blocks[:20]]
    t_gen, c_gen = time.perf_counter() - t, time.process_time() - c
    rows = sum(tb.num_rows for tb in tables)
    path = out / "split.parquet"
    out.mkdir(parents=True, exist_ok=True)
    c, t = time.process_time(), time.perf_counter()
    w = S._open_writer(path, tables[0].schema, args.compression)
    for tb in tables:
        w.write_table(tb, row_group_size=tb.num_rows)
    w.close()
    t_write, c_write = time.perf_counter() - t, time.process_time() - c
    print(f"\nsplit, in process ({rows:,} rows = first {len(tables)} row groups; {args.aircraft:,} aircraft):")
    print(f"  planning for {n_steps:,} s: {t_plan:.2f} s ({len(legs):,} legs)")
    print(f"  generation only: {t_gen:.2f} s wall, {c_gen:.2f} s CPU: {rows / t_gen / 1e6:.2f} M fixes/s, "
          f"{rows / c_gen / 1e6:.2f} M/s per core")
    print(f"  Parquet writing only ({args.compression}): {t_write:.2f} s wall, {c_write:.2f} s CPU: "
          f"{rows / t_write / 1e6:.2f} M fixes/s, {rows / c_write / 1e6:.2f} M/s per core")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixes", type=int, default=10_000_000)
    ap.add_argument("--aircraft", type=int, default=10_000, help="airborne at any moment (default 10,000)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--compression", default="zstd")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, help="write here instead of a temporary folder (kept)")
    ap.add_argument("--no-split", action="store_true", help="skip the in-process split")
    args = ap.parse_args()
    header(f"skyfence synth: {args.fixes:,} fixes, {args.aircraft:,} aircraft airborne, {args.compression}")
    tmp = Path(tempfile.mkdtemp(prefix="bench_synth_", dir=args.keep.parent if args.keep else None))
    out = args.keep or tmp / "out"
    runs = []
    try:
        for i in range(args.repeat):
            r = run_cli(out, args)
            runs.append(r)
            print(f"run {i + 1}: {r['wall']:.1f} s wall, {r['cpu']:.1f} s CPU, peak RSS {r['rss_mb']:.0f} MB, "
                  f"{r['bytes'] / 1e6:.0f} MB written ({r['bytes'] / args.fixes:.1f} B/fix): "
                  f"{args.fixes / r['wall'] / 1e6:.2f} M fixes/s, {args.fixes / r['cpu'] / 1e6:.2f} M/s per core")
        print(f"command: skyfence {runs[0]['cmd']}")
        wall = statistics.median(r["wall"] for r in runs)
        cpu = statistics.median(r["cpu"] for r in runs)
        size = statistics.median(r["bytes"] for r in runs) / args.fixes
        rate = args.fixes / wall
        print(f"median: {wall:.1f} s wall, {cpu:.1f} s CPU: {rate / 1e6:.2f} M fixes/s "
              f"({args.fixes / cpu / 1e6:.2f} M/s per core), {size:.1f} bytes/fix, "
              f"peak RSS {max(r['rss_mb'] for r in runs):.0f} MB")
        for n in (100_000_000, 1_000_000_000):
            print(f"at this rate: {n:,} fixes in about {n / rate / 60:.0f} min, {n * size / 1e9:.0f} GB on disk")
        if not args.no_split:
            split(tmp / "split", args)
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    raise SystemExit(main())
