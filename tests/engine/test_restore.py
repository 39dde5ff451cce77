from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.restore import Match, Replacement, Restorer

REPLACEMENTS = [
    Replacement("Maria", "Jane", Match.CASELESS),
    Replacement("Keller", "Doe", Match.CASELESS),
    Replacement("m.keller@example.net", "jane.doe@acme.com", Match.CASELESS),
    Replacement("+1-415-555-0134", "+1 212 555 0199", Match.SEPARATORS),
    Replacement("4539 1488 0343 6467", "4111 1111 1111 1111", Match.SEPARATORS),
    Replacement("10.1.2.3", "10.9.9.9", Match.EXACT),
    Replacement("(512) 555-0199", "(437)659-4599", Match.SEPARATORS),
    Replacement("[EMAIL_1]", "bob@corp.example", Match.EXACT),
]
R = Restorer(REPLACEMENTS)


def test_restores_every_double_in_one_pass() -> None:
    text = "Dear Maria Keller, write to m.keller@example.net or call +1-415-555-0134."
    assert R.restore(text) == "Dear Jane Doe, write to jane.doe@acme.com or call +1 212 555 0199."


def test_never_inside_a_longer_word() -> None:
    assert R.restore("Mariana Kellerman and 110.1.2.34") == "Mariana Kellerman and 110.1.2.34"


def test_other_case_and_possessive() -> None:
    assert R.restore("MARIA's file; keller's desk") == "JANE's file; doe's desk"


def test_other_separators_for_numbers() -> None:
    assert R.restore("call 14155550134 or (415) 555-0134? +1 415 555 0134") == (
        "call +1 212 555 0199 or (415) 555-0134? +1 212 555 0199"
    )
    assert R.restore("card 4539-1488-0343-6467") == "card 4111 1111 1111 1111"


def test_punctuation_around_a_number_is_not_doubled() -> None:
    # the double's own "(" is consumed with it: the original brings its own
    assert R.restore("call (512) 555-0199 or 512-555-0199.") == (
        "call (437)659-4599 or (437)659-4599."
    )


def test_placeholder_doubles() -> None:
    assert R.restore("mail [EMAIL_1] now") == "mail bob@corp.example now"


def test_no_replacements_is_identity() -> None:
    empty = Restorer([])
    assert not empty
    assert empty.restore("Maria") == "Maria"
    stream = empty.stream()
    assert stream.feed("Ma") + stream.feed("ria") + stream.flush() == "Maria"


def test_stream_emits_text_that_cannot_become_a_double_at_once() -> None:
    stream = R.stream()
    assert stream.feed("Hello there, ") == "Hello there, "
    # "Mar" could still become "Maria": held back, nothing else is
    assert stream.feed("dear Mar") == "dear "
    assert stream.feed("ia") == ""  # "Maria" could still be "Mariana"
    assert stream.feed("!") == "Jane!"
    assert stream.flush() == ""


_ALPHABET = st.sampled_from(list("MariaKelerm.@xampnt+14-5 03é日\n'sD()"))
_PIECES = st.sampled_from([r.double for r in REPLACEMENTS] + ["mariA", "KELLER's", "415 555 0134"])
_TEXT = st.lists(st.one_of(_PIECES, st.text(_ALPHABET, max_size=6)), max_size=14).map("".join)


@settings(max_examples=3000, deadline=None)
@given(text=_TEXT, cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=12))
def test_streaming_equals_whole_text_for_every_split(text: str, cuts: list[int]) -> None:
    points = sorted({c % (len(text) + 1) for c in cuts})
    chunks = [text[a:b] for a, b in zip([0, *points], [*points, len(text)])]
    stream = R.stream()
    assert "".join(stream.feed(c) for c in chunks) + stream.flush() == R.restore(text)


def test_doubles_that_start_with_punctuation_or_inside_others() -> None:
    r = Restorer(
        [
            Replacement(")m@Q1vb@4", "Tq7!mzP2xv", Match.EXACT),
            Replacement("Anna Berg", "Jane Roe", Match.CASELESS),
            Replacement("Anna", "Jane", Match.CASELESS),
        ]
    )
    text = "pw )m@Q1vb@4, ANNA BERG and Anna; not Annabel."
    assert r.restore(text) == "pw Tq7!mzP2xv, JANE ROE and Jane; not Annabel."


def _reference_pattern(r: Replacement) -> str:
    """The regex a double used to be found with (one alternation of these per exchange): the
    matcher must find exactly what it found."""
    import re

    if r.match is Match.SEPARATORS:
        body = r"[ \-./()]*".join(re.escape(c) for c in r.double if c.isalnum())
        lead = re.match(r"[^\w]*", r.double).group()
        trail = re.search(r"[^\w]*$", r.double[len(lead) :]).group()
        if lead:
            body = f"(?:{re.escape(lead)})?" + body
        if trail:
            body = body + f"(?:{re.escape(trail)})?"
        return r"(?<!\w)" + body + r"(?!\w)"
    body = re.escape(r.double)
    if r.match is Match.CASELESS:
        body = "(?i:" + body + ")"
    if re.match(r"\w", r.double[0]) or r.double[0] == "+":
        body = r"(?<!\w)" + body
    if re.match(r"\w", r.double[-1]):
        body = body + r"(?!\w)"
    return body


_PIECES = st.sampled_from(
    [r.double for r in REPLACEMENTS]
    + ["maria", "MARIA", "Keller's", "+1 415 555 0134", "14155550134", "(512)555-0199",
       "512-555-0199", "4539148803436467", "4539-1488-0343-6467", "10.1.2.3", "x", "_", "9",
       " ", ".", "(", ")", "-", "+", "é", "\n", "[EMAIL_1]"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=12))
def test_matcher_finds_what_the_regex_alternation_found(pieces: list[str]) -> None:
    import re

    text = "".join(pieces)
    ordered = sorted(REPLACEMENTS, key=lambda r: (-len(r.double), r.double))
    reference = re.compile("|".join(_reference_pattern(r) for r in ordered))
    assert list(R.matches(text)) == [m.span() for m in reference.finditer(text)]
