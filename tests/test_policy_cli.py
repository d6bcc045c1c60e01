"""``skyfence detect --policy`` through the CLI, in every output format.

Two aircraft near the Turkish-Syrian border (24 November 2015, 07:20 UTC):
``15e241`` (a Russian address) flies south out of Turkey into Syria through the
15 NM ring along the border: a breach of ``TUR``, warnings in the ring.
``4b8001`` (Turkish) flies east at 37.8 N, its reported position jumps 255 km
south into Syria for 100 s while it reports 450 kt east, and jumps back: its
``SYR`` episode rests on impossible fixes, so it is ``untrusted-data``.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from skyfence.cli import main

T0 = 1448349600  # 2015-11-24T07:20:00Z

POLICY = """\
[[zones]]
name = "Turkey"
match = ["TUR"]

[[zones.ring]]
distance = "15 NM"
along = ["SYR"]

[[zones]]
name = "Syria"
match = ["SYR"]
"""


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("policy_cli")
    lines = ["icao24,time,lat,lon,alt_baro_ft,groundspeed_kt,track_deg,callsign"]
    for k in range(18):  # 0.05 deg of latitude per 30 s: about 360 kt due south
        lines.append(f"15e241,{T0 + 30 * k},{37.0 - 0.05 * k:.2f},37.5,30000,360,180,RFF123")
    for k, t in enumerate(range(0, 600, 5)):
        lat, lon = (35.5, 38.0 + 0.002 * 200) if 40 <= k < 60 else (37.8, 38.0 + 0.002 * t)
        lines.append(f"4b8001,{T0 + t},{lat},{lon:.4f},30000,450,90,THY1")
    (d / "tracks.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (d / "policy.toml").write_text(POLICY, encoding="utf-8")
    return d


def _read(path: Path, fmt: str) -> list[dict]:
    if fmt == "jsonl":
        return [json.loads(x) for x in path.read_text().splitlines()]
    if fmt == "csv":
        with open(path, newline="") as fh:
            return list(csv.DictReader(fh))
    if fmt == "geojson":
        return [f["properties"] | {"_geometry": f["geometry"]} for f in json.loads(path.read_text())["features"]]
    return pq.read_table(path).to_pylist()


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "geojson", "parquet"])
def test_verdicts_incidents_and_warnings_in_every_format(inputs: Path, tmp_path: Path, capsys, fmt: str) -> None:
    out, inc, warn = (tmp_path / f"{n}.{fmt}" for n in ("episodes", "incidents", "warnings"))
    args = ["detect", str(inputs / "tracks.csv"), "--zones", "world:TUR,SYR", "--policy", str(inputs / "policy.toml"),
            "--format", fmt, "-o", str(out), "--incidents", str(inc), "--warnings", str(warn)]  # fmt: skip
    assert main(args) == 0
    err = capsys.readouterr().err
    m = re.search(r"verdicts: (.*); (\d+) incidents; (\d+) warnings$", err.strip())
    assert m, err
    episodes, incidents, warnings = _read(out, fmt), _read(inc, fmt), _read(warn, fmt)
    assert (len(incidents), len(warnings)) == (int(m.group(2)), int(m.group(3)))
    got = {(r["icao24"], r["zone"]): r for r in episodes}
    tur = got[("15e241", "TUR")]
    assert (tur["verdict"], tur["rule"], tur["registry_state"]) == ("breach", "Turkey: not authorised", "RUS")
    assert got[("15e241", "TUR~15NM")]["verdict"] == "warning"
    spoof = got[("4b8001", "SYR")]
    assert (spoof["integrity"], spoof["verdict"]) == ("suspect", "untrusted-data")
    assert spoof["rule"] == f"integrity: {spoof['integrity_reasons']}" and "speed" in spoof["integrity_reasons"]
    assert not spoof["incident_id"], "untrusted data never makes an incident"
    assert [i["incident_id"] for i in incidents if i["icao24"] == "15e241" and i["zones"] == "TUR"] == [tur["incident_id"]]
    # warnings: from the ring entry, every 30 s, positions on the path (due south along 37.5 E)
    ring = [w for w in warnings if w["ring"] == "TUR~15NM"]
    assert len(ring) >= 5 and all(w["icao24"] == "15e241" for w in ring)
    assert [int(w["seq"]) for w in ring] == list(range(1, len(ring) + 1))
    assert all(float(w["lon"]) == pytest.approx(37.5, abs=1e-7) for w in ring)
    entry = got[("15e241", "TUR~15NM")]
    assert float(ring[0]["lat"]) == pytest.approx(float(entry["entry_lat"]), abs=1e-7), "the first is at the entry"
    lats = [float(w["lat"]) for w in ring]
    assert np.diff(lats) == pytest.approx(-0.05, abs=1e-6), "30 s apart on the path: 0.05 deg of latitude"
    if fmt == "geojson":
        assert ring[0]["_geometry"] == {"type": "Point", "coordinates": [37.5, ring[0]["lat"], 30000.0]}
        assert tur["_geometry"]["type"] == "LineString"


def test_table_on_a_terminal(inputs: Path) -> None:
    """No --format, no -o, stdout a terminal: the verdict table (the real console script on a pty)."""
    import os
    import subprocess
    import sys

    exe = Path(sys.executable).with_name("skyfence")
    master, slave = os.openpty()
    try:
        p = subprocess.run([str(exe), "detect", str(inputs / "tracks.csv"), "--zones", "world:TUR,SYR",
                            "--policy", str(inputs / "policy.toml"), "-q"],
                           stdout=slave, stderr=subprocess.PIPE, text=True, timeout=300)  # fmt: skip
        os.close(slave)
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
    assert p.returncode == 0 and p.stderr == ""
    lines = out.decode().splitlines()
    assert lines[0].split() == ["icao24", "callsign", "zone", "entry", "(UTC)", "dur", "s", "depth", "m", "verdict",
                                "severity", "incident", "rule"]  # fmt: skip
    tur = next(x for x in lines if x.startswith("15e241") and x.split()[2] == "TUR")
    assert tur.split()[6:9] == ["breach", "low", "15e241-20151124T072000-z1"] and tur.endswith("Turkey: not authorised")
    syr = next(x for x in lines if x.startswith("4b8001") and x.split()[2] == "SYR")
    assert syr.split()[6:9] == ["untrusted-data", "low", "-"] and "integrity: " in syr
