"""``skyfence warn TRACKS... [--zones ZONES]... [--horizon S] [--model M]``

Predicted-entry warnings on a recording: each warning or near-miss event as
it would have been issued, and (unless ``--no-evaluate``) the lead time it
actually gave before the entry ``detect`` observes.
"""

from __future__ import annotations

import argparse
import sys
import time

from .._errors import ConfigError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("tracks", nargs="+", metavar="TRACKS", help="track files (plain or .gz), or - for stdin")
    p.add_argument("--zones", action="append", metavar="ZONES",
                   help="world, world:TUR,SYR, or a GeoJSON / OpenAir / traffic JSON file; repeatable (default world)")
    p.add_argument("--horizon", type=float, default=120.0, metavar="S", help="predict S seconds ahead (default 120)")
    p.add_argument("--model", choices=("straight", "turn", "both"), default="both",
                   help="motion model: straight line, constant turn rate, or both (default)")
    p.add_argument("--cadence", type=float, default=5.0, metavar="S",
                   help="predict at the first fix of each aircraft in every S seconds (default 5)")
    p.add_argument("--step", type=float, default=5.0, metavar="S", help="predicted paths: a point every S s (default 5)")
    p.add_argument("--near-miss", type=float, default=5.0, metavar="NM",
                   help="report paths passing within NM nautical miles of a zone without entering (default 5; 0: off)")
    p.add_argument("--confirm", type=int, default=None, metavar="N",
                   help="warn once N consecutive predictions agree (default from the tuned settings)")
    p.add_argument("--quiet-period", type=float, default=None, metavar="S",
                   help="a warning episode closes after S s without the prediction (default 30)")
    p.add_argument("--tolerance", type=float, default=30.0, metavar="S",
                   help="evaluation: an observed entry up to S s past the horizon still matches (default 30)")
    p.add_argument("--no-evaluate", action="store_true",
                   help="do not run detect on the recording to fill observed_entry_time / achieved_lead_s")
    p.add_argument("--format", choices=("jsonl", "csv", "parquet"),
                   help="output format (default: from the -o extension .jsonl .csv .parquet, else a table on a terminal, else jsonl)")
    p.add_argument("-o", "--output", metavar="PATH", help="write warnings here (default stdout)")
    p.add_argument("--max-gap", type=float, default=60.0, metavar="S",
                   help="split a track where fixes are more than S seconds apart (default 60)")
    p.add_argument("--column", action="append", default=[], metavar="NAME=COLUMN",
                   help="map a skyfence column to a file column (as for detect)")
    p.add_argument("--time-unit", choices=("s", "ms", "us", "ns", "iso"), help="unit of a mapped time column")
    p.add_argument("--altitude-unit", choices=("ft", "m"), help="unit of mapped altitude columns")
    p.add_argument("-q", "--quiet", action="store_true", help="no summary on stderr")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from .. import read_tracks, read_zones
    from .._output import check_writable, format_of, write
    from .._predict import NM, WarningMonitor, WarnSettings, evaluate
    from .._tracks import Tracks
    from ._detect import _check_unique, parse_columns

    if args.format is None and args.output:  # -o x.csv means csv
        args.format = format_of(args.output)

    t0 = time.perf_counter()
    over = {"horizon": args.horizon, "model": args.model, "cadence": args.cadence, "step": args.step,
            "near_miss_m": args.near_miss * NM, "max_gap": args.max_gap}  # fmt: skip
    if args.confirm is not None:
        over["confirm"] = args.confirm
    if args.quiet_period is not None:
        over["quiet"] = args.quiet_period
    if not (args.near_miss >= 0):  # NaN too; checked here, in the unit given
        raise ConfigError(f"--near-miss must be a non-negative number of nautical miles, got {args.near_miss:g}")
    # bad values fail before any reading, named as the options that set them
    settings = WarnSettings(**{**WarnSettings().__dict__, **over}).check(OPTION_NAMES)
    if not (args.tolerance >= 0):
        raise ConfigError(f"--tolerance must be a non-negative number of seconds, got {args.tolerance:g}")
    columns = parse_columns(args.column)
    check_writable(args.output)
    zones = [z for spec in (args.zones or ["world"]) for z in read_zones(spec)]
    _check_unique(zones)
    parts = [read_tracks(src, columns=columns, time_unit=args.time_unit, altitude_unit=args.altitude_unit)
             for src in args.tracks]  # fmt: skip
    tracks = Tracks.concat(parts)
    mon = WarningMonitor(zones, settings)
    warnings = mon.feed(tracks)
    entries = None
    if not args.no_evaluate:
        from .._detect import detect

        warnings, entries = evaluate(warnings, detect(tracks, zones, max_gap=settings.max_gap), settings.horizon,
                                     args.tolerance)  # fmt: skip
    fmt = args.format
    if fmt is None and args.output is None and sys.stdout.isatty():
        print(table_text(warnings))
    else:
        write(warnings, fmt or "jsonl", args.output)
    if not args.quiet:
        st = tracks.stats
        skipped = dict(st.skipped)
        if mon.stats.get("late fix"):
            skipped["late fix"] = mon.stats["late fix"]
        ms = mon.stats
        not_made = {f"below {settings.min_speed_kt:g} kt": ms["slow"], "no velocity": ms["no velocity"]}
        not_made = ", ".join(f"{v} {k}" for k, v in not_made.items() if v)
        ev = warnings.column("event").to_pylist()
        parts = [f"{st.rows_read} fixes read",
                 "skipped: " + ", ".join(f"{v} {k}" for k, v in sorted(skipped.items())) if skipped else "none skipped",
                 f"{ms['issue points']} prediction points" + (f" ({not_made}: not predicted)" if not_made else "")
                 + (f", {ms['suspect fix']} suspect fixes not used (integrity flags)" if ms["suspect fix"] else ""),
                 f"{ev.count('warning')} warnings", f"{ev.count('near-miss')} near misses"]  # fmt: skip
        if entries is not None:
            lead = entries["lead_s"].to_numpy()
            warned = lead[~np.isnan(lead)]
            med = f", median lead {np.median(warned):.0f} s" if len(warned) else ""
            parts.append(f"{len(lead)} entries observed, {len(warned)} warned before{med}")
        parts.append(f"{time.perf_counter() - t0:.2f} s")
        print("skyfence: " + "; ".join(parts), file=sys.stderr)
    return 0


