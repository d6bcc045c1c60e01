"""OpenAir: the shared real files, arcs and circles, limits, errors."""

from __future__ import annotations

import gzip
import io
import math

import numpy as np
import pytest
import shapely
from aerofiles.openair import Reader
from pyproj import Geod
from shapely import Point

from skyfence._errors import ZoneFormatError
from skyfence.zones import SFC, UNL, Limit, read_zones
from skyfence.zones._limits import LimitError, parse_limit

GEOD = Geod(ellps="WGS84")
NM = 1852.0


def read(path, **kw):
    warnings = []
    zones = read_zones(str(path), warn=warnings.append, **kw)
    return zones, warnings


# ---------------------------------------------------------------- shared files


@pytest.mark.parametrize(
    "name, records, zones, skipped, repaired",
    [("Switzerland", 334, 315, 19, 7), ("Germany", 677, 677, 0, 2), ("Germany_Border", 11, 11, 0, 1)],
)
def test_shared_files(shared_data, name, records, zones, skipped, repaired):
    path = shared_data / "airspaces" / "openair" / f"{name}.txt"
    got, warnings = read(path)
    assert len(got) == zones
    # every AC record is accounted for: read, or skipped with a counted warning
    text = path.read_bytes().decode("latin-1")
    assert sum(1 for line in text.splitlines() if line.startswith("AC ")) == records
    skip_msgs = [w for w in warnings if "skipped" in w]
    if skipped:
        assert len(skip_msgs) == 1 and f"{skipped} of {records} airspace records skipped" in skip_msgs[0]
    else:
        assert not skip_msgs
    repairs = [w for w in warnings if "repaired" in w]
    assert len(repairs) == repaired
    assert all("zone '" in w and str(path) in w for w in repairs)
    assert len({z.id for z in got}) == len(got)
    assert all(z.geometry.is_valid and z.geometry.area > 0 for z in got)
    assert all(z.source == str(path) for z in got)
    # the AC line is recorded and really holds an AC of that class
    lines = text.splitlines()
    for z in got:
        assert lines[z.properties["line"] - 1].split()[:2] == ["AC", z.kind]
        assert z.properties["class"] == z.kind


def test_switzerland_details(shared_data):
    zones, _ = read(shared_data / "airspaces" / "openair" / "Switzerland.txt")  # UTF-8 with BOM
    z = zones[0]
    assert (z.id, z.name, z.kind) == ("ALPNACH-CTR-128-475", "ALPNACH CTR 128.475", "D")
    assert z.lower == SFC and z.upper == Limit(12959, "MSL")
    assert z.properties == {"class": "D", "line": 45, "floor": "GND", "ceiling": "12959 ft"}
    agl = [z for z in zones if z.upper.ref == "AGL"]
    assert len(agl) == 9
    kinds = {z.kind for z in zones}
    assert kinds == {"P", "D", "C", "R", "Q", "E", "CTR"}


def test_germany_non_utf8_and_limits(shared_data):
    path = shared_data / "airspaces" / "openair" / "Germany.txt"
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    zones, _ = read(path)
    by_line = {z.properties["line"]: z for z in zones}
    first = zones[0]
    assert first.name == "ED-R LINDENBERG" and first.upper == Limit(5500, "MSL")
    gnd_suffix = [z for z in zones if z.properties["ceiling"] == "1000ft GND"]
    assert len(gnd_suffix) == 1 and gnd_suffix[0].upper == Limit(1000, "AGL")
    assert {z.kind for z in zones} == {"R", "Q", "C", "W", "D", "CTR", "TMZ", "RMZ", "G"}
    assert any(z.lower.ref == "FL" for z in by_line.values())


def _aerofiles_records(path):
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    return [rec for rec, err in Reader(io.StringIO(text, newline=None)) if rec]


def _geodesic_check(zone, lat0, lon0, radius_m):
    """Vertices on the circle (within 10 m) and edge midpoints within 10 m of it."""
    xy = shapely.get_coordinates(zone.geometry.exterior)
    n = len(xy)
    _, _, d = GEOD.inv(np.full(n, lon0), np.full(n, lat0), xy[:, 0], xy[:, 1])
    mid = (xy[:-1] + xy[1:]) / 2
    _, _, dm = GEOD.inv(np.full(n - 1, lon0), np.full(n - 1, lat0), mid[:, 0], mid[:, 1])
    return np.abs(d - radius_m).max(), np.abs(dm - radius_m).max()


