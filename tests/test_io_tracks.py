"""Track readers: skyfence.io.read_tracks.

Real files are checked against an independent count made with the ``json``
module; the other formats are written here (tmp_path) from real data and read
back; every bad input must give one TrackFormatError naming file and place.
"""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from skyfence._errors import ConfigError, TrackFormatError
from skyfence._tracks import Tracks
from skyfence.io import read_tracks

FT = 0.3048
KT = 1852 / 3600  # m/s per kt
FPM = FT / 60  # m/s per ft/min
OPENSKY = "tracks/opensky"


# ----------------------------------------------------------------- helpers


def load_records(path: Path) -> list[dict]:
    """The records of a traffic JSON file, via the json module only."""
    with gzip.open(path, "rt") as f:
        obj = json.load(f)
    if isinstance(obj, dict):  # pandas "columns" layout
        keys = list(obj)
        index = list(obj[keys[0]])
        return [{k: obj[k][i] for k in keys} for i in index]
    return obj


def expected_from_records(records: list[dict]) -> dict:
    """Independent expectation: the fixes with a position, in file order."""
    kept = [r for r in records if r.get("latitude") is not None and r.get("longitude") is not None]

    def col(key):
        return np.array([np.nan if r.get(key) is None else r[key] for r in kept], dtype=float)

    return {
        "n": len(records),
        "missing": len(records) - len(kept),
        "aircraft": len({r["icao24"] for r in records}),
        "icao24": np.array([int(r["icao24"], 16) for r in kept], dtype=np.uint32),
        "time": col("timestamp") / 1000.0,
        "lat": col("latitude"),
        "lon": col("longitude"),
        "alt_baro_ft": col("altitude"),
        "alt_geo_ft": col("geoaltitude"),
        "groundspeed_kt": col("groundspeed"),
        "track_deg": col("track"),
        "vertical_rate_fpm": col("vertical_rate"),
        "callsign": [(r.get("callsign") or "").strip() or None for r in kept],
    }


def callsign_list(tr: Tracks) -> list:
    return [tr.callsign_of(i) for i in range(len(tr))]


def assert_same_fixes(a: Tracks, b: Tracks, *, rtol=1e-9) -> None:
    assert len(a) == len(b)
    np.testing.assert_array_equal(a.icao24, b.icao24)
    for name in ("time", "lat", "lon", "alt_baro_ft", "alt_geo_ft", "groundspeed_kt", "track_deg", "vertical_rate_fpm"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=rtol, atol=1e-9, err_msg=name)
    assert callsign_list(a) == callsign_list(b)


def error_of(path, **kw) -> TrackFormatError:
    with pytest.raises(TrackFormatError) as info:
        read_tracks(path, **kw)
    message = str(info.value)
    assert "\n" not in message
    return info.value


@pytest.fixture(scope="module")
def swiss(shared_data) -> Path:
    return shared_data / OPENSKY / "switzerland.json.gz"


@pytest.fixture(scope="module")
def swiss_records(swiss) -> list[dict]:
    return load_records(swiss)


@pytest.fixture(scope="module")
def swiss_tracks(swiss) -> Tracks:
    return read_tracks(swiss)


# ----------------------------------------------------------- real JSON files


@pytest.mark.shared
@pytest.mark.parametrize(
    "name",
    [
        "switzerland.json.gz",
        "quickstart.json.gz",
        "noisy_ground.json.gz",
        "noisy_landing.json.gz",
        "noisy_takeoff.json.gz",
        "noisy_time_issue.json.gz",
        "inflight_refuelling.json.gz",
        "zurich_airport.json.gz",
        "belevingsvlucht.json.gz",
    ],
)
def test_real_json_matches_independent_count(shared_data, name):
    path = shared_data / OPENSKY / name
    exp = expected_from_records(load_records(path))
    tr = read_tracks(path)

    assert tr.stats.rows_read == exp["n"]
    assert len(tr) == exp["n"] - exp["missing"]
    assert tr.stats.skipped == ({"missing position": exp["missing"]} if exp["missing"] else {})
    assert len(np.unique(tr.icao24)) == exp["aircraft"]
    assert tr.source == str(path)
    np.testing.assert_array_equal(tr.icao24, exp["icao24"])
    for col in ("time", "lat", "lon", "alt_baro_ft", "alt_geo_ft", "groundspeed_kt", "track_deg", "vertical_rate_fpm"):
        np.testing.assert_array_equal(getattr(tr, col), exp[col], err_msg=col)
    assert callsign_list(tr) == exp["callsign"]
    # callsign table: int32 codes, distinct stripped names
    assert tr.callsign.dtype == np.int32
    assert len(set(tr.callsigns)) == len(tr.callsigns)
    assert all(c and c == c.strip() for c in tr.callsigns)


