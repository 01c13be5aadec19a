"""Piccolo app of judging."""

from piccolo.conf.apps import AppConfig

from app.judging.tables import (
    Assignment,
    AuditEvent,
    ConflictDeclaration,
    Criterion,
    CurrentScore,
    PitchSlot,
    ResultProposal,
    Round,
    RoundJudge,
    Scorecard,
    ScoreEvent,
)
from app.settings import PROJECT_ROOT

APP_CONFIG = AppConfig(
    app_name="judging",
    migrations_folder_path=str(PROJECT_ROOT / "migrations" / "judging"),
    table_classes=[
        Round,
        Criterion,
        RoundJudge,
        Assignment,
        ConflictDeclaration,
        Scorecard,
        ScoreEvent,
        CurrentScore,
        PitchSlot,
        ResultProposal,
        AuditEvent,
    ],
    migration_dependencies=[
        "app.accounts.piccolo_app",
        "app.challenges.piccolo_app",
        "app.submissions.piccolo_app",
    ],
    commands=[],
)
