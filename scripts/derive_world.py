#!/usr/bin/env python
"""Derive skyfence's shipped world borders from the geo-maps maritime borders.

Usage::

    .venv/bin/python scripts/derive_world.py \\
        ../shared/data/borders/countries-maritime-10m.geojson.gz \\
        [--out src/skyfence/data/world.npz] [--tolerance 0.00013] [--max-deviation 20]

Input: ``countries-maritime-10m.geojson.gz`` (npm ``@geo-maps/countries-maritime-10m``
0.6.0, from OpenStreetMap 2017, ODbL): one feature per state with property ``A3``
(ISO 3166-1 alpha-3), land territory plus the territorial sea, 1.9 M vertices,
coordinates with 5 decimals.

What the script does, country by country:

1. **Interpret the rings.**  The source lost the outer/inner roles: every ring
   is written as its own clockwise polygon, and enclaves appear as polygons
   nested inside the polygon that surrounds them (Büsingen inside CHE, Lesotho
   inside ZAF, Baarle's enclaves-within-enclaves ...).  A ring nested at an odd
   depth is therefore a *hole* and one at an even depth a *shell* (even-odd
   rule), with one exception: a ring at odd depth whose inside is claimed by no
   other state (Phú Quốc inside Vietnam's territorial sea, Diego Garcia in
   IOT, ...) is a redundant island outline, not a hole: it is dropped, so the
   island stays national airspace.  The dropped rings are listed in the output.
2. **Simplify** with shapely's topology-preserving Douglas-Peucker, tolerance
   ``--tolerance`` degrees (0.00013° ≤ 14.5 m anywhere on Earth: one degree is
   at most 111.7 km along a meridian and 111.3 km along a parallel).  GEOS may
   drop a ring's first vertex and leave the edge across it a little farther
   from the source than the tolerance (up to 0.00017° seen), so source
   vertices are put back, Douglas-Peucker fashion, wherever an edge's
   deviation bound (below) exceeds ``--chord-limit`` (15 m).  The simplified
   vertices are a subset of the source vertices, which all lie on the 1e-5°
   grid, so the quantisation to int32 units of 1e-5° below is exact and costs
   nothing of the error budget.
3. **Verify** the deviation in metres and fail if any country exceeds
   ``--max-deviation`` (20 m).  Each simplified ring is matched to its source
   ring; every simplified edge ("chord") replaces a run of source vertices.  In
   a flat metric the Hausdorff distance between a chord and the run it replaces
   is, in both directions, at most the largest distance from the run's vertices
   to the chord (the run joins the chord's end points, so it crosses every
   perpendicular of the chord).  The metric used per chord is the lon/lat plane
   scaled by the WGS84 radius of the parallel at the run's latitude closest to
   the equator and the meridian radius of curvature at the latitude farthest
   from it: it dominates the true ellipsoidal metric everywhere along the run,
   so the figure printed is an upper bound of the true Hausdorff distance (in
   metres) between the source boundary (the dropped rings of step 1 aside) and
   the shipped one, for polygons whose edges are straight in lon/lat, as the
   engine sees them.
4. **Name** each state from pycountry (``common_name`` where it has one, else
   ``name``), with hand-written names for codes pycountry lacks (XKX).
5. **Store** ``world.npz``: the flat coordinate stream (closed rings)
   delta-encoded, zig-zag mapped to uint16 with an escape for
   the rare big steps, split into a low-byte and a high-byte plane (compresses
   far better), plus ragged offsets country -> polygons -> rings -> vertices and
   the names.  The written file is decoded again with the package's own loader
   and compared with the simplified geometries vertex for vertex.

Run it again whenever the source or the tolerance changes; it prints per
country the vertex counts before and after and the deviation bound.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import shapely
from shapely import MultiPolygon, Polygon
from shapely.strtree import STRtree

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "src" / "skyfence" / "data" / "world.npz"
SCALE = 100_000  # units per degree: 1e-5 degree grid, the source's precision
FORMAT_VERSION = 2

# codes pycountry does not know
EXTRA_NAMES = {
    "XKX": {"name": "Kosovo", "iso_name": "Kosovo", "alpha_2": "XK", "official_name": "Republic of Kosovo"},
}

# WGS84
A = 6378137.0
F = 1 / 298.257223563
E2 = F * (2 - F)


def meridian_radius(lat_deg: np.ndarray) -> np.ndarray:
    """Metres per radian of latitude."""
    s = np.sin(np.radians(lat_deg))
    return A * (1 - E2) / (1 - E2 * s * s) ** 1.5


def parallel_radius(lat_deg: np.ndarray) -> np.ndarray:
    """Metres per radian of longitude."""
    phi = np.radians(lat_deg)
    s = np.sin(phi)
    return A * np.cos(phi) / np.sqrt(1 - E2 * s * s)


# ---------------------------------------------------------------- reading


def read_source(path: Path) -> dict[str, list[np.ndarray]]:
    """A3 -> list of closed rings as int64 arrays (n, 2) in 1e-5 degrees."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fp:
        data = json.load(fp)
    out: dict[str, list[np.ndarray]] = {}
    for feature in data["features"]:
        a3 = feature["properties"]["A3"]
        if a3 in out:
            raise SystemExit(f"duplicate A3 {a3}")
        geom = feature["geometry"]
        polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
        rings = []
        for poly in polys:
            for ring in poly:
                xy = np.asarray(ring, dtype=np.float64)
                q = np.round(xy * SCALE)
                if np.abs(xy * SCALE - q).max() > 1e-6:
                    raise SystemExit(f"{a3}: coordinates not on the 1e-5 degree grid")
                q = q.astype(np.int64)
                if not (q[0] == q[-1]).all():
                    q = np.vstack([q, q[:1]])
                rings.append(q)
        out[a3] = rings
    return out


