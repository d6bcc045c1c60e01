"""Integrity flags: real faulty samples, clean real data, synthetic spoofing.

The noisy samples in ``../shared/data/tracks/opensky`` were looked at by hand
(what is wrong in each is written in each test); the synthetic cases build one
fault each on an otherwise clean track and check that exactly the faulty
fixes, and the episodes resting on them, are flagged.
"""

from __future__ import annotations

import gzip
import json
import math

import numpy as np
import pytest

import skyfence
from skyfence._integrity import ALTITUDE, FLAGS, FROZEN, JUMP, NACP, SPEED, TIME_ORDER, VELOCITY, fix_flags
from skyfence._tracks import Tracks
from skyfence.engine._prepare import prepare

from test_cli import assert_one_error_line, read_csv, read_jsonl, run_main, summary_of

T0 = 1_700_000_000.0
KT = 1852.0 / 3600.0
R = 6371008.8


def flags_of(tracks: Tracks) -> tuple[Tracks, np.ndarray]:
    tr = prepare(tracks).tracks
    return tr, fix_flags(tr)


def has(flags, bit) -> np.ndarray:
    return (flags & bit) != 0


def straight(n, dt=2.0, lat0=37.3, lon0=36.6, gs=450.0, trk=90.0, alt=30000.0):
    """Fixes of an aircraft flying a constant velocity; columns as a dict."""
    t = np.arange(n) * dt
    v = gs * KT
    north = v * math.cos(math.radians(trk)) * t
    east = v * math.sin(math.radians(trk)) * t
    lat = lat0 + np.degrees(north / R)
    lon = lon0 + np.degrees(east / (R * math.cos(math.radians(lat0))))
    return dict(
        icao24=np.full(n, 0x4B8001, np.uint32), time=T0 + t, lat=lat, lon=lon,
        alt_baro_ft=np.full(n, alt), groundspeed_kt=np.full(n, gs), track_deg=np.full(n, trk),
    )  # fmt: skip


def build(cols) -> Tracks:
    return Tracks.from_columns(**cols)


# ---------------------------------------------------------------- synthetic spoofing


def spoofed_track(dt=2.0):
    """Flies east at 450 kt along 37.3N in Turkey for 5 min, then for 5 min the
    reported position jumps 255 km south into Syria and hovers there (wandering
    within 100 m, still reporting 450 kt east), then it jumps back to where the
    aircraft really is and flies on honestly for 5 min."""
    cols = straight(451, dt=dt)
    spoof = (cols["time"] >= T0 + 300) & (cols["time"] < T0 + 600)
    rng = np.random.default_rng(7)
    cols["lat"][spoof] = 35.0 + rng.uniform(-0.0009, 0.0009, spoof.sum())
    cols["lon"][spoof] = 37.5 + rng.uniform(-0.0011, 0.0011, spoof.sum())
    return cols, spoof


def test_spoofed_run_is_flagged_and_the_honest_fixes_are_not():
    cols, spoof = spoofed_track()
    tr, f = flags_of(build(cols))
    assert has(f, JUMP)[spoof].all()
    assert has(f, VELOCITY)[spoof].sum() >= spoof.sum() - 15  # once the 30 s window is inside the run
    assert has(f, SPEED)[spoof][0]  # the jump out is impossible
    assert (f[~spoof] == 0).all(), np.flatnonzero(f[~spoof])


@pytest.fixture(scope="module")
def tur_syr():
    return skyfence.read_zones("world:TUR,SYR")


def test_spoofed_episode_is_suspect_honest_ones_ok(tur_syr):
    cols, _ = spoofed_track()
    ep = skyfence.detect(build(cols), tur_syr).to_pylist()
    assert [e["zone"] for e in ep] == ["TUR", "SYR", "TUR"]
    tur1, syr, tur2 = ep
    assert syr["integrity"] == "suspect"
    assert set(syr["integrity_reasons"].split(";")) == {"speed", "jump", "velocity"}
    for e in (tur1, tur2):
        assert e["integrity"] == "ok" and e["integrity_reasons"] == ""
        assert e["n_fixes_inside"] > 100


