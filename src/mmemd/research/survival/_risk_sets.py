"""Risk sets and events per distinct time, computed in the engine.

One Ibis query per analysis: a group-by on (group, time) counts exits, events and (with delayed entry) entries. Only
one row per distinct time per group comes back, so a 10-million-row registry with times in days reduces to a few
thousand rows; numpy then takes the cumulative sums (the number at risk) and the product. With continuous times
every row can be its own distinct time, and the result is as long as the input: the engine's window functions were
dropped for that case, as they cost more memory than the aggregation itself. The conventions are R survival's:

* at risk at time t: subjects with ``entry < t <= time`` (``Surv(entry, time, event)``; without entry, ``time >= t``);
* rows with a missing time, event, entry or group are left out and counted (R's ``na.action = na.omit``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from mmemd.research.survival._backend import SurvivalInputError

if TYPE_CHECKING:
    import ibis.expr.types as ir  # type: ignore[import-untyped,unused-ignore]  # ibis ships no py.typed marker

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class RiskTable:
    """Per distinct time of one group: entries, exits, events and the cumulative sums the engine computed.

    Rows are sorted by time; a row exists for every distinct exit time and, with delayed entry, every distinct entry
    time. ``base`` is the number at risk before the first row (the group size without entry; 0 with entry).
    """

    name: Any
    times: FloatArray
    n_in: IntArray
    n_out: IntArray
    events: IntArray
    cum_in: IntArray
    cum_out: IntArray
    base: int

    @property
    def n(self) -> int:
        return int(self.cum_out[-1]) if len(self.cum_out) else 0

    @property
    def n_events(self) -> int:
        return int(self.events.sum())

    def at_risk_before(self, t: FloatArray) -> IntArray:
        """Exact number at risk at each time in ``t``: ``#{entry < t <= time}``."""
        idx = np.searchsorted(self.times, t, side="left") - 1
        cin = np.where(idx >= 0, self.cum_in[np.maximum(idx, 0)], 0)
        cout = np.where(idx >= 0, self.cum_out[np.maximum(idx, 0)], 0)
        return (self.base + cin - cout).astype(np.int64)

    def exits(self) -> RiskTable:
        """Only the rows with an exit (event or censoring): the times R's ``survfit`` lists."""
        keep = self.n_out > 0
        return RiskTable(
            self.name,
            self.times[keep],
            self.n_in[keep],
            self.n_out[keep],
            self.events[keep],
            self.cum_in[keep],
            self.cum_out[keep],
            self.base,
        )

    def at_risk(self) -> IntArray:
        """Number at risk at each row's own time (entries at that very time are not yet at risk)."""
        return (self.base + self.cum_in - self.n_in - (self.cum_out - self.n_out)).astype(np.int64)


def pool(tables: list[RiskTable], name: Any = None) -> RiskTable:
    """Merge groups into one table (the unstratified curve) in numpy, without another pass over the data."""
    times = np.unique(np.concatenate([t.times for t in tables])) if tables else np.zeros(0)
    n_in = np.zeros(len(times), dtype=np.int64)
    n_out = np.zeros(len(times), dtype=np.int64)
    events = np.zeros(len(times), dtype=np.int64)
    for t in tables:
        pos = np.searchsorted(times, t.times)
        np.add.at(n_in, pos, t.n_in)
        np.add.at(n_out, pos, t.n_out)
        np.add.at(events, pos, t.events)
    return RiskTable(
        name, times, n_in, n_out, events, np.cumsum(n_in), np.cumsum(n_out), sum(t.base for t in tables)
    )


def _column(t: ir.Table, name: str, option: str) -> ir.Column:
    if name not in t.columns:
        cols = ", ".join(t.columns)
        raise SurvivalInputError(option, f"column {name!r} not found (columns: {cols})")
    return t[name]


def _numeric(col: ir.Column, name: str, option: str) -> ir.Column:
    dt = col.type()
    if dt.is_boolean():
        return col.cast("int64")
    # Dates and timestamps count days since 1970-01-01, as R's Surv() reads a Date (its numeric value); with an entry
    # date that gives calendar-time risk sets, with a time alone days since the epoch.
    if dt.is_date():
        return col.epoch_days().cast("float64")
    if dt.is_timestamp():
        return col.epoch_seconds().cast("float64") / 86400.0
    if not dt.is_numeric():
        raise SurvivalInputError(option, f"column {name!r} must be numeric (it is {dt})")
    return col


def _missing(col: ir.Column) -> ir.BooleanValue:
    miss: ir.BooleanValue = col.isnull()
    if col.type().is_floating():
        miss = miss | col.isnan()
    return miss


