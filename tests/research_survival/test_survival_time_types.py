"""Dates and timestamps as survival times: days since 1970-01-01, as R's Surv() reads a Date."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from mmemd.research.survival import kaplan_meier, logrank_test

EPOCH = dt.date(1970, 1, 1)


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    entry_days = [18000, 18010, 18020, 18030, 18040, 18050, 18060, 18070]
    exit_days = [18100, 18050, 18300, 18200, 18100, 18400, 18200, 18090]
    status = [1, 0, 1, 1, 1, 0, 1, 1]
    arm = ["a", "b", "a", "b", "a", "b", "a", "b"]
    numeric = pd.DataFrame({"entry": entry_days, "exit": exit_days, "status": status, "arm": arm}).astype(
        {"entry": float, "exit": float}
    )
    dates = pd.DataFrame(
        {
            "entry": [EPOCH + dt.timedelta(days=d) for d in entry_days],
            "exit": [EPOCH + dt.timedelta(days=d) for d in exit_days],
            "status": status,
            "arm": arm,
        }
    )
    return numeric, dates


@pytest.mark.parametrize("as_timestamp", [False, True])
def test_date_columns_equal_their_day_numbers(as_timestamp: bool) -> None:
    numeric, dates = _frames()
    if as_timestamp:
        dates = dates.assign(entry=pd.to_datetime(dates["entry"]), exit=pd.to_datetime(dates["exit"]))
    a = kaplan_meier(numeric, time="exit", event="status", entry="entry", group="arm")
    b = kaplan_meier(dates, time="exit", event="status", entry="entry", group="arm")
    for ga, gb in zip(a.groups, b.groups, strict=True):
        assert ga.steps.times == gb.steps.times
        assert ga.steps.survival == pytest.approx(gb.steps.survival, rel=1e-15)
        assert ga.steps.at_risk == gb.steps.at_risk
    la = logrank_test(numeric, time="exit", event="status", entry="entry", group="arm")
    lb = logrank_test(dates, time="exit", event="status", entry="entry", group="arm")
    assert la.chi2 == pytest.approx(lb.chi2, rel=1e-12)


def test_an_entry_date_not_before_the_exit_date_is_still_an_error() -> None:
    from mmemd.research.survival import SurvivalInputError

    _, dates = _frames()
    dates.loc[0, "entry"] = dates.loc[0, "exit"]
    with pytest.raises(SurvivalInputError, match="--entry"):
        kaplan_meier(dates, time="exit", event="status", entry="entry")
