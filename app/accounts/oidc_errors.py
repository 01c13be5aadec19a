"""What a person reads when a sign-in through a provider fails; the technical detail goes to the log."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request
from litestar.response import Template

from app.accounts.oidc import OIDCFailure
from app.settings import OIDCProvider
from app.web.i18n import current_locale
from app.web.i18n import gettext as _

log = logging.getLogger(__name__)

STATUS = {
    OIDCFailure.UNAVAILABLE: 503,
    OIDCFailure.CANCELLED: 200,
    OIDCFailure.CLOCK: 400,
    OIDCFailure.CONFIGURATION: 502,
    OIDCFailure.REJECTED: 400,
    OIDCFailure.FLOW: 400,
    OIDCFailure.DOMAIN: 403,
    OIDCFailure.NO_EMAIL: 400,
    OIDCFailure.EMAIL_TAKEN: 409,
    OIDCFailure.IDENTITY_TAKEN: 409,
    OIDCFailure.INACTIVE: 403,
    OIDCFailure.NOT_THE_SAME_ACCOUNT: 409,
}


def explanation(kind: str) -> tuple[str, str, str]:
    """(title, what happened, what to do) for a failure kind, in the current language."""
    texts = {
        OIDCFailure.UNAVAILABLE: (
            _("We could not reach {provider}"),
            _("The sign-in service of {provider} did not answer or reported an error. Nothing was changed."),
            _(
                "Please try again in a few minutes. If it keeps happening, sign in another way or contact "
                "the help desk."
            ),
        ),
        OIDCFailure.CANCELLED: (
            _("Sign-in was cancelled"),
            _("You chose not to share your details from {provider}, so you are not signed in."),
            _(
                "To try again, choose {provider} on the sign-in page. You can also sign in with your email "
                "address and password."
            ),
        ),
        OIDCFailure.CLOCK: (
            _("The sign-in answer has expired"),
            _(
                "The answer from {provider} was outside its valid time. This happens when a computer's clock"
                " is wrong or the sign-in took too long."
            ),
            _(
                "Check that the date and time of your device are correct, then try again. If it keeps "
                "happening, contact the help desk."
            ),
        ),
        OIDCFailure.CONFIGURATION: (
            _("Sign-in with {provider} is not set up correctly"),
            _("Kyoso and {provider} do not agree on how to sign in. This is not your fault."),
            _(
                "Please sign in another way for now and tell the help desk. The details were recorded for "
                "the administrators."
            ),
        ),
        OIDCFailure.REJECTED: (
            _("The sign-in answer could not be trusted"),
            _(
                "The answer from {provider} did not pass our security checks, so you were not signed in and "
                "nothing was changed."
            ),
            _("Please start again from the sign-in page. If it keeps happening, contact the help desk."),
        ),
        OIDCFailure.FLOW: (
            _("This sign-in is no longer valid"),
            _("The sign-in was not started in this browser, took too long, or was already used."),
            _("Please start again from the sign-in page."),
        ),
        OIDCFailure.DOMAIN: (
            _("This email address cannot be used with {provider}"),
            _(
                "{provider} is only for the staff of specific organizations, and the domain of your email "
                "address is not one of them. No account was created."
            ),
            _("Use the sign-in method of your organization, or ask the administrator to add your domain."),
        ),
        OIDCFailure.NO_EMAIL: (
            _("{provider} did not share your email address"),
            _("Kyoso needs an email address to create your account. No account was created."),
            _(
                "Allow sharing your email address at {provider} and try again, or create an account with "
                "your email address and a password."
            ),
        ),
        OIDCFailure.EMAIL_TAKEN: (
            _("An account already uses this email address"),
            _(
                "{provider} has not confirmed your email address, so we cannot link it to the existing "
                "account automatically."
            ),
            _("Sign in to that account another way, then link {provider} on your account page."),
        ),
        OIDCFailure.IDENTITY_TAKEN: (
            _("This account at {provider} is linked to another Kyoso account"),
            _("An account at {provider} can be linked to only one Kyoso account. Nothing was changed."),
            _(
                "Sign out and sign in with {provider} to use the other Kyoso account, or unlink it there "
                "first."
            ),
        ),
        OIDCFailure.INACTIVE: (
            _("This account is deactivated"),
            _("The Kyoso account linked to your account at {provider} cannot sign in."),
            _("Contact the help desk if you think this is a mistake."),
        ),
        OIDCFailure.NOT_THE_SAME_ACCOUNT: (
            _("That was a different account"),
            _(
                "You confirmed with an account other than the one that uses this email address, so nothing "
                "was linked."
            ),
            _("Start again and sign in to the account that uses this email address."),
        ),
    }
    return texts[kind]


def failure_page(
    request: Request[Any, Any, Any], provider: OIDCProvider | None, failure: OIDCFailure
) -> Template:
    """Log the failure with its detail and show its explanation in the reader's language."""
    provider_id = provider.id if provider else "-"
    log.warning("OIDC sign-in with %s failed (%s): %s", provider_id, failure.kind, failure.detail)
    name = provider.display_name(current_locale.get()) if provider else _("the identity provider")
    title, happened, advice = (text.format(provider=name) for text in explanation(failure.kind))
    return Template(
        "accounts/oidc/error.html",
        context={"title": title, "happened": happened, "advice": advice, "kind": failure.kind},
        status_code=STATUS[failure.kind],
    )
