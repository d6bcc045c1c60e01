"""Streaming detection: fixes arrive in batches, in bounded memory, and give
the same episodes however the data is split into files, partitions or batches.

How a stream is cut
-------------------
Each track (one aircraft's fixes, split at gaps over ``max_gap``) is cut
into **pieces** at fixed windows of ``WINDOW_S`` seconds, each aircraft's
shifted by a hash of its address (aircraft do not all finish a piece at the
same moment: what is held and the work per batch stay even); a piece holds
the track's fixes in one window plus the first fix of the next window, so
consecutive pieces share one fix and every segment belongs to exactly one
piece.  The cut points depend only on the fixes, never on where a batch or
a file ends, so any split of the same data gives the same pieces, the same
kernel runs and bit-for-bit the same episode table.

A piece is run through the engine (kernel, then evidence) once all its fixes
are *final*: the first fix after it is known (a fix of the same track after
the shared fix, or a gap, or the end of the data) and no altitude in it is
still waiting to be interpolated.  An episode still inside at a piece's last
fix is decided by a two-fix *probe* (the next segment): if the next segment
starts inside the same zone, the episode is **open** and carried; otherwise
it ends at that fix, exactly as it does in one pass over the whole track.

What is carried between batches
-------------------------------
- per aircraft, its fixes from the first piece not yet run (at least its last
  fix), with altitudes already interpolated where they are final, the last
  callsign heard on its track, the track's start time and id; followed, as
  they came, by the new fixes of aircraft none of whose pieces can be ready
  yet (all their fixes in one window of one track: nothing to run);
- per aircraft, the time of its last fix already run (a later fix before it
  means the data is not in time order for that aircraft: :class:`NotInOrder`),
  and whether its track is still open.  Tracks of aircraft silent for
  ``max_gap + window`` before the earliest fix of a flush are ended then, as
  at the end of the data (landed aircraft hold nothing);
- the open episodes with their running evidence: entry (time, place,
  observed), depth so far (max), path length so far (sum in piece order),
  min/max altitude, fixes inside, barometric/geometric altitude use;
- episodes that ended before any callsign was heard on their track (the rule
  is "last heard up to the exit, else the first heard after"), until the
  track hears one or ends.

``max_depth_m`` is the largest of the pieces' depths and ``path_length_m``
their sum: both within the precision README "Semantics" gives, and identical
for any split of the data; a pass over whole tracks (:func:`skyfence.detect`)
may differ from them in the last digits.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numba
import numpy as np
import pyarrow as pa

from ._integrity import FLAGS, _episode_kernel, aircraft_starts, fix_flags, quality_flags
from ._tracks import ReadStats, Tracks, unknown
from .engine._episodes import _fill_codes, episode_table, evidence
from .engine._index import load_or_build
from .engine._kernel import crossings
from .engine._prepare import Prepared, _fill, _is_sorted, aircraft_order

WINDOW_S = 300.0  # pieces: windows of 5 minutes (shifted per aircraft)
FLUSH_ROWS = 500_000  # fixes gathered before the engine runs
ENGINE_ROWS = 250_000  # fixes per engine call

_POOL = {
    "icao": np.uint32, "time": np.float64, "lat": np.float64, "lon": np.float64,
    "baro": np.float64, "geo": np.float64, "cs": np.int32, "tstart": np.float64,
    "gtid": np.int64, "cont": np.bool_, "gs": np.float64, "trk": np.float64,
    "flags": np.uint16,  # the reader's and the quality indicators' (quality_flags): set as fixes arrive
}  # fmt: skip
_FRESH = {"tstart": np.nan, "gtid": -1, "cont": False}  # carried columns' values for the fixes as fed
_NEW = {k: v for k, v in _POOL.items() if k not in _FRESH}  # fixes as fed
_FRAG = {
    "gtid": np.int64, "zone": np.int64, "icao": np.uint32, "seq": np.int64, "cand": np.bool_,
    "cout": np.bool_, "entry_f": np.float64, "entry_lat": np.float64, "entry_lon": np.float64,
    "entry_obs": np.bool_, "exit_f": np.float64, "exit_lat": np.float64, "exit_lon": np.float64,
    "exit_obs": np.bool_, "tstart": np.float64, "depth": np.float64, "length": np.float64,
    "amin": np.float64, "amax": np.float64, "nfix": np.int64, "g": np.bool_, "b": np.bool_,
    "code": np.int32, "pend": np.bool_, "f_entry": np.uint16, "f_or": np.uint16, "f_bad": np.int64,
    "f_n": np.int64,
}  # fmt: skip


class NotInOrder(Exception):
    """A fix arrived after later fixes of the same aircraft were already run."""

    def __init__(self, icao: int, t: float, done: float):
        super().__init__(f"aircraft {icao:06x}: fix at {t} s after its fixes up to {done} s were processed")


def _empty(spec: dict, n: int = 0) -> dict:
    return {k: np.empty(n, v) for k, v in spec.items()}


def _cat(parts: list[dict], spec: dict) -> dict:
    parts = [p for p in parts if len(p["gtid" if "gtid" in p else "icao"])]
    if not parts:
        return _empty(spec)
    if len(parts) == 1:
        return parts[0]
    return {k: np.concatenate([p[k] for p in parts]) for k in spec}


def _positions(idx: np.ndarray) -> np.ndarray:
    """An index for ``np.take``: a mask's true positions, or integer positions as intp.
    ``np.take`` on intp positions gathers 1.4x faster than ``v[idx]``; a scattered
    mask, and int32 positions, cost ``v[idx]`` twice that again (numpy 2.4)."""
    if idx.dtype == np.bool_:
        return np.flatnonzero(idx)
    return idx if idx.dtype == np.intp else idx.astype(np.intp)


def _take(d: dict, idx) -> dict:
    idx = _positions(np.asarray(idx))
    return {k: np.take(v, idx) for k, v in d.items()}


class _Chunk(NamedTuple):
    """Carried fixes: columns ``cols`` (each run of one aircraft's fixes in time
    order), and per run still held: its aircraft ``ac``, rows ``lo`` .. ``hi``
    (exclusive), first and last time.  Runs taken out (processed) leave their
    rows in ``cols`` until the chunk is compacted: nothing is copied per batch."""

    cols: dict
    ac: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    t0: np.ndarray
    t1: np.ndarray

    @classmethod
    def of(cls, cols: dict) -> _Chunk:
        """A chunk of fixes sorted by aircraft."""
        icao, time = cols["icao"], cols["time"]
        bounds = aircraft_starts(icao)
        lo, hi = bounds[:-1], bounds[1:]
        return cls(cols, icao[lo], lo, hi, time[lo], time[hi - 1])

    def rows(self, sel=None) -> np.ndarray | None:
        """The rows of the runs held (or of those selected by ``sel``), in order;
        None when that is every row of ``cols`` in place."""
        lo, hi = (self.lo, self.hi) if sel is None else (self.lo[sel], self.hi[sel])
        lens = hi - lo
        n = len(self.cols["icao"])
        if len(lo) and lo[0] == 0 and hi[-1] == n and (lo[1:] == hi[:-1]).all():
            return None
        return np.arange(lens.sum()) + np.repeat(lo - (np.cumsum(lens) - lens), lens)

    def part(self, sel=None) -> tuple:
        """Its runs (or those selected by ``sel``) for :func:`_assemble`: the
        columns, their rows, and whether the chunk holds other runs still."""
        return self.cols, self.rows(sel), sel is not None

    def drop(self, sel) -> _Chunk:
        """The chunk without the runs ``sel``; compacted (the rows held copied
        out) once less than half of its rows are held."""
        keep = ~sel
        left = _Chunk(self.cols, self.ac[keep], self.lo[keep], self.hi[keep], self.t0[keep], self.t1[keep])
        if 2 * (left.hi - left.lo).sum() >= len(self.cols["icao"]):
            return left
        return _Chunk.merged([left], consume=False)  # the columns are still read by the runs taken

    @staticmethod
    def merged(chunks: list, consume: bool = True) -> _Chunk:
        """One chunk of the runs held in ``chunks`` (in this order); ``consume``:
        emptying their columns as it goes."""
        picks = [c.rows() for c in chunks]
        cols = {}
        for k in _POOL:
            parts = [_col(c.cols, k, consume) for c in chunks]
            cols[k] = np.concatenate([v if r is None else np.take(v, r) for v, r in zip(parts, picks)])
            del parts
        lens = np.concatenate([c.hi - c.lo for c in chunks])
        hi = np.cumsum(lens)
        cat = lambda name: np.concatenate([getattr(c, name) for c in chunks])  # noqa: E731
        return _Chunk(cols, cat("ac"), hi - lens, hi, cat("t0"), cat("t1"))


def _take_inplace(d: dict, idx) -> None:
    """``_take``, column by column, so that only one column is held twice."""
    idx = _positions(np.asarray(idx))
    for k in list(d):
        d[k] = np.take(d[k], idx)


def _reorder(d: dict, order: np.ndarray) -> None:
    """``_take_inplace(d, order)`` moving only the rows out of place (OpenSky
    rows come by report time, each fix's position time a little earlier: a few
    fixes of a flush are earlier than the last carried fix of their aircraft)."""
    moved = np.flatnonzero(order != np.arange(len(order)))
    if len(moved) > len(order) // 8:
        _take_inplace(d, order)
        return
    src = order[moved]
    for k, v in d.items():
        if not v.flags.writeable:  # a read-only view of the reader's buffers
            d[k] = v = v.copy()
        v[moved] = v[src]


def _fresh(cols: dict) -> dict:
    """Fixes as fed (columns ``_NEW``): the carried columns ``_FRESH`` added (in place)."""
    n = len(cols["icao"])
    cols.update({k: np.full(n, v, _POOL[k]) for k, v in _FRESH.items()})
    return cols


def _assemble(parts: list, N: dict | None = None, rows: np.ndarray | None = None) -> dict:
    """One table of fixes sorted by aircraft (stable: carried fixes first): the
    rows of carried chunks (``(columns, rows or None for all, shared)`` from
    :meth:`StreamDetector._split_pools`) and the rows ``rows`` of the new
    fixes ``N`` (columns ``_NEW``), in that order.  The order is found on the
    addresses alone and each column is gathered once, emptying the sources
    column by column (except the chunks still ``shared`` with the fixes
    carried on); the ``_FRESH`` columns are gathered from the carried fixes
    alone, the new ones getting their fixed values."""
    srcs = [c for c, _, _ in parts] + ([N] if N is not None else [])
    if not srcs:
        return _empty(_POOL)
    owned = [not shared for _, _, shared in parts] + [True]
    sizes = [len(c["icao"]) for c in srcs]
    off = np.cumsum([0] + sizes[:-1])
    picks = [o + (r if r is not None else np.arange(k)) for (_, r, _), o, k in zip(parts, off, sizes)]
    if N is not None:
        picks.append(off[-1] + (np.arange(sizes[-1]) if rows is None else rows))
    take = np.concatenate(picks) if len(picks) > 1 else picks[0]
    icao = np.concatenate([c["icao"] for c in srcs]) if len(srcs) > 1 else srcs[0]["icao"]
    order = np.argsort(np.take(icao, take), kind="stable")
    if not (order[1:] > order[:-1]).all():
        take = np.take(take, order)
    out = {}
    if len(take) == len(icao) and (take[1:] > take[:-1]).all():  # every row, in place
        if N is not None:
            _fresh(N)
        for k in _POOL:
            out[k] = _joined(srcs, owned, k)
        return out
    # runs of consecutive rows of one source (a few when data comes in aircraft
    # order) are copied as slices; otherwise the rows are gathered one by one
    src = np.searchsorted(off, take, side="right") - 1
    brk = np.flatnonzero((np.diff(take) != 1) | (np.diff(src) != 0)) + 1
    if len(brk) < len(take) // 1024:
        if N is not None:
            _fresh(N)
        a = np.concatenate([[0], brk])
        first = take[a] - off[src[a]]
        runs = list(zip(src[a].tolist(), first.tolist(), (first + np.diff(np.append(a, len(take)))).tolist()))
        for k in _POOL:
            cols = [_col(c, k, o) for c, o in zip(srcs, owned)]
            out[k] = np.concatenate([cols[j][x:y] for j, x, y in runs])
            del cols
        return out
    carried = np.flatnonzero(take < off[-1]) if N is not None else None
    for k in _POOL:
        if carried is None or k not in _FRESH:
            out[k] = np.take(_joined(srcs, owned, k), take)
            continue
        out[k] = np.full(len(take), _FRESH[k], _POOL[k])
        if len(carried):
            out[k][carried] = np.take(_joined(srcs[:-1], owned[:-1], k), np.take(take, carried))
    return out


def _col(cols: dict, k: str, owned: bool) -> np.ndarray:
    """Column ``k``, taken out of ``cols`` when they are ``owned`` (no longer needed)."""
    return cols.pop(k) if owned else cols[k]


def _joined(srcs: list, owned: list, k: str) -> np.ndarray:
    """Column ``k`` of the sources end to end (:func:`_col` of each)."""
    if len(srcs) == 1:
        return _col(srcs[0], k, owned[0])
    return np.concatenate([_col(c, k, o) for c, o in zip(srcs, owned)])


def _interp(values, seg, t):
    """The engine's interpolation at fix position ``(seg, t)`` (no wrapping)."""
    nxt = np.minimum(seg + 1, len(values) - 1)
    v0, v1 = values[seg], values[nxt]
    return np.where(t == 0.0, v0, v0 + t * (v1 - v0))



