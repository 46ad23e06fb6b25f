"""Schema changes go through Alembic: a fresh database is built by migrations, and re-running is a no-op."""

from __future__ import annotations

from sqlalchemy import inspect

from hub import db


def test_migrations_build_every_table_and_run_twice_safely(db_url: str) -> None:
    engine = db.make_engine(db_url)
    try:
        db.migrate(engine)
        db.migrate(engine)
        names = set(inspect(engine).get_table_names())
        assert {t.name for t in db.metadata.sorted_tables} <= names
        assert "alembic_version" in names
    finally:
        engine.dispose()


def test_the_migrated_schema_matches_the_table_definitions(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = db.make_engine(db_url)
    try:
        db.migrate(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], "hub/db.py changed without a migration: " + repr(diff)
    finally:
        engine.dispose()
