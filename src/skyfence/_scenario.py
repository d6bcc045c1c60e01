"""Demo scenarios: aircraft flights *defined* in TOML, flown into a ``Tracks`` table.

A scenario is a definition, not a recording: each aircraft has a start point,
time, speed, altitude and a route of legs, and :meth:`Scenario.tracks` flies that
route and samples it at the aircraft's fix interval, as a surveillance radar
would.  Every table it produces is labelled ``RECONSTRUCTION`` in its
``source``; nothing here is recorded data.

The shipped scenarios live in ``skyfence/data/scenarios/*.toml``;
:func:`list_scenarios` names them and :func:`load_scenario` loads one by name or
any TOML file by path.

Scenario file
-------------
::

    [scenario]
    title = "..."               # required
    description = "..."         # required
    reading = "..."             # required: which reading of published figures
    fix_interval_s = 4.0        # default for every aircraft (required here or per aircraft)
    noise_m = 0.0               # default position noise, 1-sigma metres per axis
    seed = 2015                 # seed of that noise (default 0)
    policy = "x-policy.toml"    # optional: the policy ``skyfence demo`` judges the episodes
                                # under (next to this file, else a shipped one of that name)

    [[incident]]                # any number, for reports
    label = "..."
    date = 2015-11-24
    zone = "TUR"                # optional: the zone the incident concerns
    aircraft = ["FAKE24A"]      # optional: callsigns of aircraft defined below
    facts = "..."               # the published facts, free text
    published = { entry = 2015-11-24T07:24:05Z, duration_s = 17 }   # optional

    [[aircraft]]
    icao24 = "15e241"           # 24-bit address, 6 hex digits
    callsign = "FAKE24A"
    type = "Su-24M"
    role = "lead"               # optional free text
    start = 2015-11-24T07:17:05Z   # UTC (a TOML offset date-time, or such a string)
    position = [35.60, 36.26]   # [lat, lon] at ``start``
    heading_deg = 0.0           # initial heading (needed if the first leg is not ``to``)
    speed_kt = 505              # ground speed
    alt_ft = 19000              # barometric altitude
    fix_interval_s = 4.0        # optional, overrides [scenario]
    noise_m = 0.0               # optional, overrides [scenario]
    route = [
      { to = [35.70, 36.26] },                      # fly the geodesic to a point
      { fly_s = 60 },                               # or { fly_km = 12.5 }: straight on
      { turn = "right", by_deg = 180, rate_dps = 3 },   # constant-rate turn ...
      { turn = "left", to_heading = 255 },              # ... to a heading
      { turn = "left", toward = [35.41, 35.95] },       # ... until heading at a point
    ]

Every leg may also carry ``speed_kt`` (ground speed from this leg on) and
``alt_ft`` (altitude reached at the end of this leg, linearly in time over
the leg, kept afterwards).  Turns default to 3 deg/s.

How the route is flown
----------------------
On the WGS84 ellipsoid with :class:`pyproj.Geod`: straight legs are geodesics
flown at constant ground speed (position at any time from ``Geod.fwd`` on the
leg's start point and azimuth, so exact); turns are constant-rate turns
integrated in 0.1 s steps, each step a geodesic flown on the mid-step heading
(error well under a metre).  No wind: ``speed_kt`` *is* the ground speed.
Fixes are taken at ``start + k * fix_interval_s`` until the route ends.
``track_deg`` is the geodesic azimuth at the fix, ``groundspeed_kt`` the leg's
speed, ``vertical_rate_fpm`` the leg's climb rate, ``alt_geo_ft`` is unknown
(NaN): like a radar, the scenario gives a pressure altitude only.

With ``noise_m > 0`` each fix is displaced by independent Gaussian noise of that
1-sigma in metres east and north, drawn from ``numpy.random.default_rng([seed,
icao24])``: deterministic, and the same for an aircraft whatever else the file
holds.

Errors in a file raise :class:`skyfence._errors.InputError` naming the file and
the key (``aircraft[2].route[4].turn``).
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pyproj

from skyfence._errors import InputError
from skyfence._tracks import ReadStats, Tracks

__all__ = [
    "Aircraft",
    "Incident",
    "Leg",
    "Scenario",
    "list_scenarios",
    "load_scenario",
    "parse_scenario",
]

KT = 1852.0 / 3600.0  # m/s per knot
_GEOD = pyproj.Geod(ellps="WGS84")
_TURN_STEP_S = 0.1
_DEFAULT_TURN_RATE = 3.0
_PACKAGE_DIR = ("data", "scenarios")


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Leg:
    """One element of a route (see the module docstring for the TOML form).

    ``kind`` is ``"to"`` (geodesic to ``target``), ``"fly"`` (straight on for
    ``seconds`` or ``km``) or ``"turn"`` (``direction`` ``left``/``right`` at
    ``rate_dps``, by ``by_deg``, to ``to_heading`` or ``toward`` a point).
    """

    kind: str
    target: tuple[float, float] | None = None  # (lat, lon) for "to" and "toward"
    seconds: float | None = None
    km: float | None = None
    direction: str | None = None
    rate_dps: float = _DEFAULT_TURN_RATE
    by_deg: float | None = None
    to_heading: float | None = None
    speed_kt: float | None = None
    alt_ft: float | None = None
    key: str = ""  # where it was defined, for error messages


@dataclass(frozen=True)
class Aircraft:
    """One aircraft of a scenario: identity, start state and route."""

    icao24: int
    callsign: str
    type: str
    role: str
    start: datetime
    lat: float
    lon: float
    heading_deg: float | None
    speed_kt: float
    alt_ft: float
    fix_interval_s: float
    noise_m: float
    route: tuple[Leg, ...]
    key: str = ""

    @property
    def icao24_hex(self) -> str:
        return format(self.icao24, "06x")


@dataclass(frozen=True)
class Incident:
    """A published incident the scenario reconstructs, for reports."""

    label: str
    date: date
    facts: str
    zone: str | None = None
    aircraft: tuple[str, ...] = ()
    published: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    """A loaded scenario definition.  :meth:`tracks` flies it."""

    name: str
    title: str
    description: str
    reading: str
    incidents: tuple[Incident, ...]
    aircraft: tuple[Aircraft, ...]
    seed: int = 0
    path: str = ""
    policy: str = ""  # the policy file the demo judges this scenario under, as written

    def policy_path(self) -> Path | None:
        """The scenario's policy file: ``policy`` relative to the scenario file,
        else a shipped file of that name; None when the scenario names none."""
        if not self.policy:
            return None
        for folder in (Path(self.path).parent, Path(str(resources.files("skyfence").joinpath(*_PACKAGE_DIR)))):
            if (folder / self.policy).is_file():
                return folder / self.policy
        raise InputError(f"policy file {self.policy!r} found neither next to the scenario nor among the shipped ones",
                         source=self.path, field="scenario.policy")

    @property
    def source_label(self) -> str:
        return f"RECONSTRUCTION (not recorded data): {self.title} [scenario {self.name}]"

    def tracks(self, callsigns: "str | list[str] | tuple[str, ...] | None" = None) -> Tracks:
        """Fly every aircraft (or those named) and return their fixes.

        Rows are sorted by time, then icao24.  ``source`` is
        :attr:`source_label`.
        """
        if isinstance(callsigns, str):
            callsigns = (callsigns,)
        chosen = [a for a in self.aircraft if callsigns is None or a.callsign in callsigns]
        cols: dict[str, list[np.ndarray]] = {k: [] for k in (
            "icao24", "callsign", "time", "lat", "lon", "alt", "gs", "trk", "vr")}
        names = tuple(a.callsign for a in chosen)
        for code, ac in enumerate(chosen):
            f = _fly(ac, self.seed, self.path or self.name)
            n = len(f["time"])
            cols["icao24"].append(np.full(n, ac.icao24, np.uint32))
            cols["callsign"].append(np.full(n, code, np.int32))
            for k in ("time", "lat", "lon", "alt", "gs", "trk", "vr"):
                cols[k].append(f[k])
        if chosen:
            c = {k: np.concatenate(v) for k, v in cols.items()}
        else:
            c = {k: np.empty(0, np.uint32 if k == "icao24" else np.int32 if k == "callsign" else float)
                 for k in cols}
        order = np.lexsort((c["icao24"], c["time"]))
        c = {k: v[order] for k, v in c.items()}
        return Tracks.from_columns(
            icao24=c["icao24"],
            time=c["time"],
            lat=c["lat"],
            lon=c["lon"],
            alt_baro_ft=c["alt"],
            groundspeed_kt=c["gs"],
            track_deg=c["trk"],
            vertical_rate_fpm=c["vr"],
            callsign=c["callsign"],
            callsigns=names,
            source=self.source_label,
            stats=ReadStats(rows_read=len(c["time"])),
        )


# --------------------------------------------------------------------------- flying


class _Piece:
    """One leg, resolved: start time/state, duration, and position at any time."""

    def __init__(self, t0: float, lat: float, lon: float, hdg: float, speed: float,
                 alt0: float, alt1: float) -> None:
        self.t0 = t0
        self.lat0, self.lon0, self.hdg0 = lat, lon, hdg
        self.v = speed  # m/s
        self.alt0, self.alt1 = alt0, alt1
        self.dur = 0.0
        self.turn: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float] | None = None

    def at(self, dt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(lat, lon, heading) at times ``dt`` (s) after the piece starts."""
        dt = np.asarray(dt, float)
        if self.turn is None:
            lon, lat, back = _GEOD.fwd(np.full(dt.shape, self.lon0), np.full(dt.shape, self.lat0),
                                       np.full(dt.shape, self.hdg0), self.v * dt)
            hdg = np.where(dt > 0, (np.asarray(back) + 180.0) % 360.0, self.hdg0 % 360.0)
            return np.asarray(lat), np.asarray(lon), hdg
        ts, lats, lons, hdgs, omega = self.turn  # omega signed deg/s
        k = np.clip(np.searchsorted(ts, dt, side="right") - 1, 0, len(ts) - 1)
        rem = dt - ts[k]
        mid = hdgs[k] + omega * rem / 2.0
        lon, lat, _ = _GEOD.fwd(lons[k], lats[k], mid, self.v * rem)
        return np.asarray(lat), np.asarray(lon), (hdgs[k] + omega * rem) % 360.0

    def alt(self, dt: np.ndarray) -> np.ndarray:
        if self.dur <= 0:
            return np.full(np.shape(dt), self.alt1)
        return self.alt0 + (self.alt1 - self.alt0) * np.clip(np.asarray(dt) / self.dur, 0.0, 1.0)

    @property
    def vrate_fpm(self) -> float:
        return 0.0 if self.dur <= 0 else (self.alt1 - self.alt0) / self.dur * 60.0


