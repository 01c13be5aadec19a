"""Pages of signing in with an identity provider: start, callback, confirming a link, link and unlink."""

from __future__ import annotations

import hmac
import logging
import time
from typing import Annotated, Any

from itsdangerous import BadSignature, SignatureExpired
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_422_UNPROCESSABLE_ENTITY

from app.accounts import identities, oidc, policies, services
from app.accounts.oidc import OIDCFailure
from app.accounts.oidc_errors import failure_page
from app.accounts.oidc_tokens import verified_claims
from app.accounts.tables import User
from app.accounts.viewer import SESSION_USER_KEY, viewer_of
from app.clock import utcnow
from app.settings import OIDCProvider, Settings
from app.web.flash import flash
from app.web.forms import form_values, safe_next_path
from app.web.guards import signed_in
from app.web.htmx import page_or_fragment, redirect_after_post
from app.web.i18n import current_locale
from app.web.i18n import gettext as _
from app.web.ratelimit import RateLimit
from app.web.sessions import rotate_session_id

log = logging.getLogger(__name__)

PENDING_KEY = "oidc_pending"  # the sign-in started in this browser: state, nonce, PKCE verifier
OFFER_KEY = "oidc_link_offer"  # an identity waiting for the existing account's owner to confirm
SIGNIN_KEY = "oidc_signin"  # provider and ID token of this session's sign-in, for RP-initiated logout
FLOW_LIFETIME_SECONDS = 600
PURPOSES = ("signin", "link", "confirm")
CONFIRM_LIMIT = RateLimit(action="oidc-confirm", attempts=10, window_seconds=300)

Req = Request[Any, Any, Any]
NextParam = Annotated[str | None, QueryParameter(name="next", required=False)]
PurposeParam = Annotated[str, QueryParameter(name="purpose", required=False)]
TokenParam = Annotated[str | None, QueryParameter(name="token", required=False)]
CodeParam = Annotated[str | None, QueryParameter(name="code", required=False)]
# `state` is a reserved handler parameter in Litestar (the app state): the query parameter needs an alias.
StateParam = Annotated[str | None, QueryParameter(name="state", required=False)]
ErrorParam = Annotated[str | None, QueryParameter(name="error", required=False)]


def provider_by_id(settings: Settings, provider_id: str) -> OIDCProvider:
    """The configured provider; 404 for any other name."""
    for provider in settings.oidc_providers:
        if provider.id == provider_id:
            return provider
    raise NotFoundException


def callback_uri(settings: Settings, provider: OIDCProvider) -> str:
    """Where the provider sends the browser back (register exactly this at the provider)."""
    return f"{settings.base_url}/oidc/{provider.id}/callback"


def start_session(request: Req, user_id: int, signed_in_with: dict[str, str] | None) -> None:
    """Sign `user_id` in under a fresh session id, remembering the provider sign-in for sign-out."""
    rotate_session_id(request.scope)
    session: dict[str, Any] = {SESSION_USER_KEY: user_id}
    if signed_in_with is not None:
        session[SIGNIN_KEY] = signed_in_with
    request.set_session(session)


def session_of(request: Req) -> dict[str, Any]:
    """The session dict (empty when there is none)."""
    session = request.scope.get("session")
    return session if isinstance(session, dict) else {}


def take_pending(
    request: Req, provider: OIDCProvider, state: str | None, *, state_optional: bool = False
) -> dict[str, Any]:
    """The sign-in started in this browser for this provider and `state`, removed: usable once.

    `state_optional` is for error answers only: some providers send `error=access_denied` without the state
    (oidc-provider-mock does). Such an answer carries no code, so it can cancel a sign-in but never sign in.
    """
    pending = session_of(request).pop(PENDING_KEY, None)
    if not isinstance(pending, dict):
        raise OIDCFailure(OIDCFailure.FLOW, "callback without a sign-in started in this session")
    if pending.get("provider") != provider.id:
        raise OIDCFailure(OIDCFailure.FLOW, f"callback for {provider.id}, started {pending.get('provider')}")
    if state is None and state_optional:
        return pending
    if not state or not hmac.compare_digest(str(pending.get("state")).encode(), state.encode()):
        raise OIDCFailure(OIDCFailure.FLOW, "state does not match the sign-in of this session")
    if time.time() - float(pending.get("started", 0)) > FLOW_LIFETIME_SECONDS:
        raise OIDCFailure(OIDCFailure.FLOW, "sign-in started too long ago")
    return pending


