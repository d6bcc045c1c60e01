"""Zones from OpenAir files.

Parsing is aerofiles' (``aerofiles.openair.Reader``, maintained on PyPI);
this module turns its records into zones:

* ``DP`` points, ``DA`` arcs (radius in NM, bearings in degrees), ``DB`` arcs
  (between two points), ``DC`` circles (radius in NM) around the current
  ``V X=`` centre, in the current ``V D=`` direction (``+`` clockwise, the
  default, reset for every airspace), are turned into one polygon.  Arcs and
  circles are computed on the WGS84 ellipsoid (``pyproj.Geod``), vertices on
  the curve, with enough of them that the polygon never strays more than
  ``ARC_TOLERANCE_M`` (10 m) from the true curve: the step ``dθ`` is chosen so
  that the chord sagitta ``r (1 - cos(dθ / 2))`` stays below 9 m, then every
  chord's midpoint is checked geodesically (edges are straight in lon/lat,
  which bends long chords a little) and the step refined if needed.  A ``DB`` arc whose end points lie at different
  distances from the centre has its radius interpolated along the arc; its end
  points are kept exactly.  Points going across the antimeridian are unwrapped
  (longitudes beyond ±180° kept, the engine normalises).
* ``AL``/``AH``: see ``_limits.parse_limit``.  ``GND``/``SFC`` -> SFC,
  ``FL95`` -> FL, ``2500ft``/``2500 ft MSL``/``2500ft AMSL`` -> MSL,
  ``1000ft AGL``/``1000ft GND`` -> AGL, ``UNL``/``UNLIM`` -> UNL, metres
  converted to feet.
* ``id``: a slug of ``AN`` (``-2``, ``-3`` ... for repeats), ``name`` = ``AN``,
  ``kind`` = the ``AC`` class as written (``R``, ``Q``, ``P``, ``CTR``, ``C``,
  ``D``, ``W``, ``GP``, ``RMZ``, ``TMZ`` ...).
* ``properties``: ``class``, ``line`` (of the ``AC``), ``floor``/``ceiling``
  (raw ``AL``/``AH`` text) and where given ``frequency`` (``AF``), ``type``
  (``AY``), ``ident`` (``AI``), ``ground_name`` (``AG``), ``activations``
  (``AA``: ``{"start": iso, "end": iso}`` or ``{"text": ...}``).

Any record aerofiles cannot parse, and any record without a name, limits or
geometry, is an error naming the file and line.  Records whose outline has
fewer than 3 distinct points are lines or point obstacles, not areas (the
Swiss file holds 19 such ``KABEL`` cable records): they are skipped, and one
warning per file counts them and gives their ``AC`` lines.  Terrain records
(``TO``/``TC``) are not airspace: skipped with a warning.  ``DY`` (airway)
records are refused.
"""

from __future__ import annotations

import math

from .._errors import ZoneFormatError
from ._limits import LimitError, as_floor, check_band, parse_limit
from ._model import Zone
from ._util import UniqueIds, finish_geometry, slug

ARC_TOLERANCE_M = 10.0
MIN_CIRCLE_VERTICES = 16
NM = 1852.0

COMMANDS = {
    "AC", "AN", "AL", "AH", "AF", "AG", "AY", "AI", "AA", "AT",
    "DP", "DA", "DB", "DC", "DY", "V", "SP", "SB", "TO", "TC",
}  # fmt: skip

_geod = None


def geod():
    global _geod
    if _geod is None:
        from pyproj import Geod

        _geod = Geod(ellps="WGS84")
    return _geod


def _command(line: str) -> tuple[str, str | None]:
    """(command, value) of a line the way aerofiles splits it; ('', None) for nothing."""
    pos = line.find("*")
    if pos >= 0:
        line = line[:pos]
    line = line.strip()
    if not line:
        return "", None
    parts = line.split(" ", 1)
    return parts[0], (parts[1] if len(parts) > 1 else None)


def looks_like_openair(lines: list[str]) -> bool:
    has_ac = False
    first = None
    for line in lines:
        cmd, _ = _command(line)
        if not cmd:
            continue
        if first is None:
            first = cmd
        if cmd == "AC":
            has_ac = True
            break
    return has_ac and first in COMMANDS


def steps(radius_m: float, sweep_rad: float, tolerance_m: float = ARC_TOLERANCE_M) -> int:
    """Number of chords for an arc so that each chord's sagitta is <= ``tolerance_m``."""
    max_step = 2 * math.pi / MIN_CIRCLE_VERTICES
    if radius_m > tolerance_m:
        max_step = min(max_step, 2 * math.acos(1 - tolerance_m / radius_m))
    return max(1, math.ceil(sweep_rad / max_step - 1e-9))