def risk_tables(
    t: ir.Table, *, time: str, event: str, entry: str | None = None, group: str | None = None
) -> tuple[list[RiskTable], int]:
    """Aggregate ``t`` into one :class:`RiskTable` per group (sorted by group value) and the excluded-row count."""
    import ibis

    tcol = _numeric(_column(t, time, "--time"), time, "--time")
    ecol = _numeric(_column(t, event, "--event"), event, "--event")
    ncol = _numeric(_column(t, entry, "--entry"), entry, "--entry") if entry else None
    gcol = _column(t, group, "--group") if group else None

    miss = _missing(tcol) | _missing(ecol)
    if ncol is not None:
        miss = miss | _missing(ncol)
    if gcol is not None:
        miss = miss | gcol.isnull()

    # One validation pass: missing rows are excluded (and counted); any other bad value is an error.
    checks: dict[str, Any] = {
        "rows": t.count(),
        "missing": miss.sum(),
        "bad_event": (~miss & ~ecol.isin([0, 1])).sum(),
        # a follow-up time cannot be negative (a date typo, or an event before the time origin)
        "bad_time": (~miss & (tcol < 0)).sum(),
    }
    if ncol is not None:
        checks["bad_entry"] = (~miss & (ncol >= tcol)).sum()
    stats = {k: int(v or 0) for k, v in t.aggregate(**checks).to_pyarrow().to_pylist()[0].items()}
    if stats["bad_event"]:
        raise SurvivalInputError(
            "--event",
            f"column {event!r} must be 0 (censored) or 1 (event); {stats['bad_event']} row(s) hold another value",
        )
    if stats["bad_time"]:
        raise SurvivalInputError(
            "--time", f"column {time!r} must not be negative; {stats['bad_time']} row(s) are negative"
        )
    if stats.get("bad_entry"):
        raise SurvivalInputError(
            "--entry",
            f"column {entry!r} must be earlier than {time!r} (R: 'stop time must be > start time'); "
            f"{stats['bad_entry']} row(s) are not",
        )
    if stats["rows"] - stats["missing"] == 0:
        raise SurvivalInputError("FILE", "no row with a time and an event status")

    keep = t.filter(~miss)
    k_t = _numeric(keep[time], time, "--time").cast("float64")
    k_e = _numeric(keep[event], event, "--event").cast("int64")
    cols: dict[str, Any] = {}
    if group:
        cols["g"] = keep[group]
    zero = ibis.literal(0, "int64")
    one = ibis.literal(1, "int64")
    rows = keep.select(**cols, t=k_t, n_in=zero, n_out=one, d=k_e)
    if entry:
        k_n = _numeric(keep[entry], entry, "--entry").cast("float64")
        rows = rows.union(keep.select(**cols, t=k_n, n_in=one, n_out=zero, d=zero), distinct=False)

    keys = ["g", "t"] if group else ["t"]
    # Counts per distinct (group, time) only: the cumulative sums are a numpy pass over the sorted result (an
    # engine window over millions of distinct float times costs more memory and time than the aggregation itself).
    agg = rows.group_by(keys).aggregate(n_in=rows.n_in.sum(), n_out=rows.n_out.sum(), d=rows.d.sum())
    arrow = agg.order_by(keys).to_pyarrow()

    times, n_in, n_out, d = (
        arrow.column(name).to_numpy(zero_copy_only=False).astype(dtype)
        for name, dtype in (("t", np.float64), ("n_in", np.int64), ("n_out", np.int64), ("d", np.int64))
    )
    if group:
        # Rows are sorted by group: boundaries from the dictionary codes, never a Python list of every row's value.
        coded = arrow.column("g").combine_chunks().dictionary_encode()
        codes = coded.indices.to_numpy(zero_copy_only=False)
        starts = [0, *(np.flatnonzero(np.diff(codes) != 0) + 1).tolist()]
        labels = coded.dictionary.to_pylist()
        gvals = [labels[codes[i]] if coded.indices[i].is_valid else None for i in starts]
        bounds = [*starts, len(codes)]
    else:
        gvals = [None]
        bounds = [0, len(times)]
    del arrow  # the numpy copies are all that is needed from here on
    tables: list[RiskTable] = []
    for a, b in itertools.pairwise(bounds):
        cin, cout = np.cumsum(n_in[a:b]), np.cumsum(n_out[a:b])
        base = 0 if entry else int(cout[-1])
        tables.append(
            RiskTable(gvals[len(tables)], times[a:b], n_in[a:b], n_out[a:b], d[a:b], cin, cout, base)
        )
    # Engines disagree on how they order mixed values; sort by the Python value (R orders factor levels the same).
    tables.sort(key=lambda r: (r.name is None, r.name))
    return tables, stats["missing"]
