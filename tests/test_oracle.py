"""The engine against the independent brute-force oracle, on real data.

Real OpenSky tracks (``switzerland``: 842 aircraft, 10 s fixes;
``quickstart``: 213 aircraft around Paris, 1 s fixes, all aircraft used;
``zurich_airport``: 10 aircraft taking off / landing at Zurich, 1 s fixes)
against the world sovereign-airspace zones and the Swiss OpenAir airspaces
(with their vertical limits).  Every oracle episode longer than 1 s must be
found by the engine (same icao24 and zone, overlapping, entry and exit within
0.5 s, same observed flags), and every engine episode longer than 1 s must be
in the oracle.

The oracle itself is checked independently by sampling random points on the
paths (``oracle.point_sample_mismatches``).
"""

from __future__ import annotations

import time

import pytest

import oracle

TRACK_FILES = {
    "switzerland": "switzerland.json.gz",
    "quickstart": "quickstart.json.gz",
    "zurich_airport": "zurich_airport.json.gz",
}
ZONE_SETS = ("world", "Switzerland.txt")
# Combinations that must give episodes (else the comparison tests nothing).
# quickstart (Paris) never reaches Swiss airspaces, and the switzerland
# overflights (all above 30 000 ft) reach few of them: zurich_airport (10
# departures / arrivals at Zurich, 1 s fixes) exercises the vertical limits.
MUST_HAVE_EPISODES = {
    ("switzerland", "world"),
    ("quickstart", "world"),
    ("zurich_airport", "world"),
    ("zurich_airport", "Switzerland.txt"),
}

pytestmark = pytest.mark.shared


def _api(name):
    import skyfence

    fn = getattr(skyfence, name, None)
    if fn is None:  # fall back to the sub-packages
        import skyfence.io
        import skyfence.zones

        fn = getattr(skyfence.io, name, None) or getattr(skyfence.zones, name)
    return fn


_cache: dict = {}


def _cached(key, make):
    if key not in _cache:
        _cache[key] = make()
    return _cache[key]


def _tracks(shared_data, name):
    return _cached(("tracks", name), lambda: _api("read_tracks")(shared_data / "tracks" / "opensky" / TRACK_FILES[name]))


def _zones(shared_data, name):
    if name == "world":
        return _cached(("zones", name), lambda: _api("read_zones")("world"))
    return _cached(("zones", name), lambda: _api("read_zones")(shared_data / "airspaces" / "openair" / name))


def _oracle(shared_data, tname, zname):
    def make():
        t = time.perf_counter()
        df = oracle.oracle_episodes(_tracks(shared_data, tname), _zones(shared_data, zname), max_gap=60.0)
        print(f"oracle {tname} x {zname}: {len(df)} episodes in {time.perf_counter() - t:.1f} s")
        return df

    return _cached(("oracle", tname, zname), make)


@pytest.mark.parametrize("zname", ZONE_SETS)
@pytest.mark.parametrize("tname", sorted(TRACK_FILES))
def test_engine_matches_oracle(shared_data, tname, zname):
    import skyfence

    trk = _tracks(shared_data, tname)
    zones = _zones(shared_data, zname)
    want = _oracle(shared_data, tname, zname)
    t = time.perf_counter()
    got = oracle.engine_frame(skyfence.detect(trk, zones))
    print(f"engine {tname} x {zname}: {len(got)} episodes in {time.perf_counter() - t:.1f} s")
    if (tname, zname) in MUST_HAVE_EPISODES:
        assert (want["exit_time"] - want["entry_time"] > 1).sum() > 0, "no oracle episode: nothing tested"
    mismatches = oracle.compare_episodes(want, got, min_duration=1.0, tol=0.5)
    assert not mismatches, f"{tname} x {zname}: " + oracle.report(mismatches, len(want), len(got))


@pytest.mark.parametrize("zname", ZONE_SETS)
@pytest.mark.parametrize("tname", sorted(TRACK_FILES))
def test_oracle_agrees_with_point_sampling(shared_data, tname, zname):
    trk = _tracks(shared_data, tname)
    zones = _zones(shared_data, zname)
    want = _oracle(shared_data, tname, zname)
    bad = oracle.point_sample_mismatches(trk, zones, want, n=20000, seed=1)
    assert not bad, "oracle disagrees with point sampling:\n  " + "\n  ".join(bad[:15])
