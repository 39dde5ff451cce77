from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.codecs.jsontext import JSONTextError, iter_strings, splice

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


def _strings(value: object, path: tuple = ()) -> list[tuple[tuple, str]]:
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, list):
        return [x for i, v in enumerate(value) for x in _strings(v, (*path, i))]
    if isinstance(value, dict):
        return [x for k, v in value.items() for x in _strings(v, (*path, k))]
    return []


@settings(max_examples=500, deadline=None)
@given(value=_JSON, ascii_only=st.booleans(), indent=st.sampled_from([None, 2]))
def test_finds_the_same_strings_as_the_stdlib(value: object, ascii_only: bool, indent) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only, indent=indent)
    assert [(s.path, s.value) for s in iter_strings(raw)] == _strings(json.loads(raw))


@settings(max_examples=300, deadline=None)
@given(value=_JSON)
def test_splice_changes_only_the_strings(value: object) -> None:
    raw = json.dumps(value, indent=1)
    edits = [(s, s.value[::-1] + "✓") for s in iter_strings(raw)]
    expected = _strings(json.loads(raw))
    assert _strings(json.loads(splice(raw, edits))) == [(p, v[::-1] + "✓") for p, v in expected]


def test_untouched_bytes_stay_as_they_were() -> None:
    raw = '{"n": 1.50e+3, "t":"caf\\u00e9",\n "x" : [true,null, "a"]}'
    t, _ = iter_strings(raw)
    out = splice(raw, [(t, "thé")])
    assert out == '{"n": 1.50e+3, "t":"th\\u00e9",\n "x" : [true,null, "a"]}'


@pytest.mark.parametrize(
    "raw", ['{"a": }', '{"a" 1}', "[1, 2", '"abc', "{} x", '{"a": tru}', "[" * 500]
)
def test_malformed_json_is_a_clear_error(raw: str) -> None:
    with pytest.raises(JSONTextError):
        list(iter_strings(raw))
