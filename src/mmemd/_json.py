"""The input boundary: every JSON document mmemd reads from outside is parsed by :func:`parse_json`.

CLI files and batch lines, REST and CDS Hooks bodies, FHIR bundles and a JWT's header and payload all come through
here, so one set of limits protects every entry point from documents that would otherwise crash the process or the
request deep inside the standard library:

- **size** — more than ``max_bytes`` is refused before parsing;
- **depth** — arrays/objects nested deeper than ``max_depth`` (the interpreter's recursion limit would otherwise end
  the parse, or a later recursive walk, with ``RecursionError``);
- **number length** — a number literal longer than ``max_number_chars``: Python refuses to convert an integer of more
  than 4,300 digits (``sys.get_int_max_str_digits``, CVE-2020-10735) with a ``ValueError``, and a 4,000-digit
  ``Decimal`` overflows the first ``quantize``;
- **string length** — a string (or key) longer than ``max_string_chars``;
- ``NaN`` / ``Infinity`` — not JSON (RFC 8259 §6) although Python's parser accepts them;
- duplicate keys — RFC 8259 §4 leaves them undefined; the usual "last one wins" would drop data without a word.

Every violation is a :class:`~mmemd._problems.Problem` with the JSON path of the offending value, raised together as
:class:`JsonInputError`; the caller renders it (CLI exit 2, HTTP 400/422). Nothing here raises anything else.

Example::

    >>> from mmemd._json import parse_json, JsonInputError
    >>> parse_json('{"a": [1, 2.5]}')
    {'a': [1, 2.5]}
    >>> try:
    ...     parse_json('{"a": [1, ' + "9" * 5000 + "]}")
    ... except JsonInputError as exc:
    ...     print(exc.problems[0])
    $.a[1]: number has 5000 characters; at most 100 are accepted
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from itertools import accumulate
from typing import Any, Final, Literal

import msgspec
import orjson

from mmemd._problems import Loc, MmemdError, Problem

__all__ = ["DEFAULT_LIMITS", "JsonInputError", "JsonLimits", "parse_json", "plain_object"]


# gc=False: holds numbers, strings, dates and tuples of them only, so never part of a reference cycle
class JsonLimits(msgspec.Struct, frozen=True, gc=False):
    """Limits of one JSON document. The defaults leave room for any real record or FHIR bundle."""

    max_bytes: int = 32 * 1024 * 1024
    max_depth: int = 64
    max_number_chars: int = 100
    max_string_chars: int = 1_000_000
    max_problems: int = 20


DEFAULT_LIMITS: Final = JsonLimits()


class JsonInputError(MmemdError, ValueError):
    """The document is not acceptable JSON; ``problems`` says where and why (at most ``max_problems``)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(map(str, self.problems)))


# Parse hooks return these markers instead of raising, so that the walk afterwards can report the path.
# gc=False: holds numbers, strings, dates and tuples of them only, so never part of a reference cycle
class _LongNumber(msgspec.Struct, frozen=True, gc=False):
    chars: int


# gc=False: holds numbers, strings, dates and tuples of them only, so never part of a reference cycle
class _NonFinite(msgspec.Struct, frozen=True, gc=False):
    literal: str


class _DuplicateKeys(dict[str, Any]):
    """An object that repeated a key; ``repeated`` names the keys."""

    __slots__ = ("repeated",)
    repeated: list[str]


DuplicateMode = Literal["reject", "keep"]


