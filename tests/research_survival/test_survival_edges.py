"""Kaplan–Meier edge cases with values worked out by hand (no R needed): ties, delayed entry, a curve that reaches
0, a median that is not reached, times past the last follow-up, missing values and bad input."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest
from scipy.stats import norm

from mmemd.research.survival import SurvivalInputError, kaplan_meier, logrank_test

Z = float(norm.ppf(0.975))


def _loglog(s: float, var: float) -> tuple[float, float]:
    """The log-log limits written out independently: S^exp(±z·se/log S)."""
    se = math.sqrt(var)
    return s ** math.exp(-Z * se / math.log(s)), s ** math.exp(Z * se / math.log(s))


# Delayed entry, at risk on (entry, time]: D enters at 6, the very time C dies, so D is not in C's risk set.
DELAYED = pd.DataFrame(
    {
        "id": ["A", "B", "C", "D", "E"],
        "entry": [0, 0, 3, 6, 2],
        "time": [5, 8, 6, 10, 4],
        "event": [1, 0, 1, 1, 0],
    }
)


def test_delayed_entry_risk_sets_survival_and_zero_tail() -> None:
    g = kaplan_meier(DELAYED, time="time", event="event", entry="entry").groups[0]
    s = g.steps
    assert s.times == [4, 5, 6, 8, 10]
    assert s.at_risk == [4, 3, 2, 2, 1]
    assert s.events == [0, 1, 1, 0, 1]
    assert s.survival == pytest.approx([1, 2 / 3, 1 / 3, 1 / 3, 0])
    lo, hi = _loglog(2 / 3, 1 / (3 * 2))
    assert (s.lower[1], s.upper[1]) == pytest.approx((lo, hi))
    lo, hi = _loglog(1 / 3, 1 / 6 + 1 / 2)
    assert (s.lower[2], s.upper[2]) == pytest.approx((lo, hi))
    # S reaches 0 at the last time: the log-log transform is undefined there, so no limits (R: NA).
    assert s.survival[-1] == 0
    assert s.lower[-1] is None and s.upper[-1] is None
    assert g.median == 6
    # Survival at the time S reaches 0 and after it: 0, with no limits; nobody is at risk after the end.
    at = kaplan_meier(DELAYED, time="time", event="event", entry="entry", at=[10, 50]).groups[0].survival_at
    assert [(a.survival, a.lower, a.upper, a.at_risk) for a in at] == [
        (0.0, None, None, 1),
        (0.0, None, None, 0),
    ]


def test_delayed_entry_ignored_would_change_the_answer() -> None:
    # Same rows without --entry: everyone counted at risk from 0 (5 at the first time), so the test above can fail.
    g = kaplan_meier(DELAYED, time="time", event="event").groups[0]
    assert g.steps.at_risk == [5, 4, 3, 2, 1]


def test_entry_not_before_time_is_rejected() -> None:
    bad = DELAYED.assign(entry=[0, 0, 3, 10, 2])
    with pytest.raises(SurvivalInputError) as exc:
        kaplan_meier(bad, time="time", event="event", entry="entry")
    assert exc.value.field == "--entry"


def test_ties_events_and_censoring_at_the_same_time(aml_frame: pd.DataFrame) -> None:
    km = kaplan_meier(aml_frame, time="time", event="status", group="x", overall=True)
    overall, maintained = km.groups[0], km.group_named("Maintained")
    # Two deaths at week 5 and two at week 8 among 23, then 21 at risk.
    assert overall.steps.survival[:2] == pytest.approx([21 / 23, 19 / 23])
    assert overall.steps.at_risk[:2] == [23, 21]
    # Maintained: death and censoring both at week 13; the censored one is still at risk at 13 (8 left at 18).
    i13 = maintained.steps.times.index(13)
    assert maintained.steps.events[i13] == 1 and maintained.steps.censored[i13] == 1
    assert maintained.steps.at_risk[i13] == 10
    assert maintained.steps.survival[i13 + 1] == pytest.approx(9 / 11 * 7 / 8)


def test_median_not_reached_is_null() -> None:
    df = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6], "e": [1, 0, 0, 1, 0, 0]})
    g = kaplan_meier(df, time="t", event="e").groups[0]
    assert min(g.steps.survival) > 0.5
    assert g.median is None
    assert g.median_ci[1] is None


def test_median_on_a_flat_stretch_at_exactly_one_half_is_the_midpoint() -> None:
    # S = 0.5 from t = 2 until the next event at t = 4: R (quantile.survfit) reports the midpoint, 3.
    df = pd.DataFrame({"t": [1, 2, 3, 4], "e": [0, 1, 0, 1]})
    g = kaplan_meier(df, time="t", event="e").groups[0]
    assert g.steps.survival == pytest.approx([1, 2 / 3, 2 / 3, 0])
    df = pd.DataFrame({"t": [2, 2, 4, 4], "e": [1, 1, 1, 1]})
    g = kaplan_meier(df, time="t", event="e").groups[0]
    assert g.steps.survival == pytest.approx([0.5, 0])
    assert g.median == 3


def test_survival_past_the_last_follow_up_is_unknown(aml_frame: pd.DataFrame) -> None:
    km = kaplan_meier(aml_frame, time="time", event="status", at=[161, 200, 10])
    at = km.groups[0].survival_at
    assert [a.time for a in at] == [10, 161, 200]  # sorted
    last, beyond = at[1], at[2]
    assert last.survival == pytest.approx(0.0828157, abs=1e-6) and last.at_risk == 1
    assert beyond.survival is None and beyond.lower is None and beyond.upper is None and beyond.at_risk == 0


def test_before_the_first_time_survival_is_one(aml_frame: pd.DataFrame) -> None:
    at = kaplan_meier(aml_frame, time="time", event="status", at=[0, 4.5]).groups[0].survival_at
    assert [(a.survival, a.lower, a.upper, a.at_risk) for a in at] == [(1, 1, 1, 23), (1, 1, 1, 23)]


def test_groups_pool_to_the_ungrouped_curve(aml_frame: pd.DataFrame) -> None:
    pooled = kaplan_meier(aml_frame, time="time", event="status", group="x", overall=True).groups[0]
    single = kaplan_meier(aml_frame, time="time", event="status").groups[0]
    assert pooled.name is None
    assert pooled.steps == single.steps
    assert (pooled.median, pooled.median_ci) == (single.median, single.median_ci)


def test_published_aml_values(aml_frame: pd.DataFrame) -> None:
    """aml (Miller 1981), as printed in R survival's documentation: median 31 weeks (Maintained) and 23 weeks
    (Nonmaintained); survdiff chisq = 3.4 on 1 df, p = 0.07. Exact product-limit values by hand for Maintained."""
    km = kaplan_meier(aml_frame, time="time", event="status", group="x")
    m, nm = km.group_named("Maintained"), km.group_named("Nonmaintained")
    assert (m.median, nm.median) == (31, 23)
    steps = dict(zip(m.steps.times, m.steps.survival, strict=True))
    assert steps[9] == pytest.approx(10 / 11)
    assert steps[13] == pytest.approx(9 / 11)
    assert steps[18] == pytest.approx(9 / 11 * 7 / 8)
    assert steps[48] == pytest.approx(9 / 11 * 7 / 8 * 6 / 7 * 4 / 5 * 3 / 4 * 1 / 2)
    lr = logrank_test(aml_frame, time="time", event="status", group="x")
    assert km.logrank == lr  # the same statistic from the curves' own engine pass
    assert lr.df == 1
    assert round(lr.chi2, 1) == 3.4
    assert round(lr.p, 2) == 0.07
    assert sum(g.observed for g in lr.groups) == 18


def test_missing_values_are_left_out_and_counted() -> None:
    df = pd.DataFrame(
        {"t": [1.0, 2.0, float("nan"), 4.0, 5.0], "e": [1, 0, 1, None, 1], "g": ["a", "b", "a", "b", None]}
    )
    km = kaplan_meier(df, time="t", event="e")
    assert km.excluded == 2
    assert km.groups[0].n == 3
    km = kaplan_meier(df, time="t", event="e", group="g")
    assert km.excluded == 3
    assert [g.name for g in km.groups] == ["a", "b"]


@pytest.mark.parametrize(
    ("frame", "kwargs", "field"),
    [
        (pd.DataFrame({"t": [1, 2], "e": [1, 2]}), {}, "--event"),
        (pd.DataFrame({"t": [1, 2], "e": [1, 0]}), {"time": "time"}, "--time"),
        (pd.DataFrame({"t": ["x", "y"], "e": [1, 0]}), {}, "--time"),
        (pd.DataFrame({"t": [1, 2], "e": [1, 0]}), {"group": "arm"}, "--group"),
        (pd.DataFrame({"t": [1, 2], "e": [1, 0]}), {"conf_level": 1.5}, "--conf-level"),
    ],
)
def test_bad_input_names_the_field(frame: pd.DataFrame, kwargs: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {"time": "t", "event": "e", **kwargs}
    with pytest.raises(SurvivalInputError) as exc:
        kaplan_meier(frame, **args)
    assert exc.value.field == field


def test_boolean_event_column() -> None:
    df = pd.DataFrame({"t": [1, 2, 3], "e": [True, False, True]})
    g = kaplan_meier(df, time="t", event="e").groups[0]
    assert g.events == 2
    assert g.steps.survival == pytest.approx([2 / 3, 2 / 3, 0])


def test_logrank_needs_two_groups() -> None:
    df = pd.DataFrame({"t": [1, 2, 3], "e": [1, 0, 1], "g": ["a", "a", "a"]})
    with pytest.raises(SurvivalInputError):
        logrank_test(df, time="t", event="e", group="g")


def test_three_group_logrank_has_two_degrees_of_freedom() -> None:
    df = pd.DataFrame(
        {
            "t": [1, 2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 5],
            "e": [1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1],
            "g": ["a", "b", "c"] * 4,
        }
    )
    lr = logrank_test(df, time="t", event="e", group="g")
    assert lr.df == 2
    assert sum(g.observed for g in lr.groups) == pytest.approx(sum(g.expected for g in lr.groups))
    assert 0 <= lr.p <= 1


def test_to_json_has_no_nan_and_can_leave_out_the_curve(aml_frame: pd.DataFrame) -> None:
    import json

    km = kaplan_meier(aml_frame, time="time", event="status", group="x", at=[200])
    doc = json.loads(km.to_json(steps=False))
    assert "steps" not in doc["groups"][0]
    assert doc["groups"][0]["median_ci"][1] is None
    assert doc["versions"]["backend"].startswith("duckdb")
    assert json.loads(km.to_json())["groups"][0]["steps"]["times"][0] == 9