def to_float(ring: np.ndarray) -> np.ndarray:
    return ring / SCALE


# ---------------------------------------------------------------- interpreting


def odd_count_cover(point, a3: str, tree: STRtree, owners: list[str]) -> set[str]:
    """States other than ``a3`` that claim ``point`` under the even-odd rule."""
    counts: dict[str, int] = {}
    for j in tree.query(point, predicate="within"):
        owner = owners[j]
        if owner != a3:
            counts[owner] = counts.get(owner, 0) + 1
    return {o for o, c in counts.items() if c % 2 == 1}


def interpret(a3: str, rings: list[np.ndarray], world_tree: STRtree, world_owners: list[str]):
    """Return (list of (shell_index, [hole_indices])), dropped ring indices."""
    polys = [Polygon(to_float(r)) for r in rings]
    n = len(polys)
    keys = [frozenset(map(tuple, r[:-1].tolist())) for r in rings]
    if len(set(keys)) != n:
        raise SystemExit(f"{a3}: a ring appears twice")
    tree = STRtree(polys)
    # containers[i]: rings whose polygon contains ring i
    containers = [set() for _ in range(n)]
    for i, p in enumerate(polys):
        for j in tree.query(p, predicate="within"):
            if j != i:
                containers[i].add(int(j))
    active = set(range(n))
    dropped: list[int] = []
    while True:
        depth = {i: len(containers[i] & active) for i in active}
        removed = False
        for i in sorted(active):
            if depth[i] % 2 == 0:
                continue
            children = [j for j in active if i in containers[j] and depth[j] == depth[i] + 1]
            region = polys[i]
            if children:
                region = region.difference(shapely.union_all([polys[j] for j in children]))
            point = region.representative_point()
            if not odd_count_cover(point, a3, world_tree, world_owners):
                active.discard(i)
                dropped.append(i)
                removed = True
                break
        if not removed:
            break
    depth = {i: len(containers[i] & active) for i in active}
    structure = []
    for s in sorted(i for i in active if depth[i] % 2 == 0):
        holes = sorted(j for j in active if depth[j] == depth[s] + 1 and s in containers[j])
        structure.append((s, holes))
    return structure, dropped


def build(rings: list[np.ndarray], structure) -> Polygon | MultiPolygon:
    polys = [Polygon(to_float(rings[s]), [to_float(rings[h]) for h in holes]) for s, holes in structure]
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)


def ring_list(geom) -> list[np.ndarray]:
    """All rings of a (Multi)Polygon, in structure order, as int64 grid arrays."""
    out = []
    for p in getattr(geom, "geoms", [geom]):
        for r in (p.exterior, *p.interiors):
            xy = np.asarray(r.coords)
            q = np.round(xy * SCALE)
            if np.abs(xy * SCALE - q).max() > 1e-6:
                raise SystemExit("simplified vertex off the grid (simplifier moved a vertex?)")
            out.append(q.astype(np.int64))
    return out


