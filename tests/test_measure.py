"""Episode evidence measures against independent references (pyproj, shapely)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer

from skyfence.engine._depth import depths, project
from skyfence.engine._episodes import _arc_lengths

GEOD = Geod(ellps="WGS84")


@pytest.mark.parametrize("lat0", [0.0, 36.0, 60.0, 75.0])
def test_projection_distances_match_geodesics(lat0):
    rng = np.random.default_rng(int(lat0))
    n = 5000
    for radius, tol_m in ((50e3, 2.0), (300e3, None)):
        az = rng.uniform(0, 360, (2, n))
        r = rng.uniform(0, radius, (2, n))
        lo1, la1, _ = GEOD.fwd(np.full(n, 10.0), np.full(n, lat0), az[0], r[0])
        lo2, la2, _ = GEOD.fwd(np.full(n, 10.0), np.full(n, lat0), az[1], r[1])
        d = np.asarray(GEOD.inv(lo1, la1, lo2, la2)[2])
        x1, y1 = project(np.asarray(lo1), np.asarray(la1), 10.0, lat0)
        x2, y2 = project(np.asarray(lo2), np.asarray(la2), 10.0, lat0)
        err = np.abs(np.hypot(x1 - x2, y1 - y2) - d)
        if tol_m is not None:
            assert err.max() < tol_m
        else:
            assert (err / np.maximum(d, 1.0)).max() < 5e-4


@pytest.mark.parametrize("lat0", [0.0, 47.0, 80.0])
def test_projection_series_and_vertex_trig_agree_with_the_closed_form(lat0):
    """Near the centre the projection takes c / sin(c) as a power series and
    window vertices come as sines and cosines: both within 1e-12 of the
    closed form (atan2), either side of where the series stops (5.7 deg)."""
    from skyfence.engine._depth import A_WGS84, _frame, _window_edges, edge_arrays

    rng = np.random.default_rng(int(lat0) + 1)
    az = rng.uniform(0, 360, 2000)
    r = rng.uniform(0, 1_000e3, 2000)
    lon, lat, _ = GEOD.fwd(np.full(2000, 10.0), np.full(2000, lat0), az, r)
    lon, lat = np.asarray(lon), np.asarray(lat)
    x, y = project(lon, lat, 10.0, lat0)
    # the closed form, written out here
    lon0, s0, c0, n_rad, m_rad, _, _ = _frame(10.0, lat0)
    p, dl = np.radians(lat), np.radians(lon - lon0)
    u = np.cos(p) * np.sin(dl)
    v = c0 * np.sin(p) - s0 * np.cos(p) * np.cos(dl)
    h = np.hypot(u, v)
    k = np.arctan2(h, s0 * np.sin(p) + c0 * np.cos(p) * np.cos(dl)) / h
    assert (h**2 < 0.01).any() and (h**2 > 0.01).any()
    np.testing.assert_allclose(x, n_rad * k * u, rtol=0, atol=1e-12 * A_WGS84)
    np.testing.assert_allclose(y, m_rad * k * v, rtol=0, atol=1e-12 * A_WGS84)
    # window edges: end vertices projected from their sines and cosines
    keep = lat < 89.9
    e1x, e1y = lon[keep], lat[keep]
    e0x, e0y = e1x - 0.01, e1y + 0.01  # one piece each, no vertex shared
    got = _window_edges(*edge_arrays(e0x, e0y, e1x, e1y), 10.0, lat0, 90.0, 169.0, 0.05)
    # chains of one piece: start, end, a NaN break, start, end ...
    assert got.shape[1] == 3 * len(e1x) - 1 and np.isnan(got[:, 2::3]).all()
    np.testing.assert_allclose(got[0, 1::3], x[keep], rtol=0, atol=1e-12 * A_WGS84)
    np.testing.assert_allclose(got[1, 1::3], y[keep], rtol=0, atol=1e-12 * A_WGS84)


def test_path_lengths_match_geodesics():
    rng = np.random.default_rng(7)
    lon = rng.uniform(-179, 179, 200)
    lat = rng.uniform(-80, 80, 200)
    az = rng.uniform(0, 360, 200)
    dist = rng.uniform(10, 20_000, 200)  # up to 20 km steps
    lon2, lat2, _ = GEOD.fwd(lon, lat, az, dist)
    lon2 = lon + ((np.asarray(lon2) - lon + 180) % 360 - 180)  # unwrapped, as paths are
    ptr = np.arange(0, 401, 2)
    plon = np.stack([lon, lon2], 1).ravel()
    plat = np.stack([lat, lat2], 1).ravel()
    got = _arc_lengths(ptr, plon, plat)[1::2]
    np.testing.assert_allclose(got, dist, rtol=1e-5)


def _zone_edges(poly):
    from skyfence.engine._depth import edge_arrays

    ring = np.asarray(poly.exterior.coords)
    return edge_arrays(ring[:-1, 0], ring[:-1, 1], ring[1:, 0], ring[1:, 1])


def _reference_depth(poly, lon, lat):
    """Brute force: dense samples, pyproj AEQD, shapely distance to the boundary."""
    cx, cy = (lon.min() + lon.max()) / 2, (lat.min() + lat.max()) / 2
    tr = Transformer.from_crs("EPSG:4326", f"+proj=aeqd +lat_0={cy} +lon_0={cx} +datum=WGS84", always_xy=True)
    t = np.linspace(0, 1, 2001)
    best = 0.0
    boundary = shapely.transform(poly.exterior, lambda c: np.stack(tr.transform(c[:, 0], c[:, 1]), 1))
    for i in range(len(lon) - 1):
        x, y = tr.transform(lon[i] + t * (lon[i + 1] - lon[i]), lat[i] + t * (lat[i + 1] - lat[i]))
        best = max(best, float(shapely.distance(shapely.points(x, y), boundary).max()))
    return best


def test_depth_of_a_corner_clip_and_a_long_crossing():
    # a 20 x 20 km-ish square near 46 N; a clip across a corner and a long diagonal
    sq = shapely.box(8.0, 46.0, 8.26, 46.18)
    edges = _zone_edges(sq)
    paths = [
        (np.array([8.20, 8.27]), np.array([45.99, 46.06])),  # corner clip
        (np.array([8.0, 8.1, 8.26]), np.array([46.0, 46.09, 46.18])),  # through the middle
        (np.array([8.05, 8.21]), np.array([46.09, 46.09])),  # parallel to two sides
    ]
    clipped = []
    for lon, lat in paths:
        line = shapely.intersection(shapely.linestrings(np.stack([lon, lat], 1)), sq)
        c = np.asarray(line.coords)
        clipped.append((c[:, 0], c[:, 1]))
    ptr = np.concatenate([[0], np.cumsum([len(c[0]) for c in clipped])])
    lon = np.concatenate([c[0] for c in clipped])
    lat = np.concatenate([c[1] for c in clipped])
    cum = _arc_lengths(ptr, lon, lat)
    got = depths(ptr, lon, lat, cum, np.zeros(len(clipped), np.int64), lambda z: edges)
    for g, (plon, plat) in zip(got, clipped):
        ref = _reference_depth(sq, plon, plat)
        assert abs(g - ref) <= max(10.0, 0.005 * ref) + 1.0, (g, ref)


def test_window_cache_gives_the_same_depths_and_keeps_its_budget():
    import gc

    from skyfence.engine._depth import WindowCache

    class Owner:  # stands for a zone index
        pass

    rng = np.random.default_rng(4)
    sq = shapely.box(8.0, 46.0, 12.0, 48.0)
    edges = _zone_edges(sq.segmentize(0.01))
    lon = rng.uniform(8.1, 11.9, 40)
    lat = rng.uniform(46.1, 47.9, 40)
    ptr = np.arange(0, 41, 2)  # 20 two-fix paths, several centres
    cum = _arc_lengths(ptr, lon, lat)
    zone = np.zeros(20, np.int64)
    plain = depths(ptr, lon, lat, cum, zone, lambda z: edges)
    cache = WindowCache(budget=1 << 30)
    owner = Owner()
    for _ in range(2):  # built, then reused
        np.testing.assert_array_equal(depths(ptr, lon, lat, cum, zone, lambda z: edges, cache=cache.scoped(owner)),
                                      plain)  # fmt: skip
    assert len(cache.items) > 4 and cache.held == sum(w.size for w in cache.items.values())
    small = WindowCache(budget=max(w.size for w in cache.items.values()) * 4)
    depths(ptr, lon, lat, cum, zone, lambda z: edges, cache=small.scoped(owner))
    assert 0 < small.held <= small.budget
    del owner
    gc.collect()
    assert not cache.items and cache.held == 0  # the owner's windows went with it


def _brute_force_depth(geometry, path, spacing_m=20.0, reach_deg=5.0):
    """Largest distance from the zone's boundary over the path, by dense
    sampling (every ``spacing_m``): path samples and the boundary (its
    straight lon/lat edges, densified to 0.01 degree) projected with the
    engine's azimuthal equidistant projection on the centre the engine uses
    (the path's box centre rounded to whole degrees; the projection itself is
    checked against pyproj above), distances by shapely's STRtree.  Shares
    nothing else with the engine (no windows, grids, nor branch and bound).
    Returns (depth, spacing) with spacing the largest gap between samples."""
    lon, lat = path[:, 0], path[:, 1]
    cx = float(np.round((lon.min() + lon.max()) / 2))
    cy = float(np.round((lat.min() + lat.max()) / 2))
    x, y = project(lon, lat, cx, cy)
    step = np.hypot(np.diff(x), np.diff(y))
    n = np.maximum(1, np.ceil(step / spacing_m).astype(int))
    t = np.concatenate([np.arange(k) / k for k in n] + [[1.0]])
    i = np.concatenate([np.full(k, j) for j, k in enumerate(n)] + [[len(lon) - 2]])
    slon = lon[i] + t * (lon[i + 1] - lon[i])
    slat = lat[i] + t * (lat[i + 1] - lat[i])
    box = (lon.min() - reach_deg, lat.min() - reach_deg, lon.max() + reach_deg, lat.max() + reach_deg)
    boundary = shapely.segmentize(shapely.clip_by_rect(geometry.boundary, *box), 0.01)
    segs = []
    for part in shapely.get_parts(boundary):
        c = shapely.get_coordinates(part)
        px, py = project(c[:, 0], c[:, 1], cx, cy)
        segs.append(shapely.linestrings(np.stack([np.stack([px[:-1], py[:-1]], 1), np.stack([px[1:], py[1:]], 1)], 1)))
    segs = np.concatenate(segs)
    sx, sy = project(slon, slat, cx, cy)
    tree = shapely.STRtree(segs)
    _, dist = tree.query_nearest(shapely.points(sx, sy), return_distance=True, all_matches=False)
    far = reach_deg * 111_000.0 * np.cos(np.radians(np.abs(lat).max() + reach_deg))
    assert dist.max() < far, "the clipped boundary may miss the nearest edge"
    return float(dist.max()), float((step / n).max())


@pytest.mark.shared
@pytest.mark.parametrize(("track_file", "zone_set", "count"), [
    ("switzerland.json.gz", "world", 40),
    ("zurich_airport.json.gz", "Switzerland.txt", 25),
])  # fmt: skip
def test_depths_of_real_episodes_match_brute_force(shared_data, track_file, zone_set, count):
    """Branch-and-bound depths of randomly drawn real episodes (and the
    longest, where pruning has the most to skip) within the promised
    max(10 m, 0.5 %) of a brute-force depth by dense sampling."""
    import skyfence

    tracks = skyfence.read_tracks(shared_data / "tracks" / "opensky" / track_file)
    zones = skyfence.read_zones("world" if zone_set == "world" else shared_data / "airspaces" / "openair" / zone_set)
    by_id = {z.id: z for z in zones}
    table = skyfence.detect(tracks, zones, paths=True)
    length = np.asarray(table.column("path_length_m"))
    rng = np.random.default_rng(11)
    longest = np.argsort(-length)[: count // 4]
    pick = np.unique(np.concatenate([longest, rng.choice(len(table), count - len(longest), replace=False)]))
    zone_ids = table.column("zone").to_pylist()
    got_all = np.asarray(table.column("max_depth_m"))
    paths = table.column("path")
    checked = 0
    for j in pick:
        path = np.asarray(paths[int(j)].as_py())[:, :2]
        if len(path) < 2:
            continue
        ref, spacing = _brute_force_depth(by_id[zone_ids[j]].geometry, path)
        got = got_all[j]
        allow = max(10.0, 0.005 * ref)
        assert ref - allow - 1.0 <= got <= ref + spacing / 2 + 1.0, (zone_ids[j], float(length[j]), got, ref)
        checked += 1
    assert checked >= count - 2
    assert length[pick].max() > 50_000.0  # long paths were among them