@numba.njit(cache=True)
def _track_ids(brk, true_start, p_gtid, p_tstart, time, next_gtid, gt_first, gtid, tstart):
    """Per fix: its track's first row, id and start time; returns the new ids used.

    A track starts at each ``brk``; a true start without a carried id gets the
    next new id, else the carried one; its start time is the fix time at a true
    start, else the carried one."""
    k = next_gtid
    first, cur, t0 = 0, -1, math.nan
    for i in range(len(brk)):
        if brk[i]:
            first = i
            if true_start[i] and p_gtid[i] < 0:
                cur = k
                k += 1
            else:
                cur = p_gtid[i]
            t0 = time[i] if true_start[i] else p_tstart[i]
        gt_first[i] = first
        gtid[i] = cur
        tstart[i] = t0
    return k - next_gtid


@numba.njit(cache=True, nogil=True)
def _piece_starts(brk, time, shift, ac_no, window, out):
    """``out``: the fixes that start a piece: a track's first fix (``brk``), or
    one in another window than the fix before (``StreamDetector._win``, its
    aircraft's ``shift`` taken by aircraft number ``ac_no``)."""
    prev = 0.0
    for i in range(len(time)):
        w = math.floor((time[i] + shift[ac_no[i]]) / window)
        out[i] = brk[i] or (i > 0 and w != prev)
        prev = w