def _sweep(lat0, lon0, az1, sweep, r1, r2):
    """Vertices (lon, lat arrays) along an arc, each chord within ARC_TOLERANCE_M of the curve.

    The sagitta formula is planar; polygon edges are straight in lon/lat,
    which bends long chords slightly, so the result is checked at every
    chord's midpoint (geodesic distance to the centre against the radius
    there) and refined until all are within 95 % of the tolerance.
    """
    import numpy as np

    g = geod()
    n = steps(max(r1, r2), math.radians(abs(sweep)), 0.9 * ARC_TOLERANCE_M)
    while True:
        k = np.arange(n + 1) / n
        az = az1 + sweep * k
        dist = r1 + (r2 - r1) * k
        lons, lats, _ = g.fwd(np.full(n + 1, lon0), np.full(n + 1, lat0), az, dist)
        lons = np.unwrap(lons, period=360.0)
        mid_lon = (lons[:-1] + lons[1:]) / 2
        mid_lat = (lats[:-1] + lats[1:]) / 2
        _, _, dm = g.inv(np.full(n, lon0), np.full(n, lat0), mid_lon, mid_lat)
        err = np.abs((dist[:-1] + dist[1:]) / 2 - dm).max() if n else 0.0
        if err <= 0.95 * ARC_TOLERANCE_M or n > 1_000_000:
            return lons, lats
        n = math.ceil(n * 1.25)


def circle(lat: float, lon: float, radius_m: float) -> list[tuple[float, float]]:
    """A closed ring approximating the geodesic circle, vertices on the circle."""
    lons, lats = _sweep(lat, lon, 0.0, 360.0, radius_m, radius_m)
    pts = list(zip(lons[:-1].tolist(), lats[:-1].tolist()))
    return pts + pts[:1]


def arc(center, clockwise: bool, *, radius_m=None, start=None, end=None, start_pt=None, end_pt=None):
    """Points of an arc around ``center`` (lat, lon), end points included.

    Either ``radius_m`` with bearings ``start``/``end`` (DA), or end points
    ``start_pt``/``end_pt`` as (lat, lon) (DB).
    """
    lat0, lon0 = center
    if radius_m is None:
        g = geod()
        az1, _, r1 = g.inv(lon0, lat0, start_pt[1], start_pt[0])
        az2, _, r2 = g.inv(lon0, lat0, end_pt[1], end_pt[0])
    else:
        az1, az2, r1, r2 = start, end, radius_m, radius_m
    if clockwise:
        sweep = (az2 - az1) % 360.0
    else:
        sweep = (az1 - az2) % 360.0
    if sweep == 0 and radius_m is not None and az1 != az2:
        sweep = 360.0  # DA 0,360: a full turn
    lons, lats = _sweep(lat0, lon0, az1, sweep if clockwise else -sweep, r1, r2)
    pts = list(zip(lons.tolist(), lats.tolist()))
    if radius_m is None:
        pts[0] = (start_pt[1], start_pt[0])
        pts[-1] = (end_pt[1], end_pt[0])
    return pts


