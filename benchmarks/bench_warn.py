"""Predicted-entry warnings on the real OpenSky recordings: lead time and false warnings.

For every entry ``detect`` observes (``entry_observed``), the lead time the
earliest matching warning gave (a warning of the same aircraft and zone issued
at most ``horizon + tolerance`` s before the entry, with no other entry of
that pair in between), split into

- *straight cruise* entries: over the 120 s before the entry the track has
  fixes all along (first one at most 10 s after the window opens, no gap over
  60 s), the reported track stays within a 5 degree range and the
  groundspeed above 250 kt;
- the rest;

and false warnings: warnings (every emitted warning event, re-issues
included) with no entry of that aircraft into that zone within ``horizon +
tolerance`` s, per aircraft-hour of recording.  Warnings whose predicted
entry (plus tolerance) falls after the end of the aircraft's track (the
recordings are cut to an area: aircraft leave it) cannot be checked and are
counted apart.

Targets (issue 3): median lead >= 60 s on straight-cruise entries, fewer
than 1 false warning per 10 aircraft-hours, against ``world``.

    .venv/bin/python benchmarks/bench_warn.py [--zones world] [--model both] [--set confirm=2 ...]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import TRACKS_DIR, header  # noqa: E402

FILES = ("belevingsvlucht", "inflight_refuelling", "quickstart", "switzerland", "zurich_airport")
WINDOW = 120.0
MAX_TRACK_CHANGE = 5.0
MIN_SPEED = 250.0


def straight_cruise(prep, icao: np.ndarray, entry_t: np.ndarray) -> np.ndarray:
    """Which entries were flown straight at cruise speed over the WINDOW s before."""
    tr = prep.tracks
    if not len(entry_t):
        return np.zeros(0, bool)
    t0 = tr.time.min()
    key = tr.icao24.astype(np.float64) * 1e7 + (tr.time - t0)
    kb = icao.astype(np.float64) * 1e7 + (entry_t - t0)
    a = np.searchsorted(key, kb - WINDOW, "left")
    b = np.searchsorted(key, kb, "right")
    n = len(tr)
    track_of = np.repeat(np.arange(prep.n_tracks), np.diff(prep.start))
    ok = (b > a) & (b <= n)
    a_, b_ = np.minimum(a, n - 1), np.clip(b - 1, 0, n - 1)
    ok &= (tr.icao24[a_] == icao) & (tr.icao24[b_] == icao) & (track_of[a_] == track_of[b_])
    ok &= tr.time[a_] <= entry_t - WINDOW + 10.0
    gs = np.where(np.isnan(tr.groundspeed_kt), -1.0, tr.groundspeed_kt)
    ref = tr.track_deg[b_]
    res = np.zeros(len(entry_t), bool)
    for j in np.flatnonzero(ok):  # a few thousand entries; not a hot path
        sl = slice(a[j], b[j])
        d = (tr.track_deg[sl] - ref[j] + 180.0) % 360.0 - 180.0
        res[j] = (np.nanmax(d) - np.nanmin(d) < MAX_TRACK_CHANGE and gs[sl].min() > MIN_SPEED
                  and not np.isnan(d).all())  # fmt: skip
    return res


def q(x, p):
    return float(np.percentile(x, p)) if len(x) else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--zones", action="append", help="zones (default world); repeatable")
    ap.add_argument("--model", default="both", choices=("straight", "turn", "both"))
    ap.add_argument("--horizon", type=float, default=120.0)
    ap.add_argument("--tolerance", type=float, default=30.0)
    ap.add_argument("--files", nargs="*", default=list(FILES))
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a WarnSettings field")
    ap.add_argument("--dump", metavar="PREFIX", help="write each file's warnings (pickle) for analysis")
    args = ap.parse_args()

    import skyfence
    from skyfence._predict import WarningMonitor, evaluate
    from skyfence.engine._prepare import prepare

    settings = {}
    for item in args.set:
        k, _, v = item.partition("=")
        settings[k] = int(v) if k in ("confirm", "chunk") else float(v)
    header("bench_warn: predicted-entry warnings on real OpenSky recordings")
    zones = [z for spec in (args.zones or ["world"]) for z in skyfence.read_zones(spec)]
    print(f"zones: {', '.join(args.zones or ['world'])} ({len(zones)}); model {args.model}; horizon {args.horizon:g} s; "
          f"tolerance {args.tolerance:g} s; settings {settings or 'defaults'}")  # fmt: skip
    rows = []
    all_str, all_rest, all_warned_str, all_warned_rest = [], [], [], []
    tot = dict(hours=0.0, false=0, false_ep=0, unverifiable=0, warnings=0, near=0, entries=0, fixes=0, secs=0.0)
    for name in args.files:
        path = TRACKS_DIR / f"{name}.json.gz"
        tracks = skyfence.read_tracks(path)
        t0 = time.perf_counter()
        mon = WarningMonitor(zones, horizon=args.horizon, model=args.model, **settings)
        w = mon.feed(tracks)
        secs = time.perf_counter() - t0
        ep = skyfence.detect(tracks, zones, max_gap=mon.settings.max_gap)
        w, ent = evaluate(w, ep, args.horizon, args.tolerance)
        prep = prepare(tracks, mon.settings.max_gap)
        tr = prep.tracks
        hours = float(np.sum(tr.time[prep.start[1:] - 1] - tr.time[prep.start[:-1]])) / 3600.0
        icao_int = np.array([int(x, 16) for x in ent["icao24"]], dtype=np.uint32)
        et = ent["entry_time"].astype("int64").to_numpy() / 1e6 if len(ent) else np.empty(0)
        cruise = straight_cruise(prep, icao_int, et)
        lead = ent["lead_s"].to_numpy()
        wd = w.to_pandas()
        warn = wd[wd["event"] == "warning"]
        issued = warn["issued_at"].astype("int64").to_numpy() / 1e6
        # a warning can be checked when the aircraft's track (split at gaps over max_gap) goes on until its
        # predicted entry + tolerance: the recordings are cut to an area, aircraft leave it
        t_first = tr.time.min() if len(tr) else 0.0
        key = tr.icao24.astype(np.float64) * 1e7 + (tr.time - t_first)
        wic = np.array([int(x, 16) for x in warn["icao24"]], dtype=np.float64)
        fix = np.clip(np.searchsorted(key, wic * 1e7 + (issued - t_first), "right") - 1, 0, max(len(tr) - 1, 0))
        track_end = tr.time[prep.start[np.searchsorted(prep.start, fix, "right")] - 1] if len(warn) else np.empty(0)
        entry = warn["predicted_entry_time"].astype("int64").to_numpy() / 1e6
        verifiable = entry + args.tolerance <= track_end
        false = verifiable & warn["achieved_lead_s"].isna().to_numpy()
        if args.dump:
            warn.assign(track_end=track_end, verifiable=verifiable, false=false).to_pickle(f"{args.dump}_{name}.pkl")
        false_ep = len(set(zip(warn["icao24"][false], warn["zone"][false], warn["episode"][false])))
        tot["hours"] += hours
        tot["false"] += int(false.sum())
        tot["false_ep"] += false_ep
        tot["unverifiable"] += int((~verifiable).sum())
        tot["warnings"] += len(warn)
        tot["near"] += int((wd["event"] == "near-miss").sum())
        tot["entries"] += len(ent)
        tot["fixes"] += len(tracks)
        tot["secs"] += secs
        ls, lr = lead[cruise], lead[~cruise]
        all_str.append(ls)
        all_rest.append(lr)
        rows.append((name, len(tracks), hours, len(ent), int(cruise.sum()), np.nanmedian(ls) if (~np.isnan(ls)).any()
                     else float("nan"), float(np.mean(~np.isnan(lead))) if len(lead) else float("nan"), len(warn),
                     int(false.sum()), secs))  # fmt: skip
    print()
    print("| file | fixes | aircraft-h | entries | straight cruise | median lead, cruise (s) | warned | warnings | false | predict s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:,} | {r[2]:.1f} | {r[3]} | {r[4]} | {r[5]:.0f} | {r[6]:.0%} | {r[7]} | {r[8]} | {r[9]:.1f} |")
    ls, lr = np.concatenate(all_str), np.concatenate(all_rest)
    print()
    for label, x in (("straight cruise", ls), ("other entries", lr), ("all entries", np.concatenate([ls, lr]))):
        warned = x[~np.isnan(x)]
        # lead of unwarned entries is 0 for the distribution
        x0 = np.where(np.isnan(x), 0.0, x)
        print(f"{label}: {len(x)} entries, warned {len(warned) / max(len(x), 1):.0%}; lead (s, unwarned = 0) "
              f"median {q(x0, 50):.0f}, quartiles {q(x0, 25):.0f}-{q(x0, 75):.0f}; "
              f"over warned only median {q(warned, 50):.0f}, quartiles {q(warned, 25):.0f}-{q(warned, 75):.0f}; "
              f">= 60 s: {np.mean(x0 >= 60):.0%}")  # fmt: skip
    per10 = tot["false"] / tot["hours"] * 10 if tot["hours"] else float("nan")
    print(f"warnings emitted: {tot['warnings']} (near-miss events {tot['near']}); false: {tot['false']} "
          f"({tot['false_ep']} episodes), unverifiable (track ends before predicted entry + tolerance): {tot['unverifiable']}; "
          f"{tot['hours']:.1f} aircraft-hours -> {per10:.2f} false warnings per 10 aircraft-hours "
          f"({tot['false_ep'] / tot['hours'] * 10:.2f} false episodes)")  # fmt: skip
    print(f"prediction: {tot['fixes']:,} fixes in {tot['secs']:.1f} s ({tot['fixes'] / tot['secs'] / 1e3:.0f} k fixes/s)")
    med = q(np.where(np.isnan(ls), 0.0, ls), 50)
    print()
    print(f"TARGET median lead >= 60 s, straight cruise entries (unwarned = 0 s): {'PASS' if med >= 60 else 'FAIL'} ({med:.0f} s)")
    print(f"TARGET < 1 false warning per 10 aircraft-hours: {'PASS' if per10 < 1 else 'FAIL'} ({per10:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