@numba.njit(cache=True)
def _waiting_altitudes(baro, geo, gt_first, last_gt, final):
    """Clear ``final`` where an altitude is unknown after a known one of the same
    track, in the aircraft's last track (a later fix may still fill it)."""
    lb, lg = -1, -1
    for i in range(len(baro)):
        nb, ng = math.isnan(baro[i]), math.isnan(geo[i])
        if not nb:
            lb = i
        if not ng:
            lg = i
        if last_gt[i] and ((nb and lb >= gt_first[i]) or (ng and lg >= gt_first[i])):
            final[i] = False



@numba.njit(cache=True)
def _chain(joined, depth, length, amin, amax, nfix, g, b, first, last, o_depth, o_len, o_amin, o_amax, o_nfix, o_g, o_b):
    """Fold fragments into episodes: a fragment with ``joined`` continues the one before."""
    m = -1
    for i in range(len(joined)):
        if m < 0 or not joined[i]:
            m += 1
            first[m] = i
            o_depth[m], o_len[m], o_amin[m], o_amax[m] = depth[i], length[i], amin[i], amax[i]
            o_nfix[m], o_g[m], o_b[m] = nfix[i], g[i], b[i]
        else:
            if not (o_depth[m] >= depth[i]):  # max, NaN meaning unknown
                if not math.isnan(depth[i]):
                    o_depth[m] = depth[i]
            o_len[m] = o_len[m] + length[i]
            if math.isnan(o_amin[m]) or amin[i] < o_amin[m]:
                if not math.isnan(amin[i]):
                    o_amin[m] = amin[i]
            if math.isnan(o_amax[m]) or amax[i] > o_amax[m]:
                if not math.isnan(amax[i]):
                    o_amax[m] = amax[i]
            o_nfix[m] += nfix[i] - 1  # the shared fix is counted once
            o_g[m] = o_g[m] or g[i]
            o_b[m] = o_b[m] or b[i]
        last[m] = i
    return m + 1