def parse_json(
    data: str | bytes,
    *,
    limits: JsonLimits = DEFAULT_LIMITS,
    parse_float: Callable[[str], Any] = float,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
) -> Any:
    """Parse one JSON document within ``limits``; raises :class:`JsonInputError` with a path per problem.

    ``parse_float`` is called for every number with a fraction or an exponent (``decimal.Decimal`` keeps FHIR's
    decimals exact). ``object_pairs_hook`` replaces the default duplicate-key check (a caller that reports repeated
    keys its own way, next to its other problems); a document that repeats no key gives plain dicts either way, and
    may not call the hook at all.
    """
    if len(data) > limits.max_bytes:
        raise JsonInputError(
            [
                _problem(
                    (),
                    "too_large",
                    f"document has {len(data)} {'bytes' if isinstance(data, bytes) else 'characters'}; "
                    f"at most {limits.max_bytes} are accepted",
                    limit=limits.max_bytes,
                )
            ]
        )
    if parse_float is float:
        doc = _plain_document(data, limits)
        if doc is not _UNDECIDED:
            return doc
    text = _decode(data) if isinstance(data, bytes) else data
    max_chars = limits.max_number_chars
    # The hooks note every marker they leave, so that a clean document (nearly all of them) need not be walked.
    marked: list[bool] = []

    def number(convert: Callable[[str], Any]) -> Callable[[str], Any]:
        def hook(literal: str) -> Any:
            if len(literal) > max_chars:
                marked.append(True)
                return _LongNumber(len(literal))
            return convert(literal)

        return hook

    def constant(literal: str) -> _NonFinite:
        marked.append(True)
        return _NonFinite(literal)

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        d = dict(items)
        if len(d) == len(items):
            return d
        marked.append(True)
        return _duplicates(d, items)

    # A number literal longer than the limit is a run of number characters that long; when one C scan finds no such
    # run, no literal can be too long and the parser converts numbers itself instead of calling a hook for each.
    runs = text.encode("utf-8", "surrogatepass").translate(_NUMBER_CHARS)
    hooked = b"1" * (max_chars + 1) in runs
    try:
        doc = json.loads(
            text,
            parse_int=number(int) if hooked else None,
            parse_float=number(parse_float) if hooked else (None if parse_float is float else parse_float),
            parse_constant=constant,
            object_pairs_hook=object_pairs_hook or pairs,
        )
    except json.JSONDecodeError as exc:
        raise JsonInputError(
            [
                _problem(
                    (),
                    "malformed_json",
                    f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                    line=exc.lineno,
                    column=exc.colno,
                )
            ]
        ) from None
    except RecursionError:
        # Deeper than the interpreter allows: find where the limit is crossed without recursing.
        raise JsonInputError([_too_deep(_deep_loc(text, limits.max_depth), limits)]) from None
    except (ValueError, ArithmeticError) as exc:
        # parse_float's own refusal (e.g. a Decimal context trap); the position is not known.
        raise JsonInputError([_problem((), "invalid_number", f"invalid number: {exc}")]) from None
    if not marked and len(text) <= limits.max_string_chars and _nesting(text) <= limits.max_depth:
        # No marker, no string or key longer than the whole text allows, no nesting beyond the limit: the walk
        # could find nothing (it costs as much as the parse itself on a dense record).
        return doc
    problems = _walk(doc, limits)
    if problems:
        raise JsonInputError(problems)
    return doc


_UNDECIDED: Final = object()

#: orjson reads an integer beyond 64 bits as a float (Python's parser as an int): a literal of at most 18 characters
#: is an integer within 64 bits or a float both parsers read to the same double.
_PLAIN_NUMBER_CHARS: Final = 18
#: The brackets and the quote kept, every other byte deleted, ``{}`` read as ``[]`` (the depth is the same).
_SQUARE: Final = bytes.maketrans(b"{}", b"[]")


def _plain_document(data: str | bytes, limits: JsonLimits) -> Any:
    """The document when one C parse and a few C scans of its bytes show it within every limit; else ``_UNDECIDED``
    (the careful parse below then decides, and reports each problem at its path).

    The scans decide only plain documents — UTF-8 without a BOM, no backslash (so no escape), no number literal longer
    than :data:`_PLAIN_NUMBER_CHARS`, no bracket inside a string — and orjson refuses what RFC 8259 refuses
    (``NaN``, ``Infinity``, a BOM, other encodings, lone surrogates), which leaves those to the careful parse too:

    - *repeated keys*: without escapes, a string's colons are the same in the text and in orjson's compact output of
      what it read, and the text has one more colon per key. A repeated key drops a key (and what its first value
      held) from the result, so the text would have more colons than the output; equal counts mean no key repeats;
    - *depth*: with the strings gone, only the brackets are left; removing every adjacent ``[]`` pair removes one
      level of nesting, so ``max_depth`` rounds empty the brackets exactly when the nesting is within the limit;
    - *strings*: none can be longer than the whole text.
    """
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    doc = _plain_parse(raw, limits)
    if doc is _UNDECIDED or not _within_depth(raw, limits.max_depth):
        return _UNDECIDED
    return doc