def _angle_to_go(hdg: float, target: float, sign: int) -> float:
    """Degrees still to turn (0 <= x < 360) from ``hdg`` to ``target`` turning ``sign``."""
    return ((target - hdg) * sign) % 360.0


def _plan(ac: Aircraft, source: str) -> list[_Piece]:
    """Resolve the route into timed pieces."""
    lat, lon, alt, speed = ac.lat, ac.lon, ac.alt_ft, ac.speed_kt
    hdg = ac.heading_deg
    t = 0.0
    pieces: list[_Piece] = []

    def bad(leg: Leg, field_: str, msg: str) -> InputError:
        return InputError(msg, source=source, field=f"{leg.key}.{field_}")

    for leg in ac.route:
        if leg.speed_kt is not None:
            speed = leg.speed_kt
        alt1 = leg.alt_ft if leg.alt_ft is not None else alt
        v = speed * KT
        if leg.kind == "to":
            assert leg.target is not None
            az, _, dist = _GEOD.inv(lon, lat, leg.target[1], leg.target[0])
            if dist < 1.0:
                raise bad(leg, "to", "waypoint is where the aircraft already is")
            p = _Piece(t, lat, lon, az % 360.0, v, alt, alt1)
            p.dur = dist / v
        elif leg.kind == "fly":
            if hdg is None:
                raise bad(leg, "fly_s" if leg.seconds is not None else "fly_km",
                          "no heading yet: give heading_deg or start with a 'to' leg")
            p = _Piece(t, lat, lon, hdg, v, alt, alt1)
            p.dur = leg.seconds if leg.seconds is not None else (leg.km or 0.0) * 1000.0 / v
        else:  # turn
            if hdg is None:
                raise bad(leg, "turn", "no heading yet: give heading_deg or start with a 'to' leg")
            sign = -1 if leg.direction == "left" else 1
            omega = sign * leg.rate_dps
            p = _Piece(t, lat, lon, hdg, v, alt, alt1)
            ts, lats, lons, hdgs = _integrate_turn(lat, lon, hdg, v, leg, sign, bad)
            p.turn = (ts, lats, lons, hdgs, omega)
            p.dur = float(ts[-1])
        pieces.append(p)
        t += p.dur
        if p.dur > 0:
            la, lo, hd = p.at(np.array([p.dur]))
            lat, lon, hdg = float(la[0]), float(lo[0]), float(hd[0])
        alt = alt1
    return pieces


