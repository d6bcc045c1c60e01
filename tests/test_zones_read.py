"""read_zones: dispatch, compression, unreadable and unknown inputs, laziness."""

from __future__ import annotations

import gzip
import subprocess
import sys

import pytest

from skyfence._errors import ZoneFormatError
from skyfence.zones import read_zones


def error(spec):
    with pytest.raises(ZoneFormatError) as e:
        read_zones(str(spec))
    assert "\n" not in str(e.value)
    return e.value


def test_missing_file(tmp_path):
    p = tmp_path / "nope.geojson"
    err = error(p)
    assert err.source == str(p) and "no such zone file" in str(err)


def test_directory(tmp_path):
    assert "directory" in str(error(tmp_path))


@pytest.mark.parametrize("content", [b"", b"   \n\n", b"\xef\xbb\xbf\n", gzip.compress(b"")])
def test_empty_file(tmp_path, content):
    p = tmp_path / "empty.txt"
    p.write_bytes(content)
    err = error(p)
    assert err.source == str(p) and "empty file" in str(err)
    assert "GeoJSON" in str(err) and "OpenAir" in str(err)


@pytest.mark.parametrize(
    "content",
    [b"lat,lon\n1,2\n", b"just some text\nAC R\n", b'{"type": "Topology", "objects": {}}', b"[1, 2, 3]", b"\x1f\x8bnot gzip"],
)
def test_unknown_format_names_formats_tried(tmp_path, content):
    p = tmp_path / "zones.dat"
    p.write_bytes(content)
    err = error(p)
    assert err.source == str(p)
    msg = str(err)
    if content.startswith(b"\x1f\x8b"):
        assert "gzip" in msg
    else:
        assert "unknown zone format" in msg
        for fmt in ("GeoJSON", "traffic airspace JSON", "EUROCONTROL", "OpenAir"):
            assert fmt in msg


def test_invalid_json_line(tmp_path):
    p = tmp_path / "z.geojson"
    p.write_text('\n{"type": "FeatureCollection",\n "features": [,]}\n')
    err = error(p)
    assert err.line == 3 and "invalid JSON" in str(err)
    assert str(err).startswith(f"{p}:3: ")


def test_format_told_by_content_not_name(tmp_path, test_data):
    p = tmp_path / "airspace.json"  # OpenAir despite the name
    p.write_bytes((test_data / "zones" / "arcs.txt").read_bytes())
    assert len(read_zones(str(p))) == 5
    q = tmp_path / "zones.txt"
    q.write_bytes(gzip.compress((test_data / "zones" / "zones.geojson").read_bytes()))
    assert len(read_zones(str(q))) == 8


def test_default_warn_prints_to_stderr(tmp_path, capsys):
    p = tmp_path / "bow.geojson"
    p.write_text(
        '{"type": "Feature", "properties": {"id": "bow"}, "geometry": {"type": "Polygon", '
        '"coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}}'
    )
    (z,) = read_zones(str(p))
    err = capsys.readouterr().err
    assert "zone 'bow'" in err and "repaired" in err
    assert z.geometry.is_valid


def test_path_objects(test_data):
    assert len(read_zones(test_data / "zones" / "arcs.txt")) == 5


def test_world_spec_is_not_a_file():
    assert len(read_zones(" World:che ")) == 1
    assert "no such zone file" in str(error("worlds"))


def test_import_is_light():
    code = (
        "import sys, skyfence.zones as z; "
        "heavy = [m for m in ('skyfence.zones._world', 'skyfence.zones._openair', 'aerofiles') "
        "if m in sys.modules]; print(heavy); assert not heavy; "
        "assert callable(z.read_zones) and z.SFC.ref == 'SFC'"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
