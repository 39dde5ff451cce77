"""Quality of what ``doppel detect`` finds (patterns + the NER model), on labelled text it never
trained on.

Data sets:
* presidio-research's synthetic set (``../shared/data/presidio_synth_dataset_v2.json``, 1,500
  sentences, MIT): an external benchmark. Only measured: nothing is trained or tuned on it.
* the project's held-out split from ``training/data.py``: templates never trained on (seven
  core locales) and locales never trained on (pl_PL, sv_SE).

Scoring (the leak is the unit):
* recall: a gold entity counts as caught only when masking covers all of it. Predicted spans of
  any type are united; every letter and digit of the gold value must lie inside that union
  (names and addresses are predicted by parts, "Jane" + "Doe", so the space between two parts
  is not required; ``strict`` also requires every character, spaces and punctuation included).
* precision: a predicted span is correct when it overlaps any gold span of any label.

The detector runs exactly as the product does: ``doppel detect`` is started as a subprocess
and fed JSON lines (``--in-process`` calls ``build_engine().detect`` instead, same result).

    .venv/bin/python bench/quality.py [--n-heldout 400] [--show-misses]

Writes ``bench/reports/quality.md`` and ``bench/reports/quality.json``. The report holds
counts only; ``--show-misses`` prints missed values (synthetic data) to the terminal.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

# Run as a script, bench/ is first on sys.path, and bench/engine*.py could shadow the package.
_HERE = Path(__file__).resolve().parent
ROOT = _HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # for training.data (the held-out split generator)

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "presidio_synth_dataset_v2.json"
REPORTS = ROOT / "bench" / "reports"

# presidio labels that are personal data (the data set's README): recall is measured on these.
PRESIDIO_PERSONAL = (
    "PERSON", "STREET_ADDRESS", "PHONE_NUMBER", "EMAIL_ADDRESS", "CREDIT_CARD", "IBAN_CODE",
    "US_SSN", "IP_ADDRESS", "US_DRIVER_LICENSE", "ZIP_CODE",
)  # fmt: skip
PRESIDIO_OTHER = ("GPE", "ORGANIZATION", "DATE_TIME", "TITLE", "AGE", "NRP", "DOMAIN_NAME")

NAME_ADDRESS = ("GIVEN_NAME", "SURNAME", "STREET", "SECONDARY_ADDRESS", "CITY", "POSTAL_CODE")


# ---------------------------------------------------------------------------------------------
# Running the detector


def doppel_command() -> list[str]:
    exe = Path(sys.executable).parent / "doppel"
    if exe.exists():
        return [str(exe), "detect"]
    found = shutil.which("doppel")
    if found:
        return [found, "detect"]
    return [sys.executable, "-c", "import sys; from extproc.cli import main; sys.exit(main())",
            "detect"]  # fmt: skip


def detect_cli(texts: list[str]) -> tuple[list[list[dict]], float]:
    """Entities per text from ``doppel detect`` (one process, JSON lines in and out)."""
    t0 = time.perf_counter()
    payload = "".join(json.dumps({"text": t}) + "\n" for t in texts)
    proc = subprocess.run(
        doppel_command(), input=payload, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"doppel detect failed ({proc.returncode}): {proc.stderr[-2000:]}")
    rows = [json.loads(line)["entities"] for line in proc.stdout.splitlines()]
    if len(rows) != len(texts):
        raise SystemExit(f"doppel detect returned {len(rows)} lines for {len(texts)} texts")
    return rows, time.perf_counter() - t0


def detect_in_process(texts: list[str]) -> tuple[list[list[dict]], float]:
    from engine import build_engine

    engine = build_engine(b"quality-bench")
    t0 = time.perf_counter()
    rows = [
        [
            {"start": s.start, "end": s.end, "type": s.type, "score": s.score}
            for s in engine.detect(t)
        ]
        for t in texts
    ]
    return rows, time.perf_counter() - t0


# ---------------------------------------------------------------------------------------------
# Scoring


def covered(text: str, start: int, end: int, preds: list[dict], strict: bool) -> bool:
    inside = bytearray(end - start)
    for p in preds:
        lo, hi = max(start, p["start"]), min(end, p["end"])
        for k in range(lo, hi):
            inside[k - start] = 1
    return all(inside[k - start] for k in range(start, end) if strict or text[k].isalnum())


class Score:
    def __init__(self) -> None:
        self.gold: Counter[str] = Counter()
        self.caught: Counter[str] = Counter()
        self.caught_strict: Counter[str] = Counter()
        self.pred: Counter[str] = Counter()
        self.correct: Counter[str] = Counter()
        self.by_group: dict[str, Counter[str]] = defaultdict(Counter)
        self.misses: list[tuple[str, str, str]] = []

    def add(
        self,
        text: str,
        gold: list[tuple[int, int, str]],
        preds: list[dict],
        counted: set[str] | None,
        group: str | None = None,
    ) -> None:
        for s, e, label in gold:
            if counted is not None and label not in counted:
                continue
            self.gold[label] += 1
            ok = covered(text, s, e, preds, strict=False)
            self.caught[label] += ok
            self.caught_strict[label] += covered(text, s, e, preds, strict=True)
            if group is not None:
                self.by_group[group][label + "/gold"] += 1
                self.by_group[group][label + "/caught"] += ok
            if not ok:
                self.misses.append((label, text[s:e], text))
        for p in preds:
            self.pred[p["type"]] += 1
            if any(p["start"] < e and s < p["end"] for s, e, _ in gold):
                self.correct[p["type"]] += 1

    def summary(self) -> dict:
        g, c = sum(self.gold.values()), sum(self.caught.values())
        p, k = sum(self.pred.values()), sum(self.correct.values())
        return {
            "gold": g,
            "caught": c,
            "recall": round(c / max(1, g), 4),
            "recall_strict": round(sum(self.caught_strict.values()) / max(1, g), 4),
            "predicted": p,
            "correct": k,
            "precision": round(k / max(1, p), 4),
            "recall_by_label": {
                t: {
                    "gold": self.gold[t],
                    "caught": self.caught[t],
                    "recall": round(self.caught[t] / self.gold[t], 4),
                }
                for t in sorted(self.gold)
            },
            "precision_by_type": {
                t: {
                    "predicted": self.pred[t],
                    "correct": self.correct[t],
                    "precision": round(self.correct[t] / self.pred[t], 4),
                }
                for t in sorted(self.pred)
            },
            "by_group": {
                grp: {
                    t.removesuffix("/gold"): round(cnt[t.replace("/gold", "/caught")] / cnt[t], 3)
                    for t in sorted(cnt)
                    if t.endswith("/gold")
                }
                for grp, cnt in sorted(self.by_group.items())
            },
        }


def score_presidio(data: Path, detect) -> tuple[dict, dict, Score]:
    records = json.loads(data.read_text())
    texts = [r["full_text"] for r in records]
    preds, seconds = detect(texts)
    personal, other = Score(), Score()
    for r, p in zip(records, preds):
        gold = [(g["start_position"], g["end_position"], g["entity_type"]) for g in r["spans"]]
        personal.add(r["full_text"], gold, p, set(PRESIDIO_PERSONAL))
        other.add(r["full_text"], gold, p, set(PRESIDIO_OTHER))
    s = personal.summary()
    s["seconds"] = round(seconds, 2)
    s["texts"] = len(texts)
    s["other_labels_recall"] = other.summary()["recall_by_label"]
    return s, {}, personal


def score_heldout(split: str, n: int, seed: int, detect) -> tuple[dict, Score]:
    from training.data import Generator

    gen = Generator(split, seed)
    examples = [gen.example() for _ in range(n)]
    preds, seconds = detect([ex.text for ex in examples])
    score = Score()
    for ex, p in zip(examples, preds):
        locales = {part.get("locale") for part in ex.meta["parts"]} - {None}
        group = locales.pop() if len(locales) == 1 else None
        score.add(ex.text, [tuple(s) for s in ex.spans], p, None, group)
    s = score.summary()
    s["seconds"] = round(seconds, 2)
    s["texts"] = n
    return s, score


# ---------------------------------------------------------------------------------------------
# Report


def recall_table(s: dict) -> list[str]:
    lines = ["| gold label | gold | caught | recall |", "|---|---:|---:|---:|"]
    for t, v in s["recall_by_label"].items():
        lines.append(f"| {t} | {v['gold']} | {v['caught']} | {v['recall']:.3f} |")
    lines.append(f"| **all** | {s['gold']} | {s['caught']} | **{s['recall']:.3f}** |")
    return lines


def precision_table(s: dict) -> list[str]:
    lines = ["| predicted type | predicted | correct | precision |", "|---|---:|---:|---:|"]
    for t, v in s["precision_by_type"].items():
        lines.append(f"| {t} | {v['predicted']} | {v['correct']} | {v['precision']:.3f} |")
    lines.append(f"| **all** | {s['predicted']} | {s['correct']} | **{s['precision']:.3f}** |")
    return lines


def locale_table(s: dict) -> list[str]:
    types = [t for t in NAME_ADDRESS]
    lines = ["| locale | " + " | ".join(types) + " |", "|---" + "|---:" * len(types) + "|"]
    for loc, rec in s["by_group"].items():
        cells = [f"{rec[t]:.2f}" if t in rec else "-" for t in types]
        lines.append(f"| {loc} | " + " | ".join(cells) + " |")
    return lines


def write_report(results: dict, path_md: Path) -> None:
    p = results["presidio"]
    lines = [
        "# Detection quality (patterns + NER model)",
        "",
        f"Command: `{results['command']}` ({results['runner']}). Model: {results['model']}.",
        "",
        "Recall: a gold entity is caught only when the union of predicted spans covers every "
        "letter and digit of it (`strict`: every character). Precision: a predicted span is "
        "correct when it overlaps any gold span of any label.",
        "",
        "## presidio-research synthetic set (external, never trained on)",
        "",
        f"{p['texts']} sentences, {p['seconds']} s through `doppel detect`. Personal-data labels: "
        f"**recall {p['recall']:.3f}** (strict {p['recall_strict']:.3f}), "
        f"**precision {p['precision']:.3f}**. Target: recall ≥ 0.95 at precision ≥ 0.90.",
        "",
        *recall_table(p),
        "",
        *precision_table(p),
        "",
        "Labels that are not required (masking them is no false positive), recall for "
        "information: "
        + ", ".join(
            f"{k} {v['recall']:.2f} ({v['gold']})" for k, v in p["other_labels_recall"].items()
        )
        + ".",
        "",
    ]
    for key, title in (
        ("heldout_templates", "held-out templates, seven core locales"),
        ("heldout_locales", "held-out locales (pl_PL, sv_SE), never trained on"),
    ):
        h = results[key]
        lines += [
            f"## Project split: {title}",
            "",
            f"{h['texts']} synthetic texts (training/data.py, split `{key}`), {h['seconds']} s. "
            f"**Recall {h['recall']:.3f}** (strict {h['recall_strict']:.3f}), "
            f"**precision {h['precision']:.3f}**.",
            "",
            *recall_table(h),
            "",
            *precision_table(h),
            "",
            "Names and addresses by locale (recall):",
            "",
            *locale_table(h),
            "",
        ]
    path_md.write_text("\n".join(lines))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--n-heldout", type=int, default=400)
    ap.add_argument("--in-process", action="store_true", help="call build_engine() directly")
    ap.add_argument("--show-misses", action="store_true")
    ap.add_argument("--report", type=Path, default=REPORTS / "quality.md")
    args = ap.parse_args()
    detect = detect_in_process if args.in_process else detect_cli

    from engine.detectors.model import MODEL_DIR, MODEL_DIR_ENV

    model_dir = Path(os.environ.get(MODEL_DIR_ENV) or MODEL_DIR)  # the one `doppel detect` loads
    manifest = json.loads((model_dir / "manifest.json").read_text())
    arch = manifest.get("architecture", {})
    results: dict = {
        "command": "python bench/quality.py" + (" --in-process" if args.in_process else ""),
        "runner": "build_engine().detect" if args.in_process else "doppel detect subprocess",
        "model": f"{arch.get('layers')}-layer int8, recipe {manifest.get('recipe_version')}, "
        f"sha256 {manifest['files']['model.int8.onnx']['sha256'][:12]}",
    }
    results["presidio"], _, pres = score_presidio(args.data, detect)
    print(f"presidio: recall {results['presidio']['recall']} precision "
          f"{results['presidio']['precision']}", flush=True)  # fmt: skip
    scores = {"presidio": pres}
    for split, seed in (("heldout_templates", 5001), ("heldout_locales", 5002)):
        results[split], scores[split] = score_heldout(split, args.n_heldout, seed, detect)
        print(f"{split}: recall {results[split]['recall']} precision "
              f"{results[split]['precision']}", flush=True)  # fmt: skip
    if args.show_misses:
        for name, sc in scores.items():
            for label, value, _text in sc.misses:
                print(f"MISS {name:18} {label:18} {value!r}")
    args.report.parent.mkdir(parents=True, exist_ok=True)
    write_report(results, args.report)
    args.report.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