def table_text(table, limit: int = 50) -> str:
    """A readable fixed-width table of the first ``limit`` events."""
    from .._output import records

    recs = records(table.slice(0, limit))
    head = (f"{'issued (UTC)':24}  {'icao24':6}  {'callsign':8}  {'zone':6}  {'event':9}  {'model':8}  "
            f"{'entry in':>8}  {'closest':>8}  {'achieved':>8}")  # fmt: skip
    lines = [head]
    for r in recs:
        lead = "-" if r["lead_s"] is None else f"{r['lead_s']:.0f} s"
        close = "-" if r["event"] == "warning" or r["closest_approach_m"] is None else f"{r['closest_approach_m'] / NM_M:.1f} NM"
        ach = "-" if r["achieved_lead_s"] is None else f"{r['achieved_lead_s']:.0f} s"
        lines.append(f"{r['issued_at']:24}  {r['icao24']:6}  {r['callsign'] or '-':8}  {r['zone']:6}  {r['event']:9}  "
                     f"{r['model']:8}  {lead:>8}  {close:>8}  {ach:>8}")  # fmt: skip
    if table.num_rows > limit:
        lines.append(f"... {table.num_rows - limit} more events (use -o FILE or --format to get them all)")
    return "\n".join(lines)


NM_M = 1852.0
OPTION_NAMES = {"horizon": "--horizon", "model": "--model", "cadence": "--cadence", "step": "--step",
                "near_miss_m": "--near-miss", "confirm": "--confirm", "quiet": "--quiet-period",
                "max_gap": "--max-gap"}  # fmt: skip
