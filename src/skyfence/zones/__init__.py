"""Zones: airspace volumes (lateral polygon + vertical band) and their readers.

``read_zones(spec)`` reads ``world`` / ``world:TUR,SYR`` (the shipped sovereign
airspace of 250 states) or a GeoJSON, traffic airspace JSON, EUROCONTROL FIR
GeoJSON or OpenAir file (plain or gzip), and returns a list of ``Zone``.

Imports are lazy: importing this package loads nothing heavy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["read_zones", "Zone", "Limit", "SFC", "UNL", "checked_geometry"]

if TYPE_CHECKING:  # pragma: no cover
    from ._model import SFC, UNL, Limit, Zone, checked_geometry
    from ._read import read_zones

_WHERE = {
    "read_zones": "._read",
    "Zone": "._model",
    "Limit": "._model",
    "SFC": "._model",
    "UNL": "._model",
    "checked_geometry": "._model",
}


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
