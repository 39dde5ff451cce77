"""Engine speed: pattern detection + masking of a 2 KB prompt, restoring a 2 KB answer, and
streaming restore of that answer in 4-character deltas. Reports µs per KB.

    python -m bench.engine_speed            # writes bench/reports/engine.md
"""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from engine import build_engine

PARAGRAPH = (
    "Hi team, following up on ticket 48213 from yesterday. The customer, reachable at "
    "jane.doe@acme-corp.com or +1 415-555-0134, says the charge of $1,249.00 on card "
    "4539 1488 0343 6467 was made twice. Their IBAN for the refund is DE89 3704 0044 0532 0130 00. "
    "Logs show logins from 203.0.113.77 at 2024-03-14T09:12:44Z running app version 4.12.3; "
    "request id 9f1c2e7a-5b1d-4c3e-9a77-0f3e2d1c4b5a. Please draft a polite reply that confirms "
    "the refund, mentions the five to seven business days it takes, and asks them to verify "
    "their billing address before we proceed. Keep it under 120 words and friendly. "
)
REPORT = Path(__file__).parent / "reports" / "engine.md"


def prompt_of(size: int) -> str:
    text = ""
    while len(text) < size:
        text += PARAGRAPH
    return text[:size]


def per_call_us(fn: Callable[[], object], seconds: float = 2.0) -> tuple[float, float]:
    """Median and p95 of one call, in µs."""
    for _ in range(20):
        fn()
    samples = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        t = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - t) / 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95)]


def main() -> None:
    engine = build_engine(b"bench-key", cache_size=0, model=False)
    prompt = prompt_of(2048)
    kb = len(prompt.encode()) / 1024
    session = engine.session()
    masked = session.mask(prompt)
    restorer = session.restorer()

    def mask() -> None:
        engine.session().mask(prompt)

    def restore() -> None:
        restorer.restore(masked)

    deltas = [masked[i : i + 4] for i in range(0, len(masked), 4)]

    def stream() -> None:
        s = restorer.stream()
        for d in deltas:
            s.feed(d)
        s.flush()

    rows = []
    for name, fn in [("detect + mask (fresh session)", mask), ("restore, one pass", restore),
                     (f"restore, streamed ({len(deltas)} deltas of 4 chars)", stream)]:
        p50, p95 = per_call_us(fn)
        rows.append((name, p50, p95, p50 / kb))
    lines = [
        "# Engine benchmark (patterns only)",
        "",
        f"`python -m bench.engine_speed` on {platform.machine()}, {platform.python_version()}, "
        f"prompt {len(prompt.encode())} bytes with {session.replacements} entities "
        f"({', '.join(f'{k} {v}' for k, v in sorted(session.counts.items()))}); cache off.",
        "",
        "| step | p50 µs | p95 µs | p50 µs per KB |",
        "|---|---:|---:|---:|",
        *(f"| {n} | {p50:.0f} | {p95:.0f} | {per_kb:.0f} |" for n, p50, p95, per_kb in rows),
        "",
    ]
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
