"""ICAO 24-bit addresses: parsing, formatting, and the state-of-registry blocks.

The blocks ship as ``skyfence/data/icao24-blocks.json`` (derived by
``scripts/derive_icao24.py`` from the ICAO Annex 10 allocation table as shipped
in the ``traffic`` package, MIT): sorted, non-overlapping ``[start, end]``
ranges with an ISO 3166-1 alpha-3 code (the ``world`` zone ids) and an English
name.  A lookup is one :func:`numpy.searchsorted` over the block starts.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._errors import InputError

DATA = Path(__file__).resolve().parent.parent / "data"
BLOCKS = DATA / "icao24-blocks.json"

_HEX_VALUE = np.full(256, -1, dtype=np.int16)
for _i, _c in enumerate(b"0123456789abcdef"):
    _HEX_VALUE[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    _HEX_VALUE[_c] = 10 + _i
_HEX24 = re.compile(r"[0-9A-Fa-f]{6}")
_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_WEIGHTS = (16 ** np.arange(5, -1, -1)).astype(np.uint32)


@dataclass(frozen=True)
class Blocks:
    """Sorted, non-overlapping address blocks."""

    start: np.ndarray  # uint32
    end: np.ndarray  # uint32, inclusive
    state: np.ndarray  # object: alpha-3 or None (unassigned / ICAO reserves)
    name: np.ndarray  # object: English name, or the reserve's label
    by_state: dict  # alpha-3 -> English name

    def name_of(self, state: str) -> str | None:
        """English name of a state of registry (alpha-3), None if it has no block."""
        return self.by_state.get(state)

    def find(self, addr: np.ndarray) -> np.ndarray:
        """Index of the block holding each address, -1 where none does."""
        i = np.searchsorted(self.start, addr, side="right").astype(np.int64) - 1
        ok = i >= 0
        ok[ok] = addr[ok] <= self.end[i[ok]]
        return np.where(ok, i, -1)

    def __len__(self) -> int:
        return len(self.start)


@functools.lru_cache(maxsize=1)
def load_blocks() -> Blocks:
    """The shipped state-of-registry blocks (read once)."""
    raw = json.loads(BLOCKS.read_text(encoding="utf-8"))
    start = np.asarray(raw["start"], dtype=np.uint32)
    end = np.asarray(raw["end"], dtype=np.uint32)
    if not (np.all(start[1:] > end[:-1]) and np.all(end >= start)):
        raise RuntimeError(f"{BLOCKS}: blocks are not sorted and disjoint; rerun scripts/derive_icao24.py")
    state = np.array([s or None for s in raw["state"]], dtype=object)
    name = np.array(raw["name"], dtype=object)
    by_state = {s: n for s, n in zip(state, name) if s}
    return Blocks(start, end, state, name, by_state)


def is_icao24(text: str) -> bool:
    """Whether ``text`` is an ICAO 24-bit address as written: exactly six hex digits, any case."""
    return _HEX24.fullmatch(text) is not None


def parse_icao24(values, *, what: str = "icao24") -> np.ndarray:
    """Addresses as uint32 from 6-hex-digit strings or integers, vectorised.

    Parameters
    ----------
    values:
        Sequence, numpy array or pyarrow array of strings (``"4b8e2a"``, any
        case, exactly six hex digits) or integers in ``[0, 0xFFFFFF]``.
    what:
        Name used in the error message.

    Raises
    ------
    InputError
        Naming the first bad element (its index and value).
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array) and pa.types.is_integer(values.type):
        values = values.to_numpy(zero_copy_only=False)
    if not isinstance(values, pa.Array):
        arr = np.asarray(values)
        if arr.ndim == 0:
            arr = arr.reshape(1)
        if arr.dtype.kind in "iu":
            bad = (arr < 0) | (arr > 0xFFFFFF)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise InputError(f"element {i}: not a 24-bit address: {int(arr[i])}", field=what)
            return arr.astype(np.uint32)
        if arr.dtype.kind == "S":
            arr = arr.astype("U")
        try:
            values = pa.array(arr.ravel() if arr.dtype.kind == "U" else list(arr.ravel()), type=pa.string())
        except (pa.ArrowException, TypeError, ValueError):
            i = next(i for i, v in enumerate(arr.ravel()) if not isinstance(v, str))
            raise InputError(f"element {i}: not a 24-bit address in 6 hex digits: {arr.ravel()[i]!r}",
                             field=what) from None
    if len(values) == 0:
        return np.zeros(0, dtype=np.uint32)
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        raise InputError(f"expected hex strings or integers, got {values.type}", field=what)
    ok = pc.fill_null(pc.equal(pc.binary_length(values), 6), False).to_numpy(zero_copy_only=False)
    digits = None
    if ok.all():
        fixed = values.cast(pa.binary()).cast(pa.binary(6))
        buf = np.frombuffer(fixed.buffers()[1], dtype=np.uint8)
        raw = buf[fixed.offset * 6:(fixed.offset + len(fixed)) * 6].reshape(-1, 6)
        digits = _HEX_VALUE[raw]
        ok = (digits >= 0).all(axis=1)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise InputError(f"element {i}: not a 24-bit address in 6 hex digits: {values[i].as_py()!r}", field=what)
    return (digits.astype(np.uint32) * _WEIGHTS).sum(axis=1, dtype=np.uint32)


def format_icao24(addr: np.ndarray) -> pa.Array:
    """uint32 addresses -> pyarrow string array of 6 lowercase hex digits."""
    addr = np.asarray(addr, dtype=np.uint32)
    shifts = np.arange(20, -1, -4, dtype=np.uint32)
    nibbles = (addr[:, None] >> shifts) & 0xF
    chars = np.ascontiguousarray(_HEX_DIGITS[nibbles])
    data = pa.py_buffer(chars.tobytes())
    offsets = pa.py_buffer((np.arange(len(addr) + 1, dtype=np.int32) * 6).tobytes())
    return pa.Array.from_buffers(pa.string(), len(addr), [None, offsets, data])
