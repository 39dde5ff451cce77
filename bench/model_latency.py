"""Latency of the NER model detector, and of the whole engine's detect, on 0.5 / 2 / 8 KB prompts.

    .venv/bin/python bench/model_latency.py [--repeat 40]

For 1 and 2 onnxruntime threads: p50 and p99 of ``ModelDetector.detect`` (tokenise, windows,
ONNX, decoding) and of ``Engine.detect`` with the detection cache off (every pattern detector
plus the model), on prompts that mix personal data with technical text. Writes
``bench/reports/model_latency.md`` and ``.json``. The machine is shared: numbers are noisy, so
each figure is the median over ``--repeat`` runs after a warm-up; the load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent
ROOT = _HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

REPORTS = ROOT / "bench" / "reports"

# Written for this bench (not from any data set): a support conversation with personal data,
# code and logs, repeated and cut to size.
BASE = (
    "Hi, I need help replying to a customer. Ticket 48213 was opened on 14 March 2024 by "
    "Margaret Ellison (margaret.ellison@example.org, +44 20 7946 0958). She lives at "
    "27 Kingsley Road, Flat 3, Leeds LS6 2AB and was born on 02/11/1979. Her order 771-2231 "
    "for a ThinkPad X1 Carbon was delivered to her old address, 9 Harbour Street, Whitby, "
    "instead. She also asked whether her colleague Jürgen Baumann from Baumann & Söhne GmbH, "
    "Lindenstraße 12, 80331 München, can pick it up. Her username is mellison79 and she says "
    "the portal rejected her password Spring2024! three times.\n"
    "def refund(order_id: str, amount: Decimal) -> Refund:\n"
    "    log.info('refund %s for %s', amount, order_id)  # request_id=req_7f3c2a1e9b\n"
    "    return gateway.refund(order_id, amount, idempotency_key=uuid4().hex)\n"
    "2024-03-14T10:32:08.004Z INFO [http] GET /api/v2/orders/10442 200 3.1ms\n"
    "Please draft a polite answer in French for Mme Élodie Marchand, 14 rue des Lilas, "
    "69003 Lyon, and one in Spanish for Sr. Javier Ortega Ruiz, Calle Mayor 5, 3º B, "
    "28013 Madrid. Keep it short and mention the refund of €89.90 to IBAN "
    "ES91 2100 0418 4502 0005 1332.\n"
)


def prompt(size: int) -> str:
    text = BASE * (size // len(BASE) + 1)
    cut = text.rfind(" ", 0, size)
    return text[:cut]


def timed(fn, text: str, repeat: int) -> dict:
    fn(text)  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(text)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 2),
        "runs": repeat,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repeat", type=int, default=40)
    ap.add_argument("--report", type=Path, default=REPORTS / "model_latency.md")
    ap.add_argument("--model-dir", type=Path, help="another model folder (default: shipped)")
    ap.add_argument("--max-tokens", type=int, default=256, help="window size in tokens")
    args = ap.parse_args()

    from engine import build_engine
    from engine.detectors.model import ModelDetector

    sizes = (512, 2048, 8192)
    rows = []
    load0 = os.getloadavg()[0]
    for threads in (1, 2):
        det = ModelDetector(args.model_dir, threads=threads, max_tokens=args.max_tokens)
        engine = build_engine(b"latency-bench", cache_size=0, model=False)
        engine.detectors = [*engine.detectors, det]
        for size in sizes:
            text = prompt(size)
            tokens = len(det._model.tokenizer.encode(text, add_special_tokens=False).ids)
            model = timed(lambda t, d=det: list(d.detect(t)), text, args.repeat)
            whole = timed(engine.detect, text, args.repeat)
            rows.append(
                {"threads": threads, "bytes": len(text.encode()), "tokens": tokens,
                 "model": model, "engine": whole}
            )  # fmt: skip
            print(rows[-1], flush=True)
    load1 = os.getloadavg()[0]
    from engine.detectors.model import MODEL_DIR

    manifest = json.loads(((args.model_dir or MODEL_DIR) / "manifest.json").read_text())
    result = {
        "command": "python bench/model_latency.py"
        + (f" --model-dir {args.model_dir}" if args.model_dir else "")
        + (f" --max-tokens {args.max_tokens}" if args.max_tokens != 256 else ""),
        "model_layers": manifest.get("architecture", {}).get("layers"),
        "model_dir": str(args.model_dir) if args.model_dir else "engine/model (shipped)",
        "window_tokens": args.max_tokens,
        "cpu_count": os.cpu_count(),
        "load_average_before_after": [round(load0, 2), round(load1, 2)],
        "rows": rows,
    }
    lines = [
        "# NER model latency",
        "",
        f"Command: `{result['command']}`. {result['model_layers']}-layer int8 model "
        f"({result['model_dir']}), windows of ≤ {args.max_tokens} tokens with 32 overlap, "
        f"batched. {os.cpu_count()} CPUs, load average {load0:.1f} → {load1:.1f} (shared "
        "machine: other processes compete). Median over "
        f"{args.repeat} runs after a warm-up.",
        "",
        "| threads | prompt | tokens | model p50 | model p99 | engine p50 | engine p99 |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['threads']} | {r['bytes'] / 1024:.1f} KB | {r['tokens']} | "
            f"{r['model']['p50_ms']} ms | {r['model']['p99_ms']} ms | "
            f"{r['engine']['p50_ms']} ms | {r['engine']['p99_ms']} ms |"
        )
    lines += [
        "",
        "`model`: ModelDetector.detect alone. `engine`: Engine.detect with the cache off (all "
        "pattern detectors + the model + overlap resolution). Target: ≤ 20 ms p50 for a 2 KB "
        "prompt on 2 cores.",
        "",
    ]
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text("\n".join(lines))
    args.report.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
