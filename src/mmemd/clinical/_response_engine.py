"""The assessment loop: per-assessment category, confirmation, progression, relapse from CR.

Pass 1 evaluates each assessment after the baseline on its own data (parameter masks, PD criteria against
nadirs of the earlier assessments). Pass 2 confirms (general rule 1): a response level at an assessment
is confirmed when the laboratory parameters of the neighbouring laboratory assessment (previous or next)
also reach it — marrow and imaging need no second assessment; a laboratory PD (M-protein, FLC, and by
default circulating PCs) is confirmed by a neighbouring PD, imaging and marrow PD need none. Pass 3 reads
the timeline: after the first confirmed PD every later assessment is PD (the disease progressed on this
line; a new line needs a new baseline), the best confirmed response, and relapse from CR.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Final

from mmemd.clinical._response_baseline import MEASURABLE, Baseline, build_baseline
from mmemd.clinical._response_lesions import (
    LesionTracker,
    Measures,
    imaging_step,
    is_zero,
    plasmacytoma_mask,
    spd_of,
)
from mmemd.clinical._response_levels import (
    ALL,
    CR,
    NAMES,
    NO_MR,
    NOT_EVALUABLE,
    ORDER,
    PD_NAME,
    SD,
    ResponseCategory,
)
from mmemd.clinical._response_params import (
    flc_mask,
    ihc_clonal,
    ihc_mask,
    marrow_mask,
    reduction_cuts,
    serum_mask,
    urine_mask,
)
from mmemd.clinical._response_progression import (
    Nadir,
    PdInfo,
    cpc_progression,
    dflc_progression,
    marrow_progression,
    serum_progression,
    urine_progression,
)
from mmemd.clinical.snapshot import Snapshot

if TYPE_CHECKING:
    from mmemd.clinical.response import ResponseSettings

_ZERO: Final = Decimal(0)

# Parameter indices (order of Assessed.masks and of by_parameter).
SERUM: Final = 0
URINE: Final = 1
FLC: Final = 2
MARROW: Final = 3
IHC: Final = 4
PLASMACYTOMAS: Final = 5
PARAM_COUNT: Final = 6

LAB_PD_CODES: Final = frozenset({"serum", "urine", "dflc"})


class Assessed:
    """One assessment after the baseline: pass 1 fills the constructor's fields, passes 2 and 3 the rest."""

    # A plain class (not a msgspec Struct): mypyc compiles it to a native class; see _response_baseline.Baseline.
    __slots__ = (
        "category",
        "conf_level",
        "confirmed",
        "confirmed_by",
        "evaluable",
        "has_labs",
        "ihc_from",
        "index",
        "lab",
        "level",
        "marrow_from",
        "mask",
        "masks",
        "measures",
        "missing",
        "pd",
        "pd_confirmed",
        "pd_info",
        "pd_needs_confirmation",
    )

    def __init__(
        self,
        index: int,
        evaluable: bool,
        mask: int,
        lab: int,
        has_labs: bool,
        masks: tuple[int, int, int, int, int, int],
        missing: int,  # bit p set: parameter p lacked a datum it needs for a higher level
        pd: tuple[str, ...],
        pd_info: tuple[PdInfo, ...],
        pd_needs_confirmation: bool,
        marrow_from: int | None,
        ihc_from: int | None,
        measures: Measures,
    ) -> None:
        self.index = index
        self.evaluable = evaluable
        self.mask = mask
        self.lab = lab
        self.has_labs = has_labs
        self.masks = masks
        self.missing = missing
        self.pd = pd
        self.pd_info = pd_info
        self.pd_needs_confirmation = pd_needs_confirmation
        self.marrow_from = marrow_from
        self.ihc_from = ihc_from
        self.measures = measures
        # pass 2 / 3
        self.level = SD
        self.conf_level = SD
        self.confirmed_by: int | None = None
        self.pd_confirmed = False
        self.category: ResponseCategory = NOT_EVALUABLE
        self.confirmed: bool | None = None


