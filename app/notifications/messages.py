"""Every message the platform sends: whether it may be turned off, and how it is rendered per language."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import Environment, Template

from app.web import i18n
from app.web.templating import ENVIRONMENT, jst_datetime, localized

# Plain-text parts and subjects must not be HTML-escaped; the HTML part is.
TEXT_ENVIRONMENT: Environment = ENVIRONMENT.overlay(autoescape=False)


@dataclass(frozen=True)
class MessageKind:
    """One kind of message: `required` ones (receipts, results, security) cannot be turned off."""

    name: str
    required: bool
    label: str  # gettext msgid shown on the settings page
    in_app: bool = True


def _(message: str) -> str:
    """Mark a label for extraction; it is translated where it is shown."""
    return message


KINDS: dict[str, MessageKind] = {
    kind.name: kind
    for kind in (
        MessageKind("verify_email", True, _("Email address confirmation"), in_app=False),
        MessageKind("password_reset", True, _("Password reset"), in_app=False),
        MessageKind("organization_invitation", True, _("Invitations to join an organization"), in_app=False),
        MessageKind("challenge_review_requested", False, _("Challenges waiting for your review")),
        MessageKind("challenge_reviewed", False, _("Review decisions on your challenges")),
        MessageKind("question_answered", False, _("Answers to your questions")),
        MessageKind("followed_challenge_answer", False, _("New answers on challenges you follow")),
        MessageKind("followed_challenge_updated", False, _("Changes to challenges you follow")),
        MessageKind("followed_deadline_reminder", False, _("Deadline reminders for challenges you follow")),
        MessageKind("submission_received", True, _("Receipts of your applications")),
        MessageKind(
            "draft_deadline_reminder", False, _("Reminders to submit your draft before the deadline")
        ),
        MessageKind("judge_invitation", True, _("Invitations to judge")),
        MessageKind("judging_reminder", False, _("Reminders of scorecards still to complete")),
        MessageKind("application_advanced", True, _("Screening results of your applications")),
        MessageKind("results_published", True, _("Final results of your applications")),
        MessageKind("adoption_recorded", True, _("Adoptions of software you maintain, to confirm")),
        MessageKind("payment_receipt", True, _("Receipts of your payments")),
    )
}


def optional_kinds() -> list[MessageKind]:
    """The messages a user may turn off, in settings-page order."""
    return [kind for kind in KINDS.values() if not kind.required]


@dataclass(frozen=True)
class RenderedMessage:
    """A message in one language: subject, one-line summary, and both email parts."""

    subject: str
    summary: str
    text: str
    html: str


def render_message(kind: str, context: Mapping[str, Any], locale: str) -> RenderedMessage:
    """Render `kind` in `locale` from templates/notifications/mail/<kind>.txt and .html."""
    if kind not in KINDS:
        raise KeyError(f"Unknown message kind {kind!r}")
    token = i18n.current_locale.set(locale if locale in i18n.LOCALES else i18n.DEFAULT_LOCALE)
    try:
        text_template = TEXT_ENVIRONMENT.get_template(f"notifications/mail/{kind}.txt")
        values = {**context, **derived_values(context), "kind": kind}
        subject = " ".join(render_block(text_template, "subject", values).split())
        summary = subject
        if "summary" in text_template.blocks:
            summary = " ".join(render_block(text_template, "summary", values).split())
        return RenderedMessage(
            subject=subject,
            summary=summary,
            text=render_block(text_template, "body", values).strip() + "\n",
            html=ENVIRONMENT.get_template(f"notifications/mail/{kind}.html").render(**values),
        )
    finally:
        i18n.current_locale.reset(token)


def render_summary(kind: str, context: Mapping[str, Any], locale: str) -> str:
    """The one-line text of a message in `locale` (for the in-app list), without rendering the email."""
    token = i18n.current_locale.set(locale if locale in i18n.LOCALES else i18n.DEFAULT_LOCALE)
    try:
        template = TEXT_ENVIRONMENT.get_template(f"notifications/mail/{kind}.txt")
        values = {**context, **derived_values(context), "kind": kind}
        block = "summary" if "summary" in template.blocks else "subject"
        return " ".join(render_block(template, block, values).split())
    finally:
        i18n.current_locale.reset(token)


def derived_values(context: Mapping[str, Any]) -> dict[str, Any]:
    """Values that depend on the reader's language: the title to show, dates in JST."""
    values: dict[str, Any] = {}
    if "title_ja" in context:
        values["title"] = localized(context, "title")
    if isinstance(context.get("deadline"), str) and context["deadline"]:
        values["deadline_text"] = jst_datetime(datetime.fromisoformat(context["deadline"]))
    if "round_name_ja" in context:
        values["round_name"] = localized(
            {"x_ja": context["round_name_ja"], "x_en": context.get("round_name_en")}, "x"
        )
    if isinstance(context.get("closes_at"), str) and context["closes_at"]:
        values["closes_text"] = jst_datetime(datetime.fromisoformat(context["closes_at"]))
    if isinstance(context.get("submitted_at"), str):
        values["submitted_text"] = jst_datetime(datetime.fromisoformat(context["submitted_at"]))
    return values


def render_block(template: Template, block: str, values: Mapping[str, Any]) -> str:
    """One named block of a template."""
    return "".join(template.blocks[block](template.new_context(dict(values))))
