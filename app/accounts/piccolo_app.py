"""Piccolo app of accounts."""

from piccolo.conf.apps import AppConfig

from app.accounts.tables import Bureau, Identity, Invitation, Membership, Organization, StaffRole, User
from app.settings import PROJECT_ROOT

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "accounts"),
    table_classes=[User, Bureau, StaffRole, Organization, Membership, Invitation, Identity],
    migration_dependencies=[],
    commands=[],
)
