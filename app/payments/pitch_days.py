"""Setting up a challenge's pitch day and its ticket types (by the challenge's bureau)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from litestar.exceptions import NotFoundException

from app.accounts.viewer import Viewer
from app.challenges.lifecycle import PUBLIC_STATUSES, Status
from app.challenges.tables import Challenge
from app.payments import policies
from app.payments.forms import jst_datetime_field, whole_number_field
from app.payments.tables import PitchEvent, Ticket, TicketType
from app.validation import InvalidInput
from app.web.i18n import gettext as _

MAX_PRICE_JPY = 1_000_000
MAX_CAPACITY = 100_000


async def challenge_for_pitch_day(user: Viewer | None, slug: str) -> dict[str, Any]:
    """A challenge the user may see (published, or any for its bureau), with its pitch-day event if any."""
    challenge = await (
        Challenge.select(
            Challenge.id, Challenge.slug, Challenge.bureau, Challenge.status, Challenge.title_ja,
            Challenge.title_en, Challenge.pitch_at,
        )
        .where(Challenge.slug == slug)
        .first()
        .run()
    )  # fmt: skip
    if challenge is None:
        raise NotFoundException
    public = Status(challenge["status"]) in PUBLIC_STATUSES
    if not public and not policies.can_manage_pitch_day(user, challenge["bureau"]):
        raise NotFoundException
    event = await PitchEvent.select().where(PitchEvent.challenge == challenge["id"]).first().run()
    return {**challenge, "event": event}


async def ticket_types_with_sales(event_id: int, now: datetime) -> list[dict[str, Any]]:
    """The event's ticket types with seats taken (two queries, however many types)."""
    types = await TicketType.select().where(TicketType.event == event_id).order_by(TicketType.id).run()
    taken = await seats_taken([row["id"] for row in types], now)
    for row in types:
        row["taken"] = taken.get(row["id"], 0)
        row["left"] = max(row["capacity"] - row["taken"], 0)
        row["on_sale"] = row["sales_open_at"] <= now < row["sales_close_at"]
    return types


# A pending (unpaid) ticket holds its seat this long, so an abandoned checkout frees it again.
HOLD_MINUTES = 30


async def seats_taken(type_ids: list[int], now: datetime) -> dict[int, int]:
    """Valid tickets plus recent pending ones, per ticket type."""
    if not type_ids:
        return {}
    held_since = now - timedelta(minutes=HOLD_MINUTES)
    rows = await (
        Ticket.select(Ticket.ticket_type)
        .where(
            Ticket.ticket_type.is_in(type_ids)
            & (
                (Ticket.status == "valid")
                | ((Ticket.status == "pending") & (Ticket.created_at >= held_since))
            )
        )
        .run()
    )
    counts: dict[int, int] = {}
    for row in rows:
        counts[row["ticket_type"]] = counts.get(row["ticket_type"], 0) + 1
    return counts


def parse_event_form(values: dict[str, str]) -> tuple[datetime | None, str, dict[str, str]]:
    """The start (a JST date and time) and venue, or errors per field."""
    errors: dict[str, str] = {}
    starts_at = jst_datetime_field(values, "starts_at", errors)
    venue = values.get("venue", "")
    if not venue:
        errors["venue"] = _("Enter the venue (or 'online').")
    elif len(venue) > 200:
        errors["venue"] = _("Use at most 200 characters.")
    return starts_at, venue, errors


async def save_pitch_day(user: Viewer | None, slug: str, values: dict[str, str], *, now: datetime) -> int:
    """Create or change the pitch-day event of a challenge; returns its id.

    Raises:
        NotFoundException: no such challenge, or the user does not act for its bureau.
        InvalidInput: the start or venue is missing or malformed (nothing saved).
    """
    challenge = await challenge_for_pitch_day(user, slug)
    if not policies.can_manage_pitch_day(user, challenge["bureau"]) or user is None:
        raise NotFoundException
    starts_at, venue, errors = parse_event_form(values)
    if errors or starts_at is None:
        raise InvalidInput(errors)
    event = challenge["event"]
    if event is not None:
        await (
            PitchEvent.update({PitchEvent.starts_at: starts_at, PitchEvent.venue: venue})
            .where(PitchEvent.id == event["id"])
            .run()
        )
        return int(event["id"])
    rows = await PitchEvent.insert(
        PitchEvent(
            challenge=challenge["id"], starts_at=starts_at, venue=venue, created_by=user.id, created_at=now
        )
    ).run()
    return int(rows[0]["id"])


def parse_ticket_type_form(values: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Name, price, capacity and sales window of a ticket type, or errors per field."""
    errors: dict[str, str] = {}
    name_ja = values.get("name_ja", "")
    if not name_ja:
        errors["name_ja"] = _("Enter the ticket's name.")
    price = whole_number_field(values, "price_jpy", 0, MAX_PRICE_JPY, errors)
    capacity = whole_number_field(values, "capacity", 1, MAX_CAPACITY, errors)
    opens = jst_datetime_field(values, "sales_open_at", errors)
    closes = jst_datetime_field(values, "sales_close_at", errors)
    if opens and closes and closes <= opens:
        errors["sales_close_at"] = _("Sales must end after they start.")
    parsed = {
        "name_ja": name_ja[:100],
        "name_en": values.get("name_en", "")[:100],
        "price_jpy": price,
        "capacity": capacity,
        "sales_open_at": opens,
        "sales_close_at": closes,
    }
    return parsed, errors


async def add_ticket_type(user: Viewer | None, slug: str, values: dict[str, str]) -> int:
    """Add a free or paid ticket type to the challenge's pitch day; returns its id.

    Raises:
        NotFoundException: no such challenge or event, or the user does not act for its bureau.
        InvalidInput: a field is missing or out of range (nothing saved).
    """
    challenge = await challenge_for_pitch_day(user, slug)
    event = challenge["event"]
    if event is None or not policies.can_manage_pitch_day(user, challenge["bureau"]):
        raise NotFoundException
    parsed, errors = parse_ticket_type_form(values)
    if errors:
        raise InvalidInput(errors)
    rows = await TicketType.insert(TicketType(event=event["id"], **parsed)).run()
    return int(rows[0]["id"])
