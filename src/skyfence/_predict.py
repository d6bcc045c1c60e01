"""Predicted-entry warnings: will this aircraft enter that zone, and when?

At each *issue point* (the first fix of each aircraft in every ``cadence``-s
slot of UTC time, 5 s by default) the aircraft's velocity is taken from its
latest fixes (reported groundspeed, track and vertical rate, or derived from
positions and altitudes when not reported), its turn rate from the change of
track over the last ``turn_window`` s, and its path for the next ``horizon``
s is predicted with two motion models:

- ``straight``: along the geodesic at the current track and speed;
- ``turn``: at the current turn rate (for at most ``max_turn_deg`` of turn,
  straight on after), only where the aircraft turns at ``min_turn_dps`` or
  more (below that it is the straight path).

Fixes that the integrity checks flag (:func:`skyfence._integrity.fix_flags`)
are not used: no prediction is issued at them and no velocity or turn rate
is taken from them.

An entry is kept only when it survives a track error of ``track_margin_deg``
either way (the same path flown at the track plus and minus the margin enters
too) and, unless the horizon ends first, the path stays inside at least
``min_inside_s``.

Altitude is linear in the vertical rate.  Each predicted path is a polyline
with a point every ``step`` s; all of them, for all aircraft and issue points
at once, form one track table that goes through the crossing kernel of
:mod:`skyfence.engine` (the same exact geometry and vertical limits as
``detect``): an episode that starts on the path is a predicted entry, one
that starts at the path's first point means the aircraft is already inside
(never warned).  Near misses (the path does not enter but passes within
``near_miss_m`` of the zone, at the altitudes it will be flying) are found by
running copies of each path shifted sideways by half and all of that distance
through the same kernel, then measuring the closest approach to the zone's
boundary exactly (:func:`skyfence._predict_kernels.closest`).

Warning episodes (see :func:`skyfence._predict_kernels.episodes`): a
prediction is acted on once ``confirm`` consecutive issue points of the
aircraft make it; the first opens an episode and is emitted; the episode is
re-issued only when the predicted entry time comes earlier by more than
``max(change_s, change_rel * lead)`` (near misses: when the path comes
within half the near-miss distance), and closes after ``quiet`` s with no
such prediction.

:class:`WarningMonitor` keeps only per-aircraft state (the last ``history`` s
of fixes, the time of the last fix processed) and per (aircraft, zone) episode
state, so a live feed calls :meth:`WarningMonitor.feed` on each batch of new
fixes; :func:`predict_entries` is one call on a whole recording, plus the
evaluation against the entries ``detect`` observes.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import numpy as np
import pyarrow as pa

from . import _predict_kernels as K
from ._errors import ConfigError
from ._tracks import ReadStats, Tracks

NM = 1852.0
MODELS = ("straight", "turn", "both")
EVENTS = ("warning", "near-miss")

SCHEMA = pa.schema(
    [
        ("icao24", pa.string()),
        ("callsign", pa.string()),
        ("zone", pa.string()),
        ("zone_name", pa.string()),
        ("event", pa.string()),
        ("episode", pa.int64()),
        ("update", pa.int64()),
        ("issued_at", pa.timestamp("us", tz="UTC")),
        ("predicted_entry_time", pa.timestamp("us", tz="UTC")),
        ("lead_s", pa.float64()),
        ("model", pa.string()),
        ("entry_lat", pa.float64()),
        ("entry_lon", pa.float64()),
        ("entry_alt_ft", pa.float64()),
        ("predicted_inside_s", pa.float64()),
        ("closest_approach_m", pa.float64()),
        ("closest_time", pa.timestamp("us", tz="UTC")),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("alt_ft", pa.float64()),
        ("groundspeed_kt", pa.float64()),
        ("track_deg", pa.float64()),
        ("vertical_rate_fpm", pa.float64()),
        ("turn_rate_dps", pa.float64()),
        ("velocity_source", pa.string()),
        ("observed_entry_time", pa.timestamp("us", tz="UTC")),
        ("achieved_lead_s", pa.float64()),
        ("source", pa.string()),
    ]
)


@dataclass(frozen=True)
class WarnSettings:
    """Every knob of the predictor, with the defaults the benchmark tuned
    (``benchmarks/bench_warn.py``: ``min_turn_dps``, ``track_margin_deg`` and
    ``confirm`` trade lead time against false warnings).

    Times in seconds, distances in metres, speeds in knots, rates in degrees
    per second.  See the module docstring for what each one does.
    """

    horizon: float = 120.0
    model: str = "both"
    cadence: float = 5.0
    step: float = 5.0
    near_miss_m: float = 5 * NM
    confirm: int = 2
    quiet: float = 30.0
    change_s: float = 20.0
    change_rel: float = 0.25
    min_speed_kt: float = 50.0
    min_inside_s: float = 0.0
    track_margin_deg: float = 3.0
    min_turn_dps: float = 1.5
    max_turn_dps: float = 6.0
    max_turn_deg: float = 180.0
    turn_window: float = 10.0
    fresh: float = 10.0
    base: float = 8.0
    max_gap: float = 60.0
    history: float = 60.0
    chunk: int = 8192

    def check(self, names: dict | None = None) -> "WarnSettings":
        """Raise :class:`ConfigError` on a value that makes no sense.

        ``names`` maps a field to the name the user gave it (a command-line
        option, ``{"quiet": "--quiet-period"}``), used in the message."""
        names = names or {}
        say = lambda field: names.get(field, field)  # noqa: E731
        if self.model not in MODELS:
            raise ConfigError(f"{say('model')} must be one of {', '.join(MODELS)}, got {self.model!r}")
        for name in ("horizon", "cadence", "step", "max_gap", "turn_window", "base", "fresh"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ConfigError(f"{say(name)} must be a positive number of seconds, got {v!r}")
        if self.horizon > 1800:
            raise ConfigError(f"{say('horizon')} must be at most 1800 s, got {self.horizon:g}")
        if self.step > self.horizon:
            raise ConfigError(f"{say('step')} ({self.step:g} s) must not exceed the {say('horizon')} "
                              f"({self.horizon:g} s)")  # fmt: skip
        for name in ("near_miss_m", "min_inside_s", "track_margin_deg", "quiet", "change_s", "change_rel", "min_speed_kt",
                     "min_turn_dps", "max_turn_dps", "max_turn_deg"):  # fmt: skip
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0):
                raise ConfigError(f"{say(name)} must be a non-negative number, got {v!r}")
        if self.near_miss_m > 50_000:
            raise ConfigError(f"{say('near_miss_m')}: the near-miss distance must be at most 50 km (26.9 NM), "
                              f"got {self.near_miss_m / NM:g} NM")  # fmt: skip
        if int(self.confirm) < 1:
            raise ConfigError(f"{say('confirm')} must be at least 1, got {self.confirm!r}")
        return self

    @property
    def taus(self) -> np.ndarray:
        """Seconds ahead of each point of a predicted path."""
        n = int(math.ceil(self.horizon / self.step - 1e-9))
        return np.minimum(np.arange(n + 1) * self.step, self.horizon)


class WarningMonitor:
    """Predicted-entry warnings for a stream of fixes, batch by batch.

    Parameters
    ----------
    zones:
        Zones to watch (e.g. ``read_zones("world")``).
    settings:
        A :class:`WarnSettings`; keyword arguments override its fields.

    Notes
    -----
    State kept between calls: per aircraft, the last ``history`` s of fixes
    and the time of its last fix processed; per (aircraft, zone, kind), the
    warning-episode state.  Fixes must arrive in time order per aircraft: a
    fix not newer than the last one processed for its aircraft is counted in
    ``stats["late fix"]`` and only used as history.  Not thread-safe.
    """

    def __init__(self, zones, settings: WarnSettings | None = None, **overrides) -> None:
        from .engine._threads import threads
        from .engine._index import load_or_build

        s = settings or WarnSettings()
        if overrides:
            unknown = set(overrides) - {f.name for f in fields(WarnSettings)}
            if unknown:
                raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
            s = WarnSettings(**{**asdict(s), **overrides})
        self.settings = s.check()
        self.zones = list(zones)
        self.index = load_or_build(self.zones)
        self.n_threads = threads()
        self._tail: Tracks | None = None
        self._done_icao = np.empty(0, np.uint32)
        self._done_t = np.empty(0)
        self._keys = np.empty(0, np.int64)
        self._st = _State.empty(0)
        self._next_ep = 0
        self.stats: dict[str, int] = {"issue points": 0, "late fix": 0, "suspect fix": 0, "no velocity": 0, "slow": 0,
                                      "paths": 0}  # fmt: skip

    # ------------------------------------------------------------------ feed
    def feed(self, tracks: Tracks) -> pa.Table:
        """Process new fixes; return the warnings they raise (schema ``SCHEMA``,
        without the evaluation columns filled)."""
        from ._integrity import fix_flags
        from .engine._prepare import prepare

        s = self.settings
        late = self._late(tracks)
        self.stats["late fix"] += int(late.sum())
        parts = [tracks] if self._tail is None else [self._tail, tracks]
        full = prepare(Tracks.concat(parts), s.max_gap)
        if len(full.tracks) == 0:
            return empty_table()
        # fixes the integrity checks flag (impossible speed, jumps, frozen positions, ...) neither issue
        # predictions nor give velocities and turn rates: a warning built on a spoofed or garbled position is
        # worse than none.  History keeps them, so that the checks see the same fixes batch after batch.
        bad = fix_flags(full.tracks) != 0
        if bad.any():
            ft = full.tracks
            self.stats["suspect fix"] += int((bad & (ft.time > self._done_time(ft.icao24))).sum())
            prep = prepare(ft.take(np.flatnonzero(~bad)), s.max_gap)
        else:
            prep = full
        tr = prep.tracks
        n = len(tr)
        if n == 0:
            self._remember(full.tracks)
            self._forget(full.tracks.time.max())
            return empty_table()
        track_of = np.repeat(np.arange(prep.n_tracks), np.diff(prep.start))
        first_of = prep.start[track_of]
        slot = np.floor(tr.time / s.cadence)
        is_issue = np.ones(n, bool)
        is_issue[1:] = (slot[1:] != slot[:-1]) | (first_of[1:] == np.arange(1, n))
        issue = np.flatnonzero(is_issue)
        prev_t = np.full(len(issue), np.nan)
        if len(issue) > 1:
            same = track_of[issue[1:]] == track_of[issue[:-1]]
            prev_t[1:] = np.where(same, tr.time[issue[:-1]], np.nan)
        done = self._done_time(tr.icao24[issue])
        new = tr.time[issue] > done
        issue, prev_t = issue[new], prev_t[new]
        self.stats["issue points"] += len(issue)
        rows = [self._predict(prep, issue[a : a + s.chunk], first_of[issue[a : a + s.chunk]], prev_t[a : a + s.chunk])
                for a in range(0, len(issue), s.chunk)]  # fmt: skip
        self._remember(full.tracks)
        if not rows:
            table = empty_table()
        else:
            rows = {k: np.concatenate([r[k] for r in rows]) for k in rows[0]}
            table = self._episodes(tr, prep, rows)
        self._forget(full.tracks.time.max())
        return table

    def _forget(self, now: float) -> None:
        """Drop episode state that can no longer matter: a slot whose last
        prediction is older than the quiet period and the longest gap can
        continue neither a streak nor an episode (the same as a fresh slot)."""
        s = self.settings
        stale = self._st.last < now - max(s.quiet, s.max_gap) - s.cadence
        if stale.any():
            self._keys = self._keys[~stale]
            self._st = _State(*(getattr(self._st, n)[~stale] for n in _State.NAMES))

    def _late(self, tracks: Tracks) -> np.ndarray:
        if not len(self._done_icao) or not len(tracks):
            return np.zeros(len(tracks), bool)
        return tracks.time <= self._done_time(tracks.icao24)

    def _done_time(self, icao: np.ndarray) -> np.ndarray:
        """Time of the last fix processed for each address (-inf if none)."""
        if not len(self._done_icao):
            return np.full(len(icao), -np.inf)
        k = np.clip(np.searchsorted(self._done_icao, icao), 0, len(self._done_icao) - 1)
        return np.where(self._done_icao[k] == icao, self._done_t[k], -np.inf)

    def _remember(self, tr: Tracks) -> None:
        """Keep the last ``history`` s of each aircraft and its last time."""
        icao, time = tr.icao24, tr.time  # sorted by (icao, time)
        last = np.ones(len(icao), bool)
        last[:-1] = icao[1:] != icao[:-1]
        ac_icao, ac_t = icao[last], time[last]
        k = np.searchsorted(ac_icao, icao)
        s = self.settings
        now = time.max() if len(time) else -np.inf
        # the last `history` s of each aircraft still in the air (a later fix of one silent for longer than
        # max_gap starts a new track: its history would not be used)
        keep = (time >= ac_t[k] - s.history) & (ac_t[k] >= now - s.max_gap)
        tail = tr.take(keep)
        tail.stats = ReadStats()
        self._tail = tail
        old = self._done_time(ac_icao)
        merged_icao = np.union1d(self._done_icao, ac_icao)
        merged_t = np.full(len(merged_icao), -np.inf)
        if len(self._done_icao):
            merged_t[np.searchsorted(merged_icao, self._done_icao)] = self._done_t
        merged_t[np.searchsorted(merged_icao, ac_icao)] = np.maximum(old, ac_t)
        live = merged_t >= now - FORGET_S  # bounded state on a live feed
        self._done_icao, self._done_t = merged_icao[live], merged_t[live]

    # ------------------------------------------------------------ prediction
    def _predict(self, prep, issue, first, prev_t) -> dict:
        """Positive predictions (entries and near misses) at these issue fixes."""
        s = self.settings
        tr = prep.tracks
        nq = len(issue)
        gs, trk, vr, om = np.empty(nq), np.empty(nq), np.empty(nq), np.empty(nq)
        src = np.empty(nq, np.int8)
        K.kinematics(issue.astype(np.int64), first.astype(np.int64), tr.time, tr.lat, tr.lon, tr.groundspeed_kt,
                     tr.track_deg, tr.vertical_rate_fpm, prep.alt_fl, s.fresh, s.base, s.turn_window,
                     s.max_turn_dps, gs, trk, vr, om, src)  # fmt: skip
        self.stats["no velocity"] += int((src == 0).sum())
        slow = (src > 0) & ~(gs >= s.min_speed_kt)
        self.stats["slow"] += int(slow.sum())
        ok = (src > 0) & ~slow
        turning = ok & (np.abs(om) >= s.min_turn_dps)
        if s.model == "straight":
            p_q, p_turn = np.flatnonzero(ok), np.zeros(int(ok.sum()), bool)
        elif s.model == "turn":
            p_q, p_turn = np.flatnonzero(ok), turning[ok]
        else:
            p_q = np.concatenate([np.flatnonzero(ok), np.flatnonzero(turning)])
            p_turn = np.concatenate([np.zeros(int(ok.sum()), bool), np.ones(int(turning.sum()), bool)])
        self.stats["paths"] += len(p_q)
        taus = s.taus
        npts = len(taus)
        fix = issue[p_q]
        args = (tr.lon[fix], tr.lat[fix], gs[p_q] * K.KT, trk[p_q], om[p_q], prep.alt_fl[fix], prep.alt_msl[fix],
                vr[p_q] / 60.0, p_turn)  # fmt: skip
        path = _paths(*args, np.zeros(len(p_q)), taus, s.max_turn_deg)
        oi, of = self._kernel(path, npts)
        p, z, s0, obs0, t0 = oi[:, 0], oi[:, 1], oi[:, 2], oi[:, 4].astype(bool), of[:, 0]
        s1, obs1, t1 = oi[:, 3], oi[:, 5].astype(bool), of[:, 1]
        nz = max(len(self.zones), 1)
        inside = np.unique(p_q[p[~obs0]].astype(np.int64) * nz + z[~obs0])
        # entries: the first one of each (path, zone)
        e = np.flatnonzero(obs0)
        k = s0[e] - p[e] * npts
        tau = taus[k] + t0[e] * (taus[np.minimum(k + 1, npts - 1)] - taus[k])
        k1 = s1[e] - p[e] * npts
        tau1 = taus[k1] + t1[e] * (taus[np.minimum(k1 + 1, npts - 1)] - taus[k1])
        inside_s = np.where(obs1[e], tau1, s.horizon) - tau  # predicted time inside within the horizon
        ent = _first_by(p[e] * nz + z[e], tau)
        e, tau, inside_s = e[ent], tau[ent], inside_s[ent]
        qz = p_q[p[e]].astype(np.int64) * nz + z[e]
        keep = ~np.isin(qz, inside)
        keep &= inside_s >= np.minimum(s.min_inside_s, s.horizon - tau - 1e-9)
        if s.track_margin_deg > 0 and keep.any():
            keep[keep] = self._robust(args, p[e[keep]], z[e[keep]], taus)
        e, tau, qz, inside_s = e[keep], tau[keep], qz[keep], inside_s[keep]
        pos = s0[e] + t0[e]
        elat, elon, ealt = _along(path["lat"], pos), _along(path["lon"], pos, wrap=True), _along(path["fl"], pos)
        model_bit = np.where(p_turn[p[e]], 2, 1)
        # combine the models: the earliest entry; which models predict one
        order = np.lexsort((tau, qz))
        qz, tau, elat, elon, ealt, model_bit, inside_s = (a[order] for a in (qz, tau, elat, elon, ealt, model_bit,
                                                                             inside_s))
        head = np.ones(len(qz), bool)
        head[1:] = qz[1:] != qz[:-1]
        bits = np.bitwise_or.reduceat(model_bit, np.flatnonzero(head)) if len(qz) else model_bit
        w = {
            "q": qz[head] // nz, "zone": qz[head] % nz, "kind": np.zeros(int(head.sum()), np.int8),
            "tau": tau[head], "model": bits, "elat": elat[head], "elon": elon[head], "ealt": ealt[head],
            "dist": np.zeros(int(head.sum())), "ctau": tau[head], "inside": inside_s[head],
        }  # fmt: skip
        entered = qz[head]
        nm = self._near_misses(args, p_q, p_turn, np.union1d(inside, entered)) if s.near_miss_m > 0 else None
        out = {k: v for k, v in w.items()}
        if nm is not None:
            out = {k: np.concatenate([w[k], nm[k]]) for k in w}
        q = out["q"]
        fixq = issue[q]
        out.update(
            fix=fixq, t=tr.time[fixq], prev_t=prev_t[q], gs=gs[q], trk=trk[q], vr=vr[q], om=om[q], src=src[q],
        )
        return out

    def _robust(self, args, p, z, taus) -> np.ndarray:
        """Whether the entry of path ``p`` into zone ``z`` survives a track
        error of ``track_margin_deg`` either way: both paths flown at the
        track plus and minus the margin enter ``z`` too."""
        s = self.settings
        nz = max(len(self.zones), 1)
        up = np.unique(p)
        sub = [a[up] for a in args]
        ok = np.ones(len(p), bool)
        for sign in (-1.0, 1.0):
            var = list(sub)
            var[3] = sub[3] + sign * s.track_margin_deg
            oi, _ = self._kernel(_paths(*var, np.zeros(len(up)), taus, s.max_turn_deg), len(taus))
            got = up[oi[oi[:, 4] == 1, 0]].astype(np.int64) * nz + oi[oi[:, 4] == 1, 1]
            ok &= np.isin(p.astype(np.int64) * nz + z, got)
        return ok

    def _near_misses(self, args, p_q, p_turn, exclude):
        """Zones within ``near_miss_m`` of a path that does not enter them.

        Copies of each path shifted sideways by half and all of the distance
        (with a point every ``NEAR_STEP`` s: they only detect) go through the
        crossing kernel; a zone one of them meets, at the altitudes flown, is
        within that distance of the path.  Band 0: met by the half-distance
        copies; band 1: only by the outer ones.  The exact closest approach
        is measured later, for the events emitted only.
        """
        s = self.settings
        d = s.near_miss_m
        offs = np.array([-0.5 * d, 0.5 * d, -d, d])
        taus = _coarse(s.taus)
        rep = np.repeat(np.arange(len(p_q)), len(offs))
        shifted = _paths(*(a[rep] for a in args), np.tile(offs, len(p_q)), taus, s.max_turn_deg)
        oi, _ = self._kernel(shifted, len(taus))
        nz = max(len(self.zones), 1)
        band = (oi[:, 0] % len(offs) >= 2).astype(np.int64)
        pp = oi[:, 0] // len(offs)
        qz = p_q[pp].astype(np.int64) * nz + oi[:, 1]
        keep = ~np.isin(qz, exclude)
        qz, band, bit = qz[keep], band[keep], np.where(p_turn[pp[keep]], 2, 1)
        order = np.lexsort((band, qz))
        qz, band, bit = qz[order], band[order], bit[order]
        head = np.ones(len(qz), bool)
        head[1:] = qz[1:] != qz[:-1]
        bits = np.bitwise_or.reduceat(bit, np.flatnonzero(head)) if len(qz) else bit
        m = int(head.sum())
        nan = np.full(m, np.nan)
        return {"q": qz[head] // nz, "zone": qz[head] % nz, "kind": np.ones(m, np.int8), "tau": nan,
                "model": bits, "elat": nan, "elon": nan, "ealt": nan, "dist": band[head].astype(np.float64),
                "ctau": nan, "inside": nan}  # fmt: skip

    def _closest(self, tr, prep, rows: dict) -> None:
        """Exact closest approach (``dist``, ``ctau``) of emitted near-miss rows:
        the least over the models that flagged it."""
        s = self.settings
        r = np.flatnonzero(rows["kind"] == 1)
        if not len(r):
            return
        turn_also = (rows["model"][r] & 2) > 0
        straight_also = (rows["model"][r] & 1) > 0
        rr = np.concatenate([r[straight_also], r[turn_also]])
        turn = np.concatenate([np.zeros(int(straight_also.sum()), bool), np.ones(int(turn_also.sum()), bool)])
        fix = rows["fix"][rr]
        args = (tr.lon[fix], tr.lat[fix], rows["gs"][rr] * K.KT, rows["trk"][rr], rows["om"][rr], prep.alt_fl[fix],
                prep.alt_msl[fix], rows["vr"][rr] / 60.0, turn)  # fmt: skip
        taus = s.taus
        npts = len(taus)
        path = _paths(*args, np.zeros(len(rr)), taus, s.max_turn_deg)
        dist, kpos = np.empty(len(rr)), np.empty(len(rr))
        K.closest(np.arange(len(rr), dtype=np.int64), rows["zone"][rr].astype(np.int64), args[0], args[1],
                  path["x"], path["y"], path["lon"], path["lat"], npts, s.near_miss_m * 1.5, self.index.grid,
                  dist, kpos)  # fmt: skip
        k = np.minimum(np.floor(kpos).astype(np.int64), npts - 1)
        ctau = taus[k] + (kpos - k) * (taus[np.minimum(k + 1, npts - 1)] - taus[k])
        best = _first_by(rr, dist)
        rows["dist"][rr[best]] = dist[best]
        rows["ctau"][rr[best]] = ctau[best]
        rows["model"][rr[best]] = np.where(turn[best], 2, 1)

    def _kernel(self, path: dict, npts: int):
        """The engine's crossing kernel over predicted paths (one track each)."""
        from .engine._kernel import crossings

        n_paths = len(path["lon"]) // npts if npts else 0
        if n_paths == 0:
            return np.empty((0, 6), np.int64), np.empty((0, 2))
        start = np.arange(n_paths + 1, dtype=np.int64) * npts
        return crossings(path["lon"], path["lat"], path["fl"], path["msl"], start, self.index, self.n_threads)

    # -------------------------------------------------------------- episodes
    def _episodes(self, tr: Tracks, prep, rows: dict) -> pa.Table:
        s = self.settings
        nz = max(len(self.zones), 1)
        icao = tr.icao24[rows["fix"]].astype(np.int64)
        key = (icao * 2 + rows["kind"]) * nz + rows["zone"]
        order = np.lexsort((rows["t"], key))
        rows = {k: v[order] for k, v in rows.items()}
        key = key[order]
        slots = self._slots(key)
        val = np.where(rows["kind"] == 0, rows["t"] + rows["tau"], rows["dist"])
        nr = len(key)
        emit, ep, upd = np.empty(nr, bool), np.empty(nr, np.int64), np.empty(nr, np.int64)
        st = self._st
        self._next_ep = K.episodes(slots, rows["t"], rows["prev_t"], val, rows["kind"], s.quiet, int(s.confirm),
                                   s.change_s, s.change_rel, st.last, st.streak, st.open, st.val, st.ep,
                                   st.upd, self._next_ep, emit, ep, upd)  # fmt: skip
        rows = {k: v[emit] for k, v in rows.items()}
        rows["episode"], rows["update"] = ep[emit], upd[emit]
        self._closest(tr, prep, rows)
        order = np.lexsort((rows["zone"], rows["t"]))
        rows = {k: v[order] for k, v in rows.items()}
        return _table(tr, prep, self.zones, rows)

    def _slots(self, key: np.ndarray) -> np.ndarray:
        """State slot of each (aircraft, kind, zone) key, adding new ones."""
        new = np.setdiff1d(np.unique(key), self._keys)
        if len(new):
            merged = np.union1d(self._keys, new)
            st = _State.empty(len(merged))
            at = np.searchsorted(merged, self._keys)
            for name in _State.NAMES:
                getattr(st, name)[at] = getattr(self._st, name)
            self._keys, self._st = merged, st
        return np.searchsorted(self._keys, key)


