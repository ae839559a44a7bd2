"""Shared fixtures: a fresh database per test on SQLite and (when available) PostgreSQL.

PostgreSQL tests create a throwaway database on the server named by PSHUB_TEST_POSTGRES_URL
(default: the local server's ``test`` database) and drop it afterwards. Without a server they
skip, unless PSHUB_REQUIRE_POSTGRES=1 (as in CI), where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

POSTGRES_ADMIN_URL = os.environ.get(
    "PSHUB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("PSHUB_REQUIRE_POSTGRES") == "1"


def _pg_conninfo(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


def _postgres_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(_pg_conninfo(POSTGRES_ADMIN_URL), connect_timeout=3):
            return None
    except Exception as exc:  # any failure means "not here"
        return str(exc)


@pytest.fixture(scope="session")
def postgres_admin() -> str:
    problem = _postgres_available()
    if problem is not None:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PSHUB_REQUIRE_POSTGRES=1 but PostgreSQL is unreachable: {problem}")
        pytest.skip(f"PostgreSQL not available: {problem}")
    return POSTGRES_ADMIN_URL


def create_pg_database(admin_url: str) -> tuple[str, str]:
    import psycopg

    name = f"pshub_t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_pg_conninfo(admin_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    return name, f"{base}/{name}"


def drop_pg_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(_pg_conninfo(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL: one SQLite file, or one PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'pshub.sqlite'}"
        return
    admin = request.getfixturevalue("postgres_admin")
    name, url = create_pg_database(admin)
    try:
        yield url
    finally:
        drop_pg_database(admin, name)
