"""Shared fixtures: databases (SQLite and PostgreSQL), a seeded directory, and the running stack."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from assistant.config import ROOT, Settings
from assistant.directory import Directory
from assistant.seed import seed
from assistant.store import Database
from assistant.store.scratch import create_database, drop_database

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
PG_URL = os.environ.get("DATABASE_TEST_URL", "postgresql://postgres@127.0.0.1:5432/test")
COMPANY = ROOT / "company"


def postgres_database() -> str:
    """A fresh PostgreSQL database for this test session, or a skip that says loudly why not."""
    try:
        return create_database(PG_URL, "deskmate_test")
    except Exception as exc:  # noqa: BLE001 - any failure means "no PostgreSQL here"
        pytest.skip(f"PostgreSQL NOT AVAILABLE at {PG_URL} ({exc.__class__.__name__}): store tests ran on SQLite only")


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty, migrated database: each store test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'store.db'}")
        yield database
        database.dispose()
        return
    url = postgres_database()
    database = Database(url)
    try:
        yield database
    finally:
        database.dispose()
        drop_database(url, PG_URL)


@pytest.fixture
def seeded(db: Database) -> Database:
    seed(db, COMPANY)
    return db


@pytest.fixture(scope="session")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Directory:
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('dir') / 'dir.db'}")
    seed(database, COMPANY)
    found = Directory.load(database)
    database.dispose()
    return found


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings pointing at a private var/ and SQLite file."""
    return Settings(var_dir=tmp_path / "var", database_url=f"sqlite:///{tmp_path / 'var' / 'deskmate.db'}")


STACK_RASA_PORT = int(os.environ.get("DESKMATE_TEST_RASA_PORT", "5305"))
STACK_API_PORT = int(os.environ.get("DESKMATE_TEST_API_PORT", "5355"))
STACK_SYNAPSE_PORT = int(os.environ.get("DESKMATE_TEST_SYNAPSE_PORT", "5308"))


@pytest.fixture(scope="session")
def stack(running_stack) -> Iterator[Settings]:  # noqa: ANN001
    """The real assistant (a local Synapse, the assistant service, the Rasa server with the trained model), started
    once per session on its own ports, database and Synapse, stopped at the end. Outbox retries back off at most
    2 s here, so an outage test does not wait minutes."""
    yield running_stack.settings


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model `make test` trains before the tests; a test that needs it fails without it, never skips."""
    from assistant.devstack import MODEL

    if not (ROOT / MODEL).exists():
        pytest.fail(f"no trained model at {MODEL}: `make test` trains it first; run `make model`")
    return ROOT / MODEL


@pytest.fixture(scope="session")
def running_stack(tmp_path_factory: pytest.TempPathFactory, trained_model: Path):  # noqa: ANN201 - devstack.Stack
    from assistant.devstack import Stack
    from assistant.synapse import SYNAPSE_PYTHON

    if not (ROOT / SYNAPSE_PYTHON).exists():
        pytest.fail(f"Synapse is not installed ({SYNAPSE_PYTHON}): `make test` installs it; run `make synapse`")
    var = tmp_path_factory.mktemp("stack")
    settings = Settings(var_dir=var, database_url=f"sqlite:///{var / 'deskmate.db'}",
                        rasa_port=STACK_RASA_PORT, api_port=STACK_API_PORT,
                        matrix_url=f"http://127.0.0.1:{STACK_SYNAPSE_PORT}", im_backend="matrix",
                        local_synapse=True, outbox_max_backoff=2.0)
    seed(Database(settings.database_url), COMPANY)
    # Automatic status is shown inside working hours only: here every hour of every day is one, so the status
    # dialogues do not depend on when CI runs (tests/test_status.py covers the hours with an injected clock).
    always_working = {"DESKMATE_WORKING_HOURS": "00:00-24:00", "DESKMATE_WORKING_DAYS": "1-7"}
    running = Stack(settings, log_dir=var / "logs", extra_env=always_working).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def chat(stack: Settings):  # noqa: ANN201 - a ChatClient speaking with the admin token
    from assistant.chatclient import ChatClient

    return ChatClient(stack.rasa_url, stack.api_url, stack.admin_token())
