"""Setting up a pitch day: forms filled with what is saved, ticket types edited and removed within what
their sales allow, nothing half-saved, and only the challenge's bureau may do any of it."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.payments.pitch_days import change_errors
from app.payments.tables import EntryFee, PitchEvent, Ticket, TicketType
from app.web import i18n
from app.web.jst import format_jst_local
from tests.payments.conftest import PitchDay
from tests.support.client import WebClient
from tests.support.people import make_organization, make_user

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


def form(**changes: str) -> dict[str, str]:
    """A valid ticket type form (a Japan-time sales window), with `changes`."""
    values = {
        "name_ja": "一般（変更後）",
        "name_en": "General (changed)",
        "price_jpy": "0",
        "capacity": "50",
        "sales_open_at": "2026-11-01T10:00",
        "sales_close_at": "2026-12-20T18:00",
    }
    return {**values, **changes}


async def ticket_type(type_id: int) -> dict[str, Any]:
    """The stored ticket type."""
    row = await TicketType.select().where(TicketType.id == type_id).first().run()
    assert row is not None
    return row


async def register(client: WebClient, pitch_day: PitchDay, type_id: int) -> None:
    """The attendee takes a ticket of `type_id` (a free one is valid at once)."""
    await client.sign_in(pitch_day.attendee.email, pitch_day.attendee.password)
    response = await client.post(
        f"/challenges/{pitch_day.slug}/pitch-day/register", {"ticket_type": str(type_id)}
    )
    assert response.status_code == 303, response.text


def edit_url(pitch_day: PitchDay, type_id: int) -> str:
    """The edit page (and form action) of a ticket type."""
    return f"/challenges/{pitch_day.slug}/pitch-day/ticket-types/{type_id}"


# What a sale allows (pure).

CURRENT = {"price_jpy": 1000, "capacity": 50}


def parsed(price: int = 1000, capacity: int = 50) -> dict[str, Any]:
    """A parsed form with this price and capacity."""
    return {"price_jpy": price, "capacity": capacity}


def test_nothing_issued_allows_any_price_and_capacity() -> None:
    assert change_errors(CURRENT, parsed(price=0, capacity=1), issued=0, taken=0) == {}


def test_the_price_is_fixed_once_a_ticket_was_issued_even_if_it_was_cancelled() -> None:
    assert set(change_errors(CURRENT, parsed(price=2000), issued=1, taken=0)) == {"price_jpy"}
    assert change_errors(CURRENT, parsed(price=1000, capacity=10), issued=3, taken=3) == {}


def test_the_capacity_may_go_down_to_the_seats_taken_but_not_below() -> None:
    assert change_errors(CURRENT, parsed(capacity=3), issued=3, taken=3) == {}
    token = i18n.current_locale.set("en")  # the message is read in the request's language
    try:
        errors = change_errors(CURRENT, parsed(capacity=2), issued=3, taken=3)
    finally:
        i18n.current_locale.reset(token)
    assert errors == {"capacity": "The capacity cannot be below the 3 seats already taken."}


# Prefilled forms.


async def test_the_set_up_forms_show_the_saved_event_and_entry_fee(
    pay_client: WebClient, pitch_day: PitchDay
) -> None:
    await EntryFee.insert(
        EntryFee(
            challenge=pitch_day.challenge_id,
            amount_jpy=3000,
            set_by=pitch_day.official.id,
            set_at=NOW,
        )
    ).run()
    event = await PitchEvent.select().where(PitchEvent.id == pitch_day.event_id).first().run()
    assert event is not None
    await pay_client.sign_in(pitch_day.official.email, pitch_day.official.password)
    page = await pay_client.get(f"/challenges/{pitch_day.slug}/pitch-day")
    assert page.status_code == 200
    assert f'value="{format_jst_local(event["starts_at"])}"' in page.text
    assert 'value="都庁第一本庁舎"' in page.text
    assert re.search(r'id="field-amount_jpy" name="amount_jpy"[^>]*value="3000"', page.text)
    assert f'href="{edit_url(pitch_day, pitch_day.paid_type)}"' in page.text


async def test_a_refused_event_form_keeps_what_was_typed_and_saves_nothing(
    pay_client: WebClient, pitch_day: PitchDay
) -> None:
    await pay_client.sign_in(pitch_day.official.email, pitch_day.official.password)
    response = await pay_client.post(
        f"/challenges/{pitch_day.slug}/pitch-day", {"starts_at": "not a date", "venue": "オンライン"}
    )
    assert response.status_code == 422
    assert 'value="オンライン"' in response.text
    assert "Enter a date and time." in response.text
    event = await PitchEvent.select().where(PitchEvent.id == pitch_day.event_id).first().run()
    assert event is not None
    assert event["venue"] == "都庁第一本庁舎"


async def test_visitors_see_no_edit_links(pay_client: WebClient, pitch_day: PitchDay) -> None:
    await pay_client.sign_in(pitch_day.attendee.email, pitch_day.attendee.password)
    page = await pay_client.get(f"/challenges/{pitch_day.slug}/pitch-day")
    assert "/pitch-day/ticket-types/" not in page.text
    assert "Set up the pitch day" not in page.text


# Editing ticket types.


async def test_an_unsold_ticket_type_can_change_everything(
    pay_client: WebClient, pitch_day: PitchDay
) -> None:
    await pay_client.sign_in(pitch_day.official.email, pitch_day.official.password)
    page = await pay_client.get(edit_url(pitch_day, pitch_day.paid_type))
    assert page.status_code == 200
    assert 'value="懇親会付き"' in page.text
    assert 'value="1000"' in page.text
    before = await ticket_type(pitch_day.paid_type)
    assert f'value="{format_jst_local(before["sales_close_at"])}"' in page.text

    response = await pay_client.post(
        edit_url(pitch_day, pitch_day.paid_type), form(price_jpy="2,500円", capacity="10")
    )
    assert response.status_code == 303, response.text
    after = await ticket_type(pitch_day.paid_type)
    assert after["name_ja"] == "一般（変更後）"
    assert after["name_en"] == "General (changed)"
    assert after["price_jpy"] == 2500
    assert after["capacity"] == 10
    assert after["sales_open_at"] == datetime(2026, 11, 1, 1, 0, tzinfo=UTC)  # 10:00 JST
    assert after["sales_close_at"] == datetime(2026, 12, 20, 9, 0, tzinfo=UTC)  # 18:00 JST


async def test_once_a_ticket_is_issued_the_price_is_refused_and_nothing_is_half_saved(
    pay_client: WebClient, official_client: WebClient, pitch_day: PitchDay
) -> None:
    await register(pay_client, pitch_day, pitch_day.free_type)
    before = await ticket_type(pitch_day.free_type)
    await official_client.sign_in(pitch_day.official.email, pitch_day.official.password)
    page = await official_client.get(edit_url(pitch_day, pitch_day.free_type))
    assert 'id="tickets-issued">1<' in page.text
    assert "cannot be removed" in page.text

    # A new name with a new price: the price is refused, so the name is not saved either.
    response = await official_client.post(edit_url(pitch_day, pitch_day.free_type), form(price_jpy="500"))
    assert response.status_code == 422
    assert "The price cannot change once tickets have been issued (1 so far)." in response.text
    assert 'value="一般（変更後）"' in response.text  # what was typed is kept
    assert await ticket_type(pitch_day.free_type) == before

    # The same price with a new name, capacity and window is fine.
    fine = await official_client.post(edit_url(pitch_day, pitch_day.free_type), form(capacity="1"))
    assert fine.status_code == 303, fine.text
    after = await ticket_type(pitch_day.free_type)
    assert (after["name_ja"], after["capacity"], after["price_jpy"]) == ("一般（変更後）", 1, 0)


async def issue(pitch_day: PitchDay, type_id: int, email: str, status: str = "valid") -> None:
    """A ticket of `type_id` held by a new person (as registration writes it)."""
    holder = await make_user(email)
    await Ticket.insert(
        Ticket(
            ticket_type=type_id,
            holder=holder.id,
            code=email[:4].upper() + "-0000",
            status=status,
            created_at=datetime.now(UTC),
        )
    ).run()


async def test_the_capacity_cannot_go_below_the_seats_taken(
    pay_client: WebClient, pitch_day: PitchDay
) -> None:
    await issue(pitch_day, pitch_day.free_type, "aaaa@example.com")
    await issue(pitch_day, pitch_day.free_type, "bbbb@example.com")
    await issue(pitch_day, pitch_day.free_type, "cccc@example.com", status="cancelled")  # frees its seat
    before = await ticket_type(pitch_day.free_type)
    await pay_client.sign_in(pitch_day.official.email, pitch_day.official.password)
    response = await pay_client.post(edit_url(pitch_day, pitch_day.free_type), form(capacity="1"))
    assert response.status_code == 422
    assert "The capacity cannot be below the 2 seats already taken." in response.text
    assert await ticket_type(pitch_day.free_type) == before
    assert (
        await pay_client.post(edit_url(pitch_day, pitch_day.free_type), form(capacity="2"))
    ).status_code == 303
    assert (await ticket_type(pitch_day.free_type))["capacity"] == 2


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name_ja": ""}, "name_ja", "Enter the ticket&#39;s name."),
        ({"capacity": "0"}, "capacity", "Enter a number from 1 to 100,000."),
        ({"price_jpy": "千円"}, "price_jpy", "Enter a whole number."),
        ({"sales_close_at": "2026-10-01T10:00"}, "sales_close_at", "Sales must end after they start."),
        ({"sales_open_at": ""}, "sales_open_at", "Enter a date and time."),
    ],
)
async def test_a_bad_field_is_named_and_nothing_is_saved(
    pay_client: WebClient, pitch_day: PitchDay, changes: dict[str, str], field: str, message: str
) -> None:
    before = await ticket_type(pitch_day.paid_type)
    await pay_client.sign_in(pitch_day.official.email, pitch_day.official.password)
    response = await pay_client.post(edit_url(pitch_day, pitch_day.paid_type), form(**changes))
    assert response.status_code == 422
    assert f'id="field-{field}-error">{message}<' in response.text
    assert await ticket_type(pitch_day.paid_type) == before


async def test_an_unsold_ticket_type_can_be_removed(pay_client: WebClient, pitch_day: PitchDay) -> None:
    await pay_client.sign_in(pitch_day.official.email, pitch_day.official.password)
    response = await pay_client.post(f"{edit_url(pitch_day, pitch_day.paid_type)}/delete")
    assert response.status_code == 303
    assert await TicketType.count().where(TicketType.id == pitch_day.paid_type).run() == 0
    assert (await pay_client.get(edit_url(pitch_day, pitch_day.paid_type))).status_code == 404
    page = await pay_client.get(f"/challenges/{pitch_day.slug}/pitch-day")
    assert "懇親会付き" not in page.text


async def test_a_ticket_type_with_issued_tickets_is_not_removed(
    pay_client: WebClient, pitch_day: PitchDay
) -> None:
    await issue(pitch_day, pitch_day.paid_type, "dddd@example.com", status="cancelled")
    await pay_client.sign_in(pitch_day.official.email, pitch_day.official.password)
    response = await pay_client.post(f"{edit_url(pitch_day, pitch_day.paid_type)}/delete")
    assert response.status_code == 422
    assert "This ticket type cannot be removed: 1 tickets were issued." in response.text
    assert await TicketType.count().where(TicketType.id == pitch_day.paid_type).run() == 1


# Who may do it.


async def startup_owner() -> tuple[str, str]:
    """A startup's owner (email, password)."""
    owner = await make_user("founder@startup.example")
    await make_organization(owner)
    return owner.email, owner.password