# ---------------------------------------------------------------- verifying


def _key(a: np.ndarray) -> np.ndarray:
    return (a[:, 0] + 2**30) * 2**31 + (a[:, 1] + 2**30)


def chord_starts(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Match simplified ring ``dst`` to source ring ``src`` (both closed).

    Returns the source ring rotated to start at ``dst[0]`` (closed again) and the
    indices in it of the simplified vertices, ending with ``n``.
    """
    n = len(src) - 1
    m = len(dst) - 1
    skeys = _key(src[:-1])
    dkeys = _key(dst[:-1])
    order = np.argsort(skeys, kind="stable")
    pos = np.searchsorted(skeys[order], dkeys)
    if (pos >= n).any() or (skeys[order][np.minimum(pos, n - 1)] != dkeys).any():
        raise SystemExit("a simplified vertex is not a source vertex")
    start = int(order[pos[0]])
    rot = np.vstack([np.roll(src[:-1], -start, axis=0), src[start : start + 1]])
    rkeys = _key(rot[:-1])
    # greedy in-order matching (robust to repeated source vertices)
    idx = np.empty(m + 1, dtype=np.int64)
    t = 0
    for k in range(m):
        while t < n and rkeys[t] != dkeys[k]:
            t += 1
        if t >= n:
            raise SystemExit("simplified ring is not a subsequence of its source ring")
        idx[k] = t
        t += 1
    idx[m] = n
    return rot, idx


def chord_bounds(rot: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per chord, an upper bound (m) of its Hausdorff distance to the run it replaces.

    ``rot``: closed source ring, ``idx``: indices in it of the simplified
    vertices (first 0, last ``len(rot) - 1``).  Also returns each source
    vertex's distance (m) to its chord.  See the module docstring.
    """
    lon = rot[:, 0] / SCALE
    lat = rot[:, 1] / SCALE
    n = len(rot) - 1
    m = len(idx) - 1
    cid = np.searchsorted(idx, np.arange(n + 1), side="right") - 1
    cid = np.clip(cid, 0, m - 1)
    # latitude range of each chord's run, end point included
    lo = np.minimum(np.minimum.reduceat(lat[:n], idx[:-1]), lat[idx[1:]])
    hi = np.maximum(np.maximum.reduceat(lat[:n], idx[:-1]), lat[idx[1:]])
    near_eq = np.where((lo <= 0) & (hi >= 0), 0.0, np.minimum(np.abs(lo), np.abs(hi)))
    far_eq = np.maximum(np.abs(lo), np.abs(hi))
    kx = parallel_radius(near_eq) * math.pi / 180  # m per degree of longitude, max over the run
    ky = meridian_radius(far_eq) * math.pi / 180  # m per degree of latitude, max over the run
    ax = lon[idx[cid]] * kx[cid]
    ay = lat[idx[cid]] * ky[cid]
    bx = lon[idx[cid + 1]] * kx[cid]
    by = lat[idx[cid + 1]] * ky[cid]
    px = lon * kx[cid]
    py = lat * ky[cid]
    dx, dy = bx - ax, by - ay
    ll = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        u = np.where(ll > 0, ((px - ax) * dx + (py - ay) * dy) / ll, 0.0)
    u = np.clip(u, 0.0, 1.0)
    d = np.hypot(px - (ax + u * dx), py - (ay + u * dy))
    return np.maximum.reduceat(d[:n], idx[:-1]), d


def ring_deviation(src: np.ndarray, dst: np.ndarray) -> float:
    """Upper bound (m) of the Hausdorff distance between a source ring and its simplification."""
    if len(src) == len(dst) and (src == dst).all():
        return 0.0
    rot, idx = chord_starts(src, dst)
    return float(chord_bounds(rot, idx)[0].max())


def refine(src: np.ndarray, dst: np.ndarray, limit: float) -> tuple[np.ndarray, int]:
    """Put source vertices back into ``dst`` until every chord is within ``limit`` m.

    GEOS's simplifier may drop a ring's end point and then leave the chord
    across it farther than the tolerance from the source (seen up to 0.00017°
    for 0.00013°); this splits such chords Douglas-Peucker fashion.  Returns the
    new ring and the number of vertices put back.
    """
    if len(src) == len(dst) and (src == dst).all():
        return dst, 0
    rot, idx = chord_starts(src, dst)
    added = 0
    while True:
        per_chord, d = chord_bounds(rot, idx)
        bad = np.nonzero(per_chord > limit)[0]
        if not len(bad):
            break
        extra = [idx[c] + int(np.argmax(d[idx[c] : idx[c + 1] + 1])) for c in bad]
        idx = np.unique(np.concatenate([idx, extra]))
        added += len(extra)
    return rot[idx], added


def rebuild(template, rings: list[np.ndarray]):
    """The (Multi)Polygon ``template`` with its rings replaced, in ``ring_list`` order."""
    polys = []
    k = 0
    for p in getattr(template, "geoms", [template]):
        nh = len(p.interiors)
        polys.append(Polygon(to_float(rings[k]), [to_float(r) for r in rings[k + 1 : k + 1 + nh]]))
        k += 1 + nh
    return MultiPolygon(polys)


# ---------------------------------------------------------------- names


def names_for(codes: list[str]) -> dict[str, dict[str, str]]:
    import pycountry

    out = {}
    for code in codes:
        if code in EXTRA_NAMES:
            out[code] = dict(EXTRA_NAMES[code])
            continue
        c = pycountry.countries.get(alpha_3=code)
        if c is None:
            raise SystemExit(f"pycountry does not know {code}: add it to EXTRA_NAMES")
        out[code] = {
            "name": getattr(c, "common_name", None) or c.name,
            "iso_name": c.name,
            "alpha_2": c.alpha_2,
            "official_name": getattr(c, "official_name", None) or "",
        }
    return out


# ---------------------------------------------------------------- encoding


def encode(codes, names, geoms, meta: dict) -> dict[str, np.ndarray]:
    part_off = [0]  # country -> polygons
    ring_off = [0]  # polygon -> rings
    vert_off = [0]  # ring -> vertices (closing vertex included)
    chunks = []
    for g in geoms:
        polys = list(getattr(g, "geoms", [g]))
        for p in polys:
            rings = (p.exterior, *p.interiors)
            for r in rings:
                q = np.round(np.asarray(r.coords) * SCALE).astype(np.int64)
                chunks.append(q)
                vert_off.append(vert_off[-1] + len(q))
            ring_off.append(ring_off[-1] + len(rings))
        part_off.append(part_off[-1] + len(polys))
    xy = np.concatenate(chunks)
    out = {}
    for axis, name in ((0, "x"), (1, "y")):
        delta = np.diff(xy[:, axis], prepend=0)
        zz = (delta << 1) ^ (delta >> 63)  # zig-zag
        big = zz >= 0xFFFF
        z16 = np.where(big, 0xFFFF, zz).astype(np.uint16)
        out[f"{name}_lo"] = (z16 & 0xFF).astype(np.uint8)
        out[f"{name}_hi"] = (z16 >> 8).astype(np.uint8)
        out[f"{name}_big"] = zz[big].astype(np.uint32)
    out["part_offsets"] = np.asarray(part_off, dtype=np.int32)
    out["ring_offsets"] = np.asarray(ring_off, dtype=np.int32)
    out["vertex_offsets"] = np.asarray(vert_off, dtype=np.int32)
    out["codes"] = np.asarray(codes, dtype="<U3")
    for key in ("name", "iso_name", "alpha_2", "official_name"):
        out[key] = np.asarray([names[c][key] for c in codes], dtype=str)
    out["meta"] = np.asarray(json.dumps(meta, ensure_ascii=False))
    return out


# ---------------------------------------------------------------- main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", type=Path)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--tolerance", type=float, default=0.00013, help="degrees (default 0.00013)")
    ap.add_argument("--chord-limit", type=float, default=15.0,
                    help="metres: put source vertices back where a simplified edge is farther (default 15)")
    ap.add_argument("--max-deviation", type=float, default=20.0, help="metres: fail above (default 20)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()

    src = read_source(args.source)
    codes = sorted(src)
    print(f"source: {args.source} ({args.source.stat().st_size / 1e6:.1f} MB), {len(codes)} states")

    all_polys, owners = [], []
    for code in codes:
        for r in src[code]:
            all_polys.append(Polygon(to_float(r)))
            owners.append(code)
    world_tree = STRtree(all_polys)

    names = names_for(codes)
    geoms = []
    rows = []
    total_before = total_after = 0
    worst = 0.0
    failures = []
    notes = []
    for code in codes:
        rings = src[code]
        structure, dropped = interpret(code, rings, world_tree, owners)
        for i in dropped:
            b = Polygon(to_float(rings[i])).bounds
            notes.append(
                f"{code}: ring {i} ({len(rings[i]) - 1} vertices, lon {b[0]:.3f}..{b[2]:.3f}, lat {b[1]:.3f}..{b[3]:.3f}) "
                "nested at odd depth but claimed by no other state: kept as national territory (ring dropped)"
            )
        geom = build(rings, structure)
        if not geom.is_valid:
            raise SystemExit(f"{code}: interpreted geometry invalid: {shapely.is_valid_reason(geom)}")
        src_rings = [rings[i] for s, holes in structure for i in (s, *holes)]
        tol = args.tolerance
        while True:
            simple = shapely.simplify(geom, tol, preserve_topology=True)
            dst_rings = ring_list(simple)
            if len(src_rings) != len(dst_rings):
                raise SystemExit(f"{code}: simplification changed the number of rings")
            refined = [refine(a, b, args.chord_limit) for a, b in zip(src_rings, dst_rings)]
            put_back = sum(k for _, k in refined)
            simple = rebuild(simple, [r for r, _ in refined])
            if simple.is_valid:
                break
            tol /= 2
            notes.append(f"{code}: simplified geometry invalid ({shapely.is_valid_reason(simple)}), tolerance halved to {tol:g}")
        if put_back:
            notes.append(f"{code}: {put_back} source vertices put back to keep every chord within {args.chord_limit:g} m")
        dev = max(ring_deviation(a, b) for a, b in zip(src_rings, ring_list(simple)))
        before = sum(len(r) for r in rings)  # closing vertices included, like shapely counts
        after = int(shapely.get_num_coordinates(simple))
        total_before += before
        total_after += after
        worst = max(worst, dev)
        if dev > args.max_deviation:
            failures.append(code)
        rows.append((code, names[code]["name"], before, after, dev))
        geoms.append(simple)  # always a MultiPolygon

    print(f"{'A3':4} {'name':34} {'before':>8} {'after':>8} {'max dev m':>9}")
    for code, name, before, after, dev in rows:
        print(f"{code:4} {name[:34]:34} {before:8d} {after:8d} {dev:9.2f}")
    for note in notes:
        print("note:", note)

    meta = {
        "format": FORMAT_VERSION,
        "scale": SCALE,
        "source": "npm @geo-maps/countries-maritime-10m 0.6.0 (OpenStreetMap 2017)",
        "attribution": "© OpenStreetMap contributors (ODbL)",
        "licence": "Open Database License (ODbL) 1.0",
        "derived_by": "scripts/derive_world.py",
        "tolerance_deg": args.tolerance,
        "max_deviation_m": round(worst, 3),
        "vertices_source": total_before,
        "vertices": total_after,
    }
    if failures:
        print(f"FAILED: deviation above {args.max_deviation:g} m for {', '.join(failures)}", file=sys.stderr)
        return 1

    arrays = encode(codes, names, geoms, meta)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.stem + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)

    # decode with the package's loader and compare
    sys.path.insert(0, str(ROOT / "src"))
    from skyfence.zones import _world

    with np.load(tmp) as npz:
        back = _world.decode(npz)
    if list(back.codes) != codes:
        raise SystemExit("round trip: codes differ")
    for code, a, b in zip(codes, geoms, back.geometries):
        if not shapely.equals_exact(a, b, tolerance=0):
            raise SystemExit(f"round trip: {code} differs after decoding")
    tmp.replace(args.out)

    size = args.out.stat().st_size
    print(
        f"vertices: {total_before} -> {total_after} ({100 * total_after / total_before:.1f} %), "
        f"tolerance {args.tolerance:g} deg"
    )
    print(f"max deviation: {worst:.2f} m (limit {args.max_deviation:g} m), worst: "
          + ", ".join(f"{c} {d:.2f}" for c, _, _, _, d in sorted(rows, key=lambda r: -r[4])[:5]))
    print(f"written: {args.out} ({size / 1e6:.2f} MB), decoded again: identical; {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
