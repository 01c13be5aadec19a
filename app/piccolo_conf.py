"""Piccolo configuration: the engine from DATABASE_URL and the registry of feature apps."""

from piccolo.conf.apps import AppRegistry

from app.database.engines import engine_from_url
from app.settings import Settings

DB = engine_from_url(Settings.from_env().database_url)

# Order matters only through each app's migration_dependencies; listed here in import order.
APP_REGISTRY = AppRegistry(
    apps=[
        "app.accounts.piccolo_app",
        "app.challenges.piccolo_app",
        "app.notifications.piccolo_app",
        "app.submissions.piccolo_app",
        "app.judging.piccolo_app",
        "app.catalog.piccolo_app",
        "app.payments.piccolo_app",
        "app.search.piccolo_app",
    ]
)