def test_clip_between_a_spoofed_and_an_honest_fix_is_suspect():
    """An episode with no fix inside rests on the two fixes of its segment."""
    from shapely.geometry import box

    from skyfence.zones._model import SFC, UNL, Zone

    cols, _ = spoofed_track()
    # a box crossed only by the jump segment out (lat 36..36.5 at lon ~37.4)
    z = Zone(id="BOX", name="box", kind="test", geometry=box(37.3, 36.0, 37.6, 36.5), lower=SFC, upper=UNL)
    ep = skyfence.detect(build(cols), [z]).to_pylist()
    assert len(ep) == 1 and ep[0]["n_fixes_inside"] == 0
    assert all(e["integrity"] == "suspect" for e in ep)


def test_which_fixes_make_an_episode_suspect():
    """The entry fix, or half of the fixes inside; altitude only with vertical limits."""
    from skyfence._integrity import episode_flags

    f = np.zeros(20, np.uint16)
    first, last, s0 = np.array([2, 2, 12]), np.array([9, 9, 11]), np.array([1, 1, 12])
    f[5] = VELOCITY  # one flagged fix in the middle: trusted fixes place it inside
    assert episode_flags(f, first, last, s0).tolist() == [0, 0, 0]
    f[2] = FROZEN  # the entry rests on a flagged fix
    assert episode_flags(f, first, last, s0).tolist() == [FROZEN | VELOCITY] * 2 + [0]
    f[:] = 0
    f[3:7] = ALTITUDE  # half of the fixes inside
    assert episode_flags(f, first, last, s0, np.array([True, False, True])).tolist() == [ALTITUDE, 0, 0]
    f[13] = NACP  # a clip (no fix inside) on segment 12-13 rests on both
    assert episode_flags(f, first, last, s0)[2] == NACP


# ---------------------------------------------------------------- one fault each


def test_frozen_position_while_reporting_speed():
    cols = straight(100, dt=1.0, gs=300.0)
    cols["lat"][40:70] = cols["lat"][40]
    cols["lon"][40:70] = cols["lon"][40]
    tr, f = flags_of(build(cols))
    frozen = np.flatnonzero(has(f, FROZEN))
    # 300 kt = 154 m/s: 1 km is passed on the 7th second of the hold
    assert frozen.tolist() == list(range(47, 70))
    # a parked aircraft (no speed reported) is not frozen
    cols["groundspeed_kt"][:] = 0.0
    assert not has(flags_of(build(cols))[1], FROZEN).any()


def test_displacement_inconsistent_with_reported_velocity():
    cols = straight(120, dt=1.0, gs=450.0, trk=90.0)
    clean = flags_of(build(cols))[1]
    assert (clean == 0).all()
    cols["track_deg"][60:] = 0.0  # reports north while flying east
    f = flags_of(build(cols))[1]
    bad = np.flatnonzero(has(f, VELOCITY))
    assert len(bad) > 40 and bad.min() >= 60
    # a slower reported speed on the same path is flagged too
    cols = straight(120, dt=1.0, gs=450.0)
    cols["groundspeed_kt"][60:] = 250.0
    f = flags_of(build(cols))[1]
    assert has(f, VELOCITY)[60:].sum() > 25 and not f[:60].any()


def test_altitude_jump_flags_the_spike_only():
    cols = straight(60, dt=1.0, alt=35000.0)
    cols["alt_baro_ft"][30] = 5000.0
    f = flags_of(build(cols))[1]
    assert np.flatnonzero(has(f, ALTITUDE)).tolist() == [30]
    # a steady 6000 ft/min climb is not flagged
    cols = straight(60, dt=1.0)
    cols["alt_baro_ft"] = 10000.0 + 100.0 * np.arange(60)
    assert (flags_of(build(cols))[1] == 0).all()