class EngineResult:
    """The engine's answer: the baseline, every assessment after it (None before and at the baseline) and what the
    timeline reading found (indices into the assessments)."""

    # A plain class (not a msgspec Struct): mypyc compiles it to a native class; see _response_baseline.Baseline.
    __slots__ = (
        "assessed",
        "base",
        "best",
        "best_index",
        "cr_confirmed_at",
        "first_confirmed_pd",
        "relapse_at",
    )

    def __init__(
        self,
        base: Baseline,
        assessed: list[Assessed | None],
        first_confirmed_pd: int | None,
        best: ResponseCategory,
        best_index: int | None,
        cr_confirmed_at: int | None,
        relapse_at: int | None,
    ) -> None:
        self.base = base
        self.assessed = assessed
        self.first_confirmed_pd = first_confirmed_pd
        self.best = best
        self.best_index = best_index
        self.cr_confirmed_at = cr_confirmed_at
        self.relapse_at = relapse_at


def baseline_index(snaps: Sequence[Snapshot]) -> int:
    flagged = [i for i, s in enumerate(snaps) if s.baseline]
    if len(flagged) > 1:
        raise ValueError("more than one assessment is marked as baseline")
    return flagged[0] if flagged else 0


def _serum_value(s: Snapshot) -> Decimal | None:
    # A negative IFE means no M-protein: it is a value of 0 for the nadir (§1.5 "Nadir = 0 (from CR)").
    if s.serum_m_protein_g_dl is not None:
        return s.serum_m_protein_g_dl
    return _ZERO if s.serum_ife_positive is False else None


def _urine_value(s: Snapshot) -> Decimal | None:
    if s.urine_m_protein_mg_24h is not None:
        return s.urine_m_protein_mg_24h
    return _ZERO if s.urine_ife_positive is False else None


