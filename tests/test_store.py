"""The store on SQLite and PostgreSQL: migrations, idempotent seed, audit log, tokens, atomic writes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, inspect, select

from assistant import audit
from assistant.auth import UnknownPerson, authenticate, issue_token, revoke_tokens
from assistant.directory import Directory
from assistant.seed import seed
from assistant.store import Database, upgrade_schema
from assistant.store.models import AuditEntry, Person, PolicyCategory, PolicyChange
from tests.conftest import COMPANY


def _count(db: Database, model: type) -> int:
    with db.session() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def test_migrations_create_every_table(db: Database) -> None:
    tables = set(inspect(db.engine).get_table_names())
    assert {"people", "departments", "person_roles", "api_tokens", "audit_log", "policy_categories",
            "policy_settings", "policy_changes", "alembic_version"} <= tables
    upgrade_schema(db.url)  # running the migrations again is a no-op
    assert set(inspect(db.engine).get_table_names()) == tables


def test_the_migrations_build_exactly_the_models(db: Database) -> None:
    """Every model change has its migration: Alembic's autogenerate finds no table or column to add or drop."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from assistant.store.models import Base
    from assistant.store.search_models import include_name, include_object

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": include_name,
                                                               "include_object": include_object})
        diff = compare_metadata(context, Base.metadata)
    assert [d for d in diff if d[0] in ("add_table", "remove_table", "add_column", "remove_column")] == []


def test_seed_loads_the_sample_company(db: Database) -> None:
    counts = seed(db, COMPANY)
    assert counts["created"] > 0
    directory = Directory.load(db)
    assert len(directory.people) == 17
    assert directory.get("zhangwei2").name_zh == "章玮"
    assert _count(db, PolicyCategory) == 7
    assert _count(db, PolicyChange) == 3
    with db.session() as s:
        meals = s.get(PolicyCategory, "meals")
        assert meals.cap_fen == 10000 and meals.cap_per == "person_day"


def test_seeding_again_changes_nothing(seeded: Database) -> None:
    audits = _count(seeded, AuditEntry)
    assert seed(seeded, COMPANY) == {"created": 0, "updated": 0, "deactivated": 0}
    assert _count(seeded, AuditEntry) == audits


def test_a_changed_company_file_updates_rows_and_is_audited(seeded: Database, tmp_path: Path) -> None:
    company = tmp_path / "company"
    shutil.copytree(COMPANY, company)
    doc = yaml.safe_load((company / "people.yml").read_text(encoding="utf-8"))
    doc["people"] = [p for p in doc["people"] if p["id"] != "maxiao"]
    for person in doc["people"]:
        if person["id"] == "alice":
            person["title_en"] = "Senior QA Engineer"
    (company / "people.yml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")

    counts = seed(seeded, company)
    assert counts == {"created": 0, "updated": 1, "deactivated": 1}
    directory = Directory.load(seeded)
    assert directory.get("maxiao") is None
    assert directory.get("alice").title_en == "Senior QA Engineer"
    with seeded.session() as s:
        actions = {(e.action, e.object_id) for e in audit.entries(s, object_type="people")}
    assert ("update", "alice") in actions and ("deactivate", "maxiao") in actions


def test_a_failed_transaction_writes_nothing(seeded: Database) -> None:
    before = _count(seeded, AuditEntry)
    with pytest.raises(RuntimeError):
        with seeded.session() as s:
            s.get(Person, "alice").title_en = "changed"
            audit.record(s, "alice", "edit", "people", "alice")
            raise RuntimeError("boom")
    with seeded.session() as s:
        assert s.get(Person, "alice").title_en == "QA Engineer"
    assert _count(seeded, AuditEntry) == before


def test_employee_tokens_authenticate_and_can_be_revoked(seeded: Database) -> None:
    token = issue_token(seeded, "zhangwei")
    principal = authenticate(seeded, "admin-secret", f"Bearer {token}")
    assert principal.person_id == "zhangwei" and not principal.is_admin
    assert authenticate(seeded, "admin-secret", "Bearer admin-secret").is_admin
    for header in (None, "", "Bearer", "Bearer wrong", f"Basic {token}", f"Bearer {token}x"):
        assert authenticate(seeded, "admin-secret", header) is None
    assert revoke_tokens(seeded, "zhangwei") == 1
    assert authenticate(seeded, "admin-secret", f"Bearer {token}") is None
    with seeded.session() as s:
        actions = [e.action for e in audit.entries(s, object_id="zhangwei")]
    assert "issue_token" in actions and "revoke_tokens" in actions


def test_no_token_for_someone_outside_the_directory(seeded: Database) -> None:
    with pytest.raises(UnknownPerson):
        issue_token(seeded, "nobody")
