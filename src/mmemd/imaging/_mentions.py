"""From one sentence's cues to lesion mentions.

A sentence is cut into clauses (at commas and colons). A mention starts at a clause that holds a lesion word (mass,
nodule, 肿块, 结节, bone destruction, soft-tissue mass, uptake, "resolved") that is not negated; the clauses that
follow add their size, SUV, change and hedge to it, until a clause names a different site with a lesion word of its
own. A lymph node needs more: enlarged, avid, a mass, loss of its hilum, or a change since the prior study other than
"stable". Negation (未见/无/no/without) covers the words after it to the end of its clause — for English "no", to the
end of the sentence unless "but"/"however" intervenes; a negated 髓外 / "extramedullary" is the report's statement that
there is no extramedullary disease.

Relation to bone (the record's ``relation_to_bone``):

* bone destruction (骨质破坏, lytic, erosion), or a named bone with a soft-tissue word, together with a soft-tissue
  mass or a named soft-tissue region → ``arising_from_bone``, at that region (椎旁 → paravertebral, 椎管内 →
  epidural) or else ``soft_tissue``;
* a named bone with destruction or a lesion word and nothing outside the bone → ``intraosseous`` at ``bone`` — but
  not for "multiple"/"diffuse" bone disease or marrow infiltration (腰椎骨髓浸润), which are marrow disease rather
  than a lesion to measure;
* otherwise a lesion of the named organ or region, ``none``.

A mention with a distractor word (cyst, haemangioma, reactive, benign, a named carcinoma…) and no myeloma word is
not a lesion; it is kept as a *veto* so that the same site described neutrally elsewhere is dropped too.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final, TypeVar

from mmemd.imaging._lexicon import Lang, Token, lexicon
from mmemd.imaging._measures import Size, Suv, is_prior, sizes, suvs
from mmemd.imaging._split import Span, clauses

# "enlarged" (肿大, lymphadenopathy) makes a lesion of a lymph node only: an enlarged spleen is not a plasmacytoma.
_LESION_WORDS: Final = frozenset({"lesion", "soft_tissue", "bone_destruction", "uptake", "lesion_override"})
_NEGATABLE: Final = frozenset(
    {
        "lesion",
        "soft_tissue",
        "bone_destruction",
        "uptake",
        "enlarged",
        "site",
        "bone",
        "distractor",
        "myeloma",
        "diffuse",
        "lesion_override",
    }
)
# A lymph node is a lesion when it is enlarged, avid or a mass — or when the report follows it from the prior study
# ("the previously described left axillary node has decreased in size", 左锁骨上淋巴结较前缩小): a node compared with
# its prior size was a lesion then. "Stable" alone does not make a node a lesion (a small stable node is the norm).
_NODE_CHANGES: Final = frozenset({"new", "increased", "decreased", "resolved"})
# Words that name extramedullary disease: negated ("no evidence of extramedullary myeloma", 未见明确髓外浸润征象,
# 未见髓外病变) they are the report's explicit statement that there is none.
_EXTRAMEDULLARY: Final = ("髓外", "extramedullary")
_EN_BREAK: Final = re.compile(r"\b(?:but|however|although|except|whereas)\b", re.IGNORECASE)
_CONJ_ZH: Final = re.compile(r"[及和与、]")
_CONJ_EN: Final = re.compile(r"\b(?:and|or)\b|,", re.IGNORECASE)


@dataclass
class Mention:
    section: str
    sentence: int
    site: str
    side: str | None
    relation: str
    size: Size | None
    suv: Suv | None
    change: Token | None
    hedge: Token | None
    myeloma: bool
    tokens: list[Token] = field(default_factory=list)  # evidence: lesion/site/side/relation/myeloma words
    relation_tokens: list[Token] = field(default_factory=list)
    site_token: Token | None = None
    side_token: Token | None = None


@dataclass
class Veto:
    section: str
    sentence: int
    site: str | None
    side: str | None
    standalone: bool = (
        False  # a sentence that is only a distractor statement ("2. 肝囊肿。", "Likely reactive.")
    )


@dataclass
class SentenceResult:
    mentions: list[Mention]
    vetoes: list[Veto]
    no_emd: list[Token]
    no_new: list[Token]
    negated_soft_tissue: bool
    continuation_hedge: Token | None
    continuation_myeloma: bool
    has_site: bool


def _negated(
    tokens: list[Token], text: str, sentence: Span, clause_of: dict[int, Span], lang: Lang
) -> set[int]:
    """Indices (into ``tokens``) of the negatable tokens inside a negation's scope."""
    out: set[int] = set()
    for i, neg in enumerate(tokens):
        if neg.kind != "negation":
            continue
        clause = clause_of[i]
        end = clause.end
        word = text[neg.start : neg.end].lower()
        if lang == "en" and word.startswith("no") and word not in ("not",):
            brk = _EN_BREAK.search(text, neg.end, sentence.end)
            end = brk.start() if brk else sentence.end
        for j in range(i + 1, len(tokens)):
            t = tokens[j]
            if t.start >= end:
                break
            if t.kind in _NEGATABLE:
                out.add(j)
    return out


