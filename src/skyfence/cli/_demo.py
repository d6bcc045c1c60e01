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


def run(args: argparse.Namespace) -> int:
    import pyarrow.compute as pc

    from .. import detect, read_zones
    from .._output import check_writable, iso, write
    from .._scenario import load_scenario

    check_writable(args.output)
    scenario = load_scenario(args.scenario)
    tracks = scenario.tracks()
    zones = read_zones(f"world:{args.zone}")
    episodes = detect(tracks, zones, paths=args.format == "geojson")
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
    say()
    say(f"{breaches.num_rows} breaches of {zones[0].id} in this reconstruction. "
        "Depth = largest geodesic distance from the nearest point of the border reached inside.")
    if args.format:
        write(episodes, args.format, args.output)
    return 0
