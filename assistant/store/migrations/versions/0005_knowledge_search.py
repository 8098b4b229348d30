"""knowledge search: search_docs (pre-segmented terms), FTS5 on SQLite, tsvector + GIN on PostgreSQL

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 09:00:00.000000

The full-text structure differs per dialect but indexes the same space-separated terms (assistant/search.py
segments): SQLite gets an external-content FTS5 table with the `ascii` tokenizer (splits on spaces only, leaves
CJK whole) and no positions, kept in step by triggers (they also fire on the ON DELETE CASCADE from topics);
PostgreSQL gets a generated tsvector built with array_to_tsvector (no parser, no dictionary: the terms are the
lexemes) and a GIN index. Existing topics are indexed here.
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

SQLITE_UP = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(tokens, content='search_docs', content_rowid='id', "
    "tokenize='ascii', detail='none')",
    "CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN "
    "INSERT INTO search_fts(rowid, tokens) VALUES (new.id, new.tokens); END",
    "CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, tokens) VALUES ('delete', old.id, old.tokens); END",
    "CREATE TRIGGER search_docs_au AFTER UPDATE ON search_docs BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, tokens) VALUES ('delete', old.id, old.tokens); "
    "INSERT INTO search_fts(rowid, tokens) VALUES (new.id, new.tokens); END",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS search_docs_au",
    "DROP TRIGGER IF EXISTS search_docs_ad",
    "DROP TRIGGER IF EXISTS search_docs_ai",
    "DROP TABLE IF EXISTS search_fts",
]
POSTGRES_UP = [
    "ALTER TABLE search_docs ADD COLUMN tsv tsvector GENERATED ALWAYS AS "
    "(array_to_tsvector(array_remove(string_to_array(tokens, ' '), ''))) STORED",
    "CREATE INDEX ix_search_docs_tsv ON search_docs USING gin (tsv)",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_search_docs_tsv",
    "ALTER TABLE search_docs DROP COLUMN IF EXISTS tsv",
]


def upgrade() -> None:
    op.create_table('search_docs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=16), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('tokens', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], name=op.f('fk_search_docs_topic_id_topics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_docs'))
    )
    op.create_index('ix_search_docs_topic_id_field', 'search_docs', ['topic_id', 'field'], unique=False)
    bind = op.get_bind()
    dialect = bind.dialect.name
    for statement in {"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}.get(dialect, []):
        op.execute(statement)
    _backfill(bind)


def _backfill(bind: sa.engine.Connection) -> None:
    """Index the topics that exist already, from the columns as they are at this revision."""
    from assistant.search import topic_docs

    topics = bind.execute(sa.text("SELECT id, title FROM topics ORDER BY id")).all()
    if not topics:
        return

    def texts(table: str, column: str) -> dict:
        found: dict = {}
        for topic_id, value in bind.execute(sa.text(f"SELECT topic_id, {column} FROM {table} ORDER BY id")):
            found.setdefault(topic_id, []).append(value)
        return found

    conclusions, notes = texts("topic_conclusions", "text"), texts("topic_notes", "text")
    messages = texts("topic_messages", "body")
    rows = [
        row
        for topic_id, title in topics
        for row in topic_docs(topic_id, title, conclusions.get(topic_id, []), notes.get(topic_id, []),
                              messages.get(topic_id, []))
    ]
    bind.execute(
        sa.text("INSERT INTO search_docs (id, topic_id, field, items, tokens) "
                "VALUES (:id, :topic_id, :field, :items, :tokens)"),
        rows,
    )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}.get(dialect, []):
        op.execute(statement)
    op.drop_index('ix_search_docs_topic_id_field', table_name='search_docs')
    op.drop_table('search_docs')
