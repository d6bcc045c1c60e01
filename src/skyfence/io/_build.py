"""From the raw columns of a file (Arrow arrays) to a validated :class:`Tracks`.

All readers end here, so every format gets the same checks and the same
skip accounting:

- ``icao24`` must be 24-bit hex (strings) or integers below 2**24; a missing
  (null or empty) address skips the row as ``"missing icao24"``.
- times become float64 epoch seconds; a missing time skips the row as
  ``"missing time"``; a value that is not a time, not finite, or outside
  1970..2100 is an error.
- ``lat``/``lon`` outside [-90, 90] / [-180, 180] are errors; a missing one
  skips the row as ``"missing position"``.
- other numeric columns must be numbers (null -> NaN); a non-number is an error.
- with a position-time column (OpenSky ``lastposupdate``), a row whose position
  time equals that of an earlier row of the same aircraft repeats an old
  position and is skipped as ``"repeated position"``.

Each row is counted once, under the first of these reasons that applies.

Kept rows whose timestamp is out of order within their aircraft (as the file
lists them) get the ``time-order`` integrity flag (see
:func:`skyfence._integrity.input_order_flags`).
"""

from __future__ import annotations

import numba
import numpy as np

from .._arrow import combined, nulls, to_numpy
from .._integrity import input_order_flags
from .._tracks import ReadStats, Tracks
from ..engine._prepare import aircraft_order
from ._schema import NUMERIC_COLUMNS, Spec

MAX_TIME = 4102444800.0  # 2100-01-01T00:00:00Z
_PER_SECOND = {"s": 1, "ms": 1000, "us": 1_000_000, "ns": 1_000_000_000}
_NULL_WORDS = {"", "nan", "na", "n/a", "null", "none", "-nan", "#n/a"}


class Context:
    """Where a reader is: source name, format name and row -> location."""

    def __init__(self, src, spec_format: str, where, memo: dict | None = None):
        self.src = src
        self.format = spec_format
        self._where = where  # row index (0-based) -> (line number, "line 12")
        self.memo = memo  # shared by the batches of one file: see _per_dictionary

    def fail(self, message: str, *, row: int | None = None, field: str | None = None):
        line = None
        suffix = self.format
        if row is not None:
            line, label = self._where(int(row))
            suffix = f"{self.format}, {label}"
        return self.src.error(f"{message} ({suffix})", line=line, field=field)


def build_tracks(arrays: dict, n: int, spec: Spec, ctx: Context, writable: bool = True) -> Tracks:
    """``arrays`` maps FILE column names to Arrow arrays (or chunked arrays) of ``n`` rows.

    With ``writable=False`` columns may be read-only views of Arrow's buffers
    (no copy; for readers whose tracks are only read, such as the stream's)."""
    cols = spec.columns
    icao, no_icao, groups = _icao24(arrays[cols["icao24"]], cols["icao24"], n, ctx)
    time = _seconds(arrays[cols["time"]], cols["time"], spec.time_unit, ctx)
    fix = None
    if spec.fix_time:
        fix = _seconds(arrays[spec.fix_time], spec.fix_time, spec.time_unit, ctx)
        time = np.where(np.isnan(fix), time, fix)
    lat = _floats(arrays[cols["lat"]], cols["lat"], ctx)
    lon = _floats(arrays[cols["lon"]], cols["lon"], ctx)
    _check_range(lat, 90.0, "latitude", cols["lat"], ctx)
    _check_range(lon, 180.0, "longitude", cols["lon"], ctx)

    out = {}
    for name in NUMERIC_COLUMNS[2:]:
        if name in cols:
            values = _floats(arrays[cols[name]], cols[name], ctx)
            f = spec.factor(name)
            out[name] = values * f if f != 1.0 else values
    callsign, callsigns = (None, ())
    if "callsign" in cols:
        callsign, callsigns = _callsigns(arrays[cols["callsign"]], cols["callsign"], ctx)

    stats = ReadStats(rows_read=n)
    keep = ~no_icao
    stats.skip("missing icao24", np.count_nonzero(no_icao))
    no_time = keep & np.isnan(time)
    stats.skip("missing time", np.count_nonzero(no_time))
    keep &= ~no_time
    no_pos = keep & (np.isnan(lat) | np.isnan(lon))
    stats.skip("missing position", np.count_nonzero(no_pos))
    keep &= ~no_pos
    if fix is not None:
        repeated = _repeated(groups, time, keep)
        stats.skip("repeated position", np.count_nonzero(repeated))
        keep &= ~repeated

    columns = dict(icao24=icao, time=time, lat=lat, lon=lon, **out)
    if callsign is not None:
        columns["callsign"] = callsign
    if not keep.all():
        rows = np.flatnonzero(keep)
        columns = {k: np.take(v, rows) for k, v in columns.items()}
        groups = groups[rows]
    elif writable:
        columns = {k: v if v.flags.writeable else v.copy() for k, v in columns.items()}
    columns["flags"] = input_order_flags(columns["time"], groups)
    return Tracks.from_columns(**columns, callsigns=callsigns, source=ctx.src.name, stats=stats)


