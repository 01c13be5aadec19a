"""Pages of accounts: sign up, sign in and out, the account page, organizations, invitations, bureaus."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_422_UNPROCESSABLE_ENTITY

from app.accounts import policies, services
from app.accounts.oidc_routes import provider_logout_page
from app.accounts.tables import Bureau, Membership, Organization, StaffRole, User
from app.accounts.viewer import SESSION_USER_KEY, Viewer, viewer_of
from app.clock import utcnow
from app.settings import Settings
from app.validation import InvalidInput
from app.web.flash import flash
from app.web.forms import form_values, safe_next_path
from app.web.guards import signed_in
from app.web.htmx import page_or_fragment, redirect_after_post
from app.web.i18n import current_locale
from app.web.i18n import gettext as _
from app.web.ratelimit import RateLimit
from app.web.sessions import rotate_session_id

SIGN_IN_WINDOW_SECONDS = 300
SIGN_UP_LIMIT = RateLimit(action="sign-up", attempts=5, window_seconds=3600)

Req = Request[Any, Any, Any]
NextParam = Annotated[str | None, QueryParameter(name="next", required=False)]


def signed_in_viewer(request: Req) -> Viewer:
    """The signed-in user; behind the `signed_in` guard this never raises."""
    user = viewer_of(request)
    if user is None:
        raise NotAuthorizedException
    return user


def form_page(
    request: Req, page: str, values: dict[str, str], errors: dict[str, str], **extra: Any
) -> Template:
    """Re-render a form (page or its fragment) with what was typed and each field's error (422)."""
    fragment = page.replace("/", "/_", 1).replace(".html", "_form.html")
    status = HTTP_422_UNPROCESSABLE_ENTITY if errors else 200
    return page_or_fragment(request, page, fragment, {"values": values, "errors": errors, **extra}, status)


class SessionController(Controller):
    """Sign up, sign in and sign out with a local account."""

    @get("/signup", name="signup")
    async def signup_page(self, request: Req) -> Template | Redirect:
        """The sign-up form."""
        if not policies.can_sign_up(viewer_of(request)):
            return Redirect(path="/account")
        return form_page(request, "accounts/signup.html", {}, {})

    @post("/signup", status_code=HTTP_200_OK)
    async def signup(self, request: Req, settings: NamedDependency[Settings]) -> Template | Response[Any]:
        """Create the account, sign in, and go to the account page."""
        await SIGN_UP_LIMIT.check(request.app.stores.get("rate_limit"), request)
        values = await form_values(request)
        try:
            user_id = await services.sign_up(
                email=values.get("email", ""),
                password=values.get("password", ""),
                display_name=values.get("display_name", ""),
                locale=current_locale.get(),
                secret_key=settings.secret_key,
                now=utcnow(),
            )
        except InvalidInput as invalid:
            values.pop("password", None)
            return form_page(request, "accounts/signup.html", values, invalid.errors)
        start_session(request, user_id)
        flash(
            request,
            _("Welcome to Kyoso. Your account is ready. We sent you an email to confirm your address."),
            "success",
        )
        return redirect_after_post(request, "/account")

    @get("/signin", name="signin")
    async def signin_page(self, request: Req, next_path: NextParam = None) -> Template:
        """The sign-in form."""
        return form_page(request, "accounts/signin.html", {"next": safe_next_path(next_path, "/account")}, {})

    @post("/signin", status_code=HTTP_200_OK)
    async def signin(self, request: Req, settings: NamedDependency[Settings]) -> Template | Response[Any]:
        """Check the password; the same message for an unknown email and a wrong password."""
        attempts = settings.sign_in_attempts
        limit = RateLimit(action="sign-in", attempts=attempts, window_seconds=SIGN_IN_WINDOW_SECONDS)
        await limit.check(request.app.stores.get("rate_limit"), request)
        values = await form_values(request)
        user_id = await services.authenticate(values.get("email", ""), values.get("password", ""))
        if user_id is None:
            values.pop("password", None)
            errors = {"form": _("The email or password is incorrect.")}
            return form_page(request, "accounts/signin.html", values, errors)
        start_session(request, user_id)
        return redirect_after_post(request, safe_next_path(values.get("next"), "/account"))

    @post("/signout", status_code=HTTP_200_OK)
    async def signout(self, request: Req, settings: NamedDependency[Settings]) -> Response[Any]:
        """End the session (and, after a provider sign-in, continue to the provider's logout)."""
        provider_logout = await provider_logout_page(request, settings)
        request.clear_session()
        return provider_logout or redirect_after_post(request, "/")


