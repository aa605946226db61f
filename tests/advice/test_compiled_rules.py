"""The compiled rules give what the rule language says, whatever patients came before.

The engine compiles each rule's ``when`` into closures that keep their checks by the facts they read, and keeps each
item (work-up, prognosis, statement, option, ranked option, context row) by the facts it was made from. Two things
could go wrong: a compiled condition that disagrees with the reference interpreter ``evaluate``, and a kept item
handed to a patient whose facts differ in something the key left out. Both are checked here over the examples and
1,000 generated patients (tests/advice/_advice_generated.py): every rule's compiled checks equal the interpreter's, and the
whole advice (document and rule trace) made with stores warmed on other patients, in another order, equals the
advice made with every store empty.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec.structs
from _advice_generated import BASES, varied_records

from mmemd.advice import _assess, _engine
from mmemd.advice._conditions import compile_when, evaluate
from mmemd.advice._context import PatientContext, build_context
from mmemd.advice._engine import Rules, load_rules
from mmemd.clinical.assessment import assess
from mmemd.clinical.record import parse_record
from mmemd.knowledge import load

KB = load()
RECORDS = [*BASES, *varied_records(1000)]


def _whens(rules: Rules) -> list[dict[str, Any]]:
    out = [r.when for r in (*rules.workup, *rules.prognosis, *rules.statements, *rules.options)]
    for opt in rules.options:
        out += [ex.when for ex in opt.exclude]
        out += [c.when for c in opt.cautions]
    return out


def _contexts() -> list[PatientContext]:
    out = []
    for raw in RECORDS:
        rec = parse_record(raw)
        out.append(build_context(rec, assess(rec), KB.vocabulary))
    return out


def test_generated_patients_cover_every_pathway_and_phase() -> None:
    # the comparison below only means something if the patients reach the rules
    ctxs = _contexts()
    assert {c.pathway for c in ctxs} >= {
        "myeloma_emd",
        "myeloma_paraskeletal",
        "myeloma_without_emd",
        "plasma_cell_leukemia",
        "solitary_plasmacytoma",
        "indeterminate",
    }
    assert {c.phase for c in ctxs} == {"newly_diagnosed", "relapsed_refractory"}
    assert sum(1 for c in ctxs if c.refractory) > 300


def test_every_compiled_rule_checks_as_the_interpreter_does() -> None:
    whens = _whens(load_rules())
    compiled = [compile_when(w) for w in whens]
    outcomes: set[str] = set()
    for ctx in _contexts():
        for when, run in zip(whens, compiled, strict=True):
            got = run(ctx)
            assert list(got) == evaluate(when, ctx), (ctx.patient_id, when)
            outcomes.update(c.outcome for c in got)
    assert outcomes == {"met", "not_met", "undecided"}


def _document(raw: dict[str, Any], rules: Rules) -> bytes:
    rec = parse_record(raw)
    base = assess(rec)
    advice = _engine.advise_context(build_context(rec, base, KB.vocabulary), KB, rules)
    section = _assess.context_section(advice.context)
    doc = [
        [o.model_dump(mode="json") for o in advice.options],
        [o.model_dump(mode="json") for o in advice.not_suitable],
        [o.model_dump(mode="json") for o in advice.workup],
        [o.model_dump(mode="json") for o in advice.prognosis],
        [o.model_dump(mode="json") for o in advice.statements],
        section.model_dump(mode="json") if section is not None else None,
    ]
    return json.dumps(doc, ensure_ascii=False).encode() + repr(advice.trace).encode()


def _empty_stores() -> None:
    _engine._RANKED.clear()
    _engine._THIN.clear()
    _assess._ROWS.clear()


def test_advice_with_warm_stores_equals_advice_made_afresh() -> None:
    rules = load_rules()
    # warmed in the reverse order: each patient meets stores filled by the patients after it
    warm = {id(r): _document(r, rules) for r in RECORDS[::-1]}
    for raw in RECORDS:
        # a copy of the rules compiles afresh: every condition and item store starts empty
        fresh_rules = msgspec.structs.replace(rules)
        _empty_stores()
        assert _document(raw, fresh_rules) == warm[id(raw)], raw["id"]


def test_the_stores_stay_bounded_whatever_the_number_of_patients() -> None:
    rules = load_rules()
    for raw in RECORDS:
        _document(raw, rules)
    compiled = _engine.compiled_rules(rules, KB)
    per_rule = [o.kept for o in (*compiled.options, compiled.trial) if o is not None]
    per_rule += [o.fired for o in compiled.options]
    per_rule += [r.kept for r in (*compiled.workup, *compiled.prognosis, *compiled.statements)]
    assert all(len(s) <= _engine._ITEMS_KEPT for s in per_rule)
    assert len(_engine._RANKED) <= _engine._RANKED_KEPT
    assert len(_assess._ROWS) <= _assess._ROWS_KEPT
    # what the stores hold together is far more than one store may: the bound is what keeps memory flat
    assert sum(len(s) for s in per_rule) > 4 * _engine._ITEMS_KEPT


def test_a_full_store_is_emptied_before_the_next_item() -> None:
    store: dict[int, int] = {}
    for i in range(_engine._ITEMS_KEPT + 1):
        assert _engine._keep(store, i, i) == i
    assert store == {_engine._ITEMS_KEPT: _engine._ITEMS_KEPT}


def test_the_option_adds_a_class_exactly_when_new_classes_lists_one() -> None:
    # ranking and the refractory exclusion ask only whether an option adds a drug class not given before
    rules = load_rules()
    answers: set[bool] = set()
    for ctx in _contexts():
        for opt in rules.options:
            got = _engine._adds_class(opt, ctx, KB)
            assert got is bool(_engine.new_classes(opt, ctx, KB)), (ctx.patient_id, opt.id)
            answers.add(got)
    assert answers == {True, False}


def test_derived_facts_kept_in_the_context_equal_a_fresh_reading() -> None:
    # the context keeps pathway, current agents, EMD present and multiple sites after their first read
    derived = ("pathway", "current_agents", "emd_present", "multiple_sites")
    seen: dict[str, set[Any]] = {name: set() for name in derived}
    for ctx in _contexts():
        first = [getattr(ctx, name) for name in derived]
        fresh = msgspec.structs.replace(ctx)  # same fields, nothing kept yet
        again = [getattr(ctx, name) for name in derived]
        assert first == again == [getattr(fresh, name) for name in derived], ctx.patient_id
        for name, value in zip(derived, first, strict=True):
            seen[name].add(value)
    assert {True, False, None} <= seen["emd_present"] and {True, False} <= seen["multiple_sites"]
    assert len(seen["current_agents"]) > 10
