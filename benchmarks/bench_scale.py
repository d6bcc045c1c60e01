"""Scale: ``skyfence detect`` streaming a partitioned Parquet dataset, against
the alternatives, each in its own process (so each gets its own peak RSS).

Data: ``skyfence synth`` (OpenSky state vectors, hive-partitioned by
date/hour, in time order as OpenSky's database returns them), written once
under ``--data`` (default ``benchmarks/.data``) and reused.

Compared, in one run, on the same files:

1. ``skyfence detect DATASET`` (the CLI, end to end: read, stitch, episodes
   with evidence, write Parquet), zones ``world``;
2. ``skyfence.classify`` on the same lon/lat (point-in-zone only, what the
   two baselines below compute);
3. the best plain-shapely approach (``_data.ShapelyClassifier``, as in
   ``bench_classify.py``: bbox prefilter + prepared polygon parts +
   ``contains_xy``) on a subset;
4. ``geopandas.sjoin(points, world, predicate="within")`` (``bench_classify.geopandas_sjoin``)
   on a smaller subset;
5. DuckDB ``select lon, lat`` from the same Parquet (the reading-speed
   reference), and pyarrow reading the columns detect needs.

Rates are fixes per second of wall time on this machine (all cores).

Run:  .venv/bin/python benchmarks/bench_scale.py [--fixes 10M|100M|1B] [--skip-geopandas]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
EXE = ROOT / ".venv" / "bin" / "skyfence"


def parse_count(text: str) -> int:
    text = text.strip().upper().replace("_", "")
    mult = {"K": 10**3, "M": 10**6, "B": 10**9, "G": 10**9}.get(text[-1:], 1)
    return int(float(text[:-1] if text[-1:] in "KMBG" else text) * mult)


def dataset(root: Path, n: int) -> Path:
    """The synth dataset of ``n`` fixes (written once)."""
    path = root / f"synth-{n}"
    if (path / "_synth.json").exists():
        return path
    root.mkdir(parents=True, exist_ok=True)
    aircraft = max(1000, min(10000, n // 3600))  # an hour or more of traffic
    print(f"writing {n:,} fixes with skyfence synth into {path} ...", flush=True)
    subprocess.run([str(EXE), "synth", str(path), "--fixes", str(n), "--aircraft", str(aircraft), "-q", "--overwrite"],
                   check=True)  # fmt: skip
    return path


def lonlat(path: Path, limit: int | None = None):
    import pyarrow.dataset as ds

    d = ds.dataset(str(path), format="parquet", partitioning="hive")
    lon, lat, got = [], [], 0
    for b in d.to_batches(columns=["lon", "lat"]):
        lon.append(b.column(0).to_numpy(zero_copy_only=False))
        lat.append(b.column(1).to_numpy(zero_copy_only=False))
        got += b.num_rows
        if limit and got >= limit:
            break
    lon, lat = np.concatenate(lon)[:limit], np.concatenate(lat)[:limit]
    ok = ~(np.isnan(lon) | np.isnan(lat))
    return lon[ok], lat[ok]


# ---------------------------------------------------------------- one measurement per process


def one(method: str, path: Path, n_sub: int) -> dict:
    """Runs in a child process; returns rows, seconds and this process's peak RSS."""
    import skyfence

    out: dict = {}
    if method == "duckdb":
        import duckdb

        q = f"select lon, lat from read_parquet('{path}/**/*.parquet', hive_partitioning=true)"
        duckdb.sql(q + " limit 10").fetchnumpy()
        t = time.perf_counter()
        cols = duckdb.sql(q).fetchnumpy()
        out.update(rows=len(cols["lon"]), seconds=time.perf_counter() - t)
    elif method == "pyarrow":
        import pyarrow.dataset as ds

        t = time.perf_counter()
        rows = 0
        d = ds.dataset(str(path), format="parquet", partitioning="hive")
        cols = ["time", "icao24", "lat", "lon", "baroaltitude", "geoaltitude", "callsign", "lastposupdate"]
        for b in d.to_batches(columns=cols):
            rows += b.num_rows
        out.update(rows=rows, seconds=time.perf_counter() - t)
    elif method == "classify":
        zones = skyfence.read_zones("world")
        lon, lat = lonlat(path)
        skyfence.classify(lon[:16], lat[:16], zones)
        t = time.perf_counter()
        skyfence.classify(lon, lat, zones)
        out.update(rows=len(lon), seconds=time.perf_counter() - t)
    elif method == "shapely":
        from _data import ShapelyClassifier

        zones = skyfence.read_zones("world")
        lon, lat = lonlat(path, n_sub)
        clf = ShapelyClassifier(zones, by="part")
        clf(lon[:1000], lat[:1000])
        t = time.perf_counter()
        clf(lon, lat)
        out.update(rows=len(lon), seconds=time.perf_counter() - t)
    elif method == "geopandas":
        import geopandas as gpd
        from bench_classify import geopandas_sjoin

        zones = skyfence.read_zones("world")
        world = gpd.GeoDataFrame({"zone": [z.id for z in zones]}, geometry=[z.geometry for z in zones], crs="EPSG:4326")
        lon, lat = lonlat(path, n_sub)
        geopandas_sjoin(world, lon[:1000], lat[:1000])
        t = time.perf_counter()
        geopandas_sjoin(world, lon, lat)
        out.update(rows=len(lon), seconds=time.perf_counter() - t)
    out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def child(method: str, path: Path, n_sub: int) -> dict:
    r = subprocess.run([sys.executable, __file__, "--one", method, "--dataset", str(path), "--sub", str(n_sub)],
                       capture_output=True, text=True)  # fmt: skip
    if r.returncode:
        raise SystemExit(f"{method} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def detect_cli(path: Path, out: Path) -> dict:
    """``skyfence detect`` in a child process under /usr/bin/time -v (peak RSS)."""
    cmd = [str(EXE), "detect", str(path), "--format", "parquet", "-o", str(out)]
    timer = ["/usr/bin/time", "-v"] if Path("/usr/bin/time").exists() else []
    t = time.perf_counter()
    r = subprocess.run(timer + cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if r.returncode:
        raise SystemExit(f"skyfence detect failed:\n{r.stderr[-3000:]}")
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    for line in r.stderr.splitlines():
        if "Maximum resident set size" in line:
            rss = int(line.split(":")[1]) / 1024
    summary = [x for x in r.stderr.splitlines() if x.startswith("skyfence:")]
    rows = int(summary[-1].split()[1]) if summary else 0
    return {"rows": rows, "seconds": wall, "rss_mb": rss, "summary": summary[-1] if summary else ""}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixes", default="10M", help="dataset size: 10M (default), 100M, 1B ...")
    ap.add_argument("--data", default=str(HERE / ".data"), help="where synth datasets are kept")
    ap.add_argument("--shapely-fixes", default="2M", help="subset for shapely (default 2M)")
    ap.add_argument("--geopandas-fixes", default="200k", help="subset for geopandas (default 200k)")
    ap.add_argument("--skip-geopandas", action="store_true")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--dataset", help=argparse.SUPPRESS)
    ap.add_argument("--sub", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(one(args.one, Path(args.dataset), args.sub)))
        return 0

    from _data import fmt_rate, header

    n = parse_count(args.fixes)
    header(f"bench_scale: skyfence detect streaming {n:,} synth fixes (Parquet, hive date/hour), zones = world")
    path = dataset(Path(args.data), n)
    files = sorted(path.rglob("*.parquet"))
    size = sum(f.stat().st_size for f in files)
    print(f"data: {path} ({len(files)} files, {size / 1e9:.2f} GB)")
    # warm the caches (numba, zone index) so start-up is what users see after the first run
    subprocess.run([str(EXE), "detect", str(files[0]), "-q", "-o", os.devnull, "--format", "csv"], check=True)

    res = {}
    res["detect"] = detect_cli(path, Path(args.data) / "episodes.parquet")
    print(f"  {res['detect']['summary']}")
    res["duckdb"] = child("duckdb", path, 0)
    res["pyarrow"] = child("pyarrow", path, 0)
    res["classify"] = child("classify", path, 0)
    res["shapely"] = child("shapely", path, parse_count(args.shapely_fixes))
    if not args.skip_geopandas:
        res["geopandas"] = child("geopandas", path, parse_count(args.geopandas_fixes))
    rate = {k: v["rows"] / v["seconds"] for k, v in res.items()}
    label = {
        "detect": "skyfence detect (CLI, end to end, episodes)",
        "classify": "skyfence.classify (point in zone)",
        "shapely": "best plain shapely (bbox + prepared parts)",
        "geopandas": "geopandas.sjoin within",
        "duckdb": "DuckDB select lon, lat (reading reference)",
        "pyarrow": "pyarrow reading detect's 8 columns",
    }
    print(f"\n{'what':48s} {'fixes':>13s} {'seconds':>9s} {'fixes/s':>11s} {'peak RSS':>10s} "
          f"{'detect ×':>9s} {'classify ×':>10s}")  # fmt: skip
    for k, v in res.items():
        print(f"{label[k]:48s} {v['rows']:13,d} {v['seconds']:9.2f} {fmt_rate(rate[k]):>11s} "
              f"{v['rss_mb']:8.0f} MB {rate['detect'] / rate[k]:9.3g} {rate['classify'] / rate[k]:10.3g}")  # fmt: skip
    print(f"\nskyfence detect runs at {rate['detect'] / rate['duckdb']:.3g}x DuckDB's lon/lat reading speed, "
          f"{rate['detect'] / rate['pyarrow']:.3g}x pyarrow reading its columns; "
          f"classify at {rate['classify'] / rate['duckdb']:.3g}x DuckDB reading")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
