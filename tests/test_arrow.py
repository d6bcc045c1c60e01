"""skyfence._arrow: buffer-level conversions agree with pyarrow's own."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from skyfence import _arrow


@pytest.mark.parametrize(
    "typ, values",
    [
        (pa.float64(), [1.5, None, -2.0, 3.25, None, 7.0, 8.0, 9.0, 10.0, None, 11.0]),
        (pa.float32(), [1.5, None, -2.0, 3.25]),
        (pa.int64(), [1, None, -2, 3, 4, 5, 6, 7, 8, None]),
        (pa.int32(), [5, 6, None, 8]),
        (pa.uint16(), [5, 6, None, 65535]),
        (pa.bool_(), [True, False, None, True, True, False, True, None, False, True, True]),
        (pa.timestamp("ms"), [0, 1_700_000_000_000, None]),
    ],
)
@pytest.mark.parametrize("offset", [0, 1, 3])
def test_to_numpy_and_nulls_match_pyarrow(typ, values, offset):
    arr = pa.array(values, typ).slice(offset)  # offsets not on a byte boundary
    want_null = np.array([v is None for v in values[offset:]])
    got_null = _arrow.nulls(arr)
    assert (got_null if got_null is not None else np.zeros(len(arr), bool)).tolist() == want_null.tolist()
    fill = np.nan if pa.types.is_floating(typ) else False if pa.types.is_boolean(typ) else 0
    got = _arrow.to_numpy(arr, fill=fill)
    want = arr.fill_null(pa.scalar(fill, typ))
    assert np.array_equal(got.astype(float), want.to_numpy(zero_copy_only=False).astype(float), equal_nan=True)


def test_chunked_arrays_are_combined():
    arr = pa.chunked_array([pa.array([1.0, None]), pa.array([3.0])])
    assert np.array_equal(_arrow.to_numpy(arr, fill=np.nan), [1.0, np.nan, 3.0], equal_nan=True)
    assert _arrow.nulls(arr).tolist() == [False, True, False]
    assert _arrow.to_numpy(pa.chunked_array([], pa.float64())).shape == (0,)


def test_to_numpy_refuses_strings():
    with pytest.raises(TypeError):
        _arrow.to_numpy(pa.array(["a"]))


def test_from_numpy_round_trip_and_mask():
    v = np.array([1.0, np.nan, 3.0])
    arr = _arrow.from_numpy(v, mask=np.array([False, False, True]))
    assert arr.type == pa.float64() and arr.to_pylist()[0] == 1.0 and arr.to_pylist()[2] is None
    assert np.isnan(arr.to_pylist()[1])  # NaN stays a value, not a null
    assert _arrow.from_numpy(np.array([True, False, True])).to_pylist() == [True, False, True]
    assert _arrow.from_numpy(np.arange(3, dtype=np.int32)).type == pa.int32()


def test_strings_words_hex_and_timestamps():
    assert _arrow.strings(["a", None, "Türkiye", ""]).to_pylist() == ["a", None, "Türkiye", ""]
    assert _arrow.strings([]).to_pylist() == []
    assert _arrow.words(np.array([2, 0, 0, 1]), ["x", "y", "z"]).to_pylist() == ["z", "x", "x", "y"]
    assert _arrow.hex24(np.array([0, 0xABC123, 0xFFFFFF])).to_pylist() == ["000000", "abc123", "ffffff"]
    ts = _arrow.timestamps(np.array([1448349600.0005, 0.0]))
    assert ts.type == pa.timestamp("us", tz="UTC")
    assert ts.cast(pa.int64()).to_pylist() == [1448349600000500, 0]


def test_table_casts_to_the_schema():
    schema = pa.schema([("a", pa.float64()), ("b", pa.string()), ("c", pa.int64())])
    t = _arrow.table({"c": np.array([1, 2], np.int32), "b": np.array(["p", None], dtype=object),
                      "a": np.array([0.5, 1.5])}, schema)  # fmt: skip
    assert t.schema == schema and t.to_pydict() == {"a": [0.5, 1.5], "b": ["p", None], "c": [1, 2]}
