"""Policies: every rule kind on hand-computed synthetic cases.

Zones are 1 deg boxes near the equator, aircraft fly due east along a parallel
at a constant 0.002 deg/s (about 220 m/s), so entry and exit times are
``(lon_edge - lon0) / v``.  Identities come from the real identity layer:
``4b8xxx`` Turkey, ``39a001`` France (category unknown), ``ae0455`` United
States military (military address block), ``f00001`` unassigned (state unknown).
"""

from __future__ import annotations

from datetime import datetime, timezone

import tomllib

import numpy as np
import pyarrow as pa
import pyproj
import pytest
import shapely
from shapely.geometry import box

import skyfence
from skyfence import detect, judge
from skyfence._tracks import Tracks
from skyfence.policy import parse_policy
from skyfence.policy._lines import key_lines
from skyfence.policy._schedule import Active
from skyfence.zones._model import Zone

GEOD = pyproj.Geod(ellps="WGS84")
T0 = datetime(2024, 1, 1, tzinfo=timezone.utc).timestamp()  # a Monday, 00:00 UTC
V = 0.002  # deg/s


def zone(zid: str, lon0: float, kind: str = "R", props: dict | None = None) -> Zone:
    return Zone(id=zid, name=zid, kind=kind, geometry=box(lon0, 0.0, lon0 + 1.0, 1.0), properties=props or {})


BOX = zone("BOX", 0.0)
BOX2 = zone("BOX2", 2.0)


def fly(*aircraft: tuple[str, str | None], lon0: float = -0.2, lat: float = 0.5, t0: float = T0,
        seconds: int = 2000, step: float = 10.0) -> Tracks:  # fmt: skip
    """Each aircraft flies east from (lon0, lat) at V from t0, one fix per ``step`` s."""
    t = t0 + np.arange(0.0, seconds + step, step)
    n = len(t)
    names = tuple(cs for _, cs in aircraft if cs)
    cols = {k: [] for k in ("icao24", "time", "lat", "lon", "callsign")}
    for hexid, cs in aircraft:
        cols["icao24"].append(np.full(n, int(hexid, 16), np.uint32))
        cols["time"].append(t)
        cols["lat"].append(np.full(n, lat))
        cols["lon"].append(lon0 + V * (t - t0))
        cols["callsign"].append(np.full(n, names.index(cs) if cs else -1, np.int32))
    c = {k: np.concatenate(v) for k, v in cols.items()}
    return Tracks.from_columns(icao24=c["icao24"], time=c["time"], lat=c["lat"], lon=c["lon"],
                               alt_baro_ft=np.full(len(c["time"]), 20000.0), callsign=c["callsign"],
                               callsigns=names)  # fmt: skip


def run(policy_text: str, tracks: Tracks, zones=(BOX,)):
    policy = parse_policy(policy_text, source="p.toml")
    zones = list(zones)
    episodes = detect(tracks, zones + policy.rings(zones))
    return judge(episodes, policy, zones=zones, tracks=tracks)


def rows(j, zone_id: str = "BOX") -> dict[str, dict]:
    return {r["icao24"]: r for r in j.episodes.to_pylist() if r["zone"] == zone_id}


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(T0 + seconds, timezone.utc)


BASE = '[policy]\nowner = "CHE"\n\n[[zones]]\nname = "box"\nmatch = ["BOX"]\n'
# inside BOX from lon 0 to lon 1: t = 0.2 / V = 100 s to 1.2 / V = 600 s after T0


# --------------------------------------------------------------------------- authorisation


def test_plain_breach_times_and_identity_columns() -> None:
    j = run(BASE, fly(("39a001", "AFR1")))
    r = rows(j)["39a001"]
    assert r["entry_time"].timestamp() == pytest.approx(T0 + 100, abs=1e-3)
    assert r["exit_time"].timestamp() == pytest.approx(T0 + 600, abs=1e-3)
    assert (r["verdict"], r["rule"]) == ("breach", "box: not authorised")
    assert (r["registry_state"], r["category"], r["identity_source"]) == ("FRA", "unknown", "block")
    assert r["judged_s"] == pytest.approx(500, abs=1e-3) and r["cleared_s"] == 0
    assert r["judged_from"] == r["entry_time"]
    # default severity rules: FRA registered, category unknown -> the last, "civil without clearance"
    assert (r["severity"], r["severity_rank"]) == ("low", 4)


