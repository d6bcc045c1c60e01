"""Military address blocks and callsign rules (``skyfence/data/identity-rules.json``).

The file is curated by hand; every entry cites where it comes from
(``source``).  ``military_blocks``: ranges of ICAO addresses that states use
for military (or other state) aircraft, as the ADS-B community's decoders and
aggregators flag them.  ``callsigns``: regular expressions (Python ``re``,
matched against the upper-case callsign without spaces) of air forces and state
operators, most specific first; the first rule that matches decides.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass

import numpy as np

from ._blocks import DATA

RULES = DATA / "identity-rules.json"
CATEGORIES = ("military", "state", "civil", "unknown")


@dataclass(frozen=True)
class MilitaryBlocks:
    start: np.ndarray  # uint32, sorted, disjoint
    end: np.ndarray
    state: np.ndarray  # object, alpha-3 or None
    category: np.ndarray  # object: military | state
    label: np.ndarray
    source: np.ndarray

    def find(self, addr: np.ndarray) -> np.ndarray:
        """Index of the military block holding each address, -1 where none does."""
        if len(self.start) == 0:
            return np.full(len(addr), -1, dtype=np.int64)
        i = np.searchsorted(self.start, addr, side="right").astype(np.int64) - 1
        ok = i >= 0
        ok[ok] = addr[ok] <= self.end[i[ok]]
        return np.where(ok, i, -1)


@dataclass(frozen=True)
class CallsignRule:
    pattern: re.Pattern
    state: str | None
    category: str
    label: str
    source: str


@dataclass(frozen=True)
class Rules:
    military: MilitaryBlocks
    callsigns: tuple[CallsignRule, ...]

    def match_callsign(self, callsign: str) -> int:
        """Index of the first rule matching ``callsign`` (normalised), -1 if none."""
        cs = normalise_callsign(callsign)
        if not cs:
            return -1
        for i, rule in enumerate(self.callsigns):
            if rule.pattern.search(cs):
                return i
        return -1


def normalise_callsign(callsign: str | None) -> str:
    return "".join(callsign.split()).upper() if callsign else ""


@functools.lru_cache(maxsize=1)
def load_rules() -> Rules:
    """The shipped rules (read once); fails loudly if the file is inconsistent."""
    raw = json.loads(RULES.read_text(encoding="utf-8"))
    blocks = sorted(raw["military_blocks"], key=lambda b: int(b["start"], 16))
    start = np.array([int(b["start"], 16) for b in blocks], dtype=np.uint32)
    end = np.array([int(b["end"], 16) for b in blocks], dtype=np.uint32)
    if not (np.all(end >= start) and np.all(start[1:] > end[:-1])):
        raise RuntimeError(f"{RULES}: military blocks overlap or are inverted")
    for b in blocks:
        if b["category"] not in ("military", "state") or not b.get("source"):
            raise RuntimeError(f"{RULES}: block {b['start']}: category must be military|state and a source given")

    def obj(key: str) -> np.ndarray:
        out = np.empty(len(blocks), dtype=object)
        out[:] = [b.get(key) for b in blocks]
        return out

    military = MilitaryBlocks(start, end, obj("state"), obj("category"), obj("label"), obj("source"))
    rules = []
    for r in raw["callsigns"]:
        if r["category"] not in CATEGORIES or not r.get("source"):
            raise RuntimeError(f"{RULES}: callsign rule {r['pattern']}: bad category or no source")
        rules.append(CallsignRule(re.compile(r["pattern"]), r.get("state"), r["category"], r["label"], r["source"]))
    return Rules(military, tuple(rules))