# ---------------------------------------------------------------- columns


def _to_numpy_float(arr) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = combined(arr)
    if arr.type != pa.float64():
        arr = pc.cast(arr, pa.float64(), safe=False)
    return to_numpy(arr, fill=np.nan)


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _floats(arr, field: str, ctx: Context) -> np.ndarray:
    """Numbers as float64 (null -> NaN); anything else is an error naming the first bad row."""
    import pyarrow as pa

    t = arr.type
    if pa.types.is_dictionary(t):
        arr = combined(arr).dictionary_decode()
        t = arr.type
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        values = _to_numpy_float(arr)
    elif pa.types.is_null(t):
        values = np.full(len(arr), np.nan)
    elif pa.types.is_string(t) or pa.types.is_large_string(t):
        values = _parse_numbers(arr, field, ctx)
    else:
        valid = np.flatnonzero(~_to_numpy_isnull(arr))
        row = int(valid[0]) if len(valid) else 0
        raise ctx.fail(f"column holds {t} values, expected numbers", row=row, field=field)
    bad = np.isinf(values)
    if bad.any():
        i = _first(bad)
        raise ctx.fail(f"value {float(values[i])!r} is not a finite number", row=i, field=field)
    return values


def _to_numpy_isnull(arr) -> np.ndarray:
    bad = nulls(arr)
    return np.zeros(len(arr), bool) if bad is None else bad


