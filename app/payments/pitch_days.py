"""Setting up a challenge's pitch day and its ticket types (by the challenge's bureau)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from litestar.exceptions import NotFoundException
from piccolo.engine.postgres import PostgresEngine

from app.accounts.viewer import Viewer
from app.challenges.lifecycle import PUBLIC_STATUSES, Status
from app.challenges.tables import Challenge
from app.payments import policies
from app.payments.forms import jst_datetime_field, whole_number_field
from app.payments.tables import PitchEvent, Ticket, TicketType
from app.validation import InvalidInput
from app.web.i18n import gettext as _
from app.web.jst import format_jst_local

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


def setup_values(event: dict[str, Any] | None, entry_fee: dict[str, Any] | None) -> dict[str, str]:
    """What the set-up forms show before anything is typed: the saved event and entry fee."""
    values = {"amount_jpy": str(entry_fee["amount_jpy"]) if entry_fee else "0"}
    if event is not None:
        values["starts_at"] = format_jst_local(event["starts_at"])
        values["venue"] = event["venue"]
    return values


def ticket_type_values(ticket_type: dict[str, Any]) -> dict[str, str]:
    """A saved ticket type as its edit form shows it (dates in Japan time)."""
    return {
        "name_ja": ticket_type["name_ja"],
        "name_en": ticket_type["name_en"],
        "price_jpy": str(ticket_type["price_jpy"]),
        "capacity": str(ticket_type["capacity"]),
        "sales_open_at": format_jst_local(ticket_type["sales_open_at"]),
        "sales_close_at": format_jst_local(ticket_type["sales_close_at"]),
    }


def change_errors(current: dict[str, Any], parsed: dict[str, Any], issued: int, taken: int) -> dict[str, str]:
    """Why an edit of a ticket type cannot be saved given what was sold (pure; empty when it can).

    `issued` counts every ticket ever issued for the type (a price change would make them disagree with
    what their holders paid); `taken` counts the seats held now (valid tickets and unexpired holds).
    """
    errors: dict[str, str] = {}
    if parsed["price_jpy"] != current["price_jpy"] and issued > 0:
        errors["price_jpy"] = _(
            "The price cannot change once tickets have been issued ({count} so far). "
            "Add a new ticket type instead."
        ).format(count=issued)
    if parsed["capacity"] < taken:
        errors["capacity"] = _("The capacity cannot be below the {count} seats already taken.").format(
            count=taken
        )
    return errors


async def managed_ticket_type(
    user: Viewer | None, slug: str, ticket_type_id: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The challenge and one of its pitch day's ticket types, for its bureau only (404 otherwise)."""
    challenge = await challenge_for_pitch_day(user, slug)
    event = challenge["event"]
    if event is None or not policies.can_manage_pitch_day(user, challenge["bureau"]):
        raise NotFoundException
    ticket_type = await (
        TicketType.select()
        .where((TicketType.id == ticket_type_id) & (TicketType.event == event["id"]))
        .first()
        .run()
    )
    if ticket_type is None:
        raise NotFoundException
    return challenge, ticket_type


async def issued_count(ticket_type_id: int) -> int:
    """Tickets ever issued for a type, whatever became of them."""
    count: int = await Ticket.count().where(Ticket.ticket_type == ticket_type_id).run()
    return count


async def locked_ticket_type(ticket_type_id: int) -> dict[str, Any] | None:
    """The type's price and capacity, read under the lock every sale and edit of it takes (in a transaction).

    On PostgreSQL the row is locked (FOR UPDATE), so two buyers of the last seat, or a sale and an edit of
    the type, queue; SQLite write transactions are serialized already.
    """
    if isinstance(TicketType._meta.db, PostgresEngine):
        locked = "SELECT price_jpy, capacity FROM ticket_type WHERE id = {} FOR UPDATE"
        rows = await TicketType.raw(locked, ticket_type_id).run()
    else:
        columns = (TicketType.price_jpy, TicketType.capacity)
        rows = await TicketType.select(*columns).where(TicketType.id == ticket_type_id).run()
    return rows[0] if rows else None


async def update_ticket_type(
    user: Viewer | None, slug: str, ticket_type_id: int, values: dict[str, str], *, now: datetime
) -> None:
    """Change a ticket type: name and sales window always; the price while none was issued; the capacity
    never below the seats taken.

    Raises:
        NotFoundException: no such challenge or ticket type, or the user does not act for its bureau.
        InvalidInput: a field is missing, out of range or refused by what was sold (nothing saved).
    """
    await managed_ticket_type(user, slug, ticket_type_id)
    parsed, errors = parse_ticket_type_form(values)
    if errors:
        raise InvalidInput(errors)
    async with TicketType._meta.db.transaction():
        # Read under the lock: the price compared is the one buyers are paying now.
        current = await locked_ticket_type(ticket_type_id)
        if current is None:
            raise NotFoundException
        issued = await issued_count(ticket_type_id)
        taken = (await seats_taken([ticket_type_id], now)).get(ticket_type_id, 0)
        errors = change_errors(current, parsed, issued, taken)
        if errors:
            raise InvalidInput(errors)
        await (
            TicketType.update({getattr(TicketType, name): value for name, value in parsed.items()})
            .where(TicketType.id == ticket_type_id)
            .run()
        )


async def remove_ticket_type(user: Viewer | None, slug: str, ticket_type_id: int) -> None:
    """Remove a ticket type nobody holds a ticket of.

    Raises:
        NotFoundException: no such challenge or ticket type, or the user does not act for its bureau.
        InvalidInput: tickets of the type were issued (nothing removed).
    """
    await managed_ticket_type(user, slug, ticket_type_id)
    async with TicketType._meta.db.transaction():
        await locked_ticket_type(ticket_type_id)
        issued = await issued_count(ticket_type_id)
        if issued:
            raise InvalidInput(
                {
                    "form": _(
                        "This ticket type cannot be removed: {count} tickets were issued. "
                        "Close its sales instead by moving the sales end."
                    ).format(count=issued)
                }
            )
        await TicketType.delete().where(TicketType.id == ticket_type_id).run()
