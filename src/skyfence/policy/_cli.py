"""The policy part of ``skyfence detect --policy``: judge, write the side tables, summarise."""

from __future__ import annotations

from collections import Counter

from ._judge import Judgement, judge


def judge_and_write(episodes, policy, zones, tracks, args) -> Judgement:
    from .._output import write

    judged = judge(episodes, policy, zones=zones, tracks=tracks, max_gap=args.max_gap)
    for table, path in ((judged.incidents, args.incidents), (judged.warnings, args.warnings)):
        if path:
            write(table, format_of(path) or args.format or "jsonl", path)
    return judged


def format_of(path: str) -> str | None:
    """Output format from a file name (.csv .parquet .geojson .jsonl .json), else None."""
    name = path.lower()
    for ext, fmt in ((".csv", "csv"), (".parquet", "parquet"), (".geojson", "geojson"), (".jsonl", "jsonl"),
                     (".json", "jsonl")):  # fmt: skip
        if name.endswith(ext):
            return fmt
    return None


def verdict_summary(j: Judgement) -> str:
    counts = Counter(v for v in j.episodes.column("verdict").to_pylist() if v is not None)
    parts = ", ".join(f"{n} {v}" for v, n in sorted(counts.items())) or "no episode under the policy"
    notes = "".join(f"\nskyfence: policy: {n}" for n in j.notes)
    return f"; verdicts: {parts}; {j.incidents.num_rows} incidents; {j.warnings.num_rows} warnings{notes}"
