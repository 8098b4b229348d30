"""Alembic environment: runs migrations against the URL set by assistant.store.db.upgrade_schema."""

from alembic import context
from sqlalchemy import create_engine

import assistant.store.search_models  # noqa: F401 - the search index's tables belong to the metadata too
from assistant.store.models import Base


def include_name(name: str, type_: str, parent_names: object) -> bool:
    """SQLite's FTS5 shadow tables are made by the migration's raw DDL, not by the metadata."""
    return not (type_ == "table" and name.startswith("search_fts"))


def include_object(obj: object, name: str, type_: str, reflected: bool, compare_to: object) -> bool:
    """PostgreSQL's tsvector column and its GIN index are raw DDL too."""
    return not ((type_ == "column" and name == "tsv") or (type_ == "index" and name == "ix_search_docs_tsv"))


config = context.config
url = config.get_main_option("sqlalchemy.url")
engine = create_engine(url, future=True)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=url.startswith("sqlite"),
        include_name=include_name,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
