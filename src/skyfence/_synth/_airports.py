"""Real commercial airports for synthetic traffic, with a size proxy.

Airports come from the ``airportsdata`` package (IATA-coded airports with a
real four-letter ICAO code; airbases, heliports, seaplane bases and airstrips
are left out by name).  ``airportsdata`` has no traffic figures, so each
airport's *weight* (its share of departures) is a proxy:

- ``International`` (or ``Intl``) in the name: 5, else 1;
- member of an IATA metropolitan area (a city served by several airports:
  London, New York, Tokyo ... from ``iata_macs.csv`` shipped with
  ``airportsdata``): weight times 2;
- then scaled per world region so that the regions' shares of departures are
  those of :data:`REGION_SHARE` (approximate shares of the world's scheduled
  flights: North America about a third, Europe and Asia-Pacific a quarter to a
  third each, the rest from Latin America, the Middle East and Africa).

Only ``region`` and ``international`` leave this module besides positions:
:mod:`._routes` uses the latter to send long-haul flights between
international airports only.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._errors import ConfigError

REGIONS = ("north-america", "europe", "asia-pacific", "latin-america", "middle-east", "africa")
REGION_SHARE = {
    "north-america": 0.32,
    "europe": 0.27,
    "asia-pacific": 0.29,
    "latin-america": 0.06,
    "middle-east": 0.035,
    "africa": 0.025,
}
_MIDDLE_EAST = {"AE", "SA", "QA", "KW", "BH", "OM", "YE", "IR", "IQ", "JO", "LB", "SY", "IL", "PS"}
_EUROPE_ATLANTIC = {"IS", "PT", "ES", "FO", "GB", "IE", "CY"}
_AFRICA_ISLANDS = {"MU", "RE", "SC", "MG", "KM", "YT", "CV", "SH", "ST"}
_NOT_COMMERCIAL = re.compile(
    r"air ?base|\bAFB\b|\bbase\b|army|naval|military|heliport|helipad|seaplane|water aerodrome|airstrip|\bstrip\b|"
    r"air station|\bRAF\b|\bRAAF\b",
    re.IGNORECASE,
)
_INTERNATIONAL = re.compile(r"international|\bintl\b", re.IGNORECASE)


@dataclass(frozen=True)
class Airports:
    """Airports as parallel arrays (index = airport number), sorted by latitude."""

    iata: np.ndarray  # <U3
    icao: np.ndarray  # <U4
    country: np.ndarray  # <U2 ISO 3166-1 alpha-2
    lat: np.ndarray  # float64 degrees
    lon: np.ndarray
    elevation_m: np.ndarray
    region: np.ndarray  # int8 index into REGIONS
    international: np.ndarray  # bool
    weight: np.ndarray  # float64, sums to 1
    xyz: np.ndarray  # (n, 3) unit vectors of the geodetic lat/lon, for fast angular tests

    def __len__(self) -> int:
        return len(self.iata)


def region_of(country: str, tz: str) -> str:
    """World region of an airport from its country and time zone."""
    area = tz.split("/", 1)[0]
    if country in ("US", "CA"):
        return "north-america"
    if country in _MIDDLE_EAST:
        return "middle-east"
    if country in _EUROPE_ATLANTIC or area == "Europe":
        return "europe"
    if country in _AFRICA_ISLANDS or area == "Africa":
        return "africa"
    if area in ("America", "Atlantic"):
        return "latin-america"
    return "asia-pacific"


def parse_regions(text: str | None) -> tuple[str, ...]:
    """``"europe,middle-east"`` -> region names; ``None``/``"world"`` -> all."""
    if text is None or text.strip().lower() in ("", "world", "all"):
        return REGIONS
    names = tuple(dict.fromkeys(s.strip().lower() for s in text.split(",") if s.strip()))
    bad = [n for n in names if n not in REGIONS]
    if bad or not names:
        raise ConfigError(
            f"--region {text!r}: unknown region {', '.join(map(repr, bad)) or '(none)'}; "
            f"use world or a comma-separated list of {', '.join(REGIONS)}"
        )
    return names


_CACHE: dict = {}


def load_airports(regions: tuple[str, ...] = REGIONS) -> Airports:
    """Commercial airports of ``regions``, weights normalised to 1."""
    key = tuple(regions)
    if key in _CACHE:
        return _CACHE[key]
    import airportsdata

    data = airportsdata.load("IATA")
    macs = Path(airportsdata.__file__).with_name("iata_macs.csv")
    metro = set()
    if macs.is_file():
        with macs.open(encoding="utf-8") as f:
            metro = {row["Airport Code"] for row in csv.DictReader(f)}
    rows = [
        a for a in data.values()
        if re.fullmatch(r"[A-Z]{4}", a["icao"] or "") and re.fullmatch(r"[A-Z]{3}", a["iata"] or "")
        and not _NOT_COMMERCIAL.search(a["name"])
    ]  # fmt: skip
    rows.sort(key=lambda a: (a["lat"], a["iata"]))  # by latitude: destination search scans a band
    reg_idx = {r: i for i, r in enumerate(REGIONS)}
    region = np.array([reg_idx[region_of(a["country"], a["tz"] or "")] for a in rows], dtype=np.int8)
    intl = np.array([bool(_INTERNATIONAL.search(a["name"])) for a in rows])
    base = np.where(intl, 5.0, 1.0) * np.array([2.0 if a["iata"] in metro else 1.0 for a in rows])
    keep = np.isin(region, [reg_idx[r] for r in regions])
    weight = np.zeros(len(rows))
    share_sum = sum(REGION_SHARE[r] for r in regions)
    for r in regions:
        m = region == reg_idx[r]
        if m.any():
            weight[m] = base[m] / base[m].sum() * REGION_SHARE[r] / share_sum
    sel = np.flatnonzero(keep)
    w = weight[sel]
    lat = np.array([rows[i]["lat"] for i in sel], dtype=np.float64)
    lon = np.array([rows[i]["lon"] for i in sel], dtype=np.float64)
    la, lo = np.radians(lat), np.radians(lon)
    out = Airports(
        iata=np.array([rows[i]["iata"] for i in sel], dtype="<U3"),
        icao=np.array([rows[i]["icao"] for i in sel], dtype="<U4"),
        country=np.array([rows[i]["country"] for i in sel], dtype="<U2"),
        lat=lat,
        lon=lon,
        elevation_m=np.array([float(rows[i]["elevation"] or 0.0) * 0.3048 for i in sel]),
        region=region[sel],
        international=intl[sel],
        weight=w / w.sum(),
        xyz=np.ascontiguousarray(np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=1)),
    )
    _CACHE[key] = out
    return out