def start_session(request: Req, user_id: int) -> None:
    """Sign `user_id` in under a fresh session id."""
    rotate_session_id(request.scope)
    request.set_session({SESSION_USER_KEY: user_id})


class AccountController(Controller):
    """The signed-in user's own page."""

    guards = [signed_in]  # noqa: RUF012 (Litestar reads this class attribute)

    @get("/account", name="account")
    async def account(self, request: Req) -> Template:
        """Profile, roles and organizations of the signed-in user."""
        user = signed_in_viewer(request)
        organizations = (
            await Organization.select(
                Organization.id, Organization.name_ja, Organization.name_en, Organization.corporate_number
            )
            .where(Organization.id.is_in(list(user.memberships) or [-1]))
            .order_by(Organization.name_ja)
            .run()
        )
        bureaus = (
            await Bureau.select(Bureau.id, Bureau.name_ja, Bureau.name_en)
            .where(Bureau.id.is_in(list(user.official_bureau_ids) or [-1]))
            .run()
        )
        verified = await User.select(User.email_verified_at).where(User.id == user.id).first().run()
        return Template(
            "accounts/account.html",
            context={
                "user": user,
                "organizations": organizations,
                "bureaus": bureaus,
                "email_verified_at": verified["email_verified_at"] if verified else None,
            },
        )


class OrganizationController(Controller):
    """Startups: register one, see its members, invite people."""

    path = "/organizations"
    guards = [signed_in]  # noqa: RUF012 (Litestar reads this class attribute)

    @get("/new", name="organization_new")
    async def new(self, request: Req) -> Template:
        """The registration form."""
        return form_page(request, "accounts/organization_new.html", {}, {})

    @post("/", status_code=HTTP_200_OK)
    async def create(self, request: Req) -> Template | Response[Any]:
        """Register the organization with the current user as owner."""
        values = await form_values(request)
        form = services.OrganizationInput(
            **{field: values.get(field, "") for field in services.OrganizationInput.__dataclass_fields__}
        )
        try:
            organization_id = await services.create_organization(viewer_of(request), form, now=utcnow())
        except InvalidInput as invalid:
            return form_page(request, "accounts/organization_new.html", values, invalid.errors)
        flash(request, _("Your organization is registered."), "success")
        return redirect_after_post(request, f"/organizations/{organization_id}")

    @get("/{organization_id:int}", name="organization")
    async def detail(self, request: Req, organization_id: FromPath[int]) -> Template:
        """The organization, its members, and (for owners) the invitation form."""
        return await organization_page(request, organization_id, {}, {}, None)

    @post("/{organization_id:int}/invitations", status_code=HTTP_200_OK)
    async def invite(
        self, request: Req, organization_id: FromPath[int], settings: NamedDependency[Settings]
    ) -> Template:
        """Create an invitation link for an email address."""
        values = await form_values(request)
        try:
            token = await services.invite_member(
                viewer_of(request),
                organization_id,
                email=values.get("email", ""),
                role=values.get("role", "member"),
                secret_key=settings.secret_key,
                now=utcnow(),
            )
        except InvalidInput as invalid:
            return await organization_page(request, organization_id, values, invalid.errors, None)
        link = f"{settings.base_url}/invitations/{token}"
        return await organization_page(request, organization_id, {}, {}, link)


async def organization_page(
    request: Req, organization_id: int, values: dict[str, str], errors: dict[str, str], link: str | None
) -> Template:
    """The organization page, or its invitation fragment for HTMX."""
    if not policies.can_view_organization(viewer_of(request), organization_id):
        raise NotFoundException
    organization = await Organization.select().where(Organization.id == organization_id).first().run()
    if organization is None:
        raise NotFoundException
    members = (
        await Membership.select(
            Membership.role, Membership.joined_at, Membership.user.display_name, Membership.user.email
        )
        .where(Membership.organization == organization_id)
        .order_by(Membership.joined_at)
        .run()
    )
    context = {
        "organization": organization,
        "members": members,
        "values": values,
        "errors": errors,
        "invitation_link": link,
    }
    status = HTTP_422_UNPROCESSABLE_ENTITY if errors else 200
    return page_or_fragment(
        request, "accounts/organization.html", "accounts/_invitation_form.html", context, status
    )