def link_offer(request: Req) -> dict[str, Any]:
    """The identity waiting for confirmation in this session."""
    offer = session_of(request).get(OFFER_KEY)
    if not isinstance(offer, dict) or time.time() > float(offer.get("expires", 0)):
        raise OIDCFailure(OIDCFailure.FLOW, "no link waiting for confirmation in this session")
    return offer


def account_of(offer: dict[str, Any]) -> identities.ProviderAccount:
    """The provider account kept in a link offer."""
    fields = identities.ProviderAccount.__dataclass_fields__
    return identities.ProviderAccount(**{name: offer[name] for name in fields})


class OIDCController(Controller):
    """Sign in (or link, or confirm a link) through a configured OpenID Connect provider."""

    path = "/oidc"

    @get("/{provider_id:str}/start", name="oidc_start")
    async def start(
        self,
        request: Req,
        provider_id: FromPath[str],
        settings: NamedDependency[Settings],
        next_path: NextParam = None,
        purpose: PurposeParam = "signin",
        token: TokenParam = None,
    ) -> Response[Any]:
        """Remember a fresh state, nonce and PKCE verifier in the session, then go to the provider.

        A link (GET, like the sign-in buttons: a form POST that redirects to another site is blocked by
        the CSP's form-action) carries a signed token of the signed-in user, so other sites cannot start one.
        """
        provider = provider_by_id(settings, provider_id)
        user = viewer_of(request)
        flow: dict[str, Any] = {"provider": provider.id, "purpose": purpose, "started": time.time()}
        try:
            if purpose not in PURPOSES:
                raise NotFoundException
            if purpose == "link":
                if user is None or not policies.can_link_identity(user):
                    raise PermissionDeniedException
                try:
                    token_user = identities.link_serializer(settings.secret_key).loads(
                        token or "", max_age=identities.LINK_TOKEN_SECONDS
                    )
                except (BadSignature, SignatureExpired) as error:
                    raise PermissionDeniedException from error
                if token_user != user.id:
                    raise PermissionDeniedException
                flow["user_id"] = user.id
            elif purpose == "confirm":
                link_offer(request)
            if problems := provider.problems():
                raise OIDCFailure(OIDCFailure.CONFIGURATION, " ".join(problems))
            metadata = await oidc.provider_metadata(provider)
            authorization = await oidc.authorization_request(
                provider, metadata, callback_uri(settings, provider), current_locale.get()
            )
        except OIDCFailure as failure:
            return failure_page(request, provider, failure)
        flow.update(
            state=authorization.state,
            nonce=authorization.nonce,
            verifier=authorization.code_verifier,
            next=safe_next_path(next_path, "/account"),
        )
        # A fresh session id for the flow: the sign-out cookie may linger as an empty id that stores nothing.
        rotate_session_id(request.scope)
        request.session[PENDING_KEY] = flow
        return Redirect(path=authorization.url, status_code=302)

    @get("/{provider_id:str}/callback", name="oidc_callback")
    async def callback(
        self,
        request: Req,
        provider_id: FromPath[str],
        settings: NamedDependency[Settings],
        code: CodeParam = None,
        oauth_state: StateParam = None,
        error: ErrorParam = None,
    ) -> Response[Any]:
        """Check the answer (state first, then the code exchange and the ID token), then act on it."""
        provider = provider_by_id(settings, provider_id)
        try:
            flow = take_pending(request, provider, oauth_state, state_optional=error is not None)
            if error is not None:
                kind = OIDCFailure.CANCELLED if error == "access_denied" else OIDCFailure.CONFIGURATION
                raise OIDCFailure(kind, f"provider answered error={error}")
            if not code:
                raise OIDCFailure(OIDCFailure.FLOW, "callback without a code")
            metadata = await oidc.provider_metadata(provider)
            tokens = await oidc.exchange_code(
                provider, metadata, callback_uri(settings, provider), code, str(flow["verifier"])
            )
            claims = await verified_claims(
                provider, metadata, tokens["id_token"], nonce=str(flow["nonce"]), now=utcnow()
            )
            if provider.use_userinfo:
                extra = await oidc.fetch_userinfo(metadata, str(tokens.get("access_token")), claims["sub"])
                claims = {**extra, **{k: v for k, v in claims.items() if k not in extra or k == "sub"}}
            account = identities.ProviderAccount.from_claims(provider, metadata.issuer, claims)
            signed_in_with = {"provider": provider.id, "id_token": str(tokens["id_token"])}
            return await self.finish(request, provider, flow, account, signed_in_with)
        except OIDCFailure as failure:
            return failure_page(request, provider, failure)

    async def finish(
        self,
        request: Req,
        provider: OIDCProvider,
        flow: dict[str, Any],
        account: identities.ProviderAccount,
        signed_in_with: dict[str, str],
    ) -> Response[Any]:
        """Sign in, link, or confirm a waiting link, as the flow was started for."""
        now = utcnow()
        next_path = safe_next_path(str(flow.get("next")), "/account")
        name = provider.display_name(current_locale.get())
        if flow["purpose"] == "link":
            user = viewer_of(request)
            if user is None or user.id != flow.get("user_id"):
                raise OIDCFailure(OIDCFailure.FLOW, "link finished by someone else than who started it")
            linked = await identities.link_identity(user.id, account, now=now)
            message = _("{provider} is now linked to your account.") if linked else None
            flash(
                request,
                (message or _("{provider} was already linked to your account.")).format(provider=name),
            )
            return Redirect(path="/account/identities", status_code=303)
        if flow["purpose"] == "confirm":
            offer = link_offer(request)
            owner = await identities.identity_owner(account.issuer, account.subject)
            if owner is None or owner != offer["user_id"]:
                raise OIDCFailure(
                    OIDCFailure.NOT_THE_SAME_ACCOUNT, f"{owner} confirmed for {offer['user_id']}"
                )
            return await confirmed_link(request, offer, signed_in_with)
        outcome = await identities.sign_in_with_identity(
            provider, account, locale=current_locale.get(), now=now
        )
        if isinstance(outcome, identities.ConfirmLink):
            request.session[OFFER_KEY] = {
                **account.__dict__,
                "user_id": outcome.user_id,
                "id_token": signed_in_with["id_token"],
                "next": next_path,
                "expires": time.time() + FLOW_LIFETIME_SECONDS,
            }
            return Redirect(path="/oidc/link/confirm", status_code=303)
        start_session(request, outcome.user_id, signed_in_with)
        if outcome.created:
            flash(
                request,
                _("Welcome to Kyoso. Your account was created with {provider}.").format(provider=name),
            )
        else:
            flash(request, _("You are signed in with {provider}.").format(provider=name))
        return Redirect(path=next_path, status_code=303)

    @get("/link/confirm", name="oidc_confirm_link")
    async def confirm_page(self, request: Req, settings: NamedDependency[Settings]) -> Response[Any]:
        """Ask the owner of the account with this email to prove it before the identity is linked."""
        try:
            offer = link_offer(request)
        except OIDCFailure as failure:
            return failure_page(request, None, failure)
        return await confirm_template(request, settings, offer, {})

    @post("/link/confirm", status_code=HTTP_200_OK)
    async def confirm_with_password(self, request: Req, settings: NamedDependency[Settings]) -> Response[Any]:
        """The existing account's password proves its owner is here: link, and sign in."""
        await CONFIRM_LIMIT.check(request.app.stores.get("rate_limit"), request)
        try:
            offer = link_offer(request)
        except OIDCFailure as failure:
            return failure_page(request, None, failure)
        values = await form_values(request)
        user_id = await services.authenticate(str(offer["email"]), values.get("password", ""))
        if user_id is None or user_id != offer["user_id"]:
            errors = {"form": _("The password is incorrect.")}
            return await confirm_template(request, settings, offer, errors)
        signed_in_with = {"provider": str(offer["provider_id"]), "id_token": str(offer["id_token"])}
        try:
            return await confirmed_link(request, offer, signed_in_with)
        except OIDCFailure as failure:
            return failure_page(request, None, failure)