@dataclass
class _State:
    """Warning-episode state per (aircraft, kind, zone) slot."""

    last: np.ndarray
    streak: np.ndarray
    open: np.ndarray
    val: np.ndarray
    ep: np.ndarray
    upd: np.ndarray

    NAMES = ("last", "streak", "open", "val", "ep", "upd")

    @classmethod
    def empty(cls, n: int) -> "_State":
        return cls(np.full(n, -np.inf), np.zeros(n, np.int64), np.zeros(n, bool), np.zeros(n),
                   np.full(n, -1, np.int64), np.zeros(n, np.int64))  # fmt: skip


def _paths(lon0, lat0, speed, trk, om, fl0, msl0, vr_fps, turn, offset, taus, max_turn_deg) -> dict:
    n = len(lon0) * len(taus)
    out = {k: np.empty(n) for k in ("lon", "lat", "fl", "msl", "x", "y")}
    K.paths(np.ascontiguousarray(lon0), np.ascontiguousarray(lat0), np.ascontiguousarray(speed),
            np.ascontiguousarray(trk), np.ascontiguousarray(om), np.ascontiguousarray(fl0),
            np.ascontiguousarray(msl0), np.ascontiguousarray(vr_fps), np.ascontiguousarray(turn),
            np.ascontiguousarray(offset, dtype=np.float64), taus, float(max_turn_deg),
            out["lon"], out["lat"], out["fl"], out["msl"], out["x"], out["y"])  # fmt: skip
    return out