def _unwrap(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out = []
    shift = 0.0
    prev = None
    for lon, lat in points:
        if prev is not None:
            d = lon + shift - prev
            if d > 180:
                shift -= 360.0
            elif d < -180:
                shift += 360.0
        lon = lon + shift
        out.append((lon, lat))
        prev = lon
    return out


class NotAnArea(ZoneFormatError):
    """A record whose outline has fewer than 3 distinct points (a line or point obstacle)."""


def _iso(v):
    return None if v is None else v.isoformat().replace("+00:00", "Z")


class _Scan:
    """Where each airspace record's commands are (aerofiles keeps no line of AC/AL/AH)."""

    def __init__(self, lines: list[str], source: str) -> None:
        self.records: list[dict[str, int]] = []
        self.terrain = 0
        current = None
        for no, line in enumerate(lines, 1):
            cmd, value = _command(line)
            if not cmd:
                continue
            if cmd == "AC":
                if not value or not value.strip():
                    raise ZoneFormatError("AC without an airspace class", source=source, line=no, field="AC")
                current = {"AC": no}
                self.records.append(current)
            elif cmd in ("TC", "TO"):
                current = {}
                self.terrain += 1
            elif current is None:
                raise ZoneFormatError(
                    f"{cmd} outside an airspace record (before the first AC): {line.strip()!r}",
                    source=source,
                    line=no,
                    field=cmd,
                )
            else:
                current[cmd] = no


def read_openair(text: str, source: str, warn) -> list[Zone]:
    from aerofiles.openair import Reader

    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    scan = _Scan(lines, source)
    ids = UniqueIds()
    zones: list[Zone] = []
    k = 0
    terrain = 0
    skipped: list[int] = []
    for record, error in Reader(lines):
        if error is not None:
            no = getattr(error, "lineno", None)
            cmd, _ = _command(lines[no - 1]) if no else ("", None)
            msg = str(error) or "bad syntax"
            shown = lines[no - 1].strip() if no else ""
            raise ZoneFormatError(f"cannot parse {cmd or 'line'}: {msg}: {shown!r}", source=source, line=no, field=cmd or None)
        if record.get("type") != "airspace":
            terrain += 1
            continue
        where = scan.records[k]
        k += 1
        try:
            zones.append(_zone(record, where, source, ids, warn))
        except NotAnArea:
            skipped.append(where["AC"])
    if k != len(scan.records):  # aerofiles dropped a record without saying why
        missing = scan.records[k]["AC"] if k < len(scan.records) else None
        raise ZoneFormatError(
            f"{len(scan.records)} AC records but only {k} read", source=source, line=missing, field="AC"
        )
    if skipped:
        lines_ = ", ".join(map(str, skipped[:12])) + (" ..." if len(skipped) > 12 else "")
        warn(
            f"{source}: {len(skipped)} of {k} airspace records skipped: fewer than 3 distinct points "
            f"(lines or point obstacles, not areas); AC at line {lines_}"
        )
    if terrain:
        warn(f"{source}: {terrain} terrain record(s) (TO/TC) skipped: not airspace")
    return zones


def _zone(record: dict, where: dict[str, int], source: str, ids: UniqueIds, warn) -> Zone:
    ac_line = where["AC"]
    cls = record["class"].strip()
    name = (record.get("name") or "").strip()
    if not name:
        raise ZoneFormatError(f"airspace (class {cls}) without a name (AN)", source=source, line=ac_line, field="AN")
    limits = {}
    for cmd, key in (("AL", "floor"), ("AH", "ceiling")):
        raw = record.get(key)
        if raw is None or not raw.strip():
            raise ZoneFormatError(f"airspace {name!r} without {cmd}", source=source, line=ac_line, field=cmd)
        try:
            limits[cmd] = parse_limit(raw)
        except LimitError as exc:
            raise ZoneFormatError(f"airspace {name!r}: {exc}", source=source, line=where.get(cmd, ac_line), field=cmd) from None
    geom = _geometry(record, name, ac_line, source)  # may raise NotAnArea
    lower, upper = as_floor(limits["AL"]), limits["AH"]
    problem = check_band(lower, upper)
    if problem:
        raise ZoneFormatError(f"airspace {name!r}: {problem}", source=source, line=where.get("AH", ac_line), field="AH")
    zid = ids(slug(name))
    geom = finish_geometry(geom, source=source, what=f"line {ac_line}: zone {zid!r}", warn=warn, line=ac_line)
    props: dict = {"class": cls, "line": ac_line, "floor": record["floor"].strip(), "ceiling": record["ceiling"].strip()}
    for key, prop in (("freq", "frequency"), ("airspace_type", "type"), ("ident", "ident"), ("ground_name", "ground_name")):
        if record.get(key):
            props[prop] = record[key].strip()
    if record.get("activation"):
        acts = []
        for a in record["activation"]:
            if "value" in a:
                acts.append({"text": a["value"]})
            else:
                acts.append({"start": _iso(a.get("start")), "end": _iso(a.get("end"))})
        props["activations"] = acts
    return Zone(id=zid, name=name, kind=cls, geometry=geom, lower=lower, upper=upper, source=source, properties=props)


def _geometry(record: dict, name: str, ac_line: int, source: str):
    from shapely import Polygon

    elements = record.get("elements") or []
    if not elements:
        raise ZoneFormatError(f"airspace {name!r} has no geometry (DP, DA, DB or DC)", source=source, line=ac_line)
    circles = [e for e in elements if e["type"] == "circle"]
    if circles:
        if len(elements) > 1:
            raise ZoneFormatError(
                f"airspace {name!r}: a circle (DC) cannot be combined with other elements",
                source=source,
                line=circles[0]["lineno"],
                field="DC",
            )
        e = circles[0]
        if not e["radius"] > 0:
            raise ZoneFormatError(f"circle radius {e['radius']} NM", source=source, line=e["lineno"], field="DC")
        lat, lon = e["center"]
        return Polygon(_unwrap(circle(lat, lon, e["radius"] * NM)))
    pts: list[tuple[float, float]] = []
    for e in elements:
        if e["type"] == "point":
            lat, lon = e["location"]
            pts.append((lon, lat))
        elif e["type"] == "arc":
            if e.get("center") is None:
                raise ZoneFormatError("arc without a centre (V X=)", source=source, line=e["lineno"], field="DB")
            if "radius" in e:
                if not e["radius"] > 0:
                    raise ZoneFormatError(f"arc radius {e['radius']} NM", source=source, line=e["lineno"], field="DA")
                pts.extend(arc(e["center"], e["clockwise"], radius_m=e["radius"] * NM, start=e["start"], end=e["end"]))
            else:
                pts.extend(arc(e["center"], e["clockwise"], start_pt=e["start"], end_pt=e["end"]))
        elif e["type"] == "airway":
            raise ZoneFormatError("airways (DY) are not supported", source=source, line=e["lineno"], field="DY")
        else:  # pragma: no cover - aerofiles has no other element
            raise ZoneFormatError(f"unknown element {e['type']!r}", source=source, line=e.get("lineno", ac_line))
    ring = [p for i, p in enumerate(pts) if i == 0 or p != pts[i - 1]]
    distinct = len(set(ring))
    if distinct < 3:
        raise NotAnArea(f"airspace {name!r}: {distinct} distinct point(s), not an area", source=source, line=ac_line)
    return Polygon(_unwrap(ring))