@pytest.mark.parametrize(
    ("authorised", "ok", "rule"),
    [
        ('states = ["TUR"]', "4b8001", "box: authorised.states"),
        ('categories = ["military"]', "ae0455", "box: authorised.categories"),
        ('icao24 = ["39A001"]', "39a001", "box: authorised.icao24"),
        ("callsigns = ['^THY[0-9]+$']", "4b8001", "box: authorised.callsigns"),
        ("callsigns = ['^thy[0-9]+$']", "4b8001", "box: authorised.callsigns"),  # case ignored
    ],
)
def test_authorised_by_each_list(authorised: str, ok: str, rule: str) -> None:
    text = BASE + "[zones.authorised]\n" + authorised + "\n"
    aircraft = [("4b8001", "thy123"), ("ae0455", "RCH123"), ("39a001", "AFR1"), ("4b8002", "THY12X")]
    got = rows(run(text, fly(*aircraft)))
    for hexid, _ in aircraft:
        expect = "authorised" if hexid == ok else "breach"
        if authorised.startswith("states") and hexid == "4b8002":
            expect = "authorised"  # also Turkish
        assert got[hexid]["verdict"] == expect, (hexid, got[hexid]["rule"])
    assert got[ok]["rule"] == rule
    assert got[ok]["severity"] is None and got[ok]["incident_id"] is None


CLEAR = """
[[clearance]]
id = "DIP-1"
callsigns = ["afr1"]
zones = ["BOX"]
from = {a}
until = {b}
"""


def _iso(s: float) -> str:
    return at(s).isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("a", "b", "verdict", "cleared"),
    [
        (0, 1000, "authorised", 500),   # covers the whole episode (100-600 s)
        (100, 600, "authorised", 500),  # exactly
        (0, 400, "breach", 300),        # expires inside: 200 s judged
        (700, 900, "breach", 0),        # after the episode
        (-500, 50, "breach", 0),        # before it
    ],
)  # fmt: skip
def test_clearance_inside_and_outside_its_window(a: float, b: float, verdict: str, cleared: float) -> None:
    j = run(BASE + CLEAR.format(a=_iso(a), b=_iso(b)), fly(("39a001", "AFR1"), ("39a002", "AFR2")))
    r = rows(j)
    assert r["39a001"]["verdict"] == verdict
    assert r["39a001"]["cleared_s"] == pytest.approx(cleared, abs=1e-3)
    assert r["39a001"]["judged_s"] == pytest.approx(500 - cleared, abs=1e-3)
    if verdict == "authorised":
        assert r["39a001"]["rule"] == "clearance DIP-1"
    elif cleared:
        assert r["39a001"]["rule"] == "box: not authorised; partly cleared by DIP-1"
    assert r["39a002"]["verdict"] == "breach" and r["39a002"]["cleared_s"] == 0  # another callsign


def _one_fix(seconds: float) -> Tracks:
    """A track of one fix inside BOX: a zero-length episode at T0 + seconds."""
    return Tracks.from_columns(icao24=np.array([0x39A001], np.uint32), time=np.array([T0 + seconds]),
                               lat=np.array([0.5]), lon=np.array([0.5]), alt_baro_ft=np.array([20000.0]),
                               callsign=np.array([0], np.int32), callsigns=("AFR1",))  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "verdict", "rule", "judged"),
    [
        (CLEAR.format(a=_iso(0), b=_iso(100)), "breach", "box: not authorised", 500),  # ends at the entry
        (CLEAR.format(a=_iso(600), b=_iso(900)), "breach", "box: not authorised", 500),  # starts at the exit
        (CLEAR.format(a=_iso(100), b=_iso(599)), "breach", "box: not authorised; partly cleared by DIP-1", 1),
        (f"schedule = [ {{ until = {_iso(100)} }} ]\n", "inactive", "box: outside its activation windows", 0),
        (f"schedule = [ {{ from = {_iso(600)} }} ]\n", "inactive", "box: outside its activation windows", 0),
        (f"schedule = [ {{ until = {_iso(101)} }} ]\n", "breach", "box: not authorised", 1),
    ],
)  # fmt: skip
def test_windows_touching_an_episode_at_its_ends(extra: str, verdict: str, rule: str, judged: float) -> None:
    """A clearance or activation window that meets the episode only at its entry or exit
    instant covers none of it (inside 00:01:40-00:10:00)."""
    r = rows(run(BASE + extra, fly(("39a001", "AFR1"))))["39a001"]
    assert (r["verdict"], r["rule"]) == (verdict, rule)
    assert r["judged_s"] == pytest.approx(judged, abs=1e-3)


def test_zero_length_episode_at_the_edges_of_windows() -> None:
    """One fix inside: schedules are closed intervals, clearances [from, until)."""
    for extra, verdict in [
        (f"schedule = [ {{ from = {_iso(300)} }} ]\n", "breach"),
        (f"schedule = [ {{ until = {_iso(300)} }} ]\n", "breach"),
        (f"schedule = [ {{ until = {_iso(299)} }} ]\n", "inactive"),
        (CLEAR.format(a=_iso(300), b=_iso(400)), "authorised"),
        (CLEAR.format(a=_iso(200), b=_iso(300)), "breach"),
    ]:
        (r,) = run(BASE + extra, _one_fix(300)).episodes.to_pylist()
        assert r["duration_s"] == 0 and r["verdict"] == verdict, (extra, r["verdict"], r["rule"])


