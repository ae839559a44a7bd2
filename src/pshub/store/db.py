"""Engines and sessions for SQLite (WAL, foreign keys, busy timeout) and PostgreSQL."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from pshub.store.migrate import upgrade


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given without a driver."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def json_dumps(value: Any) -> str:
    """JSON text for the JSON columns: orjson, a tenth of ``json.dumps``'s CPU (a month-end
    billing run writes a JSON body per line). Keys that are not strings become strings, as
    with ``json.dumps``; what orjson cannot encode (integers beyond 64 bits) goes to
    ``json.dumps``, which encodes it or raises as before."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value)


def json_loads(text: str | bytes) -> Any:
    """The inverse of :func:`json_dumps`, by orjson (``json.loads`` for what it refuses)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    codec: dict[str, Any] = {"json_serializer": json_dumps, "json_deserializer": json_loads}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_size=10,
            max_overflow=20,
            **codec,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            # Month-end batches touch index pages all over the billing tables: a 32 MiB page
            # cache (default 2 MiB) keeps them from being re-read on every commit.
            cur.execute("PRAGMA cache_size=-32768")
            cur.execute("PRAGMA temp_store=MEMORY")
            # Checkpoint every 64 MiB of WAL rather than 4 MiB: a page rewritten by several
            # month-end commits is copied back to the database once (~20 % of a billing run).
            cur.execute("PRAGMA wal_autocheckpoint=16384")
            cur.close()

        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, **codec)


class Database:
    """The hub's database: an engine, migrated to head, and a session factory."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)
        if migrate:
            upgrade(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time, and a connection that finds the database locked
        # sleeps in SQLite's busy handler (1 ms growing to 100 ms between tries): threads of
        # this process that write much take turns on a lock instead, woken the moment it frees.
        self._writer = threading.Lock() if self.url.startswith("sqlite") else None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on error."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """:meth:`session` for a unit of work that writes much (month-end bulk writes): on
        SQLite, such units of this process run one at a time, queued on a lock."""
        if self._writer is None:
            with self.session() as session:
                yield session
            return
        with self._writer, self.session() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
