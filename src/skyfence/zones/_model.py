"""Zone model: a lateral (Multi)Polygon in lon/lat plus a vertical band.

A zone is an *extruded polygon*: inside laterally (holes and multipolygons
honoured) and between ``lower`` and ``upper``.

Vertical references (``Limit.ref``)
-----------------------------------
``SFC``  the surface: no floor (also used for ``GND``).
``UNL``  unlimited: no ceiling.
``FL``   flight level: ``ft = FL * 100``, compared with barometric altitude.
``MSL``  feet above mean sea level, compared with geometric altitude where the
         fix has it, otherwise barometric (the episode says which).
``AGL``  feet above ground. skyfence has no terrain model: AGL limits are
         compared as if the ground were at mean sea level (documented in the
         README); the episode records that an AGL limit was involved.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import shapely
from shapely.geometry.base import BaseGeometry

REFS = ("SFC", "UNL", "FL", "MSL", "AGL")


@dataclass(frozen=True)
class Limit:
    """One vertical limit: a value in feet and what it is measured from."""

    ft: float
    ref: str
    text: str = ""

    def __post_init__(self) -> None:
        if self.ref not in REFS:
            raise ValueError(f"unknown vertical reference {self.ref!r}")

    @property
    def is_open(self) -> bool:
        """True for SFC floors and UNL ceilings: no constraint."""
        return self.ref in ("SFC", "UNL")

    def __str__(self) -> str:
        if self.text:
            return self.text
        if self.ref in ("SFC", "UNL"):
            return self.ref
        if self.ref == "FL":
            return f"FL{self.ft / 100:g}"
        return f"{self.ft:g} ft {self.ref}"


SFC = Limit(0.0, "SFC", "SFC")
UNL = Limit(float("inf"), "UNL", "UNL")


@dataclass
class Zone:
    """An airspace volume.

    Attributes
    ----------
    id:
        Unique identifier within its zone set (``TUR``, ``LSZH-CTR`` ...).
    name:
        Human-readable name.
    kind:
        What it is: ``sovereign``, ``CTR``, ``TMA``, ``R``, ``P``, ``D``,
        ``FIR``, ``geofence`` ... (OpenAir class, traffic type, GeoJSON kind).
    geometry:
        shapely Polygon or MultiPolygon, lon/lat WGS84, valid.
    lower, upper:
        Vertical band; ``SFC`` / ``UNL`` for none.
    source:
        Where it was read from (file name, ``world``).
    properties:
        Anything else the source said (class, frequency, activation text...),
        kept for reports.
    """

    id: str
    name: str
    kind: str
    geometry: BaseGeometry
    lower: Limit = SFC
    upper: Limit = UNL
    source: str = ""
    properties: dict = field(default_factory=dict)

    @property
    def has_vertical_limits(self) -> bool:
        return not (self.lower.is_open and self.upper.is_open)


def checked_geometry(geom: BaseGeometry, *, what: str, warn) -> BaseGeometry:
    """Return a valid polygonal geometry or raise ``ValueError``.

    Invalid (e.g. self-intersecting) polygons are repaired with
    ``shapely.make_valid`` keeping the polygonal part, and ``warn(message)`` is
    called so the user hears about it.  Empty results raise.
    """
    if geom is None or geom.is_empty:
        raise ValueError(f"{what}: empty geometry")
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise ValueError(f"{what}: expected Polygon or MultiPolygon, got {geom.geom_type}")
    if not shapely.is_valid(geom):
        reason = shapely.is_valid_reason(geom)
        fixed = shapely.make_valid(geom)
        polys = [g for g in getattr(fixed, "geoms", [fixed]) if g.geom_type in ("Polygon", "MultiPolygon")]
        fixed = shapely.union_all(polys) if polys else None
        if fixed is None or fixed.is_empty or fixed.area == 0:
            raise ValueError(f"{what}: invalid polygon ({reason}) that cannot be repaired")
        warn(f"{what}: invalid polygon ({reason}), repaired")
        geom = fixed
    return geom
