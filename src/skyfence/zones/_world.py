"""The world's sovereign airspace, shipped with skyfence (``world`` zone spec).

One zone per state (250, ISO 3166-1 alpha-3 ids): its land territory plus its
territorial sea, the lateral limits of national airspace.  ``kind`` is
``sovereign``, no vertical limits.

The data (``skyfence/data/world.npz``) is derived by ``scripts/derive_world.py``
from the geo-maps ``countries-maritime-10m`` borders (OpenStreetMap, 2017):
simplified so that it deviates from the source by at most 20 m (the script
verifies it), names from pycountry.  Data © OpenStreetMap contributors, under
the Open Database License (ODbL) 1.0 -- see ``skyfence/data/world.LICENSE.txt``.

Known limits of the source: Antarctica (ATA) stops at 85.05° S (the Web-Mercator
limit); states are cut at the antimeridian (RUS, USA, FJI, KIR, TUV, NZL ... have
parts on both sides of ±180°, each part valid on its own); overseas territories
appear both on their own (PYF, GUF ...) and inside their state where the source
says so (FRA includes PYF...), so world zones can overlap.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._errors import ZoneFormatError
from ._model import SFC, UNL, Zone

DATA = Path(__file__).resolve().parent.parent / "data" / "world.npz"
ATTRIBUTION = "© OpenStreetMap contributors (ODbL)"
SOURCE = "world"


@dataclass(frozen=True)
class World:
    codes: np.ndarray  # (250,) str
    names: np.ndarray
    iso_names: np.ndarray
    alpha_2: np.ndarray
    official_names: np.ndarray
    geometries: np.ndarray  # (250,) shapely MultiPolygon
    meta: dict

    def index(self) -> dict[str, int]:
        return {str(c): i for i, c in enumerate(self.codes)}


def _axis(npz, name: str, scale: float, out: np.ndarray) -> None:
    """Decode one coordinate axis into ``out`` (a strided float64 view)."""
    lo = npz[f"{name}_lo"]
    pair = np.empty((len(lo), 2), dtype=np.uint8)
    pair[:, 0] = lo
    pair[:, 1] = npz[f"{name}_hi"]
    z = pair.view("<u2").ravel().astype(np.int32)
    big = np.flatnonzero(z == 0xFFFF)
    z[big] = npz[f"{name}_big"].astype(np.int32)
    delta = (z >> 1) ^ -(z & 1)  # un-zig-zag
    np.cumsum(delta, out=delta)
    np.divide(delta, scale, out=out)


@functools.lru_cache(maxsize=1)
def data_digest() -> str:
    """SHA-1 of the shipped data file."""
    return hashlib.sha1(DATA.read_bytes()).hexdigest()


# id(geometry) -> a digest of it, for the shipped geometries (alive for the
# process, so their ids stay theirs): the zone index is keyed by its zones'
# geometry, and hashing 1.7 M vertices costs more than knowing where they came from
GEOMETRY_DIGESTS: dict[int, bytes] = {}


def _decoded_coords(npz, scale: float) -> np.ndarray:
    """The coordinate stream decoded (see :func:`decode`), cached as a
    memory-mapped ``.npy`` keyed by the data file's content: decoding takes
    more time than everything else in loading the borders."""
    from .._cache import cache_dir

    path = cache_dir() / f"world-coords-{data_digest()[:20]}.npy"
    try:
        return np.load(path, mmap_mode="r")
    except (OSError, ValueError):
        pass
    coords = np.empty((len(npz["x_lo"]), 2), dtype=np.float64)
    _axis(npz, "x", scale, coords[:, 0])
    _axis(npz, "y", scale, coords[:, 1])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npy")
        np.save(tmp, coords)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache only costs the decoding next time
    return coords


def decode(npz) -> World:
    """Decode the arrays written by ``scripts/derive_world.py`` (format 2).

    Coordinates: one stream of closed rings, per axis delta-encoded in units of
    ``1 / scale`` degree, zig-zag mapped, stored as uint16 split into a low and a
    high byte plane, 0xFFFF escaping to the next value of ``*_big`` (uint32).
    Structure: ``part_offsets`` (country -> polygons), ``ring_offsets``
    (polygon -> rings), ``vertex_offsets`` (ring -> vertices), as in GeoArrow.
    """
    import shapely

    meta = json.loads(str(npz["meta"]))
    if meta.get("format") != 2:
        raise RuntimeError(f"{DATA}: unsupported world data format {meta.get('format')!r}")
    coords = _decoded_coords(npz, float(meta["scale"]))
    geoms = shapely.from_ragged_array(
        shapely.GeometryType.MULTIPOLYGON,
        coords,
        (
            npz["vertex_offsets"].astype(np.int64),
            npz["ring_offsets"].astype(np.int64),
            npz["part_offsets"].astype(np.int64),
        ),
    )
    GEOMETRY_DIGESTS.update({id(g): f"world {data_digest()} {i}".encode() for i, g in enumerate(geoms)})
    return World(
        codes=npz["codes"],
        names=npz["name"],
        iso_names=npz["iso_name"],
        alpha_2=npz["alpha_2"],
        official_names=npz["official_name"],
        geometries=geoms,
        meta=meta,
    )


@functools.lru_cache(maxsize=1)
def load() -> World:
    """The shipped world borders, decoded once per process."""
    with np.load(DATA, allow_pickle=False) as npz:
        return decode(npz)


def _suggest(token: str, world: World) -> str:
    codes = [str(c) for c in world.codes]
    names = {str(n).casefold(): str(c) for c, n in zip(world.codes, world.names)}
    names.update({str(n).casefold(): str(c) for c, n in zip(world.codes, world.iso_names)})
    hits = difflib.get_close_matches(token.upper(), codes, n=4, cutoff=0.6)
    for name in difflib.get_close_matches(token.casefold(), list(names), n=3, cutoff=0.6):
        if names[name] not in hits:
            hits.append(names[name])
    for name, code in names.items():  # a substring of a name: "turk" -> TUR
        if len(token) >= 4 and token.casefold() in name and code not in hits:
            hits.append(code)
    idx = world.index()
    return ", ".join(f"{c} ({world.names[idx[c]]})" for c in hits[:6])


def world_zones(spec: str = "world") -> list[Zone]:
    """Zones for ``world`` or ``world:TUR,SYR`` (codes case-insensitive)."""
    head, sep, tail = spec.partition(":")
    if head.strip().lower() != "world":
        raise ZoneFormatError(f"not a world spec: {spec!r}", source=spec)
    world = load()
    idx = world.index()
    if not sep:
        wanted = list(range(len(world.codes)))
    else:
        tokens = [t.strip() for t in tail.split(",")]
        if not any(tokens):
            raise ZoneFormatError("no country code after 'world:' (e.g. world:TUR,SYR)", source=SOURCE)
        wanted = []
        for token in tokens:
            if not token:
                continue
            i = idx.get(token.upper())
            if i is None:
                near = _suggest(token, world)
                hint = f"; did you mean {near}?" if near else "; codes are ISO 3166-1 alpha-3 (TUR, SYR, CHE ...)"
                raise ZoneFormatError(f"unknown country code {token!r}{hint}", source=SOURCE)
            if i not in wanted:
                wanted.append(i)
    meta = world.meta
    out = []
    for i in wanted:
        code = str(world.codes[i])
        props = {
            "iso_a3": code,
            "iso_a2": str(world.alpha_2[i]),
            "iso_name": str(world.iso_names[i]),
            "attribution": ATTRIBUTION,
            "data": f"{meta['source']}, simplified (max deviation {meta['max_deviation_m']:g} m)",
        }
        if world.official_names[i]:
            props["official_name"] = str(world.official_names[i])
        out.append(
            Zone(
                id=code,
                name=str(world.names[i]),
                kind="sovereign",
                geometry=world.geometries[i],
                lower=SFC,
                upper=UNL,
                source=SOURCE,
                properties=props,
            )
        )
    return out
