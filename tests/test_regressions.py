"""Regressions found by differential review against the oracle."""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import Geod

import oracle
import skyfence
from skyfence import Limit, Tracks, Zone
from skyfence.zones._model import SFC, UNL

T0 = 1_700_000_000.0


def _zone(zid, geom, lower=SFC, upper=UNL):
    return Zone(id=zid, name=zid, kind="test", geometry=geom, lower=lower, upper=upper)


def _track(t, lon, lat):
    n = len(t)
    return Tracks.from_columns(
        icao24=np.full(n, 0xABCDEF, np.uint32), time=T0 + np.asarray(t, float),
        lat=np.asarray(lat, float), lon=np.asarray(lon, float),
    )  # fmt: skip


def test_more_than_256_overlapping_zones():
    # 300 concentric circles; only the middle fix is inside them.  The kernel
    # once kept 256 zones per point and inverted the rest.
    zones = [_zone(f"C{i:03d}", shapely.Point(10, 50).buffer(0.01 + 0.002 * i, 32)) for i in range(300)]
    trk = _track([0, 30, 60], [8.0, 10.0, 12.0], [50.0001] * 3)
    expected = oracle.oracle_episodes(trk, zones, max_gap=1e9)
    got = oracle.engine_frame(skyfence.detect(trk, zones, max_gap=1e9))
    assert len(expected) == 300
    assert oracle.compare_episodes(expected, got) == []


def test_depth_uses_the_lon_lat_edges_of_long_edges():
    # Long edges are straight in lon/lat, not in the local projection: the
    # depth of a path 1 degree south of a 60-degree-long edge is 1 degree.
    geod = Geod(ellps="WGS84")
    cases = [  # zone, track from (0, lat0) to (0, lat0 + 2), the deepest point and its nearest edge point
        (shapely.box(-30.0, 60.0, 30.0, 70.0), 69.0, (0, 69), (0, 70)),
        (shapely.box(-180, 80, 180, 90), 79.0, (0, 81), (0, 80)),  # a polar cap
    ]
    for geom, lat0, deep, edge in cases:
        trk = _track([0, 100], [0.0, 0.0], [lat0, lat0 + 2.0])
        depth = skyfence.detect(trk, [_zone("Z", geom)], max_gap=1e9).column("max_depth_m")[0].as_py()
        expected = geod.inv(*deep, *edge)[2]
        assert abs(depth - expected) <= max(10.0, 0.005 * expected), (geom.bounds, depth, expected)


def test_fl_band_vertical_entry_matches_oracle():
    # a climb through an FL floor inside the lateral limits of many stacked layers
    layers = [_zone(f"L{i}", shapely.box(7.0, 46.0, 9.0, 48.0), Limit(1000.0 * i, "FL"), Limit(1000.0 * i + 900, "FL"))
              for i in range(1, 30)]  # fmt: skip
    n = 200
    trk = Tracks.from_columns(
        icao24=np.full(n, 0x123456, np.uint32), time=T0 + np.arange(n) * 10.0,
        lat=np.linspace(46.5, 47.5, n), lon=np.linspace(7.5, 8.5, n), alt_baro_ft=np.linspace(0, 31000, n),
    )  # fmt: skip
    expected = oracle.oracle_episodes(trk, layers)
    got = oracle.engine_frame(skyfence.detect(trk, layers))
    assert len(expected) >= 25
    assert oracle.compare_episodes(expected, got) == []


def test_kernel_buffers_grow_on_long_segments_through_a_comb():
    # The kernels work on borrowed views of buffers they grow themselves
    # (crossings, cells, intervals, episodes).  One 31-degree segment through
    # a comb of 300 teeth crosses 600 edges (crossing buffer: 256), meets
    # hundreds of subcells (cell buffer: 256), and 4 such tracks give 1,200
    # episodes (episode buffer: 1,024).  Each tooth must be one episode with
    # its analytic entry and exit.
    x = np.arange(300) * 0.1
    teeth = [shapely.box(a, 1.0, a + 0.05, 2.0) for a in x]
    comb = shapely.union_all([shapely.box(-0.5, 0.0, 30.5, 1.0), *teeth])
    zones = [_zone("COMB", comb)]
    n = 4
    trk = Tracks.from_columns(
        icao24=np.repeat(np.arange(1, n + 1, dtype=np.uint32), 2), time=T0 + np.tile([0.0, 3100.0], n),
        lat=np.repeat(1.5 + 0.1 * np.arange(n), 2), lon=np.tile([-0.55, 30.45], n),
    )  # fmt: skip
    eps = skyfence.detect(trk, zones, max_gap=1e9)
    assert eps.num_rows == n * 300
    entry = (eps.column("entry_time").cast("int64").to_numpy() / 1e6 - T0).reshape(n, 300)
    exit_ = (eps.column("exit_time").cast("int64").to_numpy() / 1e6 - T0).reshape(n, 300)
    # the track moves 0.01 degree per second from lon -0.55: tooth [a, a + 0.05] is entered at (a + 0.55) * 100 s
    for k in range(n):
        np.testing.assert_allclose(entry[k], (x + 0.55) * 100.0, atol=1e-3)
        np.testing.assert_allclose(exit_[k], (x + 0.60) * 100.0, atol=1e-3)
    expected = oracle.oracle_episodes(trk, zones, max_gap=1e9)
    assert oracle.compare_episodes(expected, oracle.engine_frame(eps)) == []