# --------------------------------------------------------------------------- thresholds, incidents


def test_thresholds_duration_and_depth() -> None:
    # 500 s inside; depth: the centre of the crossing is 0.5 deg of latitude from the
    # north and south edges (55.3 km) and 0.5 deg of longitude from the others (55.7 km)
    depth = GEOD.inv(0.5, 0.5, 0.5, 0.0)[2]
    got = rows(run(BASE, fly(("39a001", None))))["39a001"]
    assert got["max_depth_m"] == pytest.approx(depth, abs=15)
    for extra, verdict, rule in [
        ("min_duration_s = 499\n", "breach", "box: not authorised"),
        ("min_duration_s = 501\n", "below-threshold", "box: min_duration_s = 501"),
        (f"min_depth_m = {depth - 50:.0f}\n", "breach", "box: not authorised"),
        (f"min_depth_m = {depth + 50:.0f}\n", "below-threshold", f"box: min_depth_m = {depth + 50:.0f}"),
    ]:
        r = rows(run(BASE + extra, fly(("39a001", None))))["39a001"]
        assert (r["verdict"], r["rule"]) == (verdict, rule), extra


def test_defaults_table_applies_to_every_zones_table() -> None:
    text = "[defaults]\nmin_duration_s = 501\n" + BASE
    assert rows(run(text, fly(("39a001", None))))["39a001"]["verdict"] == "below-threshold"


def test_incidents_merge_within_the_gap() -> None:
    # BOX: 100-600 s, BOX2 (lon 2-3): 1100-1600 s; 500 s between exit and next entry
    two = BASE.replace('match = ["BOX"]', 'match = ["BOX", "BOX2"]')
    tracks = fly(("39a001", None), ("4b8001", None))
    merged = run(two + "merge_gap_s = 501\n", tracks, zones=(BOX, BOX2))
    inc = merged.incidents.to_pylist()
    assert [(i["icao24"], i["n_episodes"]) for i in inc] == [("39a001", 2), ("4b8001", 2)]
    assert inc[0]["zones"] == "BOX,BOX2" and inc[0]["judged_s"] == pytest.approx(1000, abs=1e-3)
    assert inc[0]["first_entry"] == at(100) and inc[0]["last_exit"].timestamp() == pytest.approx(T0 + 1600, abs=1e-3)
    ids = {(r["icao24"], r["zone"]): r["incident_id"] for r in merged.episodes.to_pylist()}
    assert ids[("39a001", "BOX")] == ids[("39a001", "BOX2")] != ids[("4b8001", "BOX")]
    split = run(two + "merge_gap_s = 499\n", tracks, zones=(BOX, BOX2))
    assert [i["n_episodes"] for i in split.incidents.to_pylist()] == [1, 1, 1, 1]
    assert len({r["incident_id"] for r in split.episodes.to_pylist()}) == 4


def test_merge_gap_is_inclusive_at_its_edge() -> None:
    # BOX exit 600 s, BOX2 entry 1100 s: exactly 500 s apart merge under merge_gap_s = 500
    two = BASE.replace('match = ["BOX"]', 'match = ["BOX", "BOX2"]')
    for gap, n in (("500", [2]), ("499.999", [1, 1])):
        j = run(two + f"merge_gap_s = {gap}\n", fly(("39a001", None)), zones=(BOX, BOX2))
        assert [i["n_episodes"] for i in j.incidents.to_pylist()] == n, gap


def test_incident_ids_are_unique_within_a_second() -> None:
    # from lon 0.8: BOX2 (0.001 deg wide) from 100.0 to 100.5 s, BOX3 from 100.6 s; both
    # entries in the second 00:01:40, two incidents under merge_gap_s = 0.05
    box2 = Zone(id="BOX2", name="BOX2", kind="R", geometry=box(1.0, 0.0, 1.001, 1.0))
    box3 = Zone(id="BOX3", name="BOX3", kind="R", geometry=box(1.0012, 0.0, 2.0, 1.0))
    text = BASE.replace('match = ["BOX"]', 'match = ["BOX2", "BOX3"]') + "merge_gap_s = 0.05\n"
    j = run(text, fly(("39a001", None), lon0=0.8), zones=(box2, box3))
    ids = [i["incident_id"] for i in j.incidents.to_pylist()]
    assert ids == ["39a001-20240101T000140-z1", "39a001-20240101T000140-z1-2"]
    assert sorted({r["incident_id"] for r in j.episodes.to_pylist()}) == ids


