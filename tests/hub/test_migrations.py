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


def test_hub_processes_starting_at_once_all_find_the_schema_at_head(db_url: str) -> None:
    """Several hub processes over one database start together: none may fail on CREATE TABLE."""
    import threading
    import traceback

    engines = [db.make_engine(db_url) for _ in range(4)]
    barrier = threading.Barrier(len(engines))
    errors: list[str] = []

    def start(engine: object) -> None:
        barrier.wait()
        try:
            db.migrate(engine)  # type: ignore[arg-type]
        except BaseException:  # collected with where it happened: the assertion below shows it
            errors.append(traceback.format_exc())

    threads = [threading.Thread(target=start, args=(e,)) for e in engines]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [], errors[0]
        assert {t.name for t in db.metadata.sorted_tables} <= set(inspect(engines[0]).get_table_names())
    finally:
        for e in engines:
            e.dispose()