async def confirmed_link(
    request: Req, offer: dict[str, Any], signed_in_with: dict[str, str]
) -> Response[Any]:
    """Link the waiting identity to the account whose owner just proved it, and sign them in."""
    user_id = int(offer["user_id"])
    if not await User.exists().where((User.id == user_id) & (User.is_active == True)).run():  # noqa: E712 (Piccolo SQL)
        raise OIDCFailure(OIDCFailure.INACTIVE, f"user {user_id} is deactivated")
    await identities.link_identity(user_id, account_of(offer), now=utcnow())
    start_session(request, user_id, signed_in_with)
    flash(request, _("Your accounts are linked. Next time you can sign in with either."), "success")
    return Redirect(path=str(offer.get("next") or "/account"), status_code=303)


async def confirm_template(
    request: Req, settings: Settings, offer: dict[str, Any], errors: dict[str, str]
) -> Template:
    """The confirmation page: the password form and/or the account's other providers."""
    user_id = int(offer["user_id"])
    linked = {row["provider"] for row in await identities.identities_of(user_id)}
    locale = current_locale.get()
    return Template(
        "accounts/oidc/confirm_link.html",
        context={
            "provider_name": provider_by_id(settings, str(offer["provider_id"])).display_name(locale),
            "email": offer["email"],
            "has_password": await identities.has_password(user_id),
            "providers": [
                {"id": p.id, "name": p.display_name(locale)}
                for p in settings.oidc_providers
                if p.id in linked
            ],
            "errors": errors,
        },
        status_code=HTTP_422_UNPROCESSABLE_ENTITY if errors else HTTP_200_OK,
    )


