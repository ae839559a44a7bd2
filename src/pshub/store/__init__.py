"""Database tables, repositories and migrations: inbox, cross-reference, canonical records,
audit trail, business exceptions and flow runs. SQLite (WAL) by default, PostgreSQL to scale."""