def test_incidents_table_written_by_the_cli(tmp_path, capsys) -> None:
    from skyfence.cli import main

    csv = tmp_path / "t.csv"
    t = fly(("39a001", "AFR1"))
    lines = ["icao24,time,lat,lon,alt_baro_ft,callsign"]
    lines += [f"39a001,{a:.0f},{b},{c},20000,AFR1" for a, b, c in zip(t.time, t.lat, t.lon)]
    csv.write_text("\n".join(lines) + "\n")
    gj = tmp_path / "box.geojson"
    gj.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"BOX","kind":"R"},'
                  '"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}}]}')  # fmt: skip
    pol = tmp_path / "p.toml"
    pol.write_text(BASE)
    args = ["detect", str(csv), "--zones", str(gj), "--column", "time=time", "--time-unit", "s", "-q", "--format", "jsonl"]
    assert main(args + ["-o", str(tmp_path / "plain.jsonl")]) == 0
    assert main(args + ["-o", str(tmp_path / "e.jsonl"), "--policy", str(pol),
                        "--incidents", str(tmp_path / "i.csv")]) == 0  # fmt: skip
    import json

    plain = [json.loads(x) for x in (tmp_path / "plain.jsonl").read_text().splitlines()]
    judged = [json.loads(x) for x in (tmp_path / "e.jsonl").read_text().splitlines()]
    assert "verdict" not in plain[0]
    assert {k: judged[0][k] for k in plain[0]} == plain[0], "the episode columns are unchanged, columns only added"
    assert judged[0]["verdict"] == "breach" and judged[0]["incident_id"] == "39a001-20240101T000140-z1"
    head, row = (tmp_path / "i.csv").read_text().splitlines()[:2]
    assert head.startswith("incident_id,icao24,callsign,rule,zones,first_entry") and row.startswith("39a001-20240101T000140-z1,39a001,AFR1,box,BOX,")


# --------------------------------------------------------------------------- severity


def test_severity_order_first_match_wins() -> None:
    aircraft = [("ae0455", None), ("39a001", None), ("f00001", None), ("4b0001", None)]
    got = rows(run(BASE, fly(*aircraft)))
    # default order: foreign military > foreign state > unidentified > the rest
    assert got["ae0455"]["severity"] == "critical" and got["ae0455"]["severity_rule"] == "foreign military"
    assert got["f00001"]["severity"] == "medium" and got["f00001"]["severity_rule"] == "unidentified"
    assert got["39a001"]["severity"] == "low"
    assert got["4b0001"]["severity"] == "low"  # CHE registered, the owner: not foreign
    custom = BASE + """
[[severity]]
name = "anything"
level = "info"
[[severity]]
name = "foreign military"
level = "critical"
category = ["military"]
foreign = true
"""
    got = rows(run(custom, fly(*aircraft)))
    assert {r["severity"] for r in got.values()} == {"info"}, "the first rule matches everything"
    owned = BASE.replace('owner = "CHE"', 'owner = "USA"')
    got = rows(run(owned, fly(*aircraft)))
    assert got["ae0455"]["severity"] == "low", "own military is not foreign"
    # no owner for a restricted area: nobody is foreign there, and the judgement says so
    j = run(BASE.replace('owner = "CHE"\n', ""), fly(*aircraft))
    assert rows(j)["ae0455"]["severity"] == "low"
    assert j.notes == ("1 zone(s) without an owner state (BOX): no aircraft is foreign there; "
                       "give [policy] owner or the [[zones]] table's owner",)  # fmt: skip
    assert run(BASE, fly(*aircraft)).notes == ()


# --------------------------------------------------------------------------- schedules


def test_schedule_clips_the_episode() -> None:
    # inside 00:01:40-00:10:00 on Monday 2024-01-01
    text = BASE + 'schedule = [ { days = ["mon"], from = "00:05", until = "00:08" } ]\n'
    r = rows(run(text, fly(("39a001", None))))["39a001"]
    assert r["verdict"] == "breach"
    assert r["entry_time"] == at(100), "entry_time stays the physical entry"
    assert r["judged_from"] == at(300) and r["judged_s"] == pytest.approx(180, abs=1e-3)
    short = text + "min_duration_s = 200\n"
    assert rows(run(short, fly(("39a001", None))))["39a001"]["verdict"] == "below-threshold"
    tuesday = BASE + 'schedule = [ { days = ["tue"] } ]\n'
    r = rows(run(tuesday, fly(("39a001", None))))["39a001"]
    assert (r["verdict"], r["rule"], r["judged_s"], r["judged_from"]) == (
        "inactive", "box: outside its activation windows", 0.0, None)  # fmt: skip
    # the same flight a day later is inside Tuesday's window, whole
    r = rows(run(tuesday, fly(("39a001", None), t0=T0 + 86400)))["39a001"]
    assert r["verdict"] == "breach" and r["judged_s"] == pytest.approx(500, abs=1e-3)
    spans = BASE + f'schedule = [ {{ until = {_iso(200)} }}, {{ from = {_iso(550)} }} ]\n'
    r = rows(run(spans, fly(("39a001", None))))["39a001"]
    assert r["judged_from"] == at(100) and r["judged_s"] == pytest.approx(100 + 50, abs=1e-3)