class StreamDetector:
    """Episodes from fixes fed in batches (see the module docstring).

    Parameters
    ----------
    zones:
        Zones to test.
    max_gap:
        Track split, seconds (as :func:`skyfence.detect`).
    window_s:
        Piece length (seconds); the same value must be used to compare runs.
    flush_rows:
        Fixes gathered before the engine runs over them.
    close_idle:
        End the tracks of aircraft not heard for ``max_gap + window_s``
        seconds before the earliest fix of a flush (see :meth:`_close_idle`),
        so that landed aircraft hold nothing.
    """

    def __init__(self, zones, *, max_gap: float = 60.0, window_s: float = WINDOW_S, flush_rows: int = FLUSH_ROWS,
                 n_threads: int | None = None, close_idle: bool = True):  # fmt: skip
        from .engine._threads import threads

        self.zones = list(zones)
        self.limited = np.array([z.has_vertical_limits for z in self.zones] + [False])
        self.index = load_or_build(self.zones)
        self.max_gap = float(max_gap)
        self.window = float(window_s)
        self.flush_rows = int(flush_rows)
        self.n_threads = n_threads or threads()
        self.names: dict[str, int] = {}
        # carried fixes: chunks (_Chunk); an aircraft's fixes are in time order across
        # the chunks, which are in arrival order
        self.pools: list[_Chunk] = []
        self.new: list[dict] = []
        self.n_new = 0
        self.proc_icao = np.empty(0, np.uint32)
        self.proc_time = np.empty(0)
        self.proc_open = np.empty(0, bool)
        self.partials = _empty(_FRAG)
        self.waiting = _empty(_FRAG)
        self.done: list[dict] = []
        self.next_gtid = 0
        self.stats = ReadStats()
        self.duplicates = 0
        self.n_tracks = 0
        self.suspect_fixes = 0
        self.close_idle = close_idle
        self.closed = 0  # aircraft whose tracks were ended before the end of the data

    # ------------------------------------------------------------ input

    def feed(self, tracks: Tracks) -> None:
        """Add a batch of fixes (any order inside the batch); they are run
        once ``flush_rows`` fixes have gathered.

        Raises
        ------
        NotInOrder
            When the fixes are run (this call, a later one or :meth:`finish`):
            a fix is earlier than fixes of the same aircraft already run, or
            would join a track already closed.
        """
        self.stats.merge(tracks.stats)
        n = len(tracks)
        if n == 0:
            return
        remap = np.array([self.names.setdefault(c, len(self.names)) for c in tracks.callsigns] + [-1], np.int32)
        flags = tracks.flags.copy()
        if tracks.has_quality:
            quality_flags(tracks.nic, tracks.nacp, tracks.sil, flags)
        rows = {
            "icao": tracks.icao24, "time": tracks.time, "lat": tracks.lat, "lon": tracks.lon,
            "baro": tracks.alt_baro_ft, "geo": tracks.alt_geo_ft, "cs": remap[tracks.callsign],
            "gs": tracks.groundspeed_kt, "trk": tracks.track_deg, "flags": flags,
        }  # fmt: skip
        self.new.append(rows)
        self.n_new += len(rows["icao"])
        if self.n_new >= self.flush_rows:
            self.flush()

    def finish_records(self) -> dict:
        """Run everything left; the episodes as columns (unsorted)."""
        self.flush(eod=True)
        if len(self.partials["gtid"]):  # cannot happen with a consistent kernel; ends them where they stop
            self._emit(self.partials)
            self.partials = _empty(_FRAG)
        if len(self.waiting["gtid"]):  # tracks that never heard a callsign
            self.done.append(self.waiting)
            self.waiting = _empty(_FRAG)
        recs = _cat(self.done, _FRAG)
        names = np.array(list(self.names) + [None], dtype=object)
        recs = dict(recs)
        recs["callsign"] = names[recs["code"]]
        return recs

    def finish(self, source: str = "") -> pa.Table:
        """Run everything left; the episode table (schema as :func:`skyfence.detect`)."""
        return records_table(self.finish_records(), self.zones, source)

    # ------------------------------------------------------------ engine

    def flush(self, eod: bool = False) -> None:
        """Run every piece that is final; with ``eod`` (end of data) all of them."""
        N = _cat(self.new, _NEW)
        self.new, self.n_new = [], 0
        icao, time = N["icao"], N["time"]
        n = len(icao)
        # the new fixes are ordered by aircraft through their keys alone: every column
        # is gathered once, below, into the fixes to run or the fixes carried
        rows = np.arange(n)
        if n > 1 and not _is_sorted(icao, time):
            rows = aircraft_order(icao, time)  # stable: input order wins ties
            icao, time = np.take(icao, rows), np.take(time, rows)
        keep = self._check_processed(icao, time)
        if keep is not None:
            rows, icao, time = rows[keep], icao[keep], time[keep]
        # only the aircraft with new fixes (all at the end of data) are looked at: for the
        # others nothing can have changed, so their carried fixes stay where they are; nor
        # for those whose fixes so far all lie in one window of one track (no piece of
        # theirs can be ready): their new fixes join the carried ones as they are
        low = float(time.min()) if len(time) else math.nan  # earliest new fix
        if not eod:
            wake = self._defer(icao, time)
            if wake is not None:
                self._carry(_fresh(_take(N, rows[~wake])))
                rows, icao = rows[wake], icao[wake]
        active, self.pools = self._wake(icao, eod)
        P = _assemble(active, N, rows)
        del N, active, rows, icao, time
        self._process(P, eod)
        if self.close_idle and not eod and low == low:
            self._close_idle(low)

    def _check_processed(self, icao: np.ndarray, time: np.ndarray) -> np.ndarray | None:
        """New fixes (sorted by aircraft) against the last fix run of their
        aircraft: raise :class:`NotInOrder` for one before it, or one joining a
        track already closed; the mask of the fixes to keep (None: all), without
        repeats of the last fix run."""
        if not len(self.proc_icao) or not len(icao):
            return None
        pos = _lookup(self.proc_icao, icao)
        found = np.take(self.proc_icao, pos) == icao
        if not found.any():
            return None
        pt, po = np.take(self.proc_time, pos), np.take(self.proc_open, pos)
        bad = found & ((time < pt) | (~po & (time > pt) & (time - pt <= self.max_gap)))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise NotInOrder(int(icao[i]), float(time[i]), float(pt[i]))
        dup = found & (time == pt)
        if not dup.any():
            return None
        self.duplicates += int(dup.sum())
        return ~dup

    def _close_idle(self, low: float) -> None:
        """End the tracks of aircraft heard last more than ``max_gap + window``
        before ``low``, the earliest new fix of this flush (landed, or out of
        coverage): their last pieces run now, as at the end of the data,
        instead of being held until the end.  In time-ordered data ``low`` is
        the stream's present; in data ordered by aircraft it stays at the
        start of the day, so nothing is ended early.  A fix of theirs that
        still comes within ``max_gap`` of the last one raises
        :class:`NotInOrder` (the run then regroups): the result is the same
        either way."""
        if not self.pools:
            return
        ac, _, last = self._held_spans()
        idle = last < low - (self.max_gap + self.window)
        if not idle.any():
            return
        u, t_last = ac[idle], last[idle]
        active, self.pools = self._split_pools(u)
        self._process(_assemble(active), eod=True)
        self._set_proc(u, t_last, np.zeros(len(u), bool))
        self.closed += len(u)

    def _process(self, P: dict, eod: bool) -> None:
        """Run the final pieces of the fixes ``P`` (all the carried and new fixes
        of their aircraft, sorted by aircraft: :func:`_assemble`) and carry the
        rest; ``eod``: no more fixes of these aircraft will come."""
        n = len(P["icao"])
        if n == 0:
            self._resolve_waiting(None, eod, P["icao"])
            return
        # P is sorted by aircraft (_assemble), carried fixes first among equal times
        if not _is_sorted(P["icao"], P["time"]):  # fixes earlier than carried ones: moved into place
            _reorder(P, aircraft_order(P["icao"], P["time"]))
        icao, time = P["icao"], P["time"]
        dup = np.zeros(n, bool)
        dup[1:] = (icao[1:] == icao[:-1]) & (time[1:] == time[:-1])
        if dup.any():
            self.duplicates += int(dup.sum())
            _take_inplace(P, ~dup)
            icao, time = P["icao"], P["time"]
            n = len(icao)
        idx = np.arange(n)
        new_ac = np.ones(n, bool)
        new_ac[1:] = icao[1:] != icao[:-1]
        tail = np.ones(n, bool)
        tail[:-1] = new_ac[1:]
        brk = new_ac.copy()
        brk[1:] |= (time[1:] - time[:-1]) > self.max_gap
        cont = P["cont"] & new_ac
        true_start = brk & ~cont
        gt_first = np.empty(n, idx.dtype)
        gtid = np.empty(n, np.int64)
        tstart = np.empty(n)
        n_new_tracks = _track_ids(brk, true_start, P["gtid"], P["tstart"], time, self.next_gtid, gt_first, gtid, tstart)
        self.next_gtid += n_new_tracks
        self.n_tracks += n_new_tracks
        starts = np.append(np.flatnonzero(brk), n).astype(np.int64)
        baro = _fill(P["baro"], time, starts)
        geo = _fill(P["geo"], time, starts)
        ac_no = np.cumsum(new_ac, dtype=idx.dtype) - 1
        ac_end = np.take(np.flatnonzero(tail), ac_no)
        last_gt = gt_first == np.take(gt_first, ac_end)
        final = np.ones(n, bool)
        if not eod:  # altitudes still waiting for a later known value
            _waiting_altitudes(baro, geo, gt_first, last_gt, final)
        ff = np.empty(n, np.int32)
        bf = np.empty(n, np.int32)
        _fill_codes(P["cs"], starts, ff, bf)
        self._resolve_waiting((gtid[brk], idx[brk], bf, last_gt), eod, icao[new_ac])

        # pieces
        ps_mask = np.empty(n, bool)
        _piece_starts(brk, time, self._shift(icao[new_ac]), ac_no, self.window, ps_mask)
        ps = np.flatnonzero(ps_mask)
        pe = np.append(ps[1:], n) - 1
        nxt = np.minimum(pe + 1, n - 1)
        ext = (pe + 1 < n) & ~brk[nxt]
        ce = pe + ext
        cin = ~brk[ps] | cont[ps]
        after = np.minimum(ce + 1, n - 1)
        cont_out = ext & (ce + 1 < n) & ~brk[after]
        pac = ac_no[ps]
        if eod:
            ready = np.ones(len(ps), bool)
            first_bad = np.full(ac_no[-1] + 1, n)
        else:
            nf = np.zeros(n + 1, np.int64)  # non-final fixes before each (dtype given: 6x faster)
            np.cumsum(~final, dtype=np.int64, out=nf[1:])
            ready = (nf[ce + 1] == nf[ps]) & ~tail[ce] & (brk[after] | final[after])
            first_bad = np.full(ac_no[-1] + 1, n)
            np.minimum.at(first_bad, pac[~ready], ps[~ready])
            ready &= ps < first_bad[pac]
        run = ready & ~(cin & (ce == ps))
        rp = np.flatnonzero(run)
        if len(rp):  # in slices of about ENGINE_ROWS fixes: bounded memory for the evidence pass
            size = np.cumsum(ce[rp] - ps[rp] + 1)
            cut = np.searchsorted(size, np.arange(1, size[-1] // ENGINE_ROWS + 1) * ENGINE_ROWS)
            for sl in np.split(rp, np.unique(cut[(cut > 0) & (cut < len(rp))])):
                self._run(P, baro, geo, ff, bf, gtid, tstart, last_gt, ps, ce, cin, cont_out, sl, eod)

        # what was run is dropped; the rest is carried
        keep = idx >= np.take(first_bad, ac_no)
        last_run = np.full(ac_no[-1] + 1, -1)
        np.maximum.at(last_run, pac[ready], ce[ready])
        touched = np.flatnonzero(last_run >= 0)
        if len(touched) and not eod:
            lr = last_run[touched]
            first_kept = first_bad[touched]
            self._set_proc(icao[lr], time[lr], first_kept == lr)
        kept = np.flatnonzero(keep)
        if eod or not len(kept):
            return
        firsts = first_bad[first_bad < n]
        cont_new = np.zeros(n, bool)
        cont_new[firsts] = cin[np.searchsorted(ps, firsts)]  # the first kept fix starts a piece
        self._carry(_take({
            "icao": icao, "time": time, "lat": P["lat"], "lon": P["lon"], "baro": baro, "geo": geo, "cs": ff,
            "tstart": tstart, "gtid": gtid, "cont": cont_new, "gs": P["gs"], "trk": P["trk"], "flags": P["flags"],
        }, kept))  # fmt: skip

    def _wake(self, icao: np.ndarray, eod: bool) -> tuple[list, list]:
        """Split the carried chunks into the fixes of the aircraft ``icao`` (the new
        fixes', sorted), which are processed again, and the others (left as they are)."""
        if eod:
            return [c.part() for c in self.pools], []
        if not len(icao):
            return [], self.pools
        return self._split_pools(icao[aircraft_starts(icao)[:-1]])

    def _split_pools(self, u: np.ndarray) -> tuple[list, list]:
        """The carried fixes of the aircraft ``u`` (ascending), for :func:`_assemble`:
        per chunk that holds some, its columns, their rows and whether the chunk
        still holds others; and the chunks left (without the runs taken)."""
        active, dormant = [], []
        for c in self.pools:
            hit = u[_lookup(u, c.ac)] == c.ac
            if hit.all():
                active.append(c.part())
            elif hit.any():
                active.append(c.part(hit))
                dormant.append(c.drop(hit))
            else:
                dormant.append(c)
        return active, dormant

    def _win(self, icao: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The window of each fix: windows of ``window`` seconds, shifted for each
        aircraft by a hash of its address (so that aircraft do not all finish a
        piece at the same moment: the work and the fixes held stay even)."""
        return np.floor((t + self._shift(icao)) / self.window)

    def _shift(self, icao: np.ndarray) -> np.ndarray:
        """How far the windows of these aircraft are shifted (s)."""
        return _hash32(icao) * (self.window / 2.0**32)

    def _defer(self, icao: np.ndarray, time: np.ndarray) -> np.ndarray | None:
        """Which new fixes (sorted by aircraft) to process now: those of the
        aircraft some of whose pieces may be ready (None: all).  The others are
        carried, unprocessed: all their fixes (carried and new) lie in the window
        of their first carried fix, in time order, with no gap over ``max_gap``.
        Processing later gives the same result: it is the same as these fixes
        arriving in a later batch."""
        n = len(icao)
        if n == 0:
            return None
        bounds = aircraft_starts(icao)
        starts, ends = bounds[:-1], bounds[1:] - 1
        u = icao[starts]
        gap = np.zeros(n, bool)
        gap[1:] = (icao[1:] == icao[:-1]) & ((time[1:] - time[:-1]) > self.max_gap)
        wake = np.logical_or.reduceat(gap, starts)
        w0 = self._win(u, time[starts])
        if self.pools:  # carried: each aircraft's first and last carried time
            pa_, pmin, pmax = self._held_spans()
            pos = _lookup(pa_, u)
            held = pa_[pos] == u
            last = pmax[pos]
            wake |= held & ((time[starts] <= last) | (time[starts] - last > self.max_gap))
            w0 = np.where(held, self._win(u, pmin[pos]), w0)
        wake |= self._win(u, time[ends]) != w0
        return None if wake.all() else np.repeat(wake, ends - starts + 1)

    def _held_spans(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The aircraft with carried fixes (ascending), and the time of the first
        and of the last of them."""
        ac = np.concatenate([c.ac for c in self.pools])
        o = np.argsort(ac, kind="stable")
        ac = ac[o]
        head = aircraft_starts(ac)[:-1]
        t0 = np.concatenate([c.t0 for c in self.pools])[o]
        t1 = np.concatenate([c.t1 for c in self.pools])[o]
        return ac[head], np.minimum.reduceat(t0, head), np.maximum.reduceat(t1, head)

    def _carry(self, chunk: dict) -> None:
        """Add carried fixes (sorted by aircraft); past 16 chunks they are merged
        into one (an aircraft's fixes stay in time order: chunks are in arrival order)."""
        if len(chunk["icao"]):
            self.pools.append(_Chunk.of(chunk))
        if len(self.pools) > 16:
            self.pools = [_Chunk.merged(self.pools)]

    def _set_proc(self, icao, t, is_open):
        ic = np.concatenate([self.proc_icao, icao])
        tt = np.concatenate([self.proc_time, t])
        op = np.concatenate([self.proc_open, is_open])
        pri = np.concatenate([np.zeros(len(self.proc_icao), np.int8), np.ones(len(icao), np.int8)])
        order = np.lexsort((pri, ic))
        ic, tt, op = ic[order], tt[order], op[order]
        last = np.ones(len(ic), bool)
        last[:-1] = ic[1:] != ic[:-1]
        self.proc_icao, self.proc_time, self.proc_open = ic[last], tt[last], op[last]

    def _resolve_waiting(self, tracks_info, eod: bool, present) -> None:
        """Episodes waiting for a callsign: resolved from the tracks in this flush;
        those of aircraft not in it (``present``: their addresses) wait on."""
        w = self.waiting
        if not len(w["gtid"]):
            return
        code = np.full(len(w["gtid"]), -1, np.int32)
        still = np.zeros(len(code), bool)
        if tracks_info is not None:
            gt_ids, gt_rows, bf, last_gt = tracks_info
            order = np.argsort(gt_ids)
            gs, rs = gt_ids[order], gt_rows[order]
            pos = _lookup(gs, w["gtid"])
            found = gs[pos] == w["gtid"]
            row = rs[pos]
            code = np.where(found, bf[row], -1).astype(np.int32)
            still = found & (code < 0) & last_gt[row] & (not eod)
        still |= ~np.isin(w["icao"], present)  # absent aircraft: left aside, unchanged
        w = dict(w)
        w["code"] = code
        w["pend"] = still
        self.waiting = _take(w, still)
        self.done.append(_take(w, ~still))

    def _run(self, P, baro, geo, ff, bf, gtid, tstart, last_gt, ps, ce, cin, cont_out, rp, eod):
        n_pieces = len(rp)
        probes = rp[cont_out[rp]]
        seg0 = np.concatenate([ps[rp], ce[probes]])
        lens = np.concatenate([ce[rp] - ps[rp] + 1, np.full(len(probes), 2)])
        start = np.zeros(len(lens) + 1, np.int64)
        np.cumsum(lens, out=start[1:])
        rows = np.arange(start[-1]) - np.repeat(start[:-1], lens) + np.repeat(seg0, lens)
        alt_fl, g = np.take(baro, rows), np.take(geo, rows)
        nan = unknown(len(rows))  # read only, by every column not carried
        cols = dict(
            time=np.take(P["time"], rows), lat=np.take(P["lat"], rows), lon=np.take(P["lon"], rows),
            alt_baro_ft=alt_fl, alt_geo_ft=g, groundspeed_kt=np.take(P["gs"], rows),
            track_deg=np.take(P["trk"], rows), vertical_rate_fpm=nan,
            callsign=np.full(len(rows), -1, np.int32), nic=nan, nacp=nan, sil=nan,  # in flags already
            flags=np.take(P["flags"], rows),
        )  # fmt: skip
        tr = Tracks(icao24=np.take(P["icao"], rows), **cols)
        # integrity flags of each fix with its piece as context (each piece its own
        # "aircraft"), so that they depend on the fixes only, not on the batching
        flags = fix_flags(tr, self.n_threads, start)
        geo_used = ~np.isnan(g)
        prep = Prepared(tr, start, alt_fl, np.where(geo_used, g, alt_fl), geo_used, 0, flags)
        own = np.ones(start[n_pieces], bool)  # each fix counted once: not a piece's shared first fix
        own[start[:n_pieces][cin[rp]]] = False
        self.suspect_fixes += int(np.count_nonzero(flags[: start[n_pieces]][own]))
        ix = self.index
        oi, of = crossings(tr.lon, tr.lat, prep.alt_fl, prep.alt_msl, start, ix, self.n_threads)
        track = oi[:, 0]
        nz = max(len(self.zones), 1)
        # probes: zones the next segment starts inside (the episode goes on)
        is_probe = track >= n_pieces
        pr = is_probe & (oi[:, 2] == start[np.minimum(track, len(lens) - 1)]) & (of[:, 0] == 0.0) & (oi[:, 4] == 0)
        piece_of_probe = np.flatnonzero(cont_out[rp])
        goes_on = np.unique(piece_of_probe[track[pr] - n_pieces].astype(np.int64) * nz + oi[pr, 1])
        oi, of = oi[~is_probe].copy(), of[~is_probe].copy()
        track = oi[:, 0]
        zone = oi[:, 1]
        cout = np.zeros(len(oi), bool)
        at_end = (oi[:, 5] == 0) & cont_out[rp][track]
        if at_end.any():
            on = np.isin(track.astype(np.int64) * nz + zone, goes_on)
            cout = at_end & on
            stop = at_end & ~on  # left at the shared fix: the exit is that fix, observed
            oi[stop, 3] = start[track[stop] + 1] - 1
            of[stop, 1] = 0.0
            oi[stop, 5] = 1
        cand = cin[rp][track] & (oi[:, 4] == 0) & (oi[:, 2] == start[track]) & (of[:, 0] == 0.0)
        entry_f = _interp(tr.time, oi[:, 2], of[:, 0])
        order = np.lexsort((zone, entry_f, tr.icao24[start[track]]))
        oi, of, cout, cand, entry_f = oi[order], of[order], cout[order], cand[order], entry_f[order]
        track, zone = oi[:, 0], oi[:, 1]
        ev = evidence(prep, ix, oi, of, False, self.n_threads)
        if not np.array_equal(ev["entry_time"], entry_f):
            raise RuntimeError("skyfence internal error: episode rows out of step with the kernel output")
        col = ev.__getitem__
        first = oi[:, 2] + (of[:, 0] > 0)
        last = oi[:, 3] + (of[:, 1] >= 1.0)
        empty = last < first
        lo = np.where(empty, oi[:, 2], first).astype(np.int64)
        hi = np.where(empty, np.minimum(oi[:, 2] + 1, len(rows) - 1), last).astype(np.int64)
        keep = np.full(len(lo), 0xFFFF, np.uint16)
        vertical = self.limited[zone]
        keep[~vertical] &= np.uint16(~FLAGS["altitude"] & 0xFFFF)
        f_or = np.zeros(len(lo), np.uint16)
        f_bad = np.zeros(len(lo), np.int64)
        if len(lo):
            _episode_kernel(flags, lo, hi, keep, f_or, f_bad)
        f_entry = flags[lo] & keep
        f_entry[empty] |= flags[hi[empty]] & keep[empty]
        s1_pool = rows[oi[:, 3]]
        code = np.where(ff[s1_pool] >= 0, ff[s1_pool], bf[s1_pool]).astype(np.int32)
        pend = (code < 0) & last_gt[s1_pool] & (not eod)
        frag = {
            "gtid": gtid[rows[start[track]]], "zone": zone.astype(np.int64), "icao": tr.icao24[start[track]],
            "seq": track.astype(np.int64), "cand": cand, "cout": cout,
            "entry_f": entry_f, "entry_lat": col("entry_lat"), "entry_lon": col("entry_lon"),
            "entry_obs": oi[:, 4].astype(bool),
            "exit_f": _interp(tr.time, oi[:, 3], of[:, 1]), "exit_lat": col("exit_lat"), "exit_lon": col("exit_lon"),
            "exit_obs": oi[:, 5].astype(bool), "tstart": tstart[rows[start[track]]],
            "depth": col("max_depth_m"), "length": col("path_length_m"),
            "amin": col("min_alt_ft"), "amax": col("max_alt_ft"), "nfix": col("n_fixes_inside"),
            # altitude sources as the table names them: none where the zone has no limits
            "g": vertical & ev["g_used"], "b": vertical & (ev["b_used"] | ~ev["g_used"]),
            "code": code, "pend": pend, "f_entry": f_entry, "f_or": f_or, "f_bad": f_bad, "f_n": hi - lo + 1,
        }  # fmt: skip
        self._stitch(frag)

    def _stitch(self, frag: dict) -> None:
        carried = dict(self.partials)
        carried["seq"] = np.full(len(carried["gtid"]), -1, np.int64)
        F = _cat([carried, frag], _FRAG)
        order = np.lexsort((F["entry_f"], F["seq"], F["zone"], F["gtid"]))
        F = _take(F, order)
        m = len(F["gtid"])
        same = np.zeros(m, bool)
        same[1:] = (F["gtid"][1:] == F["gtid"][:-1]) & (F["zone"][1:] == F["zone"][:-1])
        prev_out = np.zeros(m, bool)
        prev_out[1:] = F["cout"][:-1]
        joined = F["cand"] & same & prev_out
        F["entry_obs"] = F["entry_obs"] | (F["cand"] & ~joined)  # an entry at the shared fix
        first, last = np.empty(m, np.int64), np.empty(m, np.int64)
        o = {k: np.empty(m, F[k].dtype) for k in ("depth", "length", "amin", "amax", "nfix", "g", "b")}
        k = _chain(joined, F["depth"], F["length"], F["amin"], F["amax"], F["nfix"], F["g"], F["b"], first, last,
                   o["depth"], o["length"], o["amin"], o["amax"], o["nfix"], o["g"], o["b"])  # fmt: skip
        first, last = first[:k], last[:k]
        E = {}
        for name in ("gtid", "zone", "icao", "entry_f", "entry_lat", "entry_lon", "entry_obs", "tstart", "f_entry"):
            E[name] = F[name][first]
        grp = np.cumsum(~joined) - 1
        E["f_or"] = np.bitwise_or.reduceat(F["f_or"], first) if m else F["f_or"][:0]
        E["f_bad"] = np.bincount(grp, F["f_bad"], minlength=k).astype(np.int64)
        E["f_n"] = np.bincount(grp, F["f_n"], minlength=k).astype(np.int64)
        for name in ("exit_f", "exit_lat", "exit_lon", "exit_obs", "code", "pend", "cout"):
            E[name] = F[name][last]
        for name, v in o.items():
            E[name] = v[:k]
        E["seq"] = np.full(k, -1, np.int64)
        E["cand"] = np.zeros(k, bool)
        is_open = E["cout"]
        self.partials = _take(E, is_open)
        self._emit(_take(E, ~is_open))

    def _emit(self, E: dict) -> None:
        wait = E["pend"]
        if wait.any():
            self.waiting = _cat([self.waiting, _take(E, wait)], _FRAG)
            E = _take(E, ~wait)
        self.done.append(E)


def records_table(recs: dict, zones, source: str = "") -> pa.Table:
    """The episode table from :meth:`StreamDetector.finish_records` columns
    (of one or several detectors over disjoint aircraft), ordered as
    :func:`skyfence.detect` orders it."""
    order = np.lexsort((recs["zone"], recs["entry_f"], recs["icao"]))
    r = {k: v[order] for k, v in recs.items()}
    # integrity as skyfence._integrity.episode_flags decides it, over the pieces' fixes
    bad, n_fix = r["f_bad"], r["f_n"]
    suspect = (r["f_entry"] != 0) | ((2 * bad >= n_fix) & (bad > 0))
    return episode_table(
        zones, r["zone"], icao=r["icao"], callsign=r["callsign"], source=source, track_start=r["tstart"],
        g_used=r["g"], b_used=r["b"], eflags=np.where(suspect, r["f_or"], 0).astype(np.uint16),
        entry_time=r["entry_f"], exit_time=r["exit_f"], entry_observed=r["entry_obs"], exit_observed=r["exit_obs"],
        entry_lat=r["entry_lat"], entry_lon=r["entry_lon"], exit_lat=r["exit_lat"], exit_lon=r["exit_lon"],
        max_depth_m=r["depth"], path_length_m=r["length"], min_alt_ft=r["amin"], max_alt_ft=r["amax"],
        n_fixes_inside=r["nfix"],
    )  # fmt: skip


# ---------------------------------------------------------------- inputs

BUCKET_ROWS = 4_000_000  # fixes per aircraft bucket when data must be regrouped
#: what a bucket keeps of each fix (all that detection and integrity flags use)
BUCKET_COLUMNS = ("icao24", "time", "lat", "lon", "alt_baro_ft", "alt_geo_ft", "groundspeed_kt", "track_deg",
                  "nic", "nacp", "sil", "flags", "callsign")


class Summary:
    """What a streaming run saw, for the CLI summary line."""

    def __init__(self, det: StreamDetector):
        self.stats = det.stats
        self.duplicates = det.duplicates
        self.n_tracks = det.n_tracks
        self.suspect_fixes = det.suspect_fixes
        self.regrouped = False


def _prefetch(it, depth: int = 1):
    """Iterate ``it`` in a background thread (reading overlaps computing)."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(depth)
    stop = object()
    cancel = threading.Event()

    def work():
        try:
            for x in it:
                if cancel.is_set():
                    return
                q.put((True, x))
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            q.put((False, e))
            return
        q.put((True, stop))

    t = threading.Thread(target=work, daemon=True)
    t.start()
    try:
        while True:
            ok, x = q.get()
            if not ok:
                raise x
            if x is stop:
                return
            yield x
    finally:
        cancel.set()
        while t.is_alive():  # drain so the reader can finish
            try:
                q.get(timeout=0.05)
            except queue.Empty:
                pass


def _progress(count):
    """A fixes/s bar on stderr when it is a terminal, else None; ``count()``
    gives its total (rows, or None), asked only for a bar."""
    import sys

    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=count() or None, unit="fix", unit_scale=True, file=sys.stderr, smoothing=0.1,
                desc="skyfence", dynamic_ncols=True)  # fmt: skip


def input_batches(inputs, *, columns=None, time_unit=None, altitude_unit=None, batch_rows: int = 500_000):
    """``(count, gen)`` over track inputs: ``count()`` is the total rows (from
    the Parquet footers, read on the first call; None when an input is not
    Parquet) and ``gen()`` an iterator of Tracks.  Parquet files, directories
    (hive-partitioned), globs or URLs are streamed by batches; CSV/JSON files
    and ``-`` are read whole, as one batch each.  The iterator can be made
    again (regrouping reads the inputs twice); what came from stdin, which
    cannot be read twice, is kept from the first time."""
    from .io import read_tracks
    from .io._parquet import count_rows, dataset_files, is_parquet_dataset, iter_batches

    plan = []
    for item in inputs:
        item = str(item)
        if item != "-" and is_parquet_dataset(item):
            fs, files = dataset_files(item)
            plan.append(("parquet", fs, files))
        else:
            plan.append(("whole", item, None))  # rows unknown: the bar counts without a total

    stdin: dict = {}  # plan position -> the Tracks read from "-"

    def gen():
        for k, (kind, a, b) in enumerate(plan):
            if kind == "parquet":
                yield from iter_batches(b, a, batch_rows=batch_rows, columns=columns, time_unit=time_unit,
                                        altitude_unit=altitude_unit)  # fmt: skip
            elif k in stdin:
                yield stdin[k]
            else:
                tracks = read_tracks(a, columns=columns, time_unit=time_unit, altitude_unit=altitude_unit)
                if a == "-":
                    stdin[k] = tracks
                yield tracks

    @functools.cache
    def count() -> int | None:  # a request per file on remote datasets: only when wanted
        if not all(kind == "parquet" for kind, _, _ in plan):
            return None
        return sum(count_rows(files, fs) for _, fs, files in plan)

    return count, gen


def detect_stream(inputs, zones, *, max_gap: float = 60.0, columns=None, time_unit=None, altitude_unit=None,
                  batch_rows: int = 500_000, flush_rows: int = FLUSH_ROWS, progress: bool = True,
                  source: str | None = None, window_s: float = WINDOW_S):  # fmt: skip
    """Episodes of track inputs read as a stream, in bounded memory.

    Parameters
    ----------
    inputs:
        Paths: Parquet files, directories of Parquet files (hive partitions
        such as ``date=2024-06-01/hour=07/`` are fine), globs
        (``data/*/part-*.parquet``), fsspec URLs (``s3://bucket/prefix/``,
        with ``s3fs`` installed); CSV/JSON files are read whole.
    zones:
        Zones to test.
    batch_rows, flush_rows:
        Rows per Parquet read, and fixes gathered before the engine runs.
    progress:
        Show a fixes/s bar on stderr when it is a terminal.
    source:
        The ``source`` column (default: the inputs, comma-separated).

    Returns
    -------
    (pyarrow.Table, Summary)
        Episodes as :func:`skyfence.detect` gives them, and what was read.

    Data not in time order per aircraft across batches (a fix older than one
    already processed) is detected; the run then regroups the fixes by
    aircraft through temporary Parquet files (``$TMPDIR``) and starts again,
    with the same result.
    """
    import sys

    _return_freed_memory()
    source = ", ".join(map(str, inputs)) if source is None else source
    opts = dict(columns=columns, time_unit=time_unit, altitude_unit=altitude_unit, batch_rows=batch_rows)
    count, gen = input_batches(inputs, **opts)
    det = StreamDetector(zones, max_gap=max_gap, flush_rows=flush_rows, window_s=window_s)
    bar = _progress(count) if progress else None
    try:
        try:
            for tracks in _prefetch(gen()):
                det.feed(tracks)
                if bar is not None:
                    bar.update(tracks.stats.rows_read)
            table = det.finish(source)
            return table, Summary(det)
        except NotInOrder as e:
            if bar is not None:
                bar.close()
                bar = None
            print(f"skyfence: {e}; regrouping the fixes by aircraft", file=sys.stderr)
        return _regrouped(gen, zones, max_gap, count, source, flush_rows, window_s, progress)
    finally:
        if bar is not None:
            bar.close()


def _return_freed_memory() -> None:
    """With glibc, fix the malloc thresholds: the stream allocates and frees
    arrays of a few MB all the time.  Left to itself glibc moves its mmap
    threshold around (up to 32 MB) and the peak RSS shows it; mapping every
    block over 1 MB afresh instead costs a page fault per 4 KB page touched
    (sys time was a third of the CPU time at 10 M fixes).  Blocks up to 64 MB
    come from the heap and are reused; free heap over 128 MB is trimmed."""
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-3, 64 << 20)  # M_MMAP_THRESHOLD: blocks over 64 MB are mmapped
        libc.mallopt(-1, 128 << 20)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass


def _lookup(table: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Where each key is or would be in the sorted ``table`` (clipped to its
    last entry: ``table[pos] == key`` says whether it is there), searched once
    per run of equal keys (an aircraft's rows in a batch of data ordered by aircraft)."""
    bounds = aircraft_starts(keys)
    if 4 * (len(bounds) - 1) > len(keys):  # short runs (time order): searched row by row
        return np.minimum(np.searchsorted(table, keys), len(table) - 1)
    pos = np.minimum(np.searchsorted(table, keys[bounds[:-1]]), len(table) - 1)
    return np.repeat(pos, np.diff(bounds))


def _hash32(icao: np.ndarray) -> np.ndarray:
    """A multiplicative (Knuth) hash of each address, in [0, 2**32), as uint64."""
    return (icao.astype(np.uint64) * np.uint64(2654435761)) & np.uint64(0xFFFFFFFF)


def _bucket(icao: np.ndarray, k: int) -> np.ndarray:
    """Bucket of each aircraft: the hash of its address, mod ``k``."""
    return (_hash32(icao) % np.uint64(k)).astype(np.int64)


def split_by_aircraft(tracks: Tracks, k: int, names: dict) -> list[pa.Table]:
    """``k`` Arrow tables of the fixes of ``tracks``, by aircraft bucket;
    callsign codes are remapped into ``names`` (shared across calls)."""
    remap = np.array([names.setdefault(c, len(names)) for c in tracks.callsigns] + [-1], np.int32)
    b = _bucket(tracks.icao24, k)
    order = np.argsort(b, kind="stable")
    cuts = np.searchsorted(b[order], np.arange(k + 1))
    cols = {name: getattr(tracks, name) for name in BUCKET_COLUMNS}
    cols["callsign"] = remap[tracks.callsign]
    out = []
    for j in range(k):
        sel = order[cuts[j] : cuts[j + 1]]
        out.append(pa.table({name: v[sel] for name, v in cols.items()}))
    return out


def bucket_tracks(table: pa.Table, names: list) -> Tracks:
    """A bucket table (from :func:`split_by_aircraft`) as Tracks."""
    c = {name: table.column(name).to_numpy() for name in BUCKET_COLUMNS}
    return bucket_from_columns(c, tuple(names))


def bucket_from_columns(c: dict, callsigns: tuple) -> Tracks:
    """Tracks from :data:`BUCKET_COLUMNS` arrays (callsign codes into ``callsigns``)."""
    flags = c.pop("flags")
    tr = Tracks.from_columns(**c, callsigns=callsigns, stats=ReadStats())
    tr.flags = flags.astype(np.uint16)
    return tr


def _regrouped(gen, zones, max_gap, count, source, flush_rows, window_s, progress):
    """Two passes: fixes into aircraft buckets (temporary Parquet), then each bucket whole."""
    import os
    import tempfile

    import pyarrow.parquet as pq

    k = max(1, math.ceil((count() or BUCKET_ROWS) / BUCKET_ROWS))
    names: dict[str, int] = {}
    stats = ReadStats()
    with tempfile.TemporaryDirectory(prefix="skyfence-") as tmp:
        paths = [os.path.join(tmp, f"bucket-{j:05d}.parquet") for j in range(k)]
        writers: list = [None] * k
        bar = _progress(count) if progress else None
        try:
            for tracks in _prefetch(gen()):
                stats.merge(tracks.stats)
                for j, part in enumerate(split_by_aircraft(tracks, k, names)):
                    if part.num_rows:
                        if writers[j] is None:
                            writers[j] = pq.ParquetWriter(paths[j], part.schema)
                        writers[j].write_table(part)
                if bar is not None:
                    bar.update(tracks.stats.rows_read)
        finally:
            for w in writers:
                if w is not None:
                    w.close()
            if bar is not None:
                bar.close()
        det = StreamDetector(zones, max_gap=max_gap, flush_rows=flush_rows, window_s=window_s)
        det.stats = stats
        name_list = list(names)
        for j in range(k):
            if writers[j] is None:
                continue
            det.feed(bucket_tracks(pq.read_table(paths[j]), name_list))
            det.flush(eod=True)  # the bucket holds its aircraft whole
        det.stats = stats
        table = det.finish(source)
    s = Summary(det)
    s.regrouped = True
    return table, s
