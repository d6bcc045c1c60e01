"""The demo scenario: loading, the tracks it flies, and its figures against the real border.

The border check here is independent of skyfence's engine: exact segment-polygon
intersection with shapely in lon/lat (the aircraft moves on the straight lon/lat
segment between consecutive fixes at constant speed), depth = distance to TUR's
boundary in a local azimuthal-equidistant projection (pyproj).
"""

from __future__ import annotations

import gzip
import json
import math
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import LineString, Point, box, shape

from skyfence._errors import InputError
from skyfence._scenario import KT, Scenario, list_scenarios, load_scenario, parse_scenario
from skyfence._tracks import Tracks

NAME = "yayladagi-2015"
UTC = timezone.utc
GEOD = pyproj.Geod(ellps="WGS84")
RUSSIA = (0x100000, 0x1FFFFF)
HMEYMIM = (35.41, 35.95)


def utc(*a: int) -> float:
    return datetime(*a, tzinfo=UTC).timestamp()


def one(tracks: Tracks, callsign: str) -> Tracks:
    code = tracks.callsigns.index(callsign)
    return tracks.take(tracks.callsign == code)


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(NAME)


@pytest.fixture(scope="module")
def tracks(scenario: Scenario) -> Tracks:
    return scenario.tracks()


# --------------------------------------------------------------------------- border check


class Border:
    """One state's polygon near Yayladağı: exact crossings and depth."""

    def __init__(self, geom, lat0: float = 35.85, lon0: float = 36.15, pad: float = 1.0) -> None:
        self.poly = geom.intersection(box(lon0 - pad, lat0 - pad, lon0 + pad, lat0 + pad))
        shapely.prepare(self.poly)
        self.tr = pyproj.Transformer.from_crs(
            "EPSG:4326",
            pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m"),
            always_xy=True,
        )
        # the clip box's edges are > 50 km from anything measured here
        self.boundary = shapely.transform(
            self.poly.boundary, lambda xy: np.column_stack(self.tr.transform(xy[:, 0], xy[:, 1]))
        )
        shapely.prepare(self.boundary)

    def distance_m(self, lon, lat) -> np.ndarray:
        x, y = self.tr.transform(np.asarray(lon, float), np.asarray(lat, float))
        return shapely.distance(self.boundary, shapely.points(x, y))

    def contains(self, lon: float, lat: float) -> bool:
        return bool(shapely.contains_xy(self.poly, lon, lat))

    def inside(self, t: Tracks, step_m: float = 5.0) -> list[tuple[float, float, float]]:
        """[(t_in, t_out, max depth m)] of the piecewise-straight lon/lat track inside."""
        out: list[tuple[float, float, float]] = []
        for i in range(len(t) - 1):
            seg = LineString([(t.lon[i], t.lat[i]), (t.lon[i + 1], t.lat[i + 1])])
            if not self.poly.intersects(seg):
                continue
            x = seg.intersection(self.poly)
            for g in getattr(x, "geoms", [x]):
                if g.geom_type != "LineString" or g.length == 0:
                    continue
                c = np.asarray(g.coords)
                fa, fb = sorted(seg.project(Point(p), normalized=True) for p in (c[0], c[-1]))
                length = GEOD.line_length([c[0][0], c[-1][0]], [c[0][1], c[-1][1]])
                f = np.linspace(fa, fb, max(2, int(length / step_m) + 2))
                depth = float(self.distance_m(t.lon[i] + f * (t.lon[i + 1] - t.lon[i]),
                                              t.lat[i] + f * (t.lat[i + 1] - t.lat[i])).max())
                ta = t.time[i] + fa * (t.time[i + 1] - t.time[i])
                tb = t.time[i] + fb * (t.time[i + 1] - t.time[i])
                if out and abs(out[-1][1] - ta) < 1e-6:
                    out[-1] = (out[-1][0], tb, max(out[-1][2], depth))
                else:
                    out.append((ta, tb, depth))
        return out


@pytest.fixture(scope="module")
def borders(shared_data: Path) -> dict[str, Border]:
    with gzip.open(shared_data / "borders" / "countries-maritime-10m.geojson.gz", "rt", encoding="utf-8") as f:
        doc = json.load(f)
    geoms = {ft["properties"].get("A3"): ft["geometry"] for ft in doc["features"]}
    return {a3: Border(shape(geoms[a3])) for a3 in ("TUR", "SYR")}


# --------------------------------------------------------------------------- loading


