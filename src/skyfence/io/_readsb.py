"""readsb / tar1090 ``trace_full`` files: one aircraft, with ADS-B quality fields.

Layout (readsb ``globe_history``, ``trace_full_<hex>.json``, plain or gzip)::

    {"icao": "ac671b", "timestamp": 1738703622.619, ..., "trace": [
        [dt, lat, lon, alt_baro, gs, track, flags, vert_rate, details, source,
         alt_geom, geom_rate, ias, roll], ...]}

``dt`` is seconds after ``timestamp``; ``alt_baro`` is feet, ``"ground"`` or
null (``"ground"`` reads as unknown altitude); ``gs`` knots; ``track``
degrees; ``vert_rate`` ft/min; ``alt_geom`` feet.  ``details`` is null or an
object with, among others, ``flight`` (callsign), ``nic``, ``nac_p`` and
``sil``: readsb writes it about once a minute and when a value changes, so
each of these is carried forward to the following points until the next
object gives it again (they describe the transponder's state, not one
message).  Points are checked like every other format (see :mod:`._build`).
"""

from __future__ import annotations

import json

import numpy as np

from .._errors import ConfigError
from ._build import Context, build_tracks
from ._schema import Spec

_KEYS = (b'"icao"', b'"trace"')


def is_trace(src) -> bool:
    """A JSON object with ``icao`` and ``trace`` keys near its start."""
    head = src.head.lstrip()
    return head.startswith(b"{") and all(k in head for k in _KEYS)


def read_readsb(src, *, columns=None, time_unit=None, altitude_unit=None):
    if columns or time_unit or altitude_unit:
        raise ConfigError(
            f"{src.name}: a readsb trace has fixed fields; --column, --time-unit and --altitude-unit do not apply"
        )
    try:
        obj = json.loads(src.data)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        line = getattr(e, "lineno", None)
        raise src.error(f"invalid JSON in a readsb trace: {getattr(e, 'msg', e)}", line=line) from None
    trace = obj.get("trace") if isinstance(obj, dict) else None
    if not isinstance(trace, list) or not trace:
        raise src.error("readsb trace without points ('trace' is missing, empty or not a list)")
    base = obj.get("timestamp")
    if isinstance(base, bool) or not isinstance(base, (int, float)):
        raise src.error(f"readsb trace: 'timestamp' must be a number of seconds, got {json.dumps(base)[:40]}")
    n = len(trace)
    for i in (0, n - 1):  # the shape of every point is checked below, by column
        if not isinstance(trace[i], list) or len(trace[i]) < 9:
            raise src.error(f"readsb trace point {i + 1} is not a list of at least 9 fields")
    width = min(len(p) if isinstance(p, list) else 0 for p in trace)
    if width < 9:
        bad = next(i for i, p in enumerate(trace) if not isinstance(p, list) or len(p) < 9)
        raise src.error(f"readsb trace point {bad + 1} is not a list of at least 9 fields")
    fields = list(zip(*trace))
    ctx = Context(src, "readsb trace", lambda i: (None, f"trace point {i + 1}"))

    import pyarrow as pa

    def numbers(k, name, allow=()):
        values = np.array([None if v in allow else v for v in fields[k]], dtype=object) if allow else fields[k]
        try:
            return pa.array(values, pa.float64(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            for i, v in enumerate(fields[k]):
                if v is not None and v not in allow and (isinstance(v, bool) or not isinstance(v, (int, float))):
                    raise ctx.fail(f"{json.dumps(v)[:40]} where a number was expected", row=i, field=name) from None
            raise

    dt = numbers(0, "seconds after timestamp")
    details = fields[8]
    arrays = {
        "icao": pa.array([obj.get("icao")] * n, pa.string()),
        "time": pa.array(float(base) + np.asarray(dt.to_numpy(zero_copy_only=False))),
        "lat": numbers(1, "lat"),
        "lon": numbers(2, "lon"),
        "alt_baro": numbers(3, "alt_baro", allow=("ground",)),
        "gs": numbers(4, "gs"),
        "track": numbers(5, "track"),
        "vert_rate": numbers(7, "vert_rate"),
        "nic": _carried(details, "nic", ctx),
        "nac_p": _carried(details, "nac_p", ctx),
        "sil": _carried(details, "sil", ctx),
        "flight": _carried_text(details, "flight"),
    }
    if width >= 11:
        arrays["alt_geom"] = numbers(10, "alt_geom")
    spec = Spec(
        format="readsb trace",
        columns={
            "icao24": "icao", "time": "time", "lat": "lat", "lon": "lon", "alt_baro_ft": "alt_baro",
            "groundspeed_kt": "gs", "track_deg": "track", "vertical_rate_fpm": "vert_rate", "callsign": "flight",
            "nic": "nic", "nacp": "nac_p", "sil": "sil", **({"alt_geo_ft": "alt_geom"} if width >= 11 else {}),
        },  # fmt: skip
        time_unit="s",
    )
    return build_tracks(arrays, n, spec, ctx)


def _forward(values: np.ndarray) -> np.ndarray:
    """NaN filled with the last value before it."""
    idx = np.where(np.isnan(values), 0, np.arange(len(values)))
    np.maximum.accumulate(idx, out=idx)
    out = values[idx]
    return out


def _carried(details, key: str, ctx):
    import pyarrow as pa

    raw = [d.get(key) if isinstance(d, dict) else None for d in details]
    try:
        values = pa.array(raw, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        i = next(i for i, v in enumerate(raw) if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))))
        raise ctx.fail(f"{json.dumps(raw[i])[:40]} where a number was expected", row=i, field=key) from None
    return pa.array(_forward(np.asarray(values, dtype=np.float64)))


def _carried_text(details, key: str):
    import pyarrow as pa

    raw = np.array([d.get(key) if isinstance(d, dict) else None for d in details], dtype=object)
    have = np.array([isinstance(v, str) and v.strip() != "" for v in raw])
    idx = np.where(have, np.arange(len(raw)), -1)
    np.maximum.accumulate(idx, out=idx)
    out = np.where(idx >= 0, raw[np.maximum(idx, 0)], None)
    return pa.array(out, pa.string())
