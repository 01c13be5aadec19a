"""Pages of challenges: the public list and detail, authoring and review for officials, Q&A, follow."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, QueryParameter
from litestar.response import Template
from litestar.status_codes import HTTP_200_OK, HTTP_422_UNPROCESSABLE_ENTITY

from app.accounts.tables import Bureau
from app.accounts.viewer import Viewer, viewer_of
from app.challenges import policies, services
from app.challenges.attachments import active_attachments
from app.challenges.forms import form_from_row, parse_challenge_form, translation_status
from app.challenges.lifecycle import (
    PHASES,
    TRANSITIONS,
    Action,
    ChallengeFacts,
    PublicStage,
    accepting_applications,
    current_phase,
    effective_status,
)
from app.challenges.markdown import render_markdown
from app.challenges.queries import SORTS, ChallengeFilters, filter_options, public_challenges
from app.challenges.tables import (
    Challenge,
    ChallengeEvent,
    ChallengeRevision,
    ChallengeTheme,
    Follow,
    Question,
)
from app.clock import utcnow
from app.validation import InvalidInput
from app.web.flash import flash
from app.web.forms import form_values
from app.web.guards import signed_in
from app.web.htmx import page_or_fragment, redirect_after_post, wants_fragment
from app.web.i18n import current_locale
from app.web.i18n import gettext as _
from app.web.page_cache import cached_response, render_and_cache, render_and_cache_html, shared_fragment

Req = Request[Any, Any, Any]
Query = Annotated[str | None, QueryParameter(required=False)]


def list_filters(
    bureau: str | None, theme: str | None, status: str | None, sort: str | None
) -> ChallengeFilters:
    """Filters from the query string; unknown values are ignored rather than refused (bookmarks age)."""
    stage = PublicStage(status) if status in {stage.value for stage in PublicStage} else None
    return ChallengeFilters(
        bureau=bureau or None,
        theme=theme or None,
        stage=stage,
        sort=sort if sort in SORTS else "deadline",
    )


class ChallengeListController(Controller):
    """The public list of challenges."""

    @get("/challenges", name="challenges")
    async def list_challenges(
        self,
        request: Req,
        bureau: Query = None,
        theme: Query = None,
        status: Query = None,
        sort: Query = None,
        cursor: Query = None,
    ) -> Response[Any]:
        """Filters and sort in the URL (bookmarkable); HTMX swaps just the results."""
        if cached := await cached_response(request):
            return cached
        filters = list_filters(bureau, theme, status, sort)
        # Filters and results are the same for everyone (no user, no token): signed-in visitors share them;
        # only the site header is rendered per visitor.
        if wants_fragment(request):
            results = await shared_fragment(
                request, "challenges/_results.html", lambda: results_context(filters, cursor)
            )
            return await render_and_cache_html(request, results)
        content = await shared_fragment(
            request, "challenges/_list_content.html", lambda: list_context(filters, cursor)
        )
        return await render_and_cache(request, "challenges/list.html", {"content_html": content})


async def results_context(filters: ChallengeFilters, cursor: str | None) -> dict[str, Any]:
    """What the results fragment shows."""
    now = utcnow()
    page = await public_challenges(filters, now=now, cursor=cursor)
    return {"filters": filters, "page": page, "now": now}


async def list_context(filters: ChallengeFilters, cursor: str | None) -> dict[str, Any]:
    """What the list page shows below the header: the filters and the results."""
    options = await filter_options()
    return {**await results_context(filters, cursor), "options": options, "stages": list(PublicStage)}


async def challenge_by_slug(slug: str) -> dict[str, Any]:
    """Every column of a challenge, or 404."""
    row = (
        await Challenge.select(
            *Challenge.all_columns(),
            Challenge.bureau.name_ja.as_alias("bureau_name_ja"),
            Challenge.bureau.name_en.as_alias("bureau_name_en"),
            Challenge.bureau.slug.as_alias("bureau_slug"),
        )
        .where(Challenge.slug == slug)
        .first()
        .output(load_json=True)
        .run()
    )
    if row is None:
        raise NotFoundException
    return dict(row)


class ChallengeDetailController(Controller):
    """One challenge: its page, Q&A, follow, and the bureau's lifecycle actions."""

    path = "/challenges/{slug:str}"

    @get("/", name="challenge")
    async def detail(self, request: Req, slug: FromPath[str]) -> Response[Any]:
        """Timeline, conditions, answered questions; drafts only for the bureau (404 for everyone else)."""
        if cached := await cached_response(request):
            return cached
        return await detail_page(request, slug, {}, {})

    @post("/questions", guards=[signed_in], status_code=HTTP_200_OK)
    async def ask(self, request: Req, slug: FromPath[str]) -> Template | Response[Any]:
        """Ask a question (published once answered, without the asker's name)."""
        challenge = await challenge_by_slug(slug)
        values = await form_values(request)
        try:
            await services.ask_question(
                viewer_of(request), challenge["id"], values.get("body", ""), now=utcnow()
            )
        except InvalidInput as invalid:
            return await detail_page(request, slug, values, invalid.errors)
        flash(request, _("Your question was sent. Answers are published on this page."), "success")
        return redirect_after_post(request, f"/challenges/{slug}#questions")

    @post("/follow", guards=[signed_in], status_code=HTTP_200_OK)
    async def follow(self, request: Req, slug: FromPath[str]) -> Response[Any]:
        """Follow or stop following."""
        challenge = await challenge_by_slug(slug)
        values = await form_values(request)
        await services.set_following(
            viewer_of(request), challenge["id"], values.get("follow") == "1", now=utcnow()
        )
        return redirect_after_post(request, f"/challenges/{slug}")

    @post("/transitions/{action:str}", guards=[signed_in], status_code=HTTP_200_OK)
    async def transition(
        self, request: Req, slug: FromPath[str], action: FromPath[str]
    ) -> Template | Response[Any]:
        """Send to review, approve, request changes, close, start judging, publish results, archive."""
        if action not in {member.value for member in Action}:
            raise NotFoundException
        challenge = await challenge_by_slug(slug)
        values = await form_values(request)
        try:
            await services.transition(
                viewer_of(request),
                challenge["id"],
                Action(action),
                now=utcnow(),
                comment=values.get("comment", ""),
            )
        except InvalidInput as invalid:
            return await detail_page(request, slug, values, invalid.errors)
        flash(request, transition_message(Action(action)), "success")
        return redirect_after_post(request, f"/challenges/{slug}")


