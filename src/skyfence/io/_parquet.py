"""Parquet tracks: OpenSky state vectors, traffic records, skyfence columns or
any Parquet file through a column mapping (see :mod:`._schema`).

Only the needed columns are read; text columns (``icao24``, ``callsign``) are
read dictionary-encoded so that millions of rows cost one conversion per
distinct value.
"""

from __future__ import annotations

from ._build import Context, build_tracks
from ._schema import resolve


def read_parquet(src, *, columns=None, time_unit=None, altitude_unit=None):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(src.arrow_input())
    except (pa.ArrowException, OSError) as e:
        raise src.error(f"corrupt or unreadable Parquet file: {_first_line(e)}") from None
    names = [f.name for f in schema]
    spec = resolve(names, "Parquet", src, columns=columns, time_unit=time_unit, altitude_unit=altitude_unit)
    wanted = spec.file_columns
    roles = {v: k for k, v in spec.columns.items()}
    as_dict = [
        col
        for col in wanted
        if roles.get(col) in ("icao24", "callsign")
        and (pa.types.is_string(schema.field(col).type) or pa.types.is_large_string(schema.field(col).type))
    ]
    try:
        table = pq.read_table(src.arrow_input(), columns=wanted, read_dictionary=as_dict, use_threads=True)
    except (pa.ArrowException, OSError) as e:
        raise src.error(f"corrupt or unreadable Parquet file: {_first_line(e)} ({spec.format})") from None
    ctx = Context(src, spec.format, lambda i: (i + 1, f"row {i + 1}"))
    arrays = {name: table.column(name) for name in table.column_names}
    return build_tracks(arrays, table.num_rows, spec, ctx)


def _first_line(e) -> str:
    lines = str(e).strip().splitlines()
    return lines[0] if lines else type(e).__name__