def run(
    snaps: Sequence[Snapshot],
    baseline_lesions: Collection[str],
    s: ResponseSettings,
    rrmm: bool | None,
) -> EngineResult:
    bi = baseline_index(snaps)
    base = build_baseline(snaps, bi, baseline_lesions, s)
    n = len(snaps)
    confirmed_pair = s.nadir_reading == "confirmed_pair"
    serum_n, urine_n, dflc_n, cpc_n = (Nadir(confirmed_pair) for _ in range(4))
    marrow_n = Nadir(False)
    tracker = LesionTracker()
    b = base.snap
    lesions = base.lesions
    base_measures: Measures = {m.lesion: m for m in b.plasmacytomas}
    serum_n.push(_serum_value(b), b.date)
    urine_n.push(_urine_value(b), b.date)
    dflc_n.push(base.dflc, b.date)
    marrow_n.push(b.bone_marrow_plasma_cells_pct, b.date)
    cpc_n.push(b.circulating_plasma_cells_per_ul, b.date)
    # the baseline's measurements are the first nadirs (no earlier nadir: nothing can be found against them)
    imaging_step(
        base, base_measures, spd_of(lesions, base_measures) if lesions else None, None, tracker, s, [], b.date
    )

    # What stays the same over the patient's assessments, read once.
    mr_filter = NO_MR if s.mr_rrmm_only and rrmm is not True else ALL
    primary = base.primary
    flc_primary = primary == "flc"
    marrow_primary = primary == "marrow"
    serum_primary = base.serum_role == MEASURABLE
    urine_primary = base.urine_role == MEASURABLE
    serum_role, serum_base = base.serum_role, base.serum
    urine_role, urine_base = base.urine_role, base.urine
    base_dflc, base_marrow, involved = base.dflc, base.marrow, base.involved
    dflc_pd, marrow_pd, cpc_pd = base.dflc_pd, base.marrow_pd, base.cpc_pd
    lab_conf = s.pd_lab_confirmation_required
    cpc_conf = s.pd_cpc_confirmation_required
    marrow_carry = s.marrow_carry_forward
    # M-protein PD needs a rise of at least a positive minimum (§1.3 PD (a); §1.5 "Nadir >= 5 g/dL"): with the
    # minimums above zero, a value that did not rise above its nadir cannot meet it, so the test is not run.
    serum_rise = s.pd_serum_min_increase_g_dl > _ZERO and s.pd_serum_high_nadir_increase_g_dl > _ZERO
    urine_rise = s.pd_urine_min_increase_mg_24h > _ZERO
    # The right-hand sides of the reduction tests against the baseline (§1.3), computed once a patient.
    serum_cuts = reduction_cuts(
        serum_base, s.vgpr_serum_reduction_pct, s.pr_serum_reduction_pct, s.mr_serum_reduction_pct
    )
    urine_cuts = reduction_cuts(urine_base, s.pr_urine_reduction_pct, s.mr_urine_reduction_pct)
    flc_cuts = reduction_cuts(base_dflc, s.vgpr_flc_reduction_pct, s.pr_flc_reduction_pct)
    marrow_cuts = reduction_cuts(base_marrow, s.pr_marrow_reduction_pct)
    spd_cuts = reduction_cuts(base.spd, s.pr_spd_threshold_pct, s.mr_spd_threshold_pct)
    imaging_carry = s.imaging_carry_forward
    # Only marrows taken after the baseline are carried forward: the baseline marrow measures the disease
    # before treatment, not a response.
    last_marrow: int | None = None
    last_ihc: int | None = None
    last_ihc_value: bool | None = None
    last_seen: Measures = dict(base_measures)

    assessed: list[Assessed | None] = [None] * n
    for i in range(bi + 1, n):
        sn = snaps[i]
        actual: Measures = {m.lesion: m for m in sn.plasmacytomas} if sn.plasmacytomas else {}
        # The SPD of the baseline lesions as imaged at this date: read by the progression test, the lesion
        # nadirs and (unless carried forward) the response mask.
        spd = spd_of(lesions, actual) if lesions and actual else None
        serum_m = sn.serum_m_protein_g_dl
        urine_m = sn.urine_m_protein_mg_24h
        serum_ife = sn.serum_ife_positive
        urine_ife = sn.urine_ife_positive
        # A negative IFE means no M-protein: it is a value of 0 for the nadir (§1.5 "Nadir = 0 (from CR)").
        serum_v = serum_m if serum_m is not None else (_ZERO if serum_ife is False else None)
        urine_v = urine_m if urine_m is not None else (_ZERO if urine_ife is False else None)
        kappa = sn.flc_kappa_mg_dl
        lam = sn.flc_lambda_mg_dl
        if kappa is None or lam is None or involved is None:
            dflc_v = None
        else:
            dflc_v = kappa - lam if involved == "kappa" else lam - kappa

        # ---- progression (§1.3 PD), against nadirs of the earlier assessments
        info: list[PdInfo] = []
        # Each laboratory parameter in turn (serum, urine, dFLC, marrow, circulating PCs), when it applies to this
        # patient, against its nadir by the §1.3 PD test. Written out rather than looped over a table of tuples:
        # this loop runs once per assessment, tens of millions of times in a registry cohort.
        bmpc = sn.bone_marrow_plasma_cells_pct
        cpc = sn.circulating_plasma_cells_per_ul
        nv = serum_n.value
        if (
            serum_v is not None
            and nv is not None
            and (serum_v > nv or not serum_rise)
            and serum_progression(nv, serum_v, s)
        ):
            info.append(PdInfo("serum", nv, serum_n.date, serum_v))
        nv = urine_n.value
        if (
            urine_v is not None
            and nv is not None
            and (urine_v > nv or not urine_rise)
            and urine_progression(nv, urine_v, s)
        ):
            info.append(PdInfo("urine", nv, urine_n.date, urine_v))
        if dflc_pd:
            nv = dflc_n.value
            if dflc_v is not None and nv is not None and dflc_progression(nv, dflc_v, s):
                info.append(PdInfo("dflc", nv, dflc_n.date, dflc_v))
        if marrow_pd:
            nv = marrow_n.value
            if bmpc is not None and nv is not None and marrow_progression(nv, bmpc, s):
                info.append(PdInfo("marrow", nv, marrow_n.date, bmpc))
        if cpc_pd:
            nv = cpc_n.value
            if cpc is not None and nv is not None and cpc_progression(nv, cpc, s):
                info.append(PdInfo("cpc", nv, cpc_n.date, cpc))
        imaging_step(base, actual, spd, sn.new_lesion, tracker, s, info, sn.date)
        if info:
            pd = tuple([p.code for p in info])
            needs_conf = all((c in LAB_PD_CODES and lab_conf) or (c == "cpc" and cpc_conf) for c in pd)
            pd_info = tuple(info)
        else:
            pd, needs_conf, pd_info = (), False, ()

        # ---- response masks (§1.3), lowest level across parameters (general rule 7)
        marrow_from: int | None
        if bmpc is not None:
            last_marrow = marrow_from = i
        else:
            marrow_from = last_marrow if marrow_carry else None
        ihc_stated = sn.bone_marrow_clonal_by_ihc
        ihc_ratio = sn.bone_marrow_kappa_lambda_ratio_ihc
        if ihc_stated is None and ihc_ratio is None:
            clonal: bool | None = None  # what ihc_clonal answers without either datum
        else:
            clonal = ihc_clonal(ihc_stated, ihc_ratio, sn.bone_marrow_plasma_cells_counted, involved, s)
        if clonal is not None:
            last_ihc, last_ihc_value = i, clonal
            ihc_from: int | None = i
        elif marrow_carry and last_ihc is not None:
            clonal, ihc_from = last_ihc_value, last_ihc
        else:
            ihc_from = None
        if imaging_carry and not actual:
            measures = {lid: last_seen[lid] for lid in lesions if lid in last_seen}
            measures_spd = spd_of(lesions, measures) if lesions else None
        else:
            measures, measures_spd = actual, spd
        if actual:
            last_seen.update(actual)

        if primary is None:
            a = Assessed(
                i,
                False,
                0,
                0,
                False,
                (0, 0, 0, 0, 0, 0),
                0,
                pd,
                pd_info,
                needs_conf,
                None,
                None,
                measures,
            )
        else:
            m_serum, x_serum = serum_mask(serum_role, serum_base, serum_cuts, serum_m, serum_ife)
            m_urine, x_urine = urine_mask(urine_role, urine_base, urine_cuts, urine_m, urine_ife, s)
            m_flc, x_flc = flc_mask(flc_primary, base_dflc, flc_cuts, kappa, lam, dflc_v, s)
            if marrow_from is None:
                marrow_v = None
            elif marrow_from == i:
                marrow_v = bmpc
            else:
                marrow_v = snaps[marrow_from].bone_marrow_plasma_cells_pct
            m_marrow, x_marrow = marrow_mask(marrow_primary, base_marrow, marrow_cuts, marrow_v, s)
            m_ihc, x_ihc = ihc_mask(clonal)
            m_pl, x_pl = plasmacytoma_mask(base, measures, measures_spd, spd_cuts)
            lab = m_serum & m_urine & m_flc
            mask = lab & m_marrow & m_ihc & m_pl & mr_filter
            if flc_primary:
                evaluable = kappa is not None and lam is not None
                has_labs = evaluable
            elif marrow_primary:
                evaluable = marrow_v is not None
                has_labs = serum_ife is not None or urine_ife is not None
            else:
                evaluable = (serum_primary and serum_v is not None) or (urine_primary and urine_v is not None)
                has_labs = evaluable
            missing = (
                x_serum
                | (x_urine << URINE)
                | (x_flc << FLC)
                | (x_marrow << MARROW)
                | (x_ihc << IHC)
                | (x_pl << PLASMACYTOMAS)
            )
            a = Assessed(
                i,
                evaluable,
                mask,
                lab & mr_filter,
                has_labs,
                (m_serum, m_urine, m_flc, m_marrow, m_ihc, m_pl),
                missing,
                pd,
                pd_info,
                needs_conf,
                marrow_from,
                ihc_from,
                measures,
            )
            a.level = mask.bit_length() - 1 if mask else SD  # highest(mask)
        assessed[i] = a

        # Nadirs for the later assessments; a parameter whose PD test does not apply to this patient needs none.
        if serum_v is not None:
            serum_n.push(serum_v, sn.date)
        if urine_v is not None:
            urine_n.push(urine_v, sn.date)
        if dflc_pd and dflc_v is not None:
            dflc_n.push(dflc_v, sn.date)
        if marrow_pd and bmpc is not None:
            marrow_n.push(bmpc, sn.date)
        if cpc_pd and cpc is not None:
            cpc_n.push(cpc, sn.date)

    return _read_timeline(snaps, base, assessed, s)