def _integrate_turn(lat: float, lon: float, hdg: float, v: float, leg: Leg, sign: int, bad):
    """Substep states (t, lat, lon, heading) of a constant-rate turn, last = end."""
    rate = leg.rate_dps
    if leg.by_deg is not None:
        total = leg.by_deg / rate
    elif leg.to_heading is not None:
        total = _angle_to_go(hdg, leg.to_heading, sign) / rate
    else:
        total = None  # toward a point: decided while turning
    ts, lats, lons, hdgs = [0.0], [lat], [lon], [hdg]
    t = 0.0
    limit = 720.0 / rate
    while True:
        if total is not None:
            step = min(_TURN_STEP_S, total - t)
            if step <= 1e-9:
                break
        else:
            assert leg.target is not None
            az, _, _ = _GEOD.inv(lon, lat, leg.target[1], leg.target[0])
            togo = _angle_to_go(hdg, az, sign)
            if togo > 359.9:  # just past it by rounding: aligned
                togo = 0.0
            if togo <= 1e-9:
                break
            step = min(_TURN_STEP_S, togo / rate)
            if t + step > limit:
                raise bad(leg, "toward", "the point is inside the turn circle: the turn never points at it")
        mid = hdg + sign * rate * step / 2.0
        lon, lat, _ = _GEOD.fwd(lon, lat, mid, v * step)
        hdg = (hdg + sign * rate * step) % 360.0
        t += step
        ts.append(t)
        lats.append(lat)
        lons.append(lon)
        hdgs.append(hdg)
    return np.array(ts), np.array(lats), np.array(lons), np.array(hdgs)


