"""The episode writers (``skyfence._output``): ISO times, records, jsonl, csv,
geojson geometry, parquet and the terminal table, on hand-made tables."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from skyfence._output import _geometry, _write_text, iso, records, table_text, write
from skyfence.engine._episodes import SCHEMA

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UTC = timezone.utc
PATH_TYPE = pa.list_(pa.list_(pa.float64(), 3))


def us(*a) -> int:
    return int(datetime(*a, tzinfo=UTC).timestamp()) * 1_000_000


def episode(**over) -> dict:
    rec = {
        "icao24": "15e241", "callsign": "FAKE24A", "zone": "TUR", "zone_name": "Türkiye",
        "zone_kind": "sovereign",
        "entry_time": datetime(2015, 11, 24, 7, 24, 4, 984_321, tzinfo=UTC),
        "exit_time": datetime(2015, 11, 24, 7, 24, 21, 976_000, tzinfo=UTC),
        "entry_observed": True, "exit_observed": True, "duration_s": 16.991679,
        "entry_lat": 35.8634567891, "entry_lon": 36.1734567891, "exit_lat": 35.8491234567,
        "exit_lon": 36.1271234567, "max_depth_m": 1970.9004, "path_length_m": 4457.0091,
        "min_alt_ft": 19000.0, "max_alt_ft": 19000.0, "n_fixes_inside": 4, "altitude_source": "none",
        "lower_limit": "SFC", "upper_limit": "UNL",
        "track_start": datetime(2015, 11, 24, 7, 17, 3, tzinfo=UTC), "source": "test",
    }  # fmt: skip
    rec.update(over)
    return rec


def table(rows: list[dict], paths: list | None = None) -> pa.Table:
    t = pa.Table.from_pylist(rows, schema=SCHEMA)
    if paths is not None:
        t = t.append_column("path", pa.array(paths, PATH_TYPE))
    return t


# --------------------------------------------------------------------------- iso


def test_iso_is_utc_with_milliseconds_and_z():
    assert iso(None) is None
    assert iso(0) == "1970-01-01T00:00:00.000Z"
    assert iso(us(2015, 11, 24, 7, 24, 5)) == "2015-11-24T07:24:05.000Z"
    assert iso(us(2015, 11, 24, 7, 24, 5) + 984_321) == "2015-11-24T07:24:05.984Z"
    for v in (0, 1, 999, 1_500, 1_448_349_845_984_321, 4_102_444_799_999_999):
        assert ISO_MS.match(iso(v)), iso(v)


def test_iso_rounds_to_the_nearest_millisecond():
    assert iso(1_499) == "1970-01-01T00:00:00.001Z"
    assert iso(1_501) == "1970-01-01T00:00:00.002Z"
    assert iso(999_999_600) == "1970-01-01T00:16:40.000Z"  # carries into the seconds
    assert iso(us(2019, 12, 31, 23, 59, 59) + 999_700) == "2020-01-01T00:00:00.000Z"


# --------------------------------------------------------------------------- records


def test_records_turn_times_into_iso_and_nan_into_none():
    t = table([episode(min_alt_ft=float("nan"), max_alt_ft=None, callsign=None)])
    (r,) = records(t)
    assert r["entry_time"] == "2015-11-24T07:24:04.984Z"
    assert r["exit_time"] == "2015-11-24T07:24:21.976Z"
    assert r["track_start"] == "2015-11-24T07:17:03.000Z"
    assert r["min_alt_ft"] is None and r["max_alt_ft"] is None and r["callsign"] is None
    assert r["duration_s"] == pytest.approx(16.992, abs=1e-9)
    assert r["n_fixes_inside"] == 4 and r["entry_observed"] is True
    assert list(r) == SCHEMA.names


def test_records_leave_out_the_path():
    t = table([episode()], paths=[[[36.17, 35.86, 19000.0], [36.13, 35.85, 19000.0]]])
    (r,) = records(t)
    assert "path" not in r


def test_records_keep_positions_to_a_metre():
    """entry/exit lat/lon are positions: rounding them to 3 decimals moves them by up to
    ~55 m (0.0005 deg of latitude), more than the engine's precision, and makes a GeoJSON
    feature's properties disagree with its own geometry (7 decimals)."""
    rec = episode()
    (r,) = records(table([rec]))
    for name in ("entry_lat", "entry_lon", "exit_lat", "exit_lon"):
        assert r[name] == pytest.approx(rec[name], abs=1e-5), name  # 1e-5 deg ~ 1 m


