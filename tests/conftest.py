"""Shared test fixtures.

Tests that read the real data in ``../shared/data`` use the ``shared_data``
fixture.  Without that folder they are skipped, except when
``SKYFENCE_REQUIRE_SHARED=1`` (set by ``make test``), where its absence fails
the run: CI must never pass by skipping the real-data tests.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED.is_dir():
        if os.environ.get("SKYFENCE_REQUIRE_SHARED") == "1":
            pytest.fail(f"{SHARED} is missing and SKYFENCE_REQUIRE_SHARED=1")
        pytest.skip("../shared/data not present")
    return SHARED


@pytest.fixture(scope="session")
def test_data() -> Path:
    return HERE / "data"
