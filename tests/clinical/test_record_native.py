"""The native validator of parsed JSON records (clinical/_record_native.py) against the record models.

It may only ever be faster: whatever it accepts, the models accept too, with the same values (``Decimal`` for
``Decimal``, digit for digit); whatever the models refuse, it refuses (the models then write the report). Held here on
the examples, on the benchmark's dense record and on documents mutated at random into every kind of hostile value.
"""

from __future__ import annotations

import copy
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmemd.clinical import _record_checks, _record_native, record
from mmemd.clinical.errors import RecordError, loads
from mmemd.clinical.record import PatientRecord, cross_field_problems, parse_record_json
from mmemd.clinical.units import ANALYTES

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_assess import make_record  # noqa: E402


def models(doc: Any) -> PatientRecord | None:
    """The record the models build, or None when they refuse it."""
    try:
        return PatientRecord.model_validate(doc)
    except RecordError:
        return None


def decimals(x: Any) -> list[tuple[str, str]]:
    """Every Decimal of a model tree as (path, repr): equal values with other digits (1 vs 1.0) differ here."""
    out: list[tuple[str, str]] = []
    stack: list[tuple[str, Any]] = [("$", x)]
    while stack:
        path, v = stack.pop()
        if isinstance(v, Decimal):
            out.append((path, repr(v)))
        elif isinstance(v, list):
            stack.extend((f"{path}[{i}]", y) for i, y in enumerate(v))
        elif hasattr(v, "__pydantic_fields__"):
            stack.extend((f"{path}.{k}", getattr(v, k)) for k in type(v).__pydantic_fields__)
    return sorted(out)


def assert_same(native: PatientRecord, slow: PatientRecord) -> None:
    assert type(native) is type(slow)
    assert native == slow
    assert repr(native) == repr(slow)
    assert decimals(native) == decimals(slow)
    assert native.model_fields_set == slow.model_fields_set
    assert native.model_dump_json() == slow.model_dump_json()


def json_doc(doc: Any) -> Any:
    """``doc`` as it comes out of mmemd's JSON boundary."""
    return loads(json.dumps(doc))


def test_the_native_validator_is_built_from_the_models() -> None:
    """Every Python validator of the models is known here (else the batch silently loses the native reader)."""
    assert _record_native.native_validator() is not None


