"""A short, bounded load run through the real gateway (the long one is `python -m bench.load`):
every request answered and restored, no errors, memory that does not climb."""

from __future__ import annotations

import pytest

from bench.load import run_load
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def test_concurrent_exchanges_all_succeed(stack: Stack) -> None:
    result = run_load(stack.gateway, concurrency=32, seconds=8, pid=stack.gateway_pid)
    assert result["ok"] > 50
    assert (result["errors"], result["wrong"]) == (0, 0)
    # a leak shows as steady growth; allow for allocator warm-up, not for climbing
    assert result["rss_mb_last_third"] < result["rss_mb_first_third"] * 1.25 + 20