@pytest.mark.shared
def test_known_sizes(shared_data):
    # Published sizes of the sample files (README: 842 aircraft, 213 aircraft).
    swiss = read_tracks(shared_data / OPENSKY / "switzerland.json.gz")
    assert (len(swiss), len(np.unique(swiss.icao24))) == (139098, 842)
    quick = read_tracks(shared_data / OPENSKY / "quickstart.json.gz")
    assert (len(quick), len(np.unique(quick.icao24))) == (284505, 213)
    # rows stay in file order: the file is grouped by aircraft, not sorted by time
    assert not np.all(np.diff(quick.time) >= 0)


@pytest.mark.shared
def test_fast_and_slow_json_paths_agree(swiss):
    from skyfence.io import _json
    from skyfence.io._source import open_source

    src = open_source(swiss)
    fast = _json._fast(src, src.data, 0, dict(columns=None, time_unit=None, altitude_unit=None))
    assert fast is not None, "the Arrow fast path must take the real file"
    slow = _json._slow(src, src.data, dict(columns=None, time_unit=None, altitude_unit=None))
    assert_same_fixes(fast, slow, rtol=0)
    assert fast.stats == slow.stats


@pytest.mark.shared
@pytest.mark.parametrize("layout", ["lines", "pretty", "spaced", "columns", "iso", "plain-misnamed"])
def test_json_layouts(tmp_path, swiss_records, swiss_tracks, layout):
    records = swiss_records[:2000]
    expected = swiss_tracks.take(np.arange(2000))
    path = tmp_path / "tracks.csv.gz"  # the name lies; the content decides
    if layout == "lines":
        text = "\n".join(json.dumps(r, separators=(",", ":")) for r in records) + "\n\n"
    elif layout == "pretty":
        text = json.dumps(records, indent=2)
    elif layout == "spaced":
        text = json.dumps(records)  # ", " and ": " separators
    elif layout == "columns":
        text = pd.DataFrame.from_records(records).to_json(orient="columns")
    elif layout == "iso":
        iso = [
            {**r, "timestamp": pd.Timestamp(r["timestamp"], unit="ms", tz="UTC").isoformat()} for r in records
        ]
        text = json.dumps(iso)
    else:
        text = json.dumps(records)
    if layout == "plain-misnamed":
        path.write_text(text)
    else:
        path.write_bytes(gzip.compress(text.encode()))
    tr = read_tracks(path)
    assert_same_fixes(tr, expected, rtol=0)
    assert tr.stats.rows_read == 2000


def test_json_missing_values_are_counted(tmp_path):
    path = tmp_path / "t.json"
    recs = [
        {"timestamp": 1_600_000_000_000, "icao24": "abc123", "latitude": 45.0, "longitude": 7.0, "callsign": " AB1 "},
        {"timestamp": 1_600_000_001_000, "icao24": "abc123", "latitude": None, "longitude": 7.0, "callsign": "AB1"},
        {"timestamp": 1_600_000_002_000, "icao24": "abc123", "longitude": 7.1},
        {"timestamp": None, "icao24": "abc123", "latitude": 45.1, "longitude": 7.1},
        {"timestamp": 1_600_000_004_000, "icao24": "", "latitude": 45.1, "longitude": 7.1},
        {"timestamp": 1_600_000_005_000, "icao24": "ABC123", "latitude": 45.2, "longitude": 7.2, "callsign": ""},
    ]
    path.write_text(json.dumps(recs))
    tr = read_tracks(path)
    assert tr.stats.rows_read == 6
    assert tr.stats.skipped == {"missing position": 2, "missing time": 1, "missing icao24": 1}
    assert len(tr) == 2
    np.testing.assert_array_equal(tr.icao24, [0xABC123, 0xABC123])
    np.testing.assert_array_equal(tr.time, [1_600_000_000.0, 1_600_000_005.0])
    assert callsign_list(tr) == ["AB1", None]
    assert np.isnan(tr.alt_baro_ft).all()


def test_json_timestamp_in_seconds_is_recognised(tmp_path):
    # rs1090-style records carry float seconds, traffic records carry ms
    path = tmp_path / "t.jsonl"
    path.write_text(
        '{"timestamp": 1720248189.525, "icao24": "393322", "latitude": 49.0, "longitude": 2.57}\n'
        '{"timestamp": 1720248190.012, "icao24": "393322", "altitude": 575}\n'
    )
    tr = read_tracks(path)
    np.testing.assert_array_equal(tr.time, [1720248189.525])
    assert tr.stats.skipped == {"missing position": 1}


