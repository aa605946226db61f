"""Risk sets and events per distinct time, computed in the engine.

One query per analysis (``_queries``): a group-by on (group, time) counts exits, events and (with delayed entry) entries. Only
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
        if keep.all():  # no delayed entry: every row is an exit (no copy of a table as long as the data)
            return self
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
    if not tables:
        empty = np.zeros(0, dtype=np.int64)
        return RiskTable(name, np.zeros(0), empty, empty, empty, empty, empty, 0)
    times, pos = np.unique(np.concatenate([t.times for t in tables]), return_inverse=True)

    def total(field: str) -> IntArray:
        values = np.concatenate([getattr(t, field) for t in tables])
        return np.bincount(pos, weights=values, minlength=len(times)).astype(np.int64)

    # bincount sums in float64: exact for counts below 2^53
    n_in, n_out, events = total("n_in"), total("n_out"), total("events")
    return RiskTable(
        name, times, n_in, n_out, events, np.cumsum(n_in), np.cumsum(n_out), sum(t.base for t in tables)
    )


def _check_columns(columns: list[str], **wanted: str | None) -> None:
    for option, name in wanted.items():
        if name is not None and name not in columns:
            raise SurvivalInputError(
                f"--{option}", f"column {name!r} not found (columns: {', '.join(columns)})"
            )


def _raise_on_bad_values(stats: dict[str, int], *, time: str, event: str, entry: str | None) -> None:
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


def risk_tables(
    t: Any, *, time: str, event: str, entry: str | None = None, group: str | None = None
) -> tuple[list[RiskTable], int]:
    """Aggregate ``t`` (an Ibis table, or a local file from ``_backend.open_source``) into one :class:`RiskTable` per
    group (sorted by group value) and the excluded-row count. Both run the queries of ``_queries``."""
    from mmemd.research.survival._local import LocalTable

    if isinstance(t, LocalTable):
        return _local_risk_tables(t, time=time, event=event, entry=entry, group=group)
    return _ibis_risk_tables(t, time=time, event=event, entry=entry, group=group)


def risk_tables_of(
    source: Any, backend: str, *, time: str, event: str, entry: str | None, group: str | None
) -> tuple[Any, list[RiskTable], int]:
    """Open ``source`` (``_backend.open_source``), aggregate it and release a local file's DuckDB connection (an Ibis
    table keeps its backend): (the opened table, for its versions; the risk tables; the excluded-row count)."""
    from mmemd.research.survival._backend import open_source

    table = open_source(source, backend=backend)
    try:
        tables, excluded = risk_tables(table, time=time, event=event, entry=entry, group=group)
    finally:
        if hasattr(table, "close"):
            table.close()
    return table, tables, excluded


def _ibis_risk_tables(
    t: ir.Table, *, time: str, event: str, entry: str | None, group: str | None
) -> tuple[list[RiskTable], int]:
    from mmemd.research.survival._queries import canonical, checks, counts, kind_of

    _check_columns(t.columns, time=time, event=event, entry=entry, group=group)
    for option, name in (("time", time), ("event", event), ("entry", entry)):
        if name is not None and kind_of(t[name].type()) is None:
            raise SurvivalInputError(
                f"--{option}", f"column {name!r} must be numeric (it is {t[name].type()})"
            )
    rows = canonical(t, time=time, event=event, entry=entry, group=group)
    stats = {k: int(v or 0) for k, v in checks(rows).to_pyarrow().to_pylist()[0].items() if k != "groups"}
    _raise_on_bad_values(stats, time=time, event=event, entry=entry)
    # to_pyarrow_batches() would stream, but Ibis 12 calls a DuckDB method that DuckDB 2.0 removed
    batches = counts(rows).to_pyarrow().to_batches()
    return _tables(batches, entry=entry is not None, group=group is not None), stats["missing"]


def _local_risk_tables(
    t: Any, *, time: str, event: str, entry: str | None, group: str | None
) -> tuple[list[RiskTable], int]:
    from mmemd.research.survival import _compiled
    from mmemd.research.survival._local import MEMORY_LIMIT, kind, quote_identifier, type_name
    from mmemd.research.survival._queries import CANONICAL

    _check_columns(t.columns, time=time, event=event, entry=entry, group=group)
    select = []
    for option, name, alias in (("time", time, "t"), ("event", event, "e"), ("entry", entry, "n")):
        if name is None:
            continue
        k = kind(t.types[name])
        if k is None:
            raise SurvivalInputError(
                f"--{option}", f"column {name!r} must be numeric (it is {type_name(t.types[name])})"
            )
        select.append(f"{_compiled.CONVERT[k].format(column=quote_identifier(name))} AS {alias}")
    if group:
        select.append(f"{quote_identifier(group)} AS g")
    import duckdb

    key = f"entry={entry is not None},group={group is not None}"
    try:
        t.con.execute(
            f"CREATE OR REPLACE TEMP VIEW {CANONICAL} AS SELECT {', '.join(select)} FROM {t.relation}"
        )
        checked = t.con.sql(_compiled.CHECKS[key])
        found = dict(zip(checked.columns, checked.fetchall()[0], strict=True))
        groups = found.pop("groups", None) or []
        stats = {c: int(v or 0) for c, v in found.items()}
        _raise_on_bad_values(stats, time=time, event=event, entry=entry)
        if group:
            # each row's group as its position in the list of group values: numbers only, so numpy straight from
            # DuckDB (neither Arrow nor a Python string per row)
            coded = t.con.execute(
                f"SELECT t, n_in, n_out, d, list_position($groups, g) - 1 AS g FROM ({_compiled.COUNTS[key]})",
                {"groups": groups},
            )
            tables = _tables([coded.fetchnumpy()], entry=entry is not None, group=True, labels=groups)
        else:
            tables = _tables(
                [t.con.sql(_compiled.COUNTS[key]).fetchnumpy()], entry=entry is not None, group=False
            )
    except duckdb.OutOfMemoryException as exc:
        raise SurvivalInputError(
            "FILE",
            f"DuckDB ran out of memory ({_first_line(exc)}); raise MMEMD_DUCKDB_MEMORY_LIMIT (now {MEMORY_LIMIT})",
        ) from None
    except duckdb.Error as exc:  # a value DuckDB cannot read (a malformed line deep in a CSV): say which
        raise SurvivalInputError("FILE", f"DuckDB cannot read the data: {_first_line(exc)}") from None
    return tables, stats["missing"]


def _first_line(exc: Exception) -> str:
    return str(exc).strip().split("\n", 1)[0]


def _tables(batches: Any, *, entry: bool, group: bool, labels: list[Any] | None = None) -> list[RiskTable]:
    """Risk tables from the counts, read batch by batch (Arrow record batches, or dicts of numpy arrays whose ``g``
    is already a position in ``labels``): only the numeric columns are kept, and the group as a small integer code
    per row, never a Python object per row."""
    parts: dict[str, list[Any]] = {"t": [], "n_in": [], "n_out": [], "d": [], "g": []}
    codes_of: dict[Any, int] = {v: i for i, v in enumerate(labels or [])}
    for batch in batches:
        cols = batch if isinstance(batch, dict) else {n: batch.column(n) for n in batch.schema.names}
        for name, dtype in (("t", np.float64), ("n_in", np.int64), ("n_out", np.int64), ("d", np.int64)):
            # a copy, not a view: a view would keep the whole Arrow batch (group strings, 128-bit sums) alive
            parts[name].append(np.array(_numpy(cols[name]), dtype=dtype))
        if group and isinstance(batch, dict):
            parts["g"].append(np.array(_numpy(cols["g"]), dtype=np.int32))
        elif group:
            coded = cols["g"].dictionary_encode()
            local = np.array(
                [codes_of.setdefault(v, len(codes_of)) for v in coded.dictionary.to_pylist()], dtype=np.int32
            )
            parts["g"].append(local[_numpy(coded.indices)])
    times: FloatArray = np.concatenate(parts["t"]) if parts["t"] else np.zeros(0)
    n_in, n_out, d = (
        np.concatenate(parts[n]) if parts[n] else np.zeros(0, dtype=np.int64) for n in ("n_in", "n_out", "d")
    )
    codes = np.concatenate(parts["g"]) if group and parts["g"] else np.zeros(len(times), dtype=np.int32)
    del parts
    order = np.lexsort((times, codes))
    times, n_in, n_out, d, codes = times[order], n_in[order], n_out[order], d[order], codes[order]
    del order
    starts = [0, *(np.flatnonzero(np.diff(codes) != 0) + 1).tolist()] if len(codes) else [0]
    names = list(codes_of)
    gvals = [names[codes[i]] for i in starts] if group else [None]
    tables: list[RiskTable] = []
    for i, (a, b) in enumerate(itertools.pairwise([*starts, len(times)])):
        cin, cout = np.cumsum(n_in[a:b]), np.cumsum(n_out[a:b])
        base = 0 if entry else int(cout[-1])
        tables.append(RiskTable(gvals[i], times[a:b], n_in[a:b], n_out[a:b], d[a:b], cin, cout, base))
    # Engines disagree on how they order mixed values; sort by the Python value (R orders factor levels the same).
    tables.sort(key=lambda r: (r.name is None, r.name))
    return tables


def _numpy(col: Any) -> Any:
    """A numpy view of a numeric column: DuckDB's own numpy arrays, or an Arrow array's value buffer (pyarrow's
    ``to_numpy`` imports pandas, ~0.2 s, for nothing here). The counts never hold a null."""
    if isinstance(col, np.ndarray):
        return np.ma.getdata(col)
    import pyarrow.types as pat  # type: ignore[import-untyped,unused-ignore]  # no py.typed marker / stubs

    if col.null_count:
        raise ValueError("unexpected null in the engine's counts")
    if pat.is_decimal(col.type):
        # DuckDB sums a BIGINT into a 128-bit integer (Arrow decimal128, scale 0): two's complement, little-endian,
        # so the low 64-bit word is the value whenever the high word is its sign extension (any real count).
        if col.type.scale != 0 or col.type.bit_width != 128:
            raise ValueError(f"unexpected count type {col.type}")
        words = np.frombuffer(col.buffers()[1], dtype="<i8", count=2 * len(col), offset=col.offset * 16)
        low, high = words[0::2], words[1::2]
        if not np.array_equal(high, low >> 63):
            raise ValueError("a count does not fit in 64 bits")
        return low
    kind = "f" if pat.is_floating(col.type) else "u" if pat.is_unsigned_integer(col.type) else "i"
    width = col.type.bit_width // 8
    return np.frombuffer(col.buffers()[1], dtype=f"<{kind}{width}", count=len(col), offset=col.offset * width)