def transition_message(action: Action) -> str:
    """What the official is told after an action."""
    return {
        Action.SUBMIT_FOR_REVIEW: _("Sent for review. Another official of the bureau must approve it."),
        Action.REQUEST_CHANGES: _("Sent back to the author with your comment."),
        Action.APPROVE: _("Approved and published."),
        Action.CLOSE: _("Applications are closed."),
        Action.START_JUDGING: _("Judging has started."),
        Action.PUBLISH_RESULTS: _("Results are published."),
        Action.ARCHIVE: _("The challenge is archived."),
    }[action]


async def detail_page(
    request: Req, slug: str, values: dict[str, str], errors: dict[str, str]
) -> Response[Any]:
    """The challenge page with what this viewer may see and do."""
    user = viewer_of(request)
    now = utcnow()
    challenge = await challenge_by_slug(slug)
    facts = ChallengeFacts.from_row(challenge)
    if not policies.can_view_challenge(user, facts):
        raise NotFoundException
    if effective_status(facts, now) != facts.status and facts.status.value == "published":
        # The deadline passed since the last write: record the close now, at request time.
        await services.close_past_deadline(now)
        facts = replace(facts, status=effective_status(facts, now))
    # Everything from the title to the contact is the same for every visitor who may see it: shared.
    public_html = await shared_fragment(
        request, "challenges/_detail_public.html", lambda: public_context(challenge, facts, now)
    )
    answered_html = await shared_fragment(
        request, "challenges/_answered.html", lambda: answered_context(facts.id)
    )
    # Unanswered questions exist only for the bureau.
    waiting: list[dict[str, Any]] = []
    if policies.can_answer_question(user, facts):
        waiting = (
            await Question.select(Question.id, Question.body, Question.asked_at)
            .where((Question.challenge == facts.id) & Question.answered_at.is_null())
            .order_by(Question.asked_at)
            .run()
        )
    following = (
        user is not None
        and await Follow.exists().where((Follow.user == user.id) & (Follow.challenge == facts.id)).run()
    )
    history: list[dict[str, Any]] = []
    revisions: list[dict[str, Any]] = []
    if policies.can_see_history(user, facts):
        history = (
            await ChallengeEvent.select(
                ChallengeEvent.from_status,
                ChallengeEvent.to_status,
                ChallengeEvent.comment,
                ChallengeEvent.happened_at,
                ChallengeEvent.actor.display_name.as_alias("actor_name"),
            )
            .where(ChallengeEvent.challenge == facts.id)
            .order_by(ChallengeEvent.id)
            .run()
        )
        revisions = (
            await ChallengeRevision.select(
                ChallengeRevision.changes,
                ChallengeRevision.material,
                ChallengeRevision.edited_at,
                ChallengeRevision.editor.display_name.as_alias("editor_name"),
            )
            .where(ChallengeRevision.challenge == facts.id)
            .order_by(ChallengeRevision.id)
            .output(load_json=True)
            .run()
        )
    context = {
        "challenge": challenge,
        "facts": facts,
        "status": facts.status.value,
        "public_html": public_html,
        "answered_html": answered_html,
        "questions": waiting,
        "following": following,
        "history": history,
        "revisions": revisions,
        "values": values,
        "errors": errors,
        "translations": translation_status(challenge),
        "attachments": await active_attachments(facts.id),
        "actions": [
            action
            for action in Action
            if services.ACTION_POLICIES[action](user, facts) and allowed(facts, action)
        ],
    }
    status = HTTP_422_UNPROCESSABLE_ENTITY if errors else 200
    return await render_and_cache(request, "challenges/detail.html", context, status)


