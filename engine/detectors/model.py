"""The NER model detector: names, addresses, companies, dates of birth, usernames, passwords.

A BERT token classifier (fine-tuned here from Rampart, see ``training/``) shipped as an int8 ONNX
model in ``engine/model/``. One tokenizer and one ``onnxruntime`` session per process and model
folder, shared by every detector instance and safe for concurrent ``detect`` calls.

Text longer than one window is cut into windows of at most ``max_tokens`` tokens that overlap
by ``overlap`` tokens; each token takes its prediction from the window in which it sits farthest
from an edge, so every token sees context on both sides and the result does not depend on where
a window happens to start. Token predictions are decoded (BIO, per-type thresholds) into spans of
whole words: a span always starts and ends at a word boundary, so a name is never half masked.
Spans are not validated: a validated pattern span wins any overlap (``engine.spans``).
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.spans import Span

log = logging.getLogger(__name__)

MODEL_DIR = Path(__file__).resolve().parent.parent / "model"
MODEL_DIR_ENV = "DOPPEL_MODEL_DIR"  # another model folder (same layout), e.g. a new training run
THREADS_ENV = "DOPPEL_MODEL_THREADS"
# onnxruntime's worker threads spin between runs by default. Next to Envoy and the event loop on
# two cores that steals the CPU the run needs: one 256-token window took 36 ms p50 with spinning
# and 24 ms without while another process kept one core busy (17 vs 19 ms on an idle machine).
# Off unless DOPPEL_MODEL_SPIN=1.
SPIN_ENV = "DOPPEL_MODEL_SPIN"
MAX_WINDOW = 256  # tokens, [CLS] and [SEP] included
DEFAULT_OVERLAP = 32
BATCH = 8  # windows per session run
CLS, SEP = 2, 3  # the tokenizer's special tokens

# Characters that may join two words of one entity ("Jean-Pierre", "O'Brien", "Hauptstr. 5",
# "Viale Maria, 47", "Apt. 4").
_JOINERS = set(" \t-'’.,/#")
# Values whose punctuation is part of them: never trimmed ("Summer2024!", ")m@Q1vb@4").
_UNTRIMMED = frozenset({"PASSWORD", "USERNAME", "API_KEY"})


@dataclass(frozen=True)
class _Model:
    session: object  # onnxruntime.InferenceSession
    tokenizer: object  # tokenizers.Tokenizer
    labels: tuple[str, ...]
    types: tuple[str, ...]
    thresholds: dict[str, float]
    manifest: dict
    # Types whose sure pattern spans the model was trained to see as their first token alone
    # (labels.json "stand_in_types"; none for a model trained without stand-ins).
    stand_in_types: frozenset[str] = frozenset()


_models: dict[tuple[str, int], _Model] = {}
_models_lock = threading.Lock()


def default_threads() -> int:
    value = os.environ.get(THREADS_ENV)
    if value:
        return max(1, int(value))
    return max(1, min(2, os.cpu_count() or 1))


def load_model(model_dir: Path | str | None = None, threads: int | None = None) -> _Model:
    """The process-wide model for ``model_dir`` (default ``$DOPPEL_MODEL_DIR``, else the shipped
    one), loaded once; later calls share it."""
    if model_dir is None:
        model_dir = os.environ.get(MODEL_DIR_ENV) or MODEL_DIR
    threads = threads or default_threads()
    key = (str(Path(model_dir).resolve()), threads)
    with _models_lock:
        model = _models.get(key)
        if model is None:
            model = _load(Path(model_dir), threads)
            _models[key] = model
        return model


def _load(model_dir: Path, threads: int) -> _Model:
    import onnxruntime as ort
    from tokenizers import Tokenizer

    meta = json.loads((model_dir / "labels.json").read_text())
    manifest_path = model_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    spin = os.environ.get(SPIN_ENV, "0").strip() == "1"
    opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    session = ort.InferenceSession(
        str(model_dir / "model.int8.onnx"), opts, providers=["CPUExecutionProvider"]
    )
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    labels = tuple(meta["labels"])
    types = tuple(meta["types"])
    thresholds = {t: float(meta.get("thresholds", {}).get(t, 0.5)) for t in types}
    log.info("NER model loaded: %d labels, %d threads", len(labels), threads)
    stand_ins = frozenset(meta.get("stand_in_types", ()))
    return _Model(session, tokenizer, labels, types, thresholds, manifest, stand_ins)


def _inside(offsets: list[tuple[int, int]], spans: Sequence[Span]) -> np.ndarray:
    """For each token (character offsets), whether it lies wholly inside one of ``spans``."""
    starts = np.array([s.start for s in spans])
    ends = np.array([s.end for s in spans])
    order = np.argsort(starts)
    starts, ends = starts[order], np.maximum.accumulate(ends[order])
    tok = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
    k = np.searchsorted(starts, tok[:, 0], side="right") - 1  # last span starting at or before
    return (k >= 0) & (tok[:, 1] <= ends[np.maximum(k, 0)]) & (tok[:, 1] > tok[:, 0])


def plan_windows(n: int, size: int, overlap: int) -> list[tuple[int, int]]:
    """``[start, end)`` token windows of at most ``size`` covering ``0..n``, neighbours
    overlapping by at least ``overlap``: as few windows as that allows, all of one width and
    evenly spread (300 tokens run as two windows of 167, not 254 + 254)."""
    if n <= size:
        return [(0, n)]
    k = math.ceil((n - overlap) / (size - overlap))
    width = min(size, math.ceil((n + (k - 1) * overlap) / k) + 1)
    return [(i * (n - width) // (k - 1), i * (n - width) // (k - 1) + width) for i in range(k)]


def owner_of_tokens(n: int, windows: list[tuple[int, int]]) -> np.ndarray:
    """For each token, the window in which it is farthest from an edge."""
    best = np.full(n, -1, dtype=np.int64)
    depth = np.full(n, -1, dtype=np.int64)
    for w, (s, e) in enumerate(windows):
        idx = np.arange(s, e)
        d = np.minimum(idx - s, e - 1 - idx)
        # the text's own start and end are not window edges
        if s == 0:
            d = np.maximum(d, e - 1 - idx)
        if e == n:
            d = np.maximum(d, idx - s)
        better = d > depth[s:e]
        best[s:e][better] = w
        depth[s:e][better] = d[better]
    return best


class ModelDetector:
    """Free-text personal data from the shipped NER model (see the module docstring)."""

    name = "ModelDetector"
    # The engine runs it after the pattern detectors and passes their sure spans (validated, or
    # scored >= SURE_SCORE) as ``known`` (see ``Engine._detect``).
    reads_known_spans = True

    def __init__(
        self,
        model_dir: Path | str | None = None,
        *,
        threads: int | None = None,
        max_tokens: int = MAX_WINDOW,
        overlap: int = DEFAULT_OVERLAP,
        thresholds: dict[str, float] | None = None,
    ) -> None:
        if not 16 <= max_tokens <= MAX_WINDOW:
            raise ValueError(f"max_tokens must be within 16..{MAX_WINDOW}")
        if not 0 <= overlap < max_tokens // 2:
            raise ValueError("overlap must be below half the window")
        self._model = load_model(model_dir, threads)
        self.entity_types = self._model.types
        self.max_tokens = max_tokens
        self.overlap = overlap
        self.thresholds = {**self._model.thresholds, **(thresholds or {})}
        labels = self._model.labels
        self._outside = labels.index("O")
        n_types = len(self.entity_types)
        # label index -> (type index, is_begin); "O" is type index n_types
        self._type_of = np.full(len(labels), n_types, dtype=np.int64)
        self._begin = np.zeros(len(labels), dtype=bool)
        for i, lab in enumerate(labels):
            if lab != "O":
                prefix, t = lab.split("-", 1)
                self._type_of[i] = self.entity_types.index(t)
                self._begin[i] = prefix == "B"
        self._thr = np.array([self.thresholds[t] for t in self.entity_types], dtype=np.float32)

    @property
    def manifest(self) -> dict:
        return self._model.manifest

    # -----------------------------------------------------------------------------------------
    def token_probs(
        self, text: str, known: Sequence[Span] = ()
    ) -> tuple[np.ndarray, list[tuple[int, int]], list[int | None]]:
        """Per-token label probabilities over the whole text, the tokens' character offsets and
        their word ids (windows run in batches, each token read from its best window).

        Tokens that lie inside a ``known`` span (a sure pattern match) are not fed to the model:
        each run of them is represented by its first token, as in training (recipe 2025.4), so
        the words around keep their context; they come back as "O" (see :meth:`detect`)."""
        enc = self._model.tokenizer.encode(text, add_special_tokens=False)
        ids = np.asarray(enc.ids, dtype=np.int64)
        n = len(ids)
        out = np.zeros((n, len(self._model.labels)), dtype=np.float32)
        if n == 0:
            return out, [], []
        inside = _inside(enc.offsets, known) if known else np.zeros(n, dtype=bool)
        # each run of known tokens is fed as its first token only (training does the same)
        first = inside & ~np.concatenate(([False], inside[:-1]))
        fed = np.nonzero(~inside | first)[0]
        probs = self._run(ids[fed])
        out[fed] = probs
        out[inside] = 0.0
        out[inside, self._outside] = 1.0  # the pattern's span stands
        return out, enc.offsets, enc.word_ids

    def _run(self, ids: np.ndarray) -> np.ndarray:
        """Label probabilities for a token sequence of any length, in overlapping windows."""
        n = len(ids)
        out = np.zeros((n, len(self._model.labels)), dtype=np.float32)
        windows = plan_windows(n, self.max_tokens - 2, self.overlap)
        owner = owner_of_tokens(n, windows)
        for b in range(0, len(windows), BATCH):
            chunk = windows[b : b + BATCH]
            width = max(e - s for s, e in chunk) + 2
            batch_ids = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.int64)
            for k, (s, e) in enumerate(chunk):
                batch_ids[k, 0] = CLS
                batch_ids[k, 1 : 1 + e - s] = ids[s:e]
                batch_ids[k, 1 + e - s] = SEP
                mask[k, : e - s + 2] = 1
            (probs,) = self._model.session.run(  # type: ignore[attr-defined]
                ["probs"], {"input_ids": batch_ids, "attention_mask": mask}
            )
            for k, (s, e) in enumerate(chunk):
                w = b + k
                mine = np.nonzero(owner[s:e] == w)[0]
                out[s + mine] = probs[k, 1 + mine]
        return out

    def detect(self, text: str, known: Sequence[Span] = ()) -> Iterator[Span]:
        """Spans the model finds in ``text``. ``known``: sure spans the patterns found; those of
        a type the model was trained to see as stand-ins are not read (the model is only their
        backup, and they cost time: a quarter of the tokens of a 2 KB prompt full of emails,
        phones and IBANs) and nothing is found inside them."""
        if not any(c.isalnum() for c in text):
            return
        known = [k for k in known if k.type in self._model.stand_in_types]
        probs, offsets, word_ids = self.token_probs(text, known)
        if len(offsets) == 0:
            return
        yield from self._decode(text, probs, offsets, word_ids)

    # -----------------------------------------------------------------------------------------
    def _decode(
        self,
        text: str,
        probs: np.ndarray,
        offsets: list[tuple[int, int]],
        word_ids: list[int | None],
    ) -> Iterator[Span]:
        """Tokens -> words -> chunks -> spans.

        A token is part of an entity when ``1 - P(O)`` reaches the threshold of its most likely
        type (so probability split between, say, USERNAME and PASSWORD still counts). A word
        (the tokenizer's pre-tokenised word) is tagged when any of its tokens is; words with no
        space between them form one chunk whose type is voted by summed type probabilities
        (a value is never cut into pieces of different types); chunks of one type separated by
        a space or a joining character merge unless the next one begins a new entity (B-).
        """
        n_types = len(self.entity_types)
        type_p = np.zeros((len(probs), n_types + 1), dtype=np.float32)
        np.add.at(type_p.T, self._type_of, probs.T)
        begin_p = np.zeros_like(type_p)
        np.add.at(begin_p.T, self._type_of, (probs * self._begin).T)
        tp = type_p[:, :n_types]
        entity_p = 1.0 - type_p[:, n_types]
        best = tp.argmax(1)
        tagged = entity_p >= self._thr[best]

        # words: [start, end, type votes, entity prob max, first tagged token]
        words: list[list] = []
        prev_word = None
        for i, wid in enumerate(word_ids):
            s, e = offsets[i]
            if wid is None or e <= s:
                continue
            if wid != prev_word:
                words.append([s, e, None, 0.0, -1])
                prev_word = wid
            else:
                words[-1][1] = max(words[-1][1], e)
            if tagged[i]:
                w = words[-1]
                w[2] = tp[i].copy() if w[2] is None else w[2] + tp[i]
                w[3] = max(w[3], float(entity_p[i]))
                if w[4] < 0:
                    w[4] = i
        # chunks: tagged words with nothing between them
        chunks: list[list] = []  # [start, end, votes, score_sum, n, first_token]
        for s, e, votes, score, first in words:
            if votes is None:
                continue
            last = chunks[-1] if chunks else None
            if last is not None and last[1] == s:
                last[1] = e
                last[2] = last[2] + votes
                last[3] += score
                last[4] += 1
                continue
            chunks.append([s, e, votes, score, 1, first])
        spans: list[list] = []  # [start, end, type, score_sum, n, votes]
        for s, e, votes, score, count, first in chunks:
            t = int(votes.argmax())
            begins = begin_p[first, t] >= type_p[first, t] - begin_p[first, t]
            last = spans[-1] if spans else None
            if (
                last is not None
                and last[2] == t
                and not begins
                and self._joinable(text, last[1], s)
            ):
                last[1] = e
                last[3] += score
                last[4] += count
                last[5] = last[5] + votes
                continue
            spans.append([s, e, t, score, count, votes])
        merged: list[list] = []
        for s, e, t, score_sum, count, votes in spans:
            s, e = _whole_word(text, s, e, trim=self.entity_types[t] not in _UNTRIMMED)
            if e <= s:
                continue
            last = merged[-1] if merged else None
            if last is not None and last[2] == t and s <= last[1]:  # widened into each other
                last[1] = max(last[1], e)
                last[3] += score_sum
                last[4] += count
                last[5] = last[5] + votes
                continue
            merged.append([s, e, t, score_sum, count, votes])
        for s, e, t, score_sum, count, votes in merged:
            # the voted type, or the runner-up when the vote was close and the winner's shape
            # check fails (a handle voted PASSWORD without a password context is a USERNAME)
            order = [t] + [int(k) for k in np.argsort(-votes)[:2] if int(k) != t]
            entity = next(
                (
                    self.entity_types[k]
                    for k in order
                    if votes[k] >= 0.5 * votes[t] and plausible(self.entity_types[k], text, s, e)
                ),
                None,
            )
            if entity is None:
                continue
            # a statistical guess is never certain: scores stay below a validated match's 1.0
            score = round(min(0.99, score_sum / count), 4)
            yield Span(s, e, entity, score, False, None, self.name)

    @staticmethod
    def _joinable(text: str, end: int, start: int) -> bool:
        gap = text[end:start]
        return len(gap) <= 3 and all(c in _JOINERS for c in gap) and "\n" not in gap


PASSWORD_CONTEXT_CHARS = 160  # how far before a password the word announcing it may stand
# Words that announce a password, in the seven core languages (lower case, whole words).
_PASSWORD_CONTEXT = re.compile(
    r"(?<![a-z])(pass(word|wd|code|phrase)?|pwd|pw|pin|secret|kennwort|passwort|"
    r"mot de passe|mdp|contrase(ñ|n)a|clave|parola|wachtwoord|credentials?|login)(?![a-z])",
    re.IGNORECASE,
)
_CODE_SHAPE = re.compile(
    r"_|^[a-z]+[A-Z]|[A-Za-z]{2}\.[A-Za-z]|\.[a-z]{2}|[A-Za-z]\d|\d[A-Za-z]|[/\\()<>{}=:;@#$%^&*+|~`\[\]]"
)
_NAME_TYPES = frozenset({"GIVEN_NAME", "SURNAME"})
# Greetings and closings of the seven core languages: they stand where names stand ("Grüße,",
# "Cheers,") and are the classic false name. Never a name on their own.
_NOT_NAMES = frozenset(
    """
    hi hello hey dear regards cheers thanks thank best greetings sincerely yours kind warm
    all everyone team folks sir madam
    hallo liebe lieber sehr geehrte geehrter gruß grüße grüßen gruss grüsse viele beste danke
    bonjour salut cordialement merci madame monsieur bisous amitiés
    hola saludos gracias estimado estimada atentamente querido querida abrazo
    ciao salve saluti cordiali gentile grazie distinti caro cara
    groeten hoi dag geachte bedankt vriendelijke groet
    """.split()
)


def _initial(text: str, start: int, end: int) -> bool:
    """One letter is a name only as an initial: "J. Smith", or between two words
    ("Ryan P Costa")."""
    if "." in text[start : end + 1]:
        return True
    before, after = text[max(0, start - 2) : start], text[end : end + 2]
    return (
        len(before) == 2 and before[1] == " " and before[0].isalpha()
        and len(after) == 2 and after[0] == " " and after[1].isalpha()
    )  # fmt: skip


def _trained_script(value: str) -> bool:
    """Whether ``value`` has a digit or a Latin, Greek or Cyrillic letter (the European scripts).
    (It has never seen CJK, Arabic, ... text and its guesses there are noise.)"""
    import unicodedata

    return any(
        c.isdigit()
        or (c.isalpha() and unicodedata.name(c, "").startswith(("LATIN", "GREEK", "CYRILLIC")))
        for c in value
    )


def plausible(entity: str, text: str, start: int, end: int) -> bool:
    """Cheap checks that keep the model's guesses to values of the right shape: structured
    types must pass the same kind of check the pattern detectors use (the model only backs
    them up); names must not look like code identifiers; a password needs a word that
    announces it within ``PASSWORD_CONTEXT_CHARS`` before it."""
    value = text[start:end]
    digits = sum(c.isdigit() for c in value)
    if not _trained_script(value):
        return False
    if entity in _NAME_TYPES:
        if value.lower() in _NOT_NAMES:
            return False
        if sum(c.isalpha() for c in value) < 2 and not _initial(text, start, end):
            return False
        if (
            _CODE_SHAPE.search(value)
            or text[end : end + 1] == "("
            or text[start - 1 : start] == "."
        ):
            return False
        return any(c.isalpha() for c in value)
    if entity == "PASSWORD":
        return (
            _PASSWORD_CONTEXT.search(text, max(0, start - PASSWORD_CONTEXT_CHARS), start)
            is not None
        )
    if entity == "CREDIT_CARD":
        from stdnum import luhn

        number = "".join(c for c in value if c.isdigit())
        return 12 <= len(number) <= 19 and len(number) == digits and luhn.is_valid(number)
    if entity == "IBAN":
        from stdnum import iban

        return iban.is_valid(value)
    if entity == "IP_ADDRESS":
        import ipaddress

        try:
            ipaddress.ip_address(value.strip("[]"))
        except ValueError:
            return False
        return True
    if entity == "EMAIL":
        return "@" in value and "." in value.rsplit("@", 1)[-1]
    if entity == "PHONE":
        # 7 to 15 digits, written like a phone number (not a decimal or a bare run of digits
        # glued to letters)
        return 7 <= digits <= 15 and not re.fullmatch(r"\d+\.\d+", value)
    if entity == "SSN":
        return digits == 9
    if entity == "URL":
        return "." in value or "/" in value
    if entity == "POSTAL_CODE":
        # no country has postal codes of fewer than 3 characters; "58" is a number, and its
        # two-digit double would be restored wherever that number appears in the answer
        return sum(c.isalnum() for c in value) >= 3
    return True


def _word_char(c: str) -> bool:
    """A character of a word as the restorer sees words (regex ``\\w``: letters, digits, _)."""
    return c.isalnum() or c == "_"


def _whole_word(text: str, start: int, end: int, trim: bool = True) -> tuple[int, int]:
    """Widen ``start..end`` to the letters and digits around it, then (``trim``) drop
    punctuation and spaces at its ends: a span never cuts a word and never ends in a comma."""
    while start > 0 and _word_char(text[start - 1]):
        start -= 1
    while end < len(text) and _word_char(text[end]):
        end += 1
    if not trim:
        return start, end
    while start < end and not (_word_char(text[start]) or text[start] in "+#@("):
        start += 1
    while end > start and not (_word_char(text[end - 1]) or text[end - 1] in ".)"):
        end -= 1
    return start, end
