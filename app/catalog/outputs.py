"""Catalogue entry actions: create, edit, import from publiccode.yml, send for review, approve, export."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from litestar.exceptions import NotFoundException, PermissionDeniedException

from app.accounts.tables import Organization
from app.accounts.viewer import Viewer
from app.catalog import policies
from app.catalog.facts import facts_of, output_by_slug
from app.catalog.output_forms import OutputValues, parse_output_form
from app.catalog.policies import OutputFacts
from app.catalog.publiccode import DEFAULT_PUBLISHER_CODE, export_publiccode, parse_publiccode
from app.catalog.tables import Adoption, Collaboration, Output
from app.challenges.tables import Challenge
from app.search.changes import record_search_change
from app.validation import InvalidInput
from app.web.i18n import gettext as _
from app.web.page_cache import forget_public_pages

FACT_COLUMNS = (Output.id, Output.status, Output.created_by, Output.maintainer_organization)


async def visible_output(user: Viewer | None, output_id: int) -> OutputFacts:
    """The facts of an entry the user may see; 404 otherwise (drafts do not leak)."""
    row = await Output.select(*FACT_COLUMNS).where(Output.id == output_id).first().run()
    if row is None:
        raise NotFoundException
    facts = facts_of(row)
    if not policies.can_view_output(user, facts):
        raise NotFoundException
    return facts


async def maintainer_choices(user: Viewer | None) -> list[dict[str, Any]]:
    """Organizations the user may name as maintainer: their own, or any for officials and admins."""
    if user is None:
        return []
    query = Organization.select(Organization.id, Organization.name_ja, Organization.name_en).order_by(
        Organization.name_ja
    )
    if not (user.is_official or user.is_admin):
        if not user.memberships:
            return []
        query = query.where(Organization.id.is_in(list(user.memberships)))
    choices: list[dict[str, Any]] = await query.run()
    return choices


async def linked_columns(
    user: Viewer, values: OutputValues, current_maintainer: int | None
) -> dict[str, Any]:
    """Maintainer, source challenge and collaboration checked and resolved to ids.

    A member may keep an organization already set by someone else but may only choose their own.
    """
    errors: dict[str, str] = {}
    maintainer = values.maintainer_organization_id
    if maintainer is not None and maintainer != current_maintainer:
        allowed = {choice["id"] for choice in await maintainer_choices(user)}
        if maintainer not in allowed:
            errors["maintainer_organization"] = _("Choose an organization from the list.")
    challenge_id = None
    if values.source_challenge_slug:
        challenge = (
            await Challenge.select(Challenge.id)
            .where((Challenge.slug == values.source_challenge_slug) & Challenge.published_at.is_not_null())
            .first()
            .run()
        )
        if challenge is None:
            errors["source_challenge"] = _("No published challenge has this address.")
        else:
            challenge_id = challenge["id"]
    collaboration_id = values.collaboration_id
    if collaboration_id is not None:
        collaboration = (
            await Collaboration.select(Collaboration.challenge)
            .where(Collaboration.id == collaboration_id)
            .first()
            .run()
        )
        if collaboration is None:
            errors["collaboration"] = _("There is no collaboration with this number.")
        elif challenge_id is None and "source_challenge" not in errors:
            challenge_id = collaboration["challenge"]
        elif challenge_id != collaboration["challenge"]:
            errors["collaboration"] = _("This collaboration belongs to another challenge.")
    if errors:
        raise InvalidInput(errors)
    return {
        "maintainer_organization": maintainer,
        "source_challenge": challenge_id,
        "collaboration": collaboration_id,
    }


async def ensure_slug_free(slug: str, output_id: int | None) -> None:
    """InvalidInput when another entry already uses `slug`."""
    query = Output.exists().where(Output.slug == slug)
    if output_id is not None:
        query = query.where(Output.id != output_id)
    if await query.run():
        raise InvalidInput({"slug": _("Another catalogue entry already uses this address.")})


async def create_output(
    user: Viewer | None, values: OutputValues, *, now: datetime, extra: Mapping[str, Any] | None = None
) -> int:
    """Save a new draft (with the publiccode.yml keys kept from an import); returns its id.

    Raises:
        NotFoundException: the user may not write catalogue entries.
        InvalidInput: the address is taken, or the maintainer, challenge or collaboration is not allowed.
    """
    if user is None or not policies.can_create_output(user):
        raise NotFoundException
    async with Output._meta.db.transaction():
        await ensure_slug_free(values.slug, None)
        links = await linked_columns(user, values, None)
        rows = await Output.insert(
            Output(
                **values.columns(),
                **links,
                publiccode_extra=dict(extra or {}),
                status="draft",
                created_by=user.id,
                created_at=now,
                updated_at=now,
            )
        ).run()
        await record_search_change("output", rows[0]["id"], now=now)
    output_id: int = rows[0]["id"]
    return output_id


async def update_output(user: Viewer | None, output_id: int, values: OutputValues, *, now: datetime) -> None:
    """Save edits; a published entry stays published (its maintainers keep it current).

    Raises:
        NotFoundException: the user may not see the entry.
        PermissionDeniedException: the user may see but not edit it.
        InvalidInput: the address is taken, or a link is not allowed.
    """
    async with Output._meta.db.transaction():
        facts = await visible_output(user, output_id)
        if user is None or not policies.can_edit_output(user, facts):
            raise PermissionDeniedException
        await ensure_slug_free(values.slug, output_id)
        links = await linked_columns(user, values, facts.maintainer_organization_id)
        columns = {**values.columns(), **links}
        update: dict[Any, Any] = {getattr(Output, name): value for name, value in columns.items()}
        update[Output.updated_at] = now
        await Output.update(update).where(Output.id == output_id).run()
        await record_search_change("output", output_id, now=now)
    await forget_public_pages()


async def import_output(user: Viewer | None, form: Mapping[str, str], text: str, *, now: datetime) -> int:
    """Create a draft from the reviewed import form; the kept keys come from re-reading the file itself.

    Raises:
        NotFoundException: the user may not write catalogue entries.
        InvalidInput: the file is unreadable ("publiccode") or a field is invalid (nothing is saved).
    """
    result = parse_publiccode(text)
    if not result.readable:
        raise InvalidInput({"publiccode": result.problems[0].message})
    values, errors = parse_output_form(form)
    if errors:
        raise InvalidInput(errors)
    return await create_output(user, values, now=now, extra=result.extra)


async def submit_output(user: Viewer | None, output_id: int, *, now: datetime) -> None:
    """Send a draft for review by an official.

    Raises:
        NotFoundException: the user may not see the entry.
        PermissionDeniedException: the user may not edit it, or it is not a draft.
        InvalidInput: the Japanese short description is missing.
    """
    async with Output._meta.db.transaction():
        facts = await visible_output(user, output_id)
        if user is None or not policies.can_edit_output(user, facts) or facts.status != "draft":
            raise PermissionDeniedException
        row = await Output.select(Output.short_description_ja).where(Output.id == output_id).first().run()
        if row is None or not row["short_description_ja"]:
            raise InvalidInput(
                {"short_description_ja": _("Add a Japanese short description before sending it for review.")}
            )
        await (
            Output.update({Output.status: "in_review", Output.updated_at: now})
            .where((Output.id == output_id) & (Output.status == "draft"))
            .run()
        )


async def approve_output(user: Viewer | None, output_id: int, *, now: datetime) -> None:
    """Publish an entry in review: an official other than its author.

    Raises:
        NotFoundException: the user may not see the entry.
        PermissionDeniedException: the user may not approve it (the author, not an official, not in review).
    """
    async with Output._meta.db.transaction():
        facts = await visible_output(user, output_id)
        if user is None or not policies.can_approve_output(user, facts):
            raise PermissionDeniedException
        await (
            Output.update(
                {
                    Output.status: "published",
                    Output.approved_by: user.id,
                    Output.published_at: now,
                    Output.updated_at: now,
                }
            )
            .where((Output.id == output_id) & (Output.status == "in_review"))
            .run()
        )
        await record_search_change("output", output_id, now=now)
    await forget_public_pages()


async def used_by(output_id: int) -> list[str]:
    """Names of the municipalities whose adoption the maintainer confirmed (東京都八王子市), in code order."""
    rows = (
        await Adoption.select(
            Adoption.municipality.prefecture.as_alias("prefecture"),
            Adoption.municipality.name.as_alias("name"),
        )
        .where((Adoption.output == output_id) & Adoption.confirmed_at.is_not_null())
        .order_by(Adoption.municipality.code)
        .run()
    )
    return [f"{row['prefecture']}{row['name'] or ''}" for row in rows]


async def publiccode_file(user: Viewer | None, slug: str) -> str:
    """The entry's publiccode.yml; 404 for a draft the user may not see."""
    row, facts = await output_by_slug(user, slug)
    return export_publiccode(row, await used_by(facts.id), DEFAULT_PUBLISHER_CODE)
