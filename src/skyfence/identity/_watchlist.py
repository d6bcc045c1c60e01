"""Watchlists in the plane-alert-db CSV format.

plane-alert-db (github.com/sdr-enthusiasts/plane-alert-db, used by Planefence /
Plane-Alert) lists "interesting" aircraft, one per row::

    $ICAO,$Registration,$Operator,$Type,$ICAO Type,#CMPG,$Tag 1,$#Tag 2,$#Tag 3,Category,$#Link
    43C6E4,ZZ336,Royal Air Force,Airbus A330 Voyager KC2,A332,Mil,Tanker,...

``$`` and ``#`` in a header are display flags of Plane-Alert and are ignored
here; the ``-images`` variants (extra ``#ImageLink`` columns) and the older
``ICAO,Ident,Operator,Type,CMPG,...`` layout are read too.  ``#CMPG`` gives the
category: ``Mil`` -> ``military``, ``Gov`` and ``Pol`` -> ``state``, ``Civ`` ->
``civil``; anything else (or no such column) leaves it ``unknown``.

A file whose header is not of that format at all raises :class:`WatchlistError`
naming the file.  Rows whose ICAO address is not six hex digits are skipped,
each reported by a warning ``FILE:LINE: ...`` and counted in ``skipped``; a
repeated address keeps its first row (later ones are skipped and reported the
same way).
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field

import numpy as np

from .._errors import WatchlistError
from ._blocks import is_icao24

CMPG_CATEGORY = {"mil": "military", "gov": "state", "pol": "state", "civ": "civil"}

# canonical field -> accepted header names (lower case, $ and # flags removed)
_COLUMNS = {
    "icao": ("icao", "icao24", "hex"),
    "registration": ("registration", "ident", "reg"),
    "operator": ("operator",),
    "type": ("type",),
    "icao_type": ("icao type", "icaotype"),
    "cmpg": ("cmpg",),
    "tag1": ("tag 1", "tag1", "tag"),
    "tag2": ("tag 2", "tag2"),
    "tag3": ("tag 3", "tag3"),
    "category": ("category",),
    "link": ("link",),
}


@dataclass
class Watchlist:
    """Aircraft listed in one plane-alert-db file, sorted by address.

    Attributes
    ----------
    source:
        The file name, as given.
    icao24:
        uint32 addresses, sorted, unique.
    registration, operator, type, icao_type, tags, category, link:
        Object arrays aligned with ``icao24`` (``None`` where empty; ``tags``
        is ``"Tag 1,Tag 2,Tag 3"`` without the empty ones; ``category`` one of
        ``military``, ``state``, ``civil``, ``unknown``).  ``list_category`` is
        the file's own ``Category`` column (e.g. ``Other Air Forces``).
    line:
        1-based line number of each row in the file.
    skipped:
        Number of rows skipped (bad hex, repeated address, too few fields).
    warnings:
        One line per skipped row, ``FILE:LINE: why``.
    """

    source: str
    icao24: np.ndarray
    registration: np.ndarray
    operator: np.ndarray
    type: np.ndarray
    icao_type: np.ndarray
    tags: np.ndarray
    category: np.ndarray
    list_category: np.ndarray
    line: np.ndarray
    skipped: int = 0
    warnings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.icao24)

    def report(self) -> list[str]:
        """What was skipped, for a terminal: each skipped row (``warning: FILE:LINE: why``)
        and then the count; empty when nothing was skipped."""
        if not self.skipped:
            return []
        return [f"warning: {w}" for w in self.warnings] + [
            f"{self.source}: {len(self)} aircraft read, {self.skipped} rows skipped"]

    def find(self, addr: np.ndarray) -> np.ndarray:
        """Row of each address in this watchlist, -1 where it is not listed."""
        if len(self.icao24) == 0:
            return np.full(len(addr), -1, dtype=np.int64)
        i = np.searchsorted(self.icao24, addr)
        i = np.minimum(i, len(self.icao24) - 1)
        return np.where(self.icao24[i] == addr, i, -1).astype(np.int64)

    def evidence(self, row: int) -> str:
        """Short text naming the file, the line and what it says about the row."""
        what = [x for x in (self.operator[row], self.type[row]) if x]
        if self.tags[row]:
            what.append(f"tags {self.tags[row]}")
        name = os.path.basename(self.source)
        return f"watchlist {name}:{int(self.line[row])}: " + (", ".join(what) or "listed")


def _header_map(header: list[str], source: str) -> dict[str, int]:
    names = [h.strip().lstrip("\ufeff").replace("$", "").replace("#", "").strip().lower() for h in header]
    cols: dict[str, int] = {}
    for key, accepted in _COLUMNS.items():
        for i, n in enumerate(names):
            if n in accepted and key not in cols:
                cols[key] = i
                break
    if cols.get("icao") != 0 or "operator" not in cols or "registration" not in cols:
        shown = ",".join(header)[:80]
        raise WatchlistError(
            "not a plane-alert-db watchlist: the header must start "
            f"'$ICAO,$Registration,$Operator,$Type,...', found {shown!r}",
            source=source, line=1,
        )
    return cols


def read_watchlist(path: str | os.PathLike) -> Watchlist:
    """Read one watchlist in the plane-alert-db CSV format.

    Parameters
    ----------
    path:
        The CSV file (UTF-8; a BOM is accepted).

    Returns
    -------
    Watchlist
        With ``skipped`` and ``warnings`` for the rows left out.

    Raises
    ------
    WatchlistError
        The file cannot be read or is not in that format (names the file).

    Examples
    --------
    >>> wl = read_watchlist("plane-alert-db.csv")      # doctest: +SKIP
    >>> wl.skipped, wl.warnings[:1]                     # doctest: +SKIP
    (1, ['plane-alert-db.csv:7: bad ICAO address 'XYZ123' (not 6 hex digits): row skipped'])
    """
    source = os.fspath(path)
    try:
        with open(source, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise WatchlistError("no such file", source=source) from None
    except OSError as err:
        raise WatchlistError(f"cannot read: {err.strerror or err}", source=source) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    if "\x00" in text:
        raise WatchlistError("not a plane-alert-db watchlist: binary content", source=source)

    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise WatchlistError("not a plane-alert-db watchlist: the file is empty", source=source) from None
    except csv.Error as err:
        raise WatchlistError(f"not a plane-alert-db watchlist: {err}", source=source, line=1) from None
    cols = _header_map(header, source)

    def get(row: list[str], key: str) -> str | None:
        i = cols.get(key)
        if i is None or i >= len(row):
            return None
        v = row[i].strip()
        return v or None

    rows: dict[int, tuple] = {}
    warnings: list[str] = []
    skipped = 0
    try:
        end = reader.line_num
        for row in reader:
            lineno, end = end + 1, reader.line_num  # first line of the record (quoted newlines)
            if not row or all(not c.strip() for c in row):
                continue
            hexs = row[0].strip()
            if not is_icao24(hexs):
                skipped += 1
                warnings.append(f"{source}:{lineno}: bad ICAO address {hexs!r} (not 6 hex digits): row skipped")
                continue
            addr = int(hexs, 16)
            if addr in rows:
                skipped += 1
                warnings.append(f"{source}:{lineno}: address {hexs.lower()} already listed on line "
                                f"{rows[addr][-1]}: row skipped")
                continue
            cmpg = (get(row, "cmpg") or "").lower()
            tags = ",".join(t for t in (get(row, "tag1"), get(row, "tag2"), get(row, "tag3")) if t)
            rows[addr] = (get(row, "registration"), get(row, "operator"), get(row, "type"), get(row, "icao_type"),
                          tags, CMPG_CATEGORY.get(cmpg, "unknown"), get(row, "category"), lineno)
    except csv.Error as err:
        raise WatchlistError(f"unreadable CSV: {err}", source=source, line=reader.line_num) from None

    order = sorted(rows)
    vals = [rows[a] for a in order]

    def col(j: int) -> np.ndarray:
        out = np.empty(len(vals), dtype=object)
        out[:] = [v[j] for v in vals]
        return out

    return Watchlist(
        source=source,
        icao24=np.asarray(order, dtype=np.uint32),
        registration=col(0), operator=col(1), type=col(2), icao_type=col(3),
        tags=col(4), category=col(5), list_category=col(6),
        line=np.asarray([v[7] for v in vals], dtype=np.int64),
        skipped=skipped, warnings=warnings,
    )
