"""``skyfence demo``: the 2015 Yayladagi incidents, reconstructed and detected.

The scenario (a TOML definition shipped in the package) is flown into tracks,
and those go through the same engine against the built-in ``world`` borders as
any recorded data would.  Every line printed and every record written is
labelled as a reconstruction.
"""

from __future__ import annotations

import argparse
import sys
import textwrap


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scenario", default="yayladagi-2015", metavar="NAME_OR_FILE",
                   help="shipped scenario name or a scenario TOML file (default yayladagi-2015)")
    p.add_argument("--zone", default="TUR", help="the state whose airspace is checked (default TUR)")
    p.add_argument("--format", choices=("jsonl", "csv", "geojson", "parquet"), help="also write all episodes")
    p.add_argument("-o", "--output", metavar="PATH", help="where --format writes (default stdout)")
    p.add_argument("--policy", metavar="FILE",
                   help="policy to judge the episodes under (default: the scenario's shipped policy, "
                        "([scenario] policy, e.g. yayladagi-2015-policy.toml); 'none' for plain episodes)")


def run(args: argparse.Namespace) -> int:
    import pyarrow.compute as pc

    from .. import detect, read_zones
    from .._output import check_writable, iso, write
    from .._scenario import load_scenario

    check_writable(args.output)
    scenario = load_scenario(args.scenario)
    tracks = scenario.tracks()
    zones = read_zones(f"world:{args.zone}")
    policy = _policy(args, scenario)
    rings = policy.rings(zones) if policy else []
    episodes = detect(tracks, zones + rings, paths=args.format == "geojson")
    judged = None
    if policy:
        from .. import judge

        judged = judge(episodes, policy, zones=zones, tracks=tracks)
        episodes = judged.episodes
    out = sys.stderr if args.format and args.output in (None, "-") else sys.stdout
    say = lambda s="": print(s, file=out)  # noqa: E731
    say(f"=== {scenario.source_label} ===")
    say(textwrap.fill(" ".join(scenario.description.split()), 100))
    say()
    breaches = episodes.filter(pc.equal(episodes["zone"], zones[0].id))
    rows = breaches.to_pylist()
    by_callsign = {a.callsign: a for a in scenario.aircraft}
    say(f"{len(tracks)} reconstructed fixes of {len(scenario.aircraft)} aircraft checked against "
        f"{zones[0].name} ({zones[0].id}) sovereign airspace (built-in world borders)")
    for inc in scenario.incidents:
        say()
        say(f"--- {inc.label} ({inc.date}) [RECONSTRUCTION] ---")
        say(textwrap.fill(" ".join(inc.facts.split()), 100, initial_indent="published: ", subsequent_indent="  "))
        mine = [r for r in rows if r["callsign"] in inc.aircraft] if inc.aircraft else rows
        if not mine:
            say("detected: no breach")
        for r in mine:
            ac = by_callsign.get(r["callsign"])
            label = f"{r['callsign']} ({r['icao24']}, {ac.type if ac else '?'}{', ' + ac.role if ac and ac.role else ''})"
            say(f"detected: {label} inside {r['zone']} "
                f"from {iso(int(r['entry_time'].timestamp() * 1e6))} to {iso(int(r['exit_time'].timestamp() * 1e6))}: "
                f"{r['duration_s']:.1f} s, depth {r['max_depth_m'] / 1000:.2f} km, "
                f"{r['path_length_m'] / 1000:.2f} km flown inside at "
                f"{r['min_alt_ft']:.0f}-{r['max_alt_ft']:.0f} ft, {r['n_fixes_inside']} fixes inside")
            if judged is not None:
                _say_verdict(say, r, judged)
    say()
    if judged is not None:
        say(f"Policy: {policy.name} ({policy.path}).")
    say(f"{breaches.num_rows} breaches of {zones[0].id} in this reconstruction. "
        "Depth = largest geodesic distance from the nearest point of the border reached inside.")
    if args.format:
        write(episodes, args.format, args.output)
    return 0


def _policy(args, scenario):
    """The policy given, or the one the scenario names (``[scenario] policy``)."""
    from ..policy import read_policy

    if args.policy and args.policy.lower() == "none":
        return None
    path = args.policy or scenario.policy_path()
    return read_policy(path) if path else None


def _say_verdict(say, r: dict, judged) -> None:
    """Verdict, severity and the warnings raised before this breach (same aircraft, same incident)."""
    from .._output import iso

    say(f"  verdict: {r['verdict']}, severity {r['severity'] or '-'} ({r['severity_rule'] or '-'}); "
        f"rule: {r['rule']}; identity: {r['registry_state'] or '?'} {r['category']} ({r['identity_source']}); "
        f"incident {r['incident_id'] or '-'}")
    inc = [i for i in judged.incidents.to_pylist() if i["incident_id"] == r["incident_id"]]
    if not inc or not inc[0]["n_warnings"]:
        return
    entry = r["entry_time"]
    first = inc[0]["first_warning"]
    warns = [w for w in judged.warnings.to_pylist()
             if w["icao24"] == r["icao24"] and first <= w["time"] < entry]  # fmt: skip
    span = (warns[-1]["time"] - warns[0]["time"]).total_seconds()
    lead = (entry - warns[0]["time"]).total_seconds()
    say(f"  warned {len(warns)} times within {span / 60:.1f} min ({lead / 60:.1f} min before the entry), "
        f"in ring {warns[0]['ring']}:")
    for w in warns:
        t = iso(int(w["time"].timestamp() * 1e6))
        say(f"    warning {w['seq']:2d} at {t}  {w['lat']:.4f} N {w['lon']:.4f} E  "
            f"{w['alt_ft']:.0f} ft  ({(entry - w['time']).total_seconds():5.1f} s before entry)")
