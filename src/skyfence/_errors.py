"""The one error hierarchy of skyfence.

::

    SkyfenceError                 base of everything skyfence raises on purpose
    ├── InputError                a user-supplied file or stream is unusable
    │   ├── TrackFormatError      tracks: unknown format, bad column, bad value
    │   ├── ZoneFormatError       zones: unknown format, broken polygon, bad limit
    │   ├── PolicyError           policy file: unknown key, bad pattern, bad window, no such zone
    │   └── WatchlistError        watchlist: unreadable, or not in the plane-alert-db format
    ├── OutputError               an output cannot be written
    └── ConfigError               bad command-line option or argument combination

Every error carries the facts: ``source`` (file name or ``-``), and where known
``line`` (1-based line or record number) and ``field`` (column / key). ``str(err)``
is one line, ready for the terminal: ``FILE:LINE: field 'lat': message``.
The CLI prints it and exits with status 2; nothing a user gives skyfence ends in
a traceback.
"""

from __future__ import annotations


class SkyfenceError(Exception):
    """Base class of all skyfence errors."""


class InputError(SkyfenceError, ValueError):
    """A user-supplied input cannot be used.

    Parameters
    ----------
    message:
        What is wrong, in a few words.
    source:
        File path (or ``-`` for stdin) the problem is in.
    line:
        1-based line number, record number or row number, where known.
    field:
        Column, key or OpenAir command concerned, where known.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.source is not None:
            where = str(self.source)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        if self.field is not None:
            where += f"field {self.field!r}: "
        return f"{where}{self.message}"


class TrackFormatError(InputError):
    """A track file is unreadable, of unknown format, or holds bad values."""


class ZoneFormatError(InputError):
    """A zone file is unreadable, of unknown format, or holds a bad zone."""


class PolicyError(InputError):
    """A policy file is unreadable or says something that cannot be applied."""


class WatchlistError(InputError):
    """A watchlist file is unreadable or not in the plane-alert-db format."""


class OutputError(SkyfenceError):
    """An output file cannot be written (missing folder, permissions, disk full)."""


class ConfigError(SkyfenceError):
    """A bad option, argument or combination of them."""