def test_look_back_further_than_the_kernel_rings():
    """The kernel keeps what it looks back at in rings of RING fixes; what lies
    further back is kept apart: an altitude spike judged against the altitude
    before a gap of 3,000 fixes, and a dense track whose velocity window starts
    more than LOOK_BACK fixes back (skipped, not read from a reused slot)."""
    from skyfence._integrity import LOOK_BACK, RING

    n = 3 * RING
    cols = straight(n, dt=0.005)  # 200 fixes a second: 30 s of window is 6,000 fixes
    alt = np.full(n, np.nan)
    # 1,000 ft up 15 s after the last known altitude (3,000 fixes back) and down again 1.5 s later:
    # each step within the climb rate, but out and back needs 89 ft/s2 (more than 2 g)
    alt[0], alt[3000], alt[3300:] = 30000.0, 31000.0, 30000.0
    cols["alt_baro_ft"] = alt
    before = straight(2 * RING, dt=0.005, alt=10000.0)  # an aircraft first: the rings hold its fixes
    before["icao24"][:] = 0x4B8000
    tracks = Tracks.concat([build(before), build(cols)])
    f = flags_of(tracks)[1]
    assert 3000 > RING > LOOK_BACK
    assert np.flatnonzero(f).tolist() == [2 * RING + 3000] and f[2 * RING + 3000] == ALTITUDE


def test_low_nacp_and_nic():
    cols = straight(10, dt=1.0)
    cols["nacp"] = np.array([9, 9, 6, 7, 0, np.nan, 10, 11, 8, 9], float)
    cols["nic"] = np.array([8, 5, 8, 8, 8, 8, np.nan, 8, 6, 8], float)
    f = flags_of(build(cols))[1]
    assert np.flatnonzero(has(f, NACP)).tolist() == [2, 4]
    assert np.flatnonzero(has(f, FLAGS["nic"])).tolist() == [1]


def test_absent_quality_columns_share_one_read_only_buffer():
    """Data without NIC/NACp/SIL gets NaN columns that cost nothing per batch and
    are skipped; one known column among them is still looked at."""
    from skyfence._tracks import UNKNOWN_SHARED_MAX, known

    t = build(straight(10, dt=1.0))
    assert not known(t.nic) and not t.nic.flags.writeable and np.isnan(t.sil).all()
    assert not known(t.take(np.arange(3)).nacp)  # stays unknown through take
    assert known(Tracks.concat([t, t]).nic)  # a copy: looked at, harmlessly
    assert known(np.full(UNKNOWN_SHARED_MAX + 1, np.nan))
    cols = straight(10, dt=1.0)
    cols["sil"] = np.array([3, 3, 3, 0, 3, 3, 3, 3, 3, 3], float)  # nic and nacp absent
    f = flags_of(build(cols))[1]
    assert np.flatnonzero(has(f, FLAGS["sil"])).tolist() == [3]


def test_single_position_jump_and_return_flags_one_fix():
    cols = straight(60, dt=1.0)
    cols["lat"][20] += 1.0  # 111 km north for one fix (a CPR decoding error)
    f = flags_of(build(cols))[1]
    assert np.flatnonzero(f).tolist() == [20]
    assert f[20] & JUMP and f[20] & SPEED


def test_input_order_flags_match_their_definition():
    """A row is out of order when its time is outside the span of its aircraft's
    previous and next rows (file order, with TIME_ORDER_TOL) while those two are
    in order: checked row by row on interleaved aircraft with late and early rows."""
    from skyfence._integrity import TIME_ORDER_TOL, _order_kernel

    rng = np.random.default_rng(7)
    for trial in range(50):
        n, ng = int(rng.integers(2, 400)), int(rng.integers(1, 12))
        group = rng.integers(0, ng, n).astype(np.uint16 if trial % 2 else np.int32)
        time = np.sort(rng.uniform(0, 600, n))
        moved = rng.integers(0, n, 6)
        time[moved] += rng.normal(0, 60, 6)
        want = np.zeros(n, bool)
        for g in range(ng):
            rows = np.flatnonzero(group == g)
            for p, i, q in zip(rows[:-2], rows[1:-1], rows[2:]):
                if time[p] <= time[q] + TIME_ORDER_TOL:
                    want[i] = time[i] < time[p] - TIME_ORDER_TOL or time[i] > time[q] + TIME_ORDER_TOL
        got = np.zeros(n, bool)
        assert _order_kernel(group, time, ng, TIME_ORDER_TOL, got) == want.sum()
        assert (got == want).all(), trial