def test_every_circle_in_germany_is_within_10_m(shared_data):
    path = shared_data / "airspaces" / "openair" / "Germany.txt"
    zones, _ = read(path)
    records = _aerofiles_records(path)
    assert len(records) == len(zones)
    n = 0
    for rec, z in zip(records, zones):
        if rec["elements"][0]["type"] != "circle":
            continue
        e = rec["elements"][0]
        vertex_err, mid_err = _geodesic_check(z, e["center"][0], e["center"][1], e["radius"] * NM)
        assert vertex_err < 0.01, z.id
        assert mid_err <= 10.0, z.id
        n += 1
    assert n == 126


def test_germany_db_arcs_keep_their_end_points(shared_data):
    path = shared_data / "airspaces" / "openair" / "Germany.txt"
    zones, warnings = read(path)
    records = _aerofiles_records(path)
    checked = 0
    for rec, z in zip(records, zones):
        arcs = [e for e in rec["elements"] if e["type"] == "arc"]
        if not arcs or any(f"'{z.id}'" in w for w in warnings):  # repaired: vertices may move
            continue
        ring = {tuple(np.round(c, 9)) for c in z.geometry.exterior.coords}
        for e in arcs:
            for lat, lon in (e["start"], e["end"]):
                assert (round(lon, 9), round(lat, 9)) in ring, z.id
        checked += 1
    assert checked > 100


# ---------------------------------------------------------------- arcs fixture


@pytest.fixture(scope="module")
def arcs(test_data):
    zones, warnings = read(test_data / "zones" / "arcs.txt")
    return {z.id: z for z in zones}, warnings


def test_fixture_ids_and_properties(arcs):
    zones, warnings = arcs
    assert list(zones) == ["TEST-CIRCLE", "TEST-DA-CW", "TEST-DA-CCW", "TEST-DB", "TEST-CIRCLE-2"]
    assert warnings == []
    cw = zones["TEST-DA-CW"]
    assert cw.properties["frequency"] == "123.455"
    assert cw.properties["type"] == "TMA"
    assert cw.properties["activations"] == [{"start": "2024-12-17T08:00:00Z", "end": "2024-12-17T16:00:00Z"}]
    assert cw.properties["line"] == 11
    assert (cw.lower, cw.upper) == (Limit(6500, "FL"), Limit(9500, "FL"))
    ccw = zones["TEST-DA-CCW"]
    assert ccw.lower == Limit(1000, "AGL")
    assert ccw.upper.ref == "MSL" and ccw.upper.ft == pytest.approx(3000 / 0.3048) and str(ccw.upper) == "3000 m"
    assert zones["TEST-DB"].upper == UNL


@pytest.mark.parametrize("radius_nm, zid", [(5, "TEST-CIRCLE"), (0.5, "TEST-CIRCLE-2")])
def test_circle_within_10_m(arcs, radius_nm, zid):
    z = arcs[0][zid]
    lat0, lon0 = (46.5, 7.5) if zid == "TEST-CIRCLE" else (46 + 40 / 60, 7 + 40 / 60)
    vertex_err, mid_err = _geodesic_check(z, lat0, lon0, radius_nm * NM)
    assert vertex_err < 0.01
    assert mid_err <= 10.0
    assert mid_err > 5.0  # not absurdly many vertices either
    r = radius_nm * NM
    area = abs(GEOD.geometry_area_perimeter(z.geometry)[0])
    assert math.pi * (r - 10) ** 2 < area < math.pi * r**2  # inscribed, and within 10 m


def _at(lat0, lon0, az, nm):
    lon, lat, _ = GEOD.fwd(lon0, lat0, az, nm * NM)
    return Point(lon, lat)


def test_da_arc_directions(arcs):
    zones = arcs[0]
    cw, ccw = zones["TEST-DA-CW"].geometry, zones["TEST-DA-CCW"].geometry
    c = (46.0, 8.0)
    # clockwise from 0 to 90 degrees: the north-east quarter
    assert cw.contains(_at(*c, 45, 9.9)) and not cw.contains(_at(*c, 45, 10.1))
    assert not cw.contains(_at(*c, 315, 5)) and not cw.contains(_at(*c, 180, 5))
    # counter-clockwise: everything but that quarter
    assert not ccw.contains(_at(*c, 45, 5))
    assert ccw.contains(_at(*c, 315, 9.9)) and ccw.contains(_at(*c, 180, 9.9)) and not ccw.contains(_at(*c, 180, 10.1))
    # arc vertices (all but the centre) are on the circle, chords within 10 m of it
    for g in (cw, ccw):
        xy = np.array([p for p in g.exterior.coords if p != (8.0, 46.0)])
        _, _, d = GEOD.inv(np.full(len(xy), 8.0), np.full(len(xy), 46.0), xy[:, 0], xy[:, 1])
        assert np.abs(d - 10 * NM).max() < 0.01
        mid = (xy[:-1] + xy[1:]) / 2
        _, _, dm = GEOD.inv(np.full(len(mid), 8.0), np.full(len(mid), 46.0), mid[:, 0], mid[:, 1])
        assert np.abs(dm - 10 * NM).max() <= 10.0