def plain_object(data: str | bytes, limits: JsonLimits = DEFAULT_LIMITS) -> dict[str, Any] | None:
    """A JSON object as :func:`parse_json` reads it, when the quick scans decide it; else None — *without the depth
    scan*, for a caller that checks it against a schema of bounded depth before anything walks it (the record
    validator: a record nests 5 deep) and reads whatever that check refuses through :func:`parse_json`, which then
    decides and reports every problem at its path. The size, the number literals and repeated keys are checked as in
    :func:`parse_json`; every string is within the limit when the whole text is.
    """
    if len(data) > limits.max_bytes:
        return None
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    doc = _plain_parse(raw, limits)
    return doc if type(doc) is dict else None


def _plain_parse(raw: bytes, limits: JsonLimits) -> Any:
    """orjson's reading of ``raw`` when no string, number literal or repeated key needs the careful parse (see
    :func:`_plain_document`); the depth is not checked here."""
    if len(raw) > limits.max_string_chars or b"\\" in raw:
        return _UNDECIDED
    run = b"1" * (min(limits.max_number_chars, _PLAIN_NUMBER_CHARS) + 1)
    if run in raw.translate(_NUMBER_CHARS):
        return _UNDECIDED
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _UNDECIDED
    try:
        keys_kept = orjson.dumps(doc).count(b":")
    except orjson.JSONEncodeError:  # nested beyond orjson's writer (254 deep)
        return _UNDECIDED
    return doc if raw.count(b":") == keys_kept else _UNDECIDED


def _within_depth(raw: bytes, max_depth: int) -> bool:
    """Whether the brackets of a plain document (no escape) nest at most ``max_depth`` deep; False when a string holds
    a bracket (undecided)."""
    structure = raw.translate(_SQUARE, _NOT_STRUCTURE)
    quotes = structure.count(b'"')
    # Every string is an empty pair of quotes here unless it holds a bracket (then undecided).
    if quotes and structure.count(b'""') * 2 != quotes:
        return False
    brackets = structure.replace(b'""', b"") if quotes else structure
    for _ in range(max_depth):
        if not brackets:
            break
        brackets = brackets.replace(b"[]", b"")
    return not brackets


#: Every byte that can be part of a JSON number as ``1``, every other byte as a space (one C pass over the bytes).
_NUMBER_CHARS: Final = bytes(0x31 if c in b"-+.0123456789eE" else 0x20 for c in range(256))


def _decode(data: bytes) -> str:
    try:
        return data.decode(json.detect_encoding(data))
    except UnicodeDecodeError as exc:
        raise JsonInputError(
            [
                _problem(
                    (),
                    "malformed_json",
                    f"malformed JSON: the document is not UTF-8 (invalid byte at offset {exc.start})",
                    offset=exc.start,
                )
            ]
        ) from None


# Every byte but the brackets and the quote, deleted in one C pass (multi-byte UTF-8 is all >= 0x80, so deleted).
_NOT_STRUCTURE: Final = bytes(c for c in range(256) if c not in b'[]{}"')
_BRACKET_STEP: Final = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def _nesting(text: str) -> int:
    """How deep arrays and objects nest in ``text`` (valid JSON): 1 for ``[1]``, 0 for a scalar.

    Escaped backslashes, then escaped quotes, are dropped first (left to right, as JSON reads them), so every quote
    left opens or closes a string; what lies between them is dropped with them.
    """
    if "\\" in text:
        text = text.replace("\\\\", "").replace('\\"', "")
    structure = text.encode("utf-8", "surrogatepass").translate(None, _NOT_STRUCTURE)
    brackets = b"".join(structure.split(b'"')[::2])
    return max(accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0)


