"""Every score of a round, one row per judge's scorecard and one column per criterion, for the officials."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.judging import scoring
from app.judging.results import round_criteria
from app.judging.tables import CurrentScore, Scorecard
from app.web.i18n import gettext as _
from app.web.jst import TOKYO


def state_name(state: str) -> str:
    """A scorecard state as the export names it."""
    return {"open": _("Open"), "final": _("Final")}.get(state, state)


def number_text(value: float | None) -> str:
    """A score as Excel reads it: an integer without a trailing .0, empty when unscored."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def jst_text(moment: datetime | None) -> str:
    """An instant as Japan time to the minute, empty when unset."""
    return moment.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M") if moment else ""


async def score_table(round_id: int) -> list[list[str]]:
    """The header and one row per scorecard (open ones too, marked), by receipt number then judge."""
    criteria = await round_criteria(round_id)
    cards: list[dict[str, Any]] = await (
        Scorecard.select(
            Scorecard.id,
            Scorecard.submission,
            Scorecard.judge,
            Scorecard.state,
            Scorecard.comment,
            Scorecard.comment_shareable,
            Scorecard.finalized_at,
            Scorecard.submission.receipt_number.as_alias("receipt_number"),
            Scorecard.submission._.organization._.name_ja.as_alias("organization_name_ja"),
            Scorecard.judge.display_name.as_alias("judge_name"),
            Scorecard.judge.email.as_alias("judge_email"),
        )
        .where(Scorecard.round == round_id)
        .run()
    )
    cards.sort(key=lambda card: (card["receipt_number"] or "", card["judge_name"], card["id"]))
    values: dict[tuple[int, int], float | None] = {
        (row["scorecard"], row["criterion"]): row["value"]
        for row in await CurrentScore.select(
            CurrentScore.scorecard, CurrentScore.criterion, CurrentScore.value
        )
        .where(CurrentScore.scorecard.round == round_id)
        .run()
    }
    totals = scoring.judge_totals(
        [scoring.Criterion(c["id"], c["weight"], c["scale_min"], c["scale_max"]) for c in criteria],
        [
            scoring.Score(card["submission"], card["judge"], criterion["id"], float(value))
            for card in cards
            for criterion in criteria
            if (value := values.get((card["id"], criterion["id"]))) is not None
        ],
    ) if criteria else {}  # fmt: skip
    header = [
        _("Receipt number"),
        _("Organization"),
        _("Judge"),
        _("Judge email"),
        _("Scorecard"),
        _("Finalized at (JST)"),
        *(f"{c['name_ja']} ({c['scale_min']}–{c['scale_max']}, ×{c['weight']:g})" for c in criteria),
        _("Weighted total (0–100)"),
        _("Comment"),
        _("Comment shared with the applicant"),
    ]
    table = [header]
    for card in cards:
        total = totals.get((card["submission"], card["judge"]))
        table.append(
            [
                card["receipt_number"] or "",
                card["organization_name_ja"] or "",
                card["judge_name"] or "",
                card["judge_email"] or "",
                state_name(card["state"]),
                card["finalized_at"].astimezone(TOKYO).strftime("%Y-%m-%d %H:%M")
                if card["finalized_at"]
                else "",
                *(number_text(values.get((card["id"], c["id"]))) for c in criteria),
                f"{total:.2f}" if total is not None else "",
                # Excel breaks lines inside a cell on LF; a CR would show as a stray character.
                card["comment"].replace("\r\n", "\n").replace("\r", "\n"),
                _("Yes") if card["comment_shareable"] else _("No"),
            ]
        )
    return table