def _fly(ac: Aircraft, seed: int, source: str) -> dict[str, np.ndarray]:
    """Fixes of one aircraft as arrays: time (epoch s), lat, lon, alt, gs, trk, vr."""
    pieces = _plan(ac, source)
    total = sum(p.dur for p in pieces)
    n = int(math.floor(total / ac.fix_interval_s + 1e-9)) + 1
    rel = np.arange(n) * ac.fix_interval_s
    starts = np.array([p.t0 for p in pieces])
    which = np.clip(np.searchsorted(starts, rel, side="right") - 1, 0, len(pieces) - 1)
    lat = np.empty(n)
    lon = np.empty(n)
    trk = np.empty(n)
    alt = np.empty(n)
    gs = np.empty(n)
    vr = np.empty(n)
    for i, p in enumerate(pieces):
        sel = which == i
        if not sel.any():
            continue
        dt = np.minimum(rel[sel] - p.t0, p.dur)
        lat[sel], lon[sel], trk[sel] = p.at(dt)
        alt[sel] = p.alt(dt)
        gs[sel] = p.v / KT
        vr[sel] = p.vrate_fpm
    if ac.noise_m > 0 and n:
        rng = np.random.default_rng([int(seed), int(ac.icao24)])
        east, north = rng.normal(0.0, ac.noise_m, (2, n))
        az = np.degrees(np.arctan2(east, north))
        lon, lat, _ = _GEOD.fwd(lon, lat, az, np.hypot(east, north))
        lat, lon = np.asarray(lat), np.asarray(lon)
    t0 = ac.start.timestamp()
    return {"time": t0 + rel, "lat": lat, "lon": lon, "alt": alt, "gs": gs,
            "trk": trk % 360.0, "vr": vr}


# --------------------------------------------------------------------------- loading


def list_scenarios() -> list[str]:
    """Names of the scenarios shipped with skyfence (``load_scenario(name)``)."""
    folder = resources.files("skyfence").joinpath(*_PACKAGE_DIR)
    try:
        entries = list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(e.name[: -len(".toml")] for e in entries if e.name.endswith(".toml"))


