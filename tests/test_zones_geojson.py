"""GeoJSON zone files."""

from __future__ import annotations

import gzip
import json

import pytest
from shapely import Point

from skyfence._errors import ZoneFormatError
from skyfence.zones import SFC, UNL, Limit, read_zones


def read(path):
    warnings = []
    zones = read_zones(str(path), warn=warnings.append)
    return zones, warnings


@pytest.fixture(scope="module")
def fixture(test_data):
    zones, warnings = read(test_data / "zones" / "zones.geojson")
    return {z.id: z for z in zones}, warnings


def test_fixture_reads(fixture, test_data):
    zones, warnings = fixture
    assert warnings == []
    assert list(zones) == ["from-member", "agl-m", "strings", "sfc-datum", "no-limits", "hole", "multi", "antimeridian"]
    assert all(z.source == str(test_data / "zones" / "zones.geojson") for z in zones.values())


@pytest.mark.parametrize(
    "zid, lower, upper",
    [
        ("from-member", Limit(2500, "MSL"), Limit(9500, "FL")),
        ("agl-m", Limit(150 / 0.3048, "AGL", "150 m AGL"), Limit(6500, "FL")),
        ("strings", SFC, Limit(2500, "MSL")),
        ("sfc-datum", SFC, UNL),
        ("no-limits", SFC, UNL),
        ("hole", Limit(9500, "FL"), Limit(1000, "AGL")),
        ("multi", SFC, Limit(2500, "MSL")),
    ],
)
def test_limits(fixture, zid, lower, upper):
    z = fixture[0][zid]
    for got, want in ((z.lower, lower), (z.upper, upper)):
        assert got.ref == want.ref
        assert got.ft == pytest.approx(want.ft)
        assert got.text == want.text


def test_names_kinds_properties(fixture):
    zones = fixture[0]
    z = zones["from-member"]
    assert (z.name, z.kind) == ("Object limits, ft MSL", "R")
    assert z.properties == {"operator": "test", "feature": 0}
    assert zones["no-limits"].kind == "geofence"
    assert not zones["no-limits"].has_vertical_limits
    assert zones["multi"].kind == "P"


def test_hole_and_multipolygon_kept(fixture):
    zones = fixture[0]
    hole = zones["hole"].geometry
    assert len(hole.interiors) == 1
    assert hole.contains(Point(0.2, 0.2)) and not hole.contains(Point(0.5, 0.5))
    multi = zones["multi"].geometry
    assert multi.geom_type == "MultiPolygon" and len(multi.geoms) == 2
    assert multi.contains(Point(10.05, 10.05)) and multi.contains(Point(11.05, 10.05))
    assert not multi.contains(Point(10.5, 10.05))


def test_antimeridian_longitudes_kept(fixture):
    g = fixture[0]["antimeridian"].geometry
    assert g.bounds == (179.5, -17.0, 180.5, -16.0)