def test_out_of_order_fix_in_a_file(tmp_path):
    cols = straight(30, dt=1.0)
    records = [
        {"timestamp": int(t * 1000), "icao24": "4b8001", "latitude": la, "longitude": lo, "altitude": 30000.0}
        for t, la, lo in zip(cols["time"], cols["lat"], cols["lon"])
    ]
    records[10]["timestamp"] += 8000  # one fix stamped 8 s late: out of place in the file
    path = tmp_path / "t.json"
    path.write_text(json.dumps(records))
    t = skyfence.read_tracks(path)
    assert np.flatnonzero(t.flags & TIME_ORDER).tolist() == [10]
    tab = skyfence.integrity_flags(t)
    reasons = tab.column("integrity_reasons").to_pylist()
    assert sum("time-order" in r for r in reasons) == 1
    # a file that lists an aircraft's flights in another order is not glitched
    later = [dict(r, timestamp=r["timestamp"] + 3_600_000) for r in records[:10]]
    path.write_text(json.dumps(later + records[:10]))
    assert not skyfence.read_tracks(path).flags.any()


def test_quality_columns_mapped_from_csv(tmp_path):
    cols = straight(5, dt=1.0)
    lines = ["ts,hex,la,lo,NIC,NACp,SIL"]
    for i in range(5):
        lines.append(f"{cols['time'][i]},4b8001,{cols['lat'][i]},{cols['lon'][i]},8,{5 if i == 3 else 9},3")
    path = tmp_path / "q.csv"
    path.write_text("\n".join(lines) + "\n")
    t = skyfence.read_tracks(
        path, columns={"time": "ts", "icao24": "hex", "lat": "la", "lon": "lo", "nic": "NIC", "nacp": "NACp", "sil": "SIL"}
    )
    assert t.nacp.tolist() == [9, 9, 9, 5, 9] and (t.sil == 3).all()
    f = flags_of(t)[1]
    assert np.flatnonzero(f).tolist() == [3] and f[3] == NACP
    # the same mapping on the command line
    out = tmp_path / "e.jsonl"
    code, _, err = run_main("detect", path, "--zones", "world:TUR", "--column", "time=ts", "--column", "icao24=hex",
                            "--column", "lat=la", "--column", "lon=lo", "--column", "nacp=NACp", "-o", out)  # fmt: skip
    assert code == 0 and int(summary_of(err)["suspect"]) == 1
    assert [r["integrity"] for r in read_jsonl(out)] == ["ok"]  # one fix of five, not the entry


# ---------------------------------------------------------------- the CLI


def test_cli_outputs_carry_integrity(tmp_path):
    cols, _ = spoofed_track()
    records = [
        {"timestamp": int(t * 1000), "icao24": "4b8001", "latitude": la, "longitude": lo, "altitude": a,
         "groundspeed": g, "track": k}
        for t, la, lo, a, g, k in zip(cols["time"], cols["lat"], cols["lon"], cols["alt_baro_ft"],
                                      cols["groundspeed_kt"], cols["track_deg"])
    ]  # fmt: skip
    src = tmp_path / "spoof.json.gz"
    with gzip.open(src, "wt") as fh:
        json.dump(records, fh)
    out = tmp_path / "out.jsonl"
    code, _, err = run_main("detect", src, "--zones", "world:TUR,SYR", "--format", "jsonl", "-o", out)
    assert code == 0
    rows = read_jsonl(out)
    assert [(r["zone"], r["integrity"]) for r in rows] == [("TUR", "ok"), ("SYR", "suspect"), ("TUR", "ok")]
    assert "jump" in rows[1]["integrity_reasons"].split(";")
    assert int(summary_of(err)["suspect"]) == 150  # the 5 min of spoofed fixes, every 2 s
    out = tmp_path / "out.csv"
    assert run_main("detect", src, "--zones", "world:TUR,SYR", "--format", "csv", "-o", out)[0] == 0
    fields, rows = read_csv(out)
    assert fields[-2:] == ["integrity", "integrity_reasons"]
    assert [r["integrity"] for r in rows] == ["ok", "suspect", "ok"]