async def public_context(challenge: dict[str, Any], facts: ChallengeFacts, now: datetime) -> dict[str, Any]:
    """What the shared part of a challenge page shows."""
    themes = (
        await ChallengeTheme.select(ChallengeTheme.theme).where(ChallengeTheme.challenge == facts.id).run()
    )
    return {
        "challenge": challenge,
        "status": facts.status.value,
        "themes": [row["theme"] for row in themes],
        "phases": PHASES,
        "current_phase": current_phase(challenge, now),
        "accepting": accepting_applications(facts, now),
        "now": now,
        "markdown": render_markdown,
    }


async def answered_context(challenge_id: int) -> dict[str, Any]:
    """The answered questions of a challenge (never who asked)."""
    answered = (
        await Question.select(Question.body, Question.answer, Question.answered_at)
        .where((Question.challenge == challenge_id) & Question.answered_at.is_not_null())
        .order_by(Question.asked_at)
        .run()
    )
    return {"answered": answered}


def allowed(facts: ChallengeFacts, action: Action) -> bool:
    """Whether the lifecycle has a step for `action` from the current status."""
    return (facts.status, action) in TRANSITIONS


class QuestionController(Controller):
    """Officials answer questions."""

    path = "/questions/{question_id:int}"
    guards = [signed_in]  # noqa: RUF012 (Litestar reads this class attribute)

    @post("/answer", status_code=HTTP_200_OK)
    async def answer(self, request: Req, question_id: FromPath[int]) -> Response[Any]:
        """Publish the answer."""
        values = await form_values(request)
        try:
            challenge_id = await services.answer_question(
                viewer_of(request), question_id, values.get("answer", ""), now=utcnow()
            )
        except InvalidInput:
            flash(request, _("Write the answer."), "error")
            challenge_id = await question_challenge(question_id)
        slug = await Challenge.select(Challenge.slug).where(Challenge.id == challenge_id).first().run()
        return redirect_after_post(request, f"/challenges/{slug['slug'] if slug else ''}#questions")


async def question_challenge(question_id: int) -> int:
    """The challenge a question belongs to."""
    row = await Question.select(Question.challenge).where(Question.id == question_id).first().run()
    if row is None:
        raise NotFoundException
    challenge_id: int = row["challenge"]
    return challenge_id


