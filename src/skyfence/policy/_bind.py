"""A policy meets its zones: which rule judges each zone, the ring zones, the
activation windows, and the checks that need the zones (patterns that match
nothing, rings along states the zone does not border)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from .._errors import PolicyError
from ..zones._model import Zone
from ._read import Policy, Ring, Window, ZoneRule


@dataclass
class Bound:
    """A policy bound to a zone list (see :meth:`Policy.bind`)."""

    policy: Policy
    zones: list
    rule_of: dict  # zone id (base or ring) -> ZoneRule
    owner_of: dict  # zone id (base or ring) -> owner state or None
    windows_of: dict  # zone id (base or ring) -> tuple of Window, () = always active
    ring_zones: list
    ring_of: dict  # ring zone id -> (base zone id, Ring)
    clearance_zones: list  # per clearance: set of zone ids (base and their rings)
    activation_text: dict = field(default_factory=dict)  # zone id -> unparsed AA texts (kept always active)


def bind(policy: Policy, zones: list) -> Bound:
    src = policy.path
    rule_of: dict[str, ZoneRule] = {}
    owner_of: dict[str, str | None] = {}
    windows_of: dict[str, tuple] = {}
    texts: dict[str, list] = {}
    for rule in policy.rules:
        for pat in rule.match:
            hits = [z for z in zones if pat.matches(z)]
            if not hits:
                raise PolicyError(f"zone pattern {pat.text!r} matches none of the {len(zones)} zones given"
                                  f"{_sample(zones)}", source=src, line=pat.line)  # fmt: skip
            for z in hits:
                if z.id in rule_of:  # an earlier [[zones]] table decides
                    continue
                rule_of[z.id] = rule
                owner_of[z.id] = rule.owner or _owner(z, policy)
                if rule.schedule:
                    windows_of[z.id] = rule.schedule
                elif rule.activations:
                    windows_of[z.id], bad = zone_activations(z)
                    if bad:
                        texts[z.id] = bad
                else:
                    windows_of[z.id] = ()
    by_id = {z.id: z for z in zones}
    ring_zones, ring_of = [], {}
    for zid, rule in list(rule_of.items()):
        for ring in rule.rings:
            rz = _ring_zone(by_id[zid], ring, src)
            if rz.id in by_id:
                raise PolicyError(f"ring zone id {rz.id!r} is also the id of a zone given", source=src, line=ring.line)
            ring_zones.append(rz)
            ring_of[rz.id] = (zid, ring)
            rule_of[rz.id] = rule
            owner_of[rz.id] = owner_of[zid]
            windows_of[rz.id] = windows_of[zid]
    clearance_zones = []
    for c in policy.clearances:
        ids: set[str] = set()
        for pat in c.zones:
            hits = [z.id for z in zones if pat.matches(z)]
            if not hits:
                raise PolicyError(f"clearance {c.id!r}: zone pattern {pat.text!r} matches none of the {len(zones)} "
                                  f"zones given{_sample(zones)}", source=src, line=pat.line)  # fmt: skip
            ids.update(hits)
        ids.update(r for r, (base, _) in ring_of.items() if base in ids)
        clearance_zones.append(ids)
    return Bound(policy, zones, rule_of, owner_of, windows_of, ring_zones, ring_of, clearance_zones, texts)


def _owner(zone: Zone, policy: Policy) -> str | None:
    """The state a zone belongs to: a sovereign zone's own id, else the policy's owner."""
    if zone.kind == "sovereign" and len(zone.id) == 3:
        return zone.id.upper()
    return policy.owner


def zone_activations(zone: Zone) -> tuple[tuple, list]:
    """A zone's OpenAir/GeoJSON ``activations`` as windows, and the texts that are not times.

    Each ``{"start": iso|None, "end": iso|None}`` is one window (``None``: open).
    A zone whose activations are all free text (``{"text": ...}``) has no
    usable schedule and is kept always active; the texts are returned so the
    caller can report them.
    """
    acts = zone.properties.get("activations") if isinstance(zone.properties, dict) else None
    if not acts:
        return (), []
    out, texts = [], []
    for a in acts:
        if not isinstance(a, dict) or "text" in a or not ("start" in a or "end" in a):
            texts.append(str(a.get("text", a)) if isinstance(a, dict) else str(a))
            continue
        s, e = _ts(a.get("start"), -math.inf), _ts(a.get("end"), math.inf)
        if e > s:
            out.append(Window("span", s, e))
    return tuple(out), texts


def _ts(v, default: float) -> float:
    if v is None:
        return default
    try:
        return datetime.fromisoformat(str(v).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return default


def _ring_zone(zone: Zone, ring: Ring, src: str) -> Zone:
    from .._errors import ZoneFormatError
    from ..zones import read_zones
    from ._rings import ring_geometry

    along = []
    if ring.along:
        try:
            along = [z.geometry for z in read_zones("world:" + ",".join(ring.along))]
        except ZoneFormatError as err:  # unknown code: the world reader's message, at the ring's line
            raise PolicyError(f"ring {ring.name!r}: along: {err.message}", source=src, line=ring.line) from None
    geom = ring_geometry(zone.geometry, ring.distance_m, along)
    if geom is None:
        raise PolicyError(f"ring {ring.name!r}: zone {zone.id!r} shares no border with {', '.join(ring.along)}",
                          source=src, line=ring.line)  # fmt: skip
    props = {"ring_of": zone.id, "ring": ring.name, "distance_m": ring.distance_m,
             "along": list(ring.along), "repeat_s": ring.repeat_s}  # fmt: skip
    return Zone(
        id=f"{zone.id}~{ring.name}",
        name=f"{zone.name}: warning ring {ring.name}" + (f" along {', '.join(ring.along)}" if ring.along else ""),
        kind="ring",
        geometry=geom,
        lower=zone.lower,
        upper=zone.upper,
        source=src,
        properties=props,
    )


def _sample(zones: list) -> str:
    ids = [z.id for z in zones[:6]]
    return f" ({', '.join(ids)}{' ...' if len(zones) > 6 else ''})" if ids else ""
