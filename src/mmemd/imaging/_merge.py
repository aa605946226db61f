"""One lesion per lesion: mentions in findings and impression (or repeated within one) are merged, and vetoes applied.

Two mentions are the same lesion when their sites agree (a soft-tissue mass arising from bone without a named
region agrees with any region of another such mass), their sides do not contradict each other and their sizes, when
both are given, are equal. Values come from the first mention that has them (findings come first); certainty comes
from the impression when the impression mentions the lesion — it is the radiologist's conclusion — else from the
findings. A lesion none of whose mentions names myeloma is dropped when a distractor mention of the same site
("2. 肝囊肿", "consistent with adenoma") vetoes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mmemd.imaging._mentions import Mention, Veto


@dataclass
class Group:
    mentions: list[Mention] = field(default_factory=list)

    @property
    def site(self) -> str:
        specific = [m.site for m in self.mentions if m.site != "soft_tissue"]
        return specific[0] if specific else self.mentions[0].site

    @property
    def relation(self) -> str:
        return self.mentions[0].relation

    @property
    def side(self) -> str | None:
        return next((m.side for m in self.mentions if m.side), None)

    @property
    def myeloma(self) -> bool:
        return any(m.myeloma for m in self.mentions)

    def certainty(self) -> str:
        imp = [m for m in self.mentions if m.section == "impression"]
        pool = imp or self.mentions
        return "possible" if any(m.hedge for m in pool) else "definite"


def _sites_agree(g: Group, m: Mention) -> bool:
    if g.site == m.site:
        return True
    return g.relation == m.relation == "arising_from_bone" and "soft_tissue" in (g.site, m.site)


def _agrees(g: Group, m: Mention) -> bool:
    if not _sites_agree(g, m):
        return False
    if g.relation != m.relation and "intraosseous" in (g.relation, m.relation):
        return False
    if g.side and m.side and g.side != m.side:
        return False
    sizes = [x.size.cm for x in g.mentions if x.size]
    return not (sizes and m.size and m.size.cm != sizes[0])


def merge(mentions: list[Mention], vetoes: list[Veto]) -> list[Group]:
    # A distractor sentence right after a lesion sentence ("… mass. Biopsy-proven lung adenocarcinoma.") vetoes
    # that sentence when it names none of its sites, or names one of them.
    vetoed: set[int] = set()
    for v in vetoes:
        if not v.standalone:
            continue
        prev = [
            i
            for i, m in enumerate(mentions)
            if m.section == v.section
            and m.sentence == v.sentence - 1
            and (v.side is None or m.side is None or v.side == m.side)
        ]
        if prev and (v.site is None or any(mentions[i].site == v.site for i in prev)):
            vetoed.update(i for i in prev if not mentions[i].myeloma)
    groups: list[Group] = []
    ordered = sorted(
        (m for i, m in enumerate(mentions) if i not in vetoed),
        key=lambda m: (m.section != "findings", m.sentence),
    )
    for m in ordered:
        target = next((g for g in groups if _agrees(g, m)), None)
        if target is None:
            groups.append(Group([m]))
        else:
            target.mentions.append(m)
    kept = []
    for g in groups:
        if not g.myeloma and any(
            v.site == g.site and (v.side is None or g.side is None or v.side == g.side) for v in vetoes
        ):
            continue
        kept.append(g)
    return kept
