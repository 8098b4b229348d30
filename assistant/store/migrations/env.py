"""Alembic environment: runs migrations against the URL set by assistant.store.db.upgrade_schema."""

from alembic import context
from sqlalchemy import create_engine

from assistant.store.models import Base
from assistant.store.search_models import include_name, include_object  # its tables belong to the metadata too

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