def _parse_numbers(arr, field: str, ctx: Context) -> np.ndarray:
    """Numbers written as text; the first text that is not a number is an error."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = combined(arr)
    try:
        trimmed = pc.utf8_trim_whitespace(arr)
        trimmed = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, arr.type), trimmed)
        return _to_numpy_float(pc.cast(trimmed, pa.float64()))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    import pandas as pd

    text = pd.Series(arr.to_numpy(zero_copy_only=False), dtype=object)
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    words = text.str.strip().str.lower()
    bad = np.isnan(values) & text.notna().to_numpy() & ~words.isin(_NULL_WORDS).to_numpy()
    if bad.any():
        i = _first(bad)
        raise ctx.fail(f"not a number: {text.iloc[i]!r}", row=i, field=field)
    return values


def _check_range(values: np.ndarray, limit: float, what: str, field: str, ctx: Context) -> None:
    if not len(values) or (np.fmax.reduce(values) <= limit and np.fmin.reduce(values) >= -limit):
        return  # (fmax/fmin skip NaN; all-NaN gives NaN, which fails both tests)
    with np.errstate(invalid="ignore"):
        bad = np.abs(values) > limit
    if bad.any():
        i = _first(bad)
        raise ctx.fail(f"{what} {float(values[i])!r} is outside [-{limit:g}, {limit:g}]", row=i, field=field)


def _seconds(arr, field: str, unit: str, ctx: Context) -> np.ndarray:
    """Times as float64 epoch seconds UTC (null -> NaN)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = arr.type
    if pa.types.is_dictionary(t):
        arr = combined(arr).dictionary_decode()
        t = arr.type
    numeric = False
    if pa.types.is_timestamp(t):
        values = _timestamps(arr)
    elif pa.types.is_date(t):
        values = _timestamps(combined(arr).cast(pa.timestamp("s")))
    elif pa.types.is_string(t) or pa.types.is_large_string(t):
        if unit in _PER_SECOND:
            values = _parse_numbers(arr, field, ctx) / _PER_SECOND[unit]
            numeric = True
        else:
            values, numeric = _parse_times(arr, field, unit, ctx)
    elif pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t) or pa.types.is_null(t):
        if unit == "iso":
            valid = np.flatnonzero(~_to_numpy_isnull(arr))
            row = int(valid[0]) if len(valid) else 0
            raise ctx.fail("holds numbers, but time unit 'iso' asks for ISO-8601 strings", row=row, field=field)
        numeric = True
        if pa.types.is_integer(t):
            ints = pc.cast(combined(arr), pa.int64())
            missing = nulls(ints)
            ticks = to_numpy(ints, fill=0)
            if unit == "epoch":
                unit = "ms" if len(ticks) and np.abs(ticks).max() >= 10**11 else "s"
            values = _int_seconds(ticks, _PER_SECOND.get(unit, 1))
            if missing is not None:
                values[missing] = np.nan
        else:
            values = _floats(arr, field, ctx)
            if unit == "epoch":
                # traffic records: ms since 1970, but seconds when every value is below
                # 1e11 (which in ms would be before March 1973)
                unit = "ms" if np.nanmax(np.abs(values), initial=0.0) >= 1e11 else "s"
            per_second = _PER_SECOND.get(unit, 1)
            if per_second != 1:
                values = values / per_second
    else:
        valid = np.flatnonzero(~_to_numpy_isnull(arr))
        row = int(valid[0]) if len(valid) else 0
        raise ctx.fail(f"column holds {t} values, expected times", row=row, field=field)
    with np.errstate(invalid="ignore"):
        bad = ~((values >= 0.0) & (values < MAX_TIME)) & ~np.isnan(values)
    if bad.any():
        i = _first(bad)
        v = values[i]
        if not numeric:
            import datetime

            try:
                when = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(seconds=float(v))
                when = when.isoformat()
            except (OverflowError, ValueError):
                when = f"{float(v)!r} s since 1970"
            raise ctx.fail(f"time {when} is outside 1970..2100", row=i, field=field)
        hint = "; give the time unit (s, ms, us, ns or iso) if it is another one"
        if unit in ("auto", "s") and np.isfinite(v) and v >= MAX_TIME:
            for name in ("ms", "us", "ns"):
                if v / _PER_SECOND[name] < MAX_TIME:
                    hint = f"; if the column is in {name}, give time unit {name!r}"
                    break
        raise ctx.fail(
            f"{float(v)!r} is not a time in 1970..2100 (read as {_unit_name(unit)} since 1970-01-01 UTC){hint}",
            row=i,
            field=field,
        )
    return values


