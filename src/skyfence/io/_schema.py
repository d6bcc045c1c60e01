"""Track schemas: which file column feeds which skyfence column, in which unit.

Known schemas (recognised from the column or key names, in this order):

``traffic`` -- traffic/OpenSky records (``timestamp`` ms or ISO, ``icao24``,
``latitude``, ``longitude``, ``altitude`` ft, ``geoaltitude`` ft,
``groundspeed`` kt, ``track`` deg, ``vertical_rate`` ft/min, ``callsign``;
optional ``nic``, ``nacp``, ``sil``).

``opensky`` -- OpenSky state vectors (``time`` s, ``icao24``, ``lat``, ``lon``,
``baroaltitude``/``geoaltitude`` m, ``velocity`` m/s, ``heading`` deg,
``vertrate`` m/s, ``callsign``, ``lastposupdate`` s = time of the position).

``skyfence`` -- skyfence's own column names (``time`` s, ``alt_baro_ft`` ...).

A ``columns`` mapping (skyfence name -> file column) replaces detection: the
mapped columns, and for the others the column of the skyfence name if there
is one, are read in the units given by ``time_unit`` / ``altitude_unit``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._errors import ConfigError
from .._tracks import COLUMNS

FT_PER_M = 1 / 0.3048
KT_PER_MS = 3600 / 1852
FPM_PER_MS = 60 / 0.3048

TIME_UNITS = ("s", "ms", "us", "ns", "iso")
ALTITUDE_UNITS = ("ft", "m")
REQUIRED = ("icao24", "time", "lat", "lon")
NUMERIC_COLUMNS = (
    "lat", "lon", "alt_baro_ft", "alt_geo_ft", "groundspeed_kt", "track_deg", "vertical_rate_fpm", "nic", "nacp", "sil",
)  # fmt: skip
ALTITUDE_COLUMNS = ("alt_baro_ft", "alt_geo_ft")


@dataclass
class Spec:
    """How to read one file: its format name, column sources and units."""

    format: str  # e.g. "OpenSky state vectors (CSV)"
    columns: dict  # skyfence column -> file column, only those present
    time_unit: str  # "auto" (numbers: s) | "epoch" (numbers: ms or s by size) | "s" | "ms" | "us" | "ns" | "iso"
    altitude_factor: float = 1.0  # file unit -> ft
    speed_factor: float = 1.0  # file unit -> kt
    vrate_factor: float = 1.0  # file unit -> ft/min
    fix_time: str | None = None  # file column with the time of the position itself
    optional: dict = field(default_factory=dict)  # skyfence column -> file column of the schema, not seen

    def add_optional(self, names) -> None:
        """Take optional columns found after detection (``names``: file columns found)."""
        for col, name in self.optional.items():
            if name in names:
                self.columns.setdefault(col, name)

    @property
    def file_columns(self) -> list[str]:
        """File columns to read, each once."""
        cols = list(self.columns.values())
        if self.fix_time:
            cols.append(self.fix_time)
        return list(dict.fromkeys(cols))

    def factor(self, column: str) -> float:
        if column in ALTITUDE_COLUMNS:
            return self.altitude_factor
        if column == "groundspeed_kt":
            return self.speed_factor
        if column == "vertical_rate_fpm":
            return self.vrate_factor
        return 1.0


TRAFFIC = {
    "icao24": "icao24",
    "time": "timestamp",
    "lat": "latitude",
    "lon": "longitude",
    "alt_baro_ft": "altitude",
    "alt_geo_ft": "geoaltitude",
    "groundspeed_kt": "groundspeed",
    "track_deg": "track",
    "vertical_rate_fpm": "vertical_rate",
    "callsign": "callsign",
    "nic": "nic",  # ADS-B quality indicators, read when the records have them
    "nacp": "nacp",
    "sil": "sil",
}
OPENSKY = {
    "icao24": "icao24",
    "time": "time",
    "lat": "lat",
    "lon": "lon",
    "alt_baro_ft": "baroaltitude",
    "alt_geo_ft": "geoaltitude",
    "groundspeed_kt": "velocity",
    "track_deg": "heading",
    "vertical_rate_fpm": "vertrate",
    "callsign": "callsign",
}
# Names only OpenSky state vectors have (``geoaltitude`` is in traffic records too).
OPENSKY_ONLY = ("baroaltitude", "velocity", "heading", "vertrate", "lastposupdate", "lastcontact", "onground")
SKYFENCE = {c: c for c in COLUMNS}


def check_options(columns, time_unit, altitude_unit) -> tuple[dict | None, str | None, str | None]:
    """Validate the reader options (bad ones are a :class:`ConfigError`)."""
    if time_unit == "auto":
        time_unit = None
    if time_unit is not None and time_unit not in TIME_UNITS:
        raise ConfigError(f"time unit {time_unit!r} is not one of {', '.join(TIME_UNITS)} (or auto)")
    if altitude_unit is not None and altitude_unit not in ALTITUDE_UNITS:
        raise ConfigError(f"altitude unit {altitude_unit!r} is not one of {', '.join(ALTITUDE_UNITS)}")
    if columns is not None:
        columns = dict(columns)
        for key, value in columns.items():
            if key not in COLUMNS:
                raise ConfigError(
                    f"--column {key}={value}: {key!r} is not a skyfence column; use one of {', '.join(COLUMNS)}"
                )
            if not isinstance(value, str) or not value:
                raise ConfigError(f"--column {key}=...: the file column name must be a non-empty string")
    return columns, time_unit, altitude_unit


def resolve(names, container: str, src, *, columns=None, time_unit=None, altitude_unit=None) -> Spec:
    """The :class:`Spec` for a file with column (or key) ``names``.

    ``container`` is ``"CSV"``, ``"Parquet"`` or ``"JSON"`` (for messages).
    """
    present = list(dict.fromkeys(names))
    have = set(present)
    alt = {"m": FT_PER_M, "ft": 1.0}

    if columns:
        missing = sorted(v for v in columns.values() if v not in have)
        if missing:
            given = ", ".join(f"{k}={v}" for k, v in columns.items() if v in missing)
            raise src.error(
                f"{container} has no column {', '.join(map(repr, missing))} (given as --column {given}); "
                f"its columns are: {_listing(present)}"
            )
        cols = {c: columns.get(c, c) for c in COLUMNS if columns.get(c, c) in have}
        absent = [c for c in REQUIRED if c not in cols]
        if absent:
            raise src.error(_missing_message(container, present, absent, cols))
        return Spec(
            format=f"mapped columns ({container})",
            columns=cols,
            optional={c: c for c in COLUMNS if c not in cols and c not in columns},
            time_unit=time_unit or "auto",
            altitude_factor=alt[altitude_unit or "ft"],
        )

    if {"icao24", "timestamp", "latitude", "longitude"} <= have:
        name = "traffic/OpenSky JSON records" if container == "JSON" else f"traffic records ({container})"
        return Spec(
            format=name,
            columns={k: v for k, v in TRAFFIC.items() if v in have},
            optional={k: v for k, v in TRAFFIC.items() if v not in have},
            time_unit=time_unit or "epoch",  # numbers: ms, or s if all below 1e11
            altitude_factor=alt[altitude_unit or "ft"],
        )
    if {"icao24", "lat", "lon"} <= have and ("time" in have or "lastposupdate" in have) and have & set(OPENSKY_ONLY):
        cols = {k: v for k, v in OPENSKY.items() if v in have}
        fix = "lastposupdate" if "lastposupdate" in have else None
        if "time" not in cols:
            cols["time"] = fix
            fix = None
        return Spec(
            format=f"OpenSky state vectors ({container})",
            columns=cols,
            time_unit=time_unit or "s",
            altitude_factor=alt[altitude_unit or "m"],
            speed_factor=KT_PER_MS,
            vrate_factor=FPM_PER_MS,
            fix_time=fix,
            optional={k: v for k, v in OPENSKY.items() if v not in have},
        )
    if set(REQUIRED) <= have:
        return Spec(
            format=f"skyfence columns ({container})",
            columns={k: v for k, v in SKYFENCE.items() if v in have},
            optional={k: v for k, v in SKYFENCE.items() if v not in have},
            time_unit=time_unit or "auto",
            altitude_factor=alt[altitude_unit or "ft"],
        )
    cols = {k: v for k, v in SKYFENCE.items() if v in have}
    absent = [c for c in REQUIRED if c not in cols]
    raise src.error(_missing_message(container, present, absent, cols, unknown=True))


_ALIASES = {
    "icao24": ("icao24",),
    "time": ("time", "timestamp", "lastposupdate"),
    "lat": ("lat", "latitude"),
    "lon": ("lon", "longitude"),
}


_HINTS = {
    "icao24": ("icao24", "icao", "hex", "address", "addr", "icao_address", "transponder", "modes", "mode_s"),
    "time": ("time", "timestamp", "ts", "t", "epoch", "datetime", "date_time", "utc", "unix", "seen"),
    "lat": ("lat", "latitude", "y", "la", "phi"),
    "lon": ("lon", "longitude", "lng", "long", "x", "lo", "lambda"),
}


def _guess(column: str, names: list) -> str | None:
    """A file column that probably holds skyfence ``column`` (for the hint only)."""
    hints = _HINTS.get(column, ())
    for name in names:
        if name.strip().lower() in hints:
            return name
    for name in names:
        low = name.strip().lower()
        if any(low.startswith(h) for h in hints if len(h) >= 3):
            return name
    return None


def _listing(names, limit=30) -> str:
    if not names:
        return "(none)"
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def _missing_message(container, present, absent, used, unknown=False) -> str:
    what = "no known track schema (traffic records, OpenSky state vectors, skyfence columns)" if unknown else "columns missing"
    looked = "; ".join(f"{c} (looked for {'/'.join(_ALIASES[c])})" for c in absent)
    spare = [p for p in present if p not in used.values()]
    guesses = []
    for col in absent:
        name = _guess(col, spare)
        if name is not None:
            spare.remove(name)
            guesses.append(f"--column {col}={name}")
    example = " ".join(guesses) or f"--column {absent[0]}=NAME"
    key = "keys" if container == "JSON" else "columns"
    return (
        f"{container} {key} {_listing(present)}: {what}; missing {looked}; "
        f"map them with --column SKYFENCE=FILE, e.g. {example}"
    )
