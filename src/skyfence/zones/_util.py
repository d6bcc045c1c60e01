"""Helpers shared by the zone readers: ids, JSON polygons, error context."""

from __future__ import annotations

import re
import unicodedata
from itertools import chain

from .._errors import ZoneFormatError


def slug(text: str, default: str = "zone") -> str:
    """An id from a name: ASCII letters and digits, runs of anything else -> ``-``.

    Case is kept (``ALPNACH CTR 128.475`` -> ``ALPNACH-CTR-128-475``).
    """
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    s = re.sub(r"[^A-Za-z0-9]+", "-", ascii_).strip("-")
    return s or default


class UniqueIds:
    """Hands out unique ids: the second ``X`` becomes ``X-2``, then ``X-3`` ..."""

    def __init__(self) -> None:
        self._taken: set[str] = set()
        self._next: dict[str, int] = {}

    def __call__(self, wanted: str) -> str:
        if wanted not in self._taken:
            self._taken.add(wanted)
            return wanted
        k = self._next.get(wanted, 2)
        while f"{wanted}-{k}" in self._taken:
            k += 1
        self._next[wanted] = k + 1
        out = f"{wanted}-{k}"
        self._taken.add(out)
        return out


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def json_ring(ring, *, source: str, field: str, what: str):
    """Validate a GeoJSON linear ring; return it closed, as an (n, 2) lon/lat array.

    Longitudes may go beyond ±180 (up to ±360) so that a zone crossing the
    antimeridian can be written continuously; they are kept as given.
    """
    import numpy as np

    def bad(msg: str) -> ZoneFormatError:
        return ZoneFormatError(f"{what}: {msg}", source=source, field=field)

    if not isinstance(ring, list):
        raise bad(f"a ring must be a list of [lon, lat] positions, got {type(ring).__name__}")
    arr = None
    try:
        arr = np.array(ring)
    except (ValueError, TypeError):  # ragged
        pass
    fast = (
        arr is not None
        and arr.ndim == 2
        and arr.shape[1] >= 2
        and arr.dtype.kind in "if"
        and bool not in set(map(type, chain.from_iterable(ring)))
    )
    if not fast:  # find the culprit
        for k, pos in enumerate(ring):
            if not isinstance(pos, (list, tuple)) or len(pos) < 2:
                raise bad(f"position {k} is not [lon, lat]: {pos!r}")
            if not (_is_number(pos[0]) and _is_number(pos[1])):
                raise bad(f"position {k} has non-numeric coordinates: {pos!r}")
        arr = np.array([pos[:2] for pos in ring], dtype=np.float64)
    xy = arr[:, :2].astype(np.float64)
    if len(xy) == 0:
        raise bad("empty ring")
    finite = np.isfinite(xy).all(axis=1)
    if not finite.all():
        k = int(np.argmin(finite))
        raise bad(f"position {k} has non-finite coordinates: {ring[k]!r}")
    lat_bad = np.abs(xy[:, 1]) > 90
    if lat_bad.any():
        k = int(np.argmax(lat_bad))
        raise bad(f"position {k}: latitude {xy[k, 1]:g} outside [-90, 90] (positions are [lon, lat])")
    lon_bad = np.abs(xy[:, 0]) > 360
    if lon_bad.any():
        k = int(np.argmax(lon_bad))
        raise bad(f"position {k}: longitude {xy[k, 0]:g} outside [-360, 360]")
    other = (xy != xy[0]).any(axis=1)
    distinct = 1
    if other.any():
        third = other & (xy != xy[int(np.argmax(other))]).any(axis=1)
        distinct = 3 if third.any() else 2
    if distinct < 3:
        raise bad(f"a ring needs at least 3 distinct points, this one has {distinct}")
    if (xy[0] != xy[-1]).any():
        xy = np.vstack([xy, xy[:1]])
    return xy


def json_polygon(geom, *, source: str, field: str, what: str):
    """A shapely Polygon or MultiPolygon from a GeoJSON geometry object (not yet validated)."""
    from shapely import MultiPolygon, Polygon

    if not isinstance(geom, dict):
        raise ZoneFormatError(f"{what}: no geometry", source=source, field=field)
    gtype = geom.get("type")
    coords = geom.get("coordinates")
    if gtype not in ("Polygon", "MultiPolygon"):
        raise ZoneFormatError(
            f"{what}: geometry type {gtype!r} is not a zone (Polygon or MultiPolygon)", source=source, field=field
        )
    if not isinstance(coords, list) or not coords:
        raise ZoneFormatError(f"{what}: {gtype} without coordinates", source=source, field=field)

    def poly(rings, path):
        if not isinstance(rings, list) or not rings:
            raise ZoneFormatError(f"{what}: a polygon needs at least an outer ring", source=source, field=path)
        shell = json_ring(rings[0], source=source, field=f"{path}[0]", what=what)
        holes = [json_ring(r, source=source, field=f"{path}[{k}]", what=what) for k, r in enumerate(rings[1:], 1)]
        return Polygon(shell, holes)

    if gtype == "Polygon":
        return poly(coords, f"{field}.coordinates")
    return MultiPolygon([poly(p, f"{field}.coordinates[{k}]") for k, p in enumerate(coords)])


def finish_geometry(geom, *, source: str, what: str, warn, field: str | None = None, line: int | None = None):
    """``checked_geometry`` with its ``ValueError`` turned into ``ZoneFormatError``."""
    from ._model import checked_geometry

    try:
        return checked_geometry(geom, what=f"{source}: {what}", warn=warn)
    except ValueError as exc:
        msg = str(exc)
        prefix = f"{source}: "
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
        raise ZoneFormatError(msg, source=source, line=line, field=field) from None
