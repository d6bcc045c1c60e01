"""Policy files: TOML in, a validated :class:`Policy` out.

The format is documented, key by key, in ``examples/policy.toml`` and the
README's *Policies* section.  Every problem is a :class:`~skyfence._errors.PolicyError` naming the
file, the line (found by :mod:`._lines`, since :mod:`tomllib` keeps none) and
the key: unknown keys, wrong types, bad regular expressions, inverted or
overlapping time windows, unknown units or states, missing watchlist files (the
watchlists are read here; one in the wrong format is an error naming that file).  Zone patterns that match no
zone are checked later, when the policy meets its zones (:meth:`Policy.bind`).
"""

from __future__ import annotations

import fnmatch
import math
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from pathlib import Path

from .._errors import PolicyError
from ..identity._blocks import is_icao24
from ._lines import key_lines, line_of

CATEGORIES = ("military", "state", "civil", "unknown")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
UNITS = {"m": 1.0, "km": 1000.0, "nm": 1852.0, "mi": 1609.344}
MAX_RING_M = 200_000.0

DEFAULT_SEVERITY = (
    {"name": "foreign military", "level": "critical", "category": ["military"], "foreign": True},
    {"name": "foreign state", "level": "high", "category": ["state"], "foreign": True},
    {"name": "unidentified", "level": "medium", "identified": False},
    {"name": "civil without clearance", "level": "low"},
)


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Window:
    """An activation window.

    ``kind`` ``"span"``: from ``start`` to ``end`` (epoch seconds, UTC; ``-inf``
    / ``inf`` for open ends).  ``kind`` ``"weekly"``: on ``days`` (0 = Monday)
    from ``start`` to ``end`` seconds after 00:00 UTC.
    """

    kind: str
    start: float
    end: float
    days: frozenset = frozenset()
    line: int | None = None


@dataclass(frozen=True)
class Pattern:
    """A zone selector: an id, a glob on ids (``LS*``) or ``kind:R``; case-insensitive."""

    text: str
    line: int | None = None

    def matches(self, zone) -> bool:
        t = self.text.lower()
        if t.startswith("kind:"):
            return zone.kind.lower() == t[5:]
        if any(c in t for c in "*?["):
            return fnmatch.fnmatchcase(zone.id.lower(), t)
        return zone.id.lower() == t


@dataclass(frozen=True)
class Who:
    """Aircraft selectors (all optional; an aircraft matches when any list matches it)."""

    states: frozenset = frozenset()
    categories: frozenset = frozenset()
    icao24: frozenset = frozenset()
    callsigns: tuple = ()  # compiled regular expressions (case ignored), matched with re.search

    @property
    def empty(self) -> bool:
        return not (self.states or self.categories or self.icao24 or self.callsigns)


@dataclass(frozen=True)
class Ring:
    """A warning ring: the band outside a zone within ``distance_m`` of its border
    (of its border with the ``along`` states only, when given)."""

    name: str
    distance_m: float
    along: tuple = ()
    repeat_s: float = 30.0
    line: int | None = None


@dataclass(frozen=True)
class ZoneRule:
    """One ``[[zones]]`` table: the zones it applies to and how they are judged."""

    index: int
    name: str
    match: tuple  # of Pattern
    owner: str | None
    min_duration_s: float
    min_depth_m: float
    merge_gap_s: float
    activations: bool
    schedule: tuple  # of Window; () = always active (or the zone's own activations)
    authorised: Who
    rings: tuple  # of Ring
    line: int | None = None


@dataclass(frozen=True)
class Clearance:
    """A diplomatic clearance or flight-plan exemption: who, where, when."""

    id: str
    icao24: frozenset
    callsigns: frozenset
    zones: tuple  # of Pattern
    start: float
    end: float
    line: int | None = None


@dataclass(frozen=True)
class SeverityRule:
    """One ``[[severity]]`` table; the first that matches an episode gives its level."""

    rank: int
    name: str
    level: str
    categories: frozenset | None = None
    foreign: bool | None = None
    identified: bool | None = None
    who: Who = field(default_factory=Who)
    line: int | None = None


