"""Writers for episode tables: jsonl, csv, geojson, parquet, terminal table."""

from __future__ import annotations

import io
import json
import math
import os
import sys
from typing import IO

import numpy as np
import pyarrow as pa

from ._arrow import nulls, to_numpy
from ._errors import OutputError

FORMATS = ("jsonl", "csv", "geojson", "parquet")


def iso(us: int | None) -> str | None:
    """Microseconds since the epoch -> ISO 8601 UTC with milliseconds and Z."""
    if us is None:
        return None
    ms = int(round(us / 1000))
    s = np.datetime64(ms, "ms").astype(str)
    return s + "Z"


def records(table: pa.Table) -> list[dict]:
    """Plain-Python records with ISO times and NaN as None."""
    cols = {}
    for name in table.column_names:
        if name == "path":
            continue
        col = table.column(name)
        if pa.types.is_timestamp(col.type):
            cols[name] = [iso(v) for v in col.cast(pa.int64()).to_pylist()]
        else:
            vals = col.to_pylist()
            if pa.types.is_floating(col.type):
                digits = 7 if name in ("lat", "lon") or name.endswith(("_lat", "_lon")) else 3  # 1 cm / 1 mm
                vals = [None if v is None or math.isnan(v) else round(v, digits) for v in vals]
            cols[name] = vals
    n = table.num_rows
    return [{k: v[i] for k, v in cols.items()} for i in range(n)]


