"""The shipped NER model and its detector: artefacts, names and addresses in the seven core
locales, whole words only, long texts, concurrency, and quiet on ordinary technical text.

Every test uses the real model in ``engine/model/`` (int8 ONNX)."""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from pathlib import Path

import pytest

from engine import build_engine
from engine.detectors.model import MODEL_DIR, ModelDetector, owner_of_tokens, plan_windows
from engine.spans import Span

CORPUS = Path(__file__).parent / "negative_corpus"
NAME_TYPES = {"GIVEN_NAME", "SURNAME"}
ADDRESS_TYPES = {"STREET", "SECONDARY_ADDRESS", "CITY", "STATE", "POSTAL_CODE", "COUNTRY"}


@pytest.fixture(scope="module")
def detector() -> ModelDetector:
    return ModelDetector()


def covered(text: str, value: str, spans: list[Span], types: set[str]) -> bool:
    """Every letter and digit of ``value`` (first occurrence) lies inside a span of ``types``."""
    start = text.index(value)
    inside = set()
    for s in spans:
        if s.type in types:
            inside.update(range(s.start, s.end))
    return all(k in inside for k in range(start, start + len(value)) if text[k].isalnum())


# ---------------------------------------------------------------------------------------------
# artefacts


def test_manifest_matches_shipped_files() -> None:
    manifest = json.loads((MODEL_DIR / "manifest.json").read_text())
    for name, info in manifest["files"].items():
        data = (MODEL_DIR / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == info["sha256"], name
        assert len(data) == info["bytes"]
    assert (MODEL_DIR / "model.int8.onnx").stat().st_size <= 20 * 1024 * 1024
    assert manifest["recipe_version"]
    assert manifest["base_model"]["licence"] == "CC-BY-4.0"
    assert manifest["agreement"]["fp32_vs_int8_label_agreement"] >= 0.98  # training/export.py


def test_label_map(detector: ModelDetector) -> None:
    labels = json.loads((MODEL_DIR / "labels.json").read_text())
    assert labels["labels"][0] == "O"
    assert set(detector.entity_types) >= {
        "GIVEN_NAME", "SURNAME", "STREET", "SECONDARY_ADDRESS", "CITY", "STATE", "POSTAL_CODE",
        "COUNTRY", "DATE_OF_BIRTH", "AGE", "COMPANY", "USERNAME", "PASSWORD",
    }  # fmt: skip
    assert all(0 < t < 1 for t in detector.thresholds.values())


# ---------------------------------------------------------------------------------------------
# names and addresses in the seven core locales (sentences written for this test)

LOCALE_CASES = {
    "en_US": (
        "Please send the signed lease to Michael Thompson, 4821 Oak Ridge Drive, Austin, "
        "TX 78731 before Friday.",
        ["Michael", "Thompson"],
        ["4821 Oak Ridge Drive", "Austin", "78731"],
    ),
    "en_GB": (
        "Our tenant Olivia Hughes has moved to 14 Greenfield Avenue, Bristol BS7 8QT, so "
        "please update the records.",
        ["Olivia", "Hughes"],
        ["14 Greenfield Avenue", "Bristol", "BS7 8QT"],
    ),
    "de_DE": (
        "Bitte schicken Sie die Unterlagen an Katharina Schmidt, Bahnhofstraße 17, 50667 Köln. "
        "Vielen Dank!",
        ["Katharina", "Schmidt"],
        ["Bahnhofstraße 17", "50667", "Köln"],
    ),
    "fr_FR": (
        "Merci d'envoyer le colis à Camille Lefebvre, 8 rue Victor Hugo, 33000 Bordeaux, "
        "avant lundi.",
        ["Camille", "Lefebvre"],
        ["8 rue Victor Hugo", "33000", "Bordeaux"],
    ),
    "es_ES": (
        "Envíe la factura a Lucía Fernández, Calle de Alcalá 42, 28014 Madrid, lo antes posible.",
        ["Lucía", "Fernández"],
        ["Calle de Alcalá 42", "28014", "Madrid"],
    ),
    "it_IT": (
        "La fattura va intestata a Giulia Romano, Via Garibaldi 23, 10122 Torino, grazie.",
        ["Giulia", "Romano"],
        ["Via Garibaldi 23", "10122", "Torino"],
    ),
    "nl_NL": (
        "Stuur de brief naar Sanne de Vries, Keizersgracht 112, 1015 CW Amsterdam, alvast bedankt.",
        ["Sanne", "de Vries"],
        ["Keizersgracht 112", "1015 CW", "Amsterdam"],
    ),
}


@pytest.mark.parametrize("locale", sorted(LOCALE_CASES))
def test_names_and_addresses_in_each_locale(detector: ModelDetector, locale: str) -> None:
    text, names, address = LOCALE_CASES[locale]
    spans = list(detector.detect(text))
    for value in names:
        assert covered(text, value, spans, NAME_TYPES), (locale, "name part missed")
    for value in address:
        assert covered(text, value, spans, ADDRESS_TYPES), (locale, "address part missed")


def test_names_are_split_into_parts(detector: ModelDetector) -> None:
    text = "Yesterday Hannah Whitfield called about the refund."
    spans = {text[s.start : s.end]: s.type for s in detector.detect(text)}
    assert spans.get("Hannah") == "GIVEN_NAME"
    assert spans.get("Whitfield") == "SURNAME"


def test_other_free_text_types(detector: ModelDetector) -> None:
    text = (
        "New hire: Daniel Kowalczyk, born on 12 March 1987, 37 years old, joins Brightwater "
        "Logistics Ltd. His login will be dkowalczyk87 with the temporary password Tq7!mzP2xv."
    )
    found = {text[s.start : s.end]: s.type for s in detector.detect(text)}
    assert found.get("12 March 1987") == "DATE_OF_BIRTH"  # the whole date, day included
    assert found.get("dkowalczyk87") == "USERNAME"
    assert found.get("Tq7!mzP2xv") == "PASSWORD"  # punctuation is part of a password
    assert {"GIVEN_NAME", "SURNAME", "AGE"} <= set(found.values())
    # COMPANY is not asserted: the model misses company names it has not seen (see README)


# ---------------------------------------------------------------------------------------------
# spans: whole words, valid scores, unvalidated


WORDY = [
    "Jean-Pierre O'Brien and María José García-López met Zoë Ølstad at 221B Baker Street.",
    "Kontakt: Dr. Hans-Jürgen Müller-Lüdenscheidt, Schloßallee 4a, 01099 Dresden.",
    "email me: anna.k@web.de or ask annak_1990 on the forum; pw was Hunter2!!",
    "Ms. D'Angelo (née McAllister) lives at 7 St. Mary's Rd., Apt. 4B, Boston, MA 02116.",
    "Löwenbräu-Straße 12b, 80331 München — ask for Ingrid Æbeltoft or Søren Kierkegård.",
]


@pytest.mark.parametrize("text", WORDY)
def test_spans_are_whole_words(detector: ModelDetector, text: str) -> None:
    spans = list(detector.detect(text))
    assert spans
    for s in spans:
        assert not (s.start > 0 and text[s.start - 1].isalnum() and text[s.start].isalnum())
        assert not (s.end < len(text) and text[s.end].isalnum() and text[s.end - 1].isalnum())
        assert text[s.start : s.end].strip() == text[s.start : s.end]
        assert 0.0 <= s.score <= 1.0
        assert s.validated is False
        assert s.type in detector.entity_types
    ordered = sorted(spans, key=lambda s: s.start)
    assert all(a.end <= b.start for a, b in itertools.pairwise(ordered))


def test_empty_and_symbol_only_texts(detector: ModelDetector) -> None:
    assert list(detector.detect("")) == []
    assert list(detector.detect("   \n\t ")) == []
    assert list(detector.detect("{}[]();,.")) == []


# ---------------------------------------------------------------------------------------------
# long texts: windows of at most 256 tokens, results independent of where windows fall


def test_window_plan_covers_every_token() -> None:
    for n in (*range(1, 1200), 5003, 20011):
        windows = plan_windows(n, 254, 32)
        assert all(0 < e - s <= 254 for s, e in windows)
        assert all(e1 - s2 >= 32 for (_, e1), (s2, _) in itertools.pairwise(windows))
        owner = owner_of_tokens(n, windows)
        assert (owner >= 0).all()
        assert windows[0][0] == 0 and windows[-1][1] == n
        assert sum(e - s for s, e in windows) <= n + len(windows) * 34  # no window wasted


PEOPLE = [
    ("Amelia", "Hartley", "19 Willow Lane, Norwich NR2 4PG"),
    ("Lukas", "Brandt", "Gartenweg 8, 70173 Stuttgart"),
    ("Chloé", "Moreau", "3 avenue Jean Jaurès, 69007 Lyon"),
    ("Mateo", "Navarro", "Calle Mayor 15, 46001 Valencia"),
    ("Francesca", "Ricci", "Via Roma 41, 40121 Bologna"),
    ("Daan", "Jansen", "Prinsengracht 263, 1016 GV Amsterdam"),
    ("Tyler", "Brooks", "880 Maple Avenue, Denver, CO 80203"),
]


def paragraph(i: int) -> str:
    given, surname, address = PEOPLE[i % len(PEOPLE)]
    return (
        f"Note {i}: the deploy of build {i}.4.2 finished without errors and the cache was "
        f"warmed. Customer {given} {surname} asked us to update the delivery address to "
        f"{address}. The {i % 3 + 2} remaining tasks move to the next sprint."
    )


def test_long_text_matches_its_parts(detector: ModelDetector) -> None:
    parts = [paragraph(i) for i in range(40)]
    text = "\n".join(parts)
    tokens = len(detector._model.tokenizer.encode(text, add_special_tokens=False).ids)
    assert tokens > 4 * 254  # several windows
    whole = list(detector.detect(text))
    offset = 0
    agree = total = 0
    for part in parts:
        alone = {(s.start + offset, s.end + offset, s.type) for s in detector.detect(part)}
        inside = {(s.start, s.end, s.type) for s in whole if offset <= s.start < offset + len(part)}
        agree += len(alone & inside)
        total += len(alone | inside)
        given, surname = part.split("Customer ")[1].split(" ")[:2]
        assert covered(text[offset:], given, [_shift(s, -offset) for s in whole], NAME_TYPES)
        assert covered(text[offset:], surname, [_shift(s, -offset) for s in whole], NAME_TYPES)
        offset += len(part) + 1
    assert agree / total >= 0.95


def _shift(s: Span, by: int) -> Span:
    return Span(max(0, s.start + by), max(1, s.end + by), s.type, s.score)


def test_window_size_is_bounded() -> None:
    with pytest.raises(ValueError):
        ModelDetector(max_tokens=512)
    small = ModelDetector(max_tokens=64, overlap=16)
    text = " ".join(paragraph(i) for i in range(6))
    found = list(small.detect(text))
    for given, surname, _ in PEOPLE[:6]:
        assert covered(text, given, found, NAME_TYPES)
        assert covered(text, surname, found, NAME_TYPES)


# ---------------------------------------------------------------------------------------------
# concurrency: one session per process, safe for concurrent detect calls


def test_one_session_per_process() -> None:
    a, b = ModelDetector(threads=1), ModelDetector(threads=1)
    assert a._model is b._model


def test_concurrent_detect_gives_the_same_results(detector: ModelDetector) -> None:
    texts = [paragraph(i) for i in range(12)] + [case[0] for case in LOCALE_CASES.values()]
    expected = [list(detector.detect(t)) for t in texts]
    results: dict[tuple[int, int], list[Span]] = {}
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for round_ in range(2):
                for i, t in enumerate(texts):
                    if (i + worker + round_) % 2 == 0:
                        results[(worker * 100 + round_, i)] = list(detector.detect(t))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert results
    for (_, i), spans in results.items():
        assert spans == expected[i]


# ---------------------------------------------------------------------------------------------
# ordinary technical text stays clean


def test_negative_corpus_stays_mostly_clean(detector: ModelDetector) -> None:
    files = sorted(CORPUS.iterdir())
    assert files, "tests/engine/negative_corpus is missing"
    chars = 0
    found: list[tuple[str, str]] = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        chars += len(text)
        found += [(path.name, s.type) for s in detector.detect(text)]
    # at most one model span per 4 KB of code, logs, configs and data files
    assert len(found) <= chars // 4096, found


def test_common_words_and_products_are_not_names(detector: ModelDetector) -> None:
    text = (
        "Will you mark the build as green? The Jordan release of Kubernetes ships with "
        "Grace periods of 30 s. We benchmarked the Pixel 8 against the iPhone 15 in our Berlin "
        "office on 14 March 2024, and the Head of Sales approved the budget."
    )
    assert [s.type for s in detector.detect(text)] == []


# ---------------------------------------------------------------------------------------------
# the engine


def test_build_engine_adds_the_model_unless_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    names = {d.name for d in build_engine(b"k").detectors}
    assert "ModelDetector" in names
    assert "ModelDetector" not in {d.name for d in build_engine(b"k", model=False).detectors}
    monkeypatch.setenv("DOPPEL_MODEL", "0")
    assert "ModelDetector" not in {d.name for d in build_engine(b"k").detectors}


def test_validated_patterns_win_overlaps() -> None:
    engine = build_engine(b"k", cache_size=0)
    text = "Write to Priya Raman at priya.raman@example.com or call +44 20 7946 0958."
    spans = engine.detect(text)
    by_text = {text[s.start : s.end]: s for s in spans}
    assert by_text["priya.raman@example.com"].type == "EMAIL"
    phone = by_text["+44 20 7946 0958"]
    assert phone.type == "PHONE" and phone.validated and phone.detector != "ModelDetector"
    types = {text[s.start : s.end]: s.type for s in spans}
    assert types.get("Priya") == "GIVEN_NAME" and types.get("Raman") == "SURNAME"


def test_masking_replaces_names_by_parts(engine) -> None:
    session = engine.session()
    text = "Ms Eleanor Whitcombe wrote again. Please reply to Ms Whitcombe today."
    masked = session.mask(text)
    assert "Eleanor" not in masked and "Whitcombe" not in masked
    assert session.restorer().restore(masked) == text


def test_short_numbers_are_never_postal_codes() -> None:
    from engine.detectors.model import plausible

    assert not plausible("POSTAL_CODE", "Ref 58 and 68 79", 4, 6)
    assert plausible("POSTAL_CODE", "75001 Paris", 0, 5)
    assert plausible("POSTAL_CODE", "SW1A 1AA", 0, 8)


def test_known_pattern_spans_are_fed_as_stand_ins_only_to_a_model_trained_so(
    detector: ModelDetector,
) -> None:
    import dataclasses

    from engine.detectors import model as model_module

    text = "Write to Priya Raman at priya.raman@example.com or call +44 20 7946 0958 today."
    engine = build_engine(b"k", model=False, cache_size=0)
    known = [s for s in engine.detect(text) if s.type in ("EMAIL", "PHONE")]
    assert len(known) == 2
    enc = detector._model.tokenizer.encode(text, add_special_tokens=False)
    inside = model_module._inside(enc.offsets, known)
    assert inside.sum() >= 10  # tokens a model trained with stand-ins is spared

    fed: list[int] = []
    trained = ModelDetector()
    trained._model = dataclasses.replace(
        detector._model, stand_in_types=frozenset({"EMAIL", "PHONE"})
    )
    run = trained._run
    trained._run = lambda ids: fed.append(len(ids)) or run(ids)  # type: ignore[method-assign]
    spans = list(trained.detect(text, known=known))
    assert fed == [len(enc.ids) - int(inside.sum()) + 2]  # one stand-in token per known span
    assert not any(k.start <= s.start < k.end for s in spans for k in known)
    found = {text[s.start : s.end]: s.type for s in spans}
    assert found.get("Priya") == "GIVEN_NAME" and found.get("Raman") == "SURNAME"

    plain = ModelDetector()
    plain._model = dataclasses.replace(detector._model, stand_in_types=frozenset())
    plain_run = plain._run
    plain._run = lambda ids: fed.append(len(ids)) or plain_run(ids)  # type: ignore[method-assign]
    fed.clear()
    list(plain.detect(text, known=known))
    assert fed == [len(enc.ids)]  # a model trained without stand-ins reads every token


def test_engine_passes_sure_pattern_spans_to_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = build_engine(b"k", cache_size=0)
    model = engine.detectors[-1]
    seen: list[list[str]] = []
    real = model.detect

    def spy(text, known=()):
        seen.append(sorted(s.type for s in known))
        return real(text, known=known)

    monkeypatch.setattr(model, "detect", spy)
    engine.detect("Mail priya.raman@example.com or call +44 20 7946 0958, ask for Priya.")
    assert seen == [["EMAIL", "PHONE"]]