def test_weekday_window_across_midnight() -> None:
    # inside from Sunday 23:56:40 to Monday 00:05:00 (T0 is Monday 2024-01-01 00:00 UTC)
    late = fly(("39a001", None), t0=T0 - 300)
    across = 'schedule = [ { days = ["sun"], from = "23:58", until = "24:00" }, { days = ["mon"], until = "00:02" } ]\n'
    for sched, judged, first in [
        (across, 240, -120),  # the two halves join at midnight: 23:58 to 00:02
        ('schedule = [ { days = ["mon"], from = "00:00", until = "00:02" } ]\n', 120, 0),
        ('schedule = [ { days = ["sun"], until = "23:58" } ]\n', 80, -200),
        ('schedule = [ { days = ["sat", "tue"] } ]\n', 0, None),
    ]:
        r = rows(run(BASE + sched, late))["39a001"]
        assert r["judged_s"] == pytest.approx(judged, abs=1e-3), sched
        assert r["judged_from"] == (None if first is None else at(first)), sched
        assert r["verdict"] == ("inactive" if first is None else "breach")


def test_zone_activation_fields() -> None:
    acts = {"activations": [{"start": _iso(500), "end": _iso(1000)}, {"text": "NOTAM"}]}
    z = zone("BOX", 0.0, props=acts)
    r = rows(run(BASE, fly(("39a001", None)), zones=(z,)))["39a001"]
    assert r["judged_from"] == at(500) and r["judged_s"] == pytest.approx(100, abs=1e-3)
    off = BASE + "activations = false\n"
    assert rows(run(off, fly(("39a001", None)), zones=(z,)))["39a001"]["judged_s"] == pytest.approx(500, abs=1e-3)
    r = rows(run(BASE, fly(("39a001", None), t0=T0 + 2000), zones=(z,)))["39a001"]
    assert r["verdict"] == "inactive"
    # a zone whose activations are all text cannot be scheduled: always active, and said so
    z = zone("BOX", 0.0, props={"activations": [{"text": "H24 by NOTAM"}]})
    j = run(BASE, fly(("39a001", None)), zones=(z,))
    assert rows(j)["39a001"]["judged_s"] == pytest.approx(500, abs=1e-3)
    assert j.notes == ("zone 'BOX': 1 activation text(s) not times ('H24 by NOTAM'), zone kept always active",)


def test_active_interval_arithmetic() -> None:
    from skyfence.policy._read import Window

    a = Active([Window("span", 10.0, 20.0), Window("span", 15.0, 30.0), Window("span", 40.0, 50.0)], 0.0, 100.0)
    assert list(a.s) == [10.0, 40.0] and list(a.e) == [30.0, 50.0]
    assert list(a.measure(np.array([0.0, 25.0, 35.0]), np.array([100.0, 45.0, 38.0]))) == [30.0, 10.0, 0.0]
    assert list(a.first_after(np.array([0.0, 25.0, 35.0, 60.0]))) == [10.0, 25.0, 40.0, np.inf]
    assert list(a.contains(np.array([10.0, 30.0, 35.0]))) == [True, True, False]


# --------------------------------------------------------------------------- rings


RING = BASE + '[[zones.ring]]\nname = "10km"\ndistance = "10 km"\nrepeat_s = 30\n'


