"""End-to-end tests of the command line: ``skyfence demo`` and ``skyfence detect``.

Real subprocesses of the installed console script (``.venv/bin/skyfence``)
where the process boundary matters (exit status, stdin, no traceback), and
in-process ``skyfence.cli.main([...])`` elsewhere, which is much faster once
the engine is loaded.  Small fixtures live in ``tests/data/cli/``; the real
OpenSky trajectories and OpenAir files come from ``../shared/data``.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import random
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

import skyfence
from skyfence.cli import main

SKYFENCE = Path(sys.executable).parent / "skyfence"
HERE = Path(__file__).resolve().parent
CLI_DATA = HERE / "data" / "cli"
SCENARIO = HERE.parent / "src" / "skyfence" / "data" / "scenarios" / "yayladagi-2015.toml"
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SUMMARY = re.compile(
    r"^skyfence: (?P<fixes>\d+) fixes read; (?P<skipped>none skipped|skipped: [^;]+); "
    r"(?P<tracks>\d+) tracks; (?P<episodes>\d+) episodes; (?:(?P<suspect>\d+) suspect fixes; )?"
    r"(?P<seconds>\d+\.\d\d) s$"
)
FIELDS = (
    "icao24", "callsign", "zone", "zone_name", "zone_kind", "entry_time", "exit_time",
    "entry_observed", "exit_observed", "duration_s", "entry_lat", "entry_lon", "exit_lat",
    "exit_lon", "max_depth_m", "path_length_m", "min_alt_ft", "max_alt_ft", "n_fixes_inside",
)  # fmt: skip
TIME_FIELDS = ("entry_time", "exit_time", "track_start")
FORMATS = ("jsonl", "csv", "geojson", "parquet")
UTC = timezone.utc


# --------------------------------------------------------------------------- helpers


def run_cli(*args, stdin: bytes | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    """The console script in a subprocess; stdout/stderr as text."""
    proc = subprocess.run(
        [str(SKYFENCE), *map(str, args)],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        timeout=timeout,
    )
    proc.stdout = proc.stdout.decode("utf-8")
    proc.stderr = proc.stderr.decode("utf-8")
    return proc


def run_main(*args) -> tuple[int, str, str]:
    """``skyfence.cli.main`` in this process; (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_csv(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def parse_iso(text: str) -> datetime:
    assert ISO_MS.match(text), text
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def summary_of(stderr: str) -> re.Match:
    lines = [line for line in stderr.splitlines() if line.startswith("skyfence: ") and "fixes read" in line]
    assert len(lines) == 1, stderr
    m = SUMMARY.match(lines[0])
    assert m, lines[0]
    return m


def assert_one_error_line(stderr: str, *fragments: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected exactly one line on stderr, got:\n{stderr}"
    line = lines[0]
    assert line.startswith("skyfence: error: "), line
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"
    return line


def episode_key(rec: dict) -> tuple:
    return (rec["icao24"], rec["zone"], rec["entry_time"], rec["exit_time"])


# --------------------------------------------------------------------------- demo

LEAD = "FAKE24A"
LEAD_ENTRY = datetime(2015, 11, 24, 7, 24, 5, tzinfo=UTC)


def check_lead(entry: datetime, duration_s: float, depth_km: float) -> None:
    assert abs((entry - LEAD_ENTRY).total_seconds()) <= 1.0, entry
    assert abs(duration_s - 17.0) <= 1.0, duration_s
    assert 1.5 <= depth_km <= 2.5, depth_km


def test_demo_prints_the_reconstructed_24_november_breach():
    proc = run_cli("demo")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "RECONSTRUCTION" in proc.stdout
    lines = [line for line in proc.stdout.splitlines() if line.startswith(f"detected: {LEAD} ")]
    assert len(lines) == 1, proc.stdout
    m = re.search(
        r" inside TUR from (?P<entry>\S+) to (?P<exit>\S+): (?P<dur>[\d.]+) s, depth (?P<depth>[\d.]+) km",
        lines[0],
    )
    assert m, lines[0]
    entry, exit_ = parse_iso(m["entry"]), parse_iso(m["exit"])
    check_lead(entry, float(m["dur"]), float(m["depth"]))
    assert abs((exit_ - entry).total_seconds() - float(m["dur"])) < 0.06
    # both published incidents are reported, each labelled as a reconstruction
    assert proc.stdout.count("[RECONSTRUCTION]") == 2


def test_demo_jsonl_records_are_labelled_and_match_the_published_figures(tmp_path):
    out = tmp_path / "demo.jsonl"
    code, stdout, _ = run_main("demo", "--format", "jsonl", "-o", out)
    assert code == 0
    assert "RECONSTRUCTION" in stdout
    recs = read_jsonl(out)
    assert recs
    for rec in recs:
        assert "RECONSTRUCTION" in rec["source"], rec["source"]
        for name in FIELDS:
            assert name in rec
    lead = [r for r in recs if r["callsign"] == LEAD and r["zone"] == "TUR"]
    assert len(lead) == 1, recs
    lead = lead[0]
    entry, exit_ = parse_iso(lead["entry_time"]), parse_iso(lead["exit_time"])
    check_lead(entry, lead["duration_s"], lead["max_depth_m"] / 1000)
    assert abs((exit_ - entry).total_seconds() - lead["duration_s"]) < 0.002
    # crossed between two radar fixes: both ends interpolated, not track ends
    assert lead["entry_observed"] and lead["exit_observed"]
    assert lead["min_alt_ft"] == pytest.approx(19000, abs=1)


def test_demo_jsonl_to_stdout_keeps_the_story_on_stderr():
    code, stdout, stderr = run_main("demo", "--format", "jsonl")
    assert code == 0
    recs = [json.loads(line) for line in stdout.splitlines()]  # stdout is pure JSON Lines
    assert {r["callsign"] for r in recs} >= {LEAD}
    assert "RECONSTRUCTION" in stderr


def test_demo_follows_the_scenario_file(tmp_path):
    text = SCENARIO.read_text(encoding="utf-8")
    head, sep, lead_and_rest = text.partition(f'callsign = "{LEAD}"')
    assert sep, "the shipped scenario no longer defines the lead"
    assert "speed_kt = 510" in lead_and_rest.split("[[aircraft]]")[0]
    changed = tmp_path / "slower-lead.toml"
    changed.write_text(head + sep + lead_and_rest.replace("speed_kt = 510", "speed_kt = 430", 1), encoding="utf-8")

    base, mod = tmp_path / "base.jsonl", tmp_path / "mod.jsonl"
    assert run_main("demo", "--format", "jsonl", "-o", base)[0] == 0
    code, stdout, _ = run_main("demo", "--scenario", changed, "--format", "jsonl", "-o", mod)
    assert code == 0
    assert "RECONSTRUCTION" in stdout

    def lead(path):
        (rec,) = [r for r in read_jsonl(path) if r["callsign"] == LEAD and r["zone"] == "TUR"]
        return rec

    before, after = lead(base), lead(mod)
    # at 430 kt the lead turns tighter onto its crossing leg (after one orbit that ends
    # where it began at any speed) and crosses the salient 1.7 km further south, where it
    # is narrower: 3.3 km inside in about 15.1 s instead of 4.5 km in 17.0 s
    assert before["duration_s"] - after["duration_s"] > 1.0, (before["duration_s"], after["duration_s"])
    assert before["entry_lat"] - after["entry_lat"] > 0.01
    assert after["entry_time"] != before["entry_time"]
    assert all("RECONSTRUCTION" in r["source"] for r in read_jsonl(mod))
    # the wingman was not touched
    def wing(path):
        return [{k: v for k, v in r.items() if k != "source"} for r in read_jsonl(path) if r["callsign"] == "FAKE24B"]

    assert wing(base) == wing(mod) != []


# --------------------------------------------------------------------------- detect: formats


@pytest.fixture(scope="module")
def zurich(shared_data) -> Path:
    return shared_data / "tracks" / "opensky" / "zurich_airport.json.gz"


@pytest.fixture(scope="module")
def zone_sets(shared_data) -> dict[str, str]:
    return {"world": "world", "switzerland": str(shared_data / "airspaces" / "openair" / "Switzerland.txt")}


@pytest.fixture(scope="module")
def zurich_outputs(zurich, zone_sets, tmp_path_factory) -> dict:
    """``detect zurich_airport.json.gz --zones Z --format F -o FILE`` for every zone set and format."""
    out_dir = tmp_path_factory.mktemp("zurich")
    runs = {}
    for label, zones in zone_sets.items():
        for fmt in FORMATS:
            path = out_dir / f"{label}.{fmt}"
            code, stdout, stderr = run_main("detect", zurich, "--zones", zones, "--format", fmt, "-o", path)
            assert code == 0, stderr
            assert stdout == ""
            runs[label, fmt] = (path, stderr)
    return runs


def load(path: Path, fmt: str) -> list[dict]:
    """Episode records (properties only for GeoJSON) from an output file."""
    if fmt == "jsonl":
        return read_jsonl(path)
    if fmt == "csv":
        return read_csv(path)[1]
    if fmt == "geojson":
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["type"] == "FeatureCollection"
        return [f["properties"] for f in doc["features"]]
    return pq.read_table(path).to_pylist()


@pytest.mark.shared
@pytest.mark.parametrize("zones", ["world", "switzerland"])
def test_same_episodes_in_every_format(zurich_outputs, zones):
    counts = {fmt: len(load(zurich_outputs[zones, fmt][0], fmt)) for fmt in FORMATS}
    assert len(set(counts.values())) == 1, counts
    assert counts["jsonl"] > 0
    # the same episodes, in the same order
    ref = [(r["icao24"], r["zone"], r["entry_time"]) for r in load(zurich_outputs[zones, "jsonl"][0], "jsonl")]
    for fmt in ("csv", "geojson"):
        got = [(r["icao24"], r["zone"], r["entry_time"]) for r in load(zurich_outputs[zones, fmt][0], fmt)]
        assert got == ref, fmt
    table = pq.read_table(zurich_outputs[zones, "parquet"][0])
    rows = table.to_pylist()
    assert [(r["icao24"], r["zone"]) for r in rows] == [(a, z) for a, z, _ in ref]
    for r, (_, _, t) in zip(rows, ref):  # the text formats round to the millisecond
        assert abs((r["entry_time"] - parse_iso(t)).total_seconds()) <= 0.0005
    # the summary line counts them too
    for fmt in FORMATS:
        assert int(summary_of(zurich_outputs[zones, fmt][1])["episodes"]) == counts["jsonl"]


@pytest.mark.shared
@pytest.mark.parametrize("zones", ["world", "switzerland"])
def test_required_fields_in_every_format(zurich_outputs, zones):
    jsonl = read_jsonl(zurich_outputs[zones, "jsonl"][0])
    header, _ = read_csv(zurich_outputs[zones, "csv"][0])
    props = load(zurich_outputs[zones, "geojson"][0], "geojson")
    parquet_cols = pq.read_schema(zurich_outputs[zones, "parquet"][0]).names
    for name in FIELDS:
        assert all(name in r for r in jsonl), name
        assert name in header, name
        assert all(name in p for p in props), name
        assert name in parquet_cols, name
    for r in jsonl:
        assert r["duration_s"] >= 0
        assert r["n_fixes_inside"] >= 0
        assert -90 <= r["entry_lat"] <= 90 and -180 <= r["entry_lon"] <= 180
        assert r["max_depth_m"] >= 0 and r["path_length_m"] >= 0
        assert r["min_alt_ft"] is None or r["min_alt_ft"] <= r["max_alt_ft"]
        assert isinstance(r["entry_observed"], bool) and isinstance(r["exit_observed"], bool)
    if zones == "world":
        assert "CHE" in {r["zone"] for r in jsonl}  # Zurich airport traffic
        assert all(re.fullmatch(r"[A-Z]{3}", r["zone"]) for r in jsonl)
        assert {r["zone_kind"] for r in jsonl} == {"sovereign"}
    else:
        assert len({r["zone"] for r in jsonl}) > 1  # CTRs, TMAs, ... around Zurich


@pytest.mark.shared
@pytest.mark.parametrize("zones", ["world", "switzerland"])
@pytest.mark.parametrize("fmt", ["jsonl", "csv", "geojson"])
def test_text_formats_write_iso_utc_milliseconds(zurich_outputs, zones, fmt):
    recs = load(zurich_outputs[zones, fmt][0], fmt)
    assert recs
    for r in recs:
        for name in TIME_FIELDS:
            assert ISO_MS.match(r[name]), (name, r[name])
        entry, exit_ = parse_iso(r["entry_time"]), parse_iso(r["exit_time"])
        assert exit_ >= entry
        assert abs((exit_ - entry).total_seconds() - float(r["duration_s"])) < 0.002
        assert parse_iso(r["track_start"]) <= entry


@pytest.mark.shared
@pytest.mark.parametrize("zones", ["world", "switzerland"])
def test_geojson_geometry_is_the_path_inside(zurich_outputs, zones):
    doc = json.loads(zurich_outputs[zones, "geojson"][0].read_text(encoding="utf-8"))
    exact = pq.read_table(zurich_outputs[zones, "parquet"][0]).to_pylist()
    assert len(doc["features"]) == len(exact)
    for feat, ep in zip(doc["features"], exact):
        assert feat["type"] == "Feature"
        geom = feat["geometry"]
        assert geom["type"] in ("LineString", "MultiLineString")
        lines = [geom["coordinates"]] if geom["type"] == "LineString" else geom["coordinates"]
        assert all(len(line) >= 2 for line in lines)
        first, last = lines[0][0], lines[-1][-1]
        # against the exact values (parquet) ...
        assert first[0] == pytest.approx(ep["entry_lon"], abs=1e-6)
        assert first[1] == pytest.approx(ep["entry_lat"], abs=1e-6)
        assert last[0] == pytest.approx(ep["exit_lon"], abs=1e-6)
        assert last[1] == pytest.approx(ep["exit_lat"], abs=1e-6)
        # ... and against the feature's own properties, as printed
        p = feat["properties"]
        assert first[:2] == pytest.approx([p["entry_lon"], p["entry_lat"]], abs=6e-4)
        assert last[:2] == pytest.approx([p["exit_lon"], p["exit_lat"]], abs=6e-4)
        # entry point, the fixes inside, exit point
        assert sum(len(line) for line in lines) >= ep["n_fixes_inside"] + 2
        for line in lines:
            for c in line:
                assert -180 <= c[0] <= 180 and -90 <= c[1] <= 90


@pytest.mark.shared
@pytest.mark.parametrize("zones", ["world", "switzerland"])
def test_parquet_has_timestamp_columns(zurich_outputs, zones):
    table = pq.read_table(zurich_outputs[zones, "parquet"][0])
    for name in TIME_FIELDS:
        t = table.schema.field(name).type
        assert pa.types.is_timestamp(t), (name, t)
        assert t.tz in ("UTC", "+00:00"), (name, t.tz)
    assert pa.types.is_floating(table.schema.field("duration_s").type)
    assert pa.types.is_integer(table.schema.field("n_fixes_inside").type)
    assert pa.types.is_boolean(table.schema.field("entry_observed").type)
    # same instants as the text output, to the millisecond
    jsonl = read_jsonl(zurich_outputs[zones, "jsonl"][0])
    for row, rec in zip(table.to_pylist(), jsonl):
        assert abs((row["entry_time"] - parse_iso(rec["entry_time"])).total_seconds()) <= 0.0005
        assert abs((row["exit_time"] - parse_iso(rec["exit_time"])).total_seconds()) <= 0.0005
    df = table.to_pandas()
    assert len(df) == table.num_rows


@pytest.mark.shared
def test_summary_names_fixes_tracks_episodes_seconds(zurich_outputs, zurich):
    with gzip.open(zurich, "rt", encoding="utf-8") as fh:
        n_records = len(json.load(fh))
    for (_zones, fmt), (path, stderr) in zurich_outputs.items():
        m = summary_of(stderr)
        assert int(m["fixes"]) == n_records
        assert int(m["tracks"]) > 0
        assert int(m["episodes"]) == len(load(path, fmt))
        assert float(m["seconds"]) > 0


@pytest.mark.shared
def test_detect_subprocess_writes_file_and_summary(zurich, tmp_path):
    out = tmp_path / "episodes.jsonl"
    proc = run_cli("detect", zurich, "--zones", "world", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1  # the summary line only
    m = summary_of(proc.stderr)
    recs = read_jsonl(out)
    assert int(m["episodes"]) == len(recs) > 0
    assert {r["source"] for r in recs} == {str(zurich)}


@pytest.mark.shared
def test_quiet_drops_the_summary(zurich, tmp_path):
    code, stdout, stderr = run_main("detect", zurich, "--zones", "world:CHE", "-q", "-o", tmp_path / "x.csv",
                                    "--format", "csv")  # fmt: skip
    assert code == 0
    assert stdout == "" and stderr == ""


# --------------------------------------------------------------------------- detect: stdin, zone selection


@pytest.mark.shared
def test_stdin_gives_the_same_episodes_as_the_path(zurich, tmp_path):
    by_path = tmp_path / "by_path.jsonl"
    code, _, err_path = run_main("detect", zurich, "--zones", "world:CHE", "-o", by_path)
    assert code == 0
    proc = run_cli("detect", "-", "--zones", "world:CHE", stdin=zurich.read_bytes())  # jsonl on a pipe
    assert proc.returncode == 0, proc.stderr
    from_stdin = [json.loads(line) for line in proc.stdout.splitlines()]
    from_path = read_jsonl(by_path)
    assert len(from_stdin) == len(from_path) > 0
    assert {r["source"] for r in from_stdin} == {"-"}
    strip = lambda recs: [{k: v for k, v in r.items() if k != "source"} for r in recs]  # noqa: E731
    assert strip(from_stdin) == strip(from_path)
    s_stdin, s_path = summary_of(proc.stderr), summary_of(err_path)
    for key in ("fixes", "skipped", "tracks", "episodes"):
        assert s_stdin[key] == s_path[key], key


def test_world_selection_of_two_states(tmp_path):
    """A track from Turkey into Syria along 37.5 E, and one over Zurich."""
    out = tmp_path / "ts.jsonl"
    code, _, stderr = run_main("detect", CLI_DATA / "turkey_syria.csv", "--zones", "world:TUR,SYR", "-o", out)
    assert code == 0, stderr
    recs = read_jsonl(out)
    assert [r["zone"] for r in recs] == ["TUR", "SYR"]  # nothing for Switzerland
    tur, syr = recs
    assert tur["zone_name"] == "Türkiye" and syr["zone_name"] == "Syria"
    assert tur["exit_time"] == syr["entry_time"]  # leaves one as it enters the other
    assert tur["exit_observed"] and syr["entry_observed"]
    assert not tur["entry_observed"] and not syr["exit_observed"]  # the track starts / ends inside
    assert tur["exit_lat"] == pytest.approx(syr["entry_lat"], abs=1e-3)
    assert 36.5 < tur["exit_lat"] < 37.0
    assert summary_of(stderr)["tracks"] == "2"
    # the selection is the zones, not a filter on the output
    assert [z.id for z in skyfence.read_zones("world:TUR,SYR")] == ["TUR", "SYR"]


def test_antimeridian_path_is_split_in_geojson(tmp_path):
    out = tmp_path / "am.geojson"
    code, _, stderr = run_main("detect", CLI_DATA / "antimeridian.csv", "--zones", "world:RUS",
                               "--format", "geojson", "-o", out)  # fmt: skip
    assert code == 0, stderr
    (feat,) = json.loads(out.read_text(encoding="utf-8"))["features"]
    assert feat["geometry"]["type"] == "MultiLineString"
    parts = feat["geometry"]["coordinates"]
    assert len(parts) == 2
    assert all(c[0] > 0 for c in parts[0]) and all(c[0] < 0 for c in parts[1])
    assert feat["properties"]["path_length_m"] == pytest.approx(87_240, rel=0.01)  # not around the world


def test_unknown_country_code_is_one_line():
    proc = run_cli("detect", CLI_DATA / "turkey_syria.csv", "--zones", "world:TUR,XXX")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert_one_error_line(proc.stderr, "XXX")


# --------------------------------------------------------------------------- detect: bad input


def _write(path: Path, data: bytes | str) -> Path:
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def _random_bytes() -> bytes:
    data = random.Random(20151124).randbytes(4096)
    assert data[:2] != b"\x1f\x8b" and data[:4] != b"PAR1"
    return data


CSV_HEAD = "icao24,time,lat,lon\n"
GOOD_ROW = "4b1806,1480759200,47.40,8.50\n"


def bad_cases(tmp: Path, zurich_gz: Path) -> dict:
    """id -> (argv after 'detect', fragments the one error line must contain)."""
    track = str(CLI_DATA / "missing_position.csv")
    f = {
        "missing": tmp / "no-such-file.json",
        "empty": _write(tmp / "empty.json", b""),
        "truncated": _write(tmp / "truncated.json.gz", zurich_gz.read_bytes()[:5000]),
        "random": _write(tmp / "random.bin", _random_bytes()),
        "nolon": _write(tmp / "no-lon.csv", "icao24,time,lat\n4b1806,1480759200,47.4\n"),
        "badlat": _write(tmp / "bad-lat.csv", CSV_HEAD + GOOD_ROW + "4b1806,1480759210,abc,8.51\n"),
        "farlat": _write(tmp / "far-lat.csv", CSV_HEAD + GOOD_ROW + "4b1806,1480759210,97.5,8.51\n"),
        "badiso": _write(tmp / "bad-iso.csv", CSV_HEAD + "4b1806,2016-12-03T10:00:00Z,47.40,8.50\n"
                                                         "4b1806,yesterday,47.41,8.51\n"),  # fmt: skip
        "badepoch": _write(tmp / "bad-epoch.csv", CSV_HEAD + GOOD_ROW + "4b1806,yesterday,47.41,8.51\n"),
        "badjson": _write(tmp / "bad-lat.jsonl",
                          '{"icao24":"4b1806","timestamp":1480759200000,"latitude":47.4,"longitude":8.5}\n'
                          '{"icao24":"4b1806","timestamp":1480759210000,"latitude":"x","longitude":8.5}\n'),  # fmt: skip
    }
    n = {k: str(v) for k, v in f.items()}
    polygon = str(CLI_DATA / "broken_polygon.geojson")
    limit = str(CLI_DATA / "bad_limit.txt")
    return {
        "missing-file": ([n["missing"]], [n["missing"], "no such file"]),
        "empty-file": ([n["empty"]], [n["empty"], "empty"]),
        "truncated-gzip": ([n["truncated"]], [n["truncated"], "truncated"]),
        "unknown-format": ([n["random"]], [n["random"], "unknown format"]),
        "csv-missing-column": ([n["nolon"]], [n["nolon"], "lon"]),
        "non-numeric-lat": ([n["badlat"]], [n["badlat"] + ":3:", "'lat'", "'abc'"]),
        "lat-out-of-range": ([n["farlat"]], [n["farlat"] + ":3:", "'lat'", "97.5"]),
        "iso-time-not-a-time": ([n["badiso"]], [n["badiso"] + ":3:", "'time'", "'yesterday'"]),
        "epoch-time-not-a-time": ([n["badepoch"]], [n["badepoch"] + ":3:", "'time'", "'yesterday'"]),
        "json-non-numeric-lat": ([n["badjson"]], [n["badjson"] + ":2:", "'latitude'"]),
        "geojson-two-point-polygon": ([track, "--zones", polygon], [polygon, "features[1]", "TWO-POINTS"]),
        "openair-bad-limit": ([track, "--zones", limit], [limit + ":4:", "'AL'", "banana"]),
        "unknown-country": ([track, "--zones", "world:TUR,XXX"], ["XXX"]),
        "zone-set-twice": ([track, "--zones", "world:CHE", "--zones", "world:CHE"], ["'CHE'"]),
        "negative-max-gap": ([track, "--max-gap", "-1"], ["--max-gap"]),
        "column-without-equals": ([track, "--column", "nonsense"], ["--column", "nonsense"]),
        "column-unknown-name": ([track, "--column", "nonsense=lat"], ["--column", "nonsense"]),
    }


BAD_IDS = [
    "missing-file", "empty-file", "truncated-gzip", "unknown-format", "csv-missing-column", "non-numeric-lat",
    "lat-out-of-range", "iso-time-not-a-time", "epoch-time-not-a-time", "json-non-numeric-lat",
    "geojson-two-point-polygon", "openair-bad-limit", "unknown-country", "zone-set-twice", "negative-max-gap",
    "column-without-equals", "column-unknown-name",
]  # fmt: skip


@pytest.mark.shared
@pytest.mark.parametrize("case", BAD_IDS)
def test_bad_input_is_one_error_line_and_status_2(case, tmp_path, zurich):
    argv, fragments = bad_cases(tmp_path, zurich)[case]
    code, stdout, stderr = run_main("detect", *argv, "-o", tmp_path / "out.jsonl")
    assert code == 2
    assert stdout == ""
    assert_one_error_line(stderr, *fragments)


@pytest.mark.shared
@pytest.mark.parametrize("case", ["missing-file", "truncated-gzip", "non-numeric-lat", "openair-bad-limit"])
def test_bad_input_in_a_real_process(case, tmp_path, zurich):
    argv, fragments = bad_cases(tmp_path, zurich)[case]
    proc = run_cli("detect", *argv)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert_one_error_line(proc.stderr, *fragments)


def test_unwritable_output_is_one_error_line_not_a_traceback(tmp_path):
    out = tmp_path / "no-such-dir" / "episodes.jsonl"
    proc = run_cli("detect", CLI_DATA / "missing_position.csv", "--zones", "world:CHE", "-o", out)
    assert proc.returncode == 2, proc.stderr
    assert_one_error_line(proc.stderr, str(out))


def test_rows_without_position_are_counted(tmp_path):
    out = tmp_path / "m.jsonl"
    code, _, stderr = run_main("detect", CLI_DATA / "missing_position.csv", "--zones", "world:CHE", "-o", out)
    assert code == 0
    m = summary_of(stderr)
    assert m["fixes"] == "5"
    assert "2 missing position" in m["skipped"]
    (rec,) = read_jsonl(out)
    assert rec["n_fixes_inside"] == 3


def test_version_and_help():
    proc = run_cli("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"skyfence {skyfence.__version__}"
    proc = run_cli("detect", "--help")
    assert proc.returncode == 0 and "--zones" in proc.stdout


# --------------------------------------------------------------------------- Python API


def test_python_api_returns_a_pyarrow_table():
    tracks = skyfence.read_tracks(CLI_DATA / "turkey_syria.csv")
    zones = skyfence.read_zones("world:TUR,SYR")
    episodes = skyfence.detect(tracks, zones)
    assert isinstance(episodes, pa.Table)
    assert episodes.num_rows == 2
    for name in FIELDS:
        assert name in episodes.column_names
    df = episodes.to_pandas()
    assert list(df["zone"]) == ["TUR", "SYR"]
    assert str(df["entry_time"].dt.tz) in ("UTC", "+00:00")
    t0 = datetime.fromtimestamp(1448349600, UTC)
    assert df["entry_time"].iloc[0].to_pydatetime() == t0
    assert df["exit_time"].iloc[1].to_pydatetime() == t0 + timedelta(seconds=360)
    with_paths = skyfence.detect(tracks, zones, paths=True)
    assert "path" in with_paths.column_names


def test_import_skyfence_is_light():
    code = (
        "import json, sys, skyfence\n"
        "print(json.dumps(sorted(m for m in ('numpy', 'numba', 'pandas', 'shapely') if m in sys.modules)))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


@pytest.mark.parametrize("fmt", ["parquet", "jsonl", "csv", "geojson"])
def test_detect_does_not_import_pandas(tmp_path, fmt):
    """pyarrow's conversions import pandas on first use (0.24 s of CPU a run):
    reading tracks and writing episodes go through skyfence._arrow instead."""
    src = tmp_path / "tracks.parquet"
    pq.write_table(pcsv.read_csv(CLI_DATA / "turkey_syria.csv"), src)
    code = (
        "import sys\nfrom skyfence.cli import main\n"
        f"rc = main(['detect', {str(src)!r}, '-o', {str(tmp_path / ('out.' + fmt))!r}, '--format', {fmt!r}, '-q'])\n"
        "print(rc, 'pandas' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0", "False"]


def test_all_public_names_resolve():
    assert "detect" in skyfence.__all__ and "read_tracks" in skyfence.__all__
    for name in skyfence.__all__:
        assert getattr(skyfence, name) is not None, name
    for name in ("ConfigError", "InputError", "TrackFormatError", "ZoneFormatError"):
        assert issubclass(getattr(skyfence, name), skyfence.SkyfenceError)
    with pytest.raises(AttributeError):
        skyfence.no_such_name  # noqa: B018


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".geojson"])
def test_output_format_follows_the_extension_of_dash_o(tmp_path, suffix):
    """``-o episodes.csv`` writes CSV, not JSON Lines under a .csv name."""
    out = tmp_path / f"episodes{suffix}"
    code, _, err = run_main("detect", str(CLI_DATA / "turkey_syria.csv"), "--zones", "world:TUR,SYR", "-o", str(out), "-q")
    assert code == 0, err
    if suffix == ".csv":
        header, rows = read_csv(out)
        assert "entry_time" in header and rows
    elif suffix == ".parquet":
        assert pq.read_table(out).num_rows > 0
    else:
        doc = json.loads(out.read_text())
        assert doc["type"] == "FeatureCollection" and doc["features"][0]["geometry"]["type"] == "LineString"
