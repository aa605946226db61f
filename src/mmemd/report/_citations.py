"""Publications outside the knowledge base that the decision-support rules cite, by their key in the source register
of clinical-criteria.md §0 (staging figures, consensus statements). Text abridged from that register."""

from __future__ import annotations

from typing import Final

SPEC_SOURCES: Final[dict[str, str]] = {
    "GREIPP05": "Greipp PR et al. International staging system for multiple myeloma. J Clin Oncol 2005;23(15):3412-20.",
    "PALUMBO15": "Palumbo A, Avet-Loiseau H, Oliva S, et al. Revised ISS for multiple myeloma: IMWG report. J Clin Oncol 2015;33(26):2863-9. doi:10.1200/JCO.2015.61.2267",
    "DAGOSTINO22": "D'Agostino M, Cairns DA, Lahuerta JJ, et al. Second revision of the ISS (R2-ISS) for OS in MM. J Clin Oncol 2022;40(29):3406-18. doi:10.1200/JCO.21.02614",
    "IMS25": "Avet-Loiseau H, Davies FE, Samur MK, et al. IMS/IMWG consensus recommendations on the definition of high-risk MM. J Clin Oncol 2025;43(24):2739-51. doi:10.1200/JCO-24-01893",
    "BHUTANI20": "Bhutani M, Foureau DM, Atrash S, Voorhees PM, Usmani SZ. Extramedullary multiple myeloma. Leukemia 2020;34(1):1-20. doi:10.1038/s41375-019-0660-0",
    "ROSINOL21": "Rosiñol L, Beksac M, Zamagni E, et al. Expert review on soft-tissue plasmacytomas in MM. Br J Haematol 2021;194(3):496-507. doi:10.1111/bjh.17338",
    "BLADE22": "Bladé J, Beksac M, Caers J, et al. Extramedullary disease in MM: a systematic literature review. Blood Cancer J 2022;12(3):45. doi:10.1038/s41408-022-00643-3",
    "TOUZEAU16": "Touzeau C, Moreau P. How I treat extramedullary myeloma. Blood 2016;127(8):971-6.",
    "PCL21": "Fernández de Larrea C, et al. Primary plasma cell leukemia: consensus definition by the IMWG. Blood Cancer J 2021;11(12):192. doi:10.1038/s41408-021-00587-0",
    "CAERS18": "Caers J, et al. Diagnosis, treatment, and response assessment in solitary plasmacytoma. J Hematol Oncol 2018;11:10.",
    "EMD-Tx": "Dima D et al. Blood Cancer J 2024;14:90; ide-cel EMD study, J Hematol Oncol 2024 (doi:10.1186/s13045-024-01555-4); Steinhardt MJ et al. Blood Cancer J 2025;15:126; Gagelmann N et al. Haematologica 2018;103:890; Beksac M et al. Haematologica 2020;105:201.",
    "KUMAR16": "Kumar S, Paiva B, Anderson KC, et al. IMWG consensus criteria for response and MRD assessment in MM. Lancet Oncol 2016;17(8):e328-46. doi:10.1016/S1470-2045(16)30206-6",
}


def spec_source(key: str) -> str:
    """The citation of a register key; the bare key when the register has no entry (never a guess)."""
    return SPEC_SOURCES.get(key, key)
