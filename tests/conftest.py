from __future__ import annotations

import pytest

from engine import Engine, build_engine

TEST_KEY = b"doppel-test-key"


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The real default engine with a fixed key, so doubles are reproducible."""
    return build_engine(TEST_KEY)
