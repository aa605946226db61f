"""One lesion per lesion: mentions in findings and impression (or repeated within one) are merged, and vetoes applied.

Two mentions are the same lesion when their sites agree (a soft-tissue mass arising from bone without a named
region agrees with any region of another such mass, and a region it extends into agrees with its site), their sides do not contradict each other and their sizes, when
both are given, are equal. Values come from the first mention that has them (findings come first); certainty comes
from the impression when the impression mentions the lesion — it is the radiologist's conclusion — else from the
findings. A bilateral mention without a size joins the left and the right lesion of its site when the report
measured them apart. A lesion none of whose mentions names myeloma is dropped when a distractor mention of the same site
("2. 肝囊肿", "consistent with adenoma") vetoes it.

A nodule of an organ where incidental nodules are common (thyroid, adrenal, lung, kidney) is dropped when nothing
marks it as disease (:func:`incidental`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from mmemd.imaging._mentions import Mention, Veto


class Group:
    """The mentions of one lesion, with the merged site, side, first size and myeloma flag kept up to date."""

    __slots__ = ("extension_sites", "mentions", "myeloma", "relation", "side", "site", "size")

    def __init__(self, first: Mention) -> None:
        self.mentions: list[Mention] = []
        self.site = first.site
        self.relation = first.relation
        self.side: str | None = None
        self.size: tuple[object, ...] | None = None
        self.myeloma = False
        self.extension_sites: frozenset[str] = frozenset()
        self.add(first)

    def add(self, m: Mention) -> None:
        self.mentions.append(m)
        if self.site == "soft_tissue" and m.site != "soft_tissue":
            self.site = m.site  # a named region is more specific than the fallback
        self.side = self.side or m.side
        if self.size is None and m.size is not None:
            self.size = m.size.cm
        self.myeloma = self.myeloma or m.myeloma
        self.extension_sites = self.extension_sites | m.extension_sites

    def certainty(self) -> str:
        imp = [m for m in self.mentions if m.section == "impression"]
        pool = imp or self.mentions
        return "possible" if any(m.hedge for m in pool) else "definite"


def _sites_agree(g: Group, m: Mention) -> bool:
    if g.site == m.site:
        return True
    if g.relation != "arising_from_bone" or m.relation != "arising_from_bone":
        return False
    # "paravertebral mass extending into the spinal canal" … "plasmacytoma with epidural extension": one mass
    return "soft_tissue" in (g.site, m.site) or m.site in g.extension_sites or g.site in m.extension_sites


def _agrees(g: Group, m: Mention) -> bool:
    if not _sites_agree(g, m):
        return False
    if g.relation != m.relation and "intraosseous" in (g.relation, m.relation):
        return False
    if g.side and m.side and g.side != m.side:
        return False
    return not (g.size is not None and m.size is not None and m.size.cm != g.size)


# Organs where small nodules are common incidental findings (thyroid and adrenal incidentalomas, pulmonary and renal
# nodules): in a myeloma patient's study a radiologist reads one as the disease only when something marks it.
INCIDENTAL_ORGANS: Final = frozenset({"thyroid", "adrenal", "lung", "kidney"})
# SUVmax 2.5 is the customary FDG PET cut-off between benign and suspicious uptake.
_SUSPICIOUS_SUV: Final = Decimal("2.5")


def incidental(g: Group) -> bool:
    """A nodule of an incidental-prone organ that no mention marks: no myeloma word, no hedge (the radiologist did not
    suspect it), no growth or response (new, increased, decreased, resolved), no mass word, and uptake neither called
    more than mild nor reaching SUVmax 2.5 ("甲状腺左叶低密度结节，直径约0.9cm，SUVmax约1.8", "mild uptake in a right
    thyroid nodule, SUVmax 2.4, unchanged")."""
    if g.site not in INCIDENTAL_ORGANS or g.relation != "none" or g.myeloma:
        return False
    ms = g.mentions
    if any(m.hedge or m.mass for m in ms):
        return False
    if any(m.change is not None and m.change.value != "stable" for m in ms):
        return False
    suv = next((m.suv.value for m in ms if m.suv), None)
    if suv is not None:
        return suv < _SUSPICIOUS_SUV
    return not any(m.avid for m in ms)


def merge(mentions: list[Mention], vetoes: list[Veto]) -> list[Group]:
    # A distractor sentence right after a lesion sentence ("… mass. Biopsy-proven lung adenocarcinoma.") vetoes
    # that sentence when it names none of its sites, or names one of them.
    vetoed: set[int] = set()
    by_sentence: dict[int, list[int]] = {}
    for i, m in enumerate(mentions):
        by_sentence.setdefault(m.sentence, []).append(i)
    for v in vetoes:
        if not v.standalone:
            continue
        prev = [
            i
            for i in by_sentence.get(v.sentence - 1, ())
            if mentions[i].section == v.section
            and (v.side is None or mentions[i].side is None or v.side == mentions[i].side)
        ]
        if prev and (v.site is None or any(mentions[i].site == v.site for i in prev)):
            vetoed.update(i for i in prev if not mentions[i].myeloma)
    groups: list[Group] = []
    ordered = sorted(
        (m for i, m in enumerate(mentions) if i not in vetoed),
        key=lambda m: (m.section != "findings", m.sentence),
    )
    for m in ordered:
        # "双侧腋窝淋巴结肿大" after the left and the right node were measured apart: the same two lesions.
        if m.side == "bilateral" and m.size is None:
            sided = [g for g in groups if g.site == m.site and g.side in ("left", "right")]
            if {g.side for g in sided} == {"left", "right"} and not any(
                g.site == m.site and g.side == "bilateral" for g in groups
            ):
                for g in sided:
                    g.add(m)
                continue
        target = next((g for g in groups if _agrees(g, m)), None)
        if target is None:
            groups.append(Group(m))
        else:
            target.add(m)
    veto_sides: dict[str | None, set[str | None]] = {}
    for v in vetoes:
        veto_sides.setdefault(v.site, set()).add(v.side)
    place_vetoes = [v for v in vetoes if v.places]
    kept = []
    for g in groups:
        sides = veto_sides.get(g.site)
        if not g.myeloma and sides and (None in sides or g.side is None or g.side in sides):
            continue
        if incidental(g):
            continue
        if not g.myeloma and any(
            v.places & m.places and v.side in (None, g.side) for v in place_vetoes for m in g.mentions
        ):
            continue  # "右侧腹壁皮下见一等回声结节" + "诊断意见：右腹壁脂肪瘤可能"
        kept.append(g)
    return kept
