"""What every vendor sandbox shares: persisted state, fault injection and the admin API.

A sandbox is a FastAPI app built by :func:`make_app`. The vendor module adds its own routes
and an ``error_response`` that renders a fault in the vendor's own error shape. Admin routes
live under ``/_sandbox`` (never faulted):

- ``GET  /_sandbox/stats``     requests, faults served, peak concurrency, rejections by kind
- ``GET  /_sandbox/faults``    current fault settings;  ``PUT`` replaces them (JSON body)
- ``POST /_sandbox/outage``    ``{"seconds": 30}``: every vendor route answers 503 until then
- ``POST /_sandbox/reset``     clear stats and faults (state is kept)
- ``GET  /_sandbox/records/{collection}``  every stored record of a collection (tests, demo)
- ``PUT  /_sandbox/clock``     ``{"now": "<ISO instant>"}``: the sandbox's clock stands at that
  moment (simulations); ``DELETE`` returns it to real time. Vendor modules read it through
  :func:`sandbox_now`.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Response
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Receive, Scope, Send

ErrorFactory = Callable[[str, int, str, float | None], Response]
"""(kind, http status, message, retry_after) -> vendor-shaped response.

kinds: "outage", "error", "concurrency", "rate_limit"."""


class Clock:
    """A sandbox's clock: real time, or a moment set by a simulation."""

    def __init__(self) -> None:
        self.fixed: datetime | None = None

    def now(self) -> datetime:
        return self.fixed or datetime.now(UTC)


_CLOCK: ContextVar[Clock | None] = ContextVar("sandbox_clock", default=None)


def sandbox_now() -> datetime:
    """The current instant as the sandbox serving this request sees it (UTC)."""
    clock = _CLOCK.get()
    return clock.now() if clock is not None else datetime.now(UTC)


class FaultSettings(BaseModel):
    latency_ms: float = Field(0, ge=0)  # response time: the sandbox's work is within it
    error_rate: float = Field(0, ge=0, le=1)  # share of requests answered with a 500
    concurrency_limit: int | None = Field(None, ge=1)  # concurrent vendor requests allowed
    rate_limit_per_second: float | None = Field(None, gt=0)  # token bucket, answered with 429
    rate_limit_burst: int = Field(10, ge=1)
    outage_until: float | None = None  # epoch seconds


