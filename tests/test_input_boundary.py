"""The input boundary (``mmemd._json.parse_json``): every limit reported at its JSON path, nothing else raised.

Hostile documents are the ones found crashing the entry points: an integer past Python's 4,300-digit conversion
limit, 5,000- and 100,000-deep nesting, huge strings, ``NaN``, repeated keys, bytes that are not UTF-8.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmemd._json import DEFAULT_LIMITS, JsonInputError, JsonLimits, parse_json


def problems(text: str | bytes, **limits: Any) -> dict[str, str]:
    with pytest.raises(JsonInputError) as info:
        parse_json(text, limits=JsonLimits(**limits)) if limits else parse_json(text)
    return {p.path: p.code for p in info.value.problems}


def test_valid_document_is_parsed_as_json_does() -> None:
    text = '{"a": [1, 2.5, "x", null, true, {"b": -3e2}]}'
    assert parse_json(text) == json.loads(text)
    assert parse_json(text.encode()) == json.loads(text)


def test_integer_beyond_python_conversion_limit() -> None:
    # 4,301 digits: int() itself raises ValueError (sys.get_int_max_str_digits() == 4300).
    assert problems('{"labs": {"ldh": {"value": ' + "9" * 4301 + "}}}") == {
        "$.labs.ldh.value": "number_too_long"
    }


def test_long_decimal_is_refused_before_decimal_sees_it() -> None:
    with pytest.raises(JsonInputError) as info:
        parse_json('{"v": [0, 1.' + "5" * 4000 + "]}", parse_float=Decimal)
    (p,) = info.value.problems
    assert (p.path, p.code, p.ctx) == ("$.v[1]", "number_too_long", {"limit": 100, "length": 4002})


@pytest.mark.parametrize("depth", [65, 5_000, 100_000])
def test_nesting_deeper_than_the_limit(depth: int) -> None:
    found = problems('{"a": ' + "[" * depth + "]" * depth + "}")
    # the 64th container (the object counts as the first) is the last allowed: the path points at the 65th
    assert found == {"$.a" + "[0]" * 63: "too_deep"}


def test_nesting_in_objects_names_the_keys() -> None:
    text = '{"k": ' * 70 + "1" + "}" * 70
    (path,) = problems(text)
    assert path == "$" + ".k" * 64


def test_nesting_at_the_limit_is_accepted() -> None:
    assert parse_json("[" * 64 + "]" * 64) == json.loads("[" * 64 + "]" * 64)


def test_long_string_and_long_key() -> None:
    assert problems('{"note": "' + "x" * 11 + '"}', max_string_chars=10) == {"$.note": "string_too_long"}
    assert problems('{"' + "k" * 11 + '": 1}', max_string_chars=10) == {"$": "string_too_long"}


def test_not_json_numbers_are_refused_at_their_path() -> None:
    assert problems('{"a": NaN, "b": [Infinity, -Infinity]}') == {
        "$.a": "number_not_finite",
        "$.b[0]": "number_not_finite",
        "$.b[1]": "number_not_finite",
    }


def test_repeated_key_is_reported_at_its_object() -> None:
    with pytest.raises(JsonInputError) as info:
        parse_json('{"x": {"a": 1, "a": 2}}')
    (p,) = info.value.problems
    assert (p.path, p.code) == ("$.x", "duplicate_key") and "'a'" in p.message


def test_size_limit_is_checked_before_parsing() -> None:
    assert problems(b"[" + b"1," * 100 + b"1]", max_bytes=100) == {"$": "too_large"}


def test_malformed_and_not_utf8() -> None:
    assert problems('{"a": ') == {"$": "malformed_json"}
    assert problems(b'{"a": "\xff\xfe\xfa"}') == {"$": "malformed_json"}


def test_problem_count_is_bounded() -> None:
    with pytest.raises(JsonInputError) as info:
        parse_json("[" + ",".join(["NaN"] * 1000) + "]")
    assert len(info.value.problems) == DEFAULT_LIMITS.max_problems


# ---- properties ---------------------------------------------------------------------------------------------------
_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
)
_documents = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)


@given(_documents)
def test_documents_within_the_limits_round_trip(doc: Any) -> None:
    assert parse_json(json.dumps(doc)) == json.loads(json.dumps(doc))


def _hostile_fragment() -> st.SearchStrategy[str]:
    huge_int = st.integers(4_290, 4_400).map(lambda n: "9" * n)
    deep = st.integers(60, 3_000).map(lambda n: "[" * n + "]" * n)
    constants = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e99999", "-0", "1E400"])
    long_string = st.integers(1, 30).map(lambda n: json.dumps("é" * n))
    leaf = huge_int | deep | constants | long_string | st.just('{"a": 1, "a": 2}')
    return st.recursive(
        leaf,
        lambda inner: (
            st.lists(inner, max_size=3).map(lambda xs: "[" + ",".join(xs) + "]")
            | st.lists(st.tuples(st.text(max_size=5), inner), max_size=3).map(
                lambda kv: "{" + ",".join(f"{json.dumps(k)}: {v}" for k, v in kv) + "}"
            )
        ),
        max_leaves=6,
    )


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(_hostile_fragment(), st.booleans())
def test_hostile_documents_raise_only_json_input_error(text: str, as_decimal: bool) -> None:
    try:
        doc = parse_json(text, parse_float=Decimal if as_decimal else float)
    except JsonInputError as exc:
        assert exc.problems
        assert all(p.path.startswith("$") and p.code for p in exc.problems)
    else:
        # accepted: only plain JSON values remain (no parse marker leaks out)
        assert _plain(doc)


def _plain(doc: Any) -> bool:
    stack = [doc]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
        elif not (v is None or isinstance(v, bool | int | float | str | Decimal)):
            return False
    return True


@settings(max_examples=200)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_json_input_error(data: bytes) -> None:
    try:
        parse_json(data)
    except JsonInputError as exc:
        assert exc.problems


# A clean document skips the full walk when a bracket count of the text shows it cannot nest too deep; the count
# must agree with the structure whatever brackets and escapes the strings hold.
_BRACKETY_TEXT = st.text(alphabet='[]{}"\\ab\n\u00e9')
_NESTED = st.recursive(
    st.none() | st.booleans() | st.integers() | _BRACKETY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_BRACKETY_TEXT, inner, max_size=3),
    max_leaves=30,
)


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


@given(_NESTED, st.integers(min_value=1, max_value=8))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_depth_limit_decided_the_same_with_brackets_inside_strings(value: Any, max_depth: int) -> None:
    from mmemd._json import _nesting

    for text in (json.dumps(value), json.dumps(value, ensure_ascii=False, indent=1)):
        assert _nesting(text) == _depth(value)
        too_deep = _depth(value) > max_depth
        try:
            parse_json(text, limits=JsonLimits(max_depth=max_depth))
        except JsonInputError as exc:
            assert too_deep, exc
            assert {p.code for p in exc.problems} == {"too_deep"}
        else:
            assert not too_deep


# ---- the plain-document path ------------------------------------------------------------------------------------
# A plain document (UTF-8, no escape, short numbers, no bracket inside a string) is read by one C parse and decided by
# byte scans; anything the scans cannot decide goes to the careful parse. Whatever the path decides must be what
# Python's parser reads (same values, same types), and it must never decide a document that repeats a key or nests
# too deep.


def _same(a: Any, b: Any) -> bool:
    """Equal with the same types all the way down (1 is not 1.0, -0.0 is not 0.0, key order counts)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_same, a, b))
    return repr(a) == repr(b)


