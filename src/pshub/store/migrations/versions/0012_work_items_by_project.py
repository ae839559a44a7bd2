"""time-to-bill: work items stored by project

Revision ID: 0012
Revises: 0011

Every read and write of the work-item inbox at billing time is per project (plan a project's
pending items, mark them done), but the PSA hands out entry ids across projects: stored by
entry id, a project's items lie on as many pages as it has items, and marking a month-end
slice of 1,000 items done rewrote about 1,000 pages (a fifth of a billing run's time on
SQLite). The primary key becomes (project_id, kind, source_id), and on SQLite the table is
``WITHOUT ROWID``, so it is stored in that order and a project's items are neighbours; the
entry's own identity, (kind, source_id), stays unique (the feed's upsert key). Decision 0013.
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_COLUMNS = "kind, source_id, version, project_id, approved, approved_at, status, body, updated_at"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite("PRIMARY KEY (project_id, kind, source_id)", "WITHOUT ROWID")
        op.execute("CREATE UNIQUE INDEX uq_work_items_source ON work_items (kind, source_id)")
    else:
        op.drop_constraint("work_items_pkey", "work_items", type_="primary")
        op.create_primary_key("work_items_pkey", "work_items", ["project_id", "kind", "source_id"])
        op.create_unique_constraint("uq_work_items_source", "work_items", ["kind", "source_id"])
        return
    op.execute("CREATE INDEX ix_work_items_status_project ON work_items (status, project_id)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite("PRIMARY KEY (kind, source_id)", "")
        op.execute("CREATE INDEX ix_work_items_status_project ON work_items (status, project_id)")
        return
    op.drop_constraint("uq_work_items_source", "work_items", type_="unique")
    op.drop_constraint("work_items_pkey", "work_items", type_="primary")
    op.create_primary_key("work_items_pkey", "work_items", ["kind", "source_id"])


def _rebuild_sqlite(primary_key: str, options: str) -> None:
    """SQLite cannot change a table's primary key: a new table, the rows copied, renamed."""
    op.execute(
        "CREATE TABLE work_items_new ("
        " kind VARCHAR(10) NOT NULL,"
        " source_id VARCHAR(80) NOT NULL,"
        " version INTEGER NOT NULL,"
        " project_id VARCHAR(80) NOT NULL,"
        " approved BOOLEAN NOT NULL,"
        " approved_at DATETIME,"
        " status VARCHAR(16) NOT NULL,"
        " body JSON NOT NULL,"
        " updated_at DATETIME NOT NULL,"
        f" {primary_key}) {options}"
    )
    op.execute(f"INSERT INTO work_items_new ({_COLUMNS}) SELECT {_COLUMNS} FROM work_items")
    op.execute("DROP TABLE work_items")  # its indexes go with it
    op.execute("ALTER TABLE work_items_new RENAME TO work_items")