def test_db_arc(arcs):
    g = arcs[0]["TEST-DB"].geometry
    coords = list(g.exterior.coords)
    start, end = (9.0, 47 + 5 / 60), (9 + 7 / 60 + 20 / 3600, 47.0)
    assert start in coords and end in coords
    assert len(coords) > 10  # the arc is densified
    c = (47.0, 9.0)
    assert g.contains(_at(*c, 45, 4.5))  # clockwise from north to east
    assert not g.contains(_at(*c, 225, 1))


def test_latin1_file(test_data):
    zones, _ = read(test_data / "zones" / "latin1.txt")
    assert [z.name for z in zones] == ["ED-R MÜLLHEIM ÄRGER"]
    assert zones[0].id == "ED-R-MULLHEIM-ARGER"
    assert zones[0].properties["line"] == 2


def test_gzipped_openair(tmp_path, test_data):
    p = tmp_path / "arcs.openair.gz"
    p.write_bytes(gzip.compress((test_data / "zones" / "arcs.txt").read_bytes()))
    zones, _ = read(p)
    assert len(zones) == 5


# ---------------------------------------------------------------- limits


@pytest.mark.parametrize(
    "text, expected",
    [
        ("GND", SFC),
        ("SFC", SFC),
        ("0", SFC),
        ("UNL", UNL),
        ("UNLIM", UNL),
        ("unlimited", UNL),
        ("FL95", Limit(9500, "FL")),
        ("FL 95", Limit(9500, "FL")),
        ("FL095", Limit(9500, "FL")),
        ("2500ft", Limit(2500, "MSL")),
        ("2500 ft", Limit(2500, "MSL")),
        ("2500 ft MSL", Limit(2500, "MSL")),
        ("2500ft AMSL", Limit(2500, "MSL")),
        ("2500 FT ASL", Limit(2500, "MSL")),
        ("3000 MSL", Limit(3000, "MSL")),
        ("1000ft AGL", Limit(1000, "AGL")),
        ("1000ft GND", Limit(1000, "AGL")),
        ("1000 ft SFC", Limit(1000, "AGL")),
        ("1500 AGL", Limit(1500, "AGL")),
        ("0 ft AGL", SFC),
        ("6500 ft STD", Limit(6500, "FL")),
        ("1200 m", Limit(1200 / 0.3048, "MSL", "1200 m")),
        ("300m AGL", Limit(300 / 0.3048, "AGL", "300m AGL")),
    ],
)
def test_parse_limit(text, expected):
    got = parse_limit(text)
    assert got.ref == expected.ref
    assert got.ft == pytest.approx(expected.ft)
    assert got.text == expected.text


@pytest.mark.parametrize("text", ["", "FL9x", "2500", "2500 furlongs", "1000 ft ABOVE", "FLUNL", "NOTAM"])
def test_parse_limit_rejects(text):
    with pytest.raises(LimitError):
        parse_limit(text)


def test_str_of_limits():
    assert str(parse_limit("FL95")) == "FL95"
    assert str(parse_limit("2500ft AMSL")) == "2500 ft MSL"
    assert str(parse_limit("1000ft GND")) == "1000 ft AGL"


# ---------------------------------------------------------------- errors

GOOD = """AC R
AN GOOD ONE
AL GND
AH FL95
DP 46:00:00 N 008:00:00 E
DP 46:10:00 N 008:00:00 E
DP 46:10:00 N 008:10:00 E
"""