@pytest.mark.parametrize("who", ["outsider_official", "startup", "attendee"])
async def test_only_the_bureau_edits_or_removes_ticket_types(
    pay_client: WebClient, pitch_day: PitchDay, who: str
) -> None:
    if who == "startup":
        email, password = await startup_owner()
    else:
        person = getattr(pitch_day, who)
        email, password = person.email, person.password
    before = await ticket_type(pitch_day.paid_type)
    await pay_client.sign_in(email, password)
    url = edit_url(pitch_day, pitch_day.paid_type)
    assert (await pay_client.get(url)).status_code == 404
    assert (await pay_client.post(url, form(price_jpy="1"))).status_code == 404
    assert (await pay_client.post(f"{url}/delete")).status_code == 404
    assert (
        await pay_client.post(
            f"/challenges/{pitch_day.slug}/pitch-day", {"starts_at": "2027-01-01T10:00", "venue": "x"}
        )
    ).status_code == 404
    assert (
        await pay_client.post(f"/challenges/{pitch_day.slug}/pitch-day/ticket-types", form())
    ).status_code == 404
    assert await ticket_type(pitch_day.paid_type) == before
    assert await TicketType.count().run() == 2
    event = await PitchEvent.select().where(PitchEvent.id == pitch_day.event_id).first().run()
    assert event is not None
    assert event["venue"] == "都庁第一本庁舎"