def feature(geometry=None, **props):
    return {
        "type": "Feature",
        "properties": props,
        "geometry": geometry or {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
    }


def write(tmp_path, *features, name="z.geojson", gz=False):
    text = json.dumps({"type": "FeatureCollection", "features": list(features)})
    p = tmp_path / name
    p.write_bytes(gzip.compress(text.encode()) if gz else text.encode())
    return p


def error(path):
    with pytest.raises(ZoneFormatError) as e:
        read_zones(str(path))
    assert e.value.source == str(path)
    assert str(e.value).startswith(f"{path}: ")
    return e.value


@pytest.mark.parametrize(
    "props, field, words",
    [
        ({"lower": "FL9x"}, "features[1].properties.lower", "FL9x"),
        ({"upper": 2500}, "features[1].properties.upper", "expected a string"),
        ({"upper": {"value": 25, "unit": "furlong"}}, "features[1].properties.upper", "unknown unit"),
        ({"upper": {"value": "high"}}, "features[1].properties.upper", "finite number"),
        ({"upper": {"value": 1000, "datum": "XYZ"}}, "features[1].properties.upper", "unknown datum"),
        ({"upper": {"value": 1000, "height": 3}}, "features[1].properties.upper", "unknown key"),
        ({"lower": "FL100", "upper": "FL95"}, "features[1].properties", "not above"),
    ],
)
def test_bad_limits(tmp_path, props, field, words):
    p = write(tmp_path, feature(id="ok"), feature(id="bad", **props))
    err = error(p)
    assert err.field == field
    assert words in str(err)
    assert "feature 1 (zone 'bad')" in str(err)


@pytest.mark.parametrize(
    "geometry, field, words",
    [
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]}, "features[1].geometry.coordinates[0]", "3 distinct points"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 1], [0, 0]]]}, "features[1].geometry.coordinates[0]", "has 2"),
        ({"type": "Polygon", "coordinates": [[[0, 0], ["1", 0], [1, 1], [0, 0]]]}, "features[1].geometry.coordinates[0]", "non-numeric"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [True, 0], [1, 1], [0, 0]]]}, "features[1].geometry.coordinates[0]", "non-numeric"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1], [1, 1], [0, 0]]]}, "features[1].geometry.coordinates[0]", "position 1"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 95], [1, 1], [0, 0]]]}, "features[1].geometry.coordinates[0]", "latitude 95"),
        (
            {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 0]]], [[[5, 5], [6, 6], [5, 5]]]]},
            "features[1].geometry.coordinates[1][0]",
            "3 distinct points",
        ),
        ({"type": "Point", "coordinates": [0, 0]}, "features[1].geometry", "'Point' is not a zone"),
        ({"type": "Polygon", "coordinates": []}, "features[1].geometry", "without coordinates"),
    ],
)
def test_broken_polygons(tmp_path, geometry, field, words):
    p = write(tmp_path, feature(id="ok"), feature(geometry, id="bad"))
    err = error(p)
    assert err.field == field
    assert words in str(err)
    assert "feature 1 (zone 'bad')" in str(err)


def test_null_geometry(tmp_path):
    f = feature(id="bad")
    f["geometry"] = None
    err = error(write(tmp_path, f))
    assert err.field == "features[0].geometry" and "no geometry" in str(err)


def test_self_intersection_repaired_with_warning(tmp_path):
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    p = write(tmp_path, feature(bowtie, id="bow"))
    (z,), warnings = read(p)
    assert z.geometry.is_valid and z.geometry.area == pytest.approx(0.5)
    assert len(warnings) == 1
    assert str(p) in warnings[0] and "zone 'bow'" in warnings[0] and "repaired" in warnings[0]


def test_collinear_polygon_is_an_error(tmp_path):
    flat = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [2, 0], [0, 0]]]}
    err = error(write(tmp_path, feature(flat, id="flat")))
    assert "zone 'flat'" in str(err) and "cannot be repaired" in str(err)
    assert err.field == "features[0].geometry"


def test_ids(tmp_path):
    p = write(
        tmp_path,
        feature(name="Zürich CTR"),
        feature(),
        feature(id="A"),
        feature(id="A"),
    )
    zones, warnings = read(p)
    assert [z.id for z in zones] == ["Zurich-CTR", "feature-2", "A", "A-2"]
    assert [z.name for z in zones] == ["Zürich CTR", "feature-2", "A", "A-2"]
    assert len(warnings) == 1 and "'A' already used" in warnings[0]


def test_single_feature_and_gzip(tmp_path):
    p = tmp_path / "one.json.gz"
    p.write_bytes(gzip.compress(json.dumps(feature(id="solo", upper="FL100")).encode()))
    (z,), _ = read(p)
    assert z.id == "solo" and z.upper == Limit(10000, "FL")


def test_empty_collection(tmp_path):
    err = error(write(tmp_path))
    assert "no features" in str(err)
