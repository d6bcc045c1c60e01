"""``identify``: who an aircraft is, from its ICAO address, callsign and watchlists.

Sources, in order of precedence when they disagree on the category:

1. ``watchlist`` -- a row of a plane-alert-db file naming this airframe
   (first watchlist given wins over later ones);
2. ``callsign-rule`` -- the callsign matches an air force / state operator rule;
3. ``military-block`` -- the address lies in a block used for military aircraft;
4. ``block`` -- the plain ICAO allocation block: it gives the state of
   registry only, so the category stays ``unknown``.

``state`` (ISO 3166-1 alpha-3) and ``country`` always come from the allocation
block when it names a state: the address *is* the state of registry.  Only when
the block names none (unassigned reserves) does a rule's state fill in.

``source`` joins, with ``+``, every source that agrees with the deciding one
(a watchlist row without a category counts as agreeing).  ``confidence``:

- ``high``: a watchlist row that nothing contradicts, or two independent
  sources (callsign rule and military block) agreeing;
- ``medium``: one rule-based source; a watchlist row contradicted by a rule; a
  plain allocation block (state known, category unknown);
- ``low``: a callsign or military-block rule contradicted by another source or
  naming another state than the address's block; an address in no state's
  block with nothing else known.

All work is vectorised: the per-row lookups are ``searchsorted`` over sorted
arrays, and the decision is made once per distinct combination of (block,
military block, matching callsign, watchlist row), then spread by index.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from .._errors import InputError
from ._blocks import format_icao24, load_blocks, parse_icao24
from ._rules import load_rules, normalise_callsign
from ._watchlist import Watchlist

COLUMNS = ("icao24", "country", "state", "category", "registration", "operator", "type", "tags",
           "source", "confidence", "evidence")
SCHEMA = pa.schema([(c, pa.string()) for c in COLUMNS])


def identify(icao24, callsign: Sequence[str | None] | None = None, *,
             watchlists: Sequence[Watchlist] = ()) -> pa.Table:
    """Identify aircraft: state of registry, category, and where that comes from.

    Parameters
    ----------
    icao24:
        Sequence, numpy or pyarrow array of 6-hex-digit strings (any case) or
        integers in ``[0, 0xFFFFFF]``; a single address is accepted too.
    callsign:
        ``None``, or a sequence of the same length of callsigns (``str`` or
        ``None``); spaces are ignored, case too.
    watchlists:
        :class:`Watchlist` objects from :func:`read_watchlist`; an address
        listed in several takes the first one's row.

    Returns
    -------
    pyarrow.Table
        One row per input, in input order, all columns strings: ``icao24``
        (lowercase hex), ``country``, ``state`` (ISO alpha-3), ``category``
        (``military``, ``state``, ``civil``, ``unknown``), ``registration``,
        ``operator``, ``type`` (from watchlists), ``tags`` (comma-separated,
        ``""`` if none), ``source``, ``confidence`` (``high``, ``medium``,
        ``low``), ``evidence``.

    Raises
    ------
    InputError
        An address that is not 24-bit hex, or a callsign sequence of another
        length.

    Examples
    --------
    >>> from skyfence.identity import identify
    >>> t = identify(["4b8e2a", "3b7777", "ae0455"])
    >>> t.column("state").to_pylist()
    ['TUR', 'FRA', 'USA']
    """
    addr = parse_icao24(icao24)
    n = len(addr)
    blocks = load_blocks()
    rules = load_rules()
    watchlists = tuple(watchlists)
    for wl in watchlists:
        if not isinstance(wl, Watchlist):
            raise TypeError(f"watchlists must hold Watchlist objects (from read_watchlist), got {type(wl).__name__}")

    bi = blocks.find(addr)
    mi = rules.military.find(addr)
    ri, ci, cs_unique = _callsign_rules(callsign, n, rules)
    wi = _watchlist_rows(addr, watchlists)

    keys, inverse = _combinations([bi, mi, ri, ci, wi])
    wl_index = _WatchlistIndex(watchlists)
    out = {c: [] for c in ("country", "state", "category", "source", "confidence", "evidence")}
    for b, m, r, c, w in keys.T.tolist():
        d = _decide(b, m, r, cs_unique[c] if c >= 0 else None, w, blocks, rules, wl_index)
        for k in out:
            out[k].append(d[k])

    def spread(values: list) -> pa.Array:
        return pa.array(values, type=pa.string()).take(pa.array(inverse))

    if (wi >= 0).any():
        w_take = pa.array(np.where(wi >= 0, wi, len(wl_index)))

        def listed(name: str, default: str | None = None) -> pa.Array:
            return wl_index.column(name, default=default).take(w_take)
    else:  # nobody listed: no per-row gathering

        def listed(name: str, default: str | None = None) -> pa.Array:
            return pa.nulls(n, pa.string()) if default is None else pa.repeat(pa.scalar(default, pa.string()), n)

    columns = {
        "icao24": format_icao24(addr),
        "country": spread(out["country"]),
        "state": spread(out["state"]),
        "category": spread(out["category"]),
        "registration": listed("registration"),
        "operator": listed("operator"),
        "type": listed("type"),
        "tags": listed("tags", default=""),
        "source": spread(out["source"]),
        "confidence": spread(out["confidence"]),
        "evidence": spread(out["evidence"]),
    }
    return pa.Table.from_pydict(columns, schema=SCHEMA)


def _callsign_rules(callsign, n: int, rules) -> tuple[np.ndarray, np.ndarray, list]:
    """Per row: index of the matching rule and of the distinct matching callsign (-1: none)."""
    none = np.full(n, -1, dtype=np.int64)
    if callsign is None:
        return none, none, []
    if isinstance(callsign, str):
        callsign = [callsign]
    if isinstance(callsign, pa.ChunkedArray):
        callsign = callsign.combine_chunks()
    try:
        if isinstance(callsign, pa.Array):
            arr = callsign.cast(pa.string())
        else:
            arr = pa.array(np.asarray(callsign, dtype=object).ravel() if isinstance(callsign, np.ndarray)
                           else list(callsign), type=pa.string())
    except (pa.ArrowException, TypeError) as err:
        raise InputError(f"callsigns must be strings or None: {err}", field="callsign") from None
    if len(arr) != n:
        raise InputError(f"{len(arr)} callsigns for {n} addresses", field="callsign")
    if not rules.callsigns:
        return none, none, []
    enc = arr.dictionary_encode()
    uniques = [normalise_callsign(s) for s in enc.dictionary.to_pylist()]
    rule_of_unique = np.array([rules.match_callsign(s) for s in uniques] + [-1], dtype=np.int64)
    idx = enc.indices.fill_null(len(uniques)).to_numpy(zero_copy_only=False).astype(np.int64)
    ri = rule_of_unique[idx]
    matched = rule_of_unique >= 0
    compact = np.cumsum(matched) - 1  # number the matching callsigns only: a small key space
    ci = np.where(ri >= 0, compact[idx], -1)
    return ri, ci, [u for u, m in zip(uniques, matched[:-1]) if m]


def _watchlist_rows(addr: np.ndarray, watchlists: tuple[Watchlist, ...]) -> np.ndarray:
    """Global row (over all watchlists concatenated) of each address, -1 if unlisted."""
    wi = np.full(len(addr), -1, dtype=np.int64)
    offset = 0
    for wl in watchlists:
        rows = wl.find(addr)
        take = (wi < 0) & (rows >= 0)
        wi[take] = rows[take] + offset
        offset += len(wl)
    return wi


def _combinations(parts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Distinct tuples of the int arrays ``parts`` (values >= -1) and each row's index into them.

    The tuple is packed into one int64 key (mixed radix); small key spaces are
    deduplicated by a presence table in O(n), larger ones with ``np.unique``.
    """
    radix = [int(v.max()) + 2 if v.size else 1 for v in parts]
    space = 1
    for r in radix:
        space *= r
    if space >= 1 << 62:  # pragma: no cover - needs > 2**62 combinations of inputs
        uniq, inverse = np.unique(np.stack(parts), axis=1, return_inverse=True)
        return uniq, inverse.ravel()
    key = np.zeros(len(parts[0]), dtype=np.int64)
    for v, r in zip(parts, radix):
        key *= r
        key += v
        key += 1
    if space <= 1 << 24:
        present = np.zeros(space, dtype=np.bool_)
        present[key] = True
        uniq = np.flatnonzero(present)
        rank = np.cumsum(present, dtype=np.int64) - 1
        inverse = rank[key]
    else:
        uniq, inverse = np.unique(key, return_inverse=True)
        inverse = inverse.ravel()
    out = np.empty((len(parts), len(uniq)), dtype=np.int64)
    rest = uniq.astype(np.int64)
    for k in range(len(parts) - 1, -1, -1):
        out[k] = rest % radix[k] - 1
        rest //= radix[k]
    return out, inverse


