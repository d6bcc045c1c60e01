"""Vertical limits from text (OpenAir ``AL``/``AH``, GeoJSON strings) and JSON objects.

Accepted text (case and spacing free)::

    GND  SFC  SURFACE  0                      -> SFC
    UNL  UNLIM  UNLIMITED  UNLTD              -> UNL
    FL95  FL 95  FL095                        -> Limit(9500, "FL")
    2500ft  2500 ft  2500 ft MSL  2500FT AMSL  2500 ft ASL  2500 ft ALT
                                              -> Limit(2500, "MSL")
    1000ft AGL  1000 ft GND  1000 ft SFC  1000 ft AGND
                                              -> Limit(1000, "AGL")
    6500 ft STD                               -> Limit(6500, "FL")   (pressure altitude)
    1200 m  1200 m MSL  300 m AGL             -> converted to feet (text keeps "1200 m MSL")
    3000 MSL  1500 AGL                        -> feet implied when a datum is given

A number with neither unit nor datum is refused (feet or metres?), except 0.
Values given in feet or flight levels carry no ``text``: ``str(limit)`` prints
them canonically (``FL95``, ``2500 ft MSL``); values converted from metres keep
the original wording in ``text``.

A floor at 0 in any reference is the surface (``SFC``).
"""

from __future__ import annotations

import math
import re

from ._model import SFC, UNL, Limit

FT_PER_M = 1 / 0.3048

_SFC_WORDS = {"GND", "SFC", "SURFACE", "0"}
_UNL_WORDS = {"UNL", "UNLIM", "UNLIMITED", "UNLTD"}
_FL = re.compile(r"^FL\s*(\d+(?:\.\d+)?)$")
_VALUE = re.compile(
    r"^(-?\d+(?:\.\d+)?)\s*"
    r"(FT|FEET|FOOT|F|M|MTR|METRES|METERS|METRE|METER)?\.?\s*"
    r"(MSL|AMSL|ASL|ALT|AGL|AGND|GND|SFC|STD|QNH|QFE)?$"
)
_DATUM = {
    None: "MSL",
    "MSL": "MSL",
    "AMSL": "MSL",
    "ASL": "MSL",
    "ALT": "MSL",
    "QNH": "MSL",
    "AGL": "AGL",
    "AGND": "AGL",
    "GND": "AGL",
    "SFC": "AGL",
    "QFE": "AGL",
    "STD": "FL",
}


class LimitError(ValueError):
    """A vertical limit that cannot be understood (message: why)."""


def parse_limit(text: str) -> Limit:
    """Parse one vertical limit written as text; raise ``LimitError``."""
    if not isinstance(text, str):
        raise LimitError(f"expected text, got {type(text).__name__} {text!r}")
    raw = " ".join(text.split())
    t = raw.upper()
    if not t:
        raise LimitError("empty vertical limit")
    if t in _SFC_WORDS:
        return SFC
    if t in _UNL_WORDS:
        return UNL
    m = _FL.match(t)
    if m:
        return Limit(float(m.group(1)) * 100.0, "FL")
    m = _VALUE.match(t)
    if m:
        value = float(m.group(1))
        unit, datum = m.group(2), m.group(3)
        if unit is None and datum is None:
            if value == 0:
                return SFC
            raise LimitError(f"vertical limit {raw!r} has no unit (write e.g. '{m.group(1)} ft MSL' or 'FL{m.group(1)}')")
        ref = _DATUM[datum]
        metres = unit is not None and unit.startswith("M")
        ft = value * FT_PER_M if metres else value
        if ref == "AGL" and ft == 0:
            return SFC
        return Limit(ft, ref, raw if metres else "")
    raise LimitError(
        f"cannot parse vertical limit {raw!r} (expected e.g. GND, FL95, 2500 ft MSL, 1000 ft AGL, 600 m, UNL)"
    )