@dataclass
class Policy:
    """A validated policy file.  :func:`skyfence.judge` applies it."""

    path: str
    name: str
    owner: str | None
    watchlists: tuple
    rules: tuple
    clearances: tuple
    severity: tuple
    watchlist_data: tuple = ()  # the watchlists, read (skyfence.identity.Watchlist)
    _bound: dict = field(default_factory=dict, repr=False)

    def rings(self, zones) -> list:
        """The warning-ring zones this policy builds around ``zones`` (see :meth:`bind`)."""
        return self.bind(zones).ring_zones

    def bind(self, zones):
        """Check the policy against ``zones`` and build its rings (memoised).

        Raises :class:`PolicyError` naming the line of a zone pattern that
        matches none of ``zones``.
        """
        from ._bind import bind

        key = tuple(id(z) for z in zones)
        if key not in self._bound:
            self._bound = {key: bind(self, zones)}
        return self._bound[key]


# --------------------------------------------------------------------------- reading


def read_policy(path) -> Policy:
    """Read and validate a policy file (TOML).

    Raises
    ------
    PolicyError
        One line naming the file, the line and the key.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as err:
        raise PolicyError(f"cannot read policy file: {err.strerror or err}", source=str(path)) from None
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark (Windows editors) is not TOML: dropped
    except UnicodeDecodeError as err:  # TOML is UTF-8: name the line of the first bad byte
        line = raw[: err.start].count(b"\n") + 1
        raise PolicyError(f"not a TOML policy file: byte 0x{raw[err.start]:02x} is not UTF-8 text",
                          source=str(path), line=line) from None  # fmt: skip
    return parse_policy(text, source=str(path), base=p.parent)


def parse_policy(text: str, *, source: str = "<policy>", base: Path | None = None) -> Policy:
    """:func:`read_policy` on a string; ``base`` resolves relative watchlist paths."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        m = re.search(r"line (\d+)", str(err))
        hint = " (policy files are TOML; YAML and JSON are not read)" if source.lower().endswith(
            (".yaml", ".yml", ".json")) else ""  # fmt: skip
        raise PolicyError(f"not valid TOML{hint}: {err}", source=source, line=int(m.group(1)) if m else None) from None
    return _Reader(doc, key_lines(text), source, base or Path(".")).policy()


