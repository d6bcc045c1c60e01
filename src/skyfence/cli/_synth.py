"""``skyfence synth``: write synthetic global traffic as OpenSky state vectors (Parquet)."""

from __future__ import annotations

import argparse
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("out", metavar="OUT_DIR", help="output directory: OUT_DIR/date=YYYY-MM-DD/hour=HH/part-N.parquet")
    p.add_argument("--aircraft", metavar="N",
                   help="mean number of aircraft airborne at any moment (default 1000; 10000 with --fixes alone)")
    p.add_argument("--hours", metavar="H", help="length of the window in hours (default 1)")
    p.add_argument("--fixes", metavar="N",
                   help="write exactly N state vectors (the window or the aircraft follow when not given)")
    p.add_argument("--start", default="2026-06-01T00:00:00Z", metavar="TIME",
                   help="start of the window, ISO 8601 UTC (default 2026-06-01T00:00:00Z)")
    p.add_argument("--rate", default=1, metavar="S",
                   help="seconds between two state vectors of an aircraft (default 1)")
    p.add_argument("--seed", default=0, help="random seed (default 0); same seed, same files")
    p.add_argument("--region", default="world", metavar="R[,R...]",
                   help="world (default) or some of north-america, europe, asia-pacific, latin-america, "
                        "middle-east, africa")  # fmt: skip
    p.add_argument("--gaps", default=0.0, metavar="F",
                   help="fraction of flight time in 5-55 s coverage gaps that repeat the last position "
                        "(0 to 0.5, default 0)")  # fmt: skip
    p.add_argument("--compression", default="zstd", metavar="CODEC",
                   help="Parquet compression: zstd (default), snappy, lz4, gzip or none")
    p.add_argument("--row-group-rows", default=1_000_000, metavar="N",
                   help="target rows per row group (default 1,000,000)")
    p.add_argument("--file-rows", default=10_000_000, metavar="N",
                   help="at most N rows per file; an hour with more gets part-1, part-2 ... (default 10,000,000)")
    p.add_argument("--overwrite", action="store_true", help="replace the partitions of an existing OUT_DIR")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress and no summary")


def _number(args: argparse.Namespace, name: str, kind):
    """Option ``name`` as ``kind`` (``1_000_000`` and ``1,000,000`` allowed); bad text is one line, exit 2."""
    from .._errors import ConfigError

    text = getattr(args, name)
    if text is None:
        return None
    try:
        return kind(str(text).replace("_", "").replace(",", ""))
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ConfigError(f"--{name.replace('_', '-')} {text!r}: not {what}") from None


def run(args: argparse.Namespace) -> int:
    from .._synth import synth

    summary = synth(
        args.out, aircraft=_number(args, "aircraft", int), hours=_number(args, "hours", float),
        start=args.start, rate=_number(args, "rate", int), seed=_number(args, "seed", int),
        fixes=_number(args, "fixes", int), region=args.region, gaps=_number(args, "gaps", float),
        overwrite=args.overwrite,
        row_group_rows=_number(args, "row_group_rows", int), file_rows=_number(args, "file_rows", int),
        compression=args.compression,
        progress=not args.quiet and sys.stderr.isatty(),
    )  # fmt: skip
    wanted = _number(args, "fixes", int)
    if wanted is not None and summary.fixes < wanted:
        print(f"skyfence synth: warning: the window ended after {summary.fixes:,} of the {wanted:,} fixes asked for; "
              "give a longer --hours or more --aircraft", file=sys.stderr)  # fmt: skip
    if not args.quiet:
        print(
            f"skyfence synth: {summary.fixes:,} state vectors of {summary.legs:,} flights "
            f"({summary.aircraft_airborne:,} airborne on average, fleet {summary.fleet:,}) "
            f"from {summary.start} to {summary.end} in {len(summary.files)} files under {summary.out}; "
            f"{summary.seconds:.1f} s, {summary.fixes_per_s / 1e6:.2f} M fixes/s",
            file=sys.stderr,
        )
    return 0
