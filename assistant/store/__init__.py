"""Persistence: SQLAlchemy 1.4 in 2.0 style, Alembic migrations. SQLite by default, PostgreSQL via DATABASE_URL."""

from assistant.store.db import Database, upgrade_schema

__all__ = ["Database", "upgrade_schema"]