class _Reader:
    def __init__(self, doc: dict, lines: dict, source: str, base: Path) -> None:
        self.doc, self.lines, self.source, self.base = doc, lines, source, base

    # ---------------------------------------------------------------- errors
    def err(self, path: tuple, message: str) -> PolicyError:
        return PolicyError(message, source=self.source, line=line_of(self.lines, path), field=_dotted(path))

    def line(self, path: tuple) -> int | None:
        return line_of(self.lines, path)

    def keys(self, table: dict, path: tuple, allowed: tuple) -> None:
        for k in table:
            if k not in allowed:
                near = [a for a in allowed if a.replace("_", "") == k.replace("_", "")] or \
                    [a for a in allowed if _close(a, k)] or [a for a in allowed if a.startswith(k) or k.startswith(a)]
                hint = f"; did you mean {near[0]!r}?" if near else f"; known keys: {', '.join(allowed)}"
                raise self.err(path + (k,), f"unknown key{hint}")

    # ---------------------------------------------------------------- values
    def table(self, doc: dict, path: tuple, key: str) -> dict:
        v = doc.get(key, {})
        if not isinstance(v, dict):
            raise self.err(path + (key,), "expected a table")
        return v

    def tables(self, doc: dict, path: tuple, key: str) -> list:
        v = doc.get(key, [])
        if not isinstance(v, list) or not all(isinstance(t, dict) for t in v):
            raise self.err(path + (key,), f"expected [[{key}]] tables")
        return v

    def number(self, doc: dict, path: tuple, key: str, default: float, *, positive: bool = False) -> float:
        v = doc.get(key, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise self.err(path + (key,), f"expected a number, got {v!r}")
        if v < 0 or (positive and v == 0):
            raise self.err(path + (key,), f"must be {'>' if positive else '>='} 0, got {v!r}")
        return float(v)

    def string(self, doc: dict, path: tuple, key: str, default=None, *, required: bool = False):
        if key not in doc:
            if required:
                raise self.err(path, f"missing key {key!r}")
            return default
        v = doc[key]
        if not isinstance(v, str) or not v.strip():
            raise self.err(path + (key,), f"expected a non-empty string, got {v!r}")
        return v.strip()

    def boolean(self, doc: dict, path: tuple, key: str, default):
        v = doc.get(key, default)
        if v is not None and not isinstance(v, bool):
            raise self.err(path + (key,), f"expected true or false, got {v!r}")
        return v

    def strings(self, doc: dict, path: tuple, key: str) -> list:
        v = doc.get(key, [])
        if isinstance(v, str):
            v = [v]
        if not isinstance(v, list):
            raise self.err(path + (key,), "expected a list of strings")
        for i, s in enumerate(v):
            if not isinstance(s, str) or not s.strip():
                raise self.err(path + (key, i), f"expected a non-empty string, got {s!r}")
        return [s.strip() for s in v]

    def states(self, doc: dict, path: tuple, key: str) -> frozenset:
        out = []
        for i, s in enumerate(self.strings(doc, path, key)):
            if not re.fullmatch(r"[A-Za-z]{3}", s):
                raise self.err(path + (key, i), f"expected an ISO 3166-1 alpha-3 code (TUR, SYR ...), got {s!r}")
            out.append(s.upper())
        return frozenset(out)

    def state(self, doc: dict, path: tuple, key: str) -> str | None:
        """One state (``owner``): a list of several would leave "foreign" undefined."""
        if key not in doc:
            return None
        if not isinstance(doc[key], str):
            raise self.err(path + (key,), f"expected one ISO 3166-1 alpha-3 code such as \"TUR\", got {doc[key]!r}")
        return next(iter(self.states(doc, path, key)))

    def icao24(self, doc: dict, path: tuple, key: str) -> frozenset:
        out = []
        for i, s in enumerate(self.strings(doc, path, key)):
            if not is_icao24(s):
                raise self.err(path + (key, i), f"expected 6 hex digits, got {s!r}")
            out.append(s.lower())
        return frozenset(out)

    def regexes(self, doc: dict, path: tuple, key: str) -> tuple:
        out = []
        for i, s in enumerate(self.strings(doc, path, key)):
            try:
                out.append(re.compile(s, re.IGNORECASE))  # callsigns: case ignored, as everywhere
            except (re.error, OverflowError, RecursionError) as err:  # a{99999999999}: OverflowError
                raise self.err(path + (key, i), f"bad regular expression {s!r}: {err}") from None
        return tuple(out)

    def categories(self, doc: dict, path: tuple, key: str):
        if key not in doc:
            return None
        vals = self.strings(doc, path, key)
        for i, c in enumerate(vals):
            if c not in CATEGORIES:
                raise self.err(path + (key, i), f"unknown category {c!r}; one of {', '.join(CATEGORIES)}")
        return frozenset(vals)

    def patterns(self, doc: dict, path: tuple, key: str, *, required: bool) -> tuple:
        if required and key not in doc:
            raise self.err(path, f"missing key {key!r}")
        vals = self.strings(doc, path, key)
        if required and not vals:
            raise self.err(path + (key,), "no zone given")
        return tuple(Pattern(s, self.line(path + (key, i))) for i, s in enumerate(vals))

    def when(self, doc: dict, path: tuple, key: str, *, required: bool = True) -> float:
        if key not in doc:
            if required:
                raise self.err(path, f"missing key {key!r}")
            return math.nan
        v = doc[key]
        if isinstance(v, str):
            try:
                v = datetime.fromisoformat(v.replace("Z", "+00:00"))
            except ValueError:
                raise self.err(path + (key,), f"expected an ISO 8601 UTC time, got {v!r}") from None
        if isinstance(v, date) and not isinstance(v, datetime):
            v = datetime(v.year, v.month, v.day, tzinfo=timezone.utc)
        if not isinstance(v, datetime):
            raise self.err(path + (key,), f"expected a date-time such as 2015-11-24T07:00:00Z, got {v!r}")
        if v.tzinfo is None:
            raise self.err(path + (key,), "a time without UTC offset; write it with Z (UTC)")
        return v.timestamp()

    def clock(self, doc: dict, path: tuple, key: str, default: float) -> float:
        """Seconds after midnight UTC: a TOML local time or "HH:MM" / "24:00"."""
        if key not in doc:
            return default
        v = doc[key]
        if isinstance(v, time):
            return v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 1e6
        m = re.fullmatch(r"(\d\d):(\d\d)(?::(\d\d))?", v) if isinstance(v, str) else None
        if not m or int(m.group(1)) > 24 or int(m.group(2)) > 59 or (int(m.group(1)) == 24 and m.group(2) != "00"):
            raise self.err(path + (key,), f"expected a UTC time of day such as \"08:00\", got {v!r}")
        return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3) or 0)

    def distance(self, doc: dict, path: tuple, key: str) -> float:
        if key not in doc:
            raise self.err(path, f"missing key {key!r}")
        v = doc[key]
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            d = float(v)
        else:
            m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([A-Za-z]+)\s*", v) if isinstance(v, str) else None
            if not m or m.group(2).lower() not in UNITS:
                raise self.err(path + (key,), "expected a distance such as \"5 km\" or \"15 NM\" "
                                              f"(units m, km, NM, mi), got {v!r}")  # fmt: skip
            d = float(m.group(1)) * UNITS[m.group(2).lower()]
        if not 0 < d <= MAX_RING_M:
            raise self.err(path + (key,), f"must be more than 0 and at most {MAX_RING_M / 1000:g} km, got {v!r}")
        return d

    # ---------------------------------------------------------------- sections
    def policy(self) -> Policy:
        d = self.doc
        self.keys(d, (), ("policy", "defaults", "zones", "clearance", "severity"))
        head = self.table(d, (), "policy")
        self.keys(head, ("policy",), ("name", "owner", "watchlists"))
        watch = tuple(str(self.base / w) for w in self.strings(head, ("policy",), "watchlists"))
        lists = tuple(self.watchlist(path, i) for i, path in enumerate(watch))
        defaults = self.table(d, (), "defaults")
        self.keys(defaults, ("defaults",), ("min_duration_s", "min_depth_m", "merge_gap_s"))
        dflt = {
            "min_duration_s": self.number(defaults, ("defaults",), "min_duration_s", 0.0),
            "min_depth_m": self.number(defaults, ("defaults",), "min_depth_m", 0.0),
            "merge_gap_s": self.number(defaults, ("defaults",), "merge_gap_s", 600.0),
        }
        rules = tuple(self.zone_rule(t, i, dflt) for i, t in enumerate(self.tables(d, (), "zones")))
        for i, r in enumerate(rules):  # names identify tables in `rule` and in incidents
            if r.name in [q.name for q in rules[:i]]:
                raise self.err(("zones", i, "name"), f"name {r.name!r} already used by another [[zones]] table")
        clearances = tuple(self.clearance(t, i) for i, t in enumerate(self.tables(d, (), "clearance")))
        self.check_clearances(clearances)
        sev_tables = self.tables(d, (), "severity")
        severity = tuple(self.severity(t, i) for i, t in enumerate(sev_tables or DEFAULT_SEVERITY))
        return Policy(
            path=self.source,
            name=self.string(head, ("policy",), "name", Path(self.source).stem),
            owner=self.state(head, ("policy",), "owner"),
            watchlists=watch,
            rules=rules,
            clearances=clearances,
            severity=severity,
            watchlist_data=lists,
        )

    def watchlist(self, path: str, i: int):
        """Read a watchlist now, so a missing one is an error at its line before any work is done;
        a file in the wrong format is an error naming that file."""
        from ..identity import read_watchlist

        if not Path(path).exists():
            raise self.err(("policy", "watchlists", i), f"no such watchlist file: {path}")
        if Path(path).is_dir():
            raise self.err(("policy", "watchlists", i), f"watchlist {path} is a folder, not a file")
        return read_watchlist(path)

    def zone_rule(self, t: dict, i: int, dflt: dict) -> ZoneRule:
        path = ("zones", i)
        self.keys(t, path, ("name", "match", "owner", "min_duration_s", "min_depth_m", "merge_gap_s",
                            "activations", "schedule", "authorised", "ring"))  # fmt: skip
        auth = self.table(t, path, "authorised")
        apath = path + ("authorised",)
        self.keys(auth, apath, ("states", "categories", "icao24", "callsigns"))
        rings = []
        for j, r in enumerate(self.tables(t, path, "ring")):
            rpath = path + ("ring", j)
            self.keys(r, rpath, ("name", "distance", "along", "repeat_s"))
            dist = self.distance(r, rpath, "distance")
            default_name = _distance_name(r.get("distance"))
            rings.append(Ring(
                name=self.string(r, rpath, "name", default_name),
                distance_m=dist,
                along=tuple(sorted(self.states(r, rpath, "along"))),
                repeat_s=self.number(r, rpath, "repeat_s", 30.0, positive=True),
                line=self.line(rpath),
            ))  # fmt: skip
        names = [r.name for r in rings]
        for j, n in enumerate(names):
            if n in names[:j]:
                raise self.err(path + ("ring", j, "name"), f"ring name {n!r} used twice in this [[zones]] table")
        return ZoneRule(
            index=i,
            name=self.string(t, path, "name", f"zones[{i + 1}]"),
            match=self.patterns(t, path, "match", required=True),
            owner=self.state(t, path, "owner"),
            min_duration_s=self.number(t, path, "min_duration_s", dflt["min_duration_s"]),
            min_depth_m=self.number(t, path, "min_depth_m", dflt["min_depth_m"]),
            merge_gap_s=self.number(t, path, "merge_gap_s", dflt["merge_gap_s"]),
            activations=self.boolean(t, path, "activations", True),
            schedule=self.schedule(t, path),
            authorised=Who(
                states=self.states(auth, apath, "states"),
                categories=self.categories(auth, apath, "categories") or frozenset(),
                icao24=self.icao24(auth, apath, "icao24"),
                callsigns=self.regexes(auth, apath, "callsigns"),
            ),
            rings=tuple(rings),
            line=self.line(path),
        )

    def schedule(self, t: dict, path: tuple) -> tuple:
        if "schedule" not in t:
            return ()
        items = t["schedule"]
        if not isinstance(items, list) or not items or not all(isinstance(w, dict) for w in items):
            raise self.err(path + ("schedule",), "expected a list of windows such as { from = ..., until = ... }")
        out: list[Window] = []
        for k, w in enumerate(items):
            wpath = path + ("schedule", k)
            self.keys(w, wpath, ("from", "until", "days"))
            ln = self.line(wpath)
            if "days" in w:
                days = self.strings(w, wpath, "days")
                if not days:
                    raise self.err(wpath + ("days",), 'no day given, e.g. days = ["mon", "tue"]')
                for j, day in enumerate(days):
                    if day.lower() not in DAYS and day.lower() not in DAY_NAMES:
                        raise self.err(wpath + ("days", j), f"unknown day {day!r}; use {', '.join(DAYS)}")
                a, b = self.clock(w, wpath, "from", 0.0), self.clock(w, wpath, "until", 86400.0)
                if b <= a:
                    raise self.err(wpath, f"inverted time window: until {_hm(b)} is not after from {_hm(a)} "
                                          "(split a window across midnight in two)")  # fmt: skip
                win = Window("weekly", a, b, frozenset(DAYS.index(day.lower()[:3]) for day in days), ln)
            else:
                a = self.when(w, wpath, "from", required=False)
                b = self.when(w, wpath, "until", required=False)
                if math.isnan(a) and math.isnan(b):
                    raise self.err(wpath, "a window needs 'from', 'until' or 'days'")
                a = -math.inf if math.isnan(a) else a
                b = math.inf if math.isnan(b) else b
                if b <= a:
                    raise self.err(wpath, f"inverted time window: until {_iso(b)} is not after from {_iso(a)}")
                win = Window("span", a, b, frozenset(), ln)
            for prev in out:
                if _overlap(prev, win):
                    raise self.err(wpath, f"time window overlaps the one on line {prev.line}")
            out.append(win)
        return tuple(out)

    def clearance(self, t: dict, i: int) -> Clearance:
        path = ("clearance", i)
        self.keys(t, path, ("id", "icao24", "callsigns", "zones", "from", "until", "note"))
        self.string(t, path, "note")
        icao = self.icao24(t, path, "icao24")
        calls = frozenset(s.upper() for s in self.strings(t, path, "callsigns"))
        if not icao and not calls:
            raise self.err(path, "a clearance needs 'icao24' or 'callsigns'")
        a, b = self.when(t, path, "from"), self.when(t, path, "until")
        if b <= a:
            raise self.err(path + ("until",), f"inverted time window: until {_iso(b)} is not after from {_iso(a)}")
        return Clearance(
            id=self.string(t, path, "id", f"clearance[{i + 1}]"),
            icao24=icao,
            callsigns=calls,
            zones=self.patterns(t, path, "zones", required=True),
            start=a,
            end=b,
            line=self.line(path),
        )

    def check_clearances(self, cs: tuple) -> None:
        """Two clearances for the same aircraft must not overlap in time (their time would count twice)."""
        for j, c in enumerate(cs):
            for p in cs[:j]:
                same = (c.icao24 & p.icao24) or (c.callsigns & p.callsigns)
                if same and c.start < p.end and p.start < c.end:
                    who = sorted(same)[0]
                    msg = f"time window overlaps clearance {p.id!r} (line {p.line}) for {who}"
                    raise self.err(("clearance", j, "from"), msg)

    def severity(self, t: dict, i: int) -> SeverityRule:
        path = ("severity", i)
        self.keys(t, path, ("name", "level", "category", "foreign", "identified", "states", "icao24", "callsigns"))
        return SeverityRule(
            rank=i + 1,
            name=self.string(t, path, "name", f"severity[{i + 1}]"),
            level=self.string(t, path, "level", required=True),
            categories=self.categories(t, path, "category"),
            foreign=self.boolean(t, path, "foreign", None),
            identified=self.boolean(t, path, "identified", None),
            who=Who(
                states=self.states(t, path, "states"),
                icao24=self.icao24(t, path, "icao24"),
                callsigns=self.regexes(t, path, "callsigns"),
            ),
            line=self.line(path),
        )


# --------------------------------------------------------------------------- helpers


def _overlap(a: Window, b: Window) -> bool:
    if a.kind != b.kind:
        return False  # a span and a weekly window: their union is meant
    if a.kind == "weekly" and not (a.days & b.days):
        return False
    return a.start < b.end and b.start < a.end


def _dotted(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p + 1}]" if isinstance(p, int) else (("." if out else "") + p)
    return out


def _close(a: str, b: str) -> bool:
    """One edit apart (a typo)."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) <= 1 or any(
            a[:k] + a[k + 1] + a[k] + a[k + 2 :] == b for k in range(len(a) - 1))  # fmt: skip
    s, t = (a, b) if len(a) < len(b) else (b, a)
    return any(t[:k] + t[k + 1 :] == s for k in range(len(t)))


def _hm(s: float) -> str:
    return f"{int(s // 3600):02d}:{int(s % 3600 // 60):02d}"


def _iso(t: float) -> str:
    if math.isinf(t):
        return "open"
    return datetime.fromtimestamp(t, timezone.utc).isoformat().replace("+00:00", "Z")


def _distance_name(v) -> str:
    if isinstance(v, str):
        return v.replace(" ", "")
    return f"{float(v) / 1000:g}km"
