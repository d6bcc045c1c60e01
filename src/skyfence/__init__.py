"""skyfence: exact airspace-breach detection from ADS-B / Mode S data.

>>> import skyfence
>>> zones = skyfence.read_zones("world:TUR,SYR")          # doctest: +SKIP
>>> tracks = skyfence.read_tracks("flights.json.gz")     # doctest: +SKIP
>>> episodes = skyfence.detect(tracks, zones)            # a pyarrow.Table

Heavy modules load on first use; importing skyfence has no side effects.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from ._errors import (
    ConfigError,
    InputError,
    OutputError,
    PolicyError,
    SkyfenceError,
    TrackFormatError,
    WatchlistError,
    ZoneFormatError,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "InputError",
    "Limit",
    "OutputError",
    "Policy",
    "PolicyError",
    "SkyfenceError",
    "TrackFormatError",
    "Tracks",
    "WarningMonitor",
    "WatchlistError",
    "Zone",
    "ZoneFormatError",
    "__version__",
    "classify",
    "detect",
    "detect_stream",
    "predict_entries",
    "identify",
    "integrity_flags",
    "judge",
    "read_policy",
    "read_tracks",
    "read_watchlist",
    "read_zones",
    "synth",
]

_LAZY = {
    "detect": "._detect",
    "classify": "._detect",
    "detect_stream": "._stream",
    "integrity_flags": "._integrity",
    "predict_entries": "._predict",
    "WarningMonitor": "._predict",
    "read_tracks": ".io",
    "read_zones": ".zones",
    "Tracks": "._tracks",
    "Zone": ".zones._model",
    "Limit": ".zones._model",
    "read_policy": ".policy",
    "judge": ".policy",
    "Policy": ".policy",
    "identify": ".identity",
    "read_watchlist": ".identity",
    "synth": "._synth",
}

if TYPE_CHECKING:  # pragma: no cover
    from ._detect import classify, detect
    from ._integrity import integrity_flags
    from ._predict import WarningMonitor, predict_entries
    from ._stream import detect_stream
    from ._synth import synth
    from ._tracks import Tracks
    from .identity import identify, read_watchlist
    from .policy import Policy, judge, read_policy
    from .io import read_tracks
    from .zones import read_zones
    from .zones._model import Limit, Zone


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'skyfence' has no attribute {name!r}")
