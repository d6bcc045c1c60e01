"""The policy part of ``skyfence detect --policy``: judge, write the side tables, summarise."""

from __future__ import annotations

from collections import Counter

from ._judge import Judgement, judge


def judge_and_write(episodes, policy, zones, tracks, args) -> Judgement:
    from .._output import format_of, write

    judged = judge(episodes, policy, zones=zones, tracks=tracks, max_gap=args.max_gap)
    for table, path in ((judged.incidents, args.incidents), (judged.warnings, args.warnings)):
        if path:
            write(table, format_of(path) or args.format or "jsonl", path)
    return judged


def verdict_summary(j: Judgement) -> str:
    counts = Counter(v for v in j.episodes.column("verdict").to_pylist() if v is not None)
    parts = ", ".join(f"{n} {v}" for v, n in sorted(counts.items())) or "no episode under the policy"
    notes = "".join(f"\nskyfence: policy: {n}" for n in j.notes)
    return f"; verdicts: {parts}; {j.incidents.num_rows} incidents; {j.warnings.num_rows} warnings{notes}"


def verdict_table(j: Judgement, limit: int = 50) -> str:
    """A readable table of judged episodes for a terminal (first ``limit``)."""
    from .._output import records

    cols = [("icao24", 6), ("callsign", 8), ("zone", 14), ("entry_time", 24), ("duration_s", 7),
            ("max_depth_m", 8), ("verdict", 15), ("severity", 8), ("incident_id", 26)]  # fmt: skip
    heads = {"duration_s": "dur s", "max_depth_m": "depth m", "entry_time": "entry (UTC)", "incident_id": "incident"}
    lines = ["  ".join(heads.get(c, c).ljust(w) for c, w in cols) + "  rule"]
    for r in records(j.episodes.slice(0, limit)):
        cells = []
        for c, w in cols:
            v = r[c]
            if isinstance(v, float):
                s = f"{v:.1f}" if c == "duration_s" else f"{v:.0f}"
            else:
                s = "-" if v is None else str(v)
            cells.append(s.rjust(w) if isinstance(v, float) else s.ljust(w))
        lines.append("  ".join(cells) + "  " + (r["rule"] or "-"))
    if j.episodes.num_rows > limit:
        lines.append(f"... {j.episodes.num_rows - limit} more episodes (use -o FILE or --format to get them all)")
    return "\n".join(lines)