def _unit_name(unit: str) -> str:
    return {"ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}.get(unit, "seconds")


def _timestamps(arr) -> np.ndarray:
    """Arrow timestamps (naive = UTC) as float64 seconds."""
    import pyarrow as pa

    arr = combined(arr)
    per_second = _PER_SECOND[arr.type.unit]
    ints = arr.view(pa.int64())
    missing = nulls(ints)
    values = _int_seconds(to_numpy(ints, fill=0), per_second)
    if missing is not None:
        values[missing] = np.nan
    return values


def _int_seconds(ticks: np.ndarray, per_second: int) -> np.ndarray:
    """Integer ticks as float64 seconds, rounded once (whole seconds + fraction)."""
    if per_second == 1:
        return ticks.astype(np.float64)
    whole, part = np.divmod(ticks, per_second)
    return whole.astype(np.float64) + part / per_second


def _parse_times(arr, field: str, unit: str, ctx: Context) -> np.ndarray:
    """Text times: numbers (auto unit = seconds) or ISO-8601 (naive = UTC)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = combined(arr)
    trimmed = pc.utf8_trim_whitespace(arr)
    trimmed = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), pc.cast(trimmed, pa.string()))
    if unit in ("auto", "epoch"):
        try:
            values = _to_numpy_float(pc.cast(trimmed, pa.float64()))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        else:
            if unit == "epoch" and np.nanmax(np.abs(values), initial=0.0) >= 1e11:
                values = values / 1000.0
            return values, True
    for target in (pa.timestamp("ns", "UTC"), pa.timestamp("ns")):
        try:
            return _timestamps(pc.cast(trimmed, target)), False
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    import pandas as pd

    text = pd.Series(trimmed.to_numpy(zero_copy_only=False), dtype=object)
    parsed = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
    bad = parsed.isna().to_numpy() & text.notna().to_numpy()
    if unit in ("auto", "epoch"):
        numbers = pd.to_numeric(text, errors="coerce")
        if numbers.notna().sum() >= parsed.notna().sum():
            # a column of numbers: the culprit is the first text that is not one
            bad = numbers.isna().to_numpy() & text.notna().to_numpy()
    if bad.any():
        i = _first(bad)
        what = "an ISO-8601 time" if unit == "iso" else "a time (ISO-8601 text or a number of seconds)"
        raise ctx.fail(f"{text.iloc[i]!r} is not {what}", row=i, field=field)
    ticks = parsed.dt.as_unit("ns").to_numpy(dtype="datetime64[ns]").view(np.int64)
    values = _int_seconds(np.where(parsed.isna().to_numpy(), 0, ticks), _PER_SECOND["ns"])
    values[parsed.isna().to_numpy()] = np.nan
    return values, False


_HEX = np.zeros(256, np.int64)
_HEX[np.frombuffer(b"0123456789", np.uint8)] = np.arange(10)
_HEX[np.frombuffer(b"abcdef", np.uint8)] = np.arange(10, 16)
_HEX[np.frombuffer(b"ABCDEF", np.uint8)] = np.arange(10, 16)


def _hex_values(dictionary) -> np.ndarray | None:
    """The addresses of a dictionary of plain hex texts (1 to 6 digits, nothing
    else), parsed in one vectorised pass; None when any text is not plain."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if dictionary is None or not len(dictionary) or dictionary.null_count:
        return None
    if not pc.all(pc.match_substring_regex(dictionary, "^[0-9a-fA-F]{1,6}$")).as_py():
        return None
    padded = pc.utf8_lpad(dictionary, 6, "0").cast(pa.large_string())
    offsets = np.frombuffer(padded.buffers()[1], np.int64)[padded.offset : padded.offset + len(padded) + 1]
    k = len(padded)
    if not np.array_equal(offsets - offsets[0], np.arange(k + 1, dtype=np.int64) * 6):
        return None
    data = np.frombuffer(padded.buffers()[2], np.uint8)[offsets[0] : offsets[0] + 6 * k].reshape(k, 6)
    return _HEX[data] @ (16 ** np.arange(5, -1, -1, dtype=np.int64))


def _codes_arrow(arr):
    """Dictionary codes (int32/int64, -1 = null) and the dictionary (an Arrow array, or None when empty)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(arr, pa.ChunkedArray):
        if arr.num_chunks == 0:
            return np.empty(0, np.int32), None
        if not pa.types.is_dictionary(arr.type):
            arr = pc.dictionary_encode(arr)
        if arr.num_chunks == 0:
            return np.empty(0, np.int32), None
        if arr.num_chunks > 1:
            arr = arr.unify_dictionaries()
        dictionary = arr.chunk(0).dictionary
        indices = pa.chunked_array([c.indices for c in arr.chunks]).combine_chunks()
    else:
        if not pa.types.is_dictionary(arr.type):
            arr = pc.dictionary_encode(arr)
        dictionary = arr.dictionary
        indices = arr.indices
    return to_numpy(indices, fill=-1), dictionary


def _icao24(arr, field: str, n: int, ctx: Context):
    """24-bit addresses as uint32, the mask of rows without one, and small per-address
    group numbers (for the repeated-position and time-order checks)."""
    import pyarrow as pa

    t = arr.type
    value_type = t.value_type if pa.types.is_dictionary(t) else t
    if pa.types.is_integer(t):
        ints = _to_numpy_float(arr)
        missing = np.isnan(ints)
        bad = ~missing & ((ints < 0) | (ints >= 1 << 24) | (ints != np.floor(np.nan_to_num(ints))))
        if bad.any():
            i = _first(bad)
            raise ctx.fail(f"{ints[i]:.0f} is not a 24-bit ICAO address", row=i, field=field)
        icao = np.where(missing, 0, ints).astype(np.uint32)
        return icao, missing, _small_groups(icao)
    if pa.types.is_null(t):
        return np.zeros(n, np.uint32), np.ones(n, bool), np.zeros(n, np.uint16)
    if not (pa.types.is_string(value_type) or pa.types.is_large_string(value_type)):
        valid = np.flatnonzero(~_to_numpy_isnull(arr))
        row = int(valid[0]) if len(valid) else 0
        raise ctx.fail(f"column holds {t} values, expected 24-bit hex addresses", row=row, field=field)
    codes, dictionary = _codes_arrow(arr)
    table, group_of = _per_dictionary(ctx, ("icao24", field), dictionary,
                                      lambda: _address_table(dictionary, codes, field, ctx))  # fmt: skip
    icao = np.empty(len(codes), np.uint32)
    missing = np.empty(len(codes), bool)
    groups = np.empty(len(codes), group_of.dtype)
    _address_rows(table, group_of, codes, icao, missing, groups)
    return icao, missing, groups


def _per_dictionary(ctx: Context, key, dictionary, make):
    """``make()``, a function of a dictionary-encoded column's dictionary,
    remembered for the file's next batch whose dictionary is equal (Parquet
    row groups usually share one: 25,000 addresses and 1,500 callsigns parsed
    once per file, not once per batch)."""
    memo = ctx.memo if ctx is not None else None
    if memo is None or dictionary is None:
        return make()
    hit = memo.get(key)
    if hit is not None and hit[0].equals(dictionary):
        return hit[1]
    out = make()
    memo[key] = (dictionary, out)
    return out


def _address_table(dictionary, codes, field: str, ctx: Context):
    """The address of each dictionary entry (-1: none; a last entry -1 for
    the code of nulls) and its group number (:func:`_icao24`)."""
    fast = _hex_values(dictionary)
    values = [] if fast is not None or dictionary is None else dictionary.to_pylist()
    table = np.zeros((len(fast) if fast is not None else len(values)) + 1, np.int64)  # last entry: code -1 (null)
    table[-1] = -1
    if fast is not None:  # plain hex texts (the usual case), else one by one below
        table[:-1] = fast
    for k, s in enumerate(values):
        s2 = s.strip().lower() if s is not None else ""
        if not s2:
            table[k] = -1
            continue
        v = int(s2, 16) if len(s2) <= 6 and s2.isascii() and all(c in "0123456789abcdef" for c in s2) else -2
        if v < 0:
            i = _first(codes == k)
            raise ctx.fail(f"{s!r} is not a 24-bit ICAO address (up to 6 hex digits)", row=i, field=field)
        table[k] = v
    # group numbers: one per distinct address ("ABC123" and "abc123" are one aircraft);
    # the entries themselves when their addresses are distinct (the usual case)
    if _distinct_addresses(table):
        group_of = np.arange(len(table), dtype=np.uint16 if len(table) <= 1 << 16 else np.uint32)
    else:
        group_of = _small_groups(table)
    return table, group_of


@numba.njit(cache=True, nogil=True)
def _distinct_addresses(table):
    """True when the addresses (>= 0) of a dictionary's entries are all different."""
    seen = np.zeros(1 << 21, np.uint8)  # a bit per 24-bit address
    for v in table:
        if v >= 0:
            byte, bit = v >> 3, np.uint8(1 << (v & 7))
            if seen[byte] & bit:
                return False
            seen[byte] |= bit
    return True


