"""From one sentence's cues to lesion mentions.

A sentence is cut into clauses (at commas and colons). A mention starts at a clause that holds a lesion word (mass,
nodule, 肿块, 结节, bone destruction, soft-tissue mass, uptake, "resolved") that is not negated; the clauses that
follow add their size, SUV, change and hedge to it, until a clause names a different site with a lesion word of its
own. A lymph node needs more: enlarged, avid, an SUVmax, a mass, loss of its hilum, or a change since the prior
study other than "stable". Negation (未见/无/no/without) covers the words after it to the end of its clause — for
English "no", to the end of the sentence unless "but"/"however" intervenes; English negation written after the finding
("is not identified", "are not seen") covers its clause up to it. A negated 髓外 / "extramedullary" is the report's
statement that there is no extramedullary disease.

Relation to bone (the record's ``relation_to_bone``):

* bone destruction (骨质破坏, lytic, erosion), or a named bone with a soft-tissue word, together with a soft-tissue
  mass or a named soft-tissue region → ``arising_from_bone``, at that region (椎旁 → paravertebral, 椎管内 →
  epidural) or else ``soft_tissue``;
* a named bone with destruction or a lesion word and nothing outside the bone → ``intraosseous`` at ``bone`` — but
  not for "multiple"/"diffuse" bone disease, lesions in several bones (骶骨及双侧髂骨) or marrow infiltration
  (腰椎骨髓浸润), which are myeloma bone or marrow disease rather than a lesion to measure;
* otherwise a lesion of the named organ or region, ``none`` — at ``soft_tissue`` for a soft-tissue mass, or any mass,
  in a body region that is no organ (左侧腋窝软组织肿块, 盆腔内见肿块, "left thigh mass").

A distractor word (cyst, haemangioma, sinusitis, reactive, benign, post-treatment change, a named carcinoma…)
describes its own finding only: it makes a mention no lesion when it stands in the same phrase as the mention's lesion
word ("肝S8段小囊状低密度影", "1.1 cm thyroid nodule (TI-RADS 3)") or in a following clause that comments on it and
names no other finding ("…, 考虑上颌窦炎", "…, likely pneumonia"). A distractor joined by 及/和/and to another lesion word
("肝内见多发小囊肿及一枚低密度结节"), in a clause naming another site, side or place ("…, and a simple cyst in the left
kidney"), or in a clause that opens a new finding ("…，另见胆囊结石", "…, and cholelithiasis") leaves the mention alone;
so does one the report sets aside (良性可能性小, 不符合腺瘤, "lymphoma is less likely", "not typical of an adenoma"). A myeloma word, recurrence or viable
residual disease keeps a mention whatever distractor it has. A vetoed mention without a myeloma word is kept as a *veto* so that the same site described
neutrally elsewhere is dropped too.
A distractor sentence that names no site but a place of its own (a bone, region, side, or an organ that is no
plasmacytoma site: "L4/5椎间盘膨出，腰椎退行性变", 胆囊内见结石, "post-surgical changes of the left knee") is another
finding, and vetoes nothing.

A "no extramedullary lesion" statement negates the rest of its clause (腹部未见髓外浸润病灶). A myeloma word that names
the organs it involves ("考虑髓外浆细胞瘤累及胃及腹膜") gives each organ's mention in the sentence its myeloma word and
hedge.

A mass extending into a neighbouring region is one lesion (a plasmacytoma is measured where it arises). A site named
after an extension word once a lesion has been described in the sentence (向…突出, 突入, 累及, 侵犯, 邻近, "extending
into", "invading", "adjacent") is the mass's extension, not a second lesion, and not its site when another region
is named. When it is the only region, a directional word (向椎管内突出, "extension into the iliacus") makes it the
site — except the brain: a skull lesion "向颅内突出" is not CNS disease without a word for the brain or meninges
themselves — while an invasion word (累及邻近肌肉, "invading the adjacent muscles") leaves the mass at
``soft_tissue``.

Bare 增大 / 增多 / 扩大 are a change only when the sentence compares with a prior study (较前, 前片, 与…比较);
otherwise "右侧睾丸增大" describes an enlarged organ. An enlarged organ is a lesion when the sentence also gives
uptake or an SUVmax ("右侧睾丸增大，FDG摄取增高，SUVmax 7.2"), so it keeps its SUV and size.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise
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
# Extension words: a site named after one (in its clause, once the sentence has described a lesion) is where the
# mass extends, not a second lesion. Directional ones can still name the site when it is the only region named.
_EXTENSION_INTO: Final = re.compile(
    r"(?<!倾)向|突入|突向|伸入|长入|延伸|蔓延|\binto\b|\bextend\w*|\bprotru\w*", re.IGNORECASE
)
_EXTENSION_NEAR: Final = re.compile(
    r"累及|侵犯|侵及|侵入|压迫|推压|邻近|周围|\binvad\w*|\binvasion\b|\bencas\w*|"
    r"\bencroach\w*|\bcompress\w*|\babut\w*|\badjacent\b|\bneighbou?ring\b|\bsurrounding\b",
    re.IGNORECASE,
)
# Bone words that name no particular bone: a lesion there is one focal lesion only when called solitary.
_GENERIC_BONE: Final = frozenset({"bone", "bones", "osseous", "skeletal", "骨骼", "骨质", "全身骨"})
# Bones joined as a list (骶骨及髂骨, "the sacrum and the ilium") are several bones, not one lesion's location.
_BONE_LIST: Final = re.compile(r"[及和与、,]|\band\b|\bor\b", re.IGNORECASE)
_SOLITARY: Final = re.compile(r"孤立|单发|solitary|single|isolated", re.IGNORECASE)
# Bare growth words read as a change only in a sentence that compares with the prior study.
_BARE_GROWTH: Final = frozenset({"增大", "增多", "扩大"})
_COMPARISON_ZH: Final = re.compile(r"较前|前片|前次|与.{0,16}比较|较.{0,12}前|对比|复查|由|原")
_CONJ_PHRASE_ZH: Final = re.compile(r"及|和|与|、|以及|并见|另见")
_CONJ_PHRASE_EN: Final = re.compile(r"\b(?:and|as well as|also|plus)\b|;", re.IGNORECASE)
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
    # Regions the mass extends into ("…extending into the spinal canal"): the same lesion when named again there.
    extension_sites: frozenset[str] = frozenset()
    # What marks a nodule as more than an incidental one (_merge.incidental): a mass word, uptake not called mild
    mass: bool = False
    avid: bool = False
    places: frozenset[str] = frozenset()  # body regions named (腹壁, "abdominal wall"), for vetoes by place


@dataclass
class Veto:
    section: str
    sentence: int
    site: str | None
    side: str | None
    standalone: bool = (
        False  # a sentence that is only a distractor statement ("2. 肝囊肿。", "Likely reactive.")
    )
    # Body regions that are no organ, for a distractor named by its place alone ("右腹壁脂肪瘤可能")
    places: frozenset[str] = frozenset()


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
    # "…左侧较大者约2.5cm×1.8cm；右侧较大者约1.4cm×1.0cm": a sentence that only gives another side's measures
    side_measures: list[tuple[Token, Size | None, Suv | None]] = field(default_factory=list)


def _negated(
    tokens: list[Token], text: str, sentence: Span, clause_of: dict[int, Span], lang: Lang
) -> set[int]:
    """Indices (into ``tokens``) of the negatable tokens inside a negation's scope."""
    out: set[int] = set()
    for i, neg in enumerate(tokens):
        if neg.kind == "post_negation":
            # "An adrenal mass is not identified": the words before it in its clause
            out.update(
                j for j in range(i) if tokens[j].start >= clause_of[i].start and tokens[j].kind in _NEGATABLE
            )
            continue
        if neg.kind not in ("negation", "no_extramedullary"):
            continue
        clause = clause_of[i]
        end = clause.end
        word = text[neg.start : neg.end].lower()
        # "腹部未见髓外浸润病灶": the statement holds its own negation, which covers the rest of its clause
        if lang == "en" and neg.kind == "negation" and word.startswith("no") and word not in ("not",):
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
            if u.kind in ("site", "bone", "region", "soft_region"):
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
    if lang == "zh":
        toks = [_bare_growth(t, text, sentence) for t in toks]
    neg = _negated(toks, text, sentence, clause_of, lang)
    live = _extension_targets(
        [
            t
            for i, t in enumerate(toks)
            if i not in neg and t.kind not in ("negation", "post_negation") and not _level_locator(t, text)
        ],
        text,
        cls,
    )
    negated = [t for i, t in enumerate(toks) if i in neg]
    # Only an enlarged organ needs the sentence's uptake; most sentences have none, so the SUV scan is skipped.
    sentence_uptake = any(t.kind == "enlarged" for t in live) and (
        any(t.kind == "uptake" for t in live) or bool(suvs(text, sentence.start, sentence.end))
    )

    no_emd = [t for t in toks if t.kind in ("no_extramedullary", "organs_normal")]
    if not no_emd:
        no_emd = _negated_extramedullary(toks, neg, text)
    no_new = [t for t in toks if t.kind == "no_new"]
    # "未见软组织肿块" about the body is a statement that there is no extramedullary mass; after a bone lesion
    # ("…骨质破坏，未见软组织肿块", "without extraosseous extension") it only says that lesion is intraosseous.
    negated_soft = (
        any(t.kind == "soft_tissue" and not _extraosseous_word(text[t.start : t.end]) for t in negated)
        and any(t.kind in ("negation", "post_negation") for t in toks)
        and not any(t.kind in ("bone", "bone_destruction") for t in toks)
    )

    # Segment the sentence into mention candidates, clause by clause.
    segments: list[list[Span]] = []
    seg_sites: list[set[str]] = []
    context_site: Token | None = (
        None  # "脾脏不大，内见结节", "LIVER: 2.1 cm lesion": a site named before the lesion word
    )
    context_tokens: list[Token] = []
    for c in cls:
        in_c = [t for t in live if c.start <= t.start < c.end]
        c_sites = {t.value for t in in_c if t.kind == "site"}
        if not segments and c_sites:
            context_site = next(t for t in in_c if t.kind == "site")
            context_tokens = in_c
        lesion_word = (
            any(_is_lesion_word(t, text) for t in in_c)
            or ("lymph_node" in c_sites and any(_abnormal_node_word(t, text) for t in in_c))
            or ("lymph_node" in c_sites and bool(suvs(text, c.start, sentence.end)))
            or (bool(c_sites) and sentence_uptake and any(t.kind == "enlarged" for t in in_c))
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
        m, seg_vetoes = _mention(
            text, seg, st, section, index, lang, (context_site, context_tokens) if k == 0 else (None, [])
        )
        if m is not None:
            mentions.extend(m)
        vetoes.extend(seg_vetoes)
    # "胃窦壁增厚…，大网膜饼状增厚，考虑髓外浆细胞瘤累及胃及腹膜": the conclusion names the organs it involves, and
    # qualifies each one's own mention of the sentence
    for named in mentions:
        if named.myeloma and named.extension_sites:
            for o in mentions:
                if o is not named and o.site in named.extension_sites:
                    o.myeloma, o.hedge = True, o.hedge or named.hedge
    # A sentence without a lesion word but with a site and a distractor ("2. 肝囊肿。", "Likely reactive.") vetoes too.
    if not segments:
        dis = [t for t in live if t.kind == "distractor" and not _unlikely(t, text)]
        my = any(t.kind == "myeloma" for t in live)
        # "L4/5椎间盘膨出，腰椎退行性变", "changes of the left knee": a distractor that names its own place (a bone, a
        # region, a side) is a finding there, not a comment on the sentence before
        placed = any(t.kind in ("bone", "region", "soft_region", "side") for t in live)
        if dis and not my:
            sites = [t for t in live if t.kind == "site"]
            side = _side(text, live, cls[0] if cls else sentence, lang)
            if sites:
                for s in sites:
                    vetoes.append(Veto(section, index, s.value, side.value if side else None, True))
            elif not placed:
                vetoes.append(Veto(section, index, None, None, True))
            elif places := _places(live, text):
                # "右腹壁脂肪瘤可能": the finding at that place and side, wherever the report describes it
                vetoes.append(Veto(section, index, None, side.value if side else None, places=places))
    hedge = next((t for t in live if t.kind == "hedge"), None)
    side_measures: list[tuple[Token, Size | None, Suv | None]] = []
    if not segments and not any(t.kind in ("site", "bone", "region", "soft_region") for t in live):
        # Every clause of the sentence is a candidate part: the first may open with the side word too.
        whole = [Span(sentence.start, sentence.start), *cls]
        for sd, lo, hi in _side_parts(text, whole, live, lang):
            part = [c for c in cls if lo <= c.start < hi]
            sz = _first_current(sizes(text, lo, hi), part, text, lang)
            sv = _first_current(suvs(text, lo, hi), part, text, lang)
            if sd.value != "bilateral" and (sz or sv):
                side_measures.append((sd, sz, sv))
    return SentenceResult(
        mentions=mentions,
        vetoes=vetoes,
        no_emd=no_emd,
        no_new=no_new,
        negated_soft_tissue=negated_soft,
        # "No suspicious lymphadenopathy." qualifies nothing: its hedge word is inside the negated statement
        continuation_hedge=hedge if not any(t.kind in ("negation", "post_negation") for t in toks) else None,
        continuation_myeloma=any(t.kind == "myeloma" for t in live),
        has_site=any(t.kind == "site" for t in live),
        side_measures=side_measures,
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
    context: tuple[Token | None, list[Token]],
) -> tuple[list[Mention] | None, list[Veto]]:
    first = seg[0]
    context_site, context_tokens = context
    st, own_vetoes, applies = _distractors(text, seg, st, section, index, lang)
    kinds = {t.kind for t in st}
    sites = _drop_location_qualifiers([t for t in st if t.kind == "site"], text, lang)
    side_tok = _side(text, st, first, lang)
    if not sites and context_site is not None and not ({"bone", "bone_destruction"} & kinds):
        # "右侧卵巢黄体，代谢增高": the clause that names the site also names (and may dismiss) the finding
        sites = [context_site]
        if context_site.start < first.start:
            applies = applies or any(t.kind == "distractor" for t in context_tokens)
            ctx = Span(context_tokens[0].start, context_tokens[-1].end)
            side_tok = side_tok or _side(text, context_tokens, ctx, lang)
    myeloma = "myeloma" in kinds
    side_parts = _side_parts(text, seg, st, lang)
    written_bilateral = side_tok is not None and side_tok.value == "bilateral"
    if len(side_parts) == 1:
        # "双侧卵巢区见肿块，右侧大小约…": a later clause that opens with a side word narrows the side.
        side_tok = side_parts[0][0]
    side = side_tok.value if side_tok else None
    if applies and not myeloma:
        return None, [*own_vetoes, Veto(section, index, sites[0].value if sites else None, side)]

    destruction = [t for t in st if t.kind == "bone_destruction"]
    bones = [t for t in st if t.kind == "bone"]
    soft = [t for t in st if t.kind == "soft_tissue"]
    organ_sites = [t for t in sites if t.value != "bone"]
    into = [t for t in st if t.kind == "target_into" and t.value not in _NOT_A_SITE_BY_EXTENSION]
    # Without a bone lesion, "a mass involving the right lobe of the thyroid" is a thyroid mass.
    targets = [t for t in st if t.kind in ("target_into", "target_near")]
    bone_context = bool(destruction) or (bool(bones) and bool(soft))
    diffuse = "diffuse" in kinds

    site_tok: Token | None
    if bone_context and (soft or organ_sites or into):
        relation = "arising_from_bone"
        site_tok = organ_sites[0] if organ_sites else (into[0] if into else None)
        site = site_tok.value if site_tok else "soft_tissue"
        rel_tokens = destruction + bones[:1] + soft[:1]
    elif (destruction or bones) and not organ_sites:
        if not bones or diffuse:
            return None, own_vetoes
        if "marrow" in kinds and not destruction and "lesion" not in kinds:
            # 腰椎骨髓浸润, 骨髓代谢增高: marrow disease of the named bone, not a focal lesion
            return None, own_vetoes
        if not destruction and not any(t.kind in ("lesion", "uptake", "myeloma") for t in st):
            return None, own_vetoes
        if all(text[t.start : t.end].lower() in _GENERIC_BONE for t in bones) and not _SOLITARY.search(
            text, seg[0].start, seg[-1].end
        ):
            # "Stable lytic osseous myeloma", "骨骼多发骨质破坏": bone disease, not one named focal lesion
            return None, own_vetoes
        if side == "bilateral" or any(_BONE_LIST.search(text, a.end, b.start) for a, b in pairwise(bones)):
            # "骶骨及双侧髂骨骨质破坏", "lytic lesions in the sacrum and both iliac bones": bone disease in several
            # bones is myeloma bone disease, not one focal lesion to measure
            return None, own_vetoes
        relation, site, site_tok = "intraosseous", "bone", bones[0]
        rel_tokens = destruction[:1] + bones[:1]
    elif organ_sites or targets:
        relation = "none"
        rel_tokens = []
        site_tok = organ_sites[0] if organ_sites else targets[0]
        site = site_tok.value
    elif any(text[t.start : t.end].lower() not in _PLAIN_SOFT for t in soft) or (
        "soft_region" in kinds and any(text[t.start : t.end].lower() in _MASS_WORDS for t in st)
    ):
        # "左侧腋窝软组织肿块，大小约4.0cm×3.2cm": a soft-tissue mass in a region that is no organ
        relation, rel_tokens, site_tok, site = "none", [], None, "soft_tissue"
    else:
        return None, own_vetoes

    seg_suvs = suvs(text, first.start, seg[-1].end)
    if site == "lymph_node" and relation == "none":
        if (
            not any(t.kind in ("uptake", "lesion", "myeloma") or _abnormal_node_word(t, text) for t in st)
            and not seg_suvs
        ):
            return None, own_vetoes
    elif not any(_is_lesion_word(t, text) for t in st) and not ("enlarged" in kinds and seg_suvs):
        return None, own_vetoes

    seg_sizes = sizes(text, first.start, seg[-1].end)
    size = _first_current(seg_sizes, seg, text, lang)
    suv = _first_current(seg_suvs, seg, text, lang)
    change = next((t for t in st if t.kind == "change"), None) or _change_from_sizes(
        size, seg_sizes, seg, text, lang
    )
    hedge = next((t for t in st if t.kind == "hedge"), None)
    lesion_words = [t for t in st if t.kind in ("lesion", "uptake", "enlarged", "lesion_override")][
        :1
    ] or soft[:1]
    my_words = [t for t in st if t.kind == "myeloma"][:1]
    mass = any(text[t.start : t.end].lower() in _MASS_WORDS for t in st)
    avid = any(t.kind == "uptake" and not _mild(t, text) for t in st)
    if not lex_paired(site):
        side, side_tok = None, None

    def build(
        site_id: str,
        stok: Token | None,
        with_measures: bool,
        sd: Token | None = side_tok,
        sz: Size | None = size,
        sv: Suv | None = suv,
    ) -> Mention:
        paired = lex_paired(site_id)
        return Mention(
            section=section,
            sentence=index,
            site=site_id,
            side=sd.value if paired and sd else None,
            relation=relation,
            size=sz if with_measures else None,
            suv=sv if with_measures else None,
            change=change,
            hedge=hedge,
            myeloma=myeloma,
            tokens=lesion_words + my_words,
            relation_tokens=rel_tokens,
            site_token=stok,
            side_token=sd if paired else None,
            extension_sites=frozenset(t.value for t in targets) - {site_id},
            mass=mass,
            avid=avid,
            places=_places(st, text),
        )

    # "双侧腋窝淋巴结肿大，左侧较大者约2.5cm×1.8cm…；右侧较大者约1.4cm×1.0cm…": each side its own lesion.
    if len(side_parts) > 1 and lex_paired(site):
        out = []
        for sd, lo, hi in side_parts:
            part = [c for c in seg if lo <= c.start < hi]
            out.append(
                build(
                    site,
                    site_tok,
                    True,
                    sd,
                    _first_current(sizes(text, lo, hi), part, text, lang),
                    _first_current(suvs(text, lo, hi), part, text, lang),
                )
            )
        return out, own_vetoes
    # "bilateral adrenal nodules, 2.0 x 1.5 cm on the left and 1.0 x 0.8 cm on the right", "左侧2.0cm、右侧1.0cm"
    if written_bilateral and lex_paired(site):
        sided_sizes = _sided_sizes(text, seg_sizes, st, lang)
        if len({sd.value for sd, _ in sided_sizes}) > 1:
            return [build(site, site_tok, True, sd, sz, None) for sd, sz in sided_sizes], own_vetoes

    # "Stable pancreatic tail mass and right hilar node": several organs joined in the first clause, one each —
    # each with the side word written before it ("左侧胸壁、右侧肾上腺及脾脏").
    if relation == "none":
        in_first = [t for t in organ_sites if first.start <= t.start < first.end]
        distinct: list[Token] = []
        for t in in_first:
            if t.value not in {d.value for d in distinct}:
                distinct.append(t)
        if len(distinct) > 1:
            sides = _sides_before(text, distinct, st, first, lang, side_tok)
            return [build(t.value, t, False, sd) for t, sd in zip(distinct, sides, strict=True)], own_vetoes
    return [build(site, site_tok, True)], own_vetoes


# Lesion words that name a mass (a nodule in the neck is more often a node or the thyroid than a soft-tissue mass).
_MASS_WORDS: Final = frozenset({"肿块", "肿物", "团块", "占位", "mass", "masses", "tumor", "tumour"})
# Soft-tissue words that name no mass ("盆腔软组织未见…", "soft tissue extension").
_PLAIN_SOFT: Final = frozenset(
    {"软组织", "骨外", "骨外侵犯", "soft tissue", "soft-tissue", "extension", "extraosseous", "extra-osseous"}
)
# A skull lesion growing "向颅内" is not brain or meningeal disease by that word alone (docs/imaging.md).
_NOT_A_SITE_BY_EXTENSION: Final = frozenset({"cns"})


_EN_SIDE_AFTER: Final = re.compile(r"\s*(?:on\s+the\s+|in\s+the\s+|\()?(left|right)\b", re.IGNORECASE)


def _sided_sizes(text: str, all_sizes: list[Size], st: list[Token], lang: Lang) -> list[tuple[Token, Size]]:
    """Sizes written with their own side: a side word just before (Chinese) or "on the left" just after (English)."""
    out: list[tuple[Token, Size]] = []
    for v in all_sizes:
        if lang == "zh":
            before = [
                t for t in st if t.kind == "side" and t.value != "bilateral" and 0 <= v.start - t.end <= 6
            ]
            if before:
                out.append((before[-1], v))
        else:
            m = _EN_SIDE_AFTER.match(text, v.end)
            if m:
                out.append((Token("side", m.group(1).lower(), m.start(1), m.end(1)), v))
    return out


def _sides_before(
    text: str, sites: list[Token], st: list[Token], clause: Span, lang: Lang, default: Token | None
) -> list[Token | None]:
    """The side word written before each of several sites in one clause; a site without one takes the previous
    site's ("左侧胸壁及肾上腺")."""
    out: list[Token | None] = []
    prev_end = clause.start
    current = default
    for i, s in enumerate(sites):
        found = None
        for t in st:
            if t.kind == "side" and prev_end <= t.start < s.start:
                gap = text[t.end : s.start]
                if lang == "zh" or len(gap.split()) <= 2:
                    found = t
        if found is not None:
            current = found
        elif i == 0:
            current = default
        out.append(current)
        prev_end = s.end
    return out


def _side_parts(text: str, seg: list[Span], st: list[Token], lang: Lang) -> list[tuple[Token, int, int]]:
    """Later clauses of a mention that open with a side word ("右侧大小约…", "the left measures…"): each with the
    span it covers, up to the next such clause."""
    starts: list[tuple[Token, int]] = []
    for c in seg[1:]:
        lead = next((t for t in st if c.start <= t.start < c.end), None)
        if lead is None or lead.kind != "side":
            continue
        head = text[c.start : lead.start].strip().lower()
        if (lang == "zh" and lead.start - c.start <= 1) or (lang == "en" and head in ("", "the", "on the")):
            starts.append((lead, c.start))
    parts = []
    for i, (tok, lo) in enumerate(starts):
        hi = starts[i + 1][1] if i + 1 < len(starts) else seg[-1].end
        parts.append((tok, lo, hi))
    if len({t.value for t, _, _ in parts}) < len(parts):
        return parts[:1]
    return parts


# A later clause that opens like this, or names another place, reports another finding rather than commenting on
# the mention's own ("…，另见胆囊结石", "…, and cholelithiasis").
_NEW_FINDING: Final = re.compile(
    r"\s*(?:另见|另|并见|此外|同时见|余|and\b|also\b|additionally\b|as well as\b|plus\b|incidental)",
    re.IGNORECASE,
)
_LOCATORS: Final = frozenset({"bone", "soft_region", "region"})


def _phrase(text: str, clause: Span, pos: int, lang: Lang) -> tuple[int, int]:
    """The part of ``clause`` around ``pos`` between conjunctions (及, 和, 、, "and", "as well as")."""
    conj = _CONJ_PHRASE_ZH if lang == "zh" else _CONJ_PHRASE_EN
    lo, hi = clause.start, clause.end
    for m in conj.finditer(text, clause.start, clause.end):
        if m.end() <= pos:
            lo = m.end()
        elif m.start() >= pos:
            hi = m.start()
            break
    return lo, hi


def _distractors(
    text: str, seg: list[Span], st: list[Token], section: str, index: int, lang: Lang
) -> tuple[list[Token], list[Veto], bool]:
    """Whether a distractor word in the mention describes the mention's own finding (module docstring); the tokens
    of the mention without those of a distractor's separate finding, and vetoes for the sites of those findings."""
    dis = [t for t in st if t.kind == "distractor" and not _unlikely(t, text)]
    st = [t for t in st if t.kind != "distractor" or t in dis]
    if not dis:
        return st, [], False
    anchor = next((t for t in st if seg[0].start <= t.start < seg[0].end and _is_lesion_word(t, text)), None)
    if anchor is None:
        anchor = next((t for t in st if _is_lesion_word(t, text) or t.kind == "enlarged"), None)
    anchor_clause = next((c for c in seg if anchor and c.start <= anchor.start < c.end), seg[0])
    # The sites of the anchor's own phrase, else those named before it in its clause ("肝内见…及一枚低密度结节").
    a_lo, a_hi = _phrase(text, anchor_clause, anchor.start, lang) if anchor else (seg[0].start, seg[0].end)
    anchor_sites = {t.value for t in st if t.kind == "site" and a_lo <= t.start < a_hi} or {
        t.value for t in st if t.kind == "site" and anchor_clause.start <= t.start < a_hi
    }
    anchor_side = next(
        (t.value for t in st if t.kind == "side" and anchor_clause.start <= t.start < anchor_clause.end), None
    )
    anchor_places = {
        text[t.start : t.end].lower()
        for t in st
        if t.kind in _LOCATORS and anchor_clause.start <= t.start < anchor_clause.end
    }
    applies = False
    drop: list[tuple[int, int]] = []
    vetoes: list[Veto] = []
    for d in dis:
        clause = next(c for c in seg if c.start <= d.start < c.end)
        lo, hi = _phrase(text, clause, d.start, lang)
        if anchor is not None and lo <= anchor.start < hi:
            applies = True
            continue
        in_clause = [t for t in st if clause.start <= t.start < clause.end]
        # "Right adrenal mass …, and left adrenal adenoma": the same organ on the other side is another finding
        other_side = next((t.value for t in in_clause if t.kind == "side"), None) not in (None, anchor_side)
        other_sites = [
            t
            for t in in_clause
            if t.kind == "site" and (t.value not in anchor_sites or (other_side and anchor_side))
        ]
        other_lesion = any(
            _is_lesion_word(t, text) for t in in_clause if t is not anchor and not lo <= t.start < hi
        )
        if other_sites and clause is not anchor_clause:
            # "…, and a 0.8 cm simple cyst in the left kidney": another organ's finding
            side = next((t for t in in_clause if t.kind == "side"), None)
            vetoes.append(Veto(section, index, other_sites[0].value, side.value if side else None))
            drop.append((clause.start, clause.end))
        elif other_lesion or clause is anchor_clause:
            # "肝内见多发小囊肿及一枚低密度结节": the cyst is its own finding; "肺肿块伴纵隔淋巴结转移": so are the nodes
            own = _drop_location_qualifiers(
                [
                    t
                    for t in in_clause
                    if t.kind == "site" and lo <= t.start < hi and t.value not in anchor_sites
                ],
                text,
                lang,
            )
            if own:
                side = next((t for t in in_clause if t.kind == "side" and lo <= t.start < hi), None)
                vetoes.append(Veto(section, index, own[0].value, side.value if side else None))
            drop.append((lo, hi))
        elif (
            _NEW_FINDING.match(text, clause.start)
            or other_side
            or any(
                t.kind in _LOCATORS and text[t.start : t.end].lower() not in anchor_places for t in in_clause
            )
        ):
            drop.append(
                (clause.start, clause.end)
            )  # "…，另见胆囊结石", "…, and degenerative disc disease at L4-L5"
        else:
            applies = True  # "…, 考虑上颌窦炎", "…, likely pneumonia": a comment on this finding
    kept = [t for t in st if not any(a <= t.start < b for a, b in drop)]
    return kept, vetoes, applies


_LEVEL: Final = re.compile(r"[CTL]\d{1,2}", re.IGNORECASE)
_AT_LEVEL_BEFORE: Final = re.compile(
    r"\b(?:at|at the level of|level of|at the|from|through)\s*$", re.IGNORECASE
)
_AT_LEVEL_AFTER: Final = re.compile(r"\s*(?:水平|平面|level)")


def _level_locator(t: Token, text: str) -> bool:
    """ "a paravertebral mass at T8", "T8水平椎旁": the vertebral level places the finding, it is no bone lesion."""
    if t.kind != "bone" or not _LEVEL.fullmatch(text[t.start : t.end]):
        return False
    return bool(_AT_LEVEL_BEFORE.search(text, max(0, t.start - 20), t.start)) or bool(
        _AT_LEVEL_AFTER.match(text, t.end)
    )


_UNLIKELY_AFTER: Final = re.compile(
    r"\s*(?:可能性小|可能性不大|可能小|不大可能|is\s+(?:less\s+likely|unlikely|not\s+favou?red)|less\s+likely|unlikely)",
    re.IGNORECASE,
)
_UNLIKELY_BEFORE: Final = re.compile(
    r"(?:不考虑|非|不像|不符合|不支持|不似|not|unlikely\s+to\s+be|rather\s+than"
    r"|(?:not|atypical|un)\s*(?:typical|characteristic|consistent|compatible|diagnostic)\s+(?:of|for|with)"
    r"(?:\s+(?:an?|the))?)\s*$",
    re.IGNORECASE,
)


def _places(toks: list[Token], text: str) -> frozenset[str]:
    return frozenset(text[t.start : t.end].lower() for t in toks if t.kind == "soft_region")


_MILD: Final = re.compile(
    r"轻度|轻微|稍|略|淡|\bmild(?:ly)?\b|\bslight(?:ly)?\b|\bfaint\b|\blow[- ]grade\b", re.I
)
_MILD_BEFORE: Final = re.compile(
    r"(?:轻度|轻微|稍|略|\bmild(?:ly)?|\bslight(?:ly)?|\bfaint|\blow[- ]grade)\s*(?:fdg\s*)?$", re.I
)


def _mild(t: Token, text: str) -> bool:
    """ "Mild uptake", 轻度代谢增高, 代谢轻度增高: uptake the report itself calls slight (the word right before it, or
    inside it)."""
    return bool(_MILD.search(text, t.start, t.end)) or bool(
        _MILD_BEFORE.search(text, max(0, t.start - 12), t.start)
    )


def _unlikely(t: Token, text: str) -> bool:
    """ "良性可能性小", "lymphoma is less likely", "not reactive", "not typical of an adenoma", 不符合腺瘤: a
    distractor the report sets aside."""
    return bool(_UNLIKELY_AFTER.match(text, t.end)) or bool(
        _UNLIKELY_BEFORE.search(text, max(0, t.start - 28), t.start)
    )


def _bare_growth(t: Token, text: str, sentence: Span) -> Token:
    """增大 without a comparison in its sentence describes an enlarged organ, not growth since the prior study."""
    if t.kind != "change" or text[t.start : t.end] not in _BARE_GROWTH:
        return t
    if _COMPARISON_ZH.search(text, sentence.start, t.start):
        return t
    return Token("enlarged", "enlarged", t.start, t.end)


def _extension_targets(live: list[Token], text: str, cls: list[Span]) -> list[Token]:
    """Sites named after an extension word, once the sentence has described a lesion, become ``target_into`` or
    ``target_near`` tokens (module docstring)."""
    out: list[Token] = []
    described = False
    for t in live:
        if t.kind == "site" and described:
            clause = next((c for c in cls if c.start <= t.start < c.end), None)
            if clause is not None:
                lo = clause.start
                into = _last(_EXTENSION_INTO, text, lo, t.start)
                near = _last(_EXTENSION_NEAR, text, lo, t.start)
                prev_site = max(
                    (u.end for u in out if u.kind == "site" and lo <= u.start < t.start), default=-1
                )
                cue = max(into, near)
                if cue > prev_site and cue >= 0 and not _described_after(live, t, clause):
                    out.append(
                        Token("target_into" if into >= near else "target_near", t.value, t.start, t.end)
                    )
                    continue
        if t.kind in ("lesion", "soft_tissue", "bone_destruction", "bone", "uptake", "lesion_override"):
            described = True
        out.append(t)
    return out


def _described_after(live: list[Token], site: Token, clause: Span) -> bool:
    """ "邻近硬脑膜增厚": the neighbouring site has a lesion word of its own before the next site."""
    for u in live:
        if u.start < site.end or u.start >= clause.end:
            continue
        if u.kind == "site":
            return False
        if u.kind in ("lesion", "soft_tissue", "uptake", "enlarged"):
            return True
    return False


def _last(pattern: re.Pattern[str], text: str, lo: int, hi: int) -> int:
    pos = -1
    for m in pattern.finditer(text, lo, hi):
        pos = m.start()
    return pos


def _extraosseous_word(word: str) -> bool:
    return "骨外" in word or "osseous" in word.lower()


def _change_from_sizes(
    size: Size | None, all_sizes: list[Size], seg: list[Span], text: str, lang: Lang
) -> Token | None:
    """ "now 3.1 x 2.2 cm (previously 5.0 x 3.8 cm)" with no change word: the direction the two sizes give, compared
    as the product of the diameters (one diameter alone when either size has one). The evidence is the prior size."""
    if size is None:
        return None
    prior = next(
        (
            v
            for v in all_sizes
            if v is not size
            and is_prior(
                text, next((c for c in seg if c.start <= v.start < c.end), seg[0]).start, v.start, lang
            )
        ),
        None,
    )
    if prior is None:
        return None
    if len(size.cm) == len(prior.cm) == 2:
        now, before = size.cm[0] * size.cm[1], prior.cm[0] * prior.cm[1]
    else:
        now, before = size.cm[0], prior.cm[0]
    value = "decreased" if now < before else "increased" if now > before else "stable"
    return Token("size_change", value, prior.start, prior.end)


def _abnormal_node_word(t: Token, text: str) -> bool:
    if t.kind == "site":  # "lymphadenopathy" names the node and says it is enlarged
        return text[t.start : t.end].lower().rstrip("s") in (
            "lymphadenopathie",
            "lymphadenopathy",
            "adenopathy",
        )
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
