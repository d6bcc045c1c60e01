#!/usr/bin/env python
"""Derive skyfence's ICAO 24-bit address -> state of registry table.

Usage::

    .venv/bin/python scripts/derive_icao24.py \\
        ../shared/data/identity/icao-registers.json \\
        [--out src/skyfence/data/icao24-blocks.json]

Input: ``icao-registers.json`` as shipped in the ``traffic`` package 2.13 (MIT):
the allocation table of ICAO Annex 10 Vol. III, Chapter 9 appendix (2nd ed.
2007, amendments to 88-A, 2013), one record per state with ``start``/``end``
(hex) and an English ``country`` name, plus "Unassigned (... region)" and
"ICAO (...)" records that enclose or coincide with state blocks.

What the script does:

1. Keeps every record that has an address range (states without one,
   Andorra, Palestine, Vatican City ..., cannot be told from their address).
2. **Flattens the nesting**: region reserves enclose the small state blocks
   allocated inside them, so every address gets the *smallest* range that
   contains it; of two ranges of equal size (``899000-8993FF``: Taiwan and
   "ICAO (special use)", which the source's Taiwan record notes in its
   comment) the state wins.
   Adjacent pieces with the same owner merge again.
3. **Maps each state to ISO 3166-1 alpha-3** with pycountry's exact
   ``lookup`` (no fuzzy matching: it would turn "Republic of Korea" into PRK),
   plus a hand-written table for the names pycountry does not know.  Codes are
   the ids of the ``world`` zones.  The script fails on any name it cannot map.
   Ranges that belong to no state (unassigned region reserves, ICAO temporary
   and special use) keep their label with an empty code.
4. Writes a compact JSON file: parallel lists ``start``, ``end`` (ints),
   ``state`` (alpha-3 or ""), ``name`` (English name or the reserve's label),
   sorted by ``start`` and non-overlapping, which the package loads into numpy
   arrays for :func:`numpy.searchsorted`.

Run it again whenever the source changes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pycountry

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "src" / "skyfence" / "data" / "icao24-blocks.json"

# Names in icao-registers.json that pycountry.countries.lookup() does not resolve
# exactly (checked one by one against ISO 3166-1).
OVERRIDES = {
    "Brunei": "BRN",
    "Cape Verde": "CPV",
    "Democratic Republic of the Congo": "COD",
    "Guinea Bissau": "GNB",
    "Ivory Coast": "CIV",
    "Kosovo": "XKX",  # user-assigned code, as in the world zones
    "Palestine": "PSE",
    "Republic of Korea": "KOR",
    "Russia": "RUS",
    "São Tomé and Príncipe": "STP",
    "The Netherlands": "NLD",
    "Turkey": "TUR",
    "Vatican City": "VAT",
}

# English names shipped for a few states whose source label is not the usual one.
NAMES = {
    "The Netherlands": "Netherlands",
    "Republic of Korea": "South Korea",
    "Democratic People's Republic of Korea": "North Korea",
    "Guinea Bissau": "Guinea-Bissau",
}


def alpha3(name: str) -> str:
    """ISO 3166-1 alpha-3 of a state name of the source, '' for reserves."""
    if name.startswith(("Unassigned", "ICAO")):
        return ""
    if name in OVERRIDES:
        return OVERRIDES[name]
    try:
        return pycountry.countries.lookup(name).alpha_3
    except LookupError:
        sys.exit(f"derive_icao24: no ISO 3166-1 code for {name!r}: add it to OVERRIDES")


def flatten(ranges: list[tuple[int, int, str, str]]) -> list[tuple[int, int, str, str]]:
    """Non-overlapping pieces, each owned by the smallest enclosing range."""
    cuts = sorted({r[0] for r in ranges} | {r[1] + 1 for r in ranges})
    pieces: list[tuple[int, int, str, str]] = []
    for lo, hi in zip(cuts, cuts[1:]):
        covering = [r for r in ranges if r[0] <= lo and hi - 1 <= r[1]]
        if not covering:
            continue
        # smallest first; of equal size, a state ("" code last) wins
        best = min(covering, key=lambda r: (r[1] - r[0], r[2] == ""))
        if pieces and pieces[-1][1] + 1 == lo and pieces[-1][2:] == best[2:]:
            pieces[-1] = (pieces[-1][0], hi - 1, best[2], best[3])
        else:
            pieces.append((lo, hi - 1, best[2], best[3]))
    return pieces


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("registers", type=Path)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)

    src = json.loads(args.registers.read_text(encoding="utf-8"))
    ranges = []
    for rec in src["registers"]:
        if "start" not in rec:
            continue
        name = rec["country"]
        ranges.append((int(rec["start"], 16), int(rec["end"], 16), alpha3(name), NAMES.get(name, name)))
    pieces = flatten(ranges)
    out = {
        "source": "icao-registers.json from the traffic package 2.13 (MIT), "
        "after ICAO Annex 10 Vol. III, Chapter 9 appendix; derived by scripts/derive_icao24.py",
        "licence": "MIT (traffic package)",
        "start": [p[0] for p in pieces],
        "end": [p[1] for p in pieces],
        "state": [p[2] for p in pieces],
        "name": [p[3] for p in pieces],
    }
    args.out.write_text(json.dumps(out, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    n_states = len({p[2] for p in pieces if p[2]})
    covered = sum(p[1] - p[0] + 1 for p in pieces if p[2])
    print(
        f"{len(pieces)} blocks, {n_states} states, {covered / 2**24:.1%} of the address space allocated "
        f"to a state -> {args.out}"
    )
    for p in pieces:
        print(f"  {p[0]:06x}-{p[1]:06x} {p[2] or '---'} {p[3]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
