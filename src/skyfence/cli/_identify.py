"""``skyfence identify HEX... [--callsign CS]... [--watchlist FILE]...``

For an analyst checking one aircraft (or a few): state of registry, category
and the evidence for it.  A table on a terminal, JSON Lines otherwise.
"""

from __future__ import annotations

import argparse
import sys

from .._errors import ConfigError, InputError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("hex", nargs="+", metavar="HEX", help="ICAO 24-bit address, 6 hex digits (e.g. 4b8e2a)")
    p.add_argument("--callsign", action="append", default=[], metavar="CS",
                   help="callsign; give it once per HEX, in the same order")
    p.add_argument("--watchlist", action="append", default=[], metavar="FILE",
                   help="plane-alert-db CSV watchlist; repeatable, the first listing an address wins")
    p.add_argument("--format", choices=("table", "jsonl"), help="default: table on a terminal, jsonl otherwise")
    p.add_argument("-q", "--quiet", action="store_true", help="no watchlist warnings on stderr")


def run(args: argparse.Namespace) -> int:
    from .._output import write
    from ..identity import identify, read_watchlist
    from ..identity._blocks import is_icao24

    if args.callsign and len(args.callsign) != len(args.hex):
        raise ConfigError(f"--callsign given {len(args.callsign)} times for {len(args.hex)} addresses; "
                          "give one per HEX, in the same order")
    for h in args.hex:
        if not is_icao24(h):
            raise ConfigError(f"not an ICAO 24-bit address (6 hex digits): {h!r}")
    watchlists = [read_watchlist(f) for f in args.watchlist]
    if not args.quiet:
        for wl in watchlists:
            for line in wl.report():
                print(f"skyfence: {line}", file=sys.stderr)
    try:
        table = identify(args.hex, args.callsign or None, watchlists=watchlists)
    except InputError as err:  # pragma: no cover - the arguments were checked above
        raise ConfigError(str(err)) from None
    fmt = args.format or ("table" if sys.stdout.isatty() else "jsonl")
    if fmt == "table":
        print(table_text(table))
    else:
        write(table, "jsonl", None)
    return 0


def table_text(table) -> str:
    """One block per aircraft: the fields, then the evidence on its own line."""
    cols = ("icao24", "state", "country", "category", "registration", "operator", "type", "source", "confidence")
    recs = table.to_pylist()
    widths = {c: max([len(c)] + [len(str(r[c] or "-")) for r in recs]) for c in cols}
    lines = ["  ".join(c.ljust(widths[c]) for c in cols)]
    for r in recs:
        lines.append("  ".join(str(r[c] or "-").ljust(widths[c]) for c in cols))
        if r["tags"]:
            lines.append(f"    tags: {r['tags']}")
        lines.append(f"    evidence: {r['evidence']}")
    return "\n".join(lines)