class _WatchlistIndex:
    """All watchlists' rows concatenated, for lookups by global row."""

    def __init__(self, watchlists: tuple[Watchlist, ...]) -> None:
        self.lists = watchlists
        self.offsets = np.cumsum([0] + [len(w) for w in watchlists])

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def locate(self, g: int) -> tuple[Watchlist, int]:
        k = int(np.searchsorted(self.offsets, g, side="right")) - 1
        return self.lists[k], g - int(self.offsets[k])

    def column(self, name: str, default: str | None = None) -> pa.Array:
        vals = [v for w in self.lists for v in getattr(w, name)]
        vals.append(default)
        if default is not None:
            vals = [default if v is None else v for v in vals]
        return pa.array(vals, type=pa.string())


def _decide(b: int, m: int, r: int, cs: str | None, w: int, blocks, rules, wls: _WatchlistIndex) -> dict:
    """Identity of one distinct combination of lookups (the precedence rules)."""
    claims = []  # (source, category, state, text), in order of precedence
    if w >= 0:
        wl, row = wls.locate(w)
        claims.append(("watchlist", wl.category[row], None, wl.evidence(row)))
    if r >= 0:
        rule = rules.callsigns[r]
        claims.append(("callsign-rule", rule.category, rule.state,
                       f"callsign {cs} matches {rule.label} ({rule.pattern.pattern})"))
    if m >= 0:
        mb = rules.military
        claims.append(("military-block", mb.category[m], mb.state[m],
                       f"address in {mb.label[m]} {int(mb.start[m]):06x}-{int(mb.end[m]):06x}"))

    block_state = blocks.state[b] if b >= 0 else None
    if b >= 0:
        block_text = f"ICAO allocation {int(blocks.start[b]):06x}-{int(blocks.end[b]):06x}: {blocks.name[b]}"
    else:
        block_text = "address in no ICAO allocation block"

    decided = [c for c in claims if c[1] != "unknown"]
    if decided:
        category = decided[0][1]
        agree = [c for c in claims if c[1] in (category, "unknown")]
        disagree = [c for c in decided if c[1] != category]
    else:
        category = "unknown"
        agree, disagree = claims, []

    state = block_state
    notes = []
    for c in agree:
        if c[2] and block_state and c[2] != block_state:
            notes.append(f"{c[0]} says {c[2]} but the address is registered in {block_state}")
    if state is None:
        state = next((c[2] for c in agree if c[2]), None)
    for c in disagree:
        notes.append(f"overridden: {c[3]} ({c[1]})")

    n_agree = sum(1 for c in agree if c[1] == category and category != "unknown")
    if not decided:
        confidence = "medium" if block_state else "low"
    elif decided[0][0] == "watchlist":
        confidence = "medium" if disagree else "high"
    elif disagree or notes:
        confidence = "low"
    else:
        confidence = "high" if n_agree >= 2 else "medium"

    if agree:
        source = "+".join(c[0] for c in agree)
    else:
        source = "block" if b >= 0 else "none"
    evidence = "; ".join([c[3] for c in agree] + [block_text] + notes)
    country = blocks.name_of(state) if state else None
    return {"country": country, "state": state, "category": category, "source": source,
            "confidence": confidence, "evidence": evidence}
