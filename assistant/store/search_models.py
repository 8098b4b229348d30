"""The knowledge-search index table (kept apart from models.py so search owns its schema; see assistant/search.py).

`search_docs` holds pre-segmented text, one row per (topic, field, chunk). The full-text structure over it is
dialect-specific and lives only in migration 0005: on SQLite an FTS5 external-content table `search_fts` kept
in step by triggers; on PostgreSQL a generated `tsv` tsvector column with a GIN index. Neither is declared
here, so the ORM never writes them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Text

from assistant.store.models import Base


class SearchDoc(Base):
    """Segmented terms of one field of one topic. Messages, conclusions and notes are appended to the newest
    row of their field until it holds CHUNK_ITEMS sources, so a topic has a handful of rows, not one per message.
    The id encodes topic, field and chunk, so a full-text match alone says where it matched."""

    __tablename__ = "search_docs"
    # topic << 12 | field << 10 | chunk (assistant.search.doc_id); INTEGER on SQLite, where that makes it the
    # rowid the FTS5 table is keyed by
    id = Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False)
    topic_id = Column(Integer, ForeignKey("topics.id", ondelete="CASCADE"), nullable=False)
    field = Column(String(16), nullable=False)  # title | conclusion | note | message
    items = Column(Integer, nullable=False, default=0)  # sources merged into this row
    tokens = Column(Text, nullable=False, default="")  # distinct terms, space-separated, in first-seen order

    __table_args__ = (Index("ix_search_docs_topic_id_field", "topic_id", "field"),)


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """For Alembic: SQLite's FTS5 shadow tables are made by the migration's raw DDL, not by the metadata."""
    return not (type_ == "table" and (name or "").startswith("search_fts"))


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """For Alembic: PostgreSQL's tsvector column and its GIN index are raw DDL too."""
    return not ((type_ == "column" and name == "tsv") or (type_ == "index" and name == "ix_search_docs_tsv"))
