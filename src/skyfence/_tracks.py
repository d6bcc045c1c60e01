"""The columnar track table passed between every stage of skyfence.

One row per fix, columns as numpy arrays of equal length.  Column names are
defined once here (``COLUMNS``) and used by readers, the engine and writers.

Conventions
-----------
- ``icao24``: uint32 (the 24-bit address as an integer; ``format(x, "06x")``).
- ``time``: float64 seconds since 1970-01-01T00:00:00Z (UTC, always).
- ``lat``/``lon``: float64 WGS84 degrees; ``lon`` in [-180, 180].
- ``alt_baro_ft``: barometric (pressure) altitude in feet, NaN where unknown.
- ``alt_geo_ft``: geometric (GNSS) altitude in feet, NaN where unknown.
- ``groundspeed_kt``, ``track_deg``, ``vertical_rate_fpm``: NaN where unknown.
- ``callsign``: int32 codes into ``callsigns`` (a tuple of str), -1 = none.
- ``nic``, ``nacp``, ``sil``: ADS-B quality indicators (Navigation Integrity
  Category, Navigation Accuracy Category for Position, Source Integrity
  Level) where the data has them, NaN where unknown.
- ``flags``: uint16 integrity flags a reader saw in the raw data (bits of
  :mod:`skyfence._integrity`, e.g. out-of-order timestamps), 0 = none.  Not a
  mappable file column.

Readers return rows in file order; :func:`prepare` sorts and splits them into
tracks for the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

FLOAT_COLUMNS = (
    "time",
    "lat",
    "lon",
    "alt_baro_ft",
    "alt_geo_ft",
    "groundspeed_kt",
    "track_deg",
    "vertical_rate_fpm",
    "nic",
    "nacp",
    "sil",
)
COLUMNS = ("icao24", "callsign") + FLOAT_COLUMNS
QUALITY_COLUMNS = ("nic", "nacp", "sil")  # optional: NaN where the data has none
UNKNOWN_SHARED_MAX = 1 << 20  # longer unknown columns get their own NaNs (the shared buffer stays small)
_unknown_buf = np.empty(0)


def unknown(n: int) -> np.ndarray:
    """A quality column of data that has none: ``n`` NaNs, read-only.  Up to
    :data:`UNKNOWN_SHARED_MAX` they are views of one shared buffer, so a
    reader pays nothing per batch and :func:`known` can skip them."""
    global _unknown_buf
    if n > UNKNOWN_SHARED_MAX:
        return np.full(n, np.nan)
    buf = _unknown_buf
    if len(buf) < n:
        buf = np.full(max(n, min(2 * len(buf), UNKNOWN_SHARED_MAX)), np.nan)
        buf.flags.writeable = False
        _unknown_buf = buf
    return buf[:n]


def known(column: np.ndarray) -> bool:
    """False for a column from :func:`unknown`'s shared buffer (all NaN, so
    nothing to look at); True for any other (which may hold values)."""
    return column.base is not _unknown_buf


@dataclass
class ReadStats:
    """What a reader saw: rows read and rows skipped, by reason.

    ``skipped`` maps a short reason (``"missing position"``,
    ``"repeated position"``, ...) to a count.  Nothing is dropped without
    being counted here.
    """

    rows_read: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str, n: int = 1) -> None:
        if n:
            self.skipped[reason] = self.skipped.get(reason, 0) + int(n)

    def merge(self, other: "ReadStats") -> None:
        self.rows_read += other.rows_read
        for k, v in other.skipped.items():
            self.skip(k, v)

    @property
    def n_skipped(self) -> int:
        return sum(self.skipped.values())


@dataclass
class Tracks:
    """Fixes of any number of aircraft, as columns (see module docstring)."""

    icao24: np.ndarray
    time: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    alt_baro_ft: np.ndarray
    alt_geo_ft: np.ndarray
    groundspeed_kt: np.ndarray
    track_deg: np.ndarray
    vertical_rate_fpm: np.ndarray
    callsign: np.ndarray
    callsigns: tuple[str, ...] = ()
    source: str = ""
    stats: ReadStats = field(default_factory=ReadStats)
    nic: np.ndarray | None = None
    nacp: np.ndarray | None = None
    sil: np.ndarray | None = None
    flags: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.time)
        self.icao24 = np.asarray(self.icao24, dtype=np.uint32)
        self.callsign = np.asarray(self.callsign, dtype=np.int32)
        for name in QUALITY_COLUMNS:
            if getattr(self, name) is None:
                setattr(self, name, unknown(n))
        self.flags = np.zeros(n, np.uint16) if self.flags is None else np.asarray(self.flags, dtype=np.uint16)
        for name in FLOAT_COLUMNS:
            setattr(self, name, np.asarray(getattr(self, name), dtype=np.float64))
        for name in COLUMNS + ("flags",):
            if len(getattr(self, name)) != n:
                raise ValueError(f"column {name} has {len(getattr(self, name))} rows, expected {n}")

    def __len__(self) -> int:
        return len(self.time)

    @property
    def has_quality(self) -> bool:
        """Whether NIC, NACp or SIL may hold values (else all are :func:`unknown`)."""
        return any(known(getattr(self, name)) for name in QUALITY_COLUMNS)

    @classmethod
    def from_columns(
        cls,
        *,
        icao24: np.ndarray,
        time: np.ndarray,
        lat: np.ndarray,
        lon: np.ndarray,
        alt_baro_ft: np.ndarray | None = None,
        alt_geo_ft: np.ndarray | None = None,
        groundspeed_kt: np.ndarray | None = None,
        track_deg: np.ndarray | None = None,
        vertical_rate_fpm: np.ndarray | None = None,
        callsign: np.ndarray | None = None,
        nic: np.ndarray | None = None,
        nacp: np.ndarray | None = None,
        sil: np.ndarray | None = None,
        flags: np.ndarray | None = None,
        callsigns: tuple[str, ...] = (),
        source: str = "",
        stats: ReadStats | None = None,
    ) -> "Tracks":
        """Build a table, filling absent optional columns with NaN / -1."""
        n = len(time)
        nan = lambda: np.full(n, np.nan)  # noqa: E731
        return cls(
            icao24=icao24,
            time=time,
            lat=lat,
            lon=lon,
            alt_baro_ft=nan() if alt_baro_ft is None else alt_baro_ft,
            alt_geo_ft=nan() if alt_geo_ft is None else alt_geo_ft,
            groundspeed_kt=nan() if groundspeed_kt is None else groundspeed_kt,
            track_deg=nan() if track_deg is None else track_deg,
            vertical_rate_fpm=nan() if vertical_rate_fpm is None else vertical_rate_fpm,
            callsign=np.full(n, -1, np.int32) if callsign is None else callsign,
            nic=nic,
            nacp=nacp,
            sil=sil,
            flags=flags,
            callsigns=tuple(callsigns),
            source=source,
            stats=stats if stats is not None else ReadStats(rows_read=n),
        )

    def take(self, index: np.ndarray) -> "Tracks":
        """Rows selected by an integer or boolean index, same callsign table."""
        cols = {name: None if name in QUALITY_COLUMNS and not known(getattr(self, name)) else getattr(self, name)[index]
                for name in COLUMNS + ("flags",)}  # fmt: skip
        return Tracks(
            **cols,
            callsigns=self.callsigns,
            source=self.source,
            stats=self.stats,
        )

    @staticmethod
    def concat(parts: "list[Tracks]") -> "Tracks":
        """Concatenate tables, merging callsign tables and read statistics."""
        if not parts:
            return Tracks.from_columns(
                icao24=np.empty(0, np.uint32), time=np.empty(0), lat=np.empty(0), lon=np.empty(0)
            )
        if len(parts) == 1:
            return parts[0]  # nothing to merge: no copy of every column
        names: dict[str, int] = {}
        codes = []
        stats = ReadStats()
        for p in parts:
            remap = np.array([names.setdefault(c, len(names)) for c in p.callsigns] + [-1], np.int32)
            codes.append(remap[p.callsign])  # code -1 indexes the trailing -1
            stats.merge(p.stats)
        cols = {name: np.concatenate([getattr(p, name) for p in parts]) for name in COLUMNS + ("flags",) if name != "callsign"}
        return Tracks(
            **cols,
            callsign=np.concatenate(codes),
            callsigns=tuple(names),
            source=", ".join(dict.fromkeys(p.source for p in parts if p.source)),
            stats=stats,
        )

    def callsign_of(self, row: int) -> str | None:
        code = int(self.callsign[row])
        return self.callsigns[code] if code >= 0 else None