def _side_en(tokens: list[Token], text: str) -> Token | None:
    """An English side word that qualifies a site, bone or body region within the next three words."""
    for i, t in enumerate(tokens):
        if t.kind != "side":
            continue
        for u in tokens[i + 1 :]:
            if u.kind in ("site", "bone", "region"):
                gap = text[t.end : u.start]
                if len(gap.split()) <= 2:
                    return t
                break
    return None


def _drop_location_qualifiers(sites: list[Token], text: str, lang: Lang) -> list[Token]:
    """In "肝门区淋巴结", "retroperitoneal lymph node" the organ only locates the node: keep the node."""
    nodes = [s for s in sites if s.value == "lymph_node"]
    if not nodes:
        return sites
    conj = _CONJ_ZH if lang == "zh" else _CONJ_EN
    limit = 6 if lang == "zh" else 24
    keep = []
    for s in sites:
        if s.value != "lymph_node" and any(
            0 <= n.start - s.end <= limit and not conj.search(text, s.end, n.start) for n in nodes
        ):
            continue
        keep.append(s)
    return keep


def read_sentence(
    text: str, sentence: Span, tokens: list[Token], section: str, index: int, lang: Lang
) -> SentenceResult:
    cls = clauses(text, sentence)
    # tokens are sorted by start: slice this sentence's by bisection (a long report has thousands of sentences)
    lo = bisect_left(tokens, sentence.start, key=lambda t: t.start)
    hi = bisect_left(tokens, sentence.end, lo, key=lambda t: t.start)
    toks = tokens[lo:hi]
    clause_of: dict[int, Span] = {}
    for i, t in enumerate(toks):
        clause_of[i] = next((c for c in cls if c.start <= t.start < c.end), sentence)
    neg = _negated(toks, text, sentence, clause_of, lang)
    live = [t for i, t in enumerate(toks) if i not in neg and t.kind != "negation"]
    negated = [t for i, t in enumerate(toks) if i in neg]

    no_emd = [t for t in toks if t.kind in ("no_extramedullary", "organs_normal")]
    if not no_emd:
        no_emd = _negated_extramedullary(toks, neg, text)
    no_new = [t for t in toks if t.kind == "no_new"]
    negated_soft = any(t.kind == "soft_tissue" for t in negated) and any(t.kind == "negation" for t in toks)

    # Segment the sentence into mention candidates, clause by clause.
    segments: list[list[Span]] = []
    seg_sites: list[set[str]] = []
    context_site: Token | None = (
        None  # "脾脏不大，内见结节", "LIVER: 2.1 cm lesion": a site named before the lesion word
    )
    for c in cls:
        in_c = [t for t in live if c.start <= t.start < c.end]
        c_sites = {t.value for t in in_c if t.kind == "site"}
        if not segments and c_sites:
            context_site = next(t for t in in_c if t.kind == "site")
        lesion_word = any(_is_lesion_word(t, text) for t in in_c) or (
            "lymph_node" in c_sites and any(_abnormal_node_word(t) for t in in_c)
        )
        if lesion_word and (not segments or (c_sites and seg_sites[-1] and not c_sites & seg_sites[-1])):
            segments.append([c])
            seg_sites.append(set(c_sites))
        elif segments:
            segments[-1].append(c)
            seg_sites[-1] |= c_sites
    mentions: list[Mention] = []
    vetoes: list[Veto] = []
    for k, seg in enumerate(segments):
        lo, hi = seg[0].start, seg[-1].end
        st = [t for t in live if lo <= t.start < hi]
        m, veto = _mention(text, seg, st, section, index, lang, context_site if k == 0 else None)
        if m is not None:
            mentions.extend(m)
        if veto is not None:
            vetoes.append(veto)
    # A sentence without a lesion word but with a site and a distractor ("2. 肝囊肿。", "Likely reactive.") vetoes too.
    if not segments:
        dis = [t for t in live if t.kind == "distractor"]
        my = any(t.kind == "myeloma" for t in live)
        if dis and not my:
            sites = [t for t in live if t.kind == "site"]
            side = _side(text, live, cls[0] if cls else sentence, lang)
            if sites:
                for s in sites:
                    vetoes.append(Veto(section, index, s.value, side.value if side else None, True))
            else:
                vetoes.append(Veto(section, index, None, None, True))
    hedge = next((t for t in live if t.kind == "hedge"), None)
    return SentenceResult(
        mentions=mentions,
        vetoes=vetoes,
        no_emd=no_emd,
        no_new=no_new,
        negated_soft_tissue=negated_soft,
        continuation_hedge=hedge,
        continuation_myeloma=any(t.kind == "myeloma" for t in live),
        has_site=any(t.kind == "site" for t in live),
    )