def test_ring_is_exactly_the_buffer_distance() -> None:
    j = run(RING, fly(("39a001", None), seconds=1000, step=5.0))
    ring = [r for r in j.episodes.to_pylist() if r["zone"] == "BOX~10km"]
    # the aircraft starts 0.2 deg west of BOX: 22 km, outside the ring; enters it 10 km
    # before BOX, leaves BOX into it, and leaves it 10 km east of BOX
    assert [r["verdict"] for r in ring] == ["warning", "warning"]
    before, after = ring
    assert before["exit_time"].timestamp() == pytest.approx(T0 + 100, abs=1e-3)
    assert after["entry_time"].timestamp() == pytest.approx(T0 + 600, abs=1e-3)
    for lon, edge in ((before["entry_lon"], 0.0), (after["exit_lon"], 1.0)):
        d = GEOD.inv(edge, 0.5, lon, 0.5)[2]
        assert d == pytest.approx(10_000, abs=10), (lon, d)
    # warnings: at ring entry and every 30 s while inside
    dur = after["duration_s"]
    i_after = [k for k, r in enumerate(j.episodes.to_pylist()) if r["zone"] == "BOX~10km"][1]
    w = [x for x in j.warnings.to_pylist() if x["episode"] == i_after]
    assert len(w) == int(dur // 30) + 1
    assert [x["seq"] for x in w] == list(range(1, len(w) + 1))
    assert w[1]["time"].timestamp() - w[0]["time"].timestamp() == pytest.approx(30, abs=1e-3)
    # each warning's position is on the path at its time: lon = lon0 + V t
    for x in w:
        assert x["lon"] == pytest.approx(-0.2 + V * (x["time"].timestamp() - T0), abs=1e-9)
        assert x["lat"] == pytest.approx(0.5) and x["alt_ft"] == pytest.approx(20000)
    assert after["rule"] == "box: ring 10km" and after["severity"] == "low"


def test_ring_along_a_neighbour_only() -> None:
    tur = skyfence.read_zones("world:TUR")
    policy = parse_policy('[[zones]]\nmatch = ["TUR"]\n[[zones.ring]]\ndistance = "5 km"\nalong = ["SYR"]\n', source="p")
    (ring,) = policy.rings(tur)
    assert ring.id == "TUR~5km" and ring.kind == "ring" and ring.properties["along"] == ["SYR"]
    g = ring.geometry
    # 3 km south of the salient's tip (35.8077 N, 36.15 E): in Syria, in the ring; 7 km: not
    lon3, lat3, _ = GEOD.fwd(36.15, 35.8077, 180, 3000)
    lon7, lat7, _ = GEOD.fwd(36.15, 35.8077, 180, 7000)
    assert shapely.contains_xy(g, lon3, lat3) and not shapely.contains_xy(g, lon7, lat7)
    # nothing inside Turkey, nothing near its border with Greece or Iran
    assert not g.intersects(tur[0].geometry.buffer(-0.001))
    assert g.bounds[0] > 35.5 and g.bounds[2] < 42.5 and g.bounds[3] < 37.5


def test_no_warning_while_cleared() -> None:
    # ring episodes: about 55-100 s (before BOX) and 600-645 s (after it); cleared until 620 s
    text = RING + CLEAR.format(a=_iso(0), b=_iso(620))
    j = run(text, fly(("39a001", "AFR1"), seconds=1000, step=5.0))
    got = [(r["zone"], r["verdict"]) for r in j.episodes.to_pylist()]
    assert got == [("BOX~10km", "authorised"), ("BOX", "authorised"), ("BOX~10km", "warning")]
    w = [(x["time"].timestamp() - T0, x["seq"]) for x in j.warnings.to_pylist()]
    assert w == [(pytest.approx(630, abs=1e-3), 1)], "the 600 s warning fell in the clearance"


def test_authorised_aircraft_are_not_warned() -> None:
    text = RING + '[zones.authorised]\nstates = ["FRA"]\n'
    got = [r["verdict"] for r in run(text, fly(("39a001", None))).episodes.to_pylist()]
    assert set(got) == {"authorised"}


# --------------------------------------------------------------------------- integrity


def test_suspect_episodes_are_untrusted_never_breaches() -> None:
    policy = parse_policy(BASE, source="p")
    tracks = fly(("39a001", None), ("39a002", None))
    episodes = detect(tracks, [BOX])
    plain = episodes.drop_columns([c for c in ("integrity", "integrity_reasons") if c in episodes.column_names])
    ok = judge(plain, policy, zones=[BOX])
    assert ok.episodes.column("verdict").to_pylist() == ["breach", "breach"], "no integrity column: all ok"
    flagged = plain.append_column("integrity", pa.array(["suspect", "ok"])).append_column(
        "integrity_reasons", pa.array(["speed;jump", ""]))  # fmt: skip
    j = judge(flagged, policy, zones=[BOX])
    r = j.episodes.to_pylist()
    assert (r[0]["verdict"], r[0]["rule"]) == ("untrusted-data", "integrity: speed;jump")
    assert r[0]["severity"] == "low" and r[0]["incident_id"] is None
    assert r[1]["verdict"] == "breach"
    assert j.incidents.num_rows == 1 and j.episodes.num_rows == 2, "the suspect episode stays in the output"


def test_zones_no_table_matches_get_no_verdict() -> None:
    j = run(BASE, fly(("39a001", None)), zones=(BOX, BOX2))
    got = {r["zone"]: r["verdict"] for r in j.episodes.to_pylist()}
    assert got == {"BOX": "breach", "BOX2": None}


# --------------------------------------------------------------------------- the file itself


def test_example_policy_file_reads() -> None:
    from pathlib import Path

    p = skyfence.read_policy(Path(__file__).resolve().parents[1] / "examples" / "policy.toml")
    assert [r.name for r in p.rules] == ["Turkish airspace", "Swiss restricted areas, weekdays"]
    assert [r.distance_m for r in p.rules[0].rings] == [5000, 15 * 1852]
    assert [s.level for s in p.severity] == ["critical", "high", "medium", "low"]


def test_key_lines() -> None:
    text = '[a]\nx = 1\n[[b]]\ny = [\n  "p",\n  { q = 2, r = 3 },\n]\n[[b]]\n"z.w" = """\n"""\nv.u = 1\n'
    tomllib.loads(text)  # valid TOML
    lines = key_lines(text)
    assert lines[("a", "x")] == 2 and lines[("b", 0, "y", 0)] == 5 and lines[("b", 0, "y", 1, "r")] == 6
    assert lines[("b", 1)] == 8 and lines[("b", 1, "z.w")] == 9 and lines[("b", 1, "v", "u")] == 11


def test_schedule_clipped_depth_is_the_depth_of_the_part_inside_the_window() -> None:
    # active 00:01:40-00:03:20 = lon 0 to 0.2 of the crossing at lat 0.5: the deepest
    # point of that part is its end, 0.2 deg of longitude from the west edge (< 0.5 deg
    # of latitude to the north and south edges)
    text = BASE + f"schedule = [ {{ until = {_iso(200)} }} ]\n"
    r = rows(run(text, fly(("39a001", None))))["39a001"]
    expect = GEOD.inv(0.0, 0.5, 0.2, 0.5)[2]
    assert r["judged_s"] == pytest.approx(100, abs=1e-3)
    assert r["judged_depth_m"] == pytest.approx(expect, abs=15)
    assert r["max_depth_m"] > 50_000, "the whole episode's depth is unchanged"
    deep = text + f"min_depth_m = {expect + 100:.0f}\n"
    assert rows(run(deep, fly(("39a001", None))))["39a001"]["verdict"] == "below-threshold"
    # two windows: the deeper piece counts
    two = BASE + f"schedule = [ {{ until = {_iso(200)} }}, {{ from = {_iso(340)}, until = {_iso(360)} }} ]\n"
    r = rows(run(two, fly(("39a001", None))))["39a001"]
    assert r["judged_depth_m"] == pytest.approx(GEOD.inv(0.5, 0.5, 0.5, 0.0)[2], abs=15)


def test_openair_aa_activation_read_and_used(tmp_path) -> None:
    text = f"""AC R
AN BOX
AA {at(500).strftime('%Y-%m-%dT%H:%MZ')}/{at(1000).strftime('%Y-%m-%dT%H:%MZ')}
AL GND
AH FL660
DP 00:00:00 N 000:00:00 E
DP 01:00:00 N 000:00:00 E
DP 01:00:00 N 001:00:00 E
DP 00:00:00 N 001:00:00 E
"""
    (tmp_path / "box.txt").write_text(text)
    zones = skyfence.read_zones(str(tmp_path / "box.txt"))
    assert zones[0].properties["activations"] == [{"start": _iso(480), "end": _iso(960)}]
    r = rows(run(BASE.replace('"BOX"', '"box"'), fly(("39a001", None)), zones=zones), zones[0].id)["39a001"]
    assert r["judged_from"] == at(480) and r["judged_s"] == pytest.approx(120, abs=1e-3)


def test_scheduled_ring_warns_only_while_active() -> None:
    # ring east of BOX: 00:10:00 to about 00:10:45; active from 00:10:20 only
    text = RING.replace("[[zones.ring]]", f"schedule = [ {{ from = {_iso(620)} }} ]\n[[zones.ring]]")
    j = run(text, fly(("39a001", None), seconds=1000, step=5.0))
    after = [r for r in j.episodes.to_pylist() if r["zone"] == "BOX~10km"][-1]
    assert after["judged_from"] == at(620)
    w = [x["time"].timestamp() - T0 for x in j.warnings.to_pylist()]
    assert after["exit_time"].timestamp() - T0 == pytest.approx(600 + 10_000 / (V * 111_320), abs=0.5)  # 645 s
    assert w == pytest.approx([620.0]), "one warning at 00:10:20, none from 00:10:00 while inactive"
    before = [r for r in j.episodes.to_pylist() if r["zone"] == "BOX~10km"][0]
    assert before["verdict"] == "inactive"


def test_ring_along_a_neighbour_is_at_its_distance_everywhere() -> None:
    """Every vertex of the ring's outer edge is 15 NM from Turkey's border with
    Syria (measured in an azimuthal equidistant projection centred on the vertex:
    exact distances from the centre), to within the 2 m of the buffer's arcs."""
    tur, syr = skyfence.read_zones("world:TUR,SYR")
    policy = parse_policy('[[zones]]\nmatch = ["TUR"]\n[[zones.ring]]\ndistance = "15 NM"\nalong = ["SYR"]\n', source="p")
    (ring,) = policy.rings([tur])
    shared = shapely.segmentize(tur.geometry.boundary.intersection(syr.geometry.buffer(0.01)), 0.001)
    pts = shapely.get_coordinates(ring.geometry)[::5]
    near = tur.geometry.boundary.intersection(box(*ring.geometry.buffer(0.1).bounds))
    outer = pts[shapely.distance(near, shapely.points(pts)) > 0.05][:120]
    assert len(outer) == 120
    errors = []
    for x, y in outer:
        tr = pyproj.Transformer.from_crs("EPSG:4326", f"+proj=aeqd +lat_0={y} +lon_0={x} +datum=WGS84", always_xy=True)
        part = shared.intersection(box(x - 0.5, y - 0.5, x + 0.5, y + 0.5))  # 15 NM is 0.25 deg
        line = shapely.transform(part, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))
        errors.append(line.distance(shapely.Point(0, 0)) - 15 * 1852)
    assert -3.0 <= min(errors) and max(errors) <= 0.5, (min(errors), max(errors))


