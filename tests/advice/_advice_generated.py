"""Deterministic variations of the example records (seeded, no hypothesis draw), for comparisons over many patients:
the same fields the safety properties vary — age, sex, ECOG, transplant eligibility, creatinine, cytogenetics,
therapy history with recorded refractoriness, and the phase — so every entity pathway and most rule conditions are
exercised with valid records."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BASES = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.json"))]
REGIMENS = [
    ["bortezomib", "lenalidomide", "dexamethasone"],
    ["bortezomib", "lenalidomide", "dexamethasone", "asct"],
    ["daratumumab", "lenalidomide", "dexamethasone"],
    ["daratumumab", "pomalidomide", "dexamethasone"],
    ["carfilzomib", "pomalidomide", "dexamethasone"],
    ["carfilzomib", "dexamethasone"],
    ["isatuximab", "carfilzomib", "dexamethasone"],
    ["elotuzumab", "lenalidomide", "dexamethasone"],
    ["selinexor", "bortezomib", "dexamethasone"],
    ["bcma_car_t"],
    ["teclistamab"],
    ["thalidomide", "dexamethasone"],
    ["daratumumab", "bortezomib", "thalidomide", "dexamethasone", "asct"],
]


def first_date(rec: dict[str, Any]) -> date:
    dates = [a["date"] for a in rec.get("assessments") or []]
    return date.fromisoformat(min(dates)) if dates else date(2025, 6, 1)


def therapy_line(
    number: int, agents: list[str], start: date, ref: bool | str | None, refractory_agents: list[str]
) -> dict[str, Any]:
    """A therapy line; ``ref`` is None (not recorded), False, True, or "agents" (refractory to those agents)."""
    line: dict[str, Any] = {"line": number, "agents": agents, "start": start.isoformat()}
    if ref == "agents":
        line["refractory"] = True
        line["refractory_agents"] = refractory_agents
    elif ref is not None:
        line["refractory"] = ref
    return line


def set_history(rec: dict[str, Any], lines: list[dict[str, Any]]) -> None:
    if lines:
        rec["therapy_history"] = lines
    else:
        rec.pop("therapy_history", None)


def varied_records(n: int, seed: int = 20261205) -> Iterator[dict[str, Any]]:
    """``n`` valid records, the same ones for the same seed."""
    rnd = random.Random(seed)
    for i in range(n):
        rec = copy.deepcopy(BASES[i % len(BASES)])
        rec["id"] = f"v{i}"
        rec["age"] = rnd.choice([None, rnd.randint(18, 95)])
        rec["sex"] = rnd.choice([None, "female", "male"])
        rec["ecog"] = rnd.choice([None, rnd.randint(0, 4)])
        rec["transplant_eligible"] = rnd.choice([None, True, False])
        rec["phase"] = rnd.choice(["newly_diagnosed", "relapsed_refractory"])
        labs = rec.setdefault("labs", {})
        if rnd.random() < 0.3:
            labs.pop("creatinine", None)
        else:
            labs["creatinine"] = {"value": round(rnd.uniform(0.4, 9.0), 2), "unit": "mg/dL"}
        if rnd.random() < 0.5:
            cyto = {k: rnd.choice([None, True, False]) for k in ("del_17p", "t_4_14", "t_14_16", "t_11_14")}
            rec["cytogenetics"] = {k: v for k, v in cyto.items() if v is not None}
        n_lines = rnd.randint(0, 4)
        first = first_date(rec)
        lines = []
        for j in range(n_lines):
            agents = list(rnd.choice(REGIMENS))
            start = first - timedelta(days=rnd.randint(-60, 900) + 400 * (n_lines - 1 - j))
            ref = rnd.choice([None, False, True, "agents"])
            chosen = rnd.sample(agents, rnd.randint(1, len(agents))) if ref == "agents" else []
            lines.append(therapy_line(j + 1, agents, start, ref, chosen))
        set_history(rec, lines)
        yield rec
