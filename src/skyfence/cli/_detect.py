"""``skyfence detect TRACKS... [--zones ZONES]...``"""

from __future__ import annotations

import argparse
import os
import sys
import time

from .._errors import ConfigError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("tracks", nargs="+", metavar="TRACKS", help="track files (plain or .gz), or - for stdin")
    p.add_argument("--zones", action="append", metavar="ZONES",
                   help="world, world:TUR,SYR, or a GeoJSON / OpenAir / traffic JSON file; repeatable (default world)")
    p.add_argument("--format", choices=("jsonl", "csv", "geojson", "parquet"),
                   help="output format (default: from the -o extension .jsonl .csv .geojson .parquet, "
                        "else a table on a terminal, else jsonl)")
    p.add_argument("-o", "--output", metavar="PATH", help="write episodes here (default stdout)")
    p.add_argument("--max-gap", type=float, default=60.0, metavar="S",
                   help="split a track where fixes are more than S seconds apart (default 60)")
    p.add_argument("--column", action="append", default=[], metavar="NAME=COLUMN",
                   help="map a skyfence column (icao24, time, lat, lon, alt_baro_ft, alt_geo_ft, "
                        "groundspeed_kt, track_deg, vertical_rate_fpm, callsign, nic, nacp, sil) to a file column")
    p.add_argument("--time-unit", choices=("s", "ms", "us", "ns", "iso"), help="unit of a mapped time column")
    p.add_argument("--altitude-unit", choices=("ft", "m"), help="unit of mapped altitude columns")
    p.add_argument("-q", "--quiet", action="store_true", help="no summary (and no progress bar) on stderr")
    p.add_argument("--policy", metavar="FILE",
                   help="judge every episode under this policy file (TOML): adds verdict, severity, rule, "
                        "identity and incident columns, and the episodes of its warning rings")
    p.add_argument("--incidents", metavar="PATH", help="with --policy: write the incidents here (format from "
                   "the extension .jsonl .csv .geojson .parquet, else --format, else jsonl)")
    p.add_argument("--warnings", metavar="PATH", help="with --policy: write every repeated ring warning here")
    p.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="local: stream on this machine (default); dask: on a Dask cluster (--scheduler)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler address for --engine dask, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--batch-rows", type=int, default=500_000, metavar="N",
                   help="Parquet rows read at a time (default 500000)")


def parse_columns(items: list[str]) -> dict[str, str] | None:
    if not items:
        return None
    out = {}
    for item in items:
        name, sep, col = item.partition("=")
        if not sep or not name or not col:
            raise ConfigError(f"--column expects NAME=COLUMN, got {item!r}")
        out[name.strip()] = col.strip()
    return out


def run(args: argparse.Namespace) -> int:
    from .. import read_tracks, read_zones
    from . import started
    from .._detect import detect_prepared
    from .._output import check_writable, format_of, table_text, write
    from .._tracks import Tracks

    if args.format is None and args.output:  # -o x.csv means csv
        args.format = format_of(args.output)

    t0 = time.perf_counter()
    if args.max_gap <= 0:
        raise ConfigError("--max-gap must be positive")
    columns = parse_columns(args.column)
    check_writable(args.output)
    policy = _read_policy(args)
    zones = [z for spec in (args.zones or ["world"]) for z in read_zones(spec)]
    _check_unique(zones)
    started()
    if args.batch_rows <= 0:
        raise ConfigError("--batch-rows must be positive")
    engine = getattr(args, "engine", "local")
    judged = None
    line = None
    if engine == "dask" and policy:
        raise ConfigError("--policy judges with the tracks whole: use it with --engine local")
    if engine == "dask" or (args.format != "geojson" and not policy and _any_dataset(args.tracks)):
        episodes, line = _detect_streamed(args, zones, columns, engine)
    else:  # CSV/JSON, GeoJSON paths and policy judgement: the tracks read whole
        rings = policy.rings(zones) if policy else []
        parts = [read_tracks(src, columns=columns, time_unit=args.time_unit, altitude_unit=args.altitude_unit)
                 for src in args.tracks]  # fmt: skip
        tracks = Tracks.concat(parts)
        episodes, prep = detect_prepared(tracks, zones + rings, max_gap=args.max_gap, paths=args.format == "geojson")
        if policy:
            from ..policy._cli import judge_and_write

            judged = judge_and_write(episodes, policy, zones, tracks, args)
            episodes = judged.episodes
    fmt = args.format
    if fmt is None and args.output is None and sys.stdout.isatty():
        if judged is not None:
            from ..policy._cli import verdict_table

            print(verdict_table(judged))
        else:
            print(table_text(episodes))
    else:
        write(episodes, fmt or "jsonl", args.output)
    if not args.quiet:
        seconds = time.perf_counter() - t0
        text = summary(tracks, prep, episodes, seconds) if line is None else line(episodes, seconds)
        if judged is not None:
            from ..policy._cli import verdict_summary

            text += verdict_summary(judged)
        print(text, file=sys.stderr)
    return 0


