"""Policies: who may be where, and what an episode means under those rules.

>>> policy = skyfence.read_policy("policy.toml")                       # doctest: +SKIP
>>> zones = skyfence.read_zones("world:TUR")                           # doctest: +SKIP
>>> episodes = skyfence.detect(tracks, zones + policy.rings(zones))    # doctest: +SKIP
>>> verdicts = skyfence.judge(episodes, policy, zones=zones, tracks=tracks)   # doctest: +SKIP
>>> verdicts.episodes, verdicts.incidents, verdicts.warnings           # doctest: +SKIP

The file format is documented in ``examples/policy.toml``; the order of
decisions in :mod:`._judge`.
"""

from ._judge import VERDICTS, Judgement, judge
from ._read import Policy, parse_policy, read_policy

__all__ = ["VERDICTS", "Judgement", "Policy", "judge", "parse_policy", "read_policy"]
