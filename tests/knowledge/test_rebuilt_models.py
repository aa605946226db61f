"""Models rebuilt from validated values (:mod:`mmemd._validated`) are the validated models: every claim of the store
and every vocabulary term rebuilt equals its validated self value for value and type, set fields included; data off
the fields' annotations are validated (and rejected) instead."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from enum import Enum
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field, ValidationError

from mmemd._validated import NotRebuilt, plain, rebuilder
from mmemd.knowledge import load
from mmemd.knowledge._kb import _stored_claim
from mmemd.knowledge._models import Claim, Population
from mmemd.knowledge._vocab import _SECTIONS, vocabulary

Identical = Callable[[Any, Any], None]


@pytest.fixture(scope="module")
def stored_docs() -> list[str]:
    kb = load()
    return [doc for (doc,) in kb._rows("SELECT doc FROM claims ORDER BY id")]


def test_every_stored_claim_rebuilt_is_the_validated_claim(
    stored_docs: list[str], assert_identical: Identical
) -> None:
    assert len(stored_docs) > 200
    assert any('"value":"' in d for d in stored_docs)  # Decimals, enums and nested populations all occur
    for doc in stored_docs:
        assert_identical(_stored_claim(doc), Claim.model_validate_json(doc))
        assert_identical(rebuilder(Claim)(json.loads(doc)), Claim.model_validate_json(doc))


def test_every_claim_and_term_survives_plain_and_back(
    stored_docs: list[str], assert_identical: Identical
) -> None:
    for doc in stored_docs:
        claim = Claim.model_validate_json(doc)
        assert_identical(rebuilder(Claim)(plain(claim)), claim)
    vocab = vocabulary()
    for section, model in _SECTIONS.items():
        for term in getattr(vocab, section).values():
            assert_identical(rebuilder(model)(plain(term)), term)


def test_set_fields_are_kept(assert_identical: Identical) -> None:
    pop = Population.model_validate({"disease": "MM", "emd": "emd"})
    assert pop.model_fields_set == {"disease", "emd"}
    assert_identical(rebuilder(Population)(plain(pop)), pop)
    assert rebuilder(Population)(plain(pop)).model_dump(exclude_unset=True) == {"disease": "MM", "emd": "emd"}


@pytest.mark.parametrize(
    "change",
    [
        {"value": 57.1},  # a Decimal written as a number could be inexact
        {"value": "many"},
        {"category": "not a category"},
        {"population": "MM"},
        {"interventions": 3},
    ],
    ids=["decimal-as-number", "not-a-number", "unknown-enum", "model-as-str", "tuple-as-int"],
)
def test_data_off_the_annotations_are_validated_instead(
    stored_docs: list[str], change: dict[str, Any], assert_identical: Identical
) -> None:
    doc = json.loads(stored_docs[0])
    doc.update(change)
    with pytest.raises(NotRebuilt):
        rebuilder(Claim)(doc)
    text = json.dumps(doc)
    try:
        want: Claim | None = Claim.model_validate_json(text)
    except ValidationError:
        want = None
    if want is None:
        with pytest.raises(ValidationError):
            _stored_claim(text)
    else:
        assert_identical(_stored_claim(text), want)


def test_a_missing_required_field_is_validated_instead(stored_docs: list[str]) -> None:
    doc = json.loads(stored_docs[0])
    del doc["statement_en"]
    with pytest.raises(NotRebuilt, match="statement_en"):
        rebuilder(Claim)(doc)
    with pytest.raises(ValidationError):
        _stored_claim(json.dumps(doc))


def test_a_damaged_document_is_validated_instead(stored_docs: list[str]) -> None:
    with pytest.raises(ValidationError):
        _stored_claim(stored_docs[0][:-5])


class _Kind(Enum):
    a = "a"


class _Inner(BaseModel):
    x: Decimal


class _Outer(BaseModel):
    kind: _Kind
    inner: list[_Inner] = Field(default_factory=list)
    by_name: dict[str, _Inner] = Field(default_factory=dict)
    maybe: _Inner | None = None
    lit: Literal["p", "q"] = "p"
    any_: Any = None


def test_lists_dicts_optionals_and_any_are_followed(assert_identical: Identical) -> None:
    model = _Outer.model_validate(
        {
            "kind": "a",
            "inner": [{"x": "1.10"}],
            "by_name": {"k": {"x": "2"}},
            "maybe": None,
            "any_": [1, (2, 3)],
        }
    )
    assert_identical(rebuilder(_Outer)(plain(model)), model)
    assert_identical(
        rebuilder(_Outer)(json.loads(model.model_dump_json())),
        _Outer.model_validate_json(model.model_dump_json()),
    )


class _Unionised(BaseModel):
    either: int | str


class _Pair(BaseModel):
    pair: tuple[int, str]


@pytest.mark.parametrize("model", [_Unionised, _Pair])
def test_annotations_that_need_validation_are_refused(model: type[BaseModel]) -> None:
    with pytest.raises(NotRebuilt):
        rebuilder(model)
