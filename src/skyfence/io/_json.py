"""JSON track records: the traffic/OpenSky format of ``shared/data/tracks/opensky``.

Layouts accepted (recognised from the content):

- an array of objects, one per fix (``[{"timestamp": ..., ...}, ...]``);
- JSON Lines, one object per line;
- an object of columns (pandas ``orient="columns"`` or ``"list"``:
  ``{"latitude": {"0": ..., "1": ...}, ...}``).

The keys select the schema (see :mod:`._schema`); for traffic records
``timestamp`` is in ms since 1970 (or an ISO-8601 string), altitudes in ft.

Fast path: arrays and JSON Lines are handed to Arrow's JSON reader as
newline-delimited records with an explicit schema (only the needed keys are
converted).  Whatever Arrow refuses (mixed types, odd layout, broken JSON)
goes through :mod:`json`, which then names the record or line at fault.
"""

from __future__ import annotations

import json
import re

import numpy as np

from .._errors import TrackFormatError
from ._build import Context, build_tracks
from ._schema import OPENSKY, OPENSKY_ONLY, SKYFENCE, TRAFFIC, resolve

_PEEK = 1 << 20
_SEPARATOR = re.compile(rb"\}\s*,\s*\{")


def read_json(src, *, columns=None, time_unit=None, altitude_unit=None):
    options = dict(columns=columns, time_unit=time_unit, altitude_unit=altitude_unit)
    data = src.data
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    start += len(data) - start - len(data[start:].lstrip())
    fast = _fast(src, data, start, options)
    if fast is not None:
        return fast
    return _slow(src, data[start:], options)


# ------------------------------------------------------------------ fast path