def load_scenario(name_or_path: "str | Path") -> Scenario:
    """Load a shipped scenario by name (see :func:`list_scenarios`) or a TOML file by path."""
    text_ = str(name_or_path)
    plain = not isinstance(name_or_path, Path) and re.fullmatch(r"[A-Za-z0-9_.-]+", text_) is not None \
        and not text_.endswith(".toml")
    shipped = resources.files("skyfence").joinpath(*_PACKAGE_DIR, f"{text_}.toml") if plain else None
    if not plain or (shipped is not None and not shipped.is_file() and Path(text_).is_file()):
        path = Path(name_or_path)
        try:
            text = path.read_bytes().decode("utf-8")
        except OSError as e:
            raise InputError(f"cannot read scenario file: {e.strerror or e}", source=str(path)) from None
        except UnicodeDecodeError as e:
            raise InputError(f"not UTF-8 text: {e.reason}", source=str(path)) from None
        return parse_scenario(text, source=str(path), name=path.stem)
    name, res = text_, shipped
    assert res is not None
    if not res.is_file():
        known = ", ".join(list_scenarios()) or "none"
        raise InputError(f"unknown scenario {name!r} (shipped: {known}; or give a path to a .toml file)",
                         source=name)
    return parse_scenario(res.read_text(encoding="utf-8"), source=str(res), name=name)


_LINE_RE = re.compile(r"\(at line (\d+), column (\d+)\)")