def _side(text: str, toks: list[Token], first: Span, lang: Lang) -> Token | None:
    if lang == "en":
        return _side_en(toks, text)
    return next((t for t in toks if t.kind == "side" and first.start <= t.start < first.end), None)


def _mention(
    text: str,
    seg: list[Span],
    st: list[Token],
    section: str,
    index: int,
    lang: Lang,
    context_site: Token | None,
) -> tuple[list[Mention] | None, Veto | None]:
    first = seg[0]
    kinds = {t.kind for t in st}
    sites = _drop_location_qualifiers([t for t in st if t.kind == "site"], text, lang)
    if not sites and context_site is not None and not ({"bone", "bone_destruction"} & kinds):
        sites = [context_site]
    distractor = "distractor" in kinds
    myeloma = "myeloma" in kinds
    side_tok = _side(text, st, first, lang)
    if lang == "zh":
        # "双侧卵巢区见肿块，右侧大小约…": a later clause that opens with a side word narrows the side.
        for c in seg[1:]:
            lead = next((t for t in st if c.start <= t.start < c.end), None)
            if lead is not None and lead.kind == "side" and lead.start - c.start <= 1:
                side_tok = lead
    side = side_tok.value if side_tok else None
    if distractor and not myeloma:
        return None, Veto(section, index, sites[0].value if sites else None, side)

    destruction = [t for t in st if t.kind == "bone_destruction"]
    bones = [t for t in st if t.kind == "bone"]
    soft = [t for t in st if t.kind == "soft_tissue"]
    organ_sites = [t for t in sites if t.value != "bone"]
    bone_context = bool(destruction) or (bool(bones) and bool(soft))
    diffuse = "diffuse" in kinds

    site_tok: Token | None
    if bone_context and (soft or organ_sites):
        relation = "arising_from_bone"
        site_tok = organ_sites[0] if organ_sites else None
        site = site_tok.value if site_tok else "soft_tissue"
        rel_tokens = destruction + bones[:1] + soft[:1]
    elif (destruction or bones) and not organ_sites:
        if not bones or diffuse:
            return None, None
        if "marrow" in kinds and not destruction and "lesion" not in kinds:
            # 腰椎骨髓浸润, 骨髓代谢增高: marrow disease of the named bone, not a focal lesion
            return None, None
        if not destruction and not any(t.kind in ("lesion", "uptake", "myeloma") for t in st):
            return None, None
        relation, site, site_tok = "intraosseous", "bone", bones[0]
        rel_tokens = destruction[:1] + bones[:1]
    elif organ_sites:
        relation = "none"
        rel_tokens = []
        site_tok = organ_sites[0]
        site = site_tok.value
    else:
        return None, None

    if site == "lymph_node" and relation == "none":
        if not any(
            t.kind in ("uptake", "lesion", "myeloma") or _abnormal_node_word(t) for t in st
        ) and not suvs(text, first.start, seg[-1].end):
            return None, None
    elif not any(_is_lesion_word(t, text) for t in st):
        return None, None

    size = _first_current(sizes(text, first.start, seg[-1].end), seg, text, lang)
    suv = _first_current(suvs(text, first.start, seg[-1].end), seg, text, lang)
    change = next((t for t in st if t.kind == "change"), None)
    hedge = next((t for t in st if t.kind == "hedge"), None)
    lesion_words = [t for t in st if t.kind in ("lesion", "uptake", "enlarged", "lesion_override")][:1]
    my_words = [t for t in st if t.kind == "myeloma"][:1]
    if not lex_paired(site):
        side, side_tok = None, None

    def build(site_id: str, stok: Token | None, with_measures: bool) -> Mention:
        return Mention(
            section=section,
            sentence=index,
            site=site_id,
            side=side if lex_paired(site_id) else None,
            relation=relation,
            size=size if with_measures else None,
            suv=suv if with_measures else None,
            change=change,
            hedge=hedge,
            myeloma=myeloma,
            tokens=lesion_words + my_words,
            relation_tokens=rel_tokens,
            site_token=stok,
            side_token=side_tok if lex_paired(site_id) else None,
        )

    # "Stable pancreatic tail mass and right hilar node": several organs joined in the first clause, one each.
    if relation == "none":
        in_first = [t for t in organ_sites if first.start <= t.start < first.end]
        distinct: list[Token] = []
        for t in in_first:
            if t.value not in {d.value for d in distinct}:
                distinct.append(t)
        if len(distinct) > 1:
            return [build(t.value, t, False) for t in distinct], None
    return [build(site, site_tok, True)], None