@numba.njit(cache=True, nogil=True)
def _address_rows(table, group_of, codes, icao, missing, groups):
    """Per row, from its dictionary code (-1: null, the table's last entry):
    the address (0 where missing), whether it is missing and its group."""
    for i in range(len(codes)):
        c = codes[i]
        v = table[c]
        missing[i] = v < 0
        icao[i] = v if v >= 0 else 0
        groups[i] = group_of[c]


def _callsigns(arr, field: str, ctx: Context) -> tuple[np.ndarray, tuple]:
    """int32 codes into a tuple of callsigns (stripped; empty or null -> -1)."""
    import pyarrow as pa

    t = arr.type
    value_type = t.value_type if pa.types.is_dictionary(t) else t
    if pa.types.is_null(t):
        return np.full(len(arr), -1, np.int32), ()
    if not (pa.types.is_string(value_type) or pa.types.is_large_string(value_type)):
        if pa.types.is_integer(value_type):
            arr = arr.cast(pa.string()) if not pa.types.is_dictionary(t) else combined(arr).dictionary_decode().cast(pa.string())
        else:
            valid = np.flatnonzero(~_to_numpy_isnull(arr))
            row = int(valid[0]) if len(valid) else 0
            raise ctx.fail(f"column holds {t} values, expected callsign text", row=row, field=field)
    codes, dictionary = _codes_arrow(arr)
    table, names = _per_dictionary(ctx, ("callsign", field), dictionary, lambda: _callsign_table(dictionary))
    return table[codes], names


