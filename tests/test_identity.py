"""Aircraft identity: ICAO allocation blocks, military blocks, callsign rules, watchlists."""

from __future__ import annotations

import pyarrow as pa
import pytest

import skyfence
from skyfence import InputError
from skyfence.identity import COLUMNS, identify


def rows(table: pa.Table) -> list[dict]:
    return table.to_pylist()


def test_known_examples_resolve_to_their_state():
    t = identify(["4b8e2a", "3B7777", "ae0455"])
    assert t.column_names == list(COLUMNS)
    assert t.column("country").to_pylist() == ["Turkey", "France", "United States"]
    assert t.column("state").to_pylist() == ["TUR", "FRA", "USA"]
    assert t.column("icao24").to_pylist() == ["4b8e2a", "3b7777", "ae0455"]
    assert all(isinstance(v, str) for v in t.column("evidence").to_pylist())


def test_integers_and_strings_give_the_same_identity():
    assert identify([0x4B8E2A, 0x3B7777]).equals(identify(["4b8e2a", "3b7777"]))


def test_lazy_export():
    assert skyfence.identify is identify
    assert "identify" in skyfence.__all__ and "read_watchlist" in skyfence.__all__


@pytest.mark.parametrize("bad", ["4b8e2", "4b8e2a1", "zzzzzz", None, "4b8e2 "])
def test_bad_address_is_an_input_error(bad):
    with pytest.raises(InputError, match="element 1"):
        identify(["4b8e2a", bad])