async def test_anonymous_visitors_are_sent_to_sign_in_and_change_nothing(
    pay_client: WebClient, pitch_day: PitchDay
) -> None:
    before = await ticket_type(pitch_day.paid_type)
    url = edit_url(pitch_day, pitch_day.paid_type)
    for response in (
        await pay_client.get(url),
        await pay_client.post(url, form(price_jpy="1")),
        await pay_client.post(f"{url}/delete"),
    ):
        assert response.status_code == 303
        assert response.headers["location"].startswith("/signin")
    assert await ticket_type(pitch_day.paid_type) == before


async def test_a_ticket_type_of_another_challenge_is_not_found_here(
    pay_client: WebClient, pitch_day: PitchDay
) -> None:
    """The official of the bureau cannot reach another event's type through their own challenge's URL."""
    other_event = await PitchEvent.insert(
        PitchEvent(
            challenge=await other_challenge(pitch_day),
            starts_at=NOW + timedelta(days=30),
            venue="港湾局",
            created_by=pitch_day.official.id,
            created_at=NOW,
        )
    ).run()
    foreign = await TicketType.insert(
        TicketType(
            event=other_event[0]["id"],
            name_ja="他",
            name_en="Other",
            price_jpy=0,
            capacity=5,
            sales_open_at=NOW,
            sales_close_at=NOW + timedelta(days=1),
        )
    ).run()
    await pay_client.sign_in(pitch_day.official.email, pitch_day.official.password)
    url = edit_url(pitch_day, foreign[0]["id"])
    assert (await pay_client.get(url)).status_code == 404
    assert (await pay_client.post(f"{url}/delete")).status_code == 404
    assert await TicketType.count().where(TicketType.id == foreign[0]["id"]).run() == 1


