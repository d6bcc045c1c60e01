"""Predicted-entry warnings: hand-computed synthetic cases, a real-data check, the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer

import skyfence
from skyfence._predict import NM, WarningMonitor, evaluate, predict_entries

GEOD = Geod(ellps="WGS84")
KT = 1852.0 / 3600.0
T0 = 1_700_000_000.0  # a multiple of 5 s: issue points fall on whole seconds


def _zones(tmp_path, features):
    """Zones from GeoJSON features ``(id, [[lon, lat], ...], props)``."""
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring + [ring[0]]]},
         "properties": {"id": zid, "name": zid, **props}} for zid, ring, props in features]}  # fmt: skip
    path = tmp_path / "zones.geojson"
    path.write_text(json.dumps(fc))
    return skyfence.read_zones(str(path))


def _box(lon0, lat0, lon1, lat1):
    return [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1]]


def _fly(lon, lat, heading, speed_kt, seconds, *, turn_dps=0.0, alt_ft=30000.0, vr_fpm=0.0, icao=0xABC123, dt=1.0):
    """A track flown fix by fix on the ellipsoid (the reported track is the
    geodesic's azimuth at each fix), turning at ``turn_dps`` (may be an array
    of one rate per fix)."""
    n = int(seconds / dt) + 1
    turn = np.broadcast_to(np.asarray(turn_dps, float), (n,))
    lons, lats, trks = np.empty(n), np.empty(n), np.empty(n)
    h = heading
    for i in range(n):
        lons[i], lats[i], trks[i] = lon, lat, h % 360.0
        lon, lat, back = GEOD.fwd(lon, lat, h, speed_kt * KT * dt)
        h = (back + 180.0) + turn[i] * dt
    t = T0 + np.arange(n) * dt
    return skyfence.Tracks.from_columns(
        icao24=np.full(n, icao), time=t, lat=lats, lon=lons, alt_baro_ft=alt_ft + vr_fpm / 60.0 * (t - T0),
        groundspeed_kt=np.full(n, speed_kt), track_deg=trks, vertical_rate_fpm=np.full(n, vr_fpm),
    )  # fmt: skip


def _warnings(table):
    return table.filter(np.array(table.column("event").to_pylist()) == "warning").to_pylist()


def test_straight_approach_hand_computed(tmp_path):
    # north along the meridian 10.5 E at 400 kt towards a zone whose southern edge is the parallel 45 N
    zones = _zones(tmp_path, [("Z", _box(10.0, 45.0, 11.0, 46.0), {})])
    lat0 = 44.5
    dist = float(GEOD.inv(10.5, lat0, 10.5, 45.0)[2])  # along the meridian
    speed = 400.0
    entry = dist / (speed * KT)  # s after the first fix: about 270 s
    tracks = _fly(10.5, lat0, 0.0, speed, 400)
    w = _warnings(predict_entries(tracks, zones, horizon=120))
    assert len(w) == 1, w
    r = w[0]
    # first issue point with the entry within 120 s, confirmed at the next one 5 s later
    first = 5 * math.ceil((entry - 120) / 5)
    issued = r["issued_at"].timestamp() - T0
    assert issued == pytest.approx(first + 5)
    assert r["predicted_entry_time"].timestamp() - T0 == pytest.approx(entry, abs=1.0)
    assert r["lead_s"] == pytest.approx(entry - issued, abs=1.0)
    assert r["achieved_lead_s"] == pytest.approx(entry - issued, abs=0.05)  # detect's observed entry
    assert r["model"] == "straight" and r["zone"] == "Z"
    assert r["entry_lat"] == pytest.approx(45.0, abs=1e-5) and r["entry_lon"] == pytest.approx(10.5, abs=1e-5)
    assert r["velocity_source"] == "reported"


def test_velocity_derived_from_positions(tmp_path):
    zones = _zones(tmp_path, [("Z", _box(10.0, 45.0, 11.0, 46.0), {})])
    tracks = _fly(10.5, 44.5, 0.0, 400.0, 400)
    entry = GEOD.inv(10.5, 44.5, 10.5, 45.0)[2] / (400 * KT)
    for name in ("groundspeed_kt", "track_deg", "vertical_rate_fpm"):
        setattr(tracks, name, np.full(len(tracks), np.nan))
    w = _warnings(predict_entries(tracks, zones))
    assert len(w) == 1 and w[0]["velocity_source"] == "derived"
    assert w[0]["predicted_entry_time"].timestamp() - T0 == pytest.approx(entry, abs=1.0)


def test_turning_aircraft_is_warned_earlier_by_the_turn_model(tmp_path):
    # heading east, turning right at 1.5 deg/s for 60 s (a 5.9 km radius), then south into a zone that the
    # continued turn reaches too
    zones = _zones(tmp_path, [("Z", _box(10.03, 44.80, 10.12, 44.93), {})])
    rate = np.where(np.arange(400) < 60, 1.5, 0.0)
    tracks = _fly(10.0, 45.0, 90.0, 300.0, 399, turn_dps=rate)
    ep = skyfence.detect(tracks, zones).to_pylist()
    assert ep and ep[0]["entry_observed"]
    first = {}
    for model in ("straight", "turn"):
        w = _warnings(predict_entries(tracks, zones, model=model, near_miss_m=0))
        assert w, model
        first[model] = w[0]["issued_at"].timestamp()
        assert w[0]["issued_at"] < ep[0]["entry_time"]
    assert first["turn"] < first["straight"] - 10
    both = _warnings(predict_entries(tracks, zones, model="both", near_miss_m=0))
    assert both[0]["issued_at"].timestamp() == first["turn"] and both[0]["model"] == "turn"


def test_near_miss_closest_approach_matches_shapely(tmp_path):
    # north along 10.0 E; the zone's western edge is 0.05 deg east of the track (about 3.9 km at 45 N)
    zones = _zones(tmp_path, [("Z", _box(10.05, 45.0, 10.6, 45.6), {})])
    tracks = _fly(10.0, 44.6, 3.0, 420.0, 200)  # slightly converging
    table = predict_entries(tracks, zones, horizon=120, near_miss_m=5 * NM)
    assert not _warnings(table)
    near = [r for r in table.to_pylist() if r["event"] == "near-miss"]
    assert near
    r = near[0]
    i = int(round(r["issued_at"].timestamp() - T0))
    lon0, lat0, trk = tracks.lon[i], tracks.lat[i], tracks.track_deg[i]
    # the predicted straight path, densified along the geodesic, vs the zone, in an equidistant projection
    d = np.linspace(0, 420.0 * KT * 120, 121)
    plon, plat, _ = GEOD.fwd(np.full(121, lon0), np.full(121, lat0), np.full(121, trk), d)
    tf = Transformer.from_crs("EPSG:4326", f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84", always_xy=True)
    line = shapely.LineString(np.column_stack(tf.transform(plon, plat)))
    zone = shapely.Polygon(np.column_stack(tf.transform(*np.array(_box(10.05, 45.0, 10.6, 45.6)).T)))
    # the zone's edges are straight in lon/lat: densify them too
    zone = shapely.Polygon(np.column_stack(tf.transform(*np.array(
        shapely.segmentize(shapely.Polygon(_box(10.05, 45.0, 10.6, 45.6)), 0.001).exterior.coords).T)))
    want = shapely.distance(line, zone)
    assert 1000 < want < 5 * NM
    assert r["closest_approach_m"] == pytest.approx(want, abs=15.0)
    assert r["lead_s"] is None and r["predicted_entry_time"] is None


def test_vertical_limits_count(tmp_path):
    zones = _zones(tmp_path, [("R", _box(10.0, 45.0, 11.0, 46.0), {"lower": "FL100", "upper": "FL200"})])
    under = _fly(10.5, 44.5, 0.0, 300.0, 400, alt_ft=5000.0)
    inside = _fly(10.5, 44.5, 0.0, 300.0, 400, alt_ft=15000.0, icao=0x222222)
    assert not _warnings(predict_entries(under, zones))
    assert len(_warnings(predict_entries(inside, zones))) == 1
    # climbing through the floor inside the lateral limits: warned, at the predicted floor crossing
    climb = _fly(10.5, 44.9, 0.0, 300.0, 400, alt_ft=8000.0, vr_fpm=1500.0, icao=0x333333)
    w = _warnings(predict_entries(climb, zones))
    assert w
    floor_t = (10000.0 - 8000.0) / 1500.0 * 60.0  # 80 s after the first fix
    assert w[0]["predicted_entry_time"].timestamp() - T0 == pytest.approx(floor_t, abs=1.0)
    assert w[0]["entry_alt_ft"] == pytest.approx(10000.0, abs=30)


def test_no_warning_inside_or_flying_away(tmp_path):
    zones = _zones(tmp_path, [("Z", _box(10.0, 45.0, 11.0, 46.0), {})])
    inside = _fly(10.5, 45.3, 0.0, 400.0, 200)  # inside all along
    away = _fly(10.5, 44.9, 180.0, 400.0, 300, icao=0x444444)  # 11 km south, flying south
    table = predict_entries(skyfence.Tracks.concat([inside, away]), zones)
    assert table.num_rows == 0


def test_live_feed_in_batches_gives_the_same_warnings(tmp_path):
    zones = _zones(tmp_path, [("Z", _box(10.0, 45.0, 11.0, 46.0), {}), ("Y", _box(10.7, 44.0, 11.5, 44.8), {})])
    tracks = skyfence.Tracks.concat([
        _fly(10.5, 44.5, 0.0, 400.0, 400),
        _fly(10.2, 44.6, 100.0, 350.0, 400, turn_dps=0.1, icao=0x555555),
    ])  # fmt: skip
    whole = WarningMonitor(zones).feed(tracks)
    mon = WarningMonitor(zones)
    order = np.argsort(tracks.time, kind="stable")
    parts = []
    for chunk in np.array_split(order, 17):  # as a feed delivers them: by time, every aircraft mixed
        parts.append(mon.feed(tracks.take(chunk)))
    key = lambda t: sorted((r["icao24"], r["zone"], r["event"], r["issued_at"], round(r["lead_s"] or 0, 6))  # noqa: E731
                           for r in t.to_pylist())  # fmt: skip
    assert whole.num_rows > 1
    assert key(whole) == sorted(sum((key(p) for p in parts), []))
    # state stays bounded: two hours later only the aircraft still heard are remembered
    later = _fly(12.0, 40.0, 0.0, 300.0, 10, icao=0x666666)
    later.time = later.time + 7200
    mon.feed(later)
    assert set(mon._tail.icao24.tolist()) == {0x666666} and len(mon._keys) == 0


def test_warning_episode_is_not_repeated(tmp_path):
    # a long straight approach: one warning episode, issued once (the prediction does not move)
    zones = _zones(tmp_path, [("Z", _box(10.0, 45.0, 11.0, 46.0), {})])
    w = _warnings(predict_entries(_fly(10.5, 44.0, 0.0, 450.0, 500), zones))
    assert len(w) == 1 and w[0]["update"] == 0


@pytest.mark.shared
def test_real_data_straight_entries_are_warned(shared_data):
    from skyfence._predict import straight_cruise_entries

    tracks = skyfence.read_tracks(shared_data / "tracks" / "opensky" / "switzerland.json.gz")
    # a third of the aircraft, to keep the test short
    keep = np.isin(tracks.icao24, np.unique(tracks.icao24)[::3])
    tracks = tracks.take(np.flatnonzero(keep))
    zones = skyfence.read_zones("world")
    mon = WarningMonitor(zones)
    warnings = mon.feed(tracks)
    _, entries = evaluate(warnings, skyfence.detect(tracks, zones), 120.0)
    cruise = straight_cruise_entries(tracks, entries)
    first = entries["first_entry"].to_numpy()
    sel = cruise & first
    assert sel.sum() >= 100
    lead = entries["lead_s"].to_numpy()[sel]
    share = np.mean(lead >= 30.0)
    assert share >= 0.85, share


def test_cli_warn_and_errors(tmp_path, capsys):
    from skyfence.cli import main

    zones = _zones(tmp_path, [("Z", _box(10.0, 45.0, 11.0, 46.0), {})])
    tracks = _fly(10.5, 44.5, 0.0, 400.0, 400)
    src = tmp_path / "t.csv"
    import pandas as pd

    pd.DataFrame({"icao24": ["abc123"] * len(tracks), "time": tracks.time, "lat": tracks.lat, "lon": tracks.lon,
                  "alt_baro_ft": tracks.alt_baro_ft, "groundspeed_kt": tracks.groundspeed_kt,
                  "track_deg": tracks.track_deg}).to_csv(src, index=False)  # fmt: skip
    geo = tmp_path / "zones.geojson"
    assert zones
    out = tmp_path / "w.jsonl"
    assert main(["warn", str(src), "--zones", str(geo), "-o", str(out), "--format", "jsonl"]) == 0
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["event"] for r in rows] == ["warning"] and rows[0]["achieved_lead_s"] > 100
    err = capsys.readouterr().err
    assert "1 warnings" in err and "1 entries observed, 1 warned before" in err
    assert f"{len(tracks)} fixes read; none skipped; 81 prediction points" in err  # 0..400 s every 1 s, every 5 s
    for argv, what in ((["warn", str(src), "--horizon", "0"], "horizon"),
                       (["warn", str(src), "--horizon", "-5"], "horizon"),
                       (["warn", str(tmp_path / "missing.json")], "missing.json"),
                       (["warn", str(src), "--cadence", "0"], "cadence")):  # fmt: skip
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and err.startswith("skyfence: error:") and what in err, err


def test_cli_warn_in_a_real_process(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "skyfence.cli", "warn", "--help"], capture_output=True, text=True)
    if proc.returncode != 0:  # no __main__ in the package: the console script
        proc = subprocess.run([str(Path(sys.executable).with_name("skyfence")), "warn", "--help"],
                              capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0 and "--horizon" in proc.stdout and "--near-miss" in proc.stdout
    proc = subprocess.run([str(Path(sys.executable).with_name("skyfence")), "warn", str(tmp_path / "none.json"),
                           "--model", "straight"], capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "none.json" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("argv, message", [
    (["--near-miss", "-1"], "--near-miss must be a non-negative number of nautical miles, got -1"),
    (["--near-miss", "30"], "--near-miss: the near-miss distance must be at most 50 km (26.9 NM), got 30 NM"),
    (["--quiet-period", "-1"], "--quiet-period must be a non-negative number"),
    (["--max-gap", "0"], "--max-gap must be a positive number of seconds"),
    (["--step", "200"], "--step (200 s) must not exceed the --horizon (120 s)"),
])  # fmt: skip
def test_cli_warn_bad_option_is_named_as_typed(tmp_path, capsys, argv, message):
    # the message names the option the user typed, in its unit (not near_miss_m in metres, quiet, max_gap)
    from skyfence.cli import main

    assert main(["warn", str(tmp_path / "unread.csv"), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"skyfence: error: {message}") and "\n" not in err, err


def test_no_warning_from_positions_the_integrity_checks_flag(tmp_path):
    # flying north 23 km west of a zone, no velocity reported; for 15 s the positions jump 20 km east (a
    # garbled or spoofed position) and come back.  The velocity derived across the jump (about 4,800 kt,
    # east) predicted an entry: a false warning.  Those fixes are flagged (speed, jump) and not used.
    zones = _zones(tmp_path, [("Z", _box(10.3, 44.0, 11.0, 46.0), {})])
    tracks = _fly(10.0, 44.5, 0.0, 400.0, 300)
    jump = (tracks.time >= T0 + 100) & (tracks.time < T0 + 115)
    tracks.lon = np.where(jump, tracks.lon + 0.25, tracks.lon)
    for name in ("groundspeed_kt", "track_deg", "vertical_rate_fpm"):
        setattr(tracks, name, np.full(len(tracks), np.nan))
    assert not skyfence.detect(tracks, zones).num_rows  # the jumped positions stay outside too
    mon = WarningMonitor(zones, near_miss_m=0)
    assert mon.feed(tracks).num_rows == 0
    assert mon.stats["suspect fix"] == 15
    # the same track without the jump is predicted all along (the check does not mute clean data)
    clean = _fly(10.0, 44.5, 0.0, 400.0, 300)
    mon = WarningMonitor(zones, near_miss_m=0)
    assert mon.feed(clean).num_rows == 0 and mon.stats["suspect fix"] == 0 and mon.stats["paths"] == 61


def test_cli_warn_counts_the_suspect_fixes_it_did_not_use(tmp_path, capsys):
    import pandas as pd

    from skyfence.cli import main

    _zones(tmp_path, [("Z", _box(10.3, 44.0, 11.0, 46.0), {})])
    tracks = _fly(10.0, 44.5, 0.0, 400.0, 300)
    jump = (tracks.time >= T0 + 100) & (tracks.time < T0 + 115)
    src = tmp_path / "t.csv"
    pd.DataFrame({"icao24": ["abc123"] * len(tracks), "time": tracks.time, "lat": tracks.lat,
                  "lon": np.where(jump, tracks.lon + 0.25, tracks.lon),
                  "alt_baro_ft": tracks.alt_baro_ft}).to_csv(src, index=False)  # fmt: skip
    out = tmp_path / "w.jsonl"
    assert main(["warn", str(src), "--zones", str(tmp_path / "zones.geojson"), "--near-miss", "0", "-o", str(out),
                 "--format", "jsonl"]) == 0  # fmt: skip
    assert out.read_text() == ""
    assert "15 suspect fixes not used (integrity flags); 0 warnings" in capsys.readouterr().err
