"""Synthetic global traffic in the OpenSky state-vector schema.

``synth(out, aircraft=..., hours=...)`` writes a hive-partitioned Parquet
dataset::

    OUT/date=2026-06-01/hour=00/part-0.parquet
    OUT/date=2026-06-01/hour=00/part-1.parquet    (when an hour has more than file_rows rows)
    OUT/date=2026-06-01/hour=01/part-0.parquet
    ...
    OUT/_synth.json                                (parameters and counts)
    OUT/_flights.csv                               (ground truth: one line per flight)

Each file has the 16 columns of OpenSky's historical state vectors
(:data:`COLUMNS`; SI units: metres, m/s) and is sorted by ``time``; the parts
of an hour follow each other in time.  Row groups hold ``row_group_rows``
rows (about 1 million), cut at whole seconds.

The parts: :mod:`._airports` (real airports and their weights),
:mod:`._routes` (aircraft, legs, profiles), :mod:`._identity` (addresses and
callsigns), :mod:`._kernel` (the compiled fix generator).  Generation streams
block by block (one row group at a time) with the next block computed while
the previous one is written, so memory stays bounded whatever the size.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import numpy as np

from .._errors import ConfigError, OutputError

DEFAULT_START = "2026-06-01T00:00:00Z"
LAYOUT = "date=YYYY-MM-DD/hour=HH/part-N.parquet"
LAYOUT_VERSION = 1
PLAN_WINDOW_S = 6 * 3600  # legs are planned 6 hours at a time: memory does not grow with --hours
MAX_AIRCRAFT = 1_000_000
MAX_HOURS = 8784
COMPRESSIONS = ("zstd", "snappy", "lz4", "gzip", "none")


def _flight_columns():
    import pyarrow as pa

    s, ts = pa.string(), pa.timestamp("ms", "UTC")
    return [("icao24", s), ("callsign", s), ("origin", s), ("destination", s), ("origin_icao", s),
            ("destination_icao", s), ("departure", ts), ("arrival", ts), ("distance_km", pa.float64()),
            ("cruise_ft", pa.int64()), ("cruise_groundspeed_kt", pa.float64()), ("aircraft_class", s),
            ("squawk", s)]  # fmt: skip


COLUMNS = ("time", "icao24", "lat", "lon", "velocity", "heading", "vertrate", "callsign", "onground", "alert",
           "spi", "squawk", "baroaltitude", "geoaltitude", "lastposupdate", "lastcontact")  # fmt: skip


@dataclass
class SynthSummary:
    """What :func:`synth` wrote."""

    out: str
    fixes: int
    legs: int
    aircraft_airborne: int  # the requested mean number airborne
    fleet: int  # aircraft (slots) in the plan
    start: str
    end: str
    rate: int
    seed: int
    region: str
    gaps: float
    files: list
    seconds: float

    @property
    def fixes_per_s(self) -> float:
        return self.fixes / self.seconds if self.seconds > 0 else float("nan")


def parse_start(text) -> float:
    """``2026-06-01T07:00Z``, ``2026-06-01`` or a datetime (naive = UTC) -> epoch seconds."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    if isinstance(text, dt.datetime):
        d = text
    else:
        try:
            d = dt.datetime.fromisoformat(str(text).strip().replace("z", "Z"))
        except ValueError:
            raise ConfigError(f"--start {text!r}: not an ISO 8601 date or time (e.g. 2026-06-01T07:00:00Z)") from None
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.timezone.utc)
    return d.timestamp()


def _resolve(aircraft, hours, fixes, rate):
    for name, v in (("aircraft", aircraft), ("hours", hours), ("fixes", fixes)):
        if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool) or not v > 0 or math.isinf(v)):
            raise ConfigError(f"--{name} {v!r}: must be a positive number")
    if aircraft is not None and aircraft > MAX_AIRCRAFT:
        raise ConfigError(f"--aircraft {aircraft!r}: at most {MAX_AIRCRAFT:,}")
    if hours is not None and hours > MAX_HOURS:
        raise ConfigError(f"--hours {hours!r}: at most {MAX_HOURS:,} (a year); write longer spans in several runs")
    if not isinstance(rate, int) or isinstance(rate, bool) or rate < 1:
        raise ConfigError(f"--rate {rate!r}: must be a whole number of seconds, at least 1")
    if aircraft is not None and int(aircraft) != aircraft:
        raise ConfigError(f"--aircraft {aircraft!r}: must be a whole number")
    if fixes is not None and int(fixes) != fixes:
        raise ConfigError(f"--fixes {fixes!r}: must be a whole number")
    if fixes is None:
        return int(aircraft or 1000), float(hours or 1.0), None
    fixes = int(fixes)
    if aircraft is None and hours is None:
        aircraft = 10_000
    if hours is None:
        hours = fixes * rate / (aircraft * 3600.0) * 1.1 + 1 / 60
    elif aircraft is None:
        aircraft = max(1, math.ceil(fixes * rate / (hours * 3600.0) * 1.1))
    return int(aircraft), float(hours), fixes