_KEYS = st.text(alphabet='ab:[]{}"\\é中', max_size=3)
_NUMBER_LITERALS = (
    st.integers(-(10**25), 10**25).map(str)
    | st.floats(allow_nan=False, allow_infinity=False).map(repr)
    | st.sampled_from(["-0", "-0.0", "0e0", "1E2", "1e+5", "1e400", "-1e400", "1e-400", "NaN", "9" * 19])
)


@st.composite
def _texts(draw: st.DrawFn) -> tuple[str, bool, int]:
    """(JSON text, whether some object repeats a key, nesting depth), objects written pair by pair."""
    repeated = False

    def write(depth: int) -> tuple[str, int]:
        nonlocal repeated
        kind = draw(st.sampled_from(["scalar", "number", "list", "object"] if depth < 6 else ["scalar"]))
        if kind == "scalar":
            value = draw(st.none() | st.booleans() | _KEYS)
            return json.dumps(value, ensure_ascii=draw(st.booleans())), 0
        if kind == "number":
            return draw(_NUMBER_LITERALS), 0
        items = [write(depth + 1) for _ in range(draw(st.integers(0, 3)))]
        inner = max((d for _, d in items), default=0) + 1
        if kind == "list":
            return "[" + ", ".join(t for t, _ in items) + "]", inner
        keys = [draw(_KEYS) for _ in items]
        repeated = repeated or len(set(keys)) < len(keys)
        body = ",".join(
            f"{json.dumps(k, ensure_ascii=False)}:{t}" for k, (t, _) in zip(keys, items, strict=True)
        )
        return "{" + body + "}", inner

    text, depth = write(0)
    return text, repeated, depth