class IdentityController(Controller):
    """The signed-in user's linked identities: list, link another, unlink."""

    path = "/account/identities"
    guards = [signed_in]  # noqa: RUF012 (Litestar reads this class attribute)

    @get("/", name="account_identities")
    async def list_identities(self, request: Req, settings: NamedDependency[Settings]) -> Template:
        """Each way to sign in, with link and unlink buttons exactly where the policies allow them."""
        user = viewer_of(request)
        if user is None:
            raise NotFoundException
        rows = await identities.identities_of(user.id)
        locale = current_locale.get()
        names = {p.id: p.display_name(locale) for p in settings.oidc_providers}
        linked = {row["provider"] for row in rows}
        context = {
            "identities": [{**row, "name": names.get(row["provider"], row["provider"])} for row in rows],
            "has_password": await identities.has_password(user.id),
            "count": len(rows),
            "linkable": [
                {
                    "name": p.display_name(locale),
                    "url": identities.link_start_path(settings.secret_key, p.id, user.id),
                }
                for p in settings.oidc_providers
                if p.id not in linked and policies.can_link_identity(user)
            ],
        }
        return page_or_fragment(
            request, "accounts/oidc/identities.html", "accounts/oidc/_identities.html", context
        )

    @post("/{identity_id:int}/unlink", status_code=HTTP_200_OK)
    async def unlink(self, request: Req, identity_id: FromPath[int]) -> Response[Any]:
        """Unlink one identity (refused for the last way to sign in)."""
        await identities.unlink_identity(viewer_of(request), identity_id)
        flash(request, _("The sign-in method was removed."), "success")
        return redirect_after_post(request, "/account/identities")


async def provider_logout_page(request: Req, settings: Settings) -> Template | None:
    """After a provider sign-in, a page that continues to the provider's logout (when it offers one).

    A redirect would do, but the sign-out form's POST may not redirect to another site under the CSP's
    form-action 'self'; a page that moves on by itself (and has a link) is not a form submission.
    """
    signed_in_with = session_of(request).get(SIGNIN_KEY)
    if not isinstance(signed_in_with, dict):
        return None
    try:
        provider = provider_by_id(settings, str(signed_in_with.get("provider")))
        metadata = await oidc.provider_metadata(provider)
    except (NotFoundException, OIDCFailure) as problem:
        log.warning("No provider logout after sign-out: %r", problem)
        return None
    url = oidc.end_session_url(
        provider, metadata, str(signed_in_with.get("id_token")), settings.base_url + "/"
    )
    if url is None:
        return None
    # The page is for someone signed out: no signed-in menu (its polling would ask them to sign in again).
    request.scope["user"] = None
    return Template(
        "accounts/oidc/signed_out.html",
        context={"logout_url": url, "provider_name": provider.display_name(current_locale.get())},
    )


CONTROLLERS = [OIDCController, IdentityController]