def check_writable(out: str | None) -> None:
    """Fail early, before any work, when ``out`` cannot be created."""
    if out in (None, "-"):
        return
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise OutputError(f"{out}: cannot write: folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (os.path.exists(out) and not os.access(out, os.W_OK)):
        raise OutputError(f"{out}: cannot write: permission denied")


def write(table: pa.Table, fmt: str, out: str | None) -> None:
    """Write ``table`` in ``fmt`` to path ``out`` (stdout when None or '-')."""
    try:
        _write(table, fmt, out)
    except OSError as err:
        raise OutputError(f"{out}: cannot write: {err.strerror or err}") from None


def _write(table: pa.Table, fmt: str, out: str | None) -> None:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        if out in (None, "-"):
            pq.write_table(table, pa.PythonFile(sys.stdout.buffer, mode="w"))
        else:
            pq.write_table(table, out)
        return
    if out in (None, "-"):
        _write_text(table, fmt, sys.stdout)
    else:
        with open(out, "w", encoding="utf-8", newline="") as fh:
            _write_text(table, fmt, fh)


def _write_text(table: pa.Table, fmt: str, fh: IO[str]) -> None:
    if fmt in ("jsonl", "csv"):
        cells = _cells(table, fmt)
        if cells is not None:  # column by column: the same text as the record writers below
            _write_rows(cells, fmt, fh)
            return
    recs = records(table)
    if fmt == "jsonl":
        for r in recs:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        import csv

        w = csv.DictWriter(fh, fieldnames=[c for c in table.column_names if c != "path"])
        w.writeheader()
        w.writerows(recs)
    elif fmt == "geojson":
        paths = table.column("path").to_pylist() if "path" in table.column_names else [None] * len(recs)
        point = "path" not in table.column_names and {"lat", "lon"} <= set(table.column_names)
        feats = []
        for r, p in zip(recs, paths):
            geom = _geometry(p) if p else _point(r) if point else None
            feats.append({"type": "Feature", "geometry": geom, "properties": r})
        json.dump({"type": "FeatureCollection", "features": feats}, fh, ensure_ascii=False)
        fh.write("\n")
    else:  # pragma: no cover - the CLI restricts choices
        raise ValueError(fmt)


_CHUNK_ROWS = 20_000  # rows formatted per write


def _write_rows(cells: dict, fmt: str, fh: IO[str]) -> None:
    """Rows from per-column cell texts: JSON objects as ``json.dumps`` writes
    them, or CSV rows as ``csv.writer`` writes them (``\\r\\n`` line ends)."""
    names = list(cells)
    cols = list(cells.values())
    n = len(cols[0]) if cols else 0
    if fmt == "jsonl":
        keys = [json.dumps(k, ensure_ascii=False) + ": " for k in names]
        cols = [[k + v for v in c] for k, c in zip(keys, cols)]
        join, head, tail = ", ".join, "{", "}\n"
    else:
        import csv

        buf = io.StringIO()
        csv.writer(buf).writerow(names)
        fh.write(buf.getvalue())
        join, head, tail = ",".join, "", "\r\n"
    for a in range(0, n, _CHUNK_ROWS):
        rows = map(join, zip(*(c[a : a + _CHUNK_ROWS] for c in cols)))
        fh.write("".join([head + r + tail for r in rows]))


def _cells(table: pa.Table, fmt: str) -> dict | None:
    """Each column (but ``path``) as a list of cell texts, vectorised per
    column; None when a column has a type the record path must handle."""
    out = {}
    for name in table.column_names:
        if name == "path":
            continue
        col = table.column(name)
        cells = _column_cells(col, name, fmt)
        if cells is None:
            return None
        out[name] = cells
    if len(out) < 2:
        return None  # csv quotes an empty lone field: such tables go the record way
    return out


def _column_cells(col, name: str, fmt: str) -> list | None:
    import pyarrow.compute as pc

    null = "null" if fmt == "jsonl" else ""
    t = col.type
    n = len(col)
    if pa.types.is_dictionary(t):
        col = col.cast(t.value_type)
        t = col.type
    if pa.types.is_null(t):
        return [null] * n
    missing = nulls(col)

    def with_nulls(cells: list) -> list:
        if missing is None:
            return cells
        return [null if m else c for c, m in zip(cells, missing.tolist())]

    if pa.types.is_timestamp(t):
        us = to_numpy(col.cast(pa.int64()), fill=0)
        if len(us) and np.abs(us).max() >= 1 << 53:
            return None  # beyond exact float64: iso() per value
        ms = np.round(us / 1000).astype(np.int64)  # iso(): round(us / 1000), half to even
        text = ms.astype("datetime64[ms]").astype(str).tolist()
        q = '"' if fmt == "jsonl" else ""
        return with_nulls([q + s + "Z" + q for s in text])
    if pa.types.is_boolean(t):
        words = ("true", "false") if fmt == "jsonl" else ("True", "False")
        return with_nulls([words[0] if v else words[1] for v in to_numpy(col, fill=False).tolist()])
    if pa.types.is_integer(t):
        return with_nulls(list(map(str, to_numpy(col, fill=0).tolist())))
    if pa.types.is_floating(t):
        digits = 7 if name in ("lat", "lon") or name.endswith(("_lat", "_lon")) else 3  # as records()
        v = to_numpy(col.cast(pa.float64()), fill=np.nan)
        cells, slow = _float_texts(v, digits)
        other = {"jsonl": ("Infinity", "-Infinity"), "csv": ("inf", "-inf")}[fmt]
        for i in np.flatnonzero(slow).tolist():
            x = float(v[i])
            cells[i] = null if x != x else other[0] if x == math.inf else other[1] if x == -math.inf else repr(round(x, digits))
        return with_nulls(cells)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        enc = pc.dictionary_encode(col)  # one encoding per distinct text
        chunks = enc.chunks if isinstance(enc, pa.ChunkedArray) else [enc]
        cells = []
        for ch in chunks:
            words = [_text_cell(s, fmt) for s in ch.dictionary.to_pylist()] + [null]
            idx = to_numpy(ch.indices, fill=len(words) - 1)
            cells.extend(np.array(words, dtype=object)[idx].tolist())
        return cells
    return None


def _float_texts(v: np.ndarray, digits: int) -> tuple[list, np.ndarray]:
    """``repr(round(x, digits))`` for each value, vectorised, and the mask of
    the values left to Python (not finite, within 1e-6 of a rounding tie,
    or where ``repr`` would not write the plain decimal)."""
    scale = 10.0**digits
    with np.errstate(invalid="ignore", over="ignore"):
        y = v * scale
        q = np.rint(y)
        # y is within half an ulp of x * 10**digits: away from a tie, rint rounds
        # as round() does (correctly rounded decimal, ties to even)
        near_tie = np.abs(np.abs(y - np.trunc(y)) - 0.5) < 1e-6
        a = np.abs(q)
        # repr writes the plain decimal for 1e-4 <= |x| < 1e16, and 15 digits are exact
        fast = np.isfinite(y) & ~near_tie & (a < 1e15) & ((a == 0) | (a >= 1e-4 * scale))
    a = np.where(fast, a, 0).astype(np.int64)
    unit = 10**digits
    whole = (a // unit).astype(np.dtypes.StringDType())
    frac = np.strings.rstrip(np.strings.zfill((a % unit).astype(np.dtypes.StringDType()), digits), "0")
    frac = np.where(frac == "", "0", frac)
    sign = np.where(np.signbit(v), "-", "")  # round() keeps the sign of x (-0.0 too)
    text = np.strings.add(np.strings.add(sign, whole), np.strings.add(".", frac))
    return text.tolist(), ~fast


def _text_cell(s: str, fmt: str) -> str:
    if fmt == "jsonl":
        return json.dumps(s, ensure_ascii=False)
    if any(c in s for c in ',"\r\n'):  # csv.QUOTE_MINIMAL with the default dialect
        return '"' + s.replace('"', '""') + '"'
    return s


def _point(r: dict) -> dict | None:
    """A table of positions (``lat``, ``lon``, optional ``alt_ft``; ring warnings): a Point each."""
    lat, lon, alt = r["lat"], r["lon"], r.get("alt_ft")  # records(): NaN is None, rounded
    if lat is None or lon is None:
        return None
    return {"type": "Point", "coordinates": [lon, lat] + ([alt] if alt is not None else [])}


def _geometry(path: list) -> dict:
    """The path inside as a LineString [lon, lat, alt_ft]; split at the antimeridian."""
    coords = [[round(lon, 7), round(lat, 7)] + ([round(alt, 1)] if alt is not None and alt == alt else [])
              for lon, lat, alt in path]  # fmt: skip
    parts, cur = [], [coords[0]]
    for c in coords[1:]:
        p = cur[-1]
        if abs(c[0] - p[0]) > 180:  # cut at the antimeridian itself (RFC 7946, 3.1.9)
            side = 180.0 if p[0] > 0 else -180.0
            span = (c[0] + 2 * side) - p[0]
            f = (side - p[0]) / span if span else 0.0
            mid = [round(p[k] + f * (c[k] - p[k]), 7 if k == 1 else 1) for k in range(1, len(c))]
            cur.append([side] + mid)
            parts.append(cur)
            cur = [[-side] + mid]
        cur.append(c)
    parts.append(cur)
    if len(parts) == 1:
        line = parts[0] if len(parts[0]) > 1 else parts[0] * 2
        return {"type": "LineString", "coordinates": line}
    return {"type": "MultiLineString", "coordinates": [p if len(p) > 1 else p * 2 for p in parts]}


def table_text(table: pa.Table, limit: int = 50) -> str:
    """A readable fixed-width table of the first ``limit`` episodes."""
    cols = [("icao24", 6), ("callsign", 8), ("zone", 10), ("entry_time", 24), ("duration_s", 9),
            ("max_depth_m", 9), ("min_alt_ft", 7), ("max_alt_ft", 7), ("n_fixes_inside", 5)]  # fmt: skip
    heads = {"duration_s": "dur s", "max_depth_m": "depth m", "min_alt_ft": "alt lo", "max_alt_ft": "alt hi",
             "n_fixes_inside": "fixes", "entry_time": "entry (UTC)"}  # fmt: skip
    recs = records(table.slice(0, limit))
    lines = ["  ".join(heads.get(c, c).ljust(w) for c, w in cols) + "  in/out"]
    for r in recs:
        cells = []
        for c, w in cols:
            v = r[c]
            if v is None:
                s = "-"
            elif isinstance(v, float):
                s = f"{v:.0f}" if c != "duration_s" else f"{v:.1f}"
            else:
                s = str(v)
            cells.append(s.rjust(w) if isinstance(v, float) else s.ljust(w))
        obs = ("seen" if r["entry_observed"] else "start") + "/" + ("seen" if r["exit_observed"] else "end")
        lines.append("  ".join(cells) + "  " + obs)
    if table.num_rows > limit:
        lines.append(f"... {table.num_rows - limit} more episodes (use -o FILE or --format to get them all)")
    return "\n".join(lines)


def format_of(path: str) -> str | None:
    """Output format from a file name (.csv .parquet .geojson .jsonl .json), else None."""
    name = path.lower()
    for ext, fmt in ((".csv", "csv"), (".parquet", "parquet"), (".geojson", "geojson"), (".jsonl", "jsonl"),
                     (".json", "jsonl")):  # fmt: skip
        if name.endswith(ext):
            return fmt
    return None
