"""State the service must share between its worker processes and hosts, behind one small interface.

Three things outlive a request: the JWT replay cache (a ``jti`` seen by any instance must be refused by every
other), the card registry (feedback names a card another instance may have issued) and the report links of CDS
cards (the link may be opened on another instance). :class:`SharedState` holds the three, in one of two backends:

- **in-process** (the default): bounded, thread-safe maps in this process. Correct for one process only.
- **Redis / Valkey** (``shared_state_url = "redis://host:6379/0"``): the same three in a Redis-protocol server, with
  the server's own expiry (``SET … NX PX``), so any number of workers and hosts agree. Values are JSON (never
  pickle: whoever can write to the store must not be able to run code in the service).

``mmemd serve --workers N`` refuses ``N > 1`` with the in-process backend (docs/deploy.md).

If the shared store cannot be reached, a request that needs it gets **503** with ``Retry-After``
(:class:`SharedStateUnavailable`) — never a replay accepted because the store was down.
"""

from __future__ import annotations

import heapq
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Protocol

if TYPE_CHECKING:
    from mmemd.service._cds_config import CdsHooksConfig

#: URL schemes of the Redis-protocol backend (redis-py's ``Redis.from_url``).
REDIS_SCHEMES: Final = ("redis://", "rediss://", "unix://")


class ReplayCacheFull(Exception):
    """The replay cache holds ``max_entries`` unexpired entries: refuse rather than forget a live one."""


class SharedStateUnavailable(ReplayCacheFull):
    """The shared store did not answer. Subclasses :class:`ReplayCacheFull` so a token check fails closed (503)."""


class ReplayStore(Protocol):
    def add(self, iss: str, jti: str, until: float, now: float) -> bool:
        """Record ``(iss, jti)`` until ``until``; False when already present (a replay)."""
        ...


class ExpiringMap(Protocol):
    def put(self, key: str, value: Any, now: float) -> None: ...

    def get(self, key: str, now: float) -> Any: ...


@dataclass(frozen=True)
class SharedState:
    replay: ReplayStore
    cards: ExpiringMap
    reports: ExpiringMap
    #: True when several processes may use it (the Redis backend)
    shared: bool
    backend: str


# ---- in-process ---------------------------------------------------------------------------------------------------
class ReplayCache:
    """Remembers ``(iss, jti)`` until the token's expiry (CDS Hooks: "jti not seen before (cache until exp)").

    Thread-safe (uvicorn may run sync handlers in a thread pool) and bounded: expired entries are purged first; when
    the cache is still full, :class:`ReplayCacheFull` is raised instead of evicting a live entry.
    """

    def __init__(self, max_entries: int) -> None:
        self._max = max_entries
        self._seen: dict[tuple[str, str], float] = {}
        self._expiry: list[tuple[float, tuple[str, str]]] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def _purge(self, now: float) -> None:
        while self._expiry and self._expiry[0][0] <= now:
            until, key = heapq.heappop(self._expiry)
            if self._seen.get(key) == until:
                del self._seen[key]

    def add(self, iss: str, jti: str, until: float, now: float) -> bool:
        key = (iss, jti)
        with self._lock:
            self._purge(now)
            if key in self._seen:
                return False
            if len(self._seen) >= self._max:
                raise ReplayCacheFull
            self._seen[key] = until
            heapq.heappush(self._expiry, (until, key))
            return True


class TtlMap:
    """A bounded, thread-safe map whose entries expire (oldest evicted first when full)."""

    def __init__(self, ttl_seconds: float, max_entries: int) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._items: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, key: str, value: Any, now: float) -> None:
        with self._lock:
            self._purge(now)
            self._items[key] = (now + self._ttl, value)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    def get(self, key: str, now: float) -> Any:
        with self._lock:
            self._purge(now)
            item = self._items.get(key)
            return None if item is None else item[1]

    def __len__(self) -> int:
        return len(self._items)

    def _purge(self, now: float) -> None:
        while self._items:
            first = next(iter(self._items.values()))
            if first[0] > now:
                break
            self._items.popitem(last=False)