class AuthoringController(Controller):
    """Officials draft and edit challenges of their bureau."""

    guards = [signed_in]  # noqa: RUF012 (Litestar reads this class attribute)

    @get("/bureau/challenges", name="bureau_challenges")
    async def mine(self, request: Req) -> Template:
        """Every challenge of the official's bureaus, drafts and reviews included."""
        user = viewer_of(request)
        if user is None or not policies.can_author_challenges(user):
            raise NotFoundException
        query = Challenge.select(
            Challenge.slug,
            Challenge.title_ja,
            Challenge.title_en,
            Challenge.status,
            Challenge.updated_at,
            Challenge.bureau.name_ja.as_alias("bureau_name_ja"),
            Challenge.bureau.name_en.as_alias("bureau_name_en"),
        ).order_by(Challenge.updated_at, ascending=False)
        if not user.is_admin:
            query = query.where(Challenge.bureau.is_in(list(user.official_bureau_ids)))
        return Template("challenges/bureau.html", context={"challenges": await query.run()})

    @get("/challenges/new", name="challenge_new")
    async def new(self, request: Req) -> Template:
        """An empty authoring form."""
        bureaus = await author_bureaus(viewer_of(request))
        values = {"bureau": str(bureaus[0]["id"]), "selection_count": "1", "poc_budget_jpy": "0"}
        return authoring_page(request, None, values, {}, bureaus)

    @post("/challenges/new", status_code=HTTP_200_OK)
    async def create(self, request: Req) -> Template | Response[Any]:
        """Save a new draft."""
        user = viewer_of(request)
        bureaus = await author_bureaus(user)
        values = await form_values(request)
        parsed, errors = parse_challenge_form(values, {bureau["id"] for bureau in bureaus})
        try:
            if errors:
                raise InvalidInput(errors)
            await services.create_challenge(user, parsed, now=utcnow())
        except InvalidInput as invalid:
            return authoring_page(request, None, values, invalid.errors, bureaus)
        flash(request, _("The draft is saved. Send it for review when it is ready."), "success")
        return redirect_after_post(request, f"/challenges/{parsed.slug}")

    @get("/challenges/{slug:str}/edit", name="challenge_edit")
    async def edit(self, request: Req, slug: FromPath[str]) -> Template:
        """The authoring form filled with the challenge."""
        user = viewer_of(request)
        challenge = await challenge_by_slug(slug)
        facts = ChallengeFacts.from_row(challenge)
        if not policies.can_view_challenge(user, facts):
            raise NotFoundException
        if not policies.can_edit_challenge(user, facts):
            raise PermissionDeniedException
        themes = (
            await ChallengeTheme.select(ChallengeTheme.theme)
            .where(ChallengeTheme.challenge == facts.id)
            .run()
        )
        values = form_from_row(challenge, [row["theme"] for row in themes])
        return authoring_page(request, challenge, values, {}, await author_bureaus(user))

    @post("/challenges/{slug:str}/edit", status_code=HTTP_200_OK)
    async def update(self, request: Req, slug: FromPath[str]) -> Template | Response[Any]:
        """Save the edits (recorded in the history once published)."""
        user = viewer_of(request)
        challenge = await challenge_by_slug(slug)
        facts = ChallengeFacts.from_row(challenge)
        if not policies.can_view_challenge(user, facts):
            raise NotFoundException
        if not policies.can_edit_challenge(user, facts):
            raise PermissionDeniedException
        bureaus = await author_bureaus(user)
        values = await form_values(request)
        parsed, errors = parse_challenge_form(values, {bureau["id"] for bureau in bureaus})
        try:
            if errors:
                raise InvalidInput(errors)
            await services.update_challenge(user, challenge["id"], parsed, now=utcnow())
        except InvalidInput as invalid:
            return authoring_page(request, challenge, values, invalid.errors, bureaus)
        flash(request, _("Your changes are saved."), "success")
        return redirect_after_post(request, f"/challenges/{parsed.slug}")

    @post("/challenges/preview", status_code=HTTP_200_OK)
    async def preview(self, request: Req) -> Template:
        """Live preview of a Markdown field (HTMX), sanitized exactly as the page will be."""
        if not policies.can_author_challenges(viewer_of(request)):
            raise NotFoundException
        values = await form_values(request)
        field = values.get("field", "")
        return Template(
            "challenges/_preview.html",
            context={"html": render_markdown(values.get(field, "")), "field": field},
        )


async def author_bureaus(user: Viewer | None) -> list[dict[str, Any]]:
    """Bureaus the user may author for (all of them for an admin); 404 for anyone else."""
    if user is None or not policies.can_author_challenges(user):
        raise NotFoundException
    query = Bureau.select(Bureau.id, Bureau.name_ja, Bureau.name_en).order_by(Bureau.id)
    if not user.is_admin:
        query = query.where(Bureau.id.is_in(list(user.official_bureau_ids)))
    bureaus: list[dict[str, Any]] = await query.run()
    if not bureaus:
        raise NotFoundException
    return bureaus


def localized_name(bureau: dict[str, Any]) -> str:
    """The bureau's name in the reader's language."""
    return str(bureau["name_en"] if current_locale.get() == "en" and bureau["name_en"] else bureau["name_ja"])


def authoring_page(
    request: Req,
    challenge: dict[str, Any] | None,
    values: dict[str, str],
    errors: dict[str, str],
    bureaus: list[dict[str, Any]],
) -> Template:
    """The authoring form (new or edit) with what was typed and each field's error."""
    context = {
        "challenge": challenge,
        "values": values,
        "errors": errors,
        "bureau_options": [(str(bureau["id"]), localized_name(bureau)) for bureau in bureaus],
        "phases": PHASES,
    }
    status = HTTP_422_UNPROCESSABLE_ENTITY if errors else 200
    return page_or_fragment(request, "challenges/edit.html", "challenges/_edit_form.html", context, status)


CONTROLLERS = [
    ChallengeListController,
    AuthoringController,
    ChallengeDetailController,
    QuestionController,
]
