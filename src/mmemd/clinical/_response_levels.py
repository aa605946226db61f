"""Response levels as small ints and sets of levels as bit masks (private to the response engine).

Each parameter (serum, urine, FLC, marrow, IHC, plasmacytomas) says which overall levels its data allow;
the overall level is the highest level every parameter allows — the "lowest level across parameters"
rule (docs/criteria.md §1.3, general rule 7). Bit masks make that an integer AND, and also cover the
one non-nested case (FLC-only CR needs a normal ratio, VGPR needs a >=90% dFLC fall; §1.3).
"""

from __future__ import annotations

from typing import Final, Literal

ResponseCategory = Literal["sCR", "CR", "VGPR", "PR", "MR", "SD", "PD", "not_evaluable"]
TimelineCategory = Literal["baseline", "sCR", "CR", "VGPR", "PR", "MR", "SD", "PD", "not_evaluable"]
ParameterCategory = Literal["sCR", "CR", "VGPR", "PR", "MR", "SD", "PD"]
LevelName = Literal["sCR", "CR", "VGPR", "PR", "MR", "SD"]

SD: Final = 1
MR: Final = 2
PR: Final = 3
VGPR: Final = 4
CR: Final = 5
SCR: Final = 6

NAMES: Final[dict[int, LevelName]] = {SD: "SD", MR: "MR", PR: "PR", VGPR: "VGPR", CR: "CR", SCR: "sCR"}
PD_NAME: Final = "PD"
NOT_EVALUABLE: Final = "not_evaluable"
BASELINE: Final = "baseline"

# Order used for "best" and for the monotonicity properties: not_evaluable < PD < SD < ... < sCR.
ORDER: Final[dict[str, int]] = {NOT_EVALUABLE: -1, PD_NAME: 0, **{name: lvl for lvl, name in NAMES.items()}}


def bit(level: int) -> int:
    return 1 << level


def up_to(level: int) -> int:
    """Mask of every level from SD up to and including ``level``."""
    return (1 << (level + 1)) - 2


SD_ONLY: Final = up_to(SD)
UP_TO_MR: Final = up_to(MR)
UP_TO_PR: Final = up_to(PR)
UP_TO_VGPR: Final = up_to(VGPR)
UP_TO_CR: Final = up_to(CR)
ALL: Final = up_to(SCR)
NO_MR: Final = ALL & ~bit(MR)
CR_AND_SCR: Final = bit(CR) | bit(SCR)


def highest(mask: int) -> int:
    """Highest level in a mask (SD is always allowed, so a mask is never empty in practice)."""
    return mask.bit_length() - 1 if mask else SD