def test_shipped_scenario_is_listed_and_loads(scenario: Scenario) -> None:
    assert NAME in list_scenarios()
    assert scenario.name == NAME
    assert "Yayladağı" in scenario.title
    assert scenario.description and scenario.reading
    assert "BBC" in scenario.reading and "17" in scenario.reading
    assert [i.date.isoformat() for i in scenario.incidents] == ["2015-10-03", "2015-11-24"]
    for inc in scenario.incidents:
        assert inc.label and inc.facts and inc.zone == "TUR" and inc.aircraft
    assert scenario.incidents[1].published["entry"] == datetime(2015, 11, 24, 7, 24, 5, tzinfo=UTC)
    assert scenario.incidents[1].published["duration_s"] == 17
    assert {a.type for a in scenario.aircraft} == {"Su-30SM", "Su-24M"}


def test_load_by_path_equals_load_by_name(scenario: Scenario) -> None:
    again = load_scenario(Path(scenario.path))
    assert again.title == scenario.title
    a, b = again.tracks(), scenario.tracks()
    assert np.array_equal(a.time, b.time) and np.array_equal(a.lat, b.lat) and np.array_equal(a.lon, b.lon)


def test_unknown_scenario_name() -> None:
    with pytest.raises(InputError, match="unknown scenario 'no-such-thing'.*yayladagi-2015"):
        load_scenario("no-such-thing")


# --------------------------------------------------------------------------- the tracks


def test_tracks_table(scenario: Scenario, tracks: Tracks) -> None:
    assert isinstance(tracks, Tracks) and len(tracks) > 300
    assert "RECONSTRUCTION" in tracks.source and scenario.title in tracks.source
    assert np.all(np.diff(tracks.time) >= 0), "rows sorted by time"
    assert set(tracks.callsigns) == {"FAKE30A", "FAKE24A", "FAKE24B"}
    assert tracks.stats.rows_read == len(tracks)
    for ac in scenario.aircraft:
        t = one(tracks, ac.callsign)
        assert np.all(t.icao24 == ac.icao24)
        assert RUSSIA[0] <= ac.icao24 <= RUSSIA[1]
        assert np.allclose(np.diff(t.time), 4.0), "one fix per 4 s radar rotation"
        assert t.time[0] == ac.start.timestamp()
        for col in ("lat", "lon", "alt_baro_ft", "groundspeed_kt", "track_deg", "vertical_rate_fpm"):
            assert np.isfinite(getattr(t, col)).all(), col
        assert np.isnan(t.alt_geo_ft).all()


def test_addresses_in_the_russian_block_of_the_register(shared_data: Path, scenario: Scenario) -> None:
    regs = json.loads((shared_data / "identity" / "icao-registers.json").read_text(encoding="utf-8"))
    russia = [r for r in regs["registers"] if r["country"] == "Russia"]
    assert len(russia) == 1
    lo, hi = int(russia[0]["start"], 16), int(russia[0]["end"], 16)
    assert (lo, hi) == RUSSIA
    for ac in scenario.aircraft:
        assert lo <= ac.icao24 <= hi


def test_24_november_pair_at_19000_ft(tracks: Tracks) -> None:
    for cs in ("FAKE24A", "FAKE24B"):
        t = one(tracks, cs)
        window = (t.time >= utc(2015, 11, 24, 7, 19, 5)) & (t.time <= utc(2015, 11, 24, 7, 24, 23))
        assert window.sum() > 75
        assert np.all(t.alt_baro_ft[window] == 19000.0)
        assert np.allclose(t.groundspeed_kt[window], 510.0)


def test_tracks_are_deterministic_and_noise_is_small(scenario: Scenario, tracks: Tracks) -> None:
    again = scenario.tracks()
    assert np.array_equal(again.lat, tracks.lat) and np.array_equal(again.lon, tracks.lon)
    # the noiseless flight differs from the shipped one by the (10 m) noise only
    text = Path(scenario.path).read_text(encoding="utf-8").replace("noise_m = 10.0", "noise_m = 0.0")
    clean = parse_scenario(text, source="clean").tracks()
    _, _, d = GEOD.inv(clean.lon, clean.lat, tracks.lon, tracks.lat)
    assert 3 < np.mean(d) < 25 and d.max() < 60


# --------------------------------------------------------------------------- the figures


def test_24_november_lead_figures(borders: dict[str, Border], tracks: Tracks) -> None:
    lead = one(tracks, "FAKE24A")
    inside = borders["TUR"].inside(lead)
    assert len(inside) == 1, inside
    t_in, t_out, depth = inside[0]
    assert abs(t_in - utc(2015, 11, 24, 7, 24, 5)) <= 1.0
    assert abs((t_out - t_in) - 17.0) <= 1.0
    assert 1800 <= depth <= 2300
    # tighter: the design margins that the package's simplified border (<= 20 m) eats into
    assert abs(t_in - utc(2015, 11, 24, 7, 24, 5)) <= 0.2
    assert abs((t_out - t_in) - 17.0) <= 0.2
    assert 1900 <= depth <= 2050
    # approach: more than 5 minutes of track before the entry
    assert t_in - lead.time[0] >= 5 * 60
    # the track ends (crash) in Syria, about 4 km from Turkey's boundary
    lon, lat = lead.lon[-1], lead.lat[-1]
    assert borders["SYR"].contains(lon, lat) and not borders["TUR"].contains(lon, lat)
    assert 3500 <= float(borders["TUR"].distance_m(lon, lat)) <= 5000