def test_spoofed_jump_into_a_neighbour_is_untrusted_not_a_breach() -> None:
    """End to end with the integrity flags detect computes: a Turkish track jumps
    255 km south into Syria, hovers there while reporting 450 kt, jumps back."""
    t = np.arange(0.0, 600.0, 5.0)
    lat, lon = np.full(len(t), 37.8), 38.0 + 0.002 * t
    lat[40:60], lon[40:60] = 35.5, lon[40]
    tracks = Tracks.from_columns(icao24=np.full(len(t), 0x4B8001, np.uint32), time=T0 + t, lat=lat, lon=lon,
                                 alt_baro_ft=np.full(len(t), 30000.0), groundspeed_kt=np.full(len(t), 450.0),
                                 track_deg=np.full(len(t), 90.0))  # fmt: skip
    zones = skyfence.read_zones("world:TUR,SYR")
    policy = parse_policy('[[zones]]\nmatch = ["SYR"]\n', source="p")
    j = judge(detect(tracks, zones), policy, zones=zones, tracks=tracks)
    (syr,) = [r for r in j.episodes.to_pylist() if r["zone"] == "SYR"]
    assert syr["integrity"] == "suspect" and syr["verdict"] == "untrusted-data"
    assert syr["rule"] == f"integrity: {syr['integrity_reasons']}"
    assert j.incidents.num_rows == 0


