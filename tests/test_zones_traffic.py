"""traffic's airspace JSON and EUROCONTROL FIR GeoJSON."""

from __future__ import annotations

import gzip
import json

import pytest
from shapely import Point

from skyfence._errors import ZoneFormatError
from skyfence.zones import SFC, UNL, Limit, read_zones


def test_lfbotma_layers(shared_data):
    path = shared_data / "airspaces" / "LFBOTMA.json"
    zones = read_zones(str(path))
    assert [z.id for z in zones] == ["SIV-TOULOUSE-1", "SIV-TOULOUSE-2", "SIV-TOULOUSE-3"]
    assert all(z.name == "SIV TOULOUSE" and z.kind == "AUA" for z in zones)
    # traffic's lower/upper are flight levels
    assert [(z.lower, z.upper) for z in zones] == [
        (SFC, Limit(6500, "FL")),
        (Limit(6500, "FL"), Limit(11500, "FL")),
        (Limit(11500, "FL"), Limit(14500, "FL")),
    ]
    assert [z.properties["layer"] for z in zones] == [1, 2, 3]
    assert all(z.geometry.is_valid for z in zones)
    assert zones[0].geometry.contains(Point(1.44, 43.6))  # Toulouse


def test_eurofirs(shared_data):
    path = shared_data / "airspaces" / "eurofirs.json.gz"
    zones = {z.id: z for z in read_zones(str(path))}
    assert len(zones) == 58
    assert all(z.kind == "FIR" for z in zones.values())
    ebbu = zones["EBBU"]
    assert ebbu.name == "BRUSSELS FIR"
    assert (ebbu.lower, ebbu.upper) == (SFC, Limit(19500, "FL"))
    assert zones["LTAA"].upper == UNL  # FL999: unlimited
    assert zones["UKBV"].lower == SFC  # 0 M
    assert zones["UDDD"].lower == Limit(11500, "MSL")
    assert zones["EGGX"].upper == Limit(5500, "FL")
    assert zones["EBBU"].properties["ICAO"] == "EB"
    assert zones["LSAS"].geometry.contains(Point(7.45, 46.95))  # Bern
    assert all(z.geometry.is_valid for z in zones.values())


def traffic_file(tmp_path, shapes, **extra):
    p = tmp_path / "a.json"
    p.write_text(json.dumps({"name": "TEST AREA", "type": "TSA", "shapes": shapes, **extra}))
    return p


SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}


def test_traffic_open_limits(tmp_path):
    p = traffic_file(
        tmp_path,
        [
            {"lower": None, "upper": None, "polygon": SQUARE},
            {"lower": -1, "upper": 999, "polygon": SQUARE},
            {"lower": 95, "upper": 245.5, "polygon": SQUARE},
        ],
        designator="LXTEST",
    )
    zones = read_zones(str(p))
    assert [(z.lower, z.upper) for z in zones] == [(SFC, UNL), (SFC, UNL), (Limit(9500, "FL"), Limit(24550, "FL"))]
    assert zones[0].properties["designator"] == "LXTEST"


@pytest.mark.parametrize(
    "shape, field, words",
    [
        ({"lower": 0, "upper": "high", "polygon": SQUARE}, "shapes[1].upper", "flight level"),
        ({"lower": 100, "upper": 50, "polygon": SQUARE}, "shapes[1]", "not above"),
        ({"lower": 0, "upper": 50, "polygon": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]}}, "shapes[1].polygon.coordinates[0]", "3 distinct"),
        ({"lower": 0, "upper": 50}, "shapes[1].polygon", "no geometry"),
    ],
)
def test_traffic_errors(tmp_path, shape, field, words):
    p = traffic_file(tmp_path, [{"lower": 0, "upper": 50, "polygon": SQUARE}, shape])
    with pytest.raises(ZoneFormatError) as e:
        read_zones(str(p))
    assert e.value.source == str(p) and e.value.field == field
    assert words in str(e.value) and "layer 2 (zone 'TEST-AREA-2')" in str(e.value)


def test_eurocontrol_errors(tmp_path):
    f = {
        "type": "Feature",
        "properties": {"IDENT": "XXXX", "NAME": "X FIR", "TYPE": "FIR", "LOWERLIMIT": "0", "LOWERUNIT": "FT",
                       "UPPERLIMIT": "195", "UPPERUNIT": "KM"},
        "geometry": SQUARE,
    }
    p = tmp_path / "firs.json.gz"
    p.write_bytes(gzip.compress(json.dumps({"type": "FeatureCollection", "features": [f]}).encode()))
    with pytest.raises(ZoneFormatError) as e:
        read_zones(str(p))
    assert e.value.field == "features[0].properties.UPPERLIMIT" and "'KM'" in str(e.value)