# ---------------------------------------------------------------- real data


def real(shared_data, name):
    return flags_of(skyfence.read_tracks(shared_data / "tracks" / "opensky" / f"{name}.json.gz"))


@pytest.mark.shared
def test_noisy_time_issue(shared_data):
    """Positions held for seconds (up to 14 s at 450 kt) while the 1 s
    timestamps run on, then caught up in one jump; one 116 s gap over which
    the aircraft covered 97 km (1630 kt): the clock lost about 5 minutes."""
    tr, f = real(shared_data, "noisy_time_issue")
    gap = np.flatnonzero(np.diff(tr.time) > 100) + 1
    assert len(gap) == 1 and f[gap[0]] & VELOCITY
    # every position held while the aircraft flew more than 1 km by its own speed
    same = np.r_[False, (np.diff(tr.lat) == 0) & (np.diff(tr.lon) == 0)]
    assert has(f, FROZEN).sum() > 1000 and not has(f, FROZEN)[~same].any()
    # the catch-up jumps of 2 km and more in one second
    step = np.r_[0.0, np.hypot(np.radians(np.diff(tr.lat)) * R, np.radians(np.diff(tr.lon)) * R * 0.75)]
    catchup = (step > 2000.0) & (np.r_[0.0, np.diff(tr.time)] == 1.0)
    assert catchup.sum() >= 15 and (f[catchup] != 0).all()


@pytest.mark.shared
def test_noisy_takeoff_and_ground(shared_data):
    """On the ground at Zurich (1525/1550 ft) the barometric altitude flips to
    36000-38000 ft and back; in the climb it spikes by 700-1100 ft for a
    second."""
    for name in ("noisy_takeoff", "noisy_ground"):
        tr, f = real(shared_data, name)
        ground = tr.time < tr.time[0] + 200
        bogus = ground & (tr.alt_baro_ft > 30000)
        assert bogus.sum() > 20
        assert has(f, ALTITUDE)[bogus].all(), name
        # the fixes on the ground at the true field elevation are not blamed
        true = ground & (tr.alt_baro_ft < 2000)
        assert has(f, ALTITUDE)[true].mean() < 0.1, name
    tr, f = real(shared_data, "noisy_takeoff")
    climb = tr.time > tr.time[0] + 400
    assert has(f, ALTITUDE)[climb].sum() >= 20


@pytest.mark.shared
def test_noisy_landing(shared_data):
    """Descent into Zurich with the barometric altitude jittering by 300-500 ft
    from one second to the next, and positions held for up to 10 s."""
    tr, f = real(shared_data, "noisy_landing")
    a = tr.alt_baro_ft
    jitter = np.r_[False, np.abs(np.diff(a)) >= 300] & np.r_[np.abs(np.diff(a)) >= 300, False]
    assert jitter.sum() > 20 and has(f, ALTITUDE)[jitter].mean() > 0.9
    assert has(f, FROZEN).any()
    assert has(f, ALTITUDE).mean() < 0.3


