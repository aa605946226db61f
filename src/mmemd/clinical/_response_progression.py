"""Nadir tracking and the laboratory progression tests (docs/criteria.md §1.3 PD (a), (c); §1.5).

PD (a) is an increase of 25% from the *lowest confirmed response value* with an absolute minimum per
parameter. The nadir reading is a setting (``ResponseSettings.nadir_reading``):

* ``"confirmed_pair"`` (default): the lowest level held on two consecutive measurements of that parameter
  (the larger value of each consecutive pair), or the baseline value — a single low value that the next
  measurement did not repeat is not a *confirmed* response value.
* ``"lowest_value"``: the lowest value measured.

Bone marrow needs no confirmation (general rule 1), so its nadir is always the lowest value.
General rule 4 (a value judged spurious is not a nadir) needs a per-value flag the record contract
does not carry yet; see docs/response.md.
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from mmemd.clinical.response import ResponseSettings

_ZERO: Final = Decimal(0)
_HUNDRED: Final = Decimal(100)


class PdInfo:
    """Why a PD criterion fired: the criterion code, the nadir (value, date) and the current value."""

    # A plain class (not a msgspec Struct): mypyc compiles it to a native class; see _response_baseline.Baseline.
    __slots__ = ("code", "current", "nadir", "nadir_date", "short_axis")

    def __init__(
        self,
        code: str,
        nadir: Decimal | None = None,
        nadir_date: _dt.date | None = None,
        current: Decimal | None = None,
        short_axis: Decimal | None = None,
    ) -> None:
        self.code = code
        self.nadir = nadir
        self.nadir_date = nadir_date
        self.current = current
        self.short_axis = short_axis


class Nadir:
    """Running nadir of one parameter over the assessments before the current one."""

    __slots__ = ("confirmed_pair", "date", "prev", "value")

    def __init__(self, confirmed_pair: bool) -> None:
        self.confirmed_pair = confirmed_pair
        self.value: Decimal | None = None
        self.date: _dt.date | None = None
        self.prev: Decimal | None = None

    def push(self, value: Decimal | None, when: _dt.date) -> None:
        if value is None:
            return
        if self.value is None:
            self.value, self.date = value, when
        else:
            candidate = value
            if self.confirmed_pair and self.prev is not None and self.prev > value:
                candidate = self.prev
            if candidate < self.value:
                self.value, self.date = candidate, when
        self.prev = value


def increase_meets(
    nadir: Decimal,
    current: Decimal,
    relative_pct: Decimal,
    absolute_min: Decimal,
    absolute_strict: bool,
    s: ResponseSettings,
) -> bool:
    """Increase from ``nadir`` meets both the relative and the absolute minimum (§1.3 PD (a)).

    From a nadir <= 0 (e.g. after CR) the relative test is trivially met and the absolute minimum governs
    (§1.5 "Nadir = 0"), unless ``pd_nadir_zero_relative_satisfied`` is off.
    """
    increase = current - nadir
    if absolute_strict:
        if not increase > absolute_min:
            return False
    elif not increase >= absolute_min:
        return False
    if nadir <= _ZERO:
        return s.pd_nadir_zero_relative_satisfied
    return increase * _HUNDRED >= nadir * relative_pct


def serum_progression(nadir: Decimal, current: Decimal, s: ResponseSettings) -> bool:
    if nadir >= s.pd_serum_high_nadir_g_dl:
        # §1.5 "Nadir >= 5 g/dL": an absolute increase of >= 1 g/dL suffices (25% not additionally required).
        if s.pd_serum_high_nadir_abs_suffices:
            return current - nadir >= s.pd_serum_high_nadir_increase_g_dl
        return increase_meets(
            nadir, current, s.pd_increase_pct, s.pd_serum_high_nadir_increase_g_dl, False, s
        )
    return increase_meets(nadir, current, s.pd_increase_pct, s.pd_serum_min_increase_g_dl, False, s)


def urine_progression(nadir: Decimal, current: Decimal, s: ResponseSettings) -> bool:
    return increase_meets(nadir, current, s.pd_increase_pct, s.pd_urine_min_increase_mg_24h, False, s)


def dflc_progression(nadir: Decimal, current: Decimal, s: ResponseSettings) -> bool:
    # Absolute increase must be > 10 mg/dL (strict, §1.3 PD (a)).
    return increase_meets(nadir, current, s.pd_increase_pct, s.pd_dflc_min_increase_mg_dl, True, s)


def marrow_progression(nadir: Decimal, current: Decimal, s: ResponseSettings) -> bool:
    return increase_meets(nadir, current, s.pd_increase_pct, s.pd_marrow_min_increase_pct_points, False, s)


def cpc_progression(nadir: Decimal, current: Decimal, s: ResponseSettings) -> bool:
    # §1.5 "CPC": increase >= 50% and the post-increase count >= 200 cells/µL.
    if current < s.pd_cpc_min_cells_per_ul or not current > nadir:
        return False
    if nadir <= _ZERO:
        return s.pd_nadir_zero_relative_satisfied
    return (current - nadir) * _HUNDRED >= nadir * s.pd_cpc_increase_pct
