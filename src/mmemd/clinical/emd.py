"""Extramedullary disease (EMD) classification — docs/criteria.md §3.1 (definitions) and §3.3 (rule set [I]).

Order of decisions (§3.3):

1. **Plasma cell leukemia** — circulating plasma cells ≥5% on a smear (PCL21, §2.6), at diagnosis or in a later
   assessment. EMD lesions are then features of the PCL, not the class.
2. **Solitary plasmacytoma** (§2.6, [M]) — a single biopsy-proven lesion, clonal BMPC <10%, no myeloma-defining
   event. Bone (intraosseous or arising from bone) vs extramedullary; ``minimal_marrow_involvement`` when
   0 < clonal BMPC < 10%. Clonal BMPC ≥10% is myeloma.
3. **Myeloma with lesions** — any lesion without bone contact (haematogenous spread, §3.1 BLADE22/ROSINOL21) makes
   the class ``extramedullary``, which takes precedence over ``paraskeletal`` (tumour arising from a bone lesion
   through the cortex); ``also_paraskeletal`` records a paraskeletal lesion alongside. Intraosseous lesions are bone
   disease, not EMD.
4. **indeterminate** whenever the recorded data cannot decide between classes (e.g. a single soft-tissue lesion with
   unknown marrow, a lesion whose relation to bone is unknown, an absent lesion list). Never a guess.

The result does not depend on the order of ``lesions`` (lesions are processed sorted by id). The rules live in
:mod:`mmemd.clinical._emd_classify`, plain functions that the compiled build compiles; this module holds the settings,
the result model and the entry point.
"""

# Models: no `from __future__ import annotations`: pydantic need not compile each annotation (performance.md).

from decimal import Decimal
from typing import Final

import msgspec
from pydantic import BaseModel, ConfigDict

# The package, not its function: its exports load on first use (mmemd._lazy), and a module attribute is read
# faster than a `from … import` inside the function runs (that goes through the import system at every call).
from mmemd import knowledge
from mmemd.clinical._emd_classify import EmdCategory, Timing, classify
from mmemd.clinical.record import PatientRecord

__all__ = ["DEFAULT_EMD_SETTINGS", "EmdCategory", "EmdResult", "EmdSettings", "Timing", "classify_emd"]


# gc=False: holds numbers, strings, dates and tuples of them only, so never part of a reference cycle
class EmdSettings(msgspec.Struct, frozen=True, gc=False):
    """Thresholds and readings of the EMD classifier; each cites its source."""

    # Primary PCL: ≥5% circulating plasma cells on a peripheral blood smear (inclusive) —
    # docs/criteria.md §2.6 (PCL21, V-primary abstract).
    pcl_circulating_pct_min: Decimal = Decimal(5)
    # Solitary plasmacytoma with minimal marrow involvement: clonal BMPC <10% (strict); ≥10% = myeloma —
    # docs/criteria.md §2.6 (IMWG 2014) [M].
    solitary_clonal_bmpc_below_pct: Decimal = Decimal(10)
    # Solitary plasmacytoma must be a *biopsy-proven* lesion — docs/criteria.md §2.6 [M]. When True, a single
    # lesion without biopsy proof cannot be classed solitary and the result is indeterminate.
    solitary_requires_biopsy: bool = True
    # "Primary EMD = present at MM diagnosis" / "detected within diagnostic work-up of MM" — docs/criteria.md §3.1
    # and §3.3 [I]. A lesion whose ``detected_on`` is at most this many days after the diagnosis date counts as
    # detected in the diagnostic work-up (staging imaging commonly follows the diagnostic marrow by weeks).
    primary_workup_window_days: int = 30


DEFAULT_EMD_SETTINGS: Final = EmdSettings()


class EmdResult(BaseModel):
    """The ``emd`` section of ``mmemd.assessment/1``."""

    model_config = ConfigDict(frozen=True)

    category: EmdCategory
    timing: Timing | None
    cns: bool | None
    sites: list[str]
    also_paraskeletal: bool | None
    minimal_marrow_involvement: bool | None
    reasons: list[str]


def classify_emd(
    record: PatientRecord,
    settings: EmdSettings = DEFAULT_EMD_SETTINGS,
    *,
    site_ids: frozenset[str] | None = None,
    cns_site_ids: frozenset[str] | None = None,
) -> EmdResult:
    """Classify the record's EMD status (docs/criteria.md §3.3), each decision with its reason."""
    if site_ids is None or cns_site_ids is None:
        v = knowledge.vocabulary()
        site_ids = v.site_ids if site_ids is None else site_ids
        cns_site_ids = v.cns_site_ids if cns_site_ids is None else cns_site_ids

    category, timing, cns, sites, also, minimal, reasons = classify(record, settings, site_ids, cns_site_ids)
    return EmdResult(
        category=category,
        timing=timing,
        cns=cns,
        sites=sites,
        also_paraskeletal=also,
        minimal_marrow_involvement=minimal,
        reasons=reasons,
    )