@pytest.mark.shared
def test_clean_real_data_has_few_flags(shared_data):
    """switzerland: under 1 % of fixes flagged (measured 0.41 %: stale
    positions, and reported velocities that stop updating in turns).
    quickstart (Paris, 1 s, forward-filled states): positions held for
    minutes at the end of tracks are truly stale and flagged ``frozen``
    (6.0 % of fixes); everything else under 0.75 % (measured 0.49 %, mostly
    altitude decoding errors such as 150 ft -> 25275 ft -> 150 ft)."""
    tr, f = real(shared_data, "switzerland")
    assert np.mean(f != 0) < 0.01
    tr, f = real(shared_data, "quickstart")
    assert np.mean((f & ~np.uint16(FROZEN)) != 0) < 0.0075
    same = np.r_[False, (np.diff(tr.lat) == 0) & (np.diff(tr.lon) == 0)]
    assert not has(f, FROZEN)[~same].any()
    assert not has(f, SPEED | JUMP).mean() > 1e-4


# ---------------------------------------------------------------- readsb traces (NIC, NACp, SIL)


def readsb_trace(points, icao="4b8001", base=1_738_703_622.5):
    return {"icao": icao, "r": "TC-XXX", "timestamp": base, "trace": points}


def test_readsb_trace_quality_fields_flag_low_nacp(tmp_path):
    cols = straight(40, dt=1.0)
    good = {"type": "adsb_icao", "flight": "THY1   ", "nic": 8, "nac_p": 10, "sil": 3}
    points = []
    for i in range(40):
        detail = None
        if i == 0:
            detail = good
        elif i == 20:
            detail = dict(good, nac_p=5)  # degraded from here on (jamming)
        elif i == 30:
            detail = good
        points.append([float(i), cols["lat"][i], cols["lon"][i], 30000, 450.0, 90.0, 0, 0, detail, "adsb_icao", 30500])
    path = tmp_path / "trace_full_4b8001.json"
    path.write_text(json.dumps(readsb_trace(points)))
    t = skyfence.read_tracks(path)
    assert t.callsigns == ("THY1",) and (t.callsign == 0).all()
    assert (t.alt_geo_ft == 30500).all() and (t.time == 1_738_703_622.5 + np.arange(40)).all()
    # quality carried forward until the next detail object
    assert t.nacp.tolist() == [10.0] * 20 + [5.0] * 10 + [10.0] * 10
    f = flags_of(t)[1]
    assert np.flatnonzero(f).tolist() == list(range(20, 30)) and (f[20:30] == NACP).all()


def test_readsb_trace_errors_name_the_point(tmp_path):
    points = [[0.0, 37.0, 36.0, 30000, 450.0, 90.0, 0, 0, None], [1.0, "north", 36.0, 30000, 450.0, 90.0, 0, 0, None]]
    path = tmp_path / "trace_full_bad.json"
    path.write_text(json.dumps(readsb_trace(points)))
    with pytest.raises(skyfence.TrackFormatError, match=r"trace point 2"):
        skyfence.read_tracks(path)
    code, _, err = run_main("detect", path)
    assert code == 2
    assert_one_error_line(err, "trace_full_bad.json", "field 'lat'", '"north"', "trace point 2")


@pytest.mark.shared
def test_real_readsb_trace_reads_quality_and_is_clean(shared_data):
    """A Delta B739 over Belize, Mexico and the USA (2500 points, version 2
    transponder: NIC 8, NACp 10, SIL 3 in 620 of 625 detail objects)."""
    t = skyfence.read_tracks(shared_data / "tracks" / "raw" / "trace_full_ac671b.readsb.json")
    assert len(t) == 2500 and format(int(t.icao24[0]), "06x") == "ac671b"
    assert np.isnan(t.nacp).sum() == 3  # before the first detail object that gives it
    assert set(np.unique(t.nic[~np.isnan(t.nic)])) == {8.0} and set(np.unique(t.sil[~np.isnan(t.sil)])) == {2.0, 3.0}
    assert "DAL1812" in t.callsigns
    tr, f = flags_of(t)
    assert (f == 0).all()
    ep = skyfence.detect(t, skyfence.read_zones("world:BLZ,MEX")).to_pylist()
    assert ep and all(e["integrity"] == "ok" for e in ep)