_JSON_UNITS = {"FT": "ft", "FEET": "ft", "F": "ft", "M": "m", "METRES": "m", "METERS": "m", "FL": "FL"}
_JSON_DATUMS = {
    "MSL": "MSL",
    "AMSL": "MSL",
    "ASL": "MSL",
    "QNH": "MSL",
    "AGL": "AGL",
    "GND": "AGL",
    "SFC": "AGL",
    "QFE": "AGL",
    "STD": "FL",
}


def limit_from_json(obj) -> Limit:
    """A limit given in JSON: a string (see ``parse_limit``) or an object.

    Object: ``{"value": 2500, "unit": "ft"|"m"|"FL", "datum": "MSL"|"AGL"|"SFC"|"STD"}``;
    ``unit`` defaults to ``ft``, ``datum`` to ``MSL`` (``STD`` for ``FL``).
    ``SFC`` (and ``GND``) as a datum means "height above the surface", i.e.
    AGL; ``{"datum": "SFC"}`` or a value of 0 above the surface is the surface
    itself.  ``{"datum": "UNL"}`` is unlimited.
    """
    if isinstance(obj, str):
        return parse_limit(obj)
    if not isinstance(obj, dict):
        raise LimitError(
            f"expected a string like '2500 ft MSL' or an object "
            f'{{"value": 2500, "unit": "ft", "datum": "MSL"}}, got {type(obj).__name__} {obj!r}'
        )
    unknown = set(obj) - {"value", "unit", "datum"}
    if unknown:
        raise LimitError(f"unknown key(s) {', '.join(sorted(map(repr, unknown)))} in vertical limit {obj!r}")
    datum_raw = obj.get("datum")
    if datum_raw is not None and not isinstance(datum_raw, str):
        raise LimitError(f"'datum' must be a string, got {datum_raw!r}")
    datum_key = datum_raw.strip().upper() if datum_raw else None
    value = obj.get("value")
    if value is None:
        if datum_key in ("SFC", "GND"):
            return SFC
        if datum_key in ("UNL", "UNLIM", "UNLIMITED"):
            return UNL
        raise LimitError(f"vertical limit {obj!r} has no 'value'")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise LimitError(f"'value' must be a finite number, got {value!r}")
    unit_raw = obj.get("unit", "ft")
    if not isinstance(unit_raw, str) or unit_raw.strip().upper() not in _JSON_UNITS:
        raise LimitError(f"unknown unit {unit_raw!r} (ft, m or FL)")
    unit = _JSON_UNITS[unit_raw.strip().upper()]
    if unit == "FL":
        if datum_key not in (None, "STD"):
            raise LimitError(f"a flight level has no datum {datum_raw!r}")
        return Limit(float(value) * 100.0, "FL")
    if datum_key is None:
        ref = "MSL"
    elif datum_key in _JSON_DATUMS:
        ref = _JSON_DATUMS[datum_key]
    else:
        raise LimitError(f"unknown datum {datum_raw!r} (MSL, AGL, SFC or STD)")
    ft = float(value) * (FT_PER_M if unit == "m" else 1.0)
    if ref == "AGL" and ft == 0:
        return SFC
    text = f"{value:g} m {datum_key or 'MSL'}" if unit == "m" else ""
    return Limit(ft, ref, text)


def as_floor(limit: Limit) -> Limit:
    """A lower limit: 0 in any reference is the surface."""
    if limit.ref in ("FL", "MSL", "AGL") and limit.ft == 0:
        return SFC
    return limit


def check_band(lower: Limit, upper: Limit) -> str | None:
    """Why ``lower``/``upper`` make no vertical band, or None when they do."""
    if lower.ref == "UNL":
        return "lower limit is UNL"
    if upper.ref == "SFC" or (upper.ref != "UNL" and upper.ft <= 0):
        return f"upper limit {upper} is not above the surface"
    if lower.ref == upper.ref and upper.ft <= lower.ft:
        return f"upper limit {upper} is not above lower limit {lower}"
    return None