def _read_policy(args):
    if not args.policy:
        if args.incidents or args.warnings:
            raise ConfigError("--incidents and --warnings need --policy")
        return None
    from ..policy import read_policy
    from .._output import check_writable

    check_writable(args.incidents)
    check_writable(args.warnings)
    named = [(o, p) for o, p in (("-o", args.output), ("--incidents", args.incidents), ("--warnings", args.warnings))
             if p and p != "-"]  # fmt: skip
    for k, (opt, path) in enumerate(named):
        for other, prev in named[:k]:
            if os.path.abspath(path) == os.path.abspath(prev):
                raise ConfigError(f"{opt} and {other} name the same file {path!r}; one would overwrite the other")
    policy = read_policy(args.policy)
    if not args.quiet:  # watchlist rows skipped: each with its line, then the count
        for wl in policy.watchlist_data:
            for line in wl.report():
                print(f"skyfence: {line}", file=sys.stderr)
    return policy


def _any_dataset(inputs) -> bool:
    """True when an input is Parquet (file, directory, glob or URL): then the
    run streams; CSV/JSON alone are read whole, as they always were."""
    from ..io._parquet import is_parquet_dataset

    return any(str(x) != "-" and is_parquet_dataset(str(x)) for x in inputs)


def _detect_streamed(args, zones, columns, engine):
    """Episodes through the streaming engine (or Dask), and the summary maker."""
    if engine == "dask":
        if args.format == "geojson":
            raise ConfigError("--format geojson needs the paths of episodes: use --engine local")
        if not args.scheduler:
            raise ConfigError("--engine dask needs --scheduler ADDRESS (a running Dask scheduler)")
        from .._dask import detect_dask

        episodes, info = detect_dask(args.tracks, zones, args.scheduler, max_gap=args.max_gap, columns=columns,
                                     time_unit=args.time_unit, altitude_unit=args.altitude_unit,
                                     batch_rows=args.batch_rows)  # fmt: skip
    else:
        if args.scheduler:
            raise ConfigError("--scheduler is for --engine dask")
        from .._stream import detect_stream

        episodes, info = detect_stream(args.tracks, zones, max_gap=args.max_gap, columns=columns,
                                       time_unit=args.time_unit, altitude_unit=args.altitude_unit,
                                       batch_rows=args.batch_rows, progress=not args.quiet)  # fmt: skip

    def line(episodes, seconds):
        skipped = dict(info.stats.skipped)
        if info.duplicates:
            skipped["duplicate time"] = skipped.get("duplicate time", 0) + info.duplicates
        parts = [f"{info.stats.rows_read} fixes read"]
        parts.append("skipped: " + ", ".join(f"{v} {k}" for k, v in sorted(skipped.items())) if skipped else "none skipped")
        parts.append(f"{info.n_tracks} tracks")
        parts.append(f"{episodes.num_rows} episodes")
        parts.append(f"{info.suspect_fixes} suspect fixes")
        parts.append(f"{seconds:.2f} s")
        return "skyfence: " + "; ".join(parts)

    return episodes, line


def _check_unique(zones) -> None:
    seen: dict[str, str] = {}
    for z in zones:
        if z.id in seen:
            raise ConfigError(f"zone id {z.id!r} comes twice (from {seen[z.id]} and {z.source}); give each zone set once")
        seen[z.id] = z.source


def summary(tracks, prep, episodes, seconds: float) -> str:
    st = tracks.stats
    skipped = dict(st.skipped)
    if prep.duplicates:
        skipped["duplicate time"] = skipped.get("duplicate time", 0) + prep.duplicates
    parts = [f"{st.rows_read} fixes read"]
    parts.append(
        "skipped: " + ", ".join(f"{v} {k}" for k, v in sorted(skipped.items())) if skipped else "none skipped"
    )
    parts.append(f"{len(prep.start) - 1} tracks")
    parts.append(f"{episodes.num_rows} episodes")
    if prep.flags is not None:  # fixes with an integrity flag (see README, Data integrity)
        parts.append(f"{int((prep.flags != 0).sum())} suspect fixes")
    parts.append(f"{seconds:.2f} s")
    return "skyfence: " + "; ".join(parts)