NEAR_STEP = 20.0
FORGET_S = 3600.0  # a live monitor forgets aircraft silent for longer (their last fix time)


def _coarse(taus: np.ndarray) -> np.ndarray:
    """A point every ``NEAR_STEP`` s (and the last one) of ``taus``."""
    keep = np.unique(np.append(np.searchsorted(taus, np.arange(0.0, taus[-1], NEAR_STEP)), len(taus) - 1))
    return taus[keep]


def _first_by(key: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Indices of the smallest ``value`` of each ``key``."""
    if not len(key):
        return np.empty(0, np.int64)
    order = np.lexsort((value, key))
    head = np.ones(len(key), bool)
    head[1:] = key[order][1:] != key[order][:-1]
    return order[head]


def _along(values: np.ndarray, pos: np.ndarray, wrap: bool = False) -> np.ndarray:
    """``values`` at fractional point positions (the next point must exist
    when the fraction is non-zero)."""
    i = np.floor(pos).astype(np.int64)
    f = pos - i
    j = np.minimum(i + 1, len(values) - 1)
    d = values[j] - values[i]
    if wrap:
        d = (d + 180.0) % 360.0 - 180.0
    out = values[i] + f * d
    return (out + 180.0) % 360.0 - 180.0 if wrap else out


def _table(tr: Tracks, prep, zones, rows: dict) -> pa.Table:
    n = len(rows["fix"])
    fix = rows["fix"]
    zid = np.array([z.id for z in zones] + [""], dtype=object)
    zname = np.array([z.name for z in zones] + [""], dtype=object)
    # last callsign heard up to the fix, on the same track
    code = tr.callsign
    last = np.maximum.accumulate(np.where(code >= 0, np.arange(len(code)), -1)) if len(code) else code
    track_start = prep.start[np.searchsorted(prep.start, fix, side="right") - 1] if n else fix
    at = last[fix] if n else fix
    names = np.array(list(tr.callsigns) + [None], dtype=object)
    cs = np.where((at >= track_start) & (at >= 0), code[np.maximum(at, 0)] if n else at, -1)
    us = lambda x: pa.array(np.where(np.isnan(x), 0, np.round(x * 1e6)).astype("int64"),  # noqa: E731
                            pa.timestamp("us", tz="UTC"), mask=np.isnan(x))  # fmt: skip
    is_warn = rows["kind"] == 0
    entry_t = np.where(is_warn, rows["t"] + rows["tau"], np.nan)
    cols = {
        "icao24": np.array([format(int(x), "06x") for x in tr.icao24[fix]], dtype=object),
        "callsign": names[cs] if n else np.empty(0, object),
        "zone": zid[rows["zone"]],
        "zone_name": zname[rows["zone"]],
        "event": np.array(EVENTS, dtype=object)[rows["kind"].astype(np.int64)],
        "episode": rows["episode"],
        "update": rows["update"],
        "issued_at": us(rows["t"]),
        "predicted_entry_time": us(entry_t),
        "lead_s": np.where(is_warn, rows["tau"], np.nan),
        "model": np.array(["", "straight", "turn", "both"], dtype=object)[rows["model"].astype(np.int64)],
        "entry_lat": rows["elat"],
        "entry_lon": rows["elon"],
        "entry_alt_ft": rows["ealt"],
        "predicted_inside_s": rows["inside"],
        "closest_approach_m": rows["dist"],
        "closest_time": us(rows["t"] + rows["ctau"]),
        "lat": tr.lat[fix],
        "lon": tr.lon[fix],
        "alt_ft": prep.alt_fl[fix],
        "groundspeed_kt": rows["gs"],
        "track_deg": rows["trk"],
        "vertical_rate_fpm": rows["vr"],
        "turn_rate_dps": rows["om"],
        "velocity_source": np.array(["", "reported", "derived"], dtype=object)[rows["src"].astype(np.int64)],
        "observed_entry_time": us(np.full(n, np.nan)),
        "achieved_lead_s": np.full(n, np.nan),
        "source": np.full(n, tr.source, dtype=object),
    }
    nullable = ("lead_s", "entry_lat", "entry_lon", "entry_alt_ft", "predicted_inside_s", "achieved_lead_s")
    return pa.table({k: v if isinstance(v, pa.Array) else
                     pa.array(v, type=SCHEMA.field(k).type, mask=np.isnan(v) if k in nullable else None)
                     for k, v in cols.items()}, schema=SCHEMA)  # fmt: skip


def empty_table() -> pa.Table:
    return SCHEMA.empty_table()


# ------------------------------------------------------------------ evaluation


def evaluate(warnings: pa.Table, episodes: pa.Table, horizon: float, tolerance: float = 30.0):
    """Compare warnings with the entries ``detect`` observed on the same recording.

    Each warning is matched to the first observed entry of its aircraft into
    its zone at or after the time it was issued, if that entry comes within
    ``horizon + tolerance`` s: ``observed_entry_time`` and ``achieved_lead_s``
    (entry minus issue time) are filled.  Near-miss events are not matched.

    Returns
    -------
    (warnings, entries)
        The warnings with those two columns filled, and one row per observed
        entry (a pandas DataFrame with the columns of the episode) with
        ``first_entry`` (the aircraft had not left that zone within
        ``horizon`` s before: not a re-entry along a border), ``warned`` and
        ``lead_s``: entry time minus the first warning of the warning
        episode of that aircraft and zone open before it (started at or
        before the entry, last (re-)issued at most ``horizon + tolerance`` s
        before it, no other entry of the pair since it started); NaN when
        none.
    """
    import pandas as pd

    ep = episodes.to_pandas().sort_values(["icao24", "zone", "entry_time"], kind="stable")
    if len(ep):
        gap = (ep["entry_time"] - ep.groupby(["icao24", "zone"])["exit_time"].shift()).dt.total_seconds()
        ep["first_entry"] = gap.isna() | (gap > horizon)
    else:
        ep["first_entry"] = pd.Series(dtype=bool)
    ent = ep[ep["entry_observed"]].sort_values(["icao24", "entry_time"], kind="stable").reset_index(drop=True)
    ent["_t"] = ent["entry_time"].astype("int64") / 1e6 if len(ent) else np.empty(0)
    w = warnings.to_pandas()
    w["_row"] = np.arange(len(w))
    w["_t"] = w["issued_at"].astype("int64") / 1e6 if len(w) else np.empty(0)
    ent["_entry"] = np.arange(len(ent))
    cand = w[w["event"] == "warning"].sort_values("_t")
    right = ent[["icao24", "zone", "_t", "_entry"]].rename(columns={"_t": "_te"}).sort_values("_te")
    if len(cand) and len(right):
        m = pd.merge_asof(cand, right, left_on="_t", right_on="_te", by=["icao24", "zone"], direction="forward")
        hit = m["_te"].notna() & (m["_te"] - m["_t"] <= horizon + tolerance)
        m = m[hit]
    else:
        m = cand.iloc[0:0].assign(_te=pd.Series(dtype=float), _entry=pd.Series(dtype=float))
    obs = np.full(len(w), np.nan)
    obs[m["_row"].to_numpy()] = m["_te"].to_numpy()
    lead = obs - w["_t"].to_numpy()
    us = pa.array(np.where(np.isnan(obs), 0, np.round(obs * 1e6)).astype("int64"), pa.timestamp("us", tz="UTC"),
                  mask=np.isnan(obs))  # fmt: skip
    warnings = warnings.set_column(warnings.schema.get_field_index("observed_entry_time"), "observed_entry_time", us)
    warnings = warnings.set_column(warnings.schema.get_field_index("achieved_lead_s"), "achieved_lead_s",
                                   pa.array(lead, pa.float64(), mask=np.isnan(lead)))  # fmt: skip
    # each entry against the warning episode (one alert, re-issues included) of its pair open before it:
    # the latest started at or before the entry, whose last warning came at most horizon + tolerance before
    # it, with no other entry of the pair since the episode started
    ent_lead = np.full(len(ent), np.nan)
    alerts = (w[w["event"] == "warning"].groupby(["icao24", "zone", "episode"], as_index=False)
              .agg(_f=("_t", "min"), _l=("_t", "max")).sort_values("_f"))  # fmt: skip
    if len(alerts) and len(ent):
        left = ent[["icao24", "zone", "_t", "_entry"]].sort_values(["icao24", "zone", "_t"])
        left["_prev"] = left.groupby(["icao24", "zone"])["_t"].shift()
        m2 = pd.merge_asof(left.sort_values("_t"), alerts, left_on="_t", right_on="_f", by=["icao24", "zone"],
                           direction="backward")  # fmt: skip
        ok = (m2["_f"].notna() & (m2["_t"] <= m2["_l"] + horizon + tolerance)
              & ~(m2["_prev"] >= m2["_f"])).to_numpy()  # fmt: skip
        ent_lead[m2["_entry"].to_numpy()[ok]] = (m2["_t"] - m2["_f"]).to_numpy()[ok]
    ent["warned"] = ~np.isnan(ent_lead)
    ent["lead_s"] = ent_lead
    return warnings, ent.drop(columns=["_t", "_entry"])


def predict_entries(tracks: Tracks, zones, *, horizon: float = 120.0, model: str = "both",
                    evaluate_on_recording: bool = True, tolerance: float = 30.0, **settings) -> pa.Table:
    """Predicted-entry warnings for a recording.

    Parameters
    ----------
    tracks:
        Fixes of any number of aircraft (see :class:`~skyfence.Tracks`).
    zones:
        Zones to watch, e.g. ``read_zones("world")``.
    horizon:
        How far ahead to predict, seconds.
    model:
        ``"straight"``, ``"turn"`` or ``"both"`` (an entry predicted by
        either; ``model`` in the output says which).
    evaluate_on_recording:
        Also run :func:`~skyfence.detect` on the recording and fill
        ``observed_entry_time`` and ``achieved_lead_s`` (see :func:`evaluate`).
    tolerance:
        Seconds beyond the horizon an observed entry may come and still match.
    **settings:
        Any other field of :class:`WarnSettings` (``cadence``, ``near_miss_m``,
        ``confirm``, ``quiet``, ...).

    Returns
    -------
    pyarrow.Table
        One row per warning or near-miss event issued (schema ``SCHEMA``), in
        issue-time order.

    Examples
    --------
    >>> import skyfence
    >>> w = skyfence.predict_entries(skyfence.read_tracks("flights.json.gz"),
    ...                              skyfence.read_zones("world"))  # doctest: +SKIP
    """
    mon = WarningMonitor(zones, horizon=horizon, model=model, **settings)
    table = mon.feed(tracks)
    if evaluate_on_recording:
        from ._detect import detect

        episodes = detect(tracks, zones, max_gap=mon.settings.max_gap)
        table, _ = evaluate(table, episodes, mon.settings.horizon, tolerance)
    return table


def straight_cruise_entries(tracks: Tracks, entries, window: float = 120.0, max_track_change: float = 5.0,
                            min_speed_kt: float = 250.0, max_gap: float = 60.0) -> np.ndarray:
    """Which observed entries (rows of :func:`evaluate`'s ``entries``) were
    flown straight at cruise speed: over the ``window`` s before the entry the
    aircraft's track has fixes all along (the first at most 10 s after the
    window opens, no gap over ``max_gap``), every reported track within a
    ``max_track_change``-degree range and every groundspeed above
    ``min_speed_kt``."""
    from .engine._prepare import prepare

    prep = prepare(tracks, max_gap)
    tr = prep.tracks
    n = len(entries)
    if not n or not len(tr):
        return np.zeros(n, bool)
    icao = np.array([int(x, 16) for x in entries["icao24"]], dtype=np.float64)
    et = entries["entry_time"].astype("int64").to_numpy() / 1e6
    t0 = tr.time.min()
    key = tr.icao24.astype(np.float64) * 1e7 + (tr.time - t0)
    kb = icao * 1e7 + (et - t0)
    a = np.searchsorted(key, kb - window, "left")
    b = np.searchsorted(key, kb, "right")
    track_of = np.repeat(np.arange(prep.n_tracks), np.diff(prep.start))
    a_, b_ = np.minimum(a, len(tr) - 1), np.clip(b - 1, 0, len(tr) - 1)
    ok = (b > a) & (tr.icao24[a_] == icao) & (tr.icao24[b_] == icao) & (track_of[a_] == track_of[b_])
    ok &= tr.time[a_] <= et - window + 10.0
    # per-entry ranges of fixes: reduce over the concatenated windows
    cnt = np.where(ok, b - a, 0)
    idx = np.repeat(a, cnt) + (np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt))
    owner = np.repeat(np.arange(n), cnt)
    d = (tr.track_deg[idx] - tr.track_deg[b_][owner] + 180.0) % 360.0 - 180.0
    gs = tr.groundspeed_kt[idx]
    bad = np.zeros(n, bool)
    np.logical_or.at(bad, owner, np.isnan(d) | ~(gs > min_speed_kt))
    lo = np.full(n, np.inf)
    hi = np.full(n, -np.inf)
    np.minimum.at(lo, owner, np.nan_to_num(d))
    np.maximum.at(hi, owner, np.nan_to_num(d))
    return ok & ~bad & (hi - lo < max_track_change)
