"""``skyfence synth``: write synthetic global traffic as OpenSky state vectors (Parquet)."""

from __future__ import annotations

import argparse
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("out", metavar="OUT_DIR", help="output directory: OUT_DIR/date=YYYY-MM-DD/hour=HH/part-N.parquet")
    p.add_argument("--aircraft", type=_number(int), metavar="N",
                   help="mean number of aircraft airborne at any moment (default 1000; 10000 with --fixes alone)")
    p.add_argument("--hours", type=_number(float), metavar="H", help="length of the window in hours (default 1)")
    p.add_argument("--fixes", type=_number(int), metavar="N",
                   help="write exactly N state vectors (the window or the aircraft follow when not given)")
    p.add_argument("--start", default="2026-06-01T00:00:00Z", metavar="TIME",
                   help="start of the window, ISO 8601 UTC (default 2026-06-01T00:00:00Z)")
    p.add_argument("--rate", type=_number(int), default=1, metavar="S",
                   help="seconds between two state vectors of an aircraft (default 1)")
    p.add_argument("--seed", type=_number(int), default=0, help="random seed (default 0); same seed, same files")
    p.add_argument("--region", default="world", metavar="R[,R...]",
                   help="world (default) or some of north-america, europe, asia-pacific, latin-america, "
                        "middle-east, africa")  # fmt: skip
    p.add_argument("--compression", default="zstd", choices=("zstd", "snappy", "lz4", "gzip", "none"),
                   help="Parquet compression (default zstd)")
    p.add_argument("--row-group-rows", type=_number(int), default=1_000_000, metavar="N",
                   help="target rows per row group (default 1,000,000)")
    p.add_argument("--file-rows", type=_number(int), default=10_000_000, metavar="N",
                   help="at most N rows per file; an hour with more gets part-1, part-2 ... (default 10,000,000)")
    p.add_argument("--overwrite", action="store_true", help="replace the partitions of an existing OUT_DIR")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress and no summary")


def _number(kind):
    """argparse type: a number, with errors through ConfigError (one line, exit 2)."""

    def parse(text: str):
        from .._errors import ConfigError

        try:
            value = kind(text.replace("_", "").replace(",", ""))
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise ConfigError(f"{text!r} is not {what}") from None
        return value

    parse.__name__ = kind.__name__
    return parse


def run(args: argparse.Namespace) -> int:
    from .._synth import synth

    summary = synth(
        args.out, aircraft=args.aircraft, hours=args.hours, start=args.start, rate=args.rate, seed=args.seed,
        fixes=args.fixes, region=args.region, overwrite=args.overwrite, row_group_rows=args.row_group_rows,
        file_rows=args.file_rows, compression=args.compression,
        progress=not args.quiet and sys.stderr.isatty(),
    )  # fmt: skip
    if not args.quiet:
        print(
            f"skyfence synth: {summary.fixes:,} state vectors of {summary.legs:,} flights "
            f"({summary.aircraft_airborne:,} airborne on average, fleet {summary.fleet:,}) "
            f"from {summary.start} to {summary.end} in {len(summary.files)} files under {summary.out}; "
            f"{summary.seconds:.1f} s, {summary.fixes_per_s / 1e6:.2f} M fixes/s",
            file=sys.stderr,
        )
    return 0
