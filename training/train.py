"""Fine-tune the Rampart encoder as Doppel's PII tagger (and optionally distil a smaller student).

    # the 6-layer tagger, initialised from Rampart (new head, warm-started where labels match)
    .venv/bin/python -m training.train --layers 6 --steps 1000 --out /tmp/doppel-train/teacher
    # a 3-layer student: every other teacher layer, trained on labels + the teacher's soft labels
    .venv/bin/python -m training.train --layers 3 --teacher /tmp/doppel-train/teacher \
        --steps 900 --out /tmp/doppel-train/student

Each run writes ``model.pt`` (state dict + config + labels) and ``metrics.json`` (token F1 and
entity recall on the held-out templates and the held-out locales) to ``--out``. Nothing is
written to the repository; ``training/export.py`` turns a run into the shipped ONNX model.
Logs carry counts and timings only, never example text.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer
from torch import nn

from training.bert import BertConfig, BertTagger
from training.data import LABELS, RECIPE_VERSION, TYPES, Example, Generator
from training.rampart import load_rampart_state, rampart_dir, to_tagger_state

# Rampart label -> Doppel label, to warm-start the new head's rows.
RAMPART_TO_DOPPEL = {
    "GIVEN_NAME": "GIVEN_NAME", "SURNAME": "SURNAME", "EMAIL": "EMAIL", "PHONE": "PHONE",
    "URL": "URL", "TAX_ID": "NATIONAL_ID", "BANK_ACCOUNT": "IBAN", "GOVERNMENT_ID": "SSN",
    "PASSPORT": "PASSPORT", "DRIVERS_LICENSE": "DRIVER_LICENSE", "STREET_NAME": "STREET",
    "SECONDARY_ADDRESS": "SECONDARY_ADDRESS", "CITY": "CITY", "STATE": "STATE",
    "ZIP_CODE": "POSTAL_CODE",
}  # fmt: skip

IGNORE = -100


def tokenizer() -> Tokenizer:
    tok = Tokenizer.from_file(str(rampart_dir() / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    return tok


# Types the pattern detectors find for sure: at run time the model detector feeds each such span
# as its first token only (engine/detectors/model.py), so training shows the model that too.
STAND_IN_TYPES = frozenset(
    {"EMAIL", "PHONE", "IBAN", "CREDIT_CARD", "IP_ADDRESS", "URL", "SSN", "NATIONAL_ID"}
)
STAND_IN_P = 0.5  # share of examples whose sure spans are shown as stand-ins


def encode(
    tok: Tokenizer, ex: Example, max_len: int, rng: random.Random | None = None
) -> tuple[list[int], list[int], bool]:
    """Token ids and BIO label ids (first token of a span B-, the rest I-). With ``rng``, half
    of the examples show their STAND_IN_TYPES spans as the model detector feeds them: the first
    token alone, unlabelled. The flag says whether it did."""
    enc = tok.encode(ex.text)
    ids, offsets = enc.ids, enc.offsets
    special = list(enc.special_tokens_mask)  # stand-ins are marked in it below
    drop: set[int] = set()
    if rng is not None and rng.random() < STAND_IN_P:
        for s0, e0, t in ex.spans:
            if t in STAND_IN_TYPES:
                inside = [i for i, (s, e) in enumerate(offsets) if s0 <= s and e <= e0 and e > s]
                drop.update(inside[1:])
                for i in inside[:1]:
                    special[i] = 1  # kept, but not labelled
    labels = []
    spans = sorted(ex.spans)
    j = 0
    began: set[int] = set()
    for i, (s, e) in enumerate(offsets):
        if special[i]:
            labels.append(IGNORE)
            continue
        while j < len(spans) and spans[j][1] <= s:
            j += 1
        lab = 0
        if j < len(spans) and spans[j][0] < e and s < spans[j][1]:
            t = spans[j][2]
            prefix = "I" if j in began else "B"
            began.add(j)
            lab = LABELS.index(f"{prefix}-{t}")
        labels.append(lab)
    if drop:
        ids = [x for i, x in enumerate(ids) if i not in drop]
        labels = [x for i, x in enumerate(labels) if i not in drop]
    if len(ids) > max_len:
        ids = [*ids[: max_len - 1], ids[-1]]
        labels = [*labels[: max_len - 1], IGNORE]
    return ids, labels, bool(drop)


def batches(gen: Generator, tok: Tokenizer, size: int, max_len: int, seed: int = 0):
    rng = random.Random(seed)
    while True:
        rows = [encode(tok, gen.example(), max_len, rng) for _ in range(size)]
        n = max(len(r[0]) for r in rows)
        ids = torch.zeros(size, n, dtype=torch.long)
        mask = torch.zeros(size, n, dtype=torch.long)
        lab = torch.full((size, n), IGNORE, dtype=torch.long)
        for k, (i, lb, _) in enumerate(rows):
            ids[k, : len(i)] = torch.tensor(i)
            mask[k, : len(i)] = 1
            lab[k, : len(lb)] = torch.tensor(lb)
        plain = torch.tensor([not stood_in for *_, stood_in in rows])
        yield ids, mask, lab, plain


class OnnxTeacher:
    """Soft labels from an exported model folder (``model.int8.onnx`` outputs probabilities)."""

    def __init__(self, folder: Path, threads: int) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(
            str(folder / "model.int8.onnx"), opts, providers=["CPUExecutionProvider"]
        )

    def __call__(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        (probs,) = self.session.run(
            ["probs"], {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}
        )
        return torch.from_numpy(probs)


def init_from_rampart(layers: int) -> BertTagger:
    state, rampart_labels = load_rampart_state()
    tstate = to_tagger_state(state)
    model = BertTagger(BertConfig(num_hidden_layers=layers, num_labels=len(LABELS)))
    keep = {k: v for k, v in tstate.items() if not k.startswith("classifier.")}
    keep = select_layers(keep, 6, layers)
    model.load_state_dict(keep, strict=False)
    with torch.no_grad():  # warm-start the head rows whose labels Rampart already has
        w, b = tstate["classifier.weight"], tstate["classifier.bias"]
        model.classifier.weight.mul_(0.1)
        model.classifier.bias.zero_()
        for i, lab in enumerate(rampart_labels):
            if lab == "O":
                model.classifier.weight[0] = w[i]
                model.classifier.bias[0] = b[i]
                continue
            p, t = lab.split("-", 1)
            if t in RAMPART_TO_DOPPEL:
                j = LABELS.index(f"{p}-{RAMPART_TO_DOPPEL[t]}")
                model.classifier.weight[j] = w[i]
                model.classifier.bias[j] = b[i]
    return model


def select_layers(state: dict, have: int, want: int) -> dict:
    """Keep ``want`` of ``have`` encoder layers, evenly spread (6 -> 3 keeps 1, 3, 5)."""
    if want == have:
        return state
    picked = [round((i + 1) * have / want) - 1 for i in range(want)]
    out = {}
    for k, v in state.items():
        if k.startswith("layers."):
            idx, rest = k.split(".", 2)[1:]
            if int(idx) in picked:
                out[f"layers.{picked.index(int(idx))}.{rest}"] = v
        else:
            out[k] = v
    return out


def load_run(path: Path) -> tuple[BertTagger, dict]:
    blob = torch.load(path / "model.pt", weights_only=False)
    model = BertTagger(BertConfig(**blob["config"]))
    model.load_state_dict(blob["state"])
    return model.eval(), blob


# ---------------------------------------------------------------------------------------------
# Evaluation on held-out data (token F1, entity recall by letters and digits covered)


def predict_labels(model: BertTagger, ids: list[int]) -> list[int]:
    with torch.no_grad():
        t = torch.tensor([ids])
        return model(t, torch.ones_like(t))[0].argmax(-1).tolist()


def evaluate(model: BertTagger, tok: Tokenizer, examples: list[Example], max_len: int) -> dict:
    model.eval()
    tp = fp = fn = 0
    caught: dict[str, int] = {}
    total: dict[str, int] = {}
    for ex in examples:
        ids, gold, _ = encode(tok, ex, max_len)
        pred = predict_labels(model, ids)
        offsets = tok.encode(ex.text).offsets
        masked = np.zeros(len(ex.text) + 1, dtype=bool)
        for i, (g, p) in enumerate(zip(gold, pred)):
            if g == IGNORE:
                continue
            gt = LABELS[g][2:] if g else None
            pt = LABELS[p][2:] if p else None
            if pt is not None:
                s, e = offsets[i]
                masked[s:e] = True
            if gt is not None and pt == gt:
                tp += 1
            else:
                fp += pt is not None
                fn += gt is not None
        limit = offsets[len(ids) - 2][1] if len(ids) > 2 else 0
        for s, e, t in ex.spans:
            if e > limit:
                continue
            total[t] = total.get(t, 0) + 1
            ok = all(masked[k] for k in range(s, e) if ex.text[k].isalnum())
            caught[t] = caught.get(t, 0) + ok
    p = tp / max(1, tp + fp)
    r = tp / max(1, tp + fn)
    return {
        "token_f1": round(2 * p * r / max(1e-9, p + r), 4),
        "token_precision": round(p, 4),
        "token_recall": round(r, 4),
        "entity_recall": round(sum(caught.values()) / max(1, sum(total.values())), 4),
        "entity_recall_by_type": {t: round(caught[t] / total[t], 3) for t in sorted(total)},
        "examples": len(examples),
    }


def heldout(split: str, n: int, seed: int) -> list[Example]:
    gen = Generator(split, seed)
    return [gen.example() for _ in range(n)]


# ---------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--teacher", type=Path, help="distil from this run (soft labels)")
    ap.add_argument(
        "--teacher-onnx", type=Path, help="distil from this exported model (e.g. engine/model)"
    )
    ap.add_argument("--init", type=Path, help="start from this run's weights (same layers)")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--max-len", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-n", type=int, default=300)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    tok = tokenizer()

    # The teacher gives soft labels (probabilities); the student starts from an earlier run
    # (--init), from the torch teacher's own layers, or from Rampart's.
    teacher: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None
    model: BertTagger | None = None
    if args.teacher_onnx is not None:
        teacher = OnnxTeacher(args.teacher_onnx, args.threads)
    elif args.teacher is not None:
        teacher_model, _ = load_run(args.teacher)
        state = select_layers(
            teacher_model.state_dict(), teacher_model.config.num_hidden_layers, args.layers
        )
        model = BertTagger(BertConfig(num_hidden_layers=args.layers, num_labels=len(LABELS)))
        model.load_state_dict(state)
        teacher = lambda ids, mask: teacher_model(ids, mask).softmax(-1)  # noqa: E731
    if args.init is not None:
        model, _ = load_run(args.init)
    elif model is None:
        model = init_from_rampart(args.layers)
    model.train()

    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warmup = max(1, args.steps // 20)

    def lr_at(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, 0.5 * (1 + math.cos(math.pi * (step - warmup) / (args.steps - warmup))))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    ce = nn.CrossEntropyLoss(ignore_index=IGNORE)
    gen = Generator("train", args.seed)
    t0 = time.time()
    log_every = 50
    running = 0.0
    for step, (ids, mask, lab, plain) in enumerate(
        batches(gen, tok, args.batch, args.max_len, args.seed)
    ):
        if step >= args.steps:
            break
        logits = model(ids, mask)
        loss = ce(logits.reshape(-1, logits.shape[-1]), lab.reshape(-1))
        if teacher is not None and bool(plain.any()):
            # soft labels only for examples shown as written (the teacher never saw stand-ins)
            with torch.no_grad():
                soft = teacher(ids[plain], mask[plain])
            keep = lab[plain].reshape(-1) != IGNORE
            log_p = logits[plain].reshape(-1, logits.shape[-1])[keep].log_softmax(-1)
            kd = -(soft.reshape(-1, soft.shape[-1])[keep] * log_p).sum(-1).mean()
            loss = 0.5 * loss + 0.5 * kd
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        running += loss.item()
        if (step + 1) % log_every == 0:
            el = time.time() - t0
            print(
                f"step {step + 1}/{args.steps} loss {running / log_every:.4f} "
                f"{el / (step + 1):.2f}s/step elapsed {el / 60:.1f} min",
                flush=True,
            )
            running = 0.0
    train_s = time.time() - t0
    model.eval()
    config = asdict(model.config)
    torch.save(
        {
            "state": model.state_dict(),
            "config": config,
            "labels": LABELS,
            "types": TYPES,
            "stand_in_types": sorted(STAND_IN_TYPES),
        },
        args.out / "model.pt",
    )
    print(f"trained {args.steps} steps in {train_s / 60:.1f} min; evaluating", flush=True)
    metrics = {
        "layers": args.layers,
        "steps": args.steps,
        "batch": args.batch,
        "max_len": args.max_len,
        "distilled_from": str(args.teacher or args.teacher_onnx or "") or None,
        "train_seconds": round(train_s),
        "recipe_version": RECIPE_VERSION,
        "heldout_templates": evaluate(
            model, tok, heldout("heldout_templates", args.eval_n, 1001), 256
        ),
        "heldout_locales": evaluate(model, tok, heldout("heldout_locales", args.eval_n, 1002), 256),
    }
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(json.dumps(metrics, indent=2), flush=True)


if __name__ == "__main__":
    main()
