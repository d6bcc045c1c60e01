"""Who flies: ICAO 24-bit addresses and airline callsigns per aircraft.

Each aircraft (slot) is registered in the country of its home airport (the
origin of its first leg): its address is drawn, without repetition where the
block allows, from that state's ICAO allocation block (the blocks that
:mod:`skyfence.identity` ships, ``data/icao24-blocks.json``), leaving out
the ranges states use for military and state aircraft (``identity-rules.json``),
so ``skyfence identify`` names the right state of registry and no synthetic
airliner looks military.  A territory without a block of its own uses its
sovereign state's (Puerto Rico -> United States, Reunion -> France, Hong
Kong -> China, ...); a country with none at all uses the United States'.
Airports' ISO alpha-2 codes become the blocks' alpha-3 codes through the
shipped ``world`` borders' table.

Callsigns are an airline's ICAO designator and a flight number, padded to
8 characters as OpenSky writes them (``DLH4TR  ``).  The designator is drawn
per aircraft from real airlines of its country of registration
(:data:`AIRLINES`, a short list of real designators); for a country not
listed, a synthetic designator ``X`` + the country code (``XNG`` for an
aircraft registered in Nigeria), which may coincide with a real one.
"""

from __future__ import annotations

import numpy as np

SOVEREIGN = {
    **dict.fromkeys(("PR", "GU", "VI", "AS", "MP", "UM"), "US"),
    **dict.fromkeys(("RE", "GP", "MQ", "GF", "PF", "NC", "YT", "PM", "WF", "BL", "MF"), "FR"),
    **dict.fromkeys(("AW", "CW", "SX", "BQ"), "NL"),
    **dict.fromkeys(("GL", "FO"), "DK"),
    **dict.fromkeys(("HK", "MO"), "CN"),
    **dict.fromkeys(("BM", "KY", "VG", "TC", "AI", "MS", "GI", "FK", "IM", "JE", "GG", "SH", "IO"), "GB"),
    **dict.fromkeys(("NU", "CK", "TK"), "NZ"),
    **dict.fromkeys(("NF", "CX", "CC"), "AU"),
    "SJ": "NO",
}

AIRLINES = {
    "US": ("AAL", "DAL", "UAL", "SWA", "ASA", "JBU", "SKW", "FFT", "NKS", "RPA", "ENY"),
    "CA": ("ACA", "WJA", "JZA"),
    "MX": ("AMX", "VOI", "VIV"),
    "BR": ("TAM", "GLO", "AZU"),
    "AR": ("ARG",),
    "CL": ("LAN", "SKU"),
    "CO": ("AVA",),
    "PE": ("LPE",),
    "GB": ("BAW", "EZY", "VIR", "LOG", "EXS"),
    "IE": ("EIN", "RYR"),
    "DE": ("DLH", "EWG", "CFG", "CLH"),
    "FR": ("AFR", "HOP", "TVF"),
    "CH": ("SWR", "EDW", "EZS"),
    "AT": ("AUA",),
    "NL": ("KLM", "TRA"),
    "BE": ("BEL",),
    "LU": ("LGL",),
    "ES": ("IBE", "VLG", "AEA", "ANE"),
    "PT": ("TAP",),
    "IT": ("ITY",),
    "DK": ("SAS",),
    "NO": ("NAX",),
    "SE": ("SAS",),
    "FI": ("FIN",),
    "PL": ("LOT",),
    "CZ": ("CSA",),
    "HU": ("WZZ",),
    "RO": ("ROT",),
    "GR": ("AEE",),
    "TR": ("THY", "PGT", "SXS"),
    "RU": ("AFL", "SDM", "SBI"),
    "UA": ("AUI",),
    "IL": ("ELY",),
    "AE": ("UAE", "ETD", "FDB"),
    "QA": ("QTR",),
    "SA": ("SVA",),
    "EG": ("MSR",),
    "ET": ("ETH",),
    "KE": ("KQA",),
    "ZA": ("SAA",),
    "MA": ("RAM",),
    "IN": ("AIC", "IGO"),
    "PK": ("PIA",),
    "CN": ("CCA", "CES", "CSN", "CHH", "CXA"),
    "HK": ("CPA",),
    "TW": ("EVA", "CAL"),
    "JP": ("JAL", "ANA"),
    "KR": ("KAL", "AAR"),
    "SG": ("SIA",),
    "MY": ("MAS", "AXM"),
    "TH": ("THA",),
    "VN": ("HVN",),
    "ID": ("GIA",),
    "PH": ("PAL",),
    "AU": ("QFA", "VOZ", "JST"),
    "NZ": ("ANZ",),
}


def alpha3_of() -> dict[str, str]:
    """ISO 3166-1 alpha-2 -> alpha-3, from the shipped world borders' table (no geometry decoded)."""
    from ..zones._world import DATA

    with np.load(DATA, allow_pickle=False) as npz:
        return {str(a2): str(a3) for a2, a3 in zip(npz["alpha_2"], npz["codes"]) if str(a2)}


def civil_ranges() -> dict[str, np.ndarray]:
    """Alpha-3 -> (k, 2) inclusive address ranges of the state's blocks, less military/state blocks."""
    from ..identity._blocks import load_blocks
    from ..identity._rules import load_rules

    blocks = load_blocks()
    mil = load_rules().military
    out: dict[str, list] = {}
    for lo, hi, state in zip(blocks.start.astype(np.int64), blocks.end.astype(np.int64), blocks.state):
        if not state:
            continue
        pieces = [(int(lo), int(hi))]
        for mlo, mhi in zip(mil.start.astype(np.int64), mil.end.astype(np.int64)):
            nxt = []
            for a, b in pieces:
                if mhi < a or mlo > b:
                    nxt.append((a, b))
                    continue
                if a < mlo:
                    nxt.append((a, int(mlo) - 1))
                if mhi < b:
                    nxt.append((int(mhi) + 1, b))
            pieces = nxt
        out.setdefault(str(state), []).extend(pieces)
    return {k: np.array(v, dtype=np.int64).reshape(-1, 2) for k, v in out.items() if v}


def assign(rng: np.random.Generator, country: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(icao24 as 6-character hex, airline designator) for aircraft registered in ``country`` (alpha-2)."""
    a3 = alpha3_of()
    ranges = civil_ranges()
    address = np.zeros(len(country), np.int64)
    airline = np.empty(len(country), dtype="<U3")
    for c in np.unique(country):
        idx = np.flatnonzero(country == c)
        c = str(c)
        state2 = c if a3.get(c) in ranges else SOVEREIGN.get(c, "US")
        if a3.get(state2) not in ranges:
            state2 = "US"
        r = ranges[a3[state2]]
        sizes = r[:, 1] - r[:, 0] + 1
        ends = np.cumsum(sizes)
        total = int(ends[-1])
        if len(idx) <= total:
            offset = rng.choice(total, len(idx), replace=False)
        else:
            offset = rng.integers(0, total, len(idx))
        piece = np.searchsorted(ends, offset, side="right")
        address[idx] = r[piece, 0] + offset - (ends[piece] - sizes[piece])
        names = AIRLINES.get(c) or AIRLINES.get(state2) or ("X" + state2,)
        airline[idx] = np.asarray(names)[rng.integers(0, len(names), len(idx))]
    return np.char.mod("%06x", address), airline
