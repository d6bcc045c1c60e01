"""``read_zones``: one entry point for every zone source, format told by content."""

from __future__ import annotations

import gzip
import json
import os
import sys
import zlib
from pathlib import Path
from typing import Callable

from .._errors import ZoneFormatError
from ._model import Zone

FORMATS = "GeoJSON, traffic airspace JSON, EUROCONTROL FIR GeoJSON, OpenAir"


def warn_stderr(message: str) -> None:
    """The default ``warn``: one line on standard error."""
    print(f"skyfence: warning: {message}", file=sys.stderr)


def read_zones(spec: str | os.PathLike, *, warn: Callable[[str], None] = warn_stderr) -> list[Zone]:
    """Read a zone set.

    ``spec`` is ``world`` (the 250 states' sovereign airspace shipped with
    skyfence), ``world:TUR,SYR`` (some of them, ISO 3166-1 alpha-3 codes), or
    the path of a zone file: GeoJSON, traffic's airspace JSON, EUROCONTROL FIR
    GeoJSON or OpenAir, plain or gzip-compressed, told apart by content (a file
    really named ``world`` is read as ``./world``).

    ``warn(message)`` hears about what was repaired or skipped (default: a line
    on stderr).  Everything unusable raises ``ZoneFormatError`` naming the
    file and, where it can, the line or JSON path.  A ``Path`` is always a file.
    """
    if isinstance(spec, os.PathLike):
        return read_zone_file(os.fspath(spec), warn=warn)
    if not isinstance(spec, str) or not spec.strip():
        raise ZoneFormatError("empty zone spec (a file, 'world' or 'world:TUR,SYR')")
    head = spec.strip().partition(":")[0].strip().lower()
    if head == "world":
        from ._world import world_zones

        return world_zones(spec.strip())
    return read_zone_file(spec, warn=warn)


def read_bytes(path: Path, source: str) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ZoneFormatError("no such zone file (nor 'world' / 'world:CODES')", source=source) from None
    except IsADirectoryError:
        raise ZoneFormatError("is a directory, not a zone file", source=source) from None
    except OSError as exc:
        raise ZoneFormatError(f"cannot read: {exc.strerror or exc}", source=source) from None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise ZoneFormatError(f"broken gzip file: {exc}", source=source) from None
    return data


def decode(data: bytes) -> str:
    """UTF-8 (BOM stripped), else Windows-1252, else Latin-1: never fails."""
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes anything")  # pragma: no cover


def read_zone_file(path: str | Path, *, warn: Callable[[str], None] = warn_stderr) -> list[Zone]:
    source = str(path)
    data = read_bytes(Path(path), source)
    text = decode(data).lstrip("\ufeff")
    stripped = text.strip()
    if not stripped:
        raise ZoneFormatError(f"empty file (expected one of: {FORMATS})", source=source)
    if stripped[0] in "{[":
        try:
            obj = json.loads(stripped)
        except json.JSONDecodeError as exc:
            # line numbers of the stripped text = of the file, minus leading blank lines
            lead = text[: len(text) - len(text.lstrip())].count("\n")
            raise ZoneFormatError(
                f"invalid JSON: {exc.msg} (column {exc.colno})", source=source, line=exc.lineno + lead
            ) from None
        return read_json(obj, source, warn)
    from ._openair import looks_like_openair, read_openair

    if looks_like_openair(text.splitlines()[:5000]):
        return read_openair(text, source, warn)
    raise ZoneFormatError(f"unknown zone format (tried {FORMATS})", source=source)


def read_json(obj, source: str, warn) -> list[Zone]:
    from ._traffic import is_eurocontrol, is_traffic_airspace, read_eurocontrol, read_traffic_airspace

    if is_traffic_airspace(obj):
        return read_traffic_airspace(obj, source, warn)
    if is_eurocontrol(obj):
        return read_eurocontrol(obj, source, warn)
    if isinstance(obj, dict) and obj.get("type") in ("FeatureCollection", "Feature"):
        from ._geojson import read_geojson

        return read_geojson(obj, source, warn)
    what = f"a JSON {type(obj).__name__}"
    if isinstance(obj, dict) and "type" in obj:
        what += f" of type {obj['type']!r}"
    raise ZoneFormatError(f"unknown zone format: {what} (tried {FORMATS})", source=source)
