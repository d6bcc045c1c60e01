"""Arrow arrays to numpy and back through their buffers, without pyarrow's pandas hooks.

pyarrow's own conversions (``Array.to_numpy``, ``pa.array``, ``pa.scalar``, compute
functions given Python scalars, ``pyarrow.dataset``) first ask whether an object is a
pandas one, and the first such question imports pandas: 0.24 s of CPU, a third of
``skyfence detect`` on a small file, spent on nothing.  Reading Parquet, CSV and traffic
JSON tracks and writing the episode table in every format go through these functions
instead (``tests/test_cli.py::test_detect_does_not_import_pandas`` pins it); pandas
is still imported where it is used (``to_pandas``, text numbers pyarrow cannot parse,
the policy and warning tables, readers of small Python-object formats).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def combined(arr):
    """One Arrow array from an array or a chunked array (its chunks joined)."""
    if isinstance(arr, pa.ChunkedArray):
        if arr.num_chunks == 1:
            return arr.chunk(0)
        if arr.num_chunks == 0:
            return pa.Array.from_buffers(arr.type, 0, [None] * arr.type.num_buffers)
        return arr.combine_chunks()
    return arr


def _bits(buf, offset: int, n: int) -> np.ndarray:
    """``n`` bits of an Arrow bitmap from bit ``offset``, as booleans."""
    first = offset // 8
    raw = np.frombuffer(buf, np.uint8, count=(offset + n + 7) // 8 - first, offset=first)
    return np.unpackbits(raw, bitorder="little")[offset % 8 : offset % 8 + n].view(bool)


def nulls(arr) -> np.ndarray | None:
    """Where an Arrow array (or chunked array) is null; None when it has no null."""
    arr = combined(arr)
    if not arr.null_count:
        return None
    if pa.types.is_null(arr.type):
        return np.ones(len(arr), bool)
    valid = arr.buffers()[0]
    return ~_bits(valid, arr.offset, len(arr))


def to_numpy(arr, fill=None) -> np.ndarray:
    """The values of an Arrow array of numbers, booleans or timestamps as numpy
    (read-only when they share Arrow's memory); nulls set to ``fill`` (a copy), or
    left as the bytes under them when ``fill`` is None."""
    arr = combined(arr)
    t = arr.type
    n = len(arr)
    if pa.types.is_boolean(t):
        out = _bits(arr.buffers()[1], arr.offset, n)
    elif pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_temporal(t):
        if pa.types.is_floating(t):
            dtype = np.dtype(f"float{t.bit_width}")
        elif pa.types.is_unsigned_integer(t):
            dtype = np.dtype(f"uint{t.bit_width}")
        else:
            dtype = np.dtype(f"int{t.bit_width}")
        data = arr.buffers()[1]
        if data is None:
            out = np.zeros(n, dtype)
        else:
            out = np.frombuffer(data, dtype, count=n, offset=arr.offset * dtype.itemsize)
    else:
        raise TypeError(f"no numpy view of Arrow {t}")
    if fill is not None and arr.null_count:
        if arr.null_count == n:
            return np.full(n, fill, out.dtype)
        out = np.where(nulls(arr), fill, out)  # one pass: a copy with the nulls filled
    return out


def from_numpy(values: np.ndarray, mask: np.ndarray | None = None):
    """An Arrow array sharing a numpy array's memory (numbers or booleans, 1-d);
    ``mask``: where it is null."""
    values = np.ascontiguousarray(values)
    n = len(values)
    valid = None
    if mask is not None and mask.any():
        valid = pa.py_buffer(np.packbits(~mask, bitorder="little"))
    if values.dtype == bool:
        return pa.Array.from_buffers(pa.bool_(), n, [valid, pa.py_buffer(np.packbits(values, bitorder="little"))])
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), n, [valid, pa.py_buffer(values)])


def strings(values) -> pa.Array:
    """Python strings (None: null) as an Arrow string array."""
    n = len(values)
    enc = [b"" if v is None else v.encode() for v in values]
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(np.fromiter(map(len, enc), np.int64, count=n), out=offsets[1:])
    typ = pa.string()
    if offsets[-1] < 2**31:
        offsets = offsets.astype(np.int32)
    else:
        typ = pa.large_string()
    missing = np.fromiter((v is None for v in values), bool, count=n)
    valid = pa.py_buffer(np.packbits(~missing, bitorder="little")) if missing.any() else None
    return pa.Array.from_buffers(typ, n, [valid, pa.py_buffer(offsets), pa.py_buffer(b"".join(enc))])


def words(codes: np.ndarray, vocab) -> pa.Array:
    """``vocab[codes]`` as an Arrow string array (a short vocabulary, many rows)."""
    import pyarrow.compute as pc

    return pc.take(strings(vocab), from_numpy(np.asarray(codes, np.int64)))


def timestamps(seconds: np.ndarray) -> pa.Array:
    """Epoch seconds as an Arrow UTC timestamp array (microseconds)."""
    us = np.round(np.asarray(seconds) * 1e6).astype(np.int64)
    return pa.Array.from_buffers(pa.timestamp("us", tz="UTC"), len(us), [None, pa.py_buffer(us)])


_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", np.uint8)


def hex24(addresses: np.ndarray) -> pa.Array:
    """24-bit addresses as 6-digit lower-case hex strings."""
    a = np.asarray(addresses, np.int64)
    digits = _HEX_DIGITS[(a[:, None] >> np.arange(20, -1, -4)) & 0xF]
    offsets = np.arange(len(a) + 1, dtype=np.int32) * 6
    return pa.Array.from_buffers(pa.string(), len(a), [None, pa.py_buffer(offsets), pa.py_buffer(digits.tobytes())])


def table(columns: dict, schema) -> pa.Table:
    """A table of ``schema`` from Arrow arrays, numpy arrays of numbers or booleans
    (cast to the field's type when it differs) and object arrays of strings."""
    out = []
    for field in schema:
        v = columns[field.name]
        if not isinstance(v, pa.Array):
            v = strings(v) if v.dtype == object else from_numpy(v)
        out.append(v if v.type == field.type else v.cast(field.type))
    return pa.Table.from_arrays(out, schema=schema)
