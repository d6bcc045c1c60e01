"""Zones from the airspace JSON of the ``traffic`` library.

Two shapes of file, told apart by content:

**traffic airspace** (``Airspace.export_json()``, e.g. ``LFBOTMA.json``)::

    {"name": "SIV TOULOUSE", "type": "AUA", "designator": "LFBOTMA" (optional),
     "shapes": [{"lower": 0.0, "upper": 65.0, "polygon": {GeoJSON Polygon}}, ...]}

``lower`` and ``upper`` are **flight levels** (hundreds of feet, pressure
altitude): traffic compares ``100 * lower < altitude_ft < 100 * upper`` against
barometric altitude.  A lower level of 0 (or below, ``null``, ``-Infinity``) is
the surface; an upper level of ``null``, ``Infinity`` or 999 and above (the
EUROCONTROL convention for "unlimited") is ``UNL``.  Each shape (vertical
layer) becomes one zone, ids ``<slug of name>-1``, ``-2`` ... in file order,
with ``properties["layer"]`` = 1, 2 ...

**EUROCONTROL FIR/UIR GeoJSON** (``eurofirs.json`` as shipped with traffic): a
FeatureCollection whose properties are ``IDENT``, ``NAME``, ``TYPE``,
``LOWERLIMIT``/``LOWERUNIT``, ``UPPERLIMIT``/``UPPERUNIT`` (and ``ICAO``,
``EFFECTDATE`` ...).  Units ``FL`` (flight level; 999 = unlimited), ``FT`` and
``M`` (above mean sea level; metres converted to feet); a lower limit of 0 is
the surface.  id = ``IDENT``, name = ``NAME``, kind = ``TYPE``.
"""

from __future__ import annotations

import math

from .._errors import ZoneFormatError
from ._limits import FT_PER_M, check_band
from ._model import SFC, UNL, Limit, Zone
from ._util import UniqueIds, finish_geometry, json_polygon, slug

UNLIMITED_FL = 999

EUROCONTROL_KEYS = ("UPPERLIMIT", "LOWERLIMIT")


def is_traffic_airspace(data) -> bool:
    return isinstance(data, dict) and isinstance(data.get("shapes"), list)


def is_eurocontrol(data) -> bool:
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        return False
    features = data.get("features")
    if not isinstance(features, list) or not features or not isinstance(features[0], dict):
        return False
    props = features[0].get("properties")
    return isinstance(props, dict) and all(k in props for k in EUROCONTROL_KEYS)


def _number(v):
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v):
        raise ValueError(f"expected a flight level (number or null), got {v!r}")
    return float(v)


def _fl_lower(v) -> Limit:
    x = _number(v)
    if x is None or x <= 0:
        return SFC
    if math.isinf(x):
        raise ValueError(f"lower flight level {v!r}")
    return Limit(x * 100.0, "FL")


def _fl_upper(v) -> Limit:
    x = _number(v)
    if x is None or x >= UNLIMITED_FL:
        return UNL
    if x <= 0:
        raise ValueError(f"upper flight level {v!r} is at or below the surface")
    return Limit(x * 100.0, "FL")