class SandboxState:
    """A small document store in one SQLite file: (collection, id) -> JSON, kept in insert order.

    Thread-safe; survives a restart of the sandbox when ``path`` is a file.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        target = str(path) if path else ":memory:"
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # Committed writes survive a crash of the sandbox process (not of the machine).
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS docs (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " collection TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,"
            " UNIQUE(collection, id))"
        )
        self._db.execute("CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, n INTEGER)")
        self._lock = threading.RLock()
        self._depth = 0

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group several reads and writes atomically. Nested blocks join the outermost one:
        only the outermost commits (or rolls back)."""
        with self._lock:
            outermost = self._depth == 0
            if outermost:
                self._db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outermost:
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outermost:
                self._db.execute("COMMIT")

    @contextmanager
    def sql(self) -> Iterator[sqlite3.Connection]:
        """The SQLite connection, held by this thread, for vendor modules that keep their own
        indexed tables in the same file (so their rows commit with the documents, inside
        :meth:`transaction`)."""
        with self._lock:
            yield self._db

    def page(self, collection: str, limit: int, offset: int) -> list[dict[str, Any]]:
        """Records of a collection in insert order, one page (indexed, not a full scan)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM docs WHERE collection=? ORDER BY seq LIMIT ? OFFSET ?",
                (collection, limit, offset),
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def next_id(self, name: str, start: int = 1) -> int:
        with self._lock:
            row = self._db.execute("SELECT n FROM counters WHERE name=?", (name,)).fetchone()
            value = start if row is None else row[0] + 1
            self._db.execute(
                "INSERT INTO counters(name, n) VALUES(?, ?) "
                "ON CONFLICT(name) DO UPDATE SET n=excluded.n",
                (name, value),
            )
            return value

    def get(self, collection: str, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM docs WHERE collection=? AND id=?", (collection, key)
            ).fetchone()
        return None if row is None else json.loads(row[0])

    def put(self, collection: str, key: str, body: dict[str, Any]) -> None:
        text = json.dumps(body, default=str, sort_keys=True)
        with self._lock:
            self._db.execute(
                "INSERT INTO docs(collection, id, body) VALUES(?, ?, ?) "
                "ON CONFLICT(collection, id) DO UPDATE SET body=excluded.body",
                (collection, key, text),
            )

    def delete(self, collection: str, key: str) -> bool:
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM docs WHERE collection=? AND id=?", (collection, key)
            )
        return cur.rowcount > 0

    def all(self, collection: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM docs WHERE collection=? ORDER BY seq", (collection,)
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def find(self, collection: str, **equals: Any) -> list[dict[str, Any]]:
        """Records whose top-level fields equal the given values."""
        return [d for d in self.all(collection) if all(d.get(k) == v for k, v in equals.items())]

    def count(self, collection: str) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM docs WHERE collection=?", (collection,)
            ).fetchone()
        return int(row[0])

    def collections(self) -> list[str]:
        with self._lock:
            rows = self._db.execute("SELECT DISTINCT collection FROM docs").fetchall()
        return sorted(r[0] for r in rows)

    def close(self) -> None:
        with self._lock:
            self._db.close()


class Faults:
    """Live fault settings plus the counters the tests and benchmarks read."""

    def __init__(self, seed: int = 0) -> None:
        self.settings = FaultSettings()
        self.random = random.Random(seed)
        self.inflight = 0
        self.peak_inflight = 0
        self.requests = 0
        # Requests admitted and answered, and the seconds each counted against the
        # concurrency limit (arrival to answer): the vendor's own view of its response time.
        self.answered = 0
        self.busy_seconds = 0.0
        self.served: Counter[str] = Counter()  # faults served, by kind
        self._tokens = 0.0
        self._refilled = time.monotonic()
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self.settings = FaultSettings()
            self.inflight = self.peak_inflight = self.requests = self.answered = 0
            self.busy_seconds = 0.0
            self.served.clear()

    def admit(self) -> tuple[str, int, str, float | None] | None:
        """Decide whether a request is served; returns the fault to answer with, if any."""
        s = self.settings
        with self._lock:
            self.requests += 1
            if s.outage_until is not None and time.time() < s.outage_until:
                left = s.outage_until - time.time()
                return self._serve("outage", 503, "service unavailable (sandbox outage)", left)
            if s.concurrency_limit is not None and self.inflight >= s.concurrency_limit:
                return self._serve("concurrency", 429, "concurrent request limit exceeded", None)
            if s.rate_limit_per_second is not None and not self._take_token(s):
                wait = (1 - self._tokens) / s.rate_limit_per_second
                return self._serve("rate_limit", 429, "rate limit exceeded", max(wait, 0.01))
            if s.error_rate and self.random.random() < s.error_rate:
                return self._serve("error", 500, "internal server error (sandbox fault)", None)
            self.inflight += 1
            self.peak_inflight = max(self.peak_inflight, self.inflight)
            return None

    def release(self, admitted_at: float | None = None, answered_at: float | None = None) -> None:
        """The request admitted at ``admitted_at`` is done: answered at ``answered_at`` (both
        ``time.monotonic()``), or not answered at all (None)."""
        with self._lock:
            self.inflight -= 1
            if admitted_at is not None and answered_at is not None:
                self.answered += 1
                self.busy_seconds += answered_at - admitted_at

    def _take_token(self, s: FaultSettings) -> bool:
        now = time.monotonic()
        rate = s.rate_limit_per_second or 0.0
        self._tokens = min(float(s.rate_limit_burst), self._tokens + (now - self._refilled) * rate)
        self._refilled = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def _serve(
        self, kind: str, status: int, message: str, retry_after: float | None
    ) -> tuple[str, int, str, float | None]:
        self.served[kind] += 1
        return kind, status, message, retry_after

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "inflight": self.inflight,
            "peak_inflight": self.peak_inflight,
            "answered": self.answered,
            "busy_seconds": round(self.busy_seconds, 6),
            "faults_served": dict(self.served),
            "settings": self.settings.model_dump(),
        }


class _FaultInjection:
    """Faults, latency and the concurrency count around every vendor route (``/_sandbox`` is
    never faulted), and the app's clock for its handlers.

    A plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` (``@app.middleware``) runs
    each request in a second task with memory streams, which cost about as much CPU as the
    sandbox's own work on a bulk request.
    """

    def __init__(
        self, app: ASGIApp, faults: Faults, clock: Clock, error_response: ErrorFactory
    ) -> None:
        self.app, self.faults, self.clock, self.error_response = app, faults, clock, error_response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        _CLOCK.set(self.clock)  # handlers (threadpool included) see this app's clock
        if str(scope.get("path", "")).startswith("/_sandbox"):
            await self.app(scope, receive, send)
            return
        fault = self.faults.admit()
        if fault is not None:
            await self.error_response(*fault)(scope, receive, send)
            return
        admitted = time.monotonic()
        answered: list[float] = []
        send = _noting_the_answer(send, answered)
        try:
            latency = self.faults.settings.latency_ms / 1000
            if latency:
                send = _answer_after(send, admitted + latency)
            await self.app(scope, receive, send)
        finally:
            self.faults.release(admitted, answered[0] if answered else None)


def _noting_the_answer(send: Send, answered: list[float]) -> Send:
    """``send`` noting in ``answered`` when the answer's last part is handed over: before
    the client can have read it, so the vendor's count of a request never ends after the
    client's."""

    async def answer(message: Any) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            answered.append(time.monotonic())
        await send(message)

    return answer


def _answer_after(send: Send, deadline: float) -> Send:
    """``send`` holding the response back until ``deadline``.

    The vendor answers ``latency_ms`` after the request arrived, its own work included, as a
    real service's response time does. Work that takes longer answers when done. The request
    counts against the concurrency limit until the answer has gone.
    """

    async def answer(message: Any) -> None:
        if message["type"] == "http.response.start":
            wait = deadline - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        await send(message)

    return answer


def make_app(
    title: str,
    state: SandboxState,
    error_response: ErrorFactory,
    *,
    seed: int = 0,
) -> FastAPI:
    """A FastAPI app with fault injection and the ``/_sandbox`` admin API already wired."""
    app = FastAPI(title=title, docs_url="/_sandbox/docs", openapi_url="/_sandbox/openapi.json")
    faults = Faults(seed)
    clock = Clock()
    app.state.faults = faults
    app.state.store = state
    app.state.clock = clock

    app.add_middleware(_FaultInjection, faults=faults, clock=clock, error_response=error_response)

    @app.get("/_sandbox/stats")
    def stats() -> dict[str, Any]:
        return {**faults.stats(), "records": {c: state.count(c) for c in state.collections()}}

    @app.get("/_sandbox/faults")
    def get_faults() -> FaultSettings:
        return faults.settings

    @app.put("/_sandbox/faults")
    def put_faults(settings: FaultSettings) -> FaultSettings:
        faults.settings = settings
        return settings

    @app.post("/_sandbox/outage")
    def outage(body: dict[str, float]) -> FaultSettings:
        seconds = float(body.get("seconds", 0))
        faults.settings = faults.settings.model_copy(update={"outage_until": time.time() + seconds})
        return faults.settings

    @app.post("/_sandbox/reset")
    def reset() -> dict[str, str]:
        faults.reset()
        return {"status": "reset"}

    @app.put("/_sandbox/clock")
    def set_clock(body: dict[str, str]) -> dict[str, str]:
        moment = datetime.fromisoformat(body["now"])
        if moment.tzinfo is None:
            raise ValueError("now: give an aware instant (e.g. 2026-11-03T10:00:00+00:00)")
        clock.fixed = moment.astimezone(UTC)
        return {"now": clock.now().isoformat()}

    @app.delete("/_sandbox/clock")
    def real_clock() -> dict[str, str]:
        clock.fixed = None
        return {"now": clock.now().isoformat()}

    @app.get("/_sandbox/records/{collection}")
    def records(collection: str) -> list[dict[str, Any]]:
        return state.all(collection)

    return app
