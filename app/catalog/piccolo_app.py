"""Piccolo app of the catalogue."""

from piccolo.conf.apps import AppConfig

from app.catalog.tables import (
    Adoption,
    AdoptionEvent,
    Collaboration,
    CollaborationStep,
    Municipality,
    MunicipalityMember,
    Output,
    SharedProblem,
)
from app.settings import PROJECT_ROOT

APP_CONFIG = AppConfig(
    app_name="catalog",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "catalog"),
    table_classes=[
        Collaboration,
        CollaborationStep,
        Output,
        Municipality,
        MunicipalityMember,
        Adoption,
        AdoptionEvent,
        SharedProblem,
    ],
    migration_dependencies=[
        "app.accounts.piccolo_app",
        "app.challenges.piccolo_app",
        "app.submissions.piccolo_app",
    ],
    commands=[],
)