def synth(out, *, aircraft: int | None = None, hours: float | None = None, start=DEFAULT_START, rate: int = 1,
          seed: int = 0, fixes: int | None = None, region: str | None = None, gaps: float = 0.0,
          overwrite: bool = False,
          row_group_rows: int = 1_000_000, file_rows: int = 10_000_000, compression: str = "zstd",
          progress: bool = False) -> SynthSummary:  # fmt: skip
    """Write synthetic global traffic as hive-partitioned OpenSky state vectors.

    Parameters
    ----------
    out:
        Output directory (created; must be empty unless ``overwrite``).
    aircraft:
        Mean number of aircraft airborne at any moment (default 1000; 10,000
        with ``fixes`` alone, about the real world's).
    hours:
        Length of the window (default 1).
    start:
        Start of the window, ISO 8601 UTC (default 2026-06-01T00:00:00Z).
    rate:
        Seconds between two state vectors of an aircraft (whole seconds, default 1).
    seed:
        Seed; the same arguments and seed give byte-identical files.
    fixes:
        Stop after exactly this many rows.  With ``aircraft`` or ``hours``
        alone, the other is derived so that the window holds them.
    region:
        ``world`` (default) or a comma-separated list of ``north-america``,
        ``europe``, ``asia-pacific``, ``latin-america``, ``middle-east``,
        ``africa``: airports are drawn from those regions only.
    gaps:
        Fraction of the flight time (0 to 0.5, default 0) in coverage gaps
        of 5-55 s, during which rows repeat the last position and its
        ``lastposupdate`` as OpenSky's state vectors do (skyfence drops
        those rows and counts them as ``repeated position``).
    overwrite:
        Replace the ``date=*`` partitions and ``_synth.json`` of an existing ``out``.
    row_group_rows, file_rows:
        Target rows per row group and at most rows per file (cut at whole seconds).
    compression:
        Parquet compression (``zstd``, ``snappy``, ``none`` ...).
    progress:
        Print fixes written and fixes per second to stderr as it goes.

    Returns
    -------
    SynthSummary
    """
    from ._airports import load_airports, parse_regions
    from ._routes import Planner

    t_begin = time.perf_counter()
    aircraft, hours, fixes = _resolve(aircraft, hours, fixes, rate)
    for name, v in (("row_group_rows", row_group_rows), ("file_rows", file_rows)):
        if not isinstance(v, int) or v < 1:
            raise ConfigError(f"--{name.replace('_', '-')} {v!r}: must be a positive whole number")
    if isinstance(gaps, bool) or not isinstance(gaps, (int, float)) or not 0.0 <= gaps <= 0.5:
        raise ConfigError(f"--gaps {gaps!r}: must be a fraction from 0 to 0.5")
    gaps = float(gaps)
    if compression not in COMPRESSIONS:
        raise ConfigError(f"--compression {compression!r}: use one of {', '.join(COMPRESSIONS)}")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ConfigError(f"--seed {seed!r}: must be a whole number >= 0")
    regions = parse_regions(region)
    t0 = math.floor(parse_start(start))
    n_steps = max(1, int(hours * 3600 // rate))
    t1 = t0 + n_steps * rate
    out = Path(out)
    _prepare_out(out, overwrite)

    airports = load_airports(regions)
    planner = Planner(airports, aircraft=aircraft, start=float(t0), seed=seed)
    icao_slot, airline_slot = _identities(planner.home, airports, seed)
    steps_per_group = max(1, min(3600 // rate or 1, row_group_rows // max(aircraft, 1)))
    window = max(1, PLAN_WINDOW_S // rate)
    sink = _Sink(out, compression, file_rows)
    flights = _FlightLog(out / "_flights.csv", airports)
    meter = _Progress(progress, fixes)

    def jobs():
        """One job per row group, in time order; each planning window's legs are made when reached."""
        carry = None
        for kw0 in range(0, n_steps, window):
            kw1 = min(kw0 + window, n_steps)
            new = planner.legs_before(t0 + kw1 * rate)
            cols = new if carry is None else {k: np.concatenate([carry[k], new[k]]) for k in new}
            order = np.lexsort((cols["id"], cols["dep"]))
            cols = {k: v[order] for k, v in cols.items()}
            first = np.floor((cols["dep"] - t0) / rate).astype(np.int64) + 1
            last = np.floor((cols["arr"] - t0) / rate).astype(np.int64)
            live = (last >= kw0) & (last >= first)
            cols, first, last = {k: v[live] for k, v in cols.items()}, first[live], last[live]
            legs = planner.legs(cols)
            icao = icao_slot[legs.slot]
            callsign = _callsigns(airline_slot[legs.slot], legs.number)
            squawk = np.char.zfill(legs.squawk.astype(str), 4)
            is_new = np.isin(legs.id, new["id"])
            flights.hold(kw1, legs.take(np.flatnonzero(is_new)), icao[is_new], callsign[is_new], first[is_new])
            for k_lo, n in _blocks(t0 + kw0 * rate, rate, kw1 - kw0, steps_per_group):
                yield partial(_generate, kw0 + k_lo, n, t0, rate, seed, legs, first, last, icao, callsign, squawk,
                              gaps)
            carry = {k: v[last >= kw1] for k, v in cols.items()}

    written = 0
    k_done = -1  # last step written
    try:
        with ThreadPoolExecutor(1) as pool:
            todo = jobs()
            job = next(todo, None)
            pending = pool.submit(job) if job else None
            while pending is not None:
                table = pending.result()
                job = next(todo, None)  # plans the next window, if due, while this block is written
                pending = pool.submit(job) if job else None
                if fixes is not None and written + table.num_rows > fixes:
                    table = table.slice(0, fixes - written)
                if table.num_rows:
                    sink.write(table)
                    written += table.num_rows
                    k_done = (table.column("time")[-1].as_py() - t0) // rate
                    flights.flush(k_done)
                meter.update(written)
                if fixes is not None and written >= fixes:
                    if pending is not None:
                        pending.cancel()
                    break
    except OSError as e:
        raise OutputError(f"{out}: cannot write: {e.strerror or e}") from None
    finally:
        sink.close()
        meter.done(written)
    flights.close(k_done)
    summary = SynthSummary(
        out=str(out), fixes=written, legs=flights.count, aircraft_airborne=aircraft, fleet=len(planner.home),
        start=_iso(t0), end=_iso(t1), rate=rate, seed=seed, region=",".join(regions),
        gaps=gaps, files=sink.files, seconds=time.perf_counter() - t_begin,
    )  # fmt: skip
    manifest = {"layout": LAYOUT, "layout_version": LAYOUT_VERSION, "schema": "opensky-state-vectors",
                "columns": list(COLUMNS), **asdict(summary)}  # fmt: skip
    manifest["seconds"] = round(manifest["seconds"], 3)
    (out / "_synth.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return summary


class _Sink:
    """Row groups into OUT/date=.../hour=.../part-N.parquet: a new file per hour or past ``file_rows``."""

    def __init__(self, out: Path, compression: str, file_rows: int):
        self.out, self.compression, self.file_rows = out, compression, file_rows
        self.files: list[str] = []
        self.writer = None
        self.key = None
        self.rows = 0
        self.part = 0

    def write(self, table) -> None:
        first_time = table.column("time")[0].as_py()
        stamp = dt.datetime.fromtimestamp(first_time, dt.timezone.utc)
        key = (stamp.strftime("%Y-%m-%d"), stamp.hour)
        if self.writer is not None and (key != self.key or self.rows + table.num_rows > self.file_rows):
            self.writer.close()
            self.writer = None
            self.part = self.part + 1 if key == self.key else 0
        if self.writer is None:
            path = self.out / f"date={key[0]}" / f"hour={key[1]:02d}" / f"part-{self.part}.parquet"
            self.writer = _open_writer(path, table.schema, self.compression)
            self.key, self.rows = key, 0
            self.files.append(str(path.relative_to(self.out)))
        self.writer.write_table(table, row_group_size=table.num_rows)
        self.rows += table.num_rows

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class _FlightLog:
    """``_flights.csv``: one line per flight with fixes in the files, written window by window."""

    def __init__(self, path: Path, airports):
        self.path, self.airports = path, airports
        self.held: list = []
        self.writer = None
        self.count = 0

    def hold(self, window_end_step, legs, icao, callsign, first) -> None:
        self.held.append((window_end_step, legs, icao, callsign, first))

    def flush(self, k_done: int) -> None:
        """Write the flights of windows whose every step is written (a later one has started)."""
        while self.held and k_done >= self.held[0][0]:
            self._write(*self.held.pop(0)[1:], k_last=None)

    def close(self, k_done: int) -> None:
        for _, legs, icao, callsign, first in self.held:
            self._write(legs, icao, callsign, first, k_last=k_done)
        self.held = []
        if self.writer is None:
            self._write(None, None, None, None, None)
        self.writer.close()

    def _write(self, legs, icao, callsign, first, k_last) -> None:
        import pyarrow.csv as pcsv

        if legs is not None and k_last is not None:
            keep = np.flatnonzero(first <= k_last)
            legs, icao, callsign = legs.take(keep), icao[keep], callsign[keep]
        table = _flight_table(legs, self.airports, icao, callsign)
        if self.writer is None:
            self.writer = pcsv.CSVWriter(self.path, table.schema)
        if table.num_rows:
            self.writer.write_table(table)
        self.count += table.num_rows


def _flight_table(legs, airports, icao, callsign):
    """The ground truth of some flights (an empty table of the same schema for ``legs=None``)."""
    import pyarrow as pa

    if legs is None:
        return pa.table({name: pa.array([], type) for name, type in _flight_columns()})
    ms = lambda t: pa.array((t * 1000).round().astype("datetime64[ms]"), pa.timestamp("ms", "UTC"))  # noqa: E731
    cols = {
        "icao24": icao, "callsign": np.char.rstrip(callsign),
        "origin": airports.iata[legs.origin], "destination": airports.iata[legs.dest],
        "origin_icao": airports.icao[legs.origin], "destination_icao": airports.icao[legs.dest],
        "departure": ms(legs.dep), "arrival": ms(legs.arr),
        "distance_km": np.round(legs.length / 1000.0, 3),
        "cruise_ft": np.round(legs.hcr / 0.3048).astype(np.int64),
        "cruise_groundspeed_kt": np.round(legs.vcr * 3600 / 1852, 1),
        "aircraft_class": np.array(["turboprop", "narrow-body", "wide-body"])[legs.cls],
        "squawk": np.char.zfill(legs.squawk.astype(str), 4),
    }  # fmt: skip
    return pa.table({name: pa.array(cols[name], type) for name, type in _flight_columns()})


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _prepare_out(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a directory")
    if out.is_dir():
        entries = list(out.iterdir())
        if entries and not overwrite:
            raise OutputError(f"{out}: directory is not empty (use --overwrite to replace a synth dataset)")
        if overwrite:
            for e in entries:
                if e.is_dir() and e.name.startswith("date="):
                    shutil.rmtree(e)
                elif e.name in ("_synth.json", "_flights.csv"):
                    e.unlink()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"{out}: cannot create directory: {e.strerror or e}") from None


def _open_writer(path: Path, schema, compression: str):
    """A Parquet writer; text columns arrive dictionary-encoded and are written as such,
    and without the Arrow schema so that readers see plain strings, as in OpenSky's files."""
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    return pq.ParquetWriter(
        path, schema, compression=None if compression == "none" else compression,
        use_dictionary=["icao24", "callsign", "squawk"], write_statistics=["time"],
        store_schema=False,
    )  # fmt: skip


def _blocks(t0: int, rate: int, n_steps: int, per: int) -> list[tuple[int, int]]:
    """(first step, steps) of each row group: at most ``per`` steps, never across an hour."""
    out = []
    k = 0
    while k < n_steps:
        t = t0 + k * rate
        next_hour = (t // 3600 + 1) * 3600
        to_hour = max(1, math.ceil((next_hour - t) / rate))
        n = min(per, n_steps - k, to_hour)
        out.append((k, n))
        k += n
    return out


def _identities(home, airports, seed):
    """Address and airline of each aircraft (slot), registered in its home airport's country."""
    from ._identity import assign

    return assign(np.random.default_rng([seed, 3]), airports.country[home])


def _callsigns(airline, number):
    """``DLH4TR  ``: designator and flight number, padded to 8 characters as in OpenSky."""
    return np.char.ljust(np.char.add(airline, number.astype(str)), 8)


def _generate(k_lo, n, t0, rate, seed, legs, first, last, icao, callsign, squawk, gaps=0.0):
    """The pyarrow table of one block."""
    import pyarrow as pa

    from ._kernel import fill, row_counts

    hi = int(np.searchsorted(first, k_lo + n, side="left"))  # legs whose first step is before the block's end
    sel = np.flatnonzero(last[:hi] >= k_lo)
    offsets = row_counts(first[sel], last[sel], k_lo, n)
    rows = int(offsets[-1])
    L = legs
    cols = {
        "time": np.empty(rows, np.int64), "leg": np.empty(rows, np.int64),
        "lat": np.empty(rows), "lon": np.empty(rows), "velocity": np.empty(rows), "heading": np.empty(rows),
        "vertrate": np.empty(rows), "onground": np.empty(rows, np.bool_), "baroaltitude": np.empty(rows),
        "geoaltitude": np.empty(rows), "lastposupdate": np.empty(rows), "lastcontact": np.empty(rows),
    }  # fmt: skip
    fill(k_lo, n, offsets, float(t0), float(rate), seed, 2.0 * gaps, first[sel], last[sel], L.id[sel], L.dep[sel],
         L.t_climb[sel], L.t_cruise[sel], L.t_descent[sel], L.v0[sel], L.vcr[sel], L.vl[sel], L.h0[sel],
         L.hcr[sel], L.h1[sel], L.geo_ratio[sel], L.length[sel], L.wp_start[sel], L.wp_n[sel], L.wp_step[sel],
         L.wp_xyz, L.wp_az, cols["time"], cols["leg"], cols["lat"], cols["lon"], cols["velocity"],
         cols["heading"], cols["vertrate"], cols["onground"], cols["baroaltitude"], cols["geoaltitude"],
         cols["lastposupdate"], cols["lastcontact"])  # fmt: skip
    leg = cols.pop("leg")

    def dictionary(values):
        uniq, inv = np.unique(values[sel], return_inverse=True)
        return pa.DictionaryArray.from_arrays(pa.array(inv.astype(np.int32)[leg]), pa.array(uniq.tolist()))

    false = pa.array(np.zeros(rows, np.bool_))
    arrays = {
        "time": pa.array(cols["time"]), "icao24": dictionary(icao),
        "lat": pa.array(cols["lat"]), "lon": pa.array(cols["lon"]),
        "velocity": pa.array(cols["velocity"]), "heading": pa.array(cols["heading"]),
        "vertrate": pa.array(cols["vertrate"]), "callsign": dictionary(callsign),
        "onground": pa.array(cols["onground"]), "alert": false, "spi": false, "squawk": dictionary(squawk),
        "baroaltitude": pa.array(cols["baroaltitude"]), "geoaltitude": pa.array(cols["geoaltitude"]),
        "lastposupdate": pa.array(cols["lastposupdate"]), "lastcontact": pa.array(cols["lastcontact"]),
    }  # fmt: skip
    return pa.table(arrays)


class _Progress:
    """``12,345,678 fixes written, 4.1 M fixes/s`` on stderr, at most twice a second."""

    def __init__(self, enabled: bool, total: int | None):
        self.enabled = enabled
        self.total = total
        self.t0 = time.perf_counter()
        self.last = 0.0

    def update(self, n: int) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self.last < 0.5:
            return
        self.last = now
        rate = n / max(now - self.t0, 1e-9)
        of = f" of {self.total:,}" if self.total else ""
        print(f"\r{n:,}{of} fixes written, {rate / 1e6:.2f} M fixes/s   ", end="", file=sys.stderr, flush=True)

    def done(self, n: int) -> None:
        if self.enabled:
            self.last = 0.0
            self.update(n)
            print(file=sys.stderr, flush=True)
