"""The pipeline: normalise, find sections and sentences, read mentions, merge, and assemble ``mmemd.imaging/1``."""

from __future__ import annotations

from dataclasses import replace
from typing import Final, Literal

from mmemd.imaging._facts import modality as find_modality
from mmemd.imaging._facts import study_date as find_date
from mmemd.imaging._lexicon import Lang, Token, tokenize
from mmemd.imaging._mentions import Mention, SentenceResult, Veto, lex_paired, read_sentence
from mmemd.imaging._merge import Group, merge
from mmemd.imaging._models import Evidence, ImagingExtraction, ImagingLesion, ReportEvidence
from mmemd.imaging._patch import record_patch
from mmemd.imaging._split import sections, sentences
from mmemd.imaging._text import Normalized, detect_language, normalize

# A long imaging report is a few thousand characters; far beyond that the input is not one report (a whole record
# export, a log) and reading it would only tie up the caller.
MAX_REPORT_CHARS: Final = 100_000


class ImagingInputError(ValueError):
    """The input is not a readable report (not text, an unknown language, or far longer than any report)."""


def _ev(norm: Normalized, original: str, field: str, tok_start: int, tok_end: int, section: str) -> Evidence:
    s, e = norm.span(tok_start, tok_end)
    return Evidence(field=field, start=s, end=e, quote=original[s:e], section=section)


def _lesion(norm: Normalized, original: str, g: Group, n: int) -> ImagingLesion:
    ev: list[Evidence] = []
    size = next((m.size for m in g.mentions if m.size), None)
    suv = next((m.suv for m in g.mentions if m.suv), None)
    # A change word anywhere beats a change read from two sizes ("…(previously 5.0 x 3.8 cm)" … "stable").
    change = next((m.change for m in g.mentions if m.change and m.change.kind == "change"), None) or next(
        (m.change for m in g.mentions if m.change), None
    )
    certainty = g.certainty()
    for m in g.mentions:
        for t in m.tokens:
            ev.append(
                _ev(norm, original, "myeloma" if t.kind == "myeloma" else "lesion", t.start, t.end, m.section)
            )
        if m.site_token:
            ev.append(_ev(norm, original, "site", m.site_token.start, m.site_token.end, m.section))
        if m.side_token:
            ev.append(_ev(norm, original, "side", m.side_token.start, m.side_token.end, m.section))
        for t in m.relation_tokens:
            ev.append(_ev(norm, original, "relation_to_bone", t.start, t.end, m.section))
        if m.size is not None and m.size is size:
            ev.append(_ev(norm, original, "size_cm", m.size.start, m.size.end, m.section))
        if m.suv is not None and m.suv is suv:
            ev.append(_ev(norm, original, "suv_max", m.suv.start, m.suv.end, m.section))
        if m.change is not None and m.change.value == (change.value if change else None):
            ev.append(_ev(norm, original, "change", m.change.start, m.change.end, m.section))
        if m.hedge is not None and certainty == "possible":
            ev.append(_ev(norm, original, "certainty", m.hedge.start, m.hedge.end, m.section))
    ev.sort(key=lambda e: (e.start, e.field))
    sections_seen: list[Literal["findings", "impression"]] = []
    for m in g.mentions:
        if m.section not in sections_seen:
            sections_seen.append(m.section)  # type: ignore[arg-type]
    return ImagingLesion(
        id=f"imaging-{n}",
        site=g.site,
        side=g.side,
        relation_to_bone=g.relation,
        size_cm=list(size.cm) if size else None,
        suv_max=suv.value if suv else None,
        change=change.value if change else None,
        certainty=certainty,
        sections=sections_seen,
        evidence=ev,
    )