def read_traffic_airspace(data: dict, source: str, warn) -> list[Zone]:
    name = data.get("name")
    designator = data.get("designator")
    if not isinstance(name, str) or not name.strip():
        name = designator if isinstance(designator, str) and designator.strip() else None
    if name is None:
        raise ZoneFormatError("traffic airspace without a 'name'", source=source, field="name")
    shapes = data["shapes"]
    if not shapes:
        raise ZoneFormatError(f"airspace {name!r} has no shapes", source=source, field="shapes")
    kind = data.get("type") or "airspace"
    base = slug(name)
    ids = UniqueIds()
    zones = []
    for k, shape in enumerate(shapes):
        field = f"shapes[{k}]"
        zid = ids(f"{base}-{k + 1}")
        what = f"layer {k + 1} (zone {zid!r})"
        if not isinstance(shape, dict):
            raise ZoneFormatError(f"{what}: a shape must be an object", source=source, field=field)
        limits = []
        for key, conv in (("lower", _fl_lower), ("upper", _fl_upper)):
            try:
                limits.append(conv(shape.get(key)))
            except ValueError as exc:
                raise ZoneFormatError(f"{what}: {exc}", source=source, field=f"{field}.{key}") from None
        lower, upper = limits
        problem = check_band(lower, upper)
        if problem:
            raise ZoneFormatError(f"{what}: {problem}", source=source, field=field)
        geom = json_polygon(shape.get("polygon"), source=source, field=f"{field}.polygon", what=what)
        geom = finish_geometry(geom, source=source, what=what, warn=warn, field=f"{field}.polygon")
        props = {"layer": k + 1, "layers": len(shapes), "limits_unit": "FL"}
        if designator:
            props["designator"] = designator
        zones.append(
            Zone(id=zid, name=name, kind=str(kind), geometry=geom, lower=lower, upper=upper, source=source, properties=props)
        )
    return zones


def _eurocontrol_limit(value, unit, *, upper: bool) -> Limit:
    text = str(value).strip().upper() if value is not None else ""
    u = str(unit).strip().upper() if unit is not None else ""
    if text in ("", "SFC", "GND") and not upper:
        return SFC
    if text in ("UNL", "UNLIM", "UNLTD") and upper:
        return UNL
    try:
        x = float(text)
    except ValueError:
        raise ValueError(f"limit {value!r} is not a number") from None
    if not math.isfinite(x):
        raise ValueError(f"limit {value!r} is not a finite number")
    if u == "FL":
        if upper and x >= UNLIMITED_FL:
            return UNL
        lim = Limit(x * 100.0, "FL")
    elif u in ("FT", "F", "FEET"):
        lim = Limit(x, "MSL")
    elif u in ("M", "MTR"):
        lim = Limit(x * FT_PER_M, "MSL", f"{x:g} m MSL")
    else:
        raise ValueError(f"unknown unit {unit!r} (FL, FT or M)")
    if not upper and lim.ft <= 0:
        return SFC
    return lim


def read_eurocontrol(data: dict, source: str, warn) -> list[Zone]:
    ids = UniqueIds()
    zones = []
    for i, feature in enumerate(data["features"]):
        field = f"features[{i}]"
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(props, dict) or not all(k in props for k in EUROCONTROL_KEYS):
            raise ZoneFormatError(
                f"feature {i}: not a EUROCONTROL airspace (needs {', '.join(EUROCONTROL_KEYS)})",
                source=source,
                field=f"{field}.properties",
            )
        ident = props.get("IDENT") or props.get("NAME") or f"feature-{i + 1}"
        zid = ids(slug(str(ident)) if not str(ident).isalnum() else str(ident))
        what = f"feature {i} (zone {zid!r})"
        limits = []
        for key, upper in (("LOWER", False), ("UPPER", True)):
            try:
                limits.append(_eurocontrol_limit(props.get(f"{key}LIMIT"), props.get(f"{key}UNIT"), upper=upper))
            except ValueError as exc:
                raise ZoneFormatError(f"{what}: {exc}", source=source, field=f"{field}.properties.{key}LIMIT") from None
        lower, upper_ = limits
        problem = check_band(lower, upper_)
        if problem:
            raise ZoneFormatError(f"{what}: {problem}", source=source, field=f"{field}.properties")
        geom = json_polygon(feature.get("geometry"), source=source, field=f"{field}.geometry", what=what)
        geom = finish_geometry(geom, source=source, what=what, warn=warn, field=f"{field}.geometry")
        extra = {k: v for k, v in props.items() if k not in ("IDENT", "NAME", "TYPE")}
        extra["feature"] = i
        zones.append(
            Zone(
                id=zid,
                name=str(props.get("NAME") or ident),
                kind=str(props.get("TYPE") or "FIR"),
                geometry=geom,
                lower=lower,
                upper=upper_,
                source=source,
                properties=extra,
            )
        )
    return zones
