"""Where skyfence caches what it derives once (zone indexes, decoded borders)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``$SKYFENCE_CACHE_DIR``, else ``$XDG_CACHE_HOME/skyfence``, else ``~/.cache/skyfence``."""
    env = os.environ.get("SKYFENCE_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "skyfence"
