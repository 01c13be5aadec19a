"""Adoptions (who reuses an output) and shared problems (同じ課題があります): record, confirm, list."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from litestar.exceptions import NotFoundException, PermissionDeniedException
from piccolo.engine.postgres import PostgresEngine

from app.accounts.policies import can_act_for_bureau
from app.accounts.tables import Membership
from app.accounts.viewer import Viewer
from app.catalog import policies
from app.catalog.codes import CodeProblem, code_problem
from app.catalog.facts import member_municipalities
from app.catalog.municipalities import display_name, municipalities_of, municipality_by_code
from app.catalog.policies import OutputFacts
from app.catalog.tables import Adoption, AdoptionEvent, Output, SharedProblem
from app.challenges.lifecycle import PUBLIC_STATUSES
from app.challenges.tables import Challenge
from app.notifications.outbox import notify_users
from app.search.changes import record_search_change
from app.validation import InvalidInput
from app.web.i18n import gettext as _

STATUSES = ("adopted", "evaluating", "stopped")
COUNTED_STATUS = "adopted"  # Output.adoption_count: confirmed adoptions in use (the catalogue's reuse sort)
MAX_URL_LENGTH = 500
MAX_NOTE_LENGTH = 1000

try:  # asyncpg is installed with the PostgreSQL extra only
    from asyncpg.exceptions import UniqueViolationError
except ImportError:  # pragma: no cover
    UniqueViolationError = sqlite3.IntegrityError

DUPLICATE_ERRORS: tuple[type[BaseException], ...] = (sqlite3.IntegrityError, UniqueViolationError)


class NotAnOfficial(InvalidInput):
    """The user does not act for the municipality named (a 403 with the message beside the field)."""


def url_problem(text: str, *, required: bool) -> str | None:
    """Why a typed address is refused (only http and https links are shown to others), or None."""
    if not text:
        return _("Enter the address.") if required else None
    if len(text) > MAX_URL_LENGTH:
        return _("The address is too long.")
    parts = urlsplit(text)
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc or any(ch.isspace() for ch in text):
        return _("Enter an address starting with https:// or http://.")
    return None


def code_message(problem: CodeProblem) -> str:
    """The message for a mistyped municipality code."""
    if problem is CodeProblem.WRONG_CHECK_DIGIT:
        return _("The check digit (the sixth digit) is wrong: check the code.")
    return _("Enter the six-digit local government code (全国地方公共団体コード).")


def check_adoption_form(values: Mapping[str, str]) -> dict[str, str]:
    """Errors of the adoption form that need no database, by field."""
    errors: dict[str, str] = {}
    problem = code_problem(values.get("municipality_code", ""))
    if problem is not None:
        errors["municipality_code"] = code_message(problem)
    if values.get("status") not in STATUSES:
        errors["status"] = _("Choose adopted, evaluating or stopped.")
    status = values.get("status")
    deployment = url_problem(values.get("deployment_url", ""), required=status == "adopted")
    if deployment:
        errors["deployment_url"] = deployment
    fork = url_problem(values.get("fork_url", ""), required=False)
    if fork:
        errors["fork_url"] = fork
    return errors


async def lock_output(output_id: int) -> None:
    """Serialize changes to one output's adoptions so its count is recomputed from committed rows.

    On PostgreSQL a row lock; SQLite already runs one write transaction at a time.
    """
    if isinstance(Output._meta.db, PostgresEngine):
        await Output.select(Output.id).where(Output.id == output_id).lock_rows("UPDATE").run()


async def refresh_adoption_count(output_id: int) -> int:
    """Recount confirmed adoptions in use and store the figure on the output (call inside the transaction)."""
    count = int(
        await Adoption.count()
        .where(
            (Adoption.output == output_id)
            & Adoption.confirmed_at.is_not_null()
            & (Adoption.status == COUNTED_STATUS)
        )
        .run()
    )
    await Output.update({Output.adoption_count: count}).where(Output.id == output_id).run()
    return count


async def maintainer_user_ids(output: OutputFacts) -> list[int]:
    """Who confirms adoptions: the maintainer organization's members, else the entry's author."""
    if output.maintainer_organization_id is None:
        return [output.created_by]
    rows = (
        await Membership.select(Membership.user)
        .where(Membership.organization == output.maintainer_organization_id)
        .run()
    )
    return [row["user"] for row in rows] or [output.created_by]


async def record_adoption(
    user: Viewer | None,
    output: OutputFacts,
    output_row: Mapping[str, Any],
    values: Mapping[str, str],
    *,
    now: datetime,
) -> int:
    """Record (or, with `change=1`, update) what a municipality did with a published output; its id.

    Raises:
        InvalidInput: a bad code, status or address; an unknown municipality; a duplicate record.
        NotAnOfficial: the user does not act for that municipality.
    """
    if output.status != "published":
        raise NotFoundException
    municipalities = await member_municipalities(user)
    if not policies.may_record_adoptions(user, municipalities):
        raise NotAnOfficial({"municipality_code": _("Only officials of a municipality can say this.")})
    errors = check_adoption_form(values)
    if errors:
        raise InvalidInput(errors)
    municipality = await municipality_by_code(values["municipality_code"])
    if municipality is None:
        # A code can pass the check digit and still not exist (remainders 0 and 10 share check digit 1).
        raise InvalidInput({"municipality_code": _("No municipality has this code.")})
    if not policies.can_record_adoption(user, municipalities, municipality["id"]):
        raise NotAnOfficial(
            {"municipality_code": _("You are not registered as an official of this municipality.")}
        )
    if user is None:  # the policy already refuses anonymous visitors; this narrows the type
        raise NotFoundException
    pair = f"{output.id}:{municipality['id']}"
    status = values["status"]
    changing = values.get("change") == "1"
    try:
        async with Adoption._meta.db.transaction():
            await lock_output(output.id)
            existing = (
                await Adoption.select(Adoption.id, Adoption.status)
                .where(Adoption.one_per_pair == pair)
                .first()
                .run()
            )
            if existing is not None and not changing:
                raise InvalidInput(
                    {
                        "form": _(
                            "Your municipality's use of this software is already recorded: change its status."
                        )
                    }
                )
            if existing is None:
                rows = await Adoption.insert(
                    Adoption(
                        output=output.id,
                        municipality=municipality["id"],
                        status=status,
                        deployment_url=values.get("deployment_url", ""),
                        fork_url=values.get("fork_url", ""),
                        recorded_by=user.id,
                        recorded_at=now,
                        updated_at=now,
                        one_per_pair=pair,
                    )
                ).run()
                adoption_id = int(rows[0]["id"])
                await AdoptionEvent.insert(
                    AdoptionEvent(adoption=adoption_id, status=status, happened_at=now, actor=user.id)
                ).run()
                await notify_users(
                    "adoption_recorded",
                    await maintainer_user_ids(output),
                    {
                        "output_name": output_row["name"],
                        "output_slug": output_row["slug"],
                        "municipality": display_name(municipality),
                        "municipality_code": municipality["code"],
                        "status": status,
                        "deployment_url": values.get("deployment_url", ""),
                    },
                    link=f"/catalog/{output_row['slug']}#adoptions",
                    now=now,
                    dedupe_key=f"adoption_recorded:{adoption_id}:{{user}}",
                )
            else:
                adoption_id = int(existing["id"])
                await (
                    Adoption.update(
                        {
                            Adoption.status: status,
                            Adoption.deployment_url: values.get("deployment_url", ""),
                            Adoption.fork_url: values.get("fork_url", ""),
                            Adoption.updated_at: now,
                        }
                    )
                    .where(Adoption.id == adoption_id)
                    .run()
                )
                if existing["status"] != status:
                    await AdoptionEvent.insert(
                        AdoptionEvent(adoption=adoption_id, status=status, happened_at=now, actor=user.id)
                    ).run()
            await refresh_adoption_count(output.id)
            await record_search_change("output", output.id, now=now)
    except DUPLICATE_ERRORS as error:
        # Two officials of one municipality submitting at once: the UNIQUE pair keeps one record.
        raise InvalidInput(
            {"form": _("Your municipality's use of this software is already recorded: change its status.")}
        ) from error
    return adoption_id


async def confirm_adoption(
    user: Viewer | None, output: OutputFacts, adoption_id: int, *, now: datetime
) -> None:
    """The maintainer confirms an adoption of their output (confirming twice changes nothing).

    Raises:
        NotFoundException: no such adoption of this output.
        PermissionDeniedException: the user is not the output's maintainer (nor an admin).
    """
    if not policies.can_confirm_adoption(user, output):
        raise PermissionDeniedException(_("Only the maintainer of this software confirms its adoptions."))
    if user is None:  # the policy already refuses anonymous visitors; this narrows the type
        raise NotFoundException
    async with Adoption._meta.db.transaction():
        await lock_output(output.id)
        adoption = (
            await Adoption.select(Adoption.id, Adoption.confirmed_at)
            .where((Adoption.id == adoption_id) & (Adoption.output == output.id))
            .first()
            .run()
        )
        if adoption is None:
            raise NotFoundException
        if adoption["confirmed_at"] is not None:
            return
        await (
            Adoption.update({Adoption.confirmed_by: user.id, Adoption.confirmed_at: now})
            .where(Adoption.id == adoption_id)
            .run()
        )
        await AdoptionEvent.insert(
            AdoptionEvent(adoption=adoption_id, status="confirmed", happened_at=now, actor=user.id)
        ).run()
        await refresh_adoption_count(output.id)
        await record_search_change("output", output.id, now=now)


async def mark_shared_problem(
    user: Viewer | None, challenge_slug: str, values: Mapping[str, str], *, now: datetime
) -> str:
    """同じ課題があります: an official says their municipality has this published challenge's problem.

    Returns the municipality's name. Raises NotFoundException (no such public challenge), NotAnOfficial
    (not an official of that municipality), InvalidInput (bad code, too long a note, already marked).
    """
    challenge = (
        await Challenge.select(Challenge.id, Challenge.status)
        .where(Challenge.slug == challenge_slug)
        .first()
        .run()
    )
    if challenge is None or challenge["status"] not in {status.value for status in PUBLIC_STATUSES}:
        raise NotFoundException
    members = await member_municipalities(user)
    if not policies.can_mark_shared_problem(user, members):
        raise NotAnOfficial({"municipality_code": _("Only officials of a municipality can say this.")})
    if user is None:  # the policy already refuses anonymous visitors; this narrows the type
        raise NotFoundException
    errors: dict[str, str] = {}
    problem = code_problem(values.get("municipality_code", ""))
    if problem is not None:
        errors["municipality_code"] = code_message(problem)
    note = values.get("note", "")
    if len(note) > MAX_NOTE_LENGTH:
        errors["note"] = _("Keep the note under %(count)s characters.") % {"count": MAX_NOTE_LENGTH}
    if errors:
        raise InvalidInput(errors)
    municipality = await municipality_by_code(values["municipality_code"])
    if municipality is None:
        raise InvalidInput({"municipality_code": _("No municipality has this code.")})
    if municipality["id"] not in members:
        raise NotAnOfficial(
            {"municipality_code": _("You are not registered as an official of this municipality.")}
        )
    pair = f"{challenge['id']}:{municipality['id']}"
    already = _("Your municipality has already said it has this problem.")
    try:
        async with SharedProblem._meta.db.transaction():
            if await SharedProblem.exists().where(SharedProblem.one_per_pair == pair):
                raise InvalidInput({"form": already})
            await SharedProblem.insert(
                SharedProblem(
                    challenge=challenge["id"],
                    municipality=municipality["id"],
                    note=note,
                    marked_by=user.id,
                    marked_at=now,
                    one_per_pair=pair,
                )
            ).run()
    except DUPLICATE_ERRORS as error:
        raise InvalidInput({"form": already}) from error
    return display_name(municipality)


async def shared_problems_for(
    user: Viewer | None, challenge: Mapping[str, Any]
) -> list[dict[str, Any]] | None:
    """The municipalities sharing a challenge's problem, for its bureau's officials (None for anyone else).

    `challenge` needs "id" and "bureau". One query; include templates/catalog/_shared_problems.html with
    `shared_problems` set to the result.
    """
    if not can_act_for_bureau(user, challenge["bureau"]):
        return None
    rows: list[dict[str, Any]] = (
        await SharedProblem.select(
            SharedProblem.note,
            SharedProblem.marked_at,
            SharedProblem.municipality.code.as_alias("code"),
            SharedProblem.municipality.prefecture.as_alias("prefecture"),
            SharedProblem.municipality.name.as_alias("name"),
            SharedProblem.marked_by.email.as_alias("email"),
        )
        .where(SharedProblem.challenge == challenge["id"])
        .order_by(SharedProblem.marked_at)
        .run()
    )
    return rows


async def same_problem_context(user: Viewer | None, challenge: Mapping[str, Any]) -> dict[str, Any]:
    """What templates/catalog/_shared_problems.html needs on a challenge page (two queries at most).

    `challenge` needs "id", "slug", "bureau" and "status". The bureau sees who shares the problem; a
    municipality official of a public challenge gets the 同じ課題があります form.
    """
    public = challenge["status"] in {status.value for status in PUBLIC_STATUSES}
    members = await member_municipalities(user) if public else frozenset()
    return {
        "same_problem_challenge": challenge,
        "shared_problems": await shared_problems_for(user, challenge),
        "same_problem_municipalities": await municipalities_of(members),
    }
