"""Piccolo app of challenges."""

from piccolo.conf.apps import AppConfig

from app.challenges.tables import (
    Challenge,
    ChallengeAttachment,
    ChallengeEvent,
    ChallengeRevision,
    ChallengeTheme,
    Follow,
    Question,
)
from app.settings import PROJECT_ROOT

APP_CONFIG = AppConfig(
    app_name="challenges",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "challenges"),
    table_classes=[
        Challenge,
        ChallengeTheme,
        ChallengeEvent,
        ChallengeRevision,
        Question,
        Follow,
        ChallengeAttachment,
    ],
    migration_dependencies=["app.accounts.piccolo_app"],
    commands=[],
)
