"""Piccolo app of search (it imports no feature: features write changes, sources read them)."""

from piccolo.conf.apps import AppConfig

from app.search.tables import SearchChange
from app.settings import PROJECT_ROOT

APP_CONFIG = AppConfig(
    app_name="search",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "search"),
    table_classes=[SearchChange],
    migration_dependencies=[],
    commands=[],
)
