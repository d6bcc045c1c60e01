"""Aircraft identity: state of registry, military/state/civil, and why.

>>> from skyfence.identity import identify, read_watchlist
>>> wl = read_watchlist("plane-alert-db.csv")                    # doctest: +SKIP
>>> t = identify(["4b8e2a", "ae0455"], ["TUAF123", None], watchlists=(wl,))  # doctest: +SKIP

See :func:`identify` for the columns and the precedence of the sources.
"""

from __future__ import annotations

from ._identify import COLUMNS, identify
from ._watchlist import Watchlist, WatchlistError, read_watchlist

__all__ = ["COLUMNS", "Watchlist", "WatchlistError", "identify", "read_watchlist"]