class InvitationController(Controller):
    """Opening and accepting an invitation link."""

    path = "/invitations/{token:str}"

    @get("/", name="invitation")
    async def show(self, request: Req, token: FromPath[str], settings: NamedDependency[Settings]) -> Template:
        """What the invitation is for, and a button to accept it."""
        try:
            invitation = await services.read_invitation(token, secret_key=settings.secret_key, now=utcnow())
        except services.InvitationUnusable:
            return Template("accounts/invitation_unusable.html", status_code=404)
        may_accept = policies.can_accept_invitation(viewer_of(request), str(invitation["email"]))
        return Template(
            "accounts/invitation.html",
            context={"invitation": invitation, "token": token, "may_accept": may_accept},
        )

    @post("/accept", guards=[signed_in], status_code=HTTP_200_OK)
    async def accept(
        self, request: Req, token: FromPath[str], settings: NamedDependency[Settings]
    ) -> Template | Response[Any]:
        """Join the organization."""
        try:
            organization_id = await services.accept_invitation(
                viewer_of(request), token, secret_key=settings.secret_key, now=utcnow()
            )
        except services.InvitationUnusable:
            return Template("accounts/invitation_unusable.html", status_code=404)
        flash(request, _("You joined the organization."), "success")
        return redirect_after_post(request, f"/organizations/{organization_id}")


class BureauAdminController(Controller):
    """Admins manage bureaus (局) and who works for them."""

    path = "/admin/bureaus"
    guards = [signed_in]  # noqa: RUF012 (Litestar reads this class attribute)

    @get("/", name="admin_bureaus")
    async def list_bureaus(self, request: Req) -> Template:
        """Every bureau with its officials, and the forms to add either."""
        return await bureaus_page(request, {}, {})

    @post("/", status_code=HTTP_200_OK)
    async def create(self, request: Req) -> Template | Response[Any]:
        """Add a bureau."""
        values = await form_values(request)
        try:
            await services.create_bureau(
                viewer_of(request),
                slug=values.get("slug", ""),
                name_ja=values.get("name_ja", ""),
                name_en=values.get("name_en", ""),
                now=utcnow(),
            )
        except InvalidInput as invalid:
            return await bureaus_page(request, values, invalid.errors)
        flash(request, _("The bureau was added."), "success")
        return redirect_after_post(request, "/admin/bureaus")

    @post("/{bureau_id:int}/officials", status_code=HTTP_200_OK)
    async def add_official(self, request: Req, bureau_id: FromPath[int]) -> Template | Response[Any]:
        """Make an existing user an official of this bureau."""
        values = await form_values(request)
        try:
            await services.grant_staff_role(
                viewer_of(request),
                email=values.get("email", ""),
                role="official",
                bureau_id=bureau_id,
                now=utcnow(),
            )
        except InvalidInput as invalid:
            return await bureaus_page(request, {**values, "bureau_id": str(bureau_id)}, invalid.errors)
        flash(request, _("The official was added."), "success")
        return redirect_after_post(request, "/admin/bureaus")


async def bureaus_page(request: Req, values: dict[str, str], errors: dict[str, str]) -> Template:
    """The bureau admin page (two queries whatever the number of bureaus)."""
    if not policies.can_manage_bureaus(viewer_of(request)):
        raise NotFoundException
    bureaus = (
        await Bureau.select(Bureau.id, Bureau.slug, Bureau.name_ja, Bureau.name_en).order_by(Bureau.id).run()
    )
    officials = (
        await StaffRole.select(StaffRole.bureau, StaffRole.user.display_name, StaffRole.user.email)
        .where(StaffRole.role == "official")
        .run()
    )
    by_bureau: dict[int, list[dict[str, Any]]] = {}
    for row in officials:
        by_bureau.setdefault(row["bureau"], []).append(row)
    status = HTTP_422_UNPROCESSABLE_ENTITY if errors else 200
    return Template(
        "admin/bureaus.html",
        context={"bureaus": bureaus, "officials": by_bureau, "values": values, "errors": errors},
        status_code=status,
    )


CONTROLLERS = [
    SessionController,
    AccountController,
    OrganizationController,
    InvitationController,
    BureauAdminController,
]
