"""``skyfence synth``: schema, determinism, routes, profiles, layout, CLI, and border crossings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

import skyfence
from skyfence.cli import main

OPENSKY_SCHEMA = pa.schema([
    ("time", pa.int64()), ("icao24", pa.string()), ("lat", pa.float64()), ("lon", pa.float64()),
    ("velocity", pa.float64()), ("heading", pa.float64()), ("vertrate", pa.float64()),
    ("callsign", pa.string()), ("onground", pa.bool_()), ("alert", pa.bool_()), ("spi", pa.bool_()),
    ("squawk", pa.string()), ("baroaltitude", pa.float64()), ("geoaltitude", pa.float64()),
    ("lastposupdate", pa.float64()), ("lastcontact", pa.float64()),
])  # fmt: skip
FT = 0.3048


def _files(out: Path) -> list[Path]:
    return sorted(out.glob("date=*/hour=*/part-*.parquet"))


def _read(out: Path):
    return pa.concat_tables(pq.read_table(f) for f in _files(out)).to_pandas()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """2.5 hours of 25 aircraft worldwide: complete flights inside the window."""
    out = tmp_path_factory.mktemp("synth") / "world"
    summary = skyfence.synth(out, aircraft=25, hours=2.5, seed=11)
    flights = pcsv.read_csv(out / "_flights.csv").to_pandas()
    return out, summary, _read(out), flights


def test_schema_units_and_read_back(world):
    out, summary, df, _ = world
    files = _files(out)
    assert files and all(pq.read_schema(f).equals(OPENSKY_SCHEMA) for f in files)
    # the columns, in order, of a real OpenSky state-vector export (tests/data), not only of the copy above
    real = (Path(__file__).parent / "data" / "tracks" / "opensky_states.csv").read_text().splitlines()[0].split(",")
    assert pq.read_schema(files[0]).names == real
    assert len(df) == summary.fixes > 100_000
    manifest = json.loads((out / "_synth.json").read_text())
    assert manifest["layout"] == "date=YYYY-MM-DD/hour=HH/part-N.parquet" and manifest["fixes"] == summary.fixes
    # units of OpenSky state vectors: metres, m/s, degrees, epoch seconds
    cruise = df[(df.vertrate == 0) & (df.baroaltitude > 8000)]
    assert 8000 < cruise.baroaltitude.median() < 12_600  # FL260-FL410 in metres
    assert 180 < cruise.velocity.median() < 300  # m/s, not knots
    assert df.heading.between(0, 360, inclusive="left").all()
    assert df.icao24.str.fullmatch(r"[0-9a-f]{6}").all()
    assert df.callsign.str.len().eq(8).all() and df.callsign.str.match(r"[A-Z]{3}[0-9]{1,4} *$").all()
    assert df.squawk.str.fullmatch(r"[0-7]{4}").all() and not df.squawk.isin(["7500", "7600", "7700"]).any()
    assert not df.alert.any() and not df.spi.any()
    # addresses from civil ICAO allocation blocks: a state of registry, never a military block
    who = skyfence.identify(df.icao24.unique()).to_pandas()
    assert who.state.str.fullmatch(r"[A-Z]{3}").all() and set(who.category) == {"unknown"}
    # skyfence reads it with no options, as OpenSky state vectors, in feet and knots
    tracks = skyfence.read_tracks(files[0])
    n0 = pq.ParquetFile(files[0]).metadata.num_rows
    assert len(tracks) == n0 and not tracks.stats.skipped
    assert np.allclose(np.sort(tracks.alt_baro_ft), np.sort(pq.read_table(files[0])["baroaltitude"].to_numpy() / FT))
    np.testing.assert_array_equal(np.sort(tracks.time), np.sort(pq.read_table(files[0])["lastposupdate"].to_numpy()))


def test_one_second_spacing_and_times(world):
    _, _, df, _ = world
    assert (np.diff(df.time.to_numpy()) >= 0).all()  # files and parts in time order
    for _, g in df.groupby(["icao24", "callsign"]):
        assert (np.diff(g.time.to_numpy()) == 1).all()
    assert ((df.lastposupdate <= df.time) & (df.lastposupdate > df.time - 1)).all()
    assert ((df.lastcontact >= df.lastposupdate) & (df.lastcontact <= df.time)).all()


def test_flights_fly_the_great_circle_between_real_airports(world):
    import airportsdata
    from pyproj import Geod

    _, _, df, flights = world
    airports = airportsdata.load("IATA")
    geod = Geod(ellps="WGS84")
    t0, t1 = df.time.min(), df.time.max()
    complete = 0
    for fl in flights.itertuples():
        o, d = airports[fl.origin], airports[fl.destination]
        assert o["icao"] == fl.origin_icao and d["icao"] == fl.destination_icao
        x = df[(df.icao24 == fl.icao24) & (df.callsign.str.rstrip() == fl.callsign)].sort_values("time")
        assert len(x) > 0
        az, _, length = geod.inv(o["lon"], o["lat"], d["lon"], d["lat"])
        assert abs(length / 1000 - fl.distance_km) < 0.01
        # semicircular rule on the initial bearing: odd thousands of feet eastbound, even westbound
        assert (fl.cruise_ft // 1000) % 2 == (1 if az % 360 < 180 else 0)
        n = len(x)
        azf, _, dist_o = geod.inv(np.full(n, o["lon"]), np.full(n, o["lat"]), x.lon.to_numpy(), x.lat.to_numpy())
        _, _, dist_d = geod.inv(x.lon.to_numpy(), x.lat.to_numpy(), np.full(n, d["lon"]), np.full(n, d["lat"]))
        # on the geodesic: no detour, and no cross-track offset beyond the few metres of noise
        assert (dist_o + dist_d - length).max() < 30
        far = dist_o > 20e3
        assert (np.abs(dist_o * np.sin(np.radians(azf - az)))[far] < 30).all()
        if fl.departure.timestamp() > t0 and fl.arrival.timestamp() < t1:
            complete += 1
            assert dist_o[0] < 500 and dist_d[-1] < 500  # starts and ends at the airports
            assert x.baroaltitude.iloc[0] < o["elevation"] * FT + 100
            assert x.baroaltitude.iloc[-1] < d["elevation"] * FT + 100
    assert complete >= 10


def test_climb_cruise_descent_plausible(world):
    _, _, df, flights = world
    assert df.baroaltitude.between(-200, 41_000 * FT + 1).all()
    assert df.velocity.between(40, 320).all()
    assert (df.vertrate.abs() <= 4_500 * FT / 60).all()  # 4,500 ft/min
    assert ((df.geoaltitude - df.baroaltitude).abs() <= 0.07 * df.baroaltitude.abs() + 50).all()
    assert np.allclose(df.baroaltitude / (25 * FT), np.round(df.baroaltitude / (25 * FT)))  # 25 ft steps
    t0, t1 = df.time.min(), df.time.max()
    for fl in flights.itertuples():
        if not (fl.departure.timestamp() > t0 and fl.arrival.timestamp() < t1):
            continue
        x = df[(df.icao24 == fl.icao24) & (df.callsign.str.rstrip() == fl.callsign)].sort_values("time")
        alt = x.baroaltitude.to_numpy()
        top = int(np.argmax(alt))
        assert alt.max() == pytest.approx(fl.cruise_ft * FT)
        assert fl.cruise_ft % 1000 == 0 and 5_000 <= fl.cruise_ft <= 41_000
        assert (np.diff(alt[: top + 1]) >= -8).all() and (np.diff(alt[top:]) <= 8).all()  # climb, then descend
        climb = x.vertrate.to_numpy()[: min(top, 120)]
        assert (climb > 0).mean() > 0.95 and 1_500 * FT / 60 < climb.mean() < 4_500 * FT / 60
        cruise = x[x.baroaltitude == alt.max()]
        if len(cruise) > 60:
            expect = {"turboprop": (120, 190), "narrow-body": (170, 290), "wide-body": (180, 300)}[fl.aircraft_class]
            assert expect[0] < cruise.velocity.median() < expect[1]


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    kw = dict(aircraft=15, hours=0.05, region="europe")
    a = skyfence.synth(tmp_path / "a", seed=3, **kw)
    b = skyfence.synth(tmp_path / "b", seed=3, **kw)
    c = skyfence.synth(tmp_path / "c", seed=4, **kw)
    assert a.files == b.files
    for f in a.files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    assert (tmp_path / "a" / "_flights.csv").read_bytes() == (tmp_path / "b" / "_flights.csv").read_bytes()
    assert (tmp_path / "a" / a.files[0]).read_bytes() != (tmp_path / "c" / c.files[0]).read_bytes()
    # a row does not depend on how the rows are cut into row groups
    d = skyfence.synth(tmp_path / "d", seed=3, row_group_rows=100, **kw)
    assert pq.ParquetFile(tmp_path / "d" / d.files[0]).metadata.num_row_groups > 5
    assert _read(tmp_path / "d").equals(_read(tmp_path / "a"))


def test_partitions_row_groups_and_exact_fixes(tmp_path):
    out = tmp_path / "p"
    s = skyfence.synth(out, aircraft=20, hours=0.05, start="2026-11-30T06:58:30Z", fixes=3_000,
                       row_group_rows=400, file_rows=1_500)  # fmt: skip
    assert s.fixes == 3_000
    files = _files(out)
    assert [f.relative_to(out).parts[:2] for f in files][0] == ("date=2026-11-30", "hour=06")
    assert {f.relative_to(out).parts[1] for f in files} == {"hour=06", "hour=07"}
    total = 0
    for f in files:
        meta = pq.ParquetFile(f).metadata
        total += meta.num_rows
        assert meta.num_rows <= 1_500
        t = pq.read_table(f)["time"].to_numpy()
        hour = int(f.parent.name.split("=")[1])
        assert (np.diff(t) >= 0).all() and ((t // 3600) % 24 == hour).all()
        assert all(meta.row_group(i).num_rows <= 2 * 400 for i in range(meta.num_row_groups))
    assert total == 3_000
    # the hive layout reads as one dataset
    import pyarrow.dataset as ds

    assert ds.dataset(out, format="parquet", partitioning="hive").count_rows() == 3_000


def test_route_mix(tmp_path):
    """Stage lengths and regions follow the documented distributions."""
    from skyfence._synth._airports import REGION_SHARE, REGIONS, load_airports
    from skyfence._synth._routes import plan

    airports = load_airports()
    legs, _ = plan(airports, aircraft=3000, start=0.0, end=7200.0, seed=2)
    # about `aircraft` airborne at every moment
    for t in (0.0, 1800.0, 7199.0):
        assert 2600 < ((legs.dep <= t) & (legs.arr > t)).sum() < 3400
    # flights airborne in a window are biased to long ones: the distributions are of departures
    legs = legs.take(np.flatnonzero((legs.dep >= 0) & (legs.dep < 7200)))
    assert len(legs) > 2000
    km = legs.length / 1000
    assert 0.3 < (km < 800).mean() < 0.6
    assert 0.75 < (km < 2_000).mean() < 0.95
    assert 0.02 < (km > 3_500).mean() < 0.15
    share = np.bincount(airports.region[legs.origin], minlength=len(REGIONS)) / len(legs)
    for i, r in enumerate(REGIONS):
        assert abs(share[i] - REGION_SHARE[r]) < 0.05, r


def test_detect_finds_border_crossings_in_europe(tmp_path):
    out = tmp_path / "eu"
    s = skyfence.synth(out, aircraft=60, hours=0.5, region="europe", seed=1)
    tracks = skyfence.read_tracks(_files(out)[0])
    assert len(tracks) == s.fixes
    episodes = skyfence.detect(tracks, skyfence.read_zones("world")).to_pandas()
    entries = episodes[episodes.entry_observed]
    per_aircraft_hour = len(entries) / (60 * 0.5)
    assert 0.5 < per_aircraft_hour < 8  # European flights cross a border every 20-60 minutes
    assert episodes.zone.nunique() >= 8


def test_coverage_gaps_repeat_the_last_position(tmp_path):
    out = tmp_path / "g"
    s = skyfence.synth(out, aircraft=40, hours=0.5, gaps=0.1, seed=4)
    df = _read(out)
    stale = 0
    for _, g in df.groupby(["icao24", "callsign"]):
        g = g.sort_values("time")
        assert (np.diff(g.time.to_numpy()) == 1).all()  # rows go on every second
        same = np.diff(g.lastposupdate.to_numpy()) == 0
        assert (np.diff(g.lastposupdate.to_numpy()) >= 0).all()
        # a repeated lastposupdate repeats the position too
        assert (np.diff(g.lat.to_numpy())[same] == 0).all() and (np.diff(g.lon.to_numpy())[same] == 0).all()
        stale += same.sum()
    assert 0.06 < stale / len(df) < 0.12  # 10 % of the time in gaps, less each gap's first row
    tracks = skyfence.read_tracks(_files(out)[0])
    assert tracks.stats.skipped.get("repeated position") == stale == s.fixes - len(tracks)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--aircraft", "x"], "--aircraft 'x': not a whole number"),
        (["--aircraft", "0"], "--aircraft 0: must be a positive number"),
        (["--hours", "-1"], "--hours -1.0: must be a positive number"),
        (["--rate", "0"], "--rate 0: must be a whole number of seconds"),
        (["--start", "noon"], "--start 'noon': not an ISO 8601"),
        (["--region", "atlantis"], "--region 'atlantis': unknown region"),
        (["--compression", "rar"], "--compression 'rar'"),
        (["--gaps", "0.9"], "--gaps 0.9: must be a fraction from 0 to 0.5"),
    ],
)
def test_bad_options_exit_2_with_one_line(tmp_path, capsys, args, message):
    assert main(["synth", str(tmp_path / "o"), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("skyfence: error: ") and message in err[0]
    assert not (tmp_path / "o").exists()


def test_cli_writes_and_refuses_a_non_empty_directory(tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["synth", str(out), "--aircraft", "10", "--hours", "0.02", "--seed", "2"]) == 0
    err = capsys.readouterr().err
    assert "state vectors" in err and _files(out)
    assert main(["synth", str(out), "--aircraft", "10", "--hours", "0.02"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["synth", str(out), "--aircraft", "10", "--hours", "0.02", "--overwrite", "-q"]) == 0
    assert skyfence.synth is skyfence.__getattr__("synth") and "synth" in skyfence.__all__


def test_planning_windows_join_seamlessly(tmp_path, monkeypatch):
    """Legs are planned window by window (bounded memory); flights crossing a window edge stay whole."""
    import skyfence._synth as synth_mod

    monkeypatch.setattr(synth_mod, "PLAN_WINDOW_S", 600)
    out = tmp_path / "w"
    s = skyfence.synth(out, aircraft=30, hours=0.75, seed=9)
    df = _read(out)
    flights = pcsv.read_csv(out / "_flights.csv").to_pandas()
    assert len(flights) == s.legs and not flights.duplicated(["icao24", "callsign", "departure"]).any()
    t0, t1 = df.time.min(), df.time.max()
    rows = 0
    for fl in flights.itertuples():
        x = df[(df.icao24 == fl.icao24) & (df.callsign.str.rstrip() == fl.callsign)]
        assert (np.diff(x.time.to_numpy()) == 1).all()
        lo = max(int(np.floor(fl.departure.timestamp())) + 1, t0)
        hi = min(int(np.floor(fl.arrival.timestamp())), t1)
        assert len(x) == hi - lo + 1  # every second from take-off to landing, inside the window
        rows += len(x)
    assert rows == len(df) == s.fixes