def parse_scenario(text: str, *, source: str = "-", name: str = "scenario") -> Scenario:
    """Parse a scenario from TOML text (``source`` names it in errors)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = _LINE_RE.search(msg)
        line = int(m.group(1)) if m else None
        msg = _LINE_RE.sub("", msg).strip() or "bad TOML"
        raise InputError(f"not valid TOML: {msg}", source=source, line=line) from None
    return _Reader(source).scenario(doc, name)


class _Reader:
    """Checks a parsed TOML document key by key, raising InputError(file, key)."""

    def __init__(self, source: str) -> None:
        self.source = source

    def err(self, key: str, msg: str) -> InputError:
        return InputError(msg, source=self.source, field=key)

    # -- typed getters ------------------------------------------------------
    def table(self, d: dict, key: str, path: str, allowed: set[str], required: bool = True) -> dict | None:
        if key not in d:
            if required:
                raise self.err(path, "missing")
            return None
        t = d[key]
        if not isinstance(t, dict):
            raise self.err(path, f"must be a table, not {type(t).__name__}")
        self.only(t, allowed, path)
        return t

    def only(self, t: dict, allowed: set[str], path: str) -> None:
        for k in t:
            if k not in allowed:
                raise self.err(f"{path}.{k}" if path else k,
                               f"unknown key (expected one of: {', '.join(sorted(allowed))})")

    def str_(self, t: dict, key: str, path: str, default: str | None = None, required: bool = True) -> str:
        if key not in t:
            if required and default is None:
                raise self.err(f"{path}.{key}", "missing")
            return default if default is not None else ""
        v = t[key]
        if not isinstance(v, str) or (required and not v.strip()):
            raise self.err(f"{path}.{key}", "must be a non-empty string")
        return v.strip()

    def num(self, t: dict, key: str, path: str, *, default: float | None = None, required: bool = True,
            lo: float | None = None, hi: float | None = None, lo_open: bool = False) -> float | None:
        if key not in t:
            if required and default is None:
                raise self.err(f"{path}.{key}", "missing")
            return default
        v = t[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise self.err(f"{path}.{key}", f"must be a number, not {v!r}")
        v = float(v)
        if lo is not None and (v < lo or (lo_open and v == lo)):
            raise self.err(f"{path}.{key}", f"must be {'>' if lo_open else '>='} {lo:g}, not {v:g}")
        if hi is not None and v > hi:
            raise self.err(f"{path}.{key}", f"must be <= {hi:g}, not {v:g}")
        return v

    def point(self, t: dict, key: str, path: str) -> tuple[float, float]:
        v = t.get(key)
        k = f"{path}.{key}"
        if v is None:
            raise self.err(k, "missing")
        if (not isinstance(v, list) or len(v) != 2
                or any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in v)):
            raise self.err(k, f"must be [lat, lon] in degrees, not {v!r}")
        lat, lon = float(v[0]), float(v[1])
        if not (-90 <= lat <= 90) or not (-180 <= lon <= 180):
            raise self.err(k, f"[lat, lon] out of range: {v!r}")
        return lat, lon

    def utc(self, t: dict, key: str, path: str) -> datetime:
        k = f"{path}.{key}"
        if key not in t:
            raise self.err(k, "missing")
        v = t[key]
        if isinstance(v, str):
            try:
                v = datetime.fromisoformat(v.strip().replace("z", "Z").replace("Z", "+00:00"))
            except ValueError:
                raise self.err(k, f"not an ISO 8601 date-time: {t[key]!r}") from None
        if not isinstance(v, datetime):
            raise self.err(k, f"must be a UTC date-time like 2015-11-24T07:24:05Z, not {v!r}")
        if v.tzinfo is None or v.utcoffset() is None:
            raise self.err(k, f"needs a UTC offset (e.g. {v.isoformat()}Z): times are never local")
        return v.astimezone(timezone.utc)

    def date_(self, t: dict, key: str, path: str) -> date:
        k = f"{path}.{key}"
        if key not in t:
            raise self.err(k, "missing")
        v = t[key]
        if isinstance(v, str):
            try:
                v = date.fromisoformat(v.strip())
            except ValueError:
                raise self.err(k, f"not a date like 2015-11-24: {t[key]!r}") from None
        if isinstance(v, datetime) or not isinstance(v, date):
            raise self.err(k, f"must be a date like 2015-11-24, not {v!r}")
        return v

    def array_of_tables(self, d: dict, key: str, path: str, required: bool = True) -> list[dict]:
        if key not in d:
            if required:
                raise self.err(path, "missing")
            return []
        v = d[key]
        if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
            raise self.err(path, "must be an array of tables")
        if required and not v:
            raise self.err(path, "is empty")
        return v

    # -- document -----------------------------------------------------------
    def scenario(self, doc: dict, name: str) -> Scenario:
        self.only(doc, {"scenario", "incident", "aircraft"}, "")
        head = self.table(doc, "scenario", "scenario",
                          {"name", "title", "description", "reading", "fix_interval_s", "noise_m", "seed", "policy"})
        assert head is not None
        name = self.str_(head, "name", "scenario", default=name)
        title = self.str_(head, "title", "scenario")
        description = self.str_(head, "description", "scenario")
        reading = self.str_(head, "reading", "scenario")
        policy = self.str_(head, "policy", "scenario", required=False) or ""
        interval = self.num(head, "fix_interval_s", "scenario", required=False, lo=0.0, lo_open=True, hi=3600)
        noise = self.num(head, "noise_m", "scenario", default=0.0, lo=0.0, hi=10000)
        seed = head.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise self.err("scenario.seed", f"must be a non-negative integer, not {seed!r}")

        aircraft = []
        seen_icao: dict[int, str] = {}
        seen_cs: set[str] = set()
        for i, a in enumerate(self.array_of_tables(doc, "aircraft", "aircraft"), 1):
            ac = self.aircraft(a, f"aircraft[{i}]", interval, noise)
            if ac.icao24 in seen_icao:
                raise self.err(f"aircraft[{i}].icao24", f"{ac.icao24_hex} already used by {seen_icao[ac.icao24]}")
            if ac.callsign in seen_cs:
                raise self.err(f"aircraft[{i}].callsign", f"{ac.callsign!r} already used")
            seen_icao[ac.icao24] = f"aircraft[{i}]"
            seen_cs.add(ac.callsign)
            aircraft.append(ac)

        incidents = []
        for i, t in enumerate(self.array_of_tables(doc, "incident", "incident", required=False), 1):
            path = f"incident[{i}]"
            self.only(t, {"label", "date", "zone", "aircraft", "facts", "published"}, path)
            cs = t.get("aircraft", [])
            if not isinstance(cs, list) or not all(isinstance(x, str) for x in cs):
                raise self.err(f"{path}.aircraft", "must be a list of callsigns")
            for c in cs:
                if c not in seen_cs:
                    raise self.err(f"{path}.aircraft", f"no aircraft with callsign {c!r} in this file")
            pub = t.get("published", {})
            if not isinstance(pub, dict):
                raise self.err(f"{path}.published", "must be a table")
            pub = {k: (v.astimezone(timezone.utc) if isinstance(v, datetime) and v.tzinfo else v)
                   for k, v in pub.items()}
            incidents.append(Incident(
                label=self.str_(t, "label", path),
                date=self.date_(t, "date", path),
                facts=self.str_(t, "facts", path),
                zone=self.str_(t, "zone", path, required=False) or None,
                aircraft=tuple(cs),
                published=pub,
            ))
        return Scenario(name=name, title=title, description=description, reading=reading,
                        incidents=tuple(incidents), aircraft=tuple(aircraft), seed=seed, path=self.source,
                        policy=policy)

    def aircraft(self, a: dict, path: str, interval: float | None, noise: float) -> Aircraft:
        self.only(a, {"icao24", "callsign", "type", "role", "start", "position", "heading_deg", "speed_kt",
                      "alt_ft", "fix_interval_s", "noise_m", "route"}, path)
        raw = a.get("icao24")
        if raw is None:
            raise self.err(f"{path}.icao24", "missing")
        if isinstance(raw, str) and re.fullmatch(r"(0x)?[0-9a-fA-F]{6}", raw.strip()):
            icao = int(raw.strip().removeprefix("0x"), 16)
        elif isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw <= 0xFFFFFF:
            icao = raw
        else:
            raise self.err(f"{path}.icao24", f"must be 6 hex digits like \"15e241\", not {raw!r}")
        callsign = self.str_(a, "callsign", path)
        if len(callsign) > 8 or not re.fullmatch(r"[A-Za-z0-9 ]+", callsign):
            raise self.err(f"{path}.callsign", f"must be 1-8 letters/digits, not {callsign!r}")
        lat, lon = self.point(a, "position", path)
        ivl = self.num(a, "fix_interval_s", path, default=interval, lo=0.0, lo_open=True, hi=3600)
        route = self.array_of_tables(a, "route", f"{path}.route")
        legs = tuple(self.leg(r, f"{path}.route[{j}]") for j, r in enumerate(route, 1))
        heading = self.num(a, "heading_deg", path, required=False, lo=0.0, hi=360.0)
        return Aircraft(
            icao24=icao,
            callsign=callsign,
            type=self.str_(a, "type", path),
            role=self.str_(a, "role", path, required=False),
            start=self.utc(a, "start", path),
            lat=lat,
            lon=lon,
            heading_deg=heading,
            speed_kt=self.num(a, "speed_kt", path, lo=0.0, lo_open=True, hi=3000),
            alt_ft=self.num(a, "alt_ft", path, lo=-2000, hi=100000),
            fix_interval_s=ivl,
            noise_m=self.num(a, "noise_m", path, default=noise, lo=0.0, hi=10000),
            route=legs,
            key=path,
        )

    def leg(self, r: dict, path: str) -> Leg:
        kinds = [k for k in ("to", "fly_s", "fly_km", "turn") if k in r]
        if len(kinds) != 1:
            raise self.err(path, "needs exactly one of 'to', 'fly_s', 'fly_km', 'turn'"
                           + (f" (has {', '.join(kinds)})" if kinds else ""))
        kind = kinds[0]
        common = {"speed_kt", "alt_ft"}
        speed = self.num(r, "speed_kt", path, required=False, lo=0.0, lo_open=True, hi=3000)
        alt = self.num(r, "alt_ft", path, required=False, lo=-2000, hi=100000)
        if kind == "to":
            self.only(r, common | {"to"}, path)
            return Leg("to", target=self.point(r, "to", path), speed_kt=speed, alt_ft=alt, key=path)
        if kind in ("fly_s", "fly_km"):
            self.only(r, common | {kind}, path)
            v = self.num(r, kind, path, lo=0.0, lo_open=True)
            return Leg("fly", seconds=v if kind == "fly_s" else None, km=v if kind == "fly_km" else None,
                       speed_kt=speed, alt_ft=alt, key=path)
        self.only(r, common | {"turn", "rate_dps", "by_deg", "to_heading", "toward"}, path)
        direction = r["turn"]
        if direction not in ("left", "right"):
            raise self.err(f"{path}.turn", f"must be \"left\" or \"right\", not {direction!r}")
        ends = [k for k in ("by_deg", "to_heading", "toward") if k in r]
        if len(ends) != 1:
            raise self.err(path, "a turn needs exactly one of 'by_deg', 'to_heading', 'toward'")
        rate = self.num(r, "rate_dps", path, default=_DEFAULT_TURN_RATE, lo=0.0, lo_open=True, hi=30)
        return Leg(
            "turn",
            direction=direction,
            rate_dps=rate,
            by_deg=self.num(r, "by_deg", path, lo=0.0, lo_open=True, hi=3600) if "by_deg" in r else None,
            to_heading=self.num(r, "to_heading", path, lo=0.0, hi=360) if "to_heading" in r else None,
            target=self.point(r, "toward", path) if "toward" in r else None,
            speed_kt=speed,
            alt_ft=alt,
            key=path,
        )