def extract(text: str, lang: Literal["zh", "en", "auto"] = "auto") -> ImagingExtraction:
    """Read the lesions of one imaging report (Chinese or English; ``lang="auto"`` detects it)."""
    if not isinstance(text, str):
        raise ImagingInputError(f"an imaging report must be text, got {type(text).__name__}")
    if len(text) > MAX_REPORT_CHARS:
        raise ImagingInputError(
            f"the text has {len(text):,} characters; one imaging report is read up to {MAX_REPORT_CHARS:,}"
        )
    if lang not in ("zh", "en", "auto"):
        raise ImagingInputError(f"unknown language {lang!r}; use zh, en or auto")
    language: Lang = detect_language(text) if lang == "auto" else lang
    norm = normalize(text, language)
    t = norm.text
    tokens = tokenize(t, language)

    mentions: list[Mention] = []
    vetoes: list[Veto] = []
    results: list[SentenceResult] = []
    index = 0
    for sec in sections(t, language):
        prev: SentenceResult | None = None
        for sent in sentences(t, sec):
            r = read_sentence(t, sent, tokens, sec.kind, index, language)
            if (
                prev is not None
                and not r.mentions
                and not r.vetoes
                and not r.has_site
                and (r.continuation_hedge or r.continuation_myeloma)
            ):
                # "Right thyroid mass. Given known myeloma, plasmacytoma is favored." qualifies the mass before.
                for m in prev.mentions:
                    m.hedge = m.hedge or r.continuation_hedge
                    m.myeloma = m.myeloma or r.continuation_myeloma
            if prev is not None and prev.mentions and r.side_measures and not r.mentions:
                base = prev.mentions[-1]
                for side_tok, size, suv in r.side_measures if lex_paired(base.site) else ():
                    if side_tok.value == base.side:
                        continue
                    if base.side == "bilateral" and base.size is None:
                        # "Bilateral adrenal masses; the left measures …, the right …": the sides, one each
                        base.side, base.side_token, base.size, base.suv = side_tok.value, side_tok, size, suv
                        continue
                    r.mentions.append(
                        replace(
                            base,
                            section=sec.kind,
                            sentence=index,
                            side=side_tok.value,
                            side_token=side_tok,
                            size=size,
                            suv=suv,
                        )
                    )
            mentions.extend(r.mentions)
            vetoes.extend(r.vetoes)
            results.append(r)
            prev = r
            index += 1
    groups = merge(mentions, vetoes)
    lesions = [_lesion(norm, text, g, i + 1) for i, g in enumerate(groups)]

    evidence: list[ReportEvidence] = []

    def report_ev(field: str, s: int, e: int) -> None:
        os_, oe = norm.span(s, e)
        evidence.append(ReportEvidence(field=field, start=os_, end=oe, quote=text[os_:oe]))

    mod = find_modality(t)
    if mod:
        report_ev("modality", mod[1], mod[2])
    date = find_date(t)
    if date:
        report_ev("study_date", date[1], date[2])

    statements: list[Token] = [tok for r in results for tok in r.no_emd]
    negated_soft = any(r.negated_soft_tissue and not r.mentions for r in results)
    extramedullary = [
        les for les in lesions if les.relation_to_bone != "intraosseous" and les.change != "resolved"
    ]
    no_emd: bool | None
    if extramedullary:
        no_emd = False
    elif statements or negated_soft:
        no_emd = True
        for tok in statements:
            report_ev("no_extramedullary_lesion", tok.start, tok.end)
    elif any(les.relation_to_bone != "intraosseous" for les in lesions):
        # Only resolved extramedullary lesions and no statement that none remains ("原肝S7段病灶已消失…未见新发病灶"):
        # the report describes extramedullary disease, now gone, so it does not say there is none.
        no_emd = False
    else:
        no_emd = None

    no_new = [tok for r in results for tok in r.no_new]
    new_lesion: bool | None
    if any(les.change == "new" for les in lesions):
        new_lesion = True
    elif no_new:
        new_lesion = False
        for tok in no_new:
            report_ev("no_new_lesion", tok.start, tok.end)
    else:
        new_lesion = None

    from mmemd.clinical.assessment import current_versions
    from mmemd.knowledge import vocabulary

    modality = mod[0] if mod else None
    study = date[0] if date else None
    return ImagingExtraction(
        language=language,
        modality=modality,
        study_date=study,
        no_extramedullary_lesion=no_emd,
        new_lesion=new_lesion,
        lesions=lesions,
        evidence=evidence,
        record_patch=record_patch(lesions, modality, study, new_lesion, vocabulary().cns_site_ids),
        versions=current_versions().model_dump(mode="json"),
    )
