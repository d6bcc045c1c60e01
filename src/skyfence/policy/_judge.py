"""Verdicts, severities, incidents and warnings for an episode table under a policy.

Every step works on whole columns (numpy / pyarrow): one pass per rule,
clearance and severity rule, not per episode.  The order in which an
episode is decided (the first that applies wins) is:

1. no ``[[zones]]`` table matches its zone: ``verdict`` null;
2. ``integrity`` is ``suspect``: ``untrusted-data``;
3. outside every activation window of its zone: ``inactive``;
4. authorised by the zone table's lists (state, category, icao24, callsign)
   or, for all of its active time, by clearances: ``authorised``;
5. in a warning ring: ``warning`` (repeated every ``repeat_s``, see ``warnings``);
6. its judged time (active, not cleared) below ``min_duration_s`` or its
   depth below ``min_depth_m``: ``below-threshold``;
7. otherwise ``breach``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numba
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..identity._blocks import parse_icao24
from ..zones._model import SFC, UNL
from ._bind import Bound
from ._read import Policy, Who
from ._schedule import Active

VERDICTS = ("breach", "authorised", "warning", "below-threshold", "untrusted-data", "inactive")

EPISODE_COLUMNS = pa.schema([
    ("verdict", pa.string()),
    ("severity", pa.string()),
    ("severity_rank", pa.int32()),
    ("rule", pa.string()),
    ("severity_rule", pa.string()),
    ("registry_state", pa.string()),
    ("category", pa.string()),
    ("identity_source", pa.string()),
    ("judged_from", pa.timestamp("us", tz="UTC")),
    ("judged_s", pa.float64()),
    ("judged_depth_m", pa.float64()),
    ("cleared_s", pa.float64()),
    ("incident_id", pa.string()),
])  # fmt: skip


@dataclass
class Judgement:
    """What :func:`judge` returns: three tables.

    ``episodes``: the input episodes with :data:`EPISODE_COLUMNS` added;
    ``incidents``: breaches of one aircraft under one ``[[zones]]`` table
    merged when less than ``merge_gap_s`` apart; ``warnings``: one row per
    warning raised in a ring (time, position, sequence number).  ``notes``:
    what the policy could not use (zone activation texts that are not times:
    those zones are kept always active; judged zones without an owner state,
    where the severity rules' ``foreign`` cannot hold).
    """

    episodes: pa.Table
    incidents: pa.Table
    warnings: pa.Table
    notes: tuple = ()


def judge(episodes: pa.Table, policy: Policy, *, zones: list, tracks=None, max_gap: float = 60.0,
          identities: pa.Table | None = None) -> Judgement:  # fmt: skip
    """Judge ``episodes`` (from :func:`skyfence.detect`) under ``policy``.

    Parameters
    ----------
    episodes:
        Episodes of ``tracks`` in ``zones`` and in the policy's rings
        (``detect(tracks, zones + policy.rings(zones))``).
    policy:
        From :func:`skyfence.read_policy`.
    zones:
        The zones the episodes were detected in (without the rings).
    tracks:
        The tracks, for the position of each repeated warning; without them
        warnings carry only their times.
    max_gap:
        As given to ``detect``.
    identities:
        One row per icao24 (columns of :func:`skyfence.identity.identify`);
        by default the identity layer is asked, with the policy's watchlists.
    """
    bound: Bound = policy.bind(zones)
    n = episodes.num_rows
    zone = np.asarray(episodes.column("zone").to_pylist(), dtype=object)
    icao = np.asarray(episodes.column("icao24").to_pylist(), dtype=object)
    calls = np.asarray([c or "" for c in episodes.column("callsign").to_pylist()], dtype=object)
    entry = _seconds(episodes.column("entry_time"))
    exit_ = _seconds(episodes.column("exit_time"))
    depth = np.nan_to_num(episodes.column("max_depth_m").to_numpy(zero_copy_only=False).astype(float), nan=0.0)

    rules = bound.policy.rules
    rix = np.array([bound.rule_of[z].index if z in bound.rule_of else -1 for z in zone], np.int64)
    is_ring = np.array([z in bound.ring_of for z in zone], bool)

    ident = _identities(icao, calls, policy, identities)
    state = np.asarray(ident["state"], dtype=object)
    category = np.asarray([c or "unknown" for c in ident["category"]], dtype=object)
    owner = np.asarray([bound.owner_of.get(z) for z in zone], dtype=object)
    foreign = np.array([s is not None and o is not None and s != o for s, o in zip(state, owner)], bool)
    identified = np.array([s is not None for s in state], bool)

    # ------------------------------------------------------------ activation windows
    active_s = exit_ - entry
    judged_from = entry.copy()
    in_window = np.ones(n, bool)
    actives: dict[str, Active] = {}
    t0, t1 = (float(entry.min()), float(exit_.max())) if n else (0.0, 0.0)
    for z in np.unique(zone) if n else []:
        wins = bound.windows_of.get(z, ())
        if not wins:
            continue
        m = zone == z
        act = actives[z] = Active(wins, t0, t1)
        active_s[m] = act.measure(entry[m], exit_[m])
        judged_from[m] = act.first_after(entry[m])
        # active for some time; a zero-length episode: at an active instant (a window
        # that only touches an episode at its entry or exit leaves it inactive)
        in_window[m] = np.where(exit_[m] > entry[m], active_s[m] > 0, act.contains(entry[m]))
    judged_from[~in_window] = np.nan
    judged_depth = depth.copy()
    clipped = in_window & (active_s < (exit_ - entry) - 1e-6)
    prepared = None
    if tracks is not None and (clipped.any() or is_ring.any()):
        from ..engine._prepare import prepare

        prepared = prepare(tracks, max_gap).tracks
    if prepared is not None and clipped.any():
        judged_depth[clipped] = _clipped_depth(np.nonzero(clipped)[0], zone, icao, entry, exit_, actives,
                                               bound, prepared, max_gap)  # fmt: skip

    # ------------------------------------------------------------ clearances
    cleared_s = np.zeros(n)
    cleared_point = np.zeros(n, bool)  # zero-length episodes: the instant is cleared
    cleared_by = []  # (clearance, episodes it applies to): no ring warning while cleared
    clear_by = np.full(n, None, dtype=object)
    upper_calls = np.array([c.upper() for c in calls], dtype=object)
    for c, ids in zip(bound.policy.clearances, bound.clearance_zones):
        m = np.isin(zone, list(ids)) & (np.isin(icao, list(c.icao24)) | np.isin(upper_calls, list(c.callsigns)))
        if not m.any():
            continue
        cleared_by.append((c, m))
        a, b = np.maximum(entry, c.start), np.minimum(exit_, c.end)
        got = np.zeros(n)
        for z in np.unique(zone[m]):
            mz = m & (zone == z)
            got[mz] = actives[z].measure(a[mz], b[mz]) if z in actives else np.maximum(b[mz] - a[mz], 0.0)
        got[~m] = 0.0
        point = m & (entry == exit_) & (c.start <= entry) & (entry < c.end)  # [from, until)
        hit = (got > 0) | point
        clear_by[hit & (clear_by == None)] = c.id  # noqa: E711
        cleared_s += got
        cleared_point |= point
    judged_s = np.maximum(active_s - cleared_s, 0.0)

    # ------------------------------------------------------------ verdicts
    verdict = np.full(n, None, dtype=object)
    rule = np.full(n, None, dtype=object)

    def decide(mask, v, r):
        m = mask & (verdict == None)  # noqa: E711
        verdict[m] = v
        rule[m] = r[m] if isinstance(r, np.ndarray) else r

    has_rule = rix >= 0
    rname = np.array([rules[i].name if i >= 0 else "" for i in rix], dtype=object)
    if "integrity" in episodes.column_names:
        suspect = np.array([v == "suspect" for v in episodes.column("integrity").to_pylist()], bool)
        reasons = episodes.column("integrity_reasons").to_pylist() if "integrity_reasons" in episodes.column_names \
            else [""] * n  # fmt: skip
        decide(has_rule & suspect, "untrusted-data",
               np.array([f"integrity: {r or 'suspect'}" for r in reasons], dtype=object))
    decide(has_rule & ~in_window, "inactive", _label(rname, ": outside its activation windows"))
    for r in rules:
        m = has_rule & (rix == r.index)
        for key, hit in _who(r.authorised, m, state, category, icao, calls):
            decide(hit, "authorised", f"{r.name}: authorised.{key}")
    full_clear = (cleared_s > 0) & (judged_s <= 1e-6) | (cleared_point & (active_s <= 1e-9))
    decide(has_rule & full_clear, "authorised", np.array([f"clearance {c}" for c in clear_by], dtype=object))
    ring_name = np.array([bound.ring_of[z][1].name if z in bound.ring_of else "" for z in zone], dtype=object)
    decide(has_rule & is_ring, "warning", np.array([f"{a}: ring {b}" for a, b in zip(rname, ring_name)], dtype=object))
    min_dur = np.array([rules[i].min_duration_s if i >= 0 else 0.0 for i in rix])
    min_dep = np.array([rules[i].min_depth_m if i >= 0 else 0.0 for i in rix])
    decide(has_rule & (judged_s < min_dur), "below-threshold",
           np.array([f"{a}: min_duration_s = {d:g}" for a, d in zip(rname, min_dur)], dtype=object))
    decide(has_rule & (judged_depth < min_dep), "below-threshold",
           np.array([f"{a}: min_depth_m = {d:g}" for a, d in zip(rname, min_dep)], dtype=object))
    partly = np.array([f"; partly cleared by {c}" if c else "" for c in clear_by], dtype=object)
    decide(has_rule, "breach", np.array([f"{a}: not authorised{p}" for a, p in zip(rname, partly)], dtype=object))

    # ------------------------------------------------------------ severity
    severity = np.full(n, None, dtype=object)
    sev_rank = np.full(n, -1, np.int32)
    sev_rule = np.full(n, None, dtype=object)
    graded = np.isin(verdict, ["breach", "warning", "untrusted-data"])
    for s in bound.policy.severity:
        m = graded & (severity == None)  # noqa: E711
        if s.categories is not None:
            m &= np.isin(category, list(s.categories))
        if s.foreign is not None:
            m &= foreign == s.foreign
        if s.identified is not None:
            m &= identified == s.identified
        if not s.who.empty:
            any_hit = np.zeros(n, bool)
            for _, hit in _who(s.who, m, state, category, icao, calls):
                any_hit |= hit
            m &= any_hit
        severity[m], sev_rank[m], sev_rule[m] = s.level, s.rank, s.name

    # ------------------------------------------------------------ incidents, warnings
    incident_id, incidents = _incidents(
        verdict == "breach", icao, calls, rix, entry, exit_, judged_s, depth, sev_rank, severity,
        zone, state, category, ident["source"], rules)  # fmt: skip
    warnings = _warnings(verdict == "warning", episodes, zone, icao, calls, judged_from, exit_, bound, prepared,
                         actives, cleared_by)  # fmt: skip
    incidents = _warned(incidents, warnings, rules)

    cols = {
        "verdict": verdict, "severity": severity,
        "severity_rank": np.where(sev_rank > 0, sev_rank, None), "rule": rule, "severity_rule": sev_rule,
        "registry_state": state, "category": category,
        "identity_source": ident["source"], "judged_from": _ts_array(judged_from),
        "judged_s": judged_s, "judged_depth_m": judged_depth, "cleared_s": cleared_s, "incident_id": incident_id,
    }  # fmt: skip
    out = episodes
    for f in EPISODE_COLUMNS:
        vals = cols[f.name]
        arr = vals if isinstance(vals, pa.Array) else pa.array(list(vals) if vals.dtype == object else vals,
                                                                  type=f.type, from_pandas=True)  # fmt: skip
        out = out.append_column(f, arr)
    notes = tuple(f"zone {z!r}: {len(t)} activation text(s) not times ({t[0]!r}), zone kept always active"
                  for z, t in sorted(bound.activation_text.items()))  # fmt: skip
    ownerless = sorted({z for z in zone[has_rule & (owner == None)] if z not in bound.ring_of})  # noqa: E711
    if ownerless and any(s.foreign is not None for s in bound.policy.severity):
        notes += (f"{len(ownerless)} zone(s) without an owner state ({', '.join(ownerless[:5])}"
                  f"{' ...' if len(ownerless) > 5 else ''}): no aircraft is foreign there; "
                  "give [policy] owner or the [[zones]] table's owner",)  # fmt: skip
    return Judgement(out, incidents, warnings, notes)


# --------------------------------------------------------------------------- pieces


def _seconds(col) -> np.ndarray:
    return pc.cast(col, pa.int64()).to_numpy(zero_copy_only=False).astype(float) / 1e6


def _ts_array(sec: np.ndarray) -> pa.Array:
    us = np.where(np.isfinite(sec), np.round(np.nan_to_num(sec, posinf=0, neginf=0) * 1e6), 0).astype(np.int64)
    return pa.array(us, type=pa.timestamp("us", tz="UTC"), mask=~np.isfinite(sec))


def _label(names: np.ndarray, text: str) -> np.ndarray:
    return np.array([f"{a}{text}" for a in names], dtype=object)


def _who(who: Who, mask, state, category, icao, calls):
    """(key, mask) for each list of ``who`` that matches, in a fixed order."""
    if who.states:
        yield "states", mask & np.isin(state, list(who.states))
    if who.categories:
        yield "categories", mask & np.isin(category, list(who.categories))
    if who.icao24:
        yield "icao24", mask & np.isin(icao, list(who.icao24))
    if who.callsigns:
        uniq = {c for c in calls[mask]}
        ok = {c for c in uniq if c and any(rx.search(c) for rx in who.callsigns)}
        yield "callsigns", mask & np.isin(calls, list(ok))


def _identities(icao, calls, policy: Policy, given: pa.Table | None) -> dict:
    """state, category, source per episode, from one identity look-up per (icao24, callsign)."""
    n = len(icao)
    if n == 0:
        return {"state": np.array([], object), "category": np.array([], object), "source": np.array([], object)}
    keys = np.array([f"{a}|{b}" for a, b in zip(icao, calls)], dtype=object)
    uniq, first, inv = np.unique(keys, return_index=True, return_inverse=True)
    if given is None:
        from ..identity import identify

        given = identify(list(icao[first]), [c or None for c in calls[first]], watchlists=policy.watchlist_data)
        table = {k: np.asarray(given.column(k).to_pylist(), dtype=object) for k in ("state", "category", "source")}
        return {k: v[inv] for k, v in table.items()}
    g = {a: i for i, a in enumerate(given.column("icao24").to_pylist())}
    rows = np.array([g.get(a, -1) for a in icao[first]])
    out = {}
    for k in ("state", "category", "source"):
        col = np.asarray(given.column(k).to_pylist() + [None], dtype=object)
        out[k] = col[rows][inv]
    return out


@numba.njit(cache=True)
def _group(grp, entry, exit_, gap):
    """Incident number of each episode, sorted by (group, entry): a new incident
    where the group changes or the entry is more than ``gap`` after every
    earlier exit of the incident."""
    n = len(grp)
    out = np.empty(n, np.int64)
    k = -1
    last = -np.inf
    for i in range(n):
        if i == 0 or grp[i] != grp[i - 1] or entry[i] - last > gap[i]:
            k += 1
            last = exit_[i]
        else:
            last = max(last, exit_[i])
        out[i] = k
    return out


INCIDENT_SCHEMA = pa.schema([
    ("incident_id", pa.string()),
    ("icao24", pa.string()),
    ("callsign", pa.string()),
    ("rule", pa.string()),
    ("zones", pa.string()),
    ("first_entry", pa.timestamp("us", tz="UTC")),
    ("last_exit", pa.timestamp("us", tz="UTC")),
    ("n_episodes", pa.int64()),
    ("judged_s", pa.float64()),
    ("max_depth_m", pa.float64()),
    ("severity", pa.string()),
    ("severity_rank", pa.int32()),
    ("registry_state", pa.string()),
    ("category", pa.string()),
    ("identity_source", pa.string()),
    ("n_warnings", pa.int64()),
    ("first_warning", pa.timestamp("us", tz="UTC")),
])  # fmt: skip


def _incidents(mask, icao, calls, rix, entry, exit_, judged_s, depth, sev_rank, severity, zone, state, category,
               source, rules):  # fmt: skip
    n = len(mask)
    incident_id = np.full(n, None, dtype=object)
    idx = np.nonzero(mask)[0]
    if not len(idx):
        return incident_id, INCIDENT_SCHEMA.empty_table()
    gkey = np.array([f"{icao[i]}|{rix[i]}" for i in idx], dtype=object)
    _, gid = np.unique(gkey, return_inverse=True)
    order = np.lexsort((entry[idx], gid))
    idx, gid = idx[order], gid[order]
    gap = np.array([rules[rix[i]].merge_gap_s for i in idx])
    inc = _group(gid, entry[idx], exit_[idx], gap)
    starts = np.nonzero(np.concatenate([[True], inc[1:] != inc[:-1]]))[0]
    first_entry = entry[idx][starts]
    # an id that depends on this incident only: aircraft, first entry (UTC, to the
    # second) and [[zones]] table, so the same input gives the same ids whatever else
    # is judged with it
    stamp = np.floor(first_entry).astype(np.int64).astype("datetime64[s]")
    names = np.array([f"{icao[i]}-{str(t).replace('-', '').replace(':', '')}-z{rix[i] + 1}"
                      for i, t in zip(idx[starts], stamp)], dtype=object)  # fmt: skip
    # two incidents of one aircraft under one table starting in the same second (merge_gap_s
    # shorter than a second): the later ones get -2, -3 ... (same table, so in entry order)
    seen: dict[str, int] = {}
    for k, name in enumerate(names):
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            names[k] = f"{name}-{seen[name]}"
    incident_id[idx] = names[inc]
    rows = []
    for k, s in enumerate(starts):
        e = starts[k + 1] if k + 1 < len(starts) else len(idx)
        ii = idx[s:e]
        ranks = sev_rank[ii]
        graded = ranks[ranks > 0]
        best = ii[ranks == graded.min()][0] if len(graded) else ii[0]
        rows.append({
            "incident_id": names[k], "icao24": icao[ii[0]], "callsign": calls[ii[0]] or None,
            "rule": rules[rix[ii[0]]].name, "zones": ",".join(dict.fromkeys(zone[ii])),
            "first_entry": int(round(entry[ii].min() * 1e6)), "last_exit": int(round(exit_[ii].max() * 1e6)),
            "n_episodes": len(ii), "judged_s": float(judged_s[ii].sum()), "max_depth_m": float(depth[ii].max()),
            "severity": severity[best], "severity_rank": int(sev_rank[best]) if sev_rank[best] > 0 else None,
            "registry_state": state[ii[0]], "category": category[ii[0]], "identity_source": source[ii[0]],
            "n_warnings": 0, "first_warning": None,
        })  # fmt: skip
    table = pa.Table.from_pylist(rows, schema=INCIDENT_SCHEMA)
    return incident_id, table.take(pc.sort_indices(table, [("first_entry", "ascending"), ("icao24", "ascending")]))


WARNING_SCHEMA = pa.schema([
    ("icao24", pa.string()),
    ("callsign", pa.string()),
    ("ring", pa.string()),
    ("zone", pa.string()),
    ("rule", pa.string()),
    ("time", pa.timestamp("us", tz="UTC")),
    ("seq", pa.int64()),
    ("lat", pa.float64()),
    ("lon", pa.float64()),
    ("alt_ft", pa.float64()),
    ("episode", pa.int64()),
])  # fmt: skip


def _warnings(mask, episodes, zone, icao, calls, start, exit_, bound: Bound, tracks, actives,
              cleared_by=()) -> pa.Table:  # fmt: skip
    """One warning at ``start`` (the ring entry, or the first active instant of a
    scheduled ring) and every ``repeat_s`` after it while inside, active and not
    cleared (``cleared_by``: clearance, episodes it applies to); ``seq`` numbers
    the warnings raised in each episode.  Positions from ``tracks``, prepared,
    when given."""
    entry = start
    idx = np.nonzero(mask)[0]
    if not len(idx):
        return WARNING_SCHEMA.empty_table()
    rep = np.array([bound.ring_of[zone[i]][1].repeat_s for i in idx])
    count = np.floor((exit_[idx] - entry[idx]) / rep).astype(np.int64) + 1
    # a warning exactly at the exit instant is not raised (the aircraft has left)
    at_exit = (count > 1) & (entry[idx] + (count - 1) * rep >= exit_[idx])
    count[at_exit] -= 1
    ep = np.repeat(idx, count)
    seq = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    t = entry[ep] + seq * np.repeat(rep, count)
    active = np.ones(len(t), bool)
    for z in np.unique(zone[ep]):  # scheduled rings: no warning while inactive
        if z in actives:
            m = zone[ep] == z
            active[m] = actives[z].contains(t[m])
    for c, m in cleared_by:  # [from, until)
        active &= ~(m[ep] & (t >= c.start) & (t < c.end))
    ep, t = ep[active], t[active]
    new_ep = np.concatenate([[True], ep[1:] != ep[:-1]]) if len(ep) else np.zeros(0, bool)
    seq = np.arange(len(ep)) - np.maximum.accumulate(np.where(new_ep, np.arange(len(ep)), 0))
    lat = np.full(len(t), np.nan)
    lon = np.full(len(t), np.nan)
    alt = np.full(len(t), np.nan)
    if tracks is not None and len(t):
        lat, lon, alt = _positions(tracks, icao[ep], t)
    # the position of a warning at the ring entry is the entry point, exactly
    first = t == _seconds(episodes.column("entry_time"))[ep]
    lat[first] = episodes.column("entry_lat").to_numpy(zero_copy_only=False)[ep[first]]
    lon[first] = episodes.column("entry_lon").to_numpy(zero_copy_only=False)[ep[first]]
    rules = [bound.rule_of[z].name for z in zone[ep]]
    table = pa.table({
        "icao24": list(icao[ep]), "callsign": [c or None for c in calls[ep]], "ring": list(zone[ep]),
        "zone": [bound.ring_of[z][0] for z in zone[ep]], "rule": rules,
        "time": _ts_array(t), "seq": seq + 1, "lat": lat, "lon": lon, "alt_ft": alt, "episode": ep,
    }, schema=WARNING_SCHEMA)  # fmt: skip
    return table.take(pc.sort_indices(table, [("time", "ascending"), ("icao24", "ascending")]))


def _clipped_depth(idx, zone, icao, entry, exit_, actives, bound: Bound, tr, max_gap) -> np.ndarray:
    """Depth of the part of each episode ``idx`` inside its activation windows.

    Each active piece of an episode becomes a track of its own: a fix
    interpolated at the piece's start (on the engine's path), the recorded fixes
    within it, one at its end; the engine measures it against the episode's
    zone like any track, and the deepest piece is the judged depth.  ``tr``:
    the prepared (aircraft, time)-sorted tracks.
    """
    from .._detect import detect
    from .._tracks import Tracks

    owner, t_cut = [], []
    for k, i in enumerate(idx):  # the active pieces of each clipped episode
        act = actives[zone[i]]
        lo = np.searchsorted(act.e, entry[i], side="left")
        hi = np.searchsorted(act.s, exit_[i], side="right")
        a = np.maximum(act.s[lo:hi], entry[i])
        b = np.minimum(act.e[lo:hi], exit_[i])
        keep = b > a
        owner.extend([k] * int(keep.sum()))
        t_cut.extend(zip(a[keep], b[keep]))
    out = np.zeros(len(idx))
    if not owner:
        return out
    owner = np.asarray(owner)
    cuts = np.asarray(t_cut)
    hexes = icao[idx][owner]
    ends_lat, ends_lon, ends_alt = _positions(tr, np.repeat(hexes, 2), cuts.ravel())
    # the recorded fixes strictly inside each piece: a range of the sorted table
    fi = tr.icao24.astype(np.int64)
    pi = parse_icao24(hexes).astype(np.int64)
    s0, s1 = np.searchsorted(fi, pi, "left"), np.searchsorted(fi, pi, "right")
    lo = np.array([s + np.searchsorted(tr.time[s:e], a, "right") for s, e, a in zip(s0, s1, cuts[:, 0])], np.int64)
    hi = np.array([s + np.searchsorted(tr.time[s:e], b, "left") for s, e, b in zip(s0, s1, cuts[:, 1])], np.int64)
    n_in = np.maximum(hi - lo, 0)
    size = n_in + 2
    first = np.cumsum(size) - size  # where each piece starts in the new table
    inner_src = np.repeat(lo - (np.cumsum(n_in) - n_in), n_in) + np.arange(n_in.sum())
    inner_dst = np.repeat(first + 1 - (np.cumsum(n_in) - n_in), n_in) + np.arange(n_in.sum())
    total = int(size.sum())
    c = {"icao24": np.repeat(np.arange(len(owner), dtype=np.uint32), size)}
    ends = {"time": cuts.ravel(), "lat": ends_lat, "lon": ends_lon, "alt": ends_alt}
    for key, col in (("time", tr.time), ("lat", tr.lat), ("lon", tr.lon), ("alt", tr.alt_baro_ft)):
        arr = np.empty(total)
        arr[first], arr[first + size - 1] = ends[key][0::2], ends[key][1::2]
        arr[inner_dst] = col[inner_src]
        c[key] = arr
    pieces = Tracks.from_columns(icao24=c["icao24"], time=c["time"], lat=c["lat"], lon=c["lon"], alt_baro_ft=c["alt"])
    # lateral only: every piece lies inside its episode, vertical band included,
    # and depth is lateral (pieces carry no geometric altitude for MSL limits)
    zone_obj = {z.id: replace(z, lower=SFC, upper=UNL) for z in bound.zones + bound.ring_zones}
    for z in np.unique(zone[idx]):
        sel = np.isin(c["icao24"], np.nonzero(zone[idx][owner] == z)[0])
        eps = detect(pieces.take(sel), [zone_obj[z]], max_gap=max_gap)
        piece = parse_icao24(eps.column("icao24")).astype(np.int64)
        d = np.nan_to_num(eps.column("max_depth_m").to_numpy(zero_copy_only=False).astype(float))
        np.maximum.at(out, owner[piece], d)
    return out


def _positions(tr, icao_hex, t):
    """Position at times ``t`` of aircraft ``icao_hex`` on the engine's path:
    straight lon/lat (the short way across the antimeridian) at constant speed.
    ``tr``: the prepared (aircraft, time)-sorted tracks."""
    fi = tr.icao24.astype(np.int64)
    wi = parse_icao24(icao_hex).astype(np.int64)
    # merge warnings into the (icao, time)-sorted fixes: each warning's previous fix
    nf = len(fi)
    keys_i = np.concatenate([fi, wi])
    keys_t = np.concatenate([tr.time, t])
    is_w = np.concatenate([np.zeros(nf, bool), np.ones(len(t), bool)])
    order = np.lexsort((is_w, keys_t, keys_i))  # a fix at the same time comes first
    pos = np.where(~is_w[order], order, -1)
    prev = np.maximum.accumulate(pos)
    j = np.empty(len(t), np.int64)
    wmask = is_w[order]
    j[order[wmask] - nf] = prev[wmask]
    j = np.clip(j, 0, max(nf - 2, 0))
    same = (fi[np.minimum(j + 1, nf - 1)] == wi) & (fi[j] == wi)
    j1 = np.minimum(j + 1, nf - 1)
    dt = tr.time[j1] - tr.time[j]
    f = np.where(same & (dt > 0), np.clip((t - tr.time[j]) / np.where(dt > 0, dt, 1), 0, 1), 0.0)
    dlon = (tr.lon[j1] - tr.lon[j] + 180.0) % 360.0 - 180.0
    lon = (tr.lon[j] + f * dlon + 180.0) % 360.0 - 180.0
    lat = tr.lat[j] + f * (tr.lat[j1] - tr.lat[j])
    alt = tr.alt_baro_ft[j] + f * (tr.alt_baro_ft[j1] - tr.alt_baro_ft[j])
    bad = fi[j] != wi
    lat[bad], lon[bad], alt[bad] = np.nan, np.nan, np.nan
    return lat, lon, alt


def _warned(incidents: pa.Table, warnings: pa.Table, rules) -> pa.Table:
    """Warnings of the same aircraft under the same ``[[zones]]`` table within
    ``merge_gap_s`` before an incident's first entry: how many, and the first."""
    if not incidents.num_rows or not warnings.num_rows:
        return incidents
    by_name = {r.name: r for r in rules}
    w_icao = np.asarray(warnings.column("icao24").to_pylist(), dtype=object)
    w_rule = np.asarray(warnings.column("rule").to_pylist(), dtype=object)
    w_t = _seconds(warnings.column("time"))
    counts, firsts = [], []
    for a, r, t0 in zip(incidents.column("icao24").to_pylist(), incidents.column("rule").to_pylist(),
                        _seconds(incidents.column("first_entry"))):  # fmt: skip
        m = (w_icao == a) & (w_rule == r) & (w_t < t0) & (w_t >= t0 - by_name[r].merge_gap_s)
        counts.append(int(m.sum()))
        firsts.append(int(round(w_t[m].min() * 1e6)) if m.any() else None)
    incidents = incidents.set_column(incidents.schema.get_field_index("n_warnings"), "n_warnings",
                                     pa.array(counts, pa.int64()))  # fmt: skip
    return incidents.set_column(incidents.schema.get_field_index("first_warning"), "first_warning",
                                pa.array(firsts, pa.timestamp("us", tz="UTC")))  # fmt: skip