def _nearest_labs(assessed: list[Assessed | None], order: range) -> list[int | None]:
    """For each assessment, the nearest laboratory assessment (one with PD or laboratory data) met before it when
    walking in ``order``; the walk restarts at an assessment that is not evaluated (the baseline and before)."""
    out: list[int | None] = [None] * len(assessed)
    found: int | None = None
    for j in order:
        a = assessed[j]
        if a is None:
            found = None
            continue
        out[j] = found
        if a.pd or a.has_labs:
            found = j
    return out


def _read_timeline(
    snaps: Sequence[Snapshot], base: Baseline, assessed: list[Assessed | None], s: ResponseSettings
) -> EngineResult:
    # ---- pass 2: confirmation (general rule 1)
    n = len(assessed)
    before, after = _nearest_labs(assessed, range(n)), _nearest_labs(assessed, range(n - 1, -1, -1))
    lab_floor = base.lab_floor
    for a in assessed:
        if a is None:
            continue
        prev, nxt = before[a.index], after[a.index]
        if a.pd:
            if not a.pd_needs_confirmation:
                a.pd_confirmed = True
            else:
                for j in (prev, nxt):
                    other = assessed[j] if j is not None else None
                    if other is not None and other.pd:
                        a.pd_confirmed, a.confirmed_by = True, j
                        break
        if not a.evaluable or a.pd:
            continue  # a PD assessment is PD whatever its response level
        # highest(m) written out as m.bit_length() - 1 (SD for an empty mask): read up to four times an assessment
        mask, level = a.mask, a.level
        support = lab_floor
        by: int | None = None
        for j in (prev, nxt):
            other = assessed[j] if j is not None else None
            if other is None or other.pd:
                continue
            m = mask & other.lab
            if by is None and (m.bit_length() - 1 if m else SD) >= level:
                by = j
            support |= other.lab
        m = mask & support
        a.conf_level = conf = m.bit_length() - 1 if m else SD
        if conf == level:
            m = mask & lab_floor
            if level > (m.bit_length() - 1 if m else SD):
                a.confirmed_by = by

    # ---- pass 3: categories, sticky PD, best, relapse from CR
    cr_needs_confirmation = s.relapse_from_cr_requires_confirmed_cr
    first_pd: int | None = None
    best: ResponseCategory = NOT_EVALUABLE
    best_index: int | None = None
    cr_at: int | None = None
    relapse_at: int | None = None
    for a in assessed:
        if a is None:
            continue
        if first_pd is not None:
            a.category, a.confirmed = PD_NAME, True
        elif a.pd:
            a.category, a.confirmed = PD_NAME, a.pd_confirmed
            if a.pd_confirmed:
                first_pd = a.index
        elif a.evaluable:
            a.category = NAMES[a.level]
            a.confirmed = a.level == SD or a.conf_level == a.level
        else:
            a.category, a.confirmed = NOT_EVALUABLE, None

        candidate: ResponseCategory
        if a.category == PD_NAME:
            candidate = PD_NAME if a.confirmed else NOT_EVALUABLE
        elif a.evaluable:
            candidate = NAMES[a.conf_level]
        else:
            candidate = NOT_EVALUABLE
        if ORDER[candidate] > ORDER[best]:
            best, best_index = candidate, a.index

        if relapse_at is None and cr_at is not None and _relapse_sign(snaps[a.index], a, base, s):
            relapse_at = a.index
        if cr_at is None and a.category != PD_NAME and a.evaluable:
            reached = a.conf_level if cr_needs_confirmation else a.level
            if reached >= CR:
                cr_at = a.index
    return EngineResult(base, assessed, first_pd, best, best_index, cr_at, relapse_at)


def _relapse_sign(sn: Snapshot, a: Assessed, base: Baseline, s: ResponseSettings) -> bool:
    """Relapse from CR (§1.3): M-protein back by IFE or electrophoresis, >= 5% marrow PCs, any sign of
    progression (new plasmacytoma or lesion, PD). Positive IFE alone is not PD (general rule 3)."""
    if a.pd:
        return True
    if sn.serum_ife_positive or sn.urine_ife_positive:
        return True
    for v in (sn.serum_m_protein_g_dl, sn.urine_m_protein_mg_24h):
        if v is not None and v > _ZERO:
            return True
    bmpc = sn.bone_marrow_plasma_cells_pct
    if bmpc is not None and bmpc >= s.cr_marrow_below_pct:
        return True
    return any(m.lesion in base.lesions and not is_zero(m) for m in sn.plasmacytomas)
