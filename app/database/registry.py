"""The tables of every feature app, the engine they use, and their migration state."""

from __future__ import annotations

from functools import cache

from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.tables import Migration
from piccolo.engine.base import Engine
from piccolo.table import Table


@cache
def feature_tables() -> tuple[type[Table], ...]:
    """Every table of every registered app, parents before children."""
    from piccolo.table import sort_table_classes

    from app.piccolo_conf import APP_REGISTRY

    tables: list[type[Table]] = []
    for app_config in APP_REGISTRY.app_configs.values():
        tables.extend(app_config.table_classes)
    return tuple(sort_table_classes(tables))


def current_engine() -> Engine:  # type: ignore[type-arg]
    """The engine every table uses now (tests may have swapped it)."""
    engine: Engine = Migration._meta.db  # type: ignore[type-arg]
    return engine


def use_engine(engine: Engine) -> None:  # type: ignore[type-arg]
    """Point every table, and Piccolo's migration table, at `engine`."""
    tables: tuple[type[Table], ...] = (*feature_tables(), Migration)
    for table in tables:
        table._meta.db = engine


@cache
def expected_migrations() -> frozenset[tuple[str, str]]:
    """(app, migration id) of every migration file in the project."""
    from app.piccolo_conf import APP_REGISTRY

    manager = BaseMigrationManager()
    found = set()
    for app_name, app_config in APP_REGISTRY.app_configs.items():
        for migration_id in manager.get_migration_ids(
            manager.get_migration_modules(str(app_config.migrations_folder_path))
        ):
            found.add((app_name, migration_id))
    return frozenset(found)


async def pending_migrations() -> set[tuple[str, str]]:
    """Migrations present in the code but not yet applied to the database."""
    if not await Migration.table_exists().run():
        return set(expected_migrations())
    applied = await Migration.select(Migration.app_name, Migration.name).run()
    return set(expected_migrations()) - {(row["app_name"], row["name"]) for row in applied}
