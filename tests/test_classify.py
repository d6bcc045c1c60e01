"""``skyfence.classify``: exact point-in-zone, against shapely, and its fast
path (points that stay inside one edge-free subcell reuse its answer) against
the full lookup."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

import skyfence


def _check_against_shapely(lon, lat, zones, got):
    """Each answer is a zone containing the point per shapely; -1 exactly when none does."""
    geoms = np.array([z.geometry for z in zones], dtype=object)
    tree = shapely.STRtree(geoms)
    pts = shapely.points(lon, lat)
    pi, zi = tree.query(pts, predicate="intersects")
    holders = {}
    for p, z in zip(pi.tolist(), zi.tolist()):
        holders.setdefault(p, set()).add(z)
    bad = [i for i in range(len(lon)) if (got[i] in holders.get(i, ())) != (i in holders)]
    bad += [i for i in range(len(lon)) if i not in holders and got[i] != -1]
    assert not bad, f"{len(bad)} points disagree with shapely, first {bad[:5]}"


def _permuted_equal(lon, lat, zones, got, seed=1):
    """Shuffled points never reuse a neighbour's subcell: the full lookup for each."""
    perm = np.random.default_rng(seed).permutation(len(lon))
    again = skyfence.classify(lon[perm], lat[perm], zones)
    np.testing.assert_array_equal(again, got[perm])


@pytest.mark.shared
@pytest.mark.parametrize("zname", ["world", "Switzerland.txt"])
def test_classify_real_tracks_match_shapely(shared_data, zname):
    tracks = skyfence.read_tracks(shared_data / "tracks" / "opensky" / "zurich_airport.json.gz")
    zones = skyfence.read_zones("world:CHE,LIE" if zname == "world"
                                else shared_data / "airspaces" / "openair" / zname)  # fmt: skip
    lon, lat = tracks.lon, tracks.lat
    got = skyfence.classify(lon, lat, zones)
    assert (got >= 0).any() and (got == -1).any()
    _check_against_shapely(lon, lat, zones, got)
    _permuted_equal(lon, lat, zones, got)


def test_classify_fast_path_at_subcell_borders():
    """Tracks that step along and across subcell borders by tiny amounts: the
    ordered run (fast path) must equal the full lookup for every point, and
    shapely."""
    zones = skyfence.read_zones("world:CHE,LIE,AUT,DEU,ITA,FRA")
    from skyfence.engine._index import load_or_build

    index = load_or_build(zones)
    rng = np.random.default_rng(7)
    lon, lat = [], []
    for _ in range(40):
        # a level-1 cell with a subgrid, and a line of points across its subcell borders
        x0, y0 = rng.uniform(6.0, 10.0), rng.uniform(45.5, 47.8)
        k = int(np.floor(y0 + 90)) * 360 + int(np.floor(x0 + 180))
        h = 1.0 / index.top_n[k]
        base_x = np.floor(x0) + np.floor((x0 - np.floor(x0)) / h) * h
        for j in range(-3, 4):
            for eps in (-1e-9, -1e-12, 0.0, 1e-12, 1e-9, 0.3 * h):
                lon.append(base_x + j * h + eps)
                lat.append(y0 + 1e-4 * j)
    lon, lat = np.array(lon), np.array(lat)
    got = skyfence.classify(lon, lat, zones)
    assert (got >= 0).any()
    _permuted_equal(lon, lat, zones, got, seed=3)
    _check_against_shapely(lon, lat, zones, got)