@pytest.mark.shared
def test_real_raw_and_zone_files_are_refused_or_read(shared_data):
    # A readsb trace (one object with a "trace" list) is read (details in test_integrity.py).
    tr = read_tracks(shared_data / "tracks/raw/trace_full_ac671b.readsb.json")
    assert len(tr) == 2500 and tr.stats.skipped == {}
    # A Beast binary capture and an OpenAir text are unknown formats.
    assert "unknown format" in str(error_of(shared_data / "tracks/raw/sample_dump1090.beast.bin"))
    err = error_of(shared_data / "airspaces/openair/Switzerland.txt")
    assert "unknown format" in str(err) and err.line == 1


# ---------------------------------------------------- OpenSky state vectors


def test_opensky_state_vector_fixture(test_data):
    path = test_data / "tracks" / "opensky_states.csv"
    tr = read_tracks(path)
    assert tr.stats.rows_read == 7
    assert tr.stats.skipped == {"missing position": 1, "repeated position": 1}
    assert [format(int(x), "06x") for x in tr.icao24] == ["4b1806", "3c6444", "4b1806", "3c6444", "ab0f01"]
    # the time of a fix is lastposupdate, not the time of the state vector
    np.testing.assert_array_equal(tr.time, [1480759199.5, 1480759195.2, 1480759209.8, 1480759218.4, 1480759229.0])
    np.testing.assert_allclose(tr.alt_baro_ft[:2], [3450.0, 33000.0])
    np.testing.assert_allclose(tr.alt_geo_ft[0], 3575.0)
    np.testing.assert_allclose(tr.groundspeed_kt[0], 128.6 / KT)
    np.testing.assert_allclose(tr.vertical_rate_fpm[0], -3.25 / FPM)
    np.testing.assert_allclose(tr.track_deg[0], 280.5)
    assert callsign_list(tr) == ["SWR24H", "DLH4TR", "SWR24H", None, None]
    assert np.isnan(tr.alt_baro_ft[4]) and np.isnan(tr.groundspeed_kt[4])