def _fast(src, data: bytes, start: int, options):
    import pyarrow as pa
    import pyarrow.json as pj

    is_array = data[start : start + 1] == b"["
    if is_array:
        tail = data.rstrip()
        if not tail.endswith(b"]"):
            return None
        body = data[start + 1 : len(tail) - 1]
        if not body.strip():
            return None  # empty array: the slow path says so
        first_at = len(body) - len(body.lstrip())
    else:
        body = memoryview(data)[start:]
        first_at = 0
    records, separator = _peek(body, first_at)
    if not records or not records[0] or any(isinstance(v, (dict, list)) for v in records[0].values()):
        return None  # not flat records: columns layout, nested values or broken JSON

    keys = list(dict.fromkeys(k for r in records for k in r))
    try:
        spec = resolve(keys, "JSON", src, **options)
    except TrackFormatError:
        # a key may first appear later in the file
        more = [n for n in _candidates(options["columns"]) if n not in keys and b'"' + n.encode() + b'"' in data]
        spec = resolve(keys + more, "JSON", src, **options)

    fields = {}
    roles = {v: k for k, v in spec.columns.items()}
    roles.update({v: k for k, v in spec.optional.items() if v not in roles})
    first = records[0]
    for col in list(spec.file_columns) + [v for v in spec.optional.values() if v not in spec.columns.values()]:
        role = roles.get(col, "time")
        if role in ("icao24", "callsign"):
            typ = pa.string()
        elif role == "time" and isinstance(first.get(col), str):
            typ = pa.string()
        else:
            typ = pa.float64()
        fields.setdefault(col, pa.field(col, typ))
    schema = pa.schema(list(fields.values()))

    multiline = False
    if is_array:
        if separator in (b",", b", ") and b"\n" not in body:
            body = body.replace(b"}" + separator + b"{", b"}\n{")
        else:
            body = _SEPARATOR.sub(b"}\n{", body)
            multiline = True
    try:
        table = pj.read_json(
            pa.BufferReader(body),
            parse_options=pj.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="ignore", newlines_in_values=multiline
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    seen = [name for name in table.column_names if name in keys or table.column(name).null_count < table.num_rows]
    spec.add_optional(seen)
    n = table.num_rows
    if is_array:
        where = _record
        fmt = spec.format
    else:
        where = _LineIndex(data).where
        fmt = spec.format + ", JSON Lines"
    ctx = Context(src, fmt, where)
    arrays = {name: table.column(name) for name in table.column_names}
    return build_tracks(arrays, n, spec, ctx)


def _peek(body, at: int):
    """The records in the first MiB of ``body`` from offset ``at``, and the separator after the first."""
    chunk = bytes(body[at : at + _PEEK]).decode("utf-8", errors="ignore")
    decoder = json.JSONDecoder()
    records = []
    separator = None
    pos = 0
    try:
        while pos < len(chunk):
            value, end = decoder.raw_decode(chunk, pos)
            if not isinstance(value, dict):
                return [], None
            records.append(value)
            rest = chunk[end : end + 8]
            gap = rest[: len(rest) - len(rest.lstrip(" \t\r\n,"))]
            if separator is None:
                separator = gap.encode()
            pos = end + len(gap)
    except ValueError:
        pass
    return records, separator


def _candidates(columns) -> list[str]:
    names = set(TRAFFIC.values()) | set(OPENSKY.values()) | set(OPENSKY_ONLY) | set(SKYFENCE.values())
    if columns:
        names |= set(columns.values())
    return sorted(names)


def _record(i: int):
    return i + 1, f"record {i + 1}"


class _LineIndex:
    """Row -> line number for line-oriented text (blank lines are not rows)."""

    def __init__(self, data: bytes, skip: int = 0):
        self._data = data
        self._skip = skip
        self._lines = None

    def where(self, i: int):
        if self._lines is None:
            lines = self._data.split(b"\n")
            self._lines = [k + 1 for k, line in enumerate(lines) if line.strip()][self._skip :]
        line = self._lines[i] if i < len(self._lines) else None
        return line, f"line {line}"


# ------------------------------------------------------------------ slow path


def _slow(src, data: bytes, options):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise src.error(f"not UTF-8 text at byte {e.start} (read as JSON)", line=line) from None
    lines = None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        if not (text.startswith("{") and e.msg == "Extra data"):
            raise src.error(f"invalid JSON: {e.msg} at column {e.colno}", line=e.lineno) from None
        obj, lines = _json_lines(src, text)

    if isinstance(obj, list):
        records = obj
        for i, r in enumerate(records):
            if not isinstance(r, dict):
                where = f"line {lines[i]}" if lines else f"record {i + 1}"
                raise src.error(
                    f"{type(r).__name__} where a JSON object (one fix) was expected ({where})",
                    line=lines[i] if lines else i + 1,
                )
        if not records:
            raise src.error("JSON array without any records (empty track file)")
        keys = list(dict.fromkeys(k for r in records for k in r))
        get = lambda col: [r.get(col) for r in records]  # noqa: E731
        n = len(records)
        if lines:
            where = lambda i: (lines[i], f"line {lines[i]}")  # noqa: E731
            suffix = ", JSON Lines"
        else:
            where, suffix = _record, ""
    elif isinstance(obj, dict) and obj and all(isinstance(v, (dict, list)) for v in obj.values()):
        cols = {k: list(v.values()) if isinstance(v, dict) else v for k, v in obj.items()}
        keys = list(cols)
        spec = resolve(keys, "JSON", src, **options)
        sizes = {len(cols[c]) for c in spec.file_columns}
        if len(sizes) != 1:
            lengths = ", ".join(f"{c}: {len(cols[c])}" for c in spec.file_columns)
            raise src.error(f"JSON columns have different lengths ({lengths}; read as {spec.format}, JSON columns)")
        n = sizes.pop()
        get = lambda col: cols[col]  # noqa: E731
        where = lambda i: (i + 1, f"row {i + 1}")  # noqa: E731
        suffix = ", JSON columns"
    elif isinstance(obj, dict) and obj:
        # a single record
        keys = list(obj)
        get = lambda col: [obj.get(col)]  # noqa: E731
        n = 1
        where, suffix = _record, ""
    else:
        what = "an empty object" if isinstance(obj, dict) else f"a JSON {type(obj).__name__}"
        raise src.error(f"unknown JSON layout: {what}, expected an array of records, JSON Lines or columns")

    spec = resolve(keys, "JSON", src, **options)
    ctx = Context(src, spec.format + suffix, where)
    roles = {v: k for k, v in spec.columns.items()}
    arrays = {col: _py_column(get(col), roles.get(col, "time"), col, ctx) for col in spec.file_columns}
    return build_tracks(arrays, n, spec, ctx)


def _json_lines(src, text: str):
    records, lines = [], []
    decode = json.loads
    for k, line in enumerate(text.split("\n")):
        if not line.strip():
            continue
        try:
            records.append(decode(line))
        except json.JSONDecodeError as e:
            raise src.error(f"invalid JSON Lines record: {e.msg} at column {e.colno}", line=k + 1) from None
        lines.append(k + 1)
    return records, lines


def _kind(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    return {"list": "array", "dict": "object"}.get(type(v).__name__, type(v).__name__)


def _py_column(values: list, role: str, field: str, ctx):
    """Python values of one key as an Arrow array; a value of the wrong kind is an error."""
    import pyarrow as pa

    if role in ("icao24", "callsign"):
        allowed, typ = {"string"}, pa.string()
        what = "a hex string" if role == "icao24" else "a string"
    elif role == "time":
        kinds = {_kind(v) for v in values[:1000]} - {"null"}
        if kinds == {"string"}:
            allowed, typ, what = {"string"}, pa.string(), "an ISO-8601 string (like the first ones)"
        else:
            allowed, typ, what = {"number"}, pa.float64(), "a number (like the first ones)"
    else:
        allowed, typ, what = {"number"}, pa.float64(), "a number"
    try:
        if all(_kind(v) in allowed or v is None for v in values):
            return pa.array(values, type=typ)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        pass
    for i, v in enumerate(values):
        if v is not None and _kind(v) not in allowed:
            raise ctx.fail(f"{_kind(v)} {json.dumps(v)[:40]} where {what} was expected", row=i, field=field)
        if typ == pa.float64() and isinstance(v, int) and abs(v) >= 1 << 63:
            raise ctx.fail(f"number {v} is out of range", row=i, field=field)
    return pa.array(np.asarray(values, dtype=object), type=typ, from_pandas=True)