# --------------------------------------------------------------------------- text formats


def test_jsonl_one_object_per_line(tmp_path):
    out = tmp_path / "e.jsonl"
    write(table([episode(), episode(icao24="15e242", callsign="FAKE24B")]), "jsonl", str(out))
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["icao24"] for line in lines] == ["15e241", "15e242"]
    assert "Türkiye" in lines[0]  # UTF-8, not \u escapes


def test_jsonl_to_stdout(capsys):
    write(table([episode()]), "jsonl", None)
    write(table([episode()]), "jsonl", "-")
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and json.loads(out[0])["zone"] == "TUR"


def test_csv_has_a_header_and_no_path(tmp_path):
    out = tmp_path / "e.csv"
    t = table([episode(), episode(min_alt_ft=float("nan"))], paths=[[[1.0, 2.0, 3.0]], [[1.0, 2.0, 3.0]]])
    write(t, "csv", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 2
    assert list(rows[0]) == SCHEMA.names
    assert ISO_MS.match(rows[0]["entry_time"])
    assert rows[1]["min_alt_ft"] == ""


def _by_records(t: pa.Table, fmt: str) -> str:
    """The text the record writers give (json.dumps / csv.DictWriter per row)."""
    fh = io.StringIO()
    recs = records(t)
    if fmt == "jsonl":
        for r in recs:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    else:
        w = csv.DictWriter(fh, fieldnames=[c for c in t.column_names if c != "path"])
        w.writeheader()
        w.writerows(recs)
    return fh.getvalue()


def test_column_wise_text_is_byte_identical_to_the_record_writers():
    nasty = 'quote " comma , new\nline \r tab\t back\\slash \x01 Türkiye ✈'
    rows = [
        episode(),
        episode(callsign=None, zone_name=nasty, min_alt_ft=float("nan"), max_alt_ft=float("inf"),
                duration_s=-0.0, entry_lat=1.234e-9, entry_lon=-179.99999995, max_depth_m=0.00004,
                path_length_m=123456789012.3456, exit_time=None, entry_observed=None, n_fixes_inside=None),
        episode(icao24="abcdef", callsign="", source="", exit_lat=-0.00000004, exit_lon=float("-inf"),
                entry_time=datetime(2015, 11, 24, 7, 24, 4, 500, tzinfo=UTC),
                exit_time=datetime(2015, 11, 24, 7, 24, 4, 1500, tzinfo=UTC), max_depth_m=1e300),
    ]  # fmt: skip
    t = table(rows * 3, paths=[[[1.0, 2.0, 3.0]]] * 9)
    t = pa.Table.from_batches(t.to_batches(max_chunksize=4))  # several chunks, each its own dictionaries
    for fmt in ("jsonl", "csv"):
        fh = io.StringIO()
        _write_text(t, fmt, fh)
        assert fh.getvalue() == _by_records(t, fmt), fmt
    assert '"exit_time": null' in _by_records(t, "jsonl")


def test_empty_table_in_every_text_format():
    t = table([])
    for fmt, check in (
        ("jsonl", lambda s: s == ""),
        ("csv", lambda s: s.splitlines() == [",".join(SCHEMA.names)]),
        ("geojson", lambda s: json.loads(s) == {"type": "FeatureCollection", "features": []}),
    ):
        fh = io.StringIO()
        _write_text(t, fmt, fh)
        assert check(fh.getvalue()), fmt


# --------------------------------------------------------------------------- geojson


def test_geojson_features_carry_the_path_as_geometry(tmp_path):
    path = [[36.1734567891, 35.8634567891, 19000.0], [36.15, 35.855, 19000.0], [36.1271234567, 35.8491234567, 19000.0]]
    out = tmp_path / "e.geojson"
    write(table([episode()], paths=[path]), "geojson", str(out))
    doc = json.loads(out.read_text(encoding="utf-8"))
    (feat,) = doc["features"]
    assert feat["geometry"]["type"] == "LineString"
    coords = feat["geometry"]["coordinates"]
    assert coords[0] == [36.1734568, 35.8634568, 19000.0]
    assert coords[-1] == [36.1271235, 35.8491235, 19000.0]
    assert feat["properties"]["entry_time"] == "2015-11-24T07:24:04.984Z"


def test_geojson_without_paths_has_null_geometry():
    fh = io.StringIO()
    _write_text(table([episode()]), "geojson", fh)
    (feat,) = json.loads(fh.getvalue())["features"]
    assert feat["geometry"] is None


def test_geometry_drops_unknown_altitudes():
    g = _geometry([[8.0, 47.0, float("nan")], [8.1, 47.1, None], [8.2, 47.2, 1000.0]])
    assert g == {"type": "LineString", "coordinates": [[8.0, 47.0], [8.1, 47.1], [8.2, 47.2, 1000.0]]}


def test_geometry_of_a_single_point_is_a_valid_linestring():
    g = _geometry([[8.0, 47.0, 1000.0]])
    assert g["type"] == "LineString"
    assert len(g["coordinates"]) == 2  # RFC 7946: two or more positions


def test_geometry_is_split_at_the_antimeridian():
    g = _geometry([[179.5, 67.0, 1.0], [179.9, 67.0, 1.0], [-179.9, 67.0, 1.0], [-179.5, 67.0, 1.0]])
    assert g["type"] == "MultiLineString"
    # cut at the antimeridian itself (RFC 7946 3.1.9), the cut point interpolated
    assert [[c[0] for c in part] for part in g["coordinates"]] == [[179.5, 179.9, 180.0], [-180.0, -179.9, -179.5]]
    g = _geometry([[179.9, 66.0, 1.0], [-179.9, 68.0, 3.0]])
    assert g["coordinates"][0][-1] == [180.0, 67.0, 2.0] and g["coordinates"][1][0] == [-180.0, 67.0, 2.0]
    g = _geometry([[179.9, 67.0, 1.0], [-179.9, 67.0, 1.0]])  # one point each side
    assert g["type"] == "MultiLineString"
    assert all(len(part) >= 2 for part in g["coordinates"])
    assert all(-180 <= c[0] <= 180 for part in g["coordinates"] for c in part)


# --------------------------------------------------------------------------- parquet


def test_parquet_round_trip(tmp_path):
    out = tmp_path / "e.parquet"
    t = table([episode(), episode(icao24="15e242")])
    write(t, "parquet", str(out))
    back = pq.read_table(out)
    assert back.equals(t)
    assert pa.types.is_timestamp(back.schema.field("entry_time").type)
    assert not math.isnan(back.column("entry_lat")[0].as_py())


# --------------------------------------------------------------------------- terminal table


def test_table_text_lists_episodes_and_says_how_many_more():
    rows = [episode(icao24=f"{i:06x}", entry_observed=i % 2 == 0) for i in range(5)]
    text = table_text(table(rows), limit=3)
    lines = text.splitlines()
    assert lines[0].startswith("icao24") and "in/out" in lines[0]
    assert len(lines) == 1 + 3 + 1
    assert lines[1].startswith("000000") and lines[1].endswith("seen/seen")
    assert lines[2].endswith("start/seen")
    assert "2015-11-24T07:24:04.984Z" in lines[1]
    assert "17.0" in lines[1]  # duration, one decimal
    assert lines[-1].startswith("... 2 more episodes")


def test_table_text_shows_missing_values_as_dash():
    text = table_text(table([episode(min_alt_ft=float("nan"), callsign=None)]))
    assert " - " in text.splitlines()[1]


def test_float_cells_are_repr_of_round_including_near_ties():
    import numpy as np

    from skyfence._output import _float_texts

    rng = np.random.default_rng(7)
    v = np.concatenate([
        rng.uniform(-180, 180, 20_000), rng.uniform(-1, 1, 20_000) * 10.0 ** rng.integers(-12, 17, 20_000),
        np.round(rng.uniform(-1000, 1000, 20_000), 3) + rng.choice([0, 5e-4, -5e-4, 1e-13], 20_000),
        np.round(rng.uniform(-180, 180, 20_000), 7) + rng.choice([0, 5e-8, -5e-8], 20_000),
        [0.0, -0.0, 1e-4, -1e-4, 5e-5, 1.5e-4, 1e15, 1e16, 2.5, 0.125, 0.0625, 1e-300, 1e300],
    ])  # fmt: skip
    for digits in (3, 7):
        texts, slow = _float_texts(v, digits)
        assert slow[:20_000].mean() < 0.01  # the vectorised path does most of the work
        fast = [(t, repr(round(x, digits))) for t, x, s in zip(texts, v.tolist(), slow) if not s]
        assert all(a == b for a, b in fast), [p for p in fast if p[0] != p[1]][:3]