def test_24_november_wingman(borders: dict[str, Border], tracks: Tracks) -> None:
    wing = one(tracks, "FAKE24B")
    inside = borders["TUR"].inside(wing)
    assert len(inside) == 1, inside
    t_in, t_out, depth = inside[0]
    # enters and leaves within the lead's 17 s, less deep than the lead
    assert utc(2015, 11, 24, 7, 24, 5) <= t_in and t_out <= utc(2015, 11, 24, 7, 24, 22)
    assert 12 <= t_out - t_in <= 17 and 1500 <= depth <= 1900
    # then flies back south, towards Hmeymim
    assert wing.lat[-1] < 35.6 and wing.time[-1] - t_out > 120
    assert borders["SYR"].contains(wing.lon[-1], wing.lat[-1])


def test_3_october_su30_few_seconds(borders: dict[str, Border], tracks: Tracks) -> None:
    su30 = one(tracks, "FAKE30A")
    inside = borders["TUR"].inside(su30)
    assert len(inside) == 1, inside
    t_in, t_out, depth = inside[0]
    assert 2.0 <= t_out - t_in <= 10.0
    assert utc(2015, 10, 3, 9, 7, 30) <= t_in <= utc(2015, 10, 3, 9, 9, 0)
    assert 100 <= depth <= 1000
    assert t_in - su30.time[0] >= 5 * 60
    # turning back towards Hmeymim: the end is far south-west, heading roughly there
    assert su30.lat[-1] < 35.6
    az, _, _ = GEOD.inv(su30.lon[-2], su30.lat[-2], HMEYMIM[1], HMEYMIM[0])
    assert abs((su30.track_deg[-1] - az + 180) % 360 - 180) < 30


# --------------------------------------------------------------------------- the builder


def _write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_changing_the_speed_changes_the_tracks(scenario: Scenario, tracks: Tracks, tmp_path: Path) -> None:
    text = Path(scenario.path).read_text(encoding="utf-8")
    assert text.count("speed_kt = 510") == 2
    faster = load_scenario(_write(tmp_path, text.replace("speed_kt = 510", "speed_kt = 540")))
    t2 = faster.tracks()
    a, b = one(tracks, "FAKE24A"), one(t2, "FAKE24A")
    assert len(b) < len(a), "the same route flown faster takes fewer fixes"
    n = min(len(a), len(b))
    assert not np.allclose(a.lat[:n], b.lat[:n])
    assert np.allclose(b.groundspeed_kt[b.alt_baro_ft == 19000], 540)
    # the other incident is untouched
    assert np.array_equal(one(tracks, "FAKE30A").lat, one(t2, "FAKE30A").lat)


MINI = """
[scenario]
title = "mini"
description = "a test"
reading = "none"
fix_interval_s = 1.0

[[aircraft]]
icao24 = "123456"
callsign = "TEST1"
type = "test"
start = 2020-01-01T00:00:00Z
position = [45.0, 7.0]
heading_deg = 90
speed_kt = 360
alt_ft = 10000
route = [
  { fly_s = 10 },
  { turn = "left", by_deg = 180, rate_dps = 3, alt_ft = 9000 },
  { to = [45.0, 7.0] },
]
"""


def test_builder_kinematics(tmp_path: Path) -> None:
    t = load_scenario(_write(tmp_path, MINI)).tracks()
    v = 360 * KT  # m/s
    assert t.time[0] == utc(2020, 1, 1)
    # straight leg east: constant speed along the geodesic
    _, _, d = GEOD.inv(t.lon[:10], t.lat[:10], t.lon[1:11], t.lat[1:11])
    assert np.allclose(d, v, rtol=1e-9)
    assert np.allclose(t.track_deg[:10], 90, atol=0.05)  # a geodesic's azimuth drifts a little
    # the 180 deg turn takes 60 s at 3 deg/s, descends 1000 ft in it, radius v / omega
    i = 10 + 60
    assert t.track_deg[i - 1] == pytest.approx(273, abs=0.05)  # at i the direct-to leg starts
    assert t.alt_baro_ft[i] == pytest.approx(9000) and t.alt_baro_ft[40] == pytest.approx(9500)
    assert t.vertical_rate_fpm[40] == pytest.approx(-1000)
    _, _, diameter = GEOD.inv(t.lon[10], t.lat[10], t.lon[i], t.lat[i])
    assert diameter == pytest.approx(2 * v / math.radians(3), rel=1e-3)
    # turning left from east ends north of the turn start
    assert t.lat[i] > t.lat[10]
    # then back to the start point: last fix within one second's flight of it
    _, _, d_end = GEOD.inv(t.lon[-1], t.lat[-1], 7.0, 45.0)
    assert d_end < v