@pytest.mark.shared
def test_example_policy_on_real_data(shared_data) -> None:
    """examples/policy.toml as its header says to run it, on real Swiss traffic."""
    from pathlib import Path

    from skyfence.cli import main

    root = Path(__file__).resolve().parents[1]
    args = ["detect", str(shared_data / "tracks" / "opensky" / "switzerland.json.gz"), "--zones", "world:TUR,SYR,CHE",
            "--zones", str(shared_data / "airspaces" / "openair" / "Switzerland.txt"),
            "--policy", str(root / "examples" / "policy.toml"), "-q", "-o", "/dev/null"]  # fmt: skip
    assert main(args) == 0
    policy = skyfence.read_policy(root / "examples" / "policy.toml")
    zones = skyfence.read_zones("world:TUR,SYR,CHE") + skyfence.read_zones(
        str(shared_data / "airspaces" / "openair" / "Switzerland.txt"))  # fmt: skip
    tracks = skyfence.read_tracks(shared_data / "tracks" / "opensky" / "switzerland.json.gz")
    j = judge(detect(tracks, zones + policy.rings(zones)), policy, zones=zones, tracks=tracks)
    got = {}
    for r in j.episodes.to_pylist():
        got.setdefault(r["verdict"], 0)
        got[r["verdict"]] += 1
    assert got.get(None, 0) > 0, "CHE itself and the CTRs are not judged by this policy"
    judged = [r for r in j.episodes.to_pylist() if r["verdict"] is not None]
    assert judged, "the Swiss traffic crosses restricted areas"
    assert all(r["zone_kind"] == "R" or r["zone"].startswith("LS-D") for r in judged)
    assert all(r["verdict"] in ("inactive", "breach", "authorised", "below-threshold") for r in judged), got
