"""How the engine decided, in the reader's language: the engine's own reason lines in English, the same lines worded
in Chinese from the same values (report/_reasons_zh.py), and the high-risk features rendered from the record's
structured facts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mmemd.report._i18n import Lang
from mmemd.report._reasons_zh import reasons_zh

if TYPE_CHECKING:
    from mmemd.report._model import Report

#: What a Chinese line says when the record cannot be re-read into the facts its text is rendered from.
SEE_REPORT_ZH = "详见报告"


def decision_basis(r: Report, lang: Lang) -> list[str]:
    """How the engine decided: its reason lines (EMD, staging, response) in ``lang``, fact for fact."""
    return clinician_reasons(r.record, r.assessment, lang)


def _record(record: Any) -> Any:
    from mmemd.clinical.record import PatientRecord, parse_record

    return record if isinstance(record, PatientRecord) else parse_record(record)


def _lesion_ids(record: Any) -> list[str]:
    lesions = record.get("lesions") if isinstance(record, dict) else getattr(record, "lesions", None)
    return [str(les["id"] if isinstance(les, dict) else les.id) for les in lesions or ()]


def clinician_reasons(record: Any, assessment: Any, lang: Lang) -> list[str]:
    """How the engine decided, for a clinician (the report, the text summary, the web page): the engine's own
    reason lines in English; in Chinese the same lines worded from the same values (numbers, dates, thresholds,
    criterion cites) through the reason templates' Chinese (:mod:`mmemd.report._reasons_zh`). ``record`` is a
    :class:`PatientRecord` or its JSON; its lesion ids are kept as written."""
    english = [*assessment.emd.reasons, *assessment.staging.reasons, *assessment.response.reasons]
    if lang == "en":
        return english
    return reasons_zh(english, _lesion_ids(record))


def high_risk_texts(record: Any, features: Sequence[object], lang: Lang) -> list[str]:
    """The high-risk features in ``lang``: the engine's own (English) texts ``features``, or in Chinese rendered from
    the record's structured facts (a :class:`PatientRecord` or its JSON), as the report renders them."""
    from mmemd.clinical.risk import feature_text, high_risk

    texts = [str(f) for f in features]
    if lang == "en" or not texts:
        return texts
    try:
        rec = _record(record)
    except Exception:  # as above: never the English text in a Chinese output
        return [SEE_REPORT_ZH]
    facts = high_risk(rec.cytogenetics, rec.labs).feature_facts
    if len(facts) != len(texts):
        return [SEE_REPORT_ZH]
    return [feature_text(f, lang) for f in facts]
