"""CSV tracks: OpenSky state vectors, traffic records, skyfence columns or any
CSV through a column mapping (see :mod:`._schema`).

The header names the columns; the delimiter is the most frequent of
``, ; TAB |`` in it.  Arrow reads only the needed columns, numbers straight as
float64; if a value does not convert, the needed columns are read again as
text so that the first bad value can be named with its line.
"""

from __future__ import annotations

import csv
import io

from ._build import Context, build_tracks
from ._schema import NUMERIC_COLUMNS, resolve
from ._source import DELIMITERS, header_line


def read_csv(src, *, columns=None, time_unit=None, altitude_unit=None):
    import pyarrow as pa
    import pyarrow.csv as pcsv

    first = header_line(src)
    delimiter = max(DELIMITERS, key=first.count)
    try:
        names = next(csv.reader([first], delimiter=delimiter))
    except csv.Error as e:
        raise src.error(f"unreadable CSV header: {e}", line=1) from None
    names = [n.strip() for n in names]
    spec = resolve(names, "CSV", src, columns=columns, time_unit=time_unit, altitude_unit=altitude_unit)
    ctx = Context(src, spec.format, _CsvLines(src, delimiter).where)

    wanted = spec.file_columns
    roles = {v: k for k, v in spec.columns.items()}
    types = {}
    for col in wanted:
        role = roles.get(col, "time")
        if role in ("icao24", "callsign"):
            types[col] = pa.string()
        elif role in NUMERIC_COLUMNS:
            types[col] = pa.float64()
        elif spec.time_unit in ("s", "ms", "us", "ns"):
            types[col] = pa.float64()
        else:
            types[col] = pa.string()  # numbers or ISO-8601, decided in _build
    read = lambda types: pcsv.read_csv(  # noqa: E731
        src.arrow_input(),
        read_options=pcsv.ReadOptions(column_names=names, skip_rows=_header_rows(src)),
        parse_options=pcsv.ParseOptions(delimiter=delimiter),
        convert_options=pcsv.ConvertOptions(
            include_columns=wanted, column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=True
        ),
    )
    try:
        table = read(types)
    except pa.ArrowInvalid as e:
        if "conversion error" not in str(e):
            raise _structure_error(src, ctx, delimiter, len(names), e) from None
        # A value did not convert: read everything as text; _build names the culprit.
        try:
            table = read({col: pa.string() for col in wanted})
        except pa.ArrowInvalid as e2:
            raise _structure_error(src, ctx, delimiter, len(names), e2) from None
    arrays = {name: table.column(name) for name in table.column_names}
    return build_tracks(arrays, table.num_rows, spec, ctx)


def _header_rows(src) -> int:
    """Lines up to and including the header (blank lines before it count)."""
    text = src.head.decode("utf-8", errors="replace").lstrip("\ufeff")
    for k, line in enumerate(text.splitlines()):
        if line.strip():
            return k + 1
    return 1


def _structure_error(src, ctx, delimiter, ncols, err):
    """A CSV that Arrow cannot split into rows: find the line with the wrong field count."""
    text = src.data.decode("utf-8", errors="replace").lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        seen_header = False
        for record in reader:
            if not any(f.strip() for f in record):
                continue
            if not seen_header:
                seen_header = True
                continue
            if len(record) != ncols:
                return src.error(
                    f"{len(record)} fields where the header has {ncols} ({ctx.format}, line {reader.line_num})",
                    line=reader.line_num,
                )
    except csv.Error as e:
        return src.error(f"unreadable CSV: {e} ({ctx.format}, line {reader.line_num})", line=reader.line_num)
    message = str(err).splitlines()[0]
    return src.error(f"unreadable CSV: {message} ({ctx.format})")


class _CsvLines:
    """Data row -> line number (quoted line breaks and blank lines accounted for)."""

    def __init__(self, src, delimiter):
        self._src = src
        self._delimiter = delimiter
        self._lines = None

    def where(self, i: int):
        if self._lines is None:
            text = self._src.data.decode("utf-8", errors="replace").lstrip("\ufeff")
            reader = csv.reader(io.StringIO(text), delimiter=self._delimiter)
            lines = []
            start = 1
            try:
                for record in reader:
                    if any(f.strip() for f in record):
                        lines.append(start)
                    start = reader.line_num + 1
            except csv.Error:
                pass
            self._lines = lines[1:]  # drop the header
        line = self._lines[i] if i < len(self._lines) else None
        return line, f"line {line}"
