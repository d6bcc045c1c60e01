"""Zones from a GeoJSON file.

The file is a ``FeatureCollection`` (or a single ``Feature``) whose features
have a ``Polygon`` or ``MultiPolygon`` geometry, lon/lat WGS84 (RFC 7946).
Holes and multipolygons are kept.  Longitudes beyond ±180° (up to ±360°) are
allowed so that a zone crossing the antimeridian can be written continuously
(``[179.5, -17], [180.5, -17] ...``); they are kept as given.

Feature properties read (all optional):

``id``
    The zone id.  Default: the feature's ``id`` member, else a slug of
    ``name``, else ``feature-N`` (N = 1-based feature number).  Repeated ids
    get ``-2``, ``-3`` ... (with a warning).
``name``
    Human-readable name (default: the id).
``kind``
    What it is: ``R``, ``P``, ``D``, ``CTR``, ``TMA``, ``FIR``, ``geofence``...
    (default ``geofence``).
``lower``, ``upper``
    The vertical band; missing means ``SFC`` (no floor) / ``UNL`` (no ceiling).
    Either an object::

        {"value": 2500, "unit": "ft", "datum": "MSL"}

    with ``unit`` one of ``ft`` (default), ``m`` (converted to feet), ``FL``
    (``value`` is the flight level: ``{"value": 95, "unit": "FL"}`` is FL95)
    and ``datum`` one of ``MSL`` (default), ``AGL``, ``SFC`` (height above the
    surface, same as AGL), ``STD`` (pressure altitude, i.e. a flight level in
    feet); ``{"datum": "SFC"}`` alone is the surface, ``{"datum": "UNL"}`` no
    ceiling.  Or a string: ``"FL95"``, ``"2500 ft MSL"``, ``"2500ft"`` (MSL),
    ``"1000 ft AGL"``, ``"600 m"``, ``"GND"``/``"SFC"``, ``"UNL"``.

Every other property is kept in ``Zone.properties`` (with ``feature``, the
0-based index of the feature).  Errors name the file and the JSON path of the
culprit (``features[3].properties.lower``).
"""

from __future__ import annotations

from .._errors import ZoneFormatError
from ._limits import LimitError, as_floor, check_band, limit_from_json
from ._model import SFC, UNL, Zone
from ._util import UniqueIds, finish_geometry, json_polygon, slug

RESERVED = ("id", "name", "kind", "lower", "upper")


def features_of(data, source: str) -> list:
    if data.get("type") == "Feature":
        return [data]
    features = data.get("features")
    if not isinstance(features, list):
        raise ZoneFormatError("GeoJSON FeatureCollection without a 'features' list", source=source)
    if not features:
        raise ZoneFormatError("GeoJSON FeatureCollection has no features", source=source)
    return features


def read_geojson(data: dict, source: str, warn) -> list[Zone]:
    features = features_of(data, source)
    single = data.get("type") == "Feature"
    ids = UniqueIds()
    zones = []
    for i, feature in enumerate(features):
        path = "" if single else f"features[{i}]"
        dot = "." if path else ""
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise ZoneFormatError(f"feature {i} is not a GeoJSON Feature", source=source, field=path or None)
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            raise ZoneFormatError(f"feature {i}: 'properties' is not an object", source=source, field=f"{path}{dot}properties")
        name = props.get("name")
        if name is not None and not isinstance(name, str):
            name = str(name)
        wanted = props.get("id", feature.get("id"))
        if wanted is None or wanted == "":
            wanted = slug(name) if name else f"feature-{i + 1}"
        wanted = str(wanted)
        zid = ids(wanted)
        if zid != wanted:
            warn(f"{source}: feature {i}: id {wanted!r} already used, renamed {zid!r}")
        what = f"feature {i} (zone {zid!r})"
        limits = {}
        for key, default in (("lower", SFC), ("upper", UNL)):
            raw = props.get(key)
            if raw is None:
                limits[key] = default
                continue
            try:
                limits[key] = limit_from_json(raw)
            except LimitError as exc:
                raise ZoneFormatError(f"{what}: {exc}", source=source, field=f"{path}{dot}properties.{key}") from None
        lower, upper = as_floor(limits["lower"]), limits["upper"]
        problem = check_band(lower, upper)
        if problem:
            raise ZoneFormatError(f"{what}: {problem}", source=source, field=f"{path}{dot}properties")
        geom = json_polygon(feature.get("geometry"), source=source, field=f"{path}{dot}geometry", what=what)
        geom = finish_geometry(geom, source=source, what=what, warn=warn, field=f"{path}{dot}geometry")
        kind = props.get("kind") or "geofence"
        extra = {k: v for k, v in props.items() if k not in RESERVED}
        extra["feature"] = i
        zones.append(
            Zone(
                id=zid,
                name=name or zid,
                kind=str(kind),
                geometry=geom,
                lower=lower,
                upper=upper,
                source=source,
                properties=extra,
            )
        )
    return zones