def test_the_native_validator_runs_its_own_schema_not_the_models_validators() -> None:
    """pydantic-core would reuse each model class's own validator: none of the checks the native schema replaces may
    run (the plausibility model validator, the date parser, the therapy id check, the record's wrap validator), and no
    model validator."""
    doc = json_doc(make_record())
    validator = _record_native.native_validator()
    validator.validate_python(doc)
    called: set[str] = set()

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            called.add(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        validator.validate_python(doc)
    finally:
        sys.setprofile(None)
    assert not called & {
        "_plausible",
        "_to_date",
        "_every_problem",
        "cross_field_problems",
        "_known_therapy",
    }, called
    if _record_checks.__file__.endswith(".py"):  # compiled (the mypyc build), the range checks leave no frame
        assert "check" in called
    assert PatientRecord.__pydantic_complete__ and record.Albumin.__pydantic_complete__


def test_a_schema_it_cannot_convert_leaves_the_models_to_read_every_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No native reader (an unknown validator in the models, another pydantic's layout): the models read alone."""

    def unknown(schema: Any) -> Any:
        raise _record_native.Unsupported("a validator without a native form")

    monkeypatch.setattr(_record_native, "_VALIDATOR", None)
    monkeypatch.setattr(_record_native, "_convert", unknown)
    monkeypatch.setattr(record, "_native_read", None)
    monkeypatch.setattr(record, "_json_records_read", 0)
    text = json.dumps(make_record()).encode()
    for _ in range(record.NATIVE_AFTER + 2):
        assert parse_record_json(text).id == "bench"
    assert record._native() is None and record._json_records_read == -1


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_is_accepted_with_the_models_values(path: Path) -> None:
    doc = loads(path.read_bytes())
    native = _record_native.validate_native(doc)
    slow = models(doc)
    assert native is not None and slow is not None
    assert_same(native, slow)


def test_the_dense_benchmark_record_is_accepted_with_the_models_values() -> None:
    doc = json_doc(make_record())
    native = _record_native.validate_native(doc)
    slow = models(doc)
    assert native is not None and slow is not None
    assert_same(native, slow)


def test_parse_record_json_reads_natively_after_a_few_records_with_the_same_results() -> None:
    text = json.dumps(make_record()).encode()
    bad = json.dumps({**make_record(), "age": "64"}).encode()
    first = parse_record_json(text)
    for _ in range(record.NATIVE_AFTER + 1):
        assert_same(parse_record_json(text), first)
    assert record._native() is _record_native.read
    with pytest.raises(RecordError) as info:
        parse_record_json(bad)
    assert [p.code for p in info.value.problems] == ["int_type"]


def test_a_record_read_natively_still_has_the_whole_boundary_s_reports() -> None:
    """After the native reader is built, what it leaves (too deep, a repeated key, NaN) gets the boundary's report."""
    text = json.dumps(make_record()).encode()
    for _ in range(record.NATIVE_AFTER + 1):
        parse_record_json(text)
    assert record._native() is not None
    deep = json.dumps({**make_record(), "lesions": "@"}).replace('"@"', "[" * 70 + "]" * 70)
    repeated = json.dumps(make_record()).replace('"age": 64', '"age": 64, "age": 65')
    nan = json.dumps(make_record()).replace('"age": 64', '"age": NaN')
    for bad, code in [(deep, "too_deep"), (repeated, "duplicate_key"), (nan, "number_not_finite")]:
        with pytest.raises(RecordError) as info:
            parse_record_json(bad)
        assert [p.code for p in info.value.problems] == [code]
        assert info.value.report() == _report_of(bad)


def _report_of(text: str) -> dict[str, Any]:
    """The report the models write for ``text`` (the boundary, then the models, as before the native reader)."""
    try:
        PatientRecord.model_validate(loads(text))
    except RecordError as exc:
        return exc.report()
    raise AssertionError("valid")


# --- values at and around every bound ---------------------------------------------------------------------------


def near(bound: Decimal) -> list[Any]:
    """JSON numbers at, just inside and just outside ``bound`` (as the nearest floats and as integers)."""
    f = float(bound)
    out: list[Any] = [f, -f, float(bound + Decimal("0.001")), float(bound - Decimal("0.001"))]
    out += [float.fromhex(f.hex()) + d for d in (2e-16, -2e-16, 1e-12, -1e-12)]
    if bound == bound.to_integral_value():
        out += [int(bound), int(bound) + 1, int(bound) - 1]
    return out


QUANTITY_PLACES = [
    (("labs", "beta2_microglobulin"), "beta2_microglobulin"),
    (("labs", "albumin"), "albumin"),
    (("labs", "ldh"), "ldh"),
    (("labs", "creatinine"), "creatinine"),
    (("current_labs", "calcium"), "calcium"),
    (("current_labs", "hemoglobin"), "hemoglobin"),
    (("assessments", 0, "serum_m_protein"), "serum_m_protein"),
    (("assessments", 0, "urine_m_protein"), "urine_m_protein"),
    (("assessments", 0, "free_light_chains", "kappa"), "free_light_chain"),
]


def put(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    node: Any = doc
    for part in path[:-1]:
        if isinstance(part, str) and part not in node:
            node[part] = {}
        node = node[part]
    node[path[-1]] = value


@pytest.mark.parametrize(("place", "analyte"), QUANTITY_PLACES, ids=lambda x: str(x))
def test_plausible_bounds_in_every_unit_agree_with_the_models(place: tuple[Any, ...], analyte: str) -> None:
    spec = ANALYTES[analyte]
    for unit, conv in spec.conversions.items():
        for bound in (spec.plausible_min, spec.plausible_max):
            in_unit = bound * conv.div / conv.mul
            for value in [*near(in_unit), 0, 0.0, -0.0, 1, -1e-300, 1e300]:
                doc = copy.deepcopy(make_record())
                quantity: dict[str, Any] = {"value": value, "unit": unit}
                if analyte == "ldh":
                    quantity["upper_limit_normal"] = 250
                put(doc, place, quantity)
                check(json_doc(doc))


def check(doc: Any) -> None:
    """The safety property: accepted natively => accepted by the models, with the same record."""
    native = _record_native.validate_native(doc) if type(doc) is dict else None
    slow = models(doc)
    if native is not None:
        assert slow is not None, doc
        assert_same(native, slow)


NUMBER_PLACES = [
    ("diagnosis", "clonal_bone_marrow_plasma_cells_pct"),
    ("diagnosis", "circulating_plasma_cells_pct"),
    ("labs", "ldh", "upper_limit_normal"),
    ("cytogenetics", "del_17p_clonal_fraction_pct"),
    ("assessments", 0, "bone_marrow_plasma_cells_pct"),
    ("assessments", 0, "bone_marrow_kappa_lambda_ratio_ihc"),
    ("assessments", 0, "circulating_plasma_cells_per_ul"),
    ("assessments", 0, "circulating_plasma_cells_pct"),
    ("assessments", 0, "plasmacytomas", 0, "longest_cm"),
    ("assessments", 0, "plasmacytomas", 1, "perpendicular_cm"),
    ("assessments", 0, "mrd", "sensitivity"),
]
NUMBERS_AND_OTHERS: list[Any] = [
    *[None, True, False, "1", "", [], {}, [1.0], {"value": 1.0}],
    *[0, 0.0, -0.0, 1, 1.0, 0.5, 1e-7, 5e-324, -1, -0.5, -1e-300, 49.99999999999999, 50, 50.0, 50.5],
    *[99.99999999999999, 100, 100.0, 100.00000000000001, 10000, 10000.5, 100000, 1e6, 1000001, 10**18, 1e300],
]


@pytest.mark.parametrize("place", NUMBER_PLACES, ids=lambda x: ".".join(map(str, x)))
def test_every_number_field_is_read_as_the_models_read_it(place: tuple[Any, ...]) -> None:
    """Each number field outside a quantity, whatever its value (in or out of range, read twice, not a number at all,
    ``null`` where it is required): accepted natively exactly when the models accept it, with the same Decimal."""
    for value in NUMBERS_AND_OTHERS * 2:
        doc = copy.deepcopy(make_record())
        doc["assessments"][0]["mrd"] = {"method": "NGF", "negative": True, "sensitivity": 1e-5}
        put(doc, place, value)
        doc = json_doc(doc)
        native, slow = _record_native.validate_native(doc), models(doc)
        assert (native is None) == (slow is None), value
        if native is not None and slow is not None:
            assert_same(native, slow)


def test_every_therapy_id_and_only_those_is_accepted_natively() -> None:
    """The therapy ids are matched natively against the vocabulary: each of its ids, and nothing else (another case,
    a space, a number), in a line's agents and refractory agents, exactly as the models decide."""
    from mmemd.knowledge import vocabulary

    ids = sorted(vocabulary().therapy_ids)
    assert ids
    for agent in [
        *ids,
        "",
        "Bortezomib",
        "bortezomib ",
        "unknown-agent",
        "dara",
        1,
        True,
        None,
        ["bortezomib"],
    ]:
        doc = copy.deepcopy(make_record())
        doc["therapy_history"][0]["agents"] = ["dexamethasone", agent]
        doc["therapy_history"][1]["refractory_agents"] = [agent]
        doc["therapy_history"][1]["agents"].append(agent)
        doc = json_doc(doc)
        native, slow = _record_native.validate_native(doc), models(doc)
        assert (native is None) == (slow is None), agent
        if native is not None and slow is not None:
            assert_same(native, slow)


def test_a_vocabulary_that_cannot_be_read_leaves_the_therapy_ids_to_the_models_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Building the native validator never fails on the vocabulary: the models' check then runs, and raises, as the
    models would."""
    import mmemd.knowledge

    def unreadable() -> Any:
        raise OSError("vocabulary unreadable")

    monkeypatch.setattr(_record_native, "_VALIDATOR", None)
    monkeypatch.setattr(mmemd.knowledge, "vocabulary", unreadable)
    validator = _record_native.native_validator()
    assert _record_native.validate_native(json_doc({**make_record(), "therapy_history": None})) is not None
    with pytest.raises(OSError, match="unreadable"):
        validator.validate_python(json_doc(make_record()))


# --- random hostile mutations -----------------------------------------------------------------------------------

HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [0, 0.0, -0.0, 1, 1.0, 5e-324, 1e-7, 0.5, 49.999999999999996, 50, 50.0, 100, 100.00000000000001]
    ),
    st.sampled_from(
        [
            "",
            "1",
            "1.5",
            "2025-01-06",
            "2025-02-30",
            "2024-02-29",
            "0000-01-01",
            "2025-1-6",
            "2025-01-06\n",
            "２０２５-01-06",
            "g/dL",
            "g/L",
            "mg/24 h",
            "µmol/L",
            "umol/L",
            "mmol/L",
            "U/L",
            "kappa",
            "lambda",
            "positive",
            "L1",
            "L2",
            "L3",
            "bortezomib",
            "unknown-agent",
        ]
    ),
    st.text(max_size=4),
    st.builds(list),  # a fresh object each time: a mutation must never reach another draw
    st.builds(dict),
    st.fixed_dictionaries({"value": st.just(1.0), "unit": st.just("g/dL")}),
)


def paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.append((*prefix, k))
            out += paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out.append((*prefix, i))
            out += paths(v, (*prefix, i))
    return out


def parent(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        doc = doc[part]
    return doc


BASES = [json.loads(p.read_text(encoding="utf-8")) for p in EXAMPLES] + [make_record(3)]


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    doc = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        where = paths(doc)
        if not where:
            break
        path = draw(st.sampled_from(where))
        node = parent(doc, path)
        action = draw(st.sampled_from(["replace", "replace", "replace", "delete", "extra", "swap", "copy"]))
        if action == "replace":
            node[path[-1]] = draw(HOSTILE)
        elif action == "delete":
            del node[path[-1]]
        elif action == "extra" and isinstance(node, dict):
            node[draw(st.sampled_from(["unit", "value", "lambda", "lambda_", "extra", "schema_"]))] = draw(
                HOSTILE
            )
        elif action == "swap" and isinstance(node, list) and len(node) > 1:
            node.reverse()
        elif action == "copy" and isinstance(node, list) and node:
            node.append(copy.deepcopy(node[0]))
    return doc


@settings(max_examples=400, deadline=None)
@given(mutated())
def test_a_mutated_document_is_never_accepted_natively_when_the_models_refuse_it(doc: Any) -> None:
    check(json_doc(doc))


def cross_field_breaks(doc: dict[str, Any], which: str, draw: st.DrawFn) -> None:
    """Break (or nearly break) one cross-field rule of docs/record.md in ``doc``."""
    lesions = doc.get("lesions") or []
    lines = doc.get("therapy_history") or []
    rows = doc.get("assessments") or []
    if which == "lesion" and lesions:
        lesions.append({**lesions[0], "id": draw(st.sampled_from([lesions[0]["id"], "other"]))})
    elif which == "line" and lines:
        lines.append({**lines[0], "line": draw(st.sampled_from([lines[0]["line"], 99]))})
    elif which == "refractory" and lines:
        lines[0]["refractory_agents"] = draw(st.sampled_from([lines[0]["agents"][:1], ["ixazomib"], []]))
    elif which == "del17p":
        doc["cytogenetics"] = {
            "del_17p": draw(st.sampled_from([None, False, True])),
            "del_17p_clonal_fraction_pct": draw(st.sampled_from([0, 0.0, -0.0, 1e-9, 35])),
        }
    elif which == "dates" and len(rows) > 1:
        rows[1]["date"] = draw(st.sampled_from([rows[0]["date"], "2000-01-01", "2099-12-31"]))
    elif which == "baseline" and rows:
        for row in rows[: draw(st.integers(min_value=1, max_value=2))]:
            row["baseline"] = draw(st.sampled_from([True, False, None]))
    elif which == "involved" and rows:
        rows[-1]["free_light_chains"] = {
            draw(st.sampled_from(["kappa", "lambda"])): {"value": 1.5, "unit": "mg/L"},
            "involved": draw(st.sampled_from([None, "kappa"])),
        }
    elif which == "plasmacytoma" and rows:
        ids = [les["id"] for les in lesions] + ["nowhere"]
        rows[-1]["plasmacytomas"] = [
            {
                "lesion": draw(st.sampled_from(ids)),
                "longest_cm": draw(st.sampled_from([0, 2, 2.0, 3.5, 2.0000000000000004])),
                "perpendicular_cm": draw(st.sampled_from([0, 2, 2.0, 1.5, 2.0000000000000004])),
            }
            for _ in range(draw(st.integers(min_value=1, max_value=3)))
        ]


@st.composite
def crossed(draw: st.DrawFn) -> Any:
    doc = copy.deepcopy(draw(st.sampled_from(BASES)))
    rules = ["lesion", "line", "refractory", "del17p", "dates", "baseline", "involved", "plasmacytoma"]
    for which in draw(st.lists(st.sampled_from(rules), min_size=1, max_size=2)):
        cross_field_breaks(doc, which, draw)
    return doc


@settings(max_examples=300, deadline=None)
@given(st.one_of(crossed(), mutated()))
def test_the_cross_field_rules_on_the_model_agree_with_the_document_rules(doc: Any) -> None:
    check(json_doc(doc))
    doc = json_doc(doc)
    if type(doc) is not dict:
        return
    try:
        rec = _record_native.native_validator().validate_python(doc)
    except Exception:
        return
    assert _record_native.consistent(rec) == (not cross_field_problems(doc))