@given(_texts(), st.integers(min_value=1, max_value=6), st.booleans())
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_plain_path_decides_only_what_the_careful_parse_accepts(
    case: tuple[str, bool, int], max_depth: int, as_bytes: bool
) -> None:
    from mmemd._json import _UNDECIDED, _plain_document

    text, repeated, depth = case
    data: str | bytes = text.encode("utf-8", "surrogatepass") if as_bytes else text
    doc = _plain_document(data, JsonLimits(max_depth=max_depth))
    if doc is _UNDECIDED:
        return
    assert not repeated, text
    assert depth <= max_depth, text
    assert _same(doc, json.loads(text)), text
    assert _same(doc, parse_json(data, limits=JsonLimits(max_depth=max_depth))), text


@given(_texts(), st.booleans())
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_a_plain_object_is_what_the_careful_parse_reads_whatever_its_depth(
    case: tuple[str, bool, int], as_bytes: bool
) -> None:
    """``plain_object`` skips only the depth scan (its caller bounds the depth by a schema)."""
    from mmemd._json import plain_object

    text, repeated, depth = case
    data: str | bytes = text.encode("utf-8", "surrogatepass") if as_bytes else text
    doc = plain_object(data)
    if doc is None:
        return
    assert type(doc) is dict
    assert not repeated, text
    assert _same(doc, json.loads(text)), text
    assert _same(doc, parse_json(data, limits=JsonLimits(max_depth=max(depth, 1)))), text


def test_plain_object_leaves_to_the_careful_parse_what_it_cannot_decide() -> None:
    from mmemd._json import plain_object

    for text in [
        '{"a": 1, "a": 2}',
        '{"a": {"b": 1, "b": 1}, "c": "::"}',
        '{"a\\u003a": 1, "a": 2}',
        '{"n": 1234567890123456789}',
        '{"n": NaN}',
        "\ufeff{}",
        "[1]",
        '"a"',
        "null",
    ]:
        assert plain_object(text) is None, text
        assert plain_object(text.encode("utf-8")) is None, text
    assert plain_object('{"a": "[", "b": 1}') == {
        "a": "[",
        "b": 1,
    }  # a bracket in a string: no depth scan here
    assert plain_object("x" * 10, JsonLimits(max_bytes=5)) is None


@pytest.mark.parametrize(
    "text",
    [
        '{"a": [1, 2.5, -0.0, "x:y", null, true, {"b": -3e2, "c": ""}], "d": "中文"}',
        "[" * 64 + "]" * 64,
        '{"n": 123456789012345678, "m": -12345678901234567}',
    ],
)
def test_plain_documents_are_decided_by_the_scans(text: str) -> None:
    from mmemd._json import _UNDECIDED, _plain_document

    assert _plain_document(text.encode(), DEFAULT_LIMITS) is not _UNDECIDED
    assert _same(parse_json(text), json.loads(text))


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "a": 2}',  # a repeated key
        '{"a": {"b": 1, "b": 1}, "c": "::"}',  # a repeated key, colons in a string beside it
        '{"a\\u003a": 1, "a": 2, "a": 3}',  # an escape
        '{"a": "[", "b": 1}',  # a bracket inside a string
        "[" * 65 + "]" * 65,  # deeper than the limit
        '{"n": 1234567890123456789}',  # an integer orjson would read as a float
        '{"n": NaN}',
        "\ufeff[1]",
    ],
)
def test_documents_the_scans_cannot_decide_go_to_the_careful_parse(text: str) -> None:
    from mmemd._json import _UNDECIDED, _plain_document

    assert _plain_document(text.encode(), DEFAULT_LIMITS) is _UNDECIDED
