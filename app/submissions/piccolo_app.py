"""Piccolo app of submissions."""

from piccolo.conf.apps import AppConfig

from app.settings import PROJECT_ROOT
from app.submissions.tables import (
    Answer,
    Consent,
    FormField,
    ReceiptCounter,
    Submission,
    SubmissionFile,
    SubmissionVersion,
    TeamMember,
)

APP_CONFIG = AppConfig(
    app_name="submissions",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "submissions"),
    table_classes=[
        FormField,
        Submission,
        Answer,
        TeamMember,
        Consent,
        SubmissionFile,
        SubmissionVersion,
        ReceiptCounter,
    ],
    migration_dependencies=["app.accounts.piccolo_app", "app.challenges.piccolo_app"],
    commands=[],
)
