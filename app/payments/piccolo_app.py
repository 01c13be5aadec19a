"""Piccolo app of payments."""

from piccolo.conf.apps import AppConfig

from app.payments.tables import (
    EntryFee,
    FeeWaiver,
    Payment,
    PitchEvent,
    Refund,
    StripeEvent,
    Ticket,
    TicketType,
)
from app.settings import PROJECT_ROOT

APP_CONFIG = AppConfig(
    app_name="payments",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "payments"),
    table_classes=[PitchEvent, TicketType, Payment, Ticket, Refund, StripeEvent, EntryFee, FeeWaiver],
    migration_dependencies=[
        "app.accounts.piccolo_app",
        "app.challenges.piccolo_app",
        "app.submissions.piccolo_app",
        "app.catalog.piccolo_app",
    ],
    commands=[],
)