def _callsign_table(dictionary) -> tuple[np.ndarray, tuple]:
    """The code of each dictionary entry (-1: empty; a last entry -1 for the
    code of nulls) into the tuple of distinct stripped callsigns."""
    values = dictionary.to_pylist() if dictionary is not None else []
    names: dict[str, int] = {}
    table = np.empty(len(values) + 1, np.int32)
    table[-1] = -1
    for k, s in enumerate(values):
        s2 = s.strip() if s is not None else ""
        table[k] = names.setdefault(s2, len(names)) if s2 else -1
    return table, tuple(names)


def _repeated(groups: np.ndarray, time: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Rows (among ``keep``) that repeat the position time of an earlier row of the
    same aircraft (``groups``: small integers per aircraft, :func:`_icao24`'s).

    OpenSky state vectors re-report the last position (same ``lastposupdate``)
    until a new one arrives; those rows carry no new fix.  Independent of row
    order, so files need not be sorted and data split over files gives the
    same result.
    """
    out = np.zeros(len(keep), bool)
    if np.count_nonzero(keep) < 2:
        return out
    if _repeats_in_order(groups, time, keep, int(groups.max()) + 1, out):  # times ascend: one pass, no copies
        return out
    out[:] = False
    rows = np.flatnonzero(keep)
    g, t = np.take(groups, rows).astype(np.uint32), np.take(time, rows)
    rep = np.zeros(len(rows), bool)
    # np.lexsort((t, g)), stable: the first in file order comes first (a radix and an insertion
    # sort: OpenSky rows come by report time, their position times only a little out of order)
    order = aircraft_order(g, t)
    gs, ts = g[order], t[order]
    rep[1:] = (gs[1:] == gs[:-1]) & (ts[1:] == ts[:-1])
    out[rows[order[rep]]] = True
    return out


@numba.njit(cache=True, nogil=True)
def _repeats_in_order(g, t, keep, n_groups, rep):
    """Mark in ``rep`` the rows (among ``keep``) whose time equals the previous
    time of their group; False (``rep`` then partly written) as soon as a
    group's time goes back."""
    last = np.full(n_groups, -np.inf)
    for i in range(len(g)):
        if not keep[i]:
            continue
        k = g[i]
        if t[i] == last[k]:
            rep[i] = True
        elif t[i] < last[k]:
            return False
        else:
            last[k] = t[i]
    return True


def _small_groups(icao: np.ndarray) -> np.ndarray:
    _, inverse = np.unique(icao, return_inverse=True)
    return inverse.astype(np.uint16 if inverse.max(initial=0) < 1 << 16 else np.uint32)
