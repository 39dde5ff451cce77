"""The CLI contract that later work and outside checks rely on."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.processes import DOPPEL, TEST_KEY

pytestmark = pytest.mark.e2e
ENV = {**os.environ, "DOPPEL_KEY": TEST_KEY}


def run(args: list[str], stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DOPPEL, *args], input=stdin, capture_output=True, text=True, env=ENV, timeout=120
    )


def test_detect_reads_and_writes_json_lines_in_order() -> None:
    texts = [
        "mail jane.doe@acme-corp.com today",
        "nothing personal here",
        "card 4539 1488 0343 6467 and ip 203.0.113.77",
    ]
    lines = "".join(json.dumps({"text": t}) + "\n" for t in texts) * 300
    result = run(["detect"], lines)
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 900
    first, second, third = out[:3]
    (email,) = first["entities"]
    assert (email["start"], email["end"], email["type"]) == (5, 27, "EMAIL")
    assert isinstance(email["score"], float)
    assert second == {"entities": []}
    assert {e["type"] for e in third["entities"]} == {"CREDIT_CARD", "IP_ADDRESS"}
    for e in third["entities"]:
        assert texts[2][e["start"] : e["end"]] in ("4539 1488 0343 6467", "203.0.113.77")
    assert out[3:6] == out[:3]


def test_detect_keeps_lines_aligned_on_bad_input_and_fails() -> None:
    result = run(["detect"], '{"text": "a@b.example.com x"}\nnot json\n{"text": "ok"}\n')
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 1
    assert len(out) == 3 and "error" in out[1] and "not json" not in out[1]["error"]


def test_mask_replaces_personal_data_and_nothing_else() -> None:
    text = "Write to jane.doe@acme-corp.com about invoice INV-2024-0042.\n"
    result = run(["mask"], text)
    assert result.returncode == 0
    assert "jane.doe@acme-corp.com" not in result.stdout
    assert result.stdout.startswith("Write to ") and result.stdout.endswith(
        " about invoice INV-2024-0042.\n"
    )
    assert "@" in result.stdout
    assert run(["mask"], text).stdout == result.stdout  # same key, same double