def test_turn_toward_a_point(tmp_path: Path) -> None:
    text = MINI.replace('{ turn = "left", by_deg = 180, rate_dps = 3, alt_ft = 9000 },',
                        '{ turn = "right", toward = [44.9, 7.0] },').replace("{ to = [45.0, 7.0] }", "{ to = [44.9, 7.0] }")
    t = load_scenario(_write(tmp_path, text)).tracks()
    # no kink anywhere: heading changes at most 3 deg per 1 s fix
    step = (np.diff(t.track_deg) + 180) % 360 - 180
    assert np.abs(step).max() <= 3.0 + 1e-6
    # the final leg heads straight at the point
    az, _, _ = GEOD.inv(t.lon[-3], t.lat[-3], 7.0, 44.9)
    assert abs((t.track_deg[-3] - az + 180) % 360 - 180) < 0.1
    _, _, d_end = GEOD.inv(t.lon[-1], t.lat[-1], 7.0, 44.9)
    assert d_end < 360 * KT


# --------------------------------------------------------------------------- bad files


@pytest.mark.parametrize(
    ("old", "new", "key", "message"),
    [
        ('callsign = "TEST1"\n', "", "aircraft[1].callsign", "missing"),
        ("start = 2020-01-01T00:00:00Z", 'start = "yesterday"', "aircraft[1].start", "ISO 8601"),
        ("start = 2020-01-01T00:00:00Z", "start = 2020-01-01T00:00:00", "aircraft[1].start", "UTC offset"),
        ("start = 2020-01-01T00:00:00Z", "start = 2020-13-01T00:00:00Z", None, "not valid TOML"),
        ('title = "mini"\n', "", "scenario.title", "missing"),
        ("speed_kt = 360", "speed_kt = -5", "aircraft[1].speed_kt", "must be >"),
        ("speed_kt = 360", "sped_kt = 360", "aircraft[1].sped_kt", "unknown key"),
        ('icao24 = "123456"', 'icao24 = "xyz"', "aircraft[1].icao24", "6 hex digits"),
        ("position = [45.0, 7.0]", "position = [95.0, 7.0]", "aircraft[1].position", "out of range"),
        ('turn = "left"', 'turn = "up"', "aircraft[1].route[2].turn", "left"),
        ("{ fly_s = 10 }", "{ fly_s = 10, fly_km = 3 }", "aircraft[1].route[1]", "exactly one"),
        ("{ to = [45.0, 7.0] }", "{ to = [45.0] }", "aircraft[1].route[3].to", "[lat, lon]"),
        ("fix_interval_s = 1.0", "fix_interval_s = 0", "scenario.fix_interval_s", "must be >"),
    ],
)
def test_bad_files_name_file_and_key(tmp_path: Path, old: str, new: str, key: str | None, message: str) -> None:
    assert old in MINI
    path = _write(tmp_path, MINI.replace(old, new, 1), "bad.toml")
    with pytest.raises(InputError) as info:
        load_scenario(path).tracks()
    err = info.value
    text = str(err)
    assert "\n" not in text
    assert text.startswith(str(path))
    assert err.source == str(path)
    assert message in text
    if key is None:
        assert err.line is not None and f":{err.line}:" in text
    else:
        assert err.field == key and repr(key) in text


def test_bad_incident_reference(tmp_path: Path) -> None:
    text = MINI + '\n[[incident]]\nlabel = "x"\ndate = 2020-01-01\nfacts = "f"\naircraft = ["NOPE"]\n'
    with pytest.raises(InputError, match=r"field 'incident\[1\]\.aircraft': no aircraft with callsign 'NOPE'"):
        load_scenario(_write(tmp_path, text))


def test_turn_toward_a_point_inside_the_circle(tmp_path: Path) -> None:
    # 500 m north of the aircraft: inside its left 3 deg/s turn circle (radius 3.5 km at 360 kt)
    text = MINI.replace('{ turn = "left", by_deg = 180, rate_dps = 3, alt_ft = 9000 },',
                        '{ turn = "left", toward = [45.0045, 7.0235] },')
    with pytest.raises(InputError, match=r"route\[2\]\.toward.*turn circle"):
        load_scenario(_write(tmp_path, text)).tracks()


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read scenario file"):
        load_scenario(tmp_path / "absent.toml")