async def other_challenge(pitch_day: PitchDay) -> int:
    """A second challenge of another bureau."""
    from tests.challenges.factories import make_challenge
    from tests.support.people import make_bureau

    bureau = await make_bureau("port")
    return await make_challenge(
        bureau_id=bureau, author_id=pitch_day.official.id, slug="port-logistics", now=NOW
    )


async def test_a_sale_and_a_capacity_cut_at_once_never_oversell(
    pay_client: WebClient, official_client: WebClient, pitch_day: PitchDay
) -> None:
    """Both take the ticket type's lock: either the seat is sold and the cut refused, or the reverse."""
    await TicketType.update({TicketType.capacity: 2}).where(TicketType.id == pitch_day.free_type).run()
    await issue(pitch_day, pitch_day.free_type, "eeee@example.com")
    await pay_client.sign_in(pitch_day.attendee.email, pitch_day.attendee.password)
    await official_client.sign_in(pitch_day.official.email, pitch_day.official.password)
    sale, cut = await asyncio.gather(
        pay_client.post(
            f"/challenges/{pitch_day.slug}/pitch-day/register", {"ticket_type": str(pitch_day.free_type)}
        ),
        official_client.post(edit_url(pitch_day, pitch_day.free_type), form(capacity="1")),
    )
    assert sorted([sale.status_code, cut.status_code]) == [303, 422]
    capacity = (await ticket_type(pitch_day.free_type))["capacity"]
    valid = (
        await Ticket.count()
        .where((Ticket.ticket_type == pitch_day.free_type) & (Ticket.status == "valid"))
        .run()
    )
    assert valid <= capacity