def write(tmp_path, text, name="bad.txt", encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


@pytest.mark.parametrize(
    "record, line, field, words",
    [
        ("AC R\nAN X\nAL GND\nAH FL9x\nDP 46:00:00 N 008:00:00 E\n", 12, "AH", "FL9x"),
        ("AC R\nAN X\nAL 2500\nAH FL95\nDP 46:00:00 N 008:00:00 E\n", 11, "AL", "no unit"),
        ("AC R\nAN X\nAL GND\nAH FL95\nDP 46:00:00 N 008:00:XX E\n", 13, "DP", "invalid coordinate"),
        ("AC R\nAN X\nAL GND\nAH FL95\nDA 10,0\n", 13, "DA", "cannot parse"),
        ("AC R\nAN X\nAL GND\nAH FL95\nXY 1\n", 13, "XY", "unknown record type"),
        ("AC \nAN X\nAL GND\nAH FL95\n", 9, "AC", "class"),
        ("AC R\nAN X\nAL GND\nDP 46:00:00 N 008:00:00 E\nDP 46:00:00 N 008:01:00 E\nDP 46:01:00 N 008:00:00 E\n", 9, "AH", "without AH"),
        ("AC R\nAL GND\nAH FL95\nDP 46:00:00 N 008:00:00 E\nDP 46:00:00 N 008:01:00 E\nDP 46:01:00 N 008:00:00 E\n", 9, "AN", "name"),
        ("AC R\nAN X\nAL GND\nAH FL95\n", 9, None, "no geometry"),
        ("AC R\nAN X\nAL FL100\nAH FL95\nDP 46:00:00 N 008:00:00 E\nDP 46:00:00 N 008:01:00 E\nDP 46:01:00 N 008:00:00 E\n", 12, "AH", "not above"),
        ("AC R\nAN X\nAL GND\nAH FL95\nV X=46:00:00 N 008:00:00 E\nDC 1\nDP 46:00:00 N 008:00:00 E\n", 14, "DC", "circle"),
    ],
)
def test_broken_records(tmp_path, record, line, field, words):
    p = write(tmp_path, GOOD + "\n" + record)
    with pytest.raises(ZoneFormatError) as e:
        read_zones(str(p))
    err = e.value
    assert err.source == str(p)
    assert err.line == line
    assert err.field == field
    assert words in str(err)
    assert str(err).startswith(f"{p}:{line}: ")


def test_arc_without_centre(tmp_path):
    p = write(tmp_path, "AC R\nAN X\nAL GND\nAH FL95\nDP 46:00:00 N 008:00:00 E\nDB 46:00:00 N 008:00:00 E, 46:01:00 N 008:01:00 E\n")
    with pytest.raises(ZoneFormatError) as e:
        read_zones(str(p))
    assert e.value.line == 6 and "centre" in str(e.value)


def test_line_before_first_ac(tmp_path):
    p = write(tmp_path, "* header\nAN ORPHAN\n" + GOOD)
    with pytest.raises(ZoneFormatError) as e:
        read_zones(str(p))
    assert e.value.line == 2 and "before the first AC" in str(e.value)


def test_two_point_record_is_skipped_with_warning(tmp_path):
    p = write(tmp_path, GOOD + "AC Q\nAN CABLE\nAL GND\nAH 500ft AGL\nDP 46:00:00 N 008:00:00 E\nDP 46:00:10 N 008:00:10 E\n")
    zones, warnings = read(p)
    assert [z.name for z in zones] == ["GOOD ONE"]
    assert len(warnings) == 1 and "1 of 2 airspace records skipped" in warnings[0] and "line 8" in warnings[0]


def test_self_intersecting_record_repaired_with_warning(tmp_path):
    bowtie = "AC R\nAN BOW TIE\nAL GND\nAH FL95\nDP 46:00:00 N 008:00:00 E\nDP 46:10:00 N 008:10:00 E\nDP 46:10:00 N 008:00:00 E\nDP 46:00:00 N 008:10:00 E\n"
    p = write(tmp_path, bowtie)
    zones, warnings = read(p)
    assert zones[0].geometry.is_valid and zones[0].geometry.area > 0
    assert len(warnings) == 1 and "'BOW-TIE'" in warnings[0] and "repaired" in warnings[0] and str(p) in warnings[0]


def test_antimeridian_points_are_unwrapped(tmp_path):
    p = write(tmp_path, "AC R\nAN DATELINE\nAL GND\nAH FL95\nDP 17:00:00 S 179:30:00 E\nDP 17:00:00 S 179:30:00 W\nDP 16:00:00 S 179:30:00 W\nDP 16:00:00 S 179:30:00 E\n")
    (z,), _ = read(p)
    minx, _, maxx, _ = z.geometry.bounds
    assert (minx, maxx) == (179.5, 180.5)
