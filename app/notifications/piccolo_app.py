"""Piccolo app of notifications."""

from piccolo.conf.apps import AppConfig

from app.notifications.tables import MutedMessage, Notification
from app.settings import PROJECT_ROOT

APP_CONFIG = AppConfig(
    app_name="notifications",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "notifications"),
    table_classes=[Notification, MutedMessage],
    migration_dependencies=["app.accounts.piccolo_app"],
    commands=[],
)