def state_vectors(tracks: Tracks, n_repeats: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """An OpenSky state-vector table (SI units) of ``tracks``, with repeated
    positions inserted; returns the table and the rows that are real fixes."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "time": np.floor(tracks.time) + 1.0,
            "icao24": [format(int(x), "06x") for x in tracks.icao24],
            "lat": tracks.lat,
            "lon": tracks.lon,
            "velocity": tracks.groundspeed_kt * KT,
            "heading": tracks.track_deg,
            "vertrate": tracks.vertical_rate_fpm * FPM,
            "callsign": [(c or "") + "  " for c in callsign_list(tracks)],
            "onground": False,
            "alert": False,
            "spi": False,
            "squawk": "1000",
            "baroaltitude": tracks.alt_baro_ft * FT,
            "geoaltitude": tracks.alt_baro_ft * FT + 30.0,
            "lastposupdate": tracks.time,
            "lastcontact": tracks.time + 0.5,
        }
    )
    # repeats: a later state vector re-reporting the position of an earlier one
    picks = np.sort(rng.choice(len(df), n_repeats, replace=False))
    rows, real = [], []
    for i in range(len(df)):
        rows.append(df.iloc[i])
        real.append(True)
        if i in set(picks.tolist()):
            dup = df.iloc[i].copy()
            dup["time"] += 5.0
            dup["lastcontact"] += 5.0
            rows.append(dup)
            real.append(False)
    out = pd.DataFrame(rows).reset_index(drop=True)
    for c in ("onground", "alert", "spi"):
        out[c] = out[c].astype(bool)
    return out, np.array(real)


@pytest.mark.shared
@pytest.mark.parametrize("fmt", ["csv", "csv.gz", "parquet"])
def test_opensky_state_vectors_round_trip(tmp_path, swiss_tracks, fmt):
    # 40 aircraft whose fixes are in time order (the file holds some flights out of order)
    ordered = [
        a for a in np.unique(swiss_tracks.icao24) if np.all(np.diff(swiss_tracks.time[swiss_tracks.icao24 == a]) > 0)
    ]
    subset = swiss_tracks.take(np.flatnonzero(np.isin(swiss_tracks.icao24, ordered[:40])))
    table, real = state_vectors(subset, n_repeats=57)
    path = tmp_path / f"states.{fmt}"
    if fmt == "parquet":
        table.to_parquet(path, index=False)
    else:
        table.to_csv(path, index=False, float_format="%.17g", compression="gzip" if fmt.endswith("gz") else None)
    tr = read_tracks(path)
    assert tr.stats.rows_read == len(table)
    assert tr.stats.skipped == {"repeated position": 57}
    assert len(tr) == len(subset) == int(real.sum())
    np.testing.assert_array_equal(tr.icao24, subset.icao24)
    np.testing.assert_array_equal(tr.time, subset.time)  # lastposupdate, not time
    np.testing.assert_allclose(tr.lat, subset.lat, rtol=0)
    np.testing.assert_allclose(tr.lon, subset.lon, rtol=0)
    np.testing.assert_allclose(tr.alt_baro_ft, subset.alt_baro_ft, rtol=1e-12)
    np.testing.assert_allclose(tr.alt_geo_ft, subset.alt_baro_ft + 30 / FT, rtol=1e-12)
    np.testing.assert_allclose(tr.groundspeed_kt, subset.groundspeed_kt, rtol=1e-12)
    np.testing.assert_allclose(tr.vertical_rate_fpm, subset.vertical_rate_fpm, rtol=1e-12)
    np.testing.assert_allclose(tr.track_deg, subset.track_deg, rtol=0)
    assert callsign_list(tr) == callsign_list(subset)


def test_repeated_position_rule(tmp_path):
    # aircraft a: position times 10, 10 (repeat), 12, 11 (out of order, but new), 12 (repeat), 13
    # aircraft b, interleaved: 11, 11 (repeat), then no lastposupdate -> its time 20
    rows = [
        ("a", 10, 10), ("b", 11, 11), ("a", 11, 10), ("b", 12, 11), ("a", 12, 12),
        ("a", 13, 11), ("b", 20, None), ("a", 14, 12), ("a", 15, 13),
    ]  # fmt: skip
    df = pd.DataFrame(rows, columns=["icao24", "time", "lastposupdate"])
    df["icao24"] = df["icao24"].map({"a": "0000aa", "b": "0000bb"})
    df["lat"], df["lon"], df["baroaltitude"] = 45.0, 7.0, 1000.0
    path = tmp_path / "sv.parquet"
    df.to_parquet(path, index=False)
    tr = read_tracks(path)
    assert tr.stats.skipped == {"repeated position": 3}
    np.testing.assert_array_equal(tr.time, [10, 11, 12, 11, 20, 13])
    np.testing.assert_array_equal(tr.icao24, [0xAA, 0xBB, 0xAA, 0xAA, 0xBB, 0xAA])

    # Without lastposupdate nothing can be told apart: nothing is dropped.
    df.drop(columns="lastposupdate").to_parquet(path, index=False)
    tr = read_tracks(path)
    assert tr.stats.skipped == {} and len(tr) == len(df)
    np.testing.assert_array_equal(tr.time, df["time"])


def test_repeated_position_many_aircraft_matches_reference():
    # the rule against a plain loop, > 65536 aircraft
    from skyfence.io._build import _repeated, _small_groups

    rng = np.random.default_rng(3)
    n = 300_000
    icao = rng.integers(0, 1 << 24, n).astype(np.uint32)
    icao[: n // 2] = rng.integers(0, 70_000, n // 2)
    time = np.round(rng.uniform(0, 50, n), 1)
    keep = rng.random(n) > 0.1

    def reference(icao, time, keep):
        seen: set = set()
        expected = np.zeros(n, bool)
        for i in range(n):
            if keep[i]:
                key = (icao[i], time[i])
                expected[i] = key in seen
                seen.add(key)
        return expected

    # rows in random order (sorted to find repeats), in time order (one pass), and by a
    # report time a little after each position time (OpenSky's: radix and insertion sort)
    nearly = np.argsort(time + rng.uniform(0, 3, n), kind="stable")
    for order in (np.arange(n), np.argsort(time, kind="stable"), nearly):
        ic, t, k = icao[order], time[order], keep[order]
        expected = reference(ic, t, k)
        assert expected.sum() > 100
        np.testing.assert_array_equal(_repeated(_small_groups(ic), t, k), expected)
        groups = np.unique(ic, return_inverse=True)[1].astype(np.int32)
        np.testing.assert_array_equal(_repeated(groups, t, k), expected)


# ------------------------------------------------ mapped and other columns


def test_mapping_for_other_csv(tmp_path):
    path = tmp_path / "radar.csv"
    path.write_text(
        "ts;hex;y;x;alt_m;cs\n"
        "1600000000000;ABC123;45.5;7.25;1000;X1\n"
        "1600000001500;abc123;45.6;7.30;;X1 \n"
    )
    err = error_of(path)
    message = str(err)
    assert "radar.csv" in message
    for name in ("ts", "hex", "y", "x", "alt_m", "cs"):
        assert name in message
    assert "missing" in message and "--column time=ts" in message and "--column icao24=hex" in message
    assert "time" in message and "lat" in message

    mapping = {"time": "ts", "icao24": "hex", "lat": "y", "lon": "x", "alt_baro_ft": "alt_m", "callsign": "cs"}
    tr = read_tracks(path, columns=mapping, time_unit="ms", altitude_unit="m")
    np.testing.assert_array_equal(tr.time, [1600000000.0, 1600000001.5])
    np.testing.assert_array_equal(tr.icao24, [0xABC123, 0xABC123])
    np.testing.assert_allclose(tr.alt_baro_ft[0], 1000 / FT)
    assert np.isnan(tr.alt_baro_ft[1])
    assert callsign_list(tr) == ["X1", "X1"] and tr.callsigns == ("X1",)

    # a mapped column that the file lacks
    err = error_of(path, columns={"time": "timestamp", "icao24": "hex", "lat": "y", "lon": "x"})
    assert "'timestamp'" in str(err) and "radar.csv" in str(err)
    # a bad option is a configuration error
    with pytest.raises(ConfigError):
        read_tracks(path, columns={"when": "ts"})
    with pytest.raises(ConfigError):
        read_tracks(path, columns=mapping, time_unit="minutes")
    with pytest.raises(ConfigError):
        read_tracks(path, columns=mapping, altitude_unit="km")


def test_skyfence_columns_and_times(tmp_path):
    path = tmp_path / "fixes.csv"
    path.write_text(
        "icao24,time,lat,lon,alt_baro_ft,callsign\n"
        "4b1806,2020-09-13T12:26:40Z,47.0,8.0,5000,SWR1\n"
        "4b1806,2020-09-13 14:26:41+02:00,47.1,8.1,5100,SWR1\n"
        "4b1806,2020-09-13T12:26:42.250,47.2,8.2,5200,SWR1\n"
    )
    tr = read_tracks(path)
    np.testing.assert_array_equal(tr.time, [1600000000.0, 1600000001.0, 1600000002.25])
    np.testing.assert_array_equal(tr.alt_baro_ft, [5000, 5100, 5200])

    path.write_text("icao24,time,lat,lon\n4b1806,1600000000.5,47,8\n4b1806,1600000001,47,8\n")
    np.testing.assert_array_equal(read_tracks(path).time, [1600000000.5, 1600000001.0])

    # Parquet with Arrow timestamps, naive (= UTC) and zoned
    table = pa.table(
        {
            "icao24": ["4b1806", "4b1806"],
            "time": pa.array([1600000000_000000, 1600000001_500000], pa.timestamp("us")),
            "lat": [47.0, 47.1],
            "lon": [8.0, 8.1],
        }
    )
    pq.write_table(table, tmp_path / "naive.parquet")
    np.testing.assert_array_equal(read_tracks(tmp_path / "naive.parquet").time, [1600000000.0, 1600000001.5])
    zoned = table.set_column(1, "time", table["time"].cast(pa.timestamp("ms", "Europe/Zurich")))
    pq.write_table(zoned, tmp_path / "zoned.parquet")
    np.testing.assert_array_equal(read_tracks(tmp_path / "zoned.parquet").time, [1600000000.0, 1600000001.5])


def test_parquet_integer_icao24_and_mapping(tmp_path):
    table = pa.table(
        {
            "addr": pa.array([0x4B1806, 0x000001], pa.int64()),
            "t_ns": pa.array([1600000000_000000000, 1600000001_000000000], pa.int64()),
            "la": [47.0, -33.9],
            "lo": [8.0, 151.2],
            "h": pa.array([3000, 10000], pa.int32()),
        }
    )
    path = tmp_path / "x.data"
    pq.write_table(table, path)
    tr = read_tracks(
        path, columns={"icao24": "addr", "time": "t_ns", "lat": "la", "lon": "lo", "alt_geo_ft": "h"}, time_unit="ns"
    )
    np.testing.assert_array_equal(tr.icao24, [0x4B1806, 1])
    np.testing.assert_array_equal(tr.time, [1600000000.0, 1600000001.0])
    np.testing.assert_array_equal(tr.alt_geo_ft, [3000, 10000])
    assert np.isnan(tr.alt_baro_ft).all()


def test_parquet_batches_share_equal_dictionaries_only(tmp_path):
    """Batches of a file reuse the address and callsign tables of an equal
    dictionary (skyfence.io._build._per_dictionary) and build new ones when a
    row group's dictionary differs."""
    from skyfence.io._parquet import iter_batches

    n = 60
    icao = [["abc123", "ABC124"], ["00000f", "abc123", "4b1814"]]
    calls = [["AAA1 ", "BBB2"], ["CCC3", " AAA1", ""]]
    parts = []
    for g in range(2):
        parts.append(pa.table({
            "icao24": [icao[g][i % len(icao[g])] for i in range(n)],
            "callsign": [calls[g][i % len(calls[g])] for i in range(n)],
            "time": np.arange(n, dtype=float) + 1_600_000_000 + 1000 * g,
            "lat": np.full(n, 47.0), "lon": np.full(n, 8.0),
        }))  # fmt: skip
    path = tmp_path / "two_groups.parquet"
    with pq.ParquetWriter(path, parts[0].schema) as w:
        for t in parts:
            w.write_table(t)
    batches = list(iter_batches([str(path)], batch_rows=25))
    assert len(batches) > 4
    got_icao = np.concatenate([b.icao24 for b in batches])
    got_calls = [b.callsigns[c] if c >= 0 else None for b in batches for c in b.callsign]
    want_icao = [int(icao[g][i % len(icao[g])], 16) for g in range(2) for i in range(n)]
    want_calls = [calls[g][i % len(calls[g])].strip() or None for g in range(2) for i in range(n)]
    assert got_icao.tolist() == want_icao
    assert got_calls == want_calls


def test_stdin(monkeypatch, tmp_path, test_data):
    class FakeStdin:
        def __init__(self, data: bytes):
            self.buffer = io.BytesIO(data)

    data = (test_data / "tracks" / "opensky_states.csv").read_bytes()
    monkeypatch.setattr(sys, "stdin", FakeStdin(gzip.compress(data)))
    tr = read_tracks("-")
    assert tr.source == "-"
    assert len(tr) == 5 and tr.stats.skipped == {"missing position": 1, "repeated position": 1}

    monkeypatch.setattr(sys, "stdin", FakeStdin(b""))
    err = error_of("-")
    assert err.source == "-" and "empty" in str(err)

    monkeypatch.setattr(sys, "stdin", FakeStdin(gzip.compress(data)[:60]))
    assert "truncated" in str(error_of("-"))


def test_import_is_light():
    code = (
        "import sys, skyfence; before = set(sys.modules); import skyfence.io; "
        "new = set(sys.modules) - before; "
        "print(sorted(m for m in new if m.split('.')[0] in ('pandas', 'pyarrow', 'numpy')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------- bad inputs

SV_HEADER = "time,icao24,lat,lon,velocity,heading,vertrate,callsign,baroaltitude,lastposupdate\n"
SV_ROW = "1600000000,4b1806,47.0,8.0,100,90,0,SWR1,1000,1599999999.5\n"


def write(tmp_path, name, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_missing_and_empty_files(tmp_path):
    err = error_of(tmp_path / "nope.json")
    assert "nope.json" in str(err) and "no such file" in str(err)
    assert "is a directory" in str(error_of(tmp_path))
    empty = write(tmp_path, "empty.csv", "")
    assert str(error_of(empty)) == f"{empty}: empty file"
    assert "empty" in str(error_of(write(tmp_path, "blank.csv", "\n  \n")))
    gz = tmp_path / "empty.gz"
    gz.write_bytes(gzip.compress(b""))
    assert "empty" in str(error_of(gz)) and "empty.gz" in str(error_of(gz))


@pytest.mark.shared
def test_truncated_and_corrupt_gzip(tmp_path, shared_data):
    raw = (shared_data / OPENSKY / "noisy_landing.json.gz").read_bytes()
    half = tmp_path / "half.json.gz"
    half.write_bytes(raw[: len(raw) // 2])
    err = error_of(half)
    assert "half.json.gz" in str(err) and "truncated gzip" in str(err)

    corrupt = bytearray(raw)
    corrupt[len(raw) // 2 : len(raw) // 2 + 64] = bytes(64)
    bad = tmp_path / "bad.json.gz"
    bad.write_bytes(bytes(corrupt))
    err = error_of(bad)
    assert "bad.json.gz" in str(err) and "gzip" in str(err)


def test_unknown_formats(tmp_path):
    err = error_of(write(tmp_path, "notes.csv", "hello world\nthis is not a track file\n"))
    assert "notes.csv:1:" in str(err) and "unknown format" in str(err)
    binary = tmp_path / "blob.json"
    binary.write_bytes(bytes(range(256)) * 4)
    assert "unknown format" in str(error_of(binary))
    zipped = tmp_path / "t.zip"
    zipped.write_bytes(b"PK\x03\x04" + bytes(100))
    assert "zip" in str(error_of(zipped))
    err = error_of(write(tmp_path, "other.json", '[{"a": 1, "b": 2}]'))
    assert "other.json" in str(err) and "a, b" in str(err) and "--column" in str(err)
    assert "unknown format" in str(error_of(write(tmp_path, "scalar.json", "42")))
    assert "unknown JSON layout" in str(error_of(write(tmp_path, "empty.json", "{}")))
    err = error_of(write(tmp_path, "rows.json", "[[1, 2], [3, 4]]"))
    assert "rows.json:1:" in str(err) and "record 1" in str(err)


def test_missing_required_column(tmp_path):
    path = write(tmp_path, "sv.csv", "time,icao24,lon,velocity,baroaltitude\n1600000000,4b1806,8.0,100,1000\n")
    err = error_of(path)
    message = str(err)
    assert "sv.csv" in message and "lat (looked for lat/latitude)" in message
    assert "time, icao24, lon, velocity, baroaltitude" in message and "--column lat=" in message


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json"])
def test_non_numeric_value(tmp_path, fmt):
    if fmt == "csv":
        path = write(tmp_path, "sv.csv", SV_HEADER + SV_ROW * 2 + SV_ROW.replace(",47.0,", ",abc,") + SV_ROW)
        err = error_of(path)
        assert err.line == 4 and err.field == "lat" and "'abc'" in str(err)
        assert str(err).startswith(f"{path}:4: field 'lat': not a number")
    elif fmt == "parquet":
        table = pd.read_csv(io.StringIO(SV_HEADER + SV_ROW * 3), dtype={"icao24": str})
        table["velocity"] = ["100", "fast", "100"]
        path = tmp_path / "sv.parquet"
        table.to_parquet(path, index=False)
        err = error_of(path)
        assert err.line == 2 and err.field == "velocity" and "'fast'" in str(err) and "row 2" in str(err)
        assert "sv.parquet:2:" in str(err)
    else:
        recs = [{"timestamp": 1_600_000_000_000, "icao24": "4b1806", "latitude": 47.0, "longitude": 8.0}] * 3
        recs[2] = {**recs[2], "altitude": "high"}
        path = write(tmp_path, "t.json", json.dumps(recs))
        err = error_of(path)
        assert err.line == 3 and err.field == "altitude" and "record 3" in str(err) and "t.json:3:" in str(err)


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json"])
@pytest.mark.parametrize("bad", ["lat", "lon"])
def test_position_out_of_range(tmp_path, fmt, bad):
    lat, lon = (91.5, 8.0) if bad == "lat" else (47.0, -180.25)
    if fmt == "json":
        recs = [{"timestamp": 1_600_000_000_000, "icao24": "4b1806", "latitude": 47.0, "longitude": 8.0}] * 4
        recs[1] = {**recs[1], "latitude": lat, "longitude": lon}
        path = write(tmp_path, "t.json", json.dumps(recs))
        line, field = 2, {"lat": "latitude", "lon": "longitude"}[bad]
    else:
        text = SV_HEADER + SV_ROW + SV_ROW.replace("47.0,8.0", f"{lat},{lon}") + SV_ROW
        path = write(tmp_path, "sv.csv", text)
        line, field = 3, bad
        if fmt == "parquet":
            pd.read_csv(path, dtype={"icao24": str}).to_parquet(tmp_path / "sv.parquet", index=False)
            path, line = tmp_path / "sv.parquet", 2
    err = error_of(path)
    assert err.line == line and err.field == field
    assert f"{path.name}:{line}: field '{field}'" in str(err) and "outside" in str(err)


def test_bad_times(tmp_path):
    path = write(tmp_path, "fixes.csv", "icao24,time,lat,lon\n4b1806,2020-09-13T12:26:40Z,47,8\n4b1806,yesterday,47,8\n")
    err = error_of(path)
    assert err.line == 3 and err.field == "time" and "'yesterday'" in str(err) and "fixes.csv:3:" in str(err)

    path = write(tmp_path, "ms.csv", "icao24,time,lat,lon\n4b1806,1600000000000,47,8\n")
    err = error_of(path)
    assert err.line == 2 and "not a time" in str(err) and "'ms'" in str(err)

    path = write(tmp_path, "neg.csv", "icao24,time,lat,lon\n4b1806,1600000000,47,8\n4b1806,-5,47,8\n")
    assert error_of(path).line == 3

    err = error_of(write(tmp_path, "iso.csv", "icao24,time,lat,lon\n4b1806,1600000000,47,8\n"), time_unit="iso")
    assert "iso" in str(err) and err.field == "time"

    recs = [{"timestamp": 1_600_000_000_000, "icao24": "4b1806", "latitude": 47.0, "longitude": 8.0}] * 3
    recs[1] = {**recs[1], "timestamp": "noon"}
    err = error_of(write(tmp_path, "t.json", json.dumps(recs)))
    assert err.line == 2 and err.field == "timestamp" and "record 2" in str(err)


@pytest.mark.parametrize("value", ["zz1234", "1234567", "0x1234", "12_34"])
def test_bad_icao24(tmp_path, value):
    path = write(tmp_path, "sv.csv", SV_HEADER + SV_ROW + SV_ROW + SV_ROW.replace("4b1806", value))
    err = error_of(path)
    assert err.line == 4 and err.field == "icao24" and "24-bit" in str(err) and "sv.csv:4:" in str(err)


def test_bad_icao24_json_and_parquet(tmp_path):
    recs = [{"timestamp": 1_600_000_000_000, "icao24": "4b1806", "latitude": 47.0, "longitude": 8.0}] * 3
    recs[2] = {**recs[2], "icao24": 4735494}
    err = error_of(write(tmp_path, "t.jsonl", "\n".join(json.dumps(r) for r in recs)))
    assert err.line == 3 and err.field == "icao24" and "t.jsonl:3:" in str(err)

    table = pa.table({"icao24": [1, 1 << 24], "time": [1.6e9, 1.6e9], "lat": [1.0, 1.0], "lon": [1.0, 1.0]})
    pq.write_table(table, tmp_path / "i.parquet")
    err = error_of(tmp_path / "i.parquet")
    assert err.line == 2 and err.field == "icao24"


def test_broken_text(tmp_path):
    err = error_of(write(tmp_path, "cut.json", '[{"timestamp": 1, "icao24": "4b1806",\n "latitude": 47.0'))
    assert "cut.json:2:" in str(err) and "invalid JSON" in str(err)
    lines = '{"timestamp": 1, "icao24": "4b1806", "latitude": 1, "longitude": 1}\n'
    err = error_of(write(tmp_path, "cut.jsonl", lines * 3 + '{"timestamp": 1, "icao2\n'))
    assert "cut.jsonl:4:" in str(err)
    err = error_of(write(tmp_path, "ragged.csv", SV_HEADER + SV_ROW + "1600000000,4b1806,47.0\n" + SV_ROW))
    assert "ragged.csv:3:" in str(err) and "fields" in str(err)


def test_rows_in_file_order_and_tracks_shape(tmp_path):
    path = write(
        tmp_path,
        "f.csv",
        "icao24,time,lat,lon\n000002,30,1,1\n000001,10,2,2\n000002,20,3,3\n",
    )
    tr = read_tracks(path)
    np.testing.assert_array_equal(tr.time, [30, 10, 20])
    np.testing.assert_array_equal(tr.icao24, [2, 1, 2])
    assert tr.icao24.dtype == np.uint32 and tr.time.dtype == np.float64 and tr.callsign.dtype == np.int32
    assert tr.callsigns == () and (tr.callsign == -1).all()
    for name in ("time", "lat", "alt_baro_ft"):
        assert getattr(tr, name).flags.writeable
    # header only: a valid, empty table
    empty = read_tracks(write(tmp_path, "h.csv", "icao24,time,lat,lon\n"))
    assert len(empty) == 0 and empty.stats.rows_read == 0


def test_plain_hex_addresses_parse_vectorised_as_one_by_one():
    import pyarrow as pa

    from skyfence.io._build import _hex_values, _icao24

    texts = ["abc123", "ABC123", "1", "00000f", "FFFFFF", "4b1814"]
    assert _hex_values(pa.array(texts)).tolist() == [int(t, 16) for t in texts]
    for other in ([" abc123"], ["abc1234"], ["xyz"], [""], ["abc123", None]):
        assert _hex_values(pa.array(other, pa.string())) is None  # left to the one-by-one path
    fast, _, g_fast = _icao24(pa.array(texts * 2).dictionary_encode(), "icao24", 12, None)
    slow, _, g_slow = _icao24(pa.array([t + " " for t in texts] * 2).dictionary_encode(), "icao24", 12, None)
    assert fast.tolist() == slow.tolist() and g_fast.tolist() == g_slow.tolist()
    assert g_fast[0] == g_fast[1] and len(set(g_fast.tolist())) == 5  # "abc123" and "ABC123": one aircraft
    distinct = ["4b1814", "00000f", "abc123", None, "4b1814"]  # addresses all different: groups by entry
    icao, missing, groups = _icao24(pa.array(distinct).dictionary_encode(), "icao24", 5, None)
    assert icao.tolist() == [0x4B1814, 0xF, 0xABC123, 0, 0x4B1814] and missing.tolist() == [False] * 3 + [True, False]
    assert groups[0] == groups[4] and len({int(groups[i]) for i in (0, 1, 2)}) == 3
