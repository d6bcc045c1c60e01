"""Streaming detect: Parquet datasets by batches, stitched across batch,
file and partition boundaries into exactly the episodes of one pass."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import skyfence
from skyfence._stream import StreamDetector, detect_stream
from skyfence._tracks import Tracks

ROOT = Path(__file__).resolve().parents[1]
EXE = ROOT / ".venv" / "bin" / "skyfence"
# float columns the evidence pass sums over many episodes at once: equal to ~1e-12
NEAR = ("max_depth_m", "path_length_m")


def to_table(tr: Tracks) -> pa.Table:
    names = np.array(list(tr.callsigns) + [None], dtype=object)
    return pa.table({
        "icao24": [format(int(x), "06x") for x in tr.icao24],
        "time": tr.time, "lat": tr.lat, "lon": tr.lon,
        "alt_baro_ft": tr.alt_baro_ft, "alt_geo_ft": tr.alt_geo_ft,
        "groundspeed_kt": tr.groundspeed_kt, "track_deg": tr.track_deg,
        "callsign": pa.array(names[tr.callsign], pa.string()),
    })  # fmt: skip


def assert_same(a: pa.Table, b: pa.Table, near=NEAR, rtol=1e-9):
    assert a.num_rows == b.num_rows
    assert a.num_rows > 0
    for name in a.column_names:
        if name == "source":
            continue
        x, y = a.column(name), b.column(name)
        if name in near:
            np.testing.assert_allclose(x.to_numpy(), y.to_numpy(), rtol=rtol, atol=1e-6, err_msg=name)
        else:
            xs, ys = x.to_pylist(), y.to_pylist()
            same = [p == q or (p != p and q != q) for p, q in zip(xs, ys)]
            assert all(same), (name, [(p, q) for p, q, s in zip(xs, ys, same) if not s][:3])


@pytest.fixture(scope="module")
def swiss(shared_data):
    tr = skyfence.read_tracks(shared_data / "tracks/opensky/switzerland.json.gz")
    keep = np.isin(tr.icao24, np.unique(tr.icao24)[::4])  # a quarter of the aircraft: quick
    return tr.take(keep)


@pytest.fixture(scope="module")
def swiss_zones(shared_data):
    return skyfence.read_zones("world") + skyfence.read_zones(shared_data / "airspaces/openair/Switzerland.txt")


@pytest.fixture(scope="module")
def one_file(swiss, tmp_path_factory):
    path = tmp_path_factory.mktemp("one") / "all.parquet"
    pq.write_table(to_table(swiss), path)
    return path


@pytest.fixture(scope="module")
def reference(one_file, swiss_zones):
    table, info = detect_stream([str(one_file)], swiss_zones, progress=False, source="x")
    return table


def write_hive(table: pa.Table, root: Path, rows_per_file: int) -> None:
    """Files of ``rows_per_file`` rows under date=/hour= folders, in row order."""
    t = table.column("time").to_numpy()
    for k, a in enumerate(range(0, table.num_rows, rows_per_file)):
        part = table.slice(a, rows_per_file)
        hour = np.datetime64(int(t[a]), "s").astype("datetime64[h]")
        folder = root / f"date={str(hour)[:10]}" / f"hour={str(hour)[11:13]}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(part, folder / f"part-{k:05d}.parquet", row_group_size=700)


@pytest.mark.shared
def test_one_pass_matches_detect(swiss, swiss_zones, reference):
    """The stream over one file is detect() over the whole tracks; only depth
    and path length of episodes longer than a 5-minute window are measured
    per piece (max of depths within the documented tolerance, sum of lengths)."""
    ref = skyfence.detect(swiss, swiss_zones)
    # integrity flags look back along the track; the stream flags each fix within its piece
    same = np.array(ref.column("integrity").to_pylist()) == np.array(reference.column("integrity").to_pylist())
    assert same.mean() > 0.95, same.mean()
    for name in ref.column_names:
        if name in NEAR + ("source", "integrity", "integrity_reasons"):
            continue
        assert ref.column(name).to_pylist() == reference.column(name).to_pylist() or name in ("min_alt_ft", "max_alt_ft")
    d0, d1 = ref.column("max_depth_m").to_numpy(), reference.column("max_depth_m").to_numpy()
    assert np.all(np.abs(d0 - d1) <= np.maximum(10.0, 0.005 * d0) + 1e-6)
    np.testing.assert_allclose(ref.column("path_length_m").to_numpy(), reference.column("path_length_m").to_numpy(), rtol=1e-9)
    np.testing.assert_array_equal(ref.column("min_alt_ft").to_numpy(), reference.column("min_alt_ft").to_numpy())


@pytest.mark.shared
@pytest.mark.parametrize("order", ["time", "aircraft"])
def test_split_files_and_small_batches_give_the_same_episodes(order, swiss, swiss_zones, reference, tmp_path):
    table = to_table(swiss)
    if order == "time":  # all aircraft interleaved, in time order, cut into hive partitions
        table = table.take(np.argsort(swiss.time, kind="stable"))
    else:  # aircraft after aircraft, files cutting through aircraft
        table = table.take(np.lexsort((swiss.time, swiss.icao24)))
    pq.write_table(table, tmp_path / "one.parquet")  # the same rows in the same order, as one file
    reference, _ = detect_stream([str(tmp_path / "one.parquet")], swiss_zones, progress=False)
    write_hive(table, tmp_path / "split", 2_000)
    got, info = detect_stream([str(tmp_path / "split")], swiss_zones, batch_rows=300, flush_rows=4_000,
                              progress=False)  # fmt: skip
    assert info.stats.rows_read == len(swiss)
    from skyfence.engine._prepare import prepare

    assert info.n_tracks == prepare(swiss).n_tracks
    spanning = reference.filter(pa.compute.greater(reference.column("duration_s"), 300.0)).num_rows
    assert spanning > 10  # episodes that cross piece, batch and file boundaries
    assert_same(reference, got)


def make(rows, callsigns=("ABC123",)):
    """Tracks from (icao, t, lon, lat, alt_ft, callsign index or -1)."""
    a = np.array(rows, dtype=float)
    return Tracks.from_columns(icao24=a[:, 0].astype(np.uint32), time=a[:, 1], lon=a[:, 2], lat=a[:, 3],
                               alt_baro_ft=a[:, 4], callsign=a[:, 5].astype(np.int32), callsigns=callsigns)


def window_edge(icao: int, k: int) -> float:
    """The first time of aircraft ``icao``'s ``k``-th piece window (windows are
    shifted per aircraft, by less than one window): bisection on the float times."""
    det = StreamDetector([])
    win = lambda t: det._win(np.array([icao], np.uint32), np.array([t]))[0]  # noqa: E731
    lo, hi = (k - 1) * det.window - 1.0, k * det.window  # win(lo) < k <= win(hi)
    while np.nextafter(lo, np.inf) < hi:
        mid = lo + (hi - lo) / 2
        if win(mid) >= k:
            hi = mid
        else:
            lo = mid
    return float(hi)


def crafted() -> Tracks:
    """Tracks crossing a small zone around their 5-minute (and 10-minute) window boundaries,
    with a gap starting exactly at a window boundary, a duplicate time across it,
    altitudes missing across it and a callsign heard only after it."""
    rows = []
    k0 = 1_700_000_400 // 300  # an even window: t0 - 300 and t0 + 300 are window edges too
    t0 = window_edge(1, k0)
    for k in range(200):  # aircraft 1: 20 s fixes, flying east through zone Z, alt missing around boundaries
        t = t0 - 1000 + 20 * k
        alt = np.nan if 590 <= (t - t0) % 600 or (t - t0) % 600 <= 40 else 3000 + k
        rows.append((1, t, 7.0 + 0.004 * k, 46.5, alt, 0 if k > 60 else -1))
    rows.append((1, t0 - 1000 + 20 * 100, 9.0, 47.0, 1.0, -1))  # duplicate time: the first is kept
    t0 = window_edge(2, k0)
    for k in range(60):  # aircraft 2: a gap of 120 s starting exactly at a window boundary
        t = t0 + 10 * k + (120 if k >= 30 else 0) - 290  # last fix before the gap at t0 exactly
        rows.append((2, t, 7.2 + 0.01 * k, 46.45 + 0.001 * k, 2500.0, -1))
    rows.append((3, window_edge(3, k0), 7.5, 46.5, 2000.0, 0))  # a lone fix inside
    return make(rows)


@pytest.fixture(scope="module")
def box():
    from shapely.geometry import box as shp_box

    from skyfence.zones._limits import parse_limit
    from skyfence.zones._model import Zone

    z1 = Zone(id="Z", name="Z", kind="test", geometry=shp_box(7.1, 46.3, 7.6, 46.7))
    z2 = Zone(id="LOW", name="LOW", kind="test", geometry=shp_box(7.0, 46.0, 8.0, 47.0),
              lower=parse_limit("GND"), upper=parse_limit("3100 ft MSL"))  # fmt: skip
    return [z1, z2]


def test_crafted_boundaries_any_split(box):
    tr = crafted()
    ref = skyfence.detect(tr, box)
    det = StreamDetector(box)
    det.feed(tr)
    one = det.finish()
    # one pass over whole tracks: depth within its tolerance (10 m or 0.5 %), lengths to ~1e-12
    assert_same(ref.drop_columns(["max_depth_m"]), one.drop_columns(["max_depth_m"]), rtol=1e-12)
    np.testing.assert_allclose(one["max_depth_m"], ref["max_depth_m"], rtol=0.005, atol=10)
    assert one.num_rows >= 5
    rng = np.random.default_rng(3)
    for size in (7, 50, 333):
        order = np.argsort(tr.time, kind="stable")
        for flush in (1, 100):
            det = StreamDetector(box, flush_rows=flush)
            for a in range(0, len(tr), size):
                det.feed(tr.take(order[a : a + size]))
            assert_same(one, det.finish(), rtol=1e-12)
        # interleaved: aircraft in a random order within each batch, each one's rows in input order
        det = StreamDetector(box, flush_rows=30)
        for a in range(0, len(tr), size):
            part = order[a : a + size]
            key = rng.permutation(4)[tr.icao24[part]]
            det.feed(tr.take(part[np.argsort(key, kind="stable")]))
        assert_same(one, det.finish(), rtol=1e-12)


def landing() -> Tracks:
    """Aircraft 1 stops inside zone Z (lands, or leaves coverage) after 10
    minutes; aircraft 2 flies on, through Z, for an hour."""
    t0 = 1_700_000_000.0
    rows = [(1, t0 + 20 * k, 7.0 + 0.01 * k, 46.5, 3000.0, 0) for k in range(31)]  # ends at 7.3, inside Z
    rows += [(2, t0 + 20 * k, 7.0 + 0.0005 * k, 46.45, 2500.0, 0) for k in range(181)]
    return make(rows)


def test_idle_aircraft_are_closed_early_with_the_same_result(box):
    tr = landing()
    order = np.argsort(tr.time, kind="stable")
    runs = {}
    for close in (True, False):
        det = StreamDetector(box, flush_rows=10, close_idle=close)
        held = []
        for a in range(0, len(tr), 10):
            det.feed(tr.take(order[a : a + 10]))
            held.append(sum(len(p[0]["icao"]) for p in det.pools if len(p[0]["icao"]) and 1 in p[1]))
        runs[close] = (det.finish(), det.closed, held)
    (got, closed, held), (ref, _, held_ref) = runs[True], runs[False]
    assert closed == 1
    assert held[-1] == 0 < held_ref[-1]  # aircraft 1's last fixes are no longer held
    assert_same(ref, got, rtol=1e-12)
    one = skyfence.detect(tr, box)
    assert_same(one.drop_columns(["max_depth_m"]), got.drop_columns(["max_depth_m"]), rtol=1e-12)
    assert not got.filter(pa.compute.equal(got["icao24"], "000001"))["exit_observed"][0].as_py()


def test_quality_indicators_flag_the_same_streamed(box):
    """Fixes whose NIC, NACp or SIL is below its minimum flag their episodes
    as in detect(): the stream sets those flags as fixes arrive."""
    tr = landing()
    n = len(tr)
    one_ = tr.icao24 == 1
    odd = np.arange(n) % 2 == 1
    tr.nic = np.where(one_, 4.0, np.where(odd, np.nan, 8.0))  # aircraft 1 below the minimum
    tr.nacp = np.where(one_, np.nan, 6.0)  # aircraft 2 below
    tr.sil = np.where(one_ | odd, 2.0, 0.0)  # every other fix of aircraft 2 below
    one = skyfence.detect(tr, box)
    flagged = one["integrity_reasons"].to_pylist()
    assert all("nic" in r for r in flagged[:2]) and "nacp;sil" in flagged[2], flagged
    order = np.argsort(tr.time, kind="stable")
    det = StreamDetector(box, flush_rows=10)
    for a in range(0, n, 10):
        det.feed(tr.take(order[a : a + 10]))
    got = det.finish()
    assert_same(one.drop_columns(["max_depth_m"]), got.drop_columns(["max_depth_m"]), rtol=1e-12)


def test_data_in_aircraft_order_closes_nothing_early(box):
    """Aircraft after aircraft, each over several batches: a batch's later times
    (the previous aircraft's) must not end the current aircraft's track."""
    tr = landing()
    order = np.lexsort((tr.time, -tr.icao24.astype(np.int64)))  # aircraft 2 (the long one) first
    det = StreamDetector(box, flush_rows=10)
    for a in range(0, len(tr), 7):
        det.feed(tr.take(order[a : a + 7]))
    got = det.finish()
    ref = StreamDetector(box)
    ref.feed(tr)
    assert_same(ref.finish(), got, rtol=1e-12)


def test_fix_after_its_track_was_closed_is_regrouped(box, tmp_path, capfd):
    tr = landing()
    late = (tr.icao24 == 1) & (tr.time == tr.time[tr.icao24 == 1].max())
    table = to_table(tr)
    pq.write_table(table.filter(pa.array(~late)).sort_by("time"), tmp_path / "a.parquet")
    pq.write_table(table.filter(pa.array(late)), tmp_path / "b.parquet")  # 20 s after aircraft 1's last in a
    got, info = detect_stream([str(tmp_path / "*.parquet")], box, batch_rows=10, flush_rows=10, progress=False)
    assert info.regrouped
    assert "regrouping the fixes by aircraft" in capfd.readouterr().err
    det = StreamDetector(box)
    det.feed(tr)
    assert_same(det.finish(), got, rtol=1e-12)


def test_footers_are_counted_only_when_wanted(box, tmp_path, monkeypatch):
    """The row count (footers: a request per file on remote datasets) is read
    for a progress bar or for regrouping (its bucket count), not otherwise."""
    import skyfence.io._parquet as pqio

    calls = []
    real = pqio.count_rows
    monkeypatch.setattr(pqio, "count_rows", lambda files, fs=None: calls.append(len(files)) or real(files, fs))
    tr = landing()
    pq.write_table(to_table(tr), tmp_path / "in_order.parquet")
    detect_stream([str(tmp_path / "in_order.parquet")], box, progress=False)
    assert calls == []
    late = pc.greater_equal(to_table(tr).column("time"), 1_700_000_000.0 + 20 * 40)
    (tmp_path / "ds").mkdir()
    pq.write_table(to_table(tr).filter(late), tmp_path / "ds" / "a.parquet")
    pq.write_table(to_table(tr).filter(pc.invert(late)), tmp_path / "ds" / "b.parquet")  # earlier: regrouped
    _, info = detect_stream([str(tmp_path / "ds")], box, batch_rows=10, flush_rows=10, progress=False)
    assert info.regrouped and calls == [2]


def test_not_in_time_order_is_regrouped(box, tmp_path, capfd):
    tr = crafted()
    det = StreamDetector(box)
    det.feed(tr)
    one = det.finish()
    shuffled = to_table(tr).take(np.random.default_rng(5).permutation(len(tr)))
    for k in range(0, len(tr), 40):
        pq.write_table(shuffled.slice(k, 40), tmp_path / f"p{k:04d}.parquet")
    got, info = detect_stream([str(tmp_path / "*.parquet")], box, batch_rows=40, flush_rows=40, progress=False)
    assert info.regrouped
    assert "regrouping the fixes by aircraft" in capfd.readouterr().err
    assert_same(one, got, rtol=1e-12)


def run_cli(*args):
    return subprocess.run([str(EXE), *map(str, args)], capture_output=True, text=True, timeout=300)


def test_cli_reads_directory_and_glob_and_counts(box, tmp_path):
    tr = crafted()
    write_hive(to_table(tr), tmp_path / "ds", 100)
    z = tmp_path / "z.geojson"
    z.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"Z"},'
                 '"geometry":{"type":"Polygon","coordinates":[[[7.1,46.3],[7.6,46.3],[7.6,46.7],[7.1,46.7],[7.1,46.3]]]}}]}')
    a = run_cli("detect", tmp_path / "ds", "--zones", z, "--format", "csv", "-o", tmp_path / "a.csv", "--batch-rows", "50")
    b = run_cli("detect", str(tmp_path / "ds") + "/*/*/*.parquet", "--zones", z, "--format", "csv", "-o", tmp_path / "b.csv")
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    assert "1 duplicate time" in a.stderr and f"{len(tr)} fixes read" in a.stderr
    assert "\r" not in a.stderr  # no progress bar when stderr is not a terminal
    ca, cb = (p.read_text().splitlines() for p in (tmp_path / "a.csv", tmp_path / "b.csv"))
    src = ca[0].split(",").index("source")
    strip = lambda lines: [",".join(x for i, x in enumerate(r.split(",")) if i != src) for r in lines]  # noqa: E731
    assert strip(ca) == strip(cb) and len(ca) > 3

def test_regrouping_keeps_what_stdin_gave(box, tmp_path, monkeypatch, capfd):
    """Regrouping reads the inputs again; stdin cannot be read twice, so what
    came from ``-`` is kept from the first pass: the same episodes as one pass."""
    import io

    tr = landing()
    table = to_table(tr)
    early = pc.less(table.column("time"), 1_700_000_000.0 + 20 * 40)  # the first 800 s of both aircraft
    pq.write_table(table.filter(pc.invert(early)), tmp_path / "late.parquet")
    data = io.BytesIO()
    pacsv.write_csv(table.filter(early), data)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data.getvalue())))
    got, info = detect_stream([str(tmp_path / "late.parquet"), "-"], box, batch_rows=10, flush_rows=10,
                              progress=False)  # fmt: skip
    assert info.regrouped
    assert "regrouping the fixes by aircraft" in capfd.readouterr().err
    assert info.stats.rows_read == len(tr)
    det = StreamDetector(box)
    det.feed(tr)
    assert_same(det.finish(), got, rtol=1e-12)


@pytest.mark.parametrize("case", ["empty dir", "no match", "missing column"])
def test_bad_dataset_is_one_line_exit_2(case, tmp_path):
    if case == "empty dir":
        target, words = tmp_path / "empty", ["empty", "no Parquet files"]
        target.mkdir()
    elif case == "no match":
        target, words = tmp_path / "nothing-*.parquet", ["nothing-*.parquet", "no file matches"]
    else:
        (tmp_path / "ds").mkdir()
        t = to_table(crafted())
        pq.write_table(t, tmp_path / "ds" / "a.parquet")
        pq.write_table(t.drop_columns(["lat"]), tmp_path / "ds" / "b.parquet")
        target, words = tmp_path / "ds", ["b.parquet", "lat"]
    r = run_cli("detect", target, "--zones", "world:CHE")
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    for w in words:
        assert w in lines[0], lines[0]


def test_aircraft_order_is_lexsort():
    """The radix path (rows in or near time order, 24-bit addresses) and the
    fallbacks order rows exactly as ``np.lexsort((time, icao))``: ties in input order."""
    from skyfence.engine._prepare import aircraft_order

    rng = np.random.default_rng(5)
    for n in (0, 1, 2, 999, 300_000):
        icao = rng.integers(0, 1 << 24, max(1, n // 50), dtype=np.uint32)[rng.integers(0, max(1, n // 50), n)]
        icao[: n // 10] = icao[: n // 10] & 0xFFF  # addresses differing only in their high bits
        t = np.sort(rng.integers(0, n // 3 + 1, n).astype(np.float64))  # ascending, with ties
        # OpenSky rows: by report time, each fix's position time up to 2 s earlier
        jitter = t - np.round(rng.uniform(0, 2, n), 1)
        nan = t.copy()
        nan[n // 2 :: 7] = np.nan
        cases = ((icao, t), (icao, jitter), (icao, t[::-1].copy()), (icao, rng.permutation(t)), (icao, nan),
                 (icao | np.uint32(1 << 24), t))  # fmt: skip
        for ic, tt in cases:
            np.testing.assert_array_equal(aircraft_order(ic, tt), np.lexsort((tt, ic)))


def test_carried_chunks_take_runs_without_copying_until_half_is_gone():
    """Runs taken out of a carried chunk leave its columns in place (no copy
    per batch) until less than half is held; merging keeps arrival order."""
    from skyfence._stream import _POOL, _assemble, _Chunk

    def chunk(icao, time):
        n = len(icao)
        cols = {k: np.zeros(n, t) for k, t in _POOL.items()}
        cols["icao"], cols["time"] = np.array(icao, np.uint32), np.array(time, float)
        cols["lat"] = np.arange(n, dtype=float)  # row number, to follow the rows
        return cols

    c = _Chunk.of(chunk([1, 1, 2, 2, 2, 3], [0, 5, 1, 2, 3, 9]))
    assert c.ac.tolist() == [1, 2, 3] and c.rows() is None
    assert c.t0.tolist() == [0, 1, 9] and c.t1.tolist() == [5, 3, 9]
    left = c.drop(np.array([False, False, True]))  # aircraft 3 taken: 5 of 6 rows still held
    assert left.cols is c.cols and left.rows().tolist() == [0, 1, 2, 3, 4]
    assert c.rows(np.array([False, False, True])).tolist() == [5]
    # the taken rows are gathered while the chunk goes on holding the others
    got = _assemble([(c.cols, c.rows(np.array([False, False, True])), True)])
    assert got["lat"].tolist() == [5.0] and "lat" in c.cols
    left2 = left.drop(np.array([False, True]))  # aircraft 2 taken too: 2 of 6 held -> compacted
    assert left2.cols is not c.cols and left2.rows() is None
    assert left2.cols["lat"].tolist() == [0.0, 1.0] and left2.ac.tolist() == [1]
    assert "lat" in c.cols  # compacting copies: the taken rows may still be gathered
    m = _Chunk.merged([left, _Chunk.of(chunk([1, 4], [7, 8]))])
    assert m.cols["icao"].tolist() == [1, 1, 2, 2, 2, 1, 4]
    assert m.ac.tolist() == [1, 2, 1, 4] and m.lo.tolist() == [0, 2, 5, 6] and m.hi.tolist() == [2, 5, 6, 7]
    assert not c.cols  # merged emptied the columns it took


def test_reorder_moves_only_rows_out_of_place():
    from skyfence._stream import _reorder

    rng = np.random.default_rng(2)
    for moved in (3, 500):  # a few rows out of place, or many (a whole gather)
        order = np.arange(1000)
        pick = rng.choice(1000, moved, replace=False)
        order[pick] = rng.permutation(pick)
        ro = np.arange(1000.0)
        ro.flags.writeable = False  # a read-only view of Arrow's buffers
        d = {"a": np.arange(1000) * 2, "b": ro}
        _reorder(d, order)
        np.testing.assert_array_equal(d["a"], order * 2)
        np.testing.assert_array_equal(d["b"], order.astype(float))
        assert not ro.flags.writeable and ro[5] == 5.0  # the reader's buffer untouched
