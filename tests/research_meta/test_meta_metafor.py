"""Every output of `mmemd meta` against R metafor 3.8-1 run on the same CSVs, across measures x methods x tests.

The module fixture runs ``metafor_reference.R`` (beside this file) once; the tests are skipped when Rscript or metafor
is missing (CI installs r-cran-metafor). R is run with tight control (REML threshold 1e-12, uniroot tol 1e-14), so
both sides are solved to convergence and agree to 1e-6 relative.

Datasets (CSV in data/, written from metafor's bundled copies): dat.bcg (Colditz et al. 1994, BCG vaccine trials),
dat.fine1993 (Fine 1993), dat.nielweise2007 (Niel-Weise et al. 2007; zero cells), dat.pritz1997 (Pritz 1997, as in
Stijnen et al. 2010; events = n), Kacker (2004) interlaboratory data, plus small edge tables of our own.
"""

from __future__ import annotations

import csv
import math
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

from _system import require_system
from mmemd.research import meta

HERE = Path(__file__).parent
DATA = HERE / "data"
REL, ABS = 1e-6, 1e-9


def _grid() -> list[tuple[str, str, str, str, str, str | None, bool]]:
    cases: list[tuple[str, str, str, str, str, str | None, bool]] = []

    def add(
        file: str,
        measures: list[str],
        methods: list[str],
        tests: list[str],
        by: str | None = None,
        l1o: tuple[str, str, str] | None = None,
    ) -> None:
        for m in measures:
            for meth in methods:
                for t in tests:
                    cid = f"{Path(file).stem}-{m}-{meth}-{t}"
                    cases.append((cid, file, m, meth, t, by, l1o == (m, meth, t)))

    four = ["FE", "DL", "REML", "PM"]
    add("dat_bcg.csv", ["RR", "OR", "RD"], four, ["z", "knha"], by="alloc", l1o=("RR", "REML", "z"))
    add("dat_fine1993.csv", ["RR", "OR", "RD"], ["DL", "REML"], ["z"], l1o=("OR", "DL", "z"))
    add("dat_nielweise2007.csv", ["RR", "OR", "RD"], ["FE", "REML", "PM"], ["z"], l1o=("OR", "REML", "z"))
    add("dat_pritz1997.csv", ["PR", "PLO", "PFT", "PAS"], four, ["z", "knha"], l1o=("PFT", "REML", "z"))
    add("edge_zero.csv", ["PR", "PLO", "PFT", "PAS"], ["DL", "REML"], ["z"])
    add("kacker2004.csv", ["GEN"], four, ["z", "knha"], l1o=("GEN", "PM", "knha"))
    add("homogeneous.csv", ["GEN"], ["DL", "REML", "PM"], ["z"])
    add("identical.csv", ["GEN"], ["FE", "REML"], ["z", "knha"])
    return cases


CASES = _grid()


def _metafor_available() -> str | None:
    if shutil.which("Rscript") is None:
        return "Rscript not on PATH: reference values from R metafor"
    probe = subprocess.run(
        ["Rscript", "-e", "suppressPackageStartupMessages(library(metafor))"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        return "R package metafor not loadable: reference values from R metafor"
    return None


@pytest.fixture(scope="module")
def metafor_ref(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, float]]:
    why = _metafor_available()
    require_system("r-cran-metafor", why is None, why or "")
    tmp = tmp_path_factory.mktemp("metafor")
    spec, out = tmp / "spec.csv", tmp / "out.csv"
    with spec.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "file", "measure", "method", "test", "by", "l1o"])
        for cid, file, m, meth, t, by, l1o in CASES:
            w.writerow([cid, str(DATA / file), m, meth, t, by or "", int(l1o)])
    run = subprocess.run(
        ["Rscript", str(HERE / "metafor_reference.R"), str(spec), str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    ref: dict[str, dict[str, float]] = defaultdict(dict)
    with out.open() as fh:
        for row in csv.DictReader(fh):
            ref[row["id"]][row["key"]] = float(row["value"]) if row["value"] != "NA" else math.nan
    return dict(ref)


def _close(ours: float | None, theirs: float, what: str) -> None:
    if math.isnan(theirs):
        assert ours is None or math.isnan(ours), f"{what}: metafor NA, ours {ours}"
        return
    assert ours is not None, f"{what}: ours is None, metafor {theirs}"
    assert math.isclose(ours, theirs, rel_tol=REL, abs_tol=ABS), (
        f"{what}: ours {ours!r} vs metafor {theirs!r}"
    )


@pytest.mark.parametrize(
    ("cid", "file", "measure", "method", "test", "by", "l1o"), CASES, ids=[c[0] for c in CASES]
)
def test_matches_metafor(
    metafor_ref: dict[str, dict[str, float]],
    cid: str,
    file: str,
    measure: str,
    method: str,
    test: str,
    by: str | None,
    l1o: bool,
) -> None:
    ref = metafor_ref[cid]
    table = meta.read_table(DATA / file)
    es = meta.effect_sizes(table, measure)
    for j in range(es.k):
        _close(float(es.yi[j]), ref[f"yi.{j + 1}"], f"{cid} yi[{j}]")
        _close(float(es.vi[j]), ref[f"vi.{j + 1}"], f"{cid} vi[{j}]")
    knha = test == "knha"
    res = meta.rma(es, method, knha=knha)
    d = res.to_dict()
    assert d["k"] == int(ref["k"])
    keys = ["estimate", "se", "ci_lower", "ci_upper", "p", "tau2", "i2", "h2", "q", "q_p"]
    keys += ["pooled", "pooled_ci_lower", "pooled_ci_upper"]
    if "pred_lower" in ref:  # metafor gives no prediction interval for FE models (ours equals the CI there)
        keys += ["pred_lower", "pred_upper"]
    else:
        assert res.pred_lower == res.ci_lower and res.pred_upper == res.ci_upper
    for key in keys:
        _close(d[key], ref[key], f"{cid} {key}")
    for j, s in enumerate(res.studies):
        _close(s.weight, ref[f"weight.{j + 1}"], f"{cid} weight[{j}]")
    if l1o:
        names = {
            "estimate": "estimate",
            "se": "se",
            "ci.lb": "ci_lower",
            "ci.ub": "ci_upper",
            "Q": "q",
            "Qp": "q_p",
            "tau2": "tau2",
            "I2": "i2",
            "H2": "h2",
        }
        for j, row in enumerate(meta.leave_one_out_rows(meta.leave_one_out(es, method, knha=knha))):
            for rkey, okey in names.items():
                _close(row[okey], ref[f"l1o.{j + 1}.{rkey}"], f"{cid} leave1out[{j}] {okey}")
    if by:
        sub = meta.subgroups(es, table.column(by), method, by=by, knha=knha)
        for g, r in sub.groups:
            _close(r.estimate, ref[f"sub.{g}.estimate"], f"{cid} subgroup {g} estimate")
            _close(r.se, ref[f"sub.{g}.se"], f"{cid} subgroup {g} se")
            _close(r.tau2, ref[f"sub.{g}.tau2"], f"{cid} subgroup {g} tau2")
        _close(sub.q_between, ref["sub.q_between"], f"{cid} Q between")
        _close(sub.p_between, ref["sub.p_between"], f"{cid} p between")
