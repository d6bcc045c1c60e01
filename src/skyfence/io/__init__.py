"""Track readers: ADS-B fixes from files into a :class:`~skyfence.Tracks` table.

:func:`read_tracks` reads a path (plain or gzip, recognised by its magic
bytes) or ``-`` for standard input, and recognises the format from the
content, never from the file name:

- **JSON** (text starting with ``[`` or ``{``): traffic/OpenSky records
  (``timestamp`` ms or ISO-8601, ``icao24``, ``latitude``, ``longitude``,
  ``altitude`` ft, ``geoaltitude`` ft, ``groundspeed`` kt, ``track`` deg,
  ``vertical_rate`` ft/min, ``callsign``) as an array of objects, JSON Lines,
  or an object of columns.
- **readsb / tar1090 ``trace_full``** JSON (an object with ``icao`` and
  ``trace``): one aircraft's points, with NIC, NACp and SIL from the detail
  objects (see :mod:`._readsb`).
- **Parquet** (``PAR1`` magic) and **CSV** (text with a delimited header):
  by column names,

  * OpenSky state vectors (``time``, ``icao24``, ``lat``, ``lon``,
    ``velocity``, ``heading``, ``vertrate``, ``callsign``, ``baroaltitude``,
    ``geoaltitude``, ``lastposupdate``, ...; metres, m/s, seconds).  The fix
    time is ``lastposupdate`` where present, and a row that repeats an earlier
    position of the same aircraft (``lastposupdate`` not newer) is skipped and
    counted as ``"repeated position"``;
  * traffic records (the JSON keys above as columns);
  * skyfence's own column names (``time`` s, ``alt_baro_ft``, ...);
  * any other columns through ``columns={"time": "ts", ...}``.

Every problem is one :class:`~skyfence.TrackFormatError` naming the file,
the line / record / row and the column.  Rows without an address, time or
position are skipped and counted in ``tracks.stats.skipped``.
"""

from __future__ import annotations

import os

__all__ = ["read_tracks"]


def read_tracks(
    source: "str | os.PathLike",
    *,
    columns: "dict[str, str] | None" = None,
    time_unit: "str | None" = None,
    altitude_unit: "str | None" = None,
):
    """Read ADS-B fixes from ``source`` into a :class:`~skyfence._tracks.Tracks` table.

    Parameters
    ----------
    source:
        A file path (plain or gzip-compressed; the format is recognised from
        the content), or ``"-"`` for standard input.
    columns:
        For CSV/Parquet (and JSON) with other column names: skyfence column ->
        file column, for ``icao24, time, lat, lon, alt_baro_ft, alt_geo_ft,
        groundspeed_kt, track_deg, vertical_rate_fpm, callsign, nic, nacp,
        sil``.  Unmapped
        skyfence columns are taken from a file column of the same name if any.
        Giving a mapping turns schema detection off.
    time_unit:
        ``"s"``, ``"ms"``, ``"us"``, ``"ns"`` or ``"iso"``; ``None`` (or
        ``"auto"``) keeps the format's unit (ms for traffic records, s for
        OpenSky state vectors) or, for mapped/skyfence columns, reads numbers
        as seconds and text or Arrow timestamps as dates (naive = UTC).
    altitude_unit:
        ``"ft"`` or ``"m"``; ``None`` keeps the format's unit (m for OpenSky
        state vectors, otherwise ft).

    Returns
    -------
    Tracks
        Rows in file order; ``stats.rows_read`` counts the data rows seen and
        ``stats.skipped`` the rows left out, by reason.

    Raises
    ------
    TrackFormatError
        Missing, empty, truncated or unreadable file; unknown format; missing
        column; a value that is not a number / time / hex address; latitude or
        longitude out of range.
    ConfigError
        A bad option value (unknown unit or skyfence column name).
    """
    from ._schema import check_options
    from ._source import open_source, sniff

    columns, time_unit, altitude_unit = check_options(columns, time_unit, altitude_unit)
    src = open_source(source)
    kind = sniff(src)
    options = dict(columns=columns, time_unit=time_unit, altitude_unit=altitude_unit)
    if kind == "json":
        from ._json import read_json
        from ._readsb import is_trace, read_readsb

        if is_trace(src):
            return read_readsb(src, **options)
        return read_json(src, **options)
    if kind == "parquet":
        from ._parquet import read_parquet

        return read_parquet(src, **options)
    from ._csv import read_csv

    return read_csv(src, **options)
