"""Who flies: ICAO 24-bit addresses and airline callsigns per aircraft.

Each aircraft (slot) is registered in the country of its home airport (the
origin of its first leg): its address is drawn, without repetition inside the
block where the block allows, from that state's ICAO address block
(``data/icao_blocks.csv``, derived from the ICAO Annex 10 assignment table by
``scripts/derive_icao_blocks.py``).  A territory without a block of its own
uses its sovereign state's (Puerto Rico -> United States, Reunion -> France,
Hong Kong -> China, ...); a country with none at all uses the United States
block.

Callsigns are an airline's ICAO designator and a flight number, padded to
8 characters as OpenSky writes them (``DLH4TR  ``).  The designator is drawn
per aircraft from real airlines of its country of registration
(:data:`AIRLINES`, a short list of real designators); for a country not
listed, a synthetic designator ``X`` + the country code (``XNG`` for an
aircraft registered in Nigeria), which may coincide with a real one.
"""

from __future__ import annotations

import csv
from importlib import resources

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


def icao_blocks() -> dict[str, tuple[int, int]]:
    """ISO 3166-1 alpha-2 -> (first, last) 24-bit address of the state's block."""
    text = resources.files("skyfence.data").joinpath("icao_blocks.csv").read_text(encoding="utf-8")
    return {r["iso2"]: (int(r["start"], 16), int(r["end"], 16)) for r in csv.DictReader(text.splitlines())}


def assign(rng: np.random.Generator, country: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(icao24 as 6-character hex, airline designator) for aircraft registered in ``country``."""
    blocks = icao_blocks()
    address = np.zeros(len(country), np.int64)
    airline = np.empty(len(country), dtype="<U3")
    for c in np.unique(country):
        idx = np.flatnonzero(country == c)
        state = SOVEREIGN.get(str(c), str(c))
        lo, hi = blocks.get(state, blocks["US"])
        size = hi - lo + 1
        if len(idx) <= size:
            address[idx] = lo + rng.choice(size, len(idx), replace=False)
        else:
            address[idx] = lo + rng.integers(0, size, len(idx))
        names = AIRLINES.get(state) or AIRLINES.get(str(c)) or ("X" + state,)
        airline[idx] = np.asarray(names)[rng.integers(0, len(names), len(idx))]
    return np.char.mod("%06x", address), airline
