"""Data migrations, run on both engines from the revision before them."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from pshub.store.db import normalise_url
from pshub.store.migrate import upgrade


def test_0011_turns_lines_left_planned_back_into_pending_work(db_url: str) -> None:
    engine = create_engine(normalise_url(db_url))
    try:
        upgrade(engine, "0010")
        with engine.begin() as conn:
            for source, status in (("p1", "planned"), ("d1", "posted")):
                conn.execute(
                    text(
                        "INSERT INTO work_items (kind, source_id, version, project_id, approved,"
                        " status, body, updated_at) VALUES ('time', :s, 1, 'w1', :t, 'pending',"
                        " '{}', '2026-10-30 12:00:00')"
                    ),
                    {"s": source, "t": True},
                )
                conn.execute(
                    text(
                        "INSERT INTO billing_lines (key, batch_id, source_key, version, action,"
                        " project_id, legal_entity, period, amount, currency, status, body)"
                        " VALUES (:k, 'b1', :src, 1, 'post', 'w1', 'UK', '2026-10', '10.00',"
                        " 'GBP', :st, '{}')"
                    ),
                    {"k": f"time:{source}:v1:billable", "src": f"time:{source}", "st": status},
                )
            conn.execute(text("UPDATE work_items SET status = 'done' WHERE source_id = 'd1'"))
            conn.execute(
                text(
                    "INSERT INTO billing_batches (batch_id, project_id, legal_entity, status,"
                    " line_count, created_at) VALUES ('b1', 'w1', 'UK', 'planned', 2,"
                    " '2026-10-30 12:00:00')"
                )
            )
        upgrade(engine)
        with engine.connect() as conn:
            lines = conn.execute(text("SELECT key, status FROM billing_lines")).all()
            items = dict(conn.execute(text("SELECT source_id, status FROM work_items")).all())
            batch = conn.execute(text("SELECT status FROM billing_batches")).scalar_one()
        assert lines == [("time:d1:v1:billable", "posted")]  # the posted line stays
        assert items == {"p1": "pending", "d1": "done"}  # the planned one is work again
        assert batch == "replanned"
    finally:
        engine.dispose()


def test_0012_stores_work_items_by_project_and_keeps_the_entry_unique(db_url: str) -> None:
    from alembic import command

    from pshub.store.migrate import alembic_config

    engine = create_engine(normalise_url(db_url))
    insert = text(
        "INSERT INTO work_items (kind, source_id, version, project_id, approved, status, body,"
        " updated_at) VALUES ('time', :s, 1, :p, :t, :st, '{\"n\": 1}', '2026-10-30 12:00:00')"
    )
    rows = [("b1", "w2", "done"), ("b2", "w1", "pending"), ("b3", "w2", "held")]
    try:
        upgrade(engine, "0011")
        with engine.begin() as conn:
            for source, project, status in rows:
                conn.execute(insert, {"s": source, "p": project, "t": True, "st": status})
        upgrade(engine)
        with engine.connect() as conn:
            kept = conn.execute(
                text("SELECT source_id, project_id, status, body FROM work_items")
            ).all()
            assert sorted((s, p, st) for s, p, st, _ in kept) == sorted(rows)
            bodies = [json.loads(b) if isinstance(b, str) else b for *_, b in kept]
            assert bodies == [{"n": 1}] * 3
            if engine.dialect.name == "sqlite":
                ddl = conn.execute(
                    text("SELECT sql FROM sqlite_master WHERE name = 'work_items'")
                ).scalar_one()
                assert "WITHOUT ROWID" in ddl
                assert "PRIMARY KEY (project_id, kind, source_id)" in ddl
                # stored in key order, a project's items neighbours (the table's own b-tree)
                scan = text("SELECT source_id, body FROM work_items NOT INDEXED")
                order = [r[0] for r in conn.execute(scan)]
                assert order == ["b2", "b1", "b3"]
        with engine.connect() as conn, pytest.raises(IntegrityError):
            # the entry's identity stays unique: one row per entry, whatever its project
            conn.execute(insert, {"s": "b1", "p": "w9", "t": True, "st": "pending"})
        command.downgrade(alembic_config(engine), "0011")
        with engine.connect() as conn:
            back = conn.execute(text("SELECT source_id, project_id, status FROM work_items")).all()
        assert sorted(back) == sorted(rows)
    finally:
        engine.dispose()
