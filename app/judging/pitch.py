"""Pitch day: a time slot per finalist (a place or an online meeting) and its calendar invitation."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from icalendar import Calendar, Event
from litestar.exceptions import NotFoundException

from app.accounts.viewer import Viewer
from app.challenges.feeds import calendar
from app.judging import audit
from app.judging.facts import round_with_challenge
from app.judging.policies import can_manage_judging
from app.judging.tables import PitchSlot
from app.submissions.state import SubmissionStatus
from app.submissions.tables import Submission
from app.validation import InvalidInput
from app.web.i18n import gettext as _
from app.web.jst import parse_jst_local

PLACE_MAX_CHARS = 200
URL_MAX_CHARS = 500
ADVANCED = SubmissionStatus.ADVANCED.value
SLOT_COLUMNS = (
    *PitchSlot.all_columns(),
    PitchSlot.round.name_ja.as_alias("round_name_ja"),
    PitchSlot.round.name_en.as_alias("round_name_en"),
    PitchSlot.submission.organization.as_alias("organization"),
    PitchSlot.submission.receipt_number.as_alias("receipt_number"),
    PitchSlot.round._.challenge._.id.as_alias("challenge_id"),
    PitchSlot.round._.challenge._.slug.as_alias("challenge_slug"),
    PitchSlot.round._.challenge._.bureau.as_alias("challenge_bureau"),
    PitchSlot.round._.challenge._.title_ja.as_alias("challenge_title_ja"),
    PitchSlot.round._.challenge._.title_en.as_alias("challenge_title_en"),
)


async def finalists(challenge_id: int) -> list[dict[str, Any]]:
    """The applications that advanced to pitch day, by receipt number."""
    rows: list[dict[str, Any]] = await (
        Submission.select(
            Submission.id,
            Submission.receipt_number,
            Submission.organization.name_ja.as_alias("organization_name_ja"),
            Submission.organization.name_en.as_alias("organization_name_en"),
        )
        .where(
            (Submission.challenge == challenge_id) & (Submission.status == SubmissionStatus.ADVANCED.value)
        )
        .order_by(Submission.receipt_number)
        .run()
    )
    return rows


async def round_slots(round_id: int) -> dict[int, dict[str, Any]]:
    """The round's slots by submission id."""
    rows = await PitchSlot.select().where(PitchSlot.round == round_id).order_by(PitchSlot.starts_at).run()
    return {row["submission"]: row for row in rows}


async def slot_by_id(slot_id: int) -> dict[str, Any] | None:
    """One slot with its round, challenge and the applicant organization."""
    row: dict[str, Any] | None = (
        await PitchSlot.select(*SLOT_COLUMNS).where(PitchSlot.id == slot_id).first().run()
    )
    return row


async def slots_for_submission(submission_id: int) -> list[dict[str, Any]]:
    """The submission's pitch slots (for templates/judging/_pitch_slot.html on the application page)."""
    rows: list[dict[str, Any]] = await (
        PitchSlot.select(*SLOT_COLUMNS)
        .where(PitchSlot.submission == submission_id)
        .order_by(PitchSlot.starts_at)
        .run()
    )
    return rows


def slot_values(form: Mapping[str, str]) -> dict[str, Any]:
    """Start, end (JST inputs), place and meeting URL from the form; InvalidInput lists every problem."""
    errors: dict[str, str] = {}
    times: dict[str, datetime] = {}
    for name in ("starts_at", "ends_at"):
        try:
            times[name] = parse_jst_local(form.get(name, ""))
        except ValueError:
            errors[name] = _("Enter a date and time.")
    if len(times) == 2 and times["ends_at"] <= times["starts_at"]:
        errors["ends_at"] = _("The end must be after the start.")
    place = form.get("place", "").strip()
    meeting_url = form.get("meeting_url", "").strip()
    if len(place) > PLACE_MAX_CHARS:
        errors["place"] = _("Use at most 200 characters.")
    if meeting_url and (
        urlsplit(meeting_url).scheme not in {"https", "http"}
        or not urlsplit(meeting_url).netloc
        or len(meeting_url) > URL_MAX_CHARS
    ):
        errors["meeting_url"] = _("Enter a web address starting with https://.")
    if not place and not meeting_url:
        errors["place"] = _("Give a place or an online meeting address.")
    if errors:
        raise InvalidInput(errors)
    return {**times, "place": place, "meeting_url": meeting_url}


async def save_slot(
    user: Viewer | None, round_id: int, submission_id: int, form: Mapping[str, str], *, now: datetime
) -> int:
    """Set (or move) a finalist's slot in a pitch round; returns the slot id.

    Raises:
        NotFoundException: not a pitch round the user manages, or not one of its finalists.
        InvalidInput: the times, place or address are missing or wrong.
    """
    values = slot_values(form)
    async with PitchSlot._meta.db.transaction():
        round_row, facts = await round_with_challenge(round_id)
        if user is None or not can_manage_judging(user, facts) or round_row["kind"] != "pitch":
            raise NotFoundException
        if submission_id not in {row["id"] for row in await finalists(facts.id)}:
            raise NotFoundException
        existing = await (
            PitchSlot.select(PitchSlot.id)
            .where((PitchSlot.round == round_id) & (PitchSlot.submission == submission_id))
            .first()
            .run()
        )
        if existing is None:
            rows = await PitchSlot.insert(PitchSlot(round=round_id, submission=submission_id, **values)).run()
            slot_id = int(rows[0]["id"])
        else:
            slot_id = int(existing["id"])
            await PitchSlot.update(dict[Any, Any](values)).where(PitchSlot.id == slot_id).run()
        await audit.record(
            "pitch.slot_saved",
            actor=user.id,
            challenge=facts.id,
            subject=f"pitch_slot:{slot_id}",
            details={
                "submission": submission_id,
                "starts_at": values["starts_at"].isoformat(),
                "ends_at": values["ends_at"].isoformat(),
                "place": values["place"],
                "meeting_url": values["meeting_url"],
            },
            now=now,
        )
    return slot_id


def slot_calendar(slot: Mapping[str, Any], base_url: str, now: datetime) -> Calendar:
    """The invitation to one slot; its UID stays the same, so a moved slot updates the calendar entry."""
    cal = calendar(f"協創: {slot['challenge_title_ja']}")
    event = Event()
    event.add("uid", f"pitch-slot-{slot['id']}@kyoso")
    event.add("dtstamp", now.replace(microsecond=0))
    event.add("dtstart", slot["starts_at"])
    event.add("dtend", slot["ends_at"])
    event.add("summary", f"{slot['round_name_ja']}: {slot['challenge_title_ja']}")
    event.add("location", slot["place"] or slot["meeting_url"])
    lines = [slot["challenge_title_ja"], f"受付番号 {slot['receipt_number'] or ''}"]
    if slot["meeting_url"]:
        lines.append(slot["meeting_url"])
        event.add("url", slot["meeting_url"])
    lines.append(f"{base_url}/submissions/{slot['submission']}")
    event.add("description", "\n".join(lines))
    cal.add_component(event)
    return cal
