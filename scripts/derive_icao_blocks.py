#!/usr/bin/env python
"""Derive the ICAO 24-bit address blocks per state that ``skyfence synth`` draws from.

Usage::

    .venv/bin/python -m pip install -e '.[derive]'
    .venv/bin/python scripts/derive_icao_blocks.py \\
        ../shared/data/identity/icao-registers.json [--out src/skyfence/data/icao_blocks.csv]

Input: ``icao-registers.json`` (from the ``traffic`` 2.13 wheel, MIT): the
assignment table of ICAO Annex 10 Vol. III, Appendix to Chapter 9, one record
per state of registry with ``start``/``end`` (hex) and the state's English
name.  Output: ``iso2,start,end,country`` (addresses as 6-digit lowercase hex),
one line per state, the state named by its ISO 3166-1 alpha-2 code (pycountry,
with hand-written codes for the names pycountry does not resolve).  Blocks
that belong to no state (``Unassigned ...``, ``ICAO ...``, ``United Nations``)
are left out, and so are states the register gives no block (Andorra,
Dominica, Kosovo, ...).  The script fails if a state name cannot be resolved.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Names in the register that pycountry's lookup does not resolve to the state meant.
BY_HAND = {
    "Ivory Coast": "CI",
    "The Netherlands": "NL",
    "Kosovo": "XK",
    "Republic of Korea": "KR",
    "Democratic People's Republic of Korea": "KP",
    "Republic of the Congo": "CG",
    "Democratic Republic of the Congo": "CD",
    "Federated States of Micronesia": "FM",
    "Guinea Bissau": "GW",
    "Vatican City": "VA",
    "Cape Verde": "CV",
    "Laos": "LA",
    "Russia": "RU",
    "Iran": "IR",
    "Syria": "SY",
    "Taiwan": "TW",
    "Vietnam": "VN",
    "Bolivia": "BO",
    "Brunei": "BN",
    "Moldova": "MD",
    "Tanzania": "TZ",
    "Palestine": "PS",
    "Turkey": "TR",
    "Czech Republic": "CZ",
    "São Tomé and Príncipe": "ST",
    "Eswatini": "SZ",
}
NOT_A_STATE = ("Unassigned", "ICAO", "United Nations")


def main(argv=None) -> int:
    import pycountry

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("registers", type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "src" / "skyfence" / "data" / "icao_blocks.csv")
    args = ap.parse_args(argv)
    registers = json.loads(args.registers.read_text(encoding="utf-8"))["registers"]
    rows = []
    for r in registers:
        name = r["country"]
        if name.startswith(NOT_A_STATE) or "start" not in r:  # a few states have no block of their own
            continue
        code = BY_HAND.get(name)
        if code is None:
            found = pycountry.countries.get(name=name) or pycountry.countries.get(common_name=name)
            if found is None:
                raise SystemExit(f"derive_icao_blocks: cannot resolve state name {name!r}; add it to BY_HAND")
            code = found.alpha_2
        start, end = int(r["start"], 16), int(r["end"], 16)
        if not 0 <= start <= end < 1 << 24:
            raise SystemExit(f"derive_icao_blocks: bad block {r['start']}-{r['end']} for {name}")
        rows.append((code, start, end, name))
    codes = [r[0] for r in rows]
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        raise SystemExit(f"derive_icao_blocks: several blocks for {', '.join(dupes)}")
    rows.sort()
    with args.out.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["iso2", "start", "end", "country"])
        for code, start, end, name in rows:
            w.writerow([code, f"{start:06x}", f"{end:06x}", name])
    print(f"{len(rows)} state blocks written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