def _duplicates(d: dict[str, Any], pairs: list[tuple[str, Any]]) -> _DuplicateKeys:
    out = _DuplicateKeys(d)
    seen: set[str] = set()
    out.repeated = []
    for k, _ in pairs:
        if k in seen and k not in out.repeated:
            out.repeated.append(k)
        seen.add(k)
    return out


def _problem(loc: Loc, code: str, message: str, **ctx: Any) -> Problem:
    return Problem(loc, message, code=code, ctx=ctx or None)


def _too_deep(loc: Loc, limits: JsonLimits) -> Problem:
    return _problem(
        loc,
        "too_deep",
        f"arrays and objects nested more than {limits.max_depth} deep",
        limit=limits.max_depth,
    )


def _walk(doc: Any, limits: JsonLimits) -> list[Problem]:
    """Every limit violation in ``doc``, depth first; iterative, so any depth is safe to walk."""
    problems: list[Problem] = []
    # (value, depth of the value, its path)
    stack: list[tuple[Any, int, Loc]] = [(doc, 0, ())]
    while stack and len(problems) < limits.max_problems:
        value, depth, loc = stack.pop()
        if isinstance(value, str):
            if len(value) > limits.max_string_chars:
                problems.append(_long_string(loc, len(value), limits))
        elif isinstance(value, dict):
            if depth >= limits.max_depth:
                problems.append(_too_deep(loc, limits))
                continue
            if isinstance(value, _DuplicateKeys):
                for key in value.repeated:
                    problems.append(
                        _problem(
                            loc,
                            "duplicate_key",
                            f"key {key!r} appears more than once in this object",
                            key=key,
                        )
                    )
            items = list(value.items())
            for key, item in reversed(items):
                if len(key) > limits.max_string_chars:
                    problems.append(_long_string(loc, len(key), limits))
                    continue
                stack.append((item, depth + 1, (*loc, key)))
        elif isinstance(value, list):
            if depth >= limits.max_depth:
                problems.append(_too_deep(loc, limits))
                continue
            for i in range(len(value) - 1, -1, -1):
                stack.append((value[i], depth + 1, (*loc, i)))
        elif isinstance(value, _LongNumber):
            problems.append(
                _problem(
                    loc,
                    "number_too_long",
                    f"number has {value.chars} characters; at most {limits.max_number_chars} are accepted",
                    limit=limits.max_number_chars,
                    length=value.chars,
                )
            )
        elif isinstance(value, _NonFinite):
            problems.append(
                _problem(
                    loc,
                    "number_not_finite",
                    f"{value.literal} is not a JSON number; expected a finite number",
                )
            )
    return problems[: limits.max_problems]


def _long_string(loc: Loc, length: int, limits: JsonLimits) -> Problem:
    return _problem(
        loc,
        "string_too_long",
        f"string has {length} characters; at most {limits.max_string_chars} are accepted",
        limit=limits.max_string_chars,
        length=length,
    )


# A string (skipped whole; possessive, so a long string cannot backtrack) or one structural character.
_TOKEN: Final = re.compile(r'"(?:[^"\\]++|\\.)*+"|[\[\]{},:]')


def _deep_loc(text: str, max_depth: int) -> Loc:
    """The path of the first array/object nested deeper than ``max_depth`` (a best effort on malformed text)."""
    # Per open container: [is_object, current index or key]
    open_: list[list[Any]] = []
    last_string = ""
    for m in _TOKEN.finditer(text):
        tok = m.group()
        c = tok[0]
        if c == '"':
            last_string = tok
        elif c == "[" or c == "{":
            if len(open_) >= max_depth:
                return tuple(k for _, k in open_ if k is not None)
            open_.append([c == "{", None if c == "{" else 0])
        elif c == "]" or c == "}":
            if open_:
                open_.pop()
        elif c == ",":
            if open_ and not open_[-1][0]:
                open_[-1][1] += 1
        elif open_ and open_[-1][0]:  # ":" after a key
            try:
                open_[-1][1] = json.loads(last_string)
            except ValueError:
                open_[-1][1] = last_string.strip('"')
    return ()
