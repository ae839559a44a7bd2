"""Data migrations, run on both engines from the revision before them."""

from __future__ import annotations

from sqlalchemy import create_engine, text

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