def _abnormal_node_word(t: Token) -> bool:
    return t.kind in ("enlarged", "morphology") or (t.kind == "change" and t.value in _NODE_CHANGES)


def _negated_extramedullary(toks: list[Token], neg: set[int], text: str) -> list[Token]:
    """A negated word naming extramedullary disease, as one statement from its negation word to it."""
    for i in sorted(neg):
        t = toks[i]
        if t.kind == "myeloma" and any(w in text[t.start : t.end].lower() for w in _EXTRAMEDULLARY):
            start = next((u.start for u in reversed(toks[:i]) if u.kind == "negation"), t.start)
            return [Token("no_extramedullary", "no_extramedullary", start, t.end)]
    return []


def _is_lesion_word(t: Token, text: str) -> bool:
    if t.kind in _LESION_WORDS:
        return True
    if t.kind == "change":
        return t.value == "resolved"
    # "浆细胞瘤" / "plasmacytoma" name a lesion; "骨髓瘤" / "myeloma" alone name the disease.
    return t.kind == "myeloma" and any(
        w in text[t.start : t.end].lower() for w in ("浆细胞瘤", "plasmacytoma")
    )


def lex_paired(site: str) -> bool:
    return site in ("bone", "soft_tissue") or lexicon().sites_paired.get(site, False)


_T = TypeVar("_T", Size, Suv)


def _first_current(values: list[_T], seg: list[Span], text: str, lang: Lang) -> _T | None:
    for v in values:
        clause = next((c for c in seg if c.start <= v.start < c.end), seg[0])
        if not is_prior(text, clause.start, v.start, lang):
            return v
    return None


def decimal_size(size: Size | None) -> list[Decimal] | None:
    return list(size.cm) if size else None