class JsonTtlMap(TtlMap):
    """A :class:`TtlMap` that keeps each value as its JSON text: a CDS report link holds a whole record, 15.8 KiB as
    Python objects against 3.1 KiB as text, and up to ``report_link_max_entries`` (1,000) of them are kept — 15 MB
    that the soak saw fill up after the warm-up. The link is opened rarely; decoding then costs well under a ms."""

    def put(self, key: str, value: Any, now: float) -> None:
        super().put(key, _encode(value), now)

    def get(self, key: str, now: float) -> Any:
        text = super().get(key, now)
        return None if text is None else _decode(text)


def in_process_state(cds: CdsHooksConfig) -> SharedState:
    return SharedState(
        replay=ReplayCache(cds.replay_cache_size),
        cards=TtlMap(cds.card_registry_ttl_seconds, cds.card_registry_max_entries),
        reports=JsonTtlMap(cds.report_link_ttl_seconds, cds.report_link_max_entries),
        shared=False,
        backend="in-process",
    )


# ---- Redis / Valkey -------------------------------------------------------------------------------------------------
def _encode(value: Any) -> str:
    # Records carry Decimal (exact numbers): tagged, so they come back as Decimal, not float.
    def tag(v: Any) -> Any:
        if isinstance(v, Decimal):
            return {"$decimal": str(v)}
        if isinstance(v, Mapping):
            return {k: tag(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [tag(x) for x in v]
        return v

    return json.dumps(tag(value), ensure_ascii=False, separators=(",", ":"))


def _decode(text: str | bytes) -> Any:
    def hook(d: dict[str, Any]) -> Any:
        return Decimal(d["$decimal"]) if len(d) == 1 and "$decimal" in d else d

    return json.loads(text, object_hook=hook)


class _Redis:
    """Shared by the three stores: one connection pool, one key prefix, errors mapped to 503."""

    def __init__(self, url: str, prefix: str, timeout: float) -> None:
        import redis

        self.errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self.client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, health_check_interval=30
        )
        self.prefix = prefix

    def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except self.errors as exc:
            # The URL may hold a password: never in the message.
            raise SharedStateUnavailable(f"shared state store unavailable ({type(exc).__name__})") from None


class RedisReplayCache:
    def __init__(self, redis: _Redis) -> None:
        self._r = redis

    def add(self, iss: str, jti: str, until: float, now: float) -> bool:
        # NX: set only if absent — one atomic step, so two instances racing on one jti cannot both win.
        ttl_ms = max(1, int((until - now) * 1000))
        key = f"{self._r.prefix}jti:{json.dumps([iss, jti])}"
        return bool(self._r.call(self._r.client.set, key, b"1", nx=True, px=ttl_ms))


class RedisTtlMap:
    def __init__(self, redis: _Redis, name: str, ttl_seconds: float) -> None:
        self._r = redis
        self._name = name
        self._ttl_ms = max(1, int(ttl_seconds * 1000))

    def put(self, key: str, value: Any, now: float) -> None:
        self._r.call(
            self._r.client.set, f"{self._r.prefix}{self._name}:{key}", _encode(value), px=self._ttl_ms
        )

    def get(self, key: str, now: float) -> Any:
        raw = self._r.call(self._r.client.get, f"{self._r.prefix}{self._name}:{key}")
        return None if raw is None else _decode(raw)


def redis_state(url: str, cds: CdsHooksConfig, prefix: str = "mmemd:", timeout: float = 2.0) -> SharedState:
    r = _Redis(url, prefix, timeout)
    return SharedState(
        replay=RedisReplayCache(r),
        cards=RedisTtlMap(r, "card", cds.card_registry_ttl_seconds),
        reports=RedisTtlMap(r, "report", cds.report_link_ttl_seconds),
        shared=True,
        backend="redis",
    )


def shared_state(url: str | None, cds: CdsHooksConfig) -> SharedState:
    """The backend named by ``url`` (``None``: in-process)."""
    if url is None:
        return in_process_state(cds)
    if url.startswith(REDIS_SCHEMES):
        return redis_state(url, cds)
    raise ValueError(f"shared_state_url must start with one of {', '.join(REDIS_SCHEMES)}")
