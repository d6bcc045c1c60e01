"""Zone index: a two-level grid over lon/lat that makes point-in-zone and
segment-crossing queries touch only a few edges.

Level 1 is a regular grid of ``RES``-degree cells over the whole globe.  Each
level-1 cell is split into an ``n x n`` subgrid, ``n`` chosen from the number
of zone edges ``E`` in it (1 where it has none): ``n = sqrt(E / TARGET)``
(at most ``NMAX``).  Edges are lines, so the ``n`` or so subcells they cross
hold about ``sqrt(TARGET * E)`` each.  A subcell lists *entries*: the zones that touch it, each
with a state:

- ``FULL`` (2): the subcell is entirely inside the zone;
- ``PARTIAL`` (0 or 1): some of the zone's edges cross the subcell; the value
  is whether the subcell's reference point is inside the zone.  A point's
  membership is that value XOR the parity of the zone's edges that cross the
  segment from the reference point to the point.

Crossings are decided with orientation tests under a fixed symbolic
perturbation (a point on a line counts as being on its non-positive side), so
that a segment through a shared vertex is counted once and the parities of
point queries and segment sweeps agree.

Edges are registered in every subcell that their ``EPS``-enlarged pieces
touch; the query side enumerates cells with the same floor arithmetic, so no
crossing is lost at cell borders.  Reference-point states come from shapely
(GEOS), the only place the index relies on another geometry engine.

The index depends only on the zones' geometry: it is cached on disk under
``$SKYFENCE_CACHE_DIR`` (default ``~/.cache/skyfence``), keyed by a hash of
the geometries and of ``FORMAT``.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
from dataclasses import dataclass, fields
from pathlib import Path

import numba
import numpy as np
import shapely

from .._cache import cache_dir
from ..zones._model import Zone
from ._depth import edge_arrays

FORMAT = 4
RES = 1.0
X0, Y0 = -180.0, -90.0
NTX, NTY = 360, 180
TARGET = 0.75  # edges per subcell averaged over a level-1 cell (world: 2.4 M subcells, index ~180 MB)
NMAX = 128
EPS = 1e-9
REFX, REFY = 0.5127391, 0.4913727  # reference point inside each subcell, off any round number

# vertical limit kinds per zone (kernel side)
OPEN, BARO, AMSL = 0, 1, 2


@dataclass
class ZoneIndex:
    top_off: np.ndarray  # int64 [NTX*NTY] first subcell of each level-1 cell
    top_n: np.ndarray  # int64 [NTX*NTY] subgrid size
    ent_ptr: np.ndarray  # int64 [S+1] entries of each subcell
    ent_zone: np.ndarray  # int32 [M]
    ent_state: np.ndarray  # int8 [M] 0/1 partial (ref outside/inside), 2 full
    ent_e0: np.ndarray  # int64 [M] range into cell_edges
    ent_e1: np.ndarray  # int64 [M]
    cell_edges: np.ndarray  # int32 edge ids, grouped by (subcell, zone)
    cell_pure: np.ndarray  # bool [S] no partial entry
    refx: np.ndarray  # float64 [S]
    refy: np.ndarray
    ex0: np.ndarray  # float64 [E] edges
    ey0: np.ndarray
    ex1: np.ndarray
    ey1: np.ndarray
    edge_zone: np.ndarray  # int32 [E]
    zlo: np.ndarray  # float64 [Z] lower limit, ft
    zup: np.ndarray  # float64 [Z] upper limit, ft
    zlo_kind: np.ndarray  # int8 [Z] OPEN / BARO / AMSL
    zup_kind: np.ndarray

    def __post_init__(self):
        self._bounds = None
        self._boundary: dict = {}  # zone -> its boundary edges, made on first use

    def boundary(self, z: int) -> tuple:
        """The edges ``(ex0, ey0, ex1, ey1)`` that bound zone ``z`` (its edges less
        the cuts on the antimeridian, of zones written in two halves), with
        what depth windows are made from (:func:`~._depth.edge_arrays`).  Kept
        for later calls (the episode depths of a stream ask batch after batch)."""
        got = self._boundary.get(z)
        if got is None:
            if self._bounds is None:  # edges are grouped by zone
                self._bounds = np.searchsorted(self.edge_zone, np.arange(len(self.zlo) + 1, dtype=self.edge_zone.dtype))
            e = slice(self._bounds[z], self._bounds[z + 1])
            ex0, ey0, ex1, ey1 = self.ex0[e], self.ey0[e], self.ex1[e], self.ey1[e]
            keep = ~((ex0 == ex1) & (np.abs(ex0) == 180.0))
            if not keep.all():  # else views of the index: no copy
                ex0, ey0, ex1, ey1 = ex0[keep], ey0[keep], ex1[keep], ey1[keep]
            got = self._boundary[z] = edge_arrays(ex0, ey0, ex1, ey1)
        return got

    @property
    def grid(self) -> tuple:
        """The arrays the compiled kernels take, in their order."""
        return (
            self.top_off, self.top_n, self.ent_ptr, self.ent_zone, self.ent_state,
            self.ent_e0, self.ent_e1, self.cell_edges, self.cell_pure, self.refx, self.refy,
            self.ex0, self.ey0, self.ex1, self.ey1,
        )  # fmt: skip


def normalize_lon(geom):
    """Fold a lon/lat geometry written beyond ±180 back into [-180, 180].

    A zone crossing the antimeridian may be written with longitudes up to 540
    or down to -540; the parts beyond ±180 are cut and shifted by 360.
    """
    minx, _, maxx, _ = geom.bounds
    if minx >= -180 and maxx <= 180:
        return geom
    parts = []
    for shift in (-720.0, -360.0, 0.0, 360.0, 720.0):
        box = shapely.box(-180 - shift, -90, 180 - shift, 90)
        piece = shapely.intersection(geom, box)
        if not piece.is_empty:
            parts.append(shapely.transform(piece, lambda c, s=shift: c + np.array([s, 0.0])))
    polys = [p for g in parts for p in getattr(g, "geoms", [g]) if p.geom_type == "Polygon"]
    return shapely.union_all(polys)


def _limit_kind(limit) -> tuple[float, int]:
    if limit.is_open:
        return (0.0, OPEN)
    return (float(limit.ft), BARO if limit.ref == "FL" else AMSL)


def build_index(zones: list[Zone]) -> ZoneIndex:
    geoms = [normalize_lon(z.geometry) for z in zones]
    ex0, ey0, ex1, ey1, ezone = _edges(geoms)
    # level 1: which level-1 cells each edge touches
    cells, eids = _register(ex0, ey0, ex1, ey1, np.arange(NTX * NTY, dtype=np.int64), np.ones(NTX * NTY, np.int64), RES)
    key = np.unique(cells * len(ex0) + eids)
    count = np.bincount(key // max(len(ex0), 1), minlength=NTX * NTY)
    top_n = np.clip(np.ceil(np.sqrt(count / TARGET)), 1, NMAX).astype(np.int64)
    top_off = np.zeros(NTX * NTY, np.int64)
    top_off[1:] = np.cumsum(top_n * top_n)[:-1]
    n_cells = int(top_off[-1] + top_n[-1] ** 2)
    # level 2: subcells of each edge
    cells, eids = _register(ex0, ey0, ex1, ey1, top_off, top_n, RES)
    # group edges by (subcell, zone, edge)
    ne, nz = max(len(ex0), 1), max(len(zones), 1)
    k = np.unique((cells * nz + ezone[eids]) * ne + eids)
    cell_edges = (k % ne).astype(np.int32)
    cz = k // ne  # subcell * nz + zone, sorted
    part_keys, part_start = np.unique(cz, return_index=True)
    part_end = np.append(part_start[1:], len(k))
    # reference points and their states
    refx, refy = _ref_points(top_off, top_n, n_cells)
    ref_keys = np.unique(_ref_inside(geoms, refx, refy, nz))
    keys = np.union1d(part_keys, ref_keys)
    is_part = np.isin(keys, part_keys)
    ref_in = np.isin(keys, ref_keys)
    state = np.where(is_part, ref_in.astype(np.int8), np.int8(2)).astype(np.int8)
    e0 = np.zeros(len(keys), np.int64)
    e1 = np.zeros(len(keys), np.int64)
    pos = np.searchsorted(keys, part_keys)
    e0[pos], e1[pos] = part_start, part_end
    ent_cell = keys // nz
    ent_ptr = np.zeros(n_cells + 1, np.int64)
    np.cumsum(np.bincount(ent_cell, minlength=n_cells), out=ent_ptr[1:])
    cell_pure = np.bincount(ent_cell[is_part], minlength=n_cells) == 0
    lo = np.array([_limit_kind(z.lower) for z in zones], dtype=np.float64).reshape(-1, 2)
    up = np.array([_limit_kind(z.upper) for z in zones], dtype=np.float64).reshape(-1, 2)
    return ZoneIndex(
        top_off=top_off, top_n=top_n, ent_ptr=ent_ptr, ent_zone=(keys % nz).astype(np.int32),
        ent_state=state, ent_e0=e0, ent_e1=e1, cell_edges=cell_edges, cell_pure=cell_pure,
        refx=refx, refy=refy, ex0=ex0, ey0=ey0, ex1=ex1, ey1=ey1, edge_zone=ezone,
        zlo=lo[:, 0].copy(), zup=up[:, 0].copy(),
        zlo_kind=lo[:, 1].astype(np.int8), zup_kind=up[:, 1].astype(np.int8),
    )  # fmt: skip


def _edges(geoms):
    """All ring edges of all zones (exteriors and holes), with their zone."""
    parts, zone_of_part = shapely.get_parts(np.array(geoms, dtype=object), return_index=True)
    rings, part_of_ring = shapely.get_rings(parts, return_index=True)
    coords, ring_of_pt = shapely.get_coordinates(rings, return_index=True)
    same = ring_of_pt[1:] == ring_of_pt[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    zone = zone_of_part[part_of_ring[ring_of_pt[:-1][same]]].astype(np.int32)
    keep = (a != b).any(axis=1)
    a, b, zone = a[keep], b[keep], zone[keep]
    return (
        np.ascontiguousarray(a[:, 0]), np.ascontiguousarray(a[:, 1]),
        np.ascontiguousarray(b[:, 0]), np.ascontiguousarray(b[:, 1]), zone,
    )  # fmt: skip


def _ref_inside(geoms, refx, refy, nz):
    """Keys ``cell * nz + zone`` of the reference points inside each zone.

    A prepared GEOS point-in-area test per zone on the points in its bounds
    (much faster than an STRtree join against large polygons).
    """
    keys = []
    for zi, geom in enumerate(geoms):
        x0, y0, x1, y1 = geom.bounds
        cand = np.flatnonzero((refx >= x0) & (refx <= x1) & (refy >= y0) & (refy <= y1))
        if len(cand):
            g = shapely.from_wkb(shapely.to_wkb(geom))  # a private copy to prepare
            shapely.prepare(g)
            keys.append(cand[shapely.intersects_xy(g, refx[cand], refy[cand])] * nz + zi)
    return np.concatenate(keys) if keys else np.empty(0, np.int64)


def _ref_points(top_off, top_n, n_cells):
    refx = np.empty(n_cells)
    refy = np.empty(n_cells)
    _ref_kernel(top_off, top_n, RES, refx, refy)
    return refx, refy


@numba.njit(cache=True)
def _ref_kernel(top_off, top_n, res, refx, refy):
    for ty in range(NTY):
        for tx in range(NTX):
            k = ty * NTX + tx
            n = top_n[k]
            h = res / n
            cx0 = X0 + tx * res
            cy0 = Y0 + ty * res
            for sy in range(n):
                for sx in range(n):
                    c = top_off[k] + sy * n + sx
                    refx[c] = cx0 + (sx + REFX) * h
                    refy[c] = cy0 + (sy + REFY) * h


@numba.njit(cache=True, inline="always")
def _clampi(v, hi):
    if v < 0:
        return 0
    if v > hi:
        return hi
    return v


@numba.njit(cache=True)
def cells_in_box(xmin, ymin, xmax, ymax, top_off, top_n, res, buf):
    """Fill ``buf`` (grown when needed) with the subcells meeting a box;
    return (count, buf)."""
    m = cells_into(xmin, ymin, xmax, ymax, top_off, top_n, res, buf)
    if m > len(buf):
        buf = np.empty(max(2 * len(buf), m), np.int64)
        m = cells_into(xmin, ymin, xmax, ymax, top_off, top_n, res, buf)
    return m, buf


@numba.njit(cache=True)
def cells_into(xmin, ymin, xmax, ymax, top_off, top_n, res, buf):
    """Fill ``buf`` with the subcells meeting a box; return their count.

    The one place that maps coordinates to cells: registration and queries
    both go through it.  When the count exceeds ``len(buf)`` only the first
    ``len(buf)`` are written: the caller grows ``buf`` and calls again (the
    kernels, whose buffers are borrowed views, cannot take a new array back).
    """
    txa = _clampi(int(math.floor((xmin - X0) / res)), NTX - 1)
    txb = _clampi(int(math.floor((xmax - X0) / res)), NTX - 1)
    tya = _clampi(int(math.floor((ymin - Y0) / res)), NTY - 1)
    tyb = _clampi(int(math.floor((ymax - Y0) / res)), NTY - 1)
    m = 0
    for ty in range(tya, tyb + 1):
        cy0 = Y0 + ty * res
        for tx in range(txa, txb + 1):
            k = ty * NTX + tx
            n = top_n[k]
            h = res / n
            cx0 = X0 + tx * res
            sxa = _clampi(int(math.floor((xmin - cx0) / h)), n - 1)
            sxb = _clampi(int(math.floor((xmax - cx0) / h)), n - 1)
            sya = _clampi(int(math.floor((ymin - cy0) / h)), n - 1)
            syb = _clampi(int(math.floor((ymax - cy0) / h)), n - 1)
            base = top_off[k]
            for sy in range(sya, syb + 1):
                for sx in range(sxa, sxb + 1):
                    if m < len(buf):
                        buf[m] = base + sy * n + sx
                    m += 1
    return m


@numba.njit(cache=True, inline="always")
def cell_box(x, y, top_off, top_n, res):
    """The subcell holding (x, y), and its box ``(x0, y0, size)`` (approximate:
    for a test that a later point is well inside the same subcell)."""
    tx = _clampi(int(math.floor((x - X0) / res)), NTX - 1)
    ty = _clampi(int(math.floor((y - Y0) / res)), NTY - 1)
    k = ty * NTX + tx
    n = top_n[k]
    h = res / n
    cx0 = X0 + tx * res
    cy0 = Y0 + ty * res
    sx = _clampi(int(math.floor((x - cx0) / h)), n - 1)
    sy = _clampi(int(math.floor((y - cy0) / h)), n - 1)
    return top_off[k] + sy * n + sx, cx0 + sx * h, cy0 + sy * h, h


@numba.njit(cache=True)
def cell_of(x, y, top_off, top_n, res):
    """The subcell holding (x, y)."""
    return cell_box(x, y, top_off, top_n, res)[0]


@numba.njit(cache=True)
def _register(ex0, ey0, ex1, ey1, top_off, top_n, res):
    """(cell, edge) pairs: every cell an EPS-enlarged piece of an edge meets.

    Edges are walked in pieces no longer than half the finest cell they
    may meet, so a piece's box stays close to the edge itself.
    """
    cap = 4 * len(ex0) + 16
    out_c = np.empty(cap, np.int64)
    out_e = np.empty(cap, np.int64)
    m = 0
    buf = np.empty(64, np.int64)
    for e in range(len(ex0)):
        ax, ay, bx, by = ex0[e], ey0[e], ex1[e], ey1[e]
        length = math.hypot(bx - ax, by - ay)
        hmin = res
        tya = _clampi(int(math.floor((min(ay, by) - Y0) / res)), NTY - 1)
        tyb = _clampi(int(math.floor((max(ay, by) - Y0) / res)), NTY - 1)
        txa = _clampi(int(math.floor((min(ax, bx) - X0) / res)), NTX - 1)
        txb = _clampi(int(math.floor((max(ax, bx) - X0) / res)), NTX - 1)
        for ty in range(tya, tyb + 1):
            for tx in range(txa, txb + 1):
                h = res / top_n[ty * NTX + tx]
                if h < hmin:
                    hmin = h
        pieces = max(1, int(math.ceil(length / (0.5 * hmin))))
        for j in range(pieces):
            f0 = j / pieces
            f1 = (j + 1) / pieces
            px0 = ax + (bx - ax) * f0
            py0 = ay + (by - ay) * f0
            px1 = ax + (bx - ax) * f1 if j + 1 < pieces else bx
            py1 = ay + (by - ay) * f1 if j + 1 < pieces else by
            cnt, buf = cells_in_box(
                min(px0, px1) - EPS, min(py0, py1) - EPS, max(px0, px1) + EPS, max(py0, py1) + EPS,
                top_off, top_n, res, buf,
            )  # fmt: skip
            if m + cnt > cap:
                cap = 2 * cap + cnt
                nc = np.empty(cap, np.int64)
                ne = np.empty(cap, np.int64)
                nc[:m] = out_c[:m]
                ne[:m] = out_e[:m]
                out_c, out_e = nc, ne
            for q in range(cnt):
                out_c[m] = buf[q]
                out_e[m] = e
                m += 1
    return out_c[:m], out_e[:m]


# -- cache ---------------------------------------------------------------------


def zones_key(zones: list[Zone]) -> str:
    from ..zones._world import GEOMETRY_DIGESTS  # the shipped borders' geometries, known without hashing

    h = hashlib.sha1(f"skyfence-index-{FORMAT}-{RES}-{TARGET}-{NMAX}".encode())
    for z in zones:
        known = GEOMETRY_DIGESTS.get(id(z.geometry))
        h.update(known if known is not None else shapely.to_wkb(z.geometry))
        h.update(repr((_limit_kind(z.lower), _limit_kind(z.upper))).encode())
    return h.hexdigest()


_MEMO: dict = {}  # (geometry ids, limits) -> (zones, index); the zones kept alive so ids stay theirs


def load_or_build(zones: list[Zone]) -> ZoneIndex:
    """The index for these zones: from this process's memo, the disk cache,
    or built (and cached on disk)."""
    memo_key = tuple((id(z.geometry), z.lower, z.upper) for z in zones)
    hit = _MEMO.get(memo_key)
    if hit is not None:
        return hit[1]
    index = _load_or_build(zones)
    if len(_MEMO) >= 8:
        _MEMO.pop(next(iter(_MEMO)))
    _MEMO[memo_key] = (list(zones), index)
    return index


def _load_or_build(zones: list[Zone]) -> ZoneIndex:
    """One ``.npy`` file per array in a folder named by the zones' key, mapped
    copy-on-write: opening costs nothing and a job reads only the pages of the
    cells its tracks touch (the world index is ~180 MB)."""
    if not zones:
        return build_index(zones)
    path = cache_dir() / f"index-{zones_key(zones)}"
    if path.is_dir():
        try:
            return ZoneIndex(**{f.name: np.asarray(np.load(path / f"{f.name}.npy", mmap_mode="c"))
                                for f in fields(ZoneIndex)})  # fmt: skip
        except (OSError, ValueError):
            shutil.rmtree(path, ignore_errors=True)  # corrupt: rebuilt below
    index = build_index(zones)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.mkdir(exist_ok=True)
        for f in fields(ZoneIndex):
            np.save(tmp / f"{f.name}.npy", getattr(index, f.name))
        try:
            os.rename(tmp, path)  # atomic; another process may have won the race
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError:
        pass  # a read-only home only costs the rebuild next time
    return index
