"""Warning rings: the band outside a zone within a distance of its border.

A ring is the set of points **outside** the zone whose geodesic distance to
the zone's border is at most ``distance_m`` (with ``along``: to the part of
the border the zone shares with those states, taken from the built-in world
borders).  It is built as a real :class:`~skyfence.Zone` and goes through the
same engine as any zone, so ring entries and exits are exact.

Construction: the border lines concerned (their edges first cut to at most
0.01 deg, so that they stay the straight lon/lat lines the engine uses once
projected) are cut into pieces of at most ``PIECE_M``; each piece is buffered by ``distance_m`` in its own azimuthal
equidistant projection centred on it (pyproj), where distances from points
within ``PIECE_M / 2 + distance_m`` of the centre are within 1e-4 of
geodesic ones (3 m at 28 km); buffer arcs use 64 segments per quarter circle
(inside the true circle by at most ``r (1 - cos(pi / 256))``, 2 m at 28 km),
their edges are cut to at most 1 km before going back to lon/lat (so the
straight lon/lat edges the engine uses stray < 1 m from them).  The pieces are
united and the zone subtracted.  "Shared border" is the zone's boundary
within ``SHARED_TOL_DEG`` (0.01 deg, about 1 km) of the neighbour's polygon:
independently simplified borders differ by up to 20 m.
"""

from __future__ import annotations

import numpy as np
import pyproj
import shapely
from shapely.geometry import LineString

PIECE_M = 100_000.0
SEGMENT_DEG = 0.01
SHARED_TOL_DEG = 0.01
_GEOD = pyproj.Geod(ellps="WGS84")


def ring_geometry(zone_geom, distance_m: float, along_geoms=()):
    """The ring polygon (lon/lat) outside ``zone_geom`` within ``distance_m`` of
    its border, or of its border with the union of ``along_geoms``.  ``None``
    when there is no such border (the zone does not touch those states)."""
    border = zone_geom.boundary
    if along_geoms:
        near = shapely.union_all([g.buffer(SHARED_TOL_DEG) for g in along_geoms])
        border = shapely.intersection(border, near)
    lines = [g for g in getattr(border, "geoms", [border]) if g.geom_type == "LineString" and not g.is_empty]
    lines += [ll for g in getattr(border, "geoms", [border]) if g.geom_type == "MultiLineString" for ll in g.geoms]
    if not lines:
        return None
    buffers = [_buffer_piece(piece, distance_m) for line in lines for piece in _pieces(line)]
    band = shapely.union_all(buffers)
    ring = shapely.difference(band, zone_geom)
    ring = shapely.make_valid(ring)
    polys = [g for g in getattr(ring, "geoms", [ring]) if g.geom_type == "Polygon" and g.area > 0]
    if not polys:
        return None
    return shapely.MultiPolygon(polys) if len(polys) > 1 else polys[0]


def _pieces(line: LineString):
    """Cut a lon/lat line into consecutive pieces of at most PIECE_M (geodesic).

    The line is first cut into edges of at most 0.01 deg (about 1 km): its
    edges are straight in lon/lat (as the engine reads them), and a long one
    would be a different line once projected."""
    xy = np.asarray(shapely.segmentize(line, SEGMENT_DEG).coords)[:, :2]
    if len(xy) < 2:
        return []
    _, _, d = _GEOD.inv(xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1])
    s = np.concatenate([[0.0], np.cumsum(d)])
    cut = np.floor(s / PIECE_M).astype(np.int64)
    out = []
    for k in np.unique(cut[:-1]):
        idx = np.nonzero(cut == k)[0]
        a, b = idx[0], min(idx[-1] + 1, len(xy) - 1)  # overlap by one vertex so pieces join
        if b > a:
            out.append(xy[a : b + 1])
    return out


def _buffer_piece(xy: np.ndarray, distance_m: float):
    mid = xy[len(xy) // 2]
    aeqd = pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={mid[1]} +lon_0={mid[0]} +datum=WGS84 +units=m")
    fwd = pyproj.Transformer.from_crs("EPSG:4326", aeqd, always_xy=True)
    back = pyproj.Transformer.from_crs(aeqd, "EPSG:4326", always_xy=True)
    x, y = fwd.transform(xy[:, 0], xy[:, 1])
    geom = LineString(np.column_stack([x, y])) if len(xy) > 1 else shapely.Point(x[0], y[0])
    buf = shapely.segmentize(geom.buffer(distance_m, quad_segs=64), 1000.0)
    return shapely.transform(buf, lambda c: np.column_stack(back.transform(c[:, 0], c[:, 1])))

