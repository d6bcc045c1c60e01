"""Activation windows as interval arithmetic over whole episode arrays.

Windows (absolute spans and weekly day/time windows) are expanded into sorted,
disjoint absolute intervals over the time the episodes cover; then, for every
episode at once, :class:`Active` gives the active time between two instants
(``measure``), the first active instant at or after one (``first_after``) and
whether an instant is active (``contains``).  Intervals are closed; a
zero-length episode is active when its instant is.
"""

from __future__ import annotations

import numpy as np

DAY = 86400.0


class Active:
    """The union of ``windows`` over ``[t0, t1]`` (epoch seconds)."""

    def __init__(self, windows, t0: float, t1: float) -> None:
        t0, t1 = float(t0) - DAY, float(t1) + DAY
        spans = []
        for w in windows:
            if w.kind == "span":
                spans.append((max(w.start, t0), min(w.end, t1)))
            else:
                d = np.arange(np.floor(t0 / DAY), np.ceil(t1 / DAY) + 1)
                weekday = (d.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
                d = d[np.isin(weekday, list(w.days))]
                spans.extend(zip(d * DAY + w.start, d * DAY + w.end))
        s = np.array([a for a, b in spans if b > a], float)
        e = np.array([b for a, b in spans if b > a], float)
        order = np.argsort(s, kind="stable")
        s, e = s[order], e[order]
        if len(s):  # merge: an interval starting after every earlier end starts a new one
            run_end = np.maximum.accumulate(e)
            new = np.concatenate([[True], s[1:] > run_end[:-1]])
            s = s[new]
            e = np.maximum.reduceat(e, np.nonzero(new)[0])
        self.s, self.e = s, e
        self.cum = np.concatenate([[0.0], np.cumsum(e - s)])

    def at(self, t: np.ndarray) -> np.ndarray:
        """Active time from the start up to each ``t``."""
        t = np.asarray(t, float)
        if not len(self.s):
            return np.zeros_like(t)
        k = np.searchsorted(self.s, t, side="right") - 1
        kk = np.clip(k, 0, None)
        inside = np.clip(t - self.s[kk], 0.0, self.e[kk] - self.s[kk])
        return np.where(k < 0, 0.0, self.cum[kk] + inside)

    def measure(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Active time within ``[a, b]`` (0 where ``b <= a``)."""
        return np.maximum(self.at(b) - self.at(a), 0.0)

    def contains(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, float)
        if not len(self.s):
            return np.zeros(t.shape, bool)
        k = np.searchsorted(self.s, t, side="right") - 1
        kk = np.clip(k, 0, None)
        return (k >= 0) & (t <= self.e[kk])

    def first_after(self, t: np.ndarray) -> np.ndarray:
        """The first active instant at or after each ``t`` (inf if none)."""
        t = np.asarray(t, float)
        if not len(self.s):
            return np.full(t.shape, np.inf)
        k = np.searchsorted(self.e, t, side="left")  # first interval ending at or after t
        kk = np.clip(k, 0, len(self.s) - 1)
        return np.where(k < len(self.s), np.maximum(t, self.s[kk]), np.inf)
