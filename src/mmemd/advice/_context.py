"""The patient facts the decision-support rules match on, derived from a record and its assessment.

Every fact is three-valued where the data can be missing: ``None`` means unknown, and a rule condition on an
unknown fact is *undecided* (reported by ``mmemd explain``), never silently true or false.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, cast

import msgspec

from mmemd.clinical.context import (
    BCMA_DIRECTED,
    ClinicalContext,
    _get,
    _value,
    derive_context,
    shared,
)
from mmemd.knowledge import Vocabulary, load_glossary

#: The entity pathway implied by an EMD category, for contexts built without a clinical context (tests, rules).
_PATHWAY_OF_CATEGORY = {
    "solitary_bone_plasmacytoma": "solitary_plasmacytoma",
    "solitary_extramedullary_plasmacytoma": "solitary_plasmacytoma",
    "plasma_cell_leukemia": "plasma_cell_leukemia",
    "indeterminate": "indeterminate",
    "none": "myeloma_without_emd",
    "paraskeletal": "myeloma_paraskeletal",
    "extramedullary": "myeloma_emd",
}


# gc=False: holds numbers, strings, dates and tuples of them only, so never part of a reference cycle
class TherapyExposure(msgspec.Struct, frozen=True, gc=False):
    line: int | None
    agent: str
    refractory: bool | None


class PatientContext(msgspec.Struct, frozen=True, dict=True):
    patient_id: str
    phase: str
    age: int | None
    transplant_eligible: bool | None
    emd_category: str | None
    emd_timing: str | None
    cns: bool | None
    sites: tuple[str, ...]
    high_risk: bool | None
    high_risk_features: tuple[str, ...]
    t_11_14: bool | None
    del_17p: bool | None
    t_4_14: bool | None
    t_14_16: bool | None
    iss: str | None
    r_iss: str | None
    r2_iss: str | None
    response_current: str | None
    progressive_disease: bool | None
    lesions: tuple[dict[str, Any], ...]
    exposures: tuple[TherapyExposure, ...]
    labs_missing: tuple[str, ...]
    #: agents and procedures ever given, and the classes they belong to
    exposed: frozenset[str] = frozenset()
    #: agents (and their classes) the disease was refractory to
    refractory: frozenset[str] = frozenset()
    #: where each refractory id comes from, for the caution's ``because``
    refractory_because: dict[str, str] = msgspec.field(default_factory=dict)
    #: the same, in Chinese
    refractory_because_zh: dict[str, str] = msgspec.field(default_factory=dict)
    #: the shared patient context (clinical/context.py): fitness, kidney, line history, prior procedures
    clinical: ClinicalContext | None = None

    # Derived facts, computed on first read and kept in the instance (the rules read them some fifty times a
    # patient; the context is frozen, so they cannot go stale). Not fields: equality and repr are unchanged.
    @cached_property
    def pathway(self) -> str | None:
        if self.clinical is not None:
            return self.clinical.pathway
        return _PATHWAY_OF_CATEGORY.get(self.emd_category or "")

    @cached_property
    def current_agents(self) -> tuple[str, ...]:
        line = self.clinical.current_line if self.clinical else None
        return line.agents if line else ()

    @cached_property
    def emd_present(self) -> bool | None:
        if self.emd_category in ("extramedullary", "paraskeletal"):
            return True
        if self.emd_category in (None, "indeterminate"):
            return None
        return False

    @cached_property
    def multiple_sites(self) -> bool | None:
        if self.emd_present is False:
            return False
        return len(set(self.sites)) > 1 if self.sites else None


#: Exposures already made, by their fields (frozen, so shared between patients).
_EXPOSURES: dict[tuple[Any, ...], TherapyExposure] = {}


def build_context(record: Any, assessment: Any, vocab: Vocabulary) -> PatientContext:
    """Facts from a ``mmemd.patient/1`` record and its ``mmemd.assessment/1`` (models or plain dicts)."""
    clinical = derive_context(record, assessment, vocab.agent_class)
    exposures: list[TherapyExposure] = []
    for line in clinical.lines:
        for agent in line.agents:
            exposures.append(
                shared(
                    _EXPOSURES,
                    TherapyExposure,
                    line.line,
                    agent,
                    agent in line.refractory_agents or line.refractory.value,
                )
            )
    because_zh = _refractory_because_zh(clinical, vocab)
    cyto = _get(record, "cytogenetics")
    labs = _get(record, "labs")
    missing = [
        name
        for name in ("beta2_microglobulin", "albumin", "ldh")
        if _get(labs, name) is None or (name == "ldh" and _get(labs, "ldh", "upper_limit_normal") is None)
    ]
    return PatientContext(
        patient_id=str(_get(record, "id")),
        phase=str(_value(_get(record, "phase"))),
        age=_get(record, "age"),
        transplant_eligible=_get(record, "transplant_eligible"),
        emd_category=_value(_get(assessment, "emd", "category")),
        emd_timing=_value(_get(assessment, "emd", "timing")),
        cns=_get(assessment, "emd", "cns"),
        sites=tuple(_get(assessment, "emd", "sites") or ()),
        high_risk=_get(assessment, "staging", "high_risk"),
        high_risk_features=tuple(_get(assessment, "staging", "high_risk_features") or ()),
        t_11_14=_get(cyto, "t_11_14"),
        del_17p=_get(cyto, "del_17p"),
        t_4_14=_get(cyto, "t_4_14"),
        t_14_16=_get(cyto, "t_14_16"),
        iss=_value(_get(assessment, "staging", "iss")),
        r_iss=_value(_get(assessment, "staging", "r_iss")),
        r2_iss=_value(_get(assessment, "staging", "r2_iss", "group")),
        response_current=_value(_get(assessment, "response", "current")),
        progressive_disease=_get(assessment, "response", "progressive_disease"),
        lesions=tuple(_lesion_dict(x) for x in (_get(record, "lesions") or [])),
        exposures=tuple(exposures),
        labs_missing=tuple(missing),
        exposed=clinical.exposed_agents | clinical.exposed_classes,
        refractory=clinical.refractory_agents | clinical.refractory_classes,
        refractory_because=dict(clinical.refractory_because),
        refractory_because_zh=because_zh,
        clinical=clinical,
    )


def _refractory_because_zh(clinical: ClinicalContext, vocab: Vocabulary) -> dict[str, str]:
    """Why each refractory agent (and its classes) is refractory, in Chinese, from the same line facts as the
    English ``refractory_because`` (the first line that makes it refractory wins, as there)."""
    out: dict[str, str] = {}
    for line in clinical.lines:
        for agent in line.refractory_agents:
            how = "据治疗中进展推导" if agent in line.derived_agents else "病历记录"
            text = f"{vocab.label(agent, 'zh')}难治（第{line.line}线，{how}）"
            out.setdefault(agent, text)
            cls = vocab.agent_class(agent)
            if cls:
                out.setdefault(cls, text)
            if agent in BCMA_DIRECTED:
                out.setdefault("bcma_directed", text)
    return out


def term_label(vocab: Vocabulary, term_id: str, lang: str) -> str:
    """A drug, class or procedure by its name in ``lang``; a tracked class that is no pharmacological class of the
    vocabulary (BCMA-directed) by its glossary entry ``class.<id>``."""
    if vocab.term(term_id) is not None:
        return vocab.label(term_id, lang)
    return load_glossary().term(f"class.{term_id}", "zh" if lang == "zh" else "en")


def _lesion_dict(lesion: Any) -> dict[str, Any]:
    if isinstance(lesion, dict):
        return lesion
    # A model: its JSON-mode dict straight from its pydantic-core serialiser (what model_dump(mode="json") returns,
    # without that method's Python wrapper).
    serializer = getattr(type(lesion), "__pydantic_serializer__", None)
    if serializer is not None:
        return cast(dict[str, Any], serializer.to_python(lesion, mode="json"))
    return dict(vars(lesion))
