"""The application factory: every controller, middleware and store registered explicitly."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi.config import OpenAPIConfig
from litestar.plugins.htmx import HTMXPlugin, HTMXRequest
from litestar.static_files import create_static_files_router
from piccolo.engine.postgres import PostgresEngine

from app.accounts import policies as account_policies
from app.accounts.oidc_routes import CONTROLLERS as OIDC_CONTROLLERS
from app.accounts.recovery_routes import CONTROLLERS as RECOVERY_CONTROLLERS
from app.accounts.routes import CONTROLLERS as ACCOUNT_CONTROLLERS
from app.accounts.viewer import ViewerMiddleware
from app.catalog import policies as catalog_policies
from app.catalog.api import CONTROLLERS as CATALOG_OPEN_DATA_CONTROLLERS
from app.catalog.catalog_feeds import CONTROLLERS as CATALOG_FEED_CONTROLLERS
from app.catalog.catalogue_routes import CONTROLLERS as CATALOGUE_CONTROLLERS
from app.catalog.collaboration_routes import CONTROLLERS as COLLABORATION_CONTROLLERS
from app.catalog.municipality_routes import CONTROLLERS as MUNICIPALITY_CONTROLLERS
from app.catalog.output_routes import CONTROLLERS as OUTPUT_CONTROLLERS
from app.challenges import policies as challenge_policies
from app.challenges.api import CONTROLLERS as OPEN_DATA_CONTROLLERS
from app.challenges.attachments import AttachmentController
from app.challenges.feeds import CONTROLLERS as FEED_CONTROLLERS
from app.challenges.routes import CONTROLLERS as CHALLENGE_CONTROLLERS
from app.database.registry import current_engine
from app.database.sqlite import KyosoSQLiteEngine
from app.jobs import FREQUENT_JOBS, SCHEDULED_JOBS
from app.judging import policies as judging_policies
from app.judging.audit_routes import CONTROLLERS as AUDIT_CONTROLLERS
from app.judging.results_routes import CONTROLLERS as RESULTS_CONTROLLERS
from app.judging.scorecard_routes import CONTROLLERS as SCORECARD_CONTROLLERS
from app.judging.setup_routes import CONTROLLERS as ROUND_SETUP_CONTROLLERS
from app.notifications import policies as notification_policies
from app.notifications.routes import CONTROLLERS as NOTIFICATION_CONTROLLERS
from app.notifications.worker import run_worker
from app.payments import policies as payment_policies
from app.payments.routes import CONTROLLERS as PAYMENT_CONTROLLERS
from app.payments.webhook_routes import WEBHOOK_PATH
from app.search.routes import CONTROLLERS as SEARCH_CONTROLLERS
from app.settings import PROJECT_ROOT, Settings
from app.submissions import policies as submission_policies
from app.submissions.form_builder_routes import CONTROLLERS as FORM_BUILDER_CONTROLLERS
from app.submissions.review_routes import CONTROLLERS as REVIEW_CONTROLLERS
from app.submissions.routes import CONTROLLERS as SUBMISSION_CONTROLLERS
from app.web.errors import EXCEPTION_HANDLERS
from app.web.i18n import LocaleMiddleware
from app.web.page_cache import AnonymousPageCacheMiddleware
from app.web.routes import CONTROLLERS as SITE_CONTROLLERS
from app.web.security import security_headers_hook
from app.web.sessions import purge_expired_sessions_forever, session_config
from app.web.stores import store_registry
from app.web.templating import policies_of, register_policies, template_config


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the Kyoso web application from `settings` (default: the environment)."""
    settings = settings or Settings.from_env()
    register_policies(policies_of(account_policies))
    register_policies(policies_of(challenge_policies))
    register_policies(policies_of(notification_policies))
    register_policies(policies_of(submission_policies))
    register_policies(policies_of(judging_policies))
    register_policies(policies_of(catalog_policies))
    register_policies(policies_of(payment_policies))
    templates = template_config()

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = current_engine()
        if isinstance(engine, PostgresEngine):
            await engine.start_connection_pool(min_size=1, max_size=10)
        purge = asyncio.create_task(purge_expired_sessions_forever(app.stores.get("sessions")))
        # Mail and scheduled jobs (closing at deadlines, reminders) run here unless a worker process does.
        worker = (
            asyncio.create_task(run_worker(settings, SCHEDULED_JOBS, frequent_jobs=FREQUENT_JOBS))
            if settings.worker_in_process
            else None
        )
        # Everything loaded so far (modules, templates, dictionaries) lives as long as the process: moving it
        # out of the collector's sight keeps full collections short, and they were a visible share of p95.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            purge.cancel()
            if worker is not None:
                worker.cancel()
            if isinstance(engine, PostgresEngine):
                await engine.close_connection_pool()
            elif isinstance(engine, KyosoSQLiteEngine):
                await engine.close_idle_connections()

    application = Litestar(
        route_handlers=[
            *SITE_CONTROLLERS,
            *ACCOUNT_CONTROLLERS,
            *OIDC_CONTROLLERS,
            *RECOVERY_CONTROLLERS,
            *CHALLENGE_CONTROLLERS,
            AttachmentController,
            *OPEN_DATA_CONTROLLERS,
            *FEED_CONTROLLERS,
            *NOTIFICATION_CONTROLLERS,
            *SUBMISSION_CONTROLLERS,
            *FORM_BUILDER_CONTROLLERS,
            *REVIEW_CONTROLLERS,
            *AUDIT_CONTROLLERS,
            *ROUND_SETUP_CONTROLLERS,
            *SCORECARD_CONTROLLERS,
            *RESULTS_CONTROLLERS,
            *OUTPUT_CONTROLLERS,
            *COLLABORATION_CONTROLLERS,
            *CATALOG_OPEN_DATA_CONTROLLERS,
            *CATALOG_FEED_CONTROLLERS,
            *CATALOGUE_CONTROLLERS,
            *MUNICIPALITY_CONTROLLERS,
            *SEARCH_CONTROLLERS,
            *PAYMENT_CONTROLLERS,
            create_static_files_router(path="/static", directories=[PROJECT_ROOT / "static"], name="static"),
        ],
        dependencies={"settings": Provide(lambda: settings, use_cache=True, sync_to_thread=False)},
        # Templates read the identity providers from here (the sign-in page's buttons).
        state=State({"oidc_providers": settings.oidc_providers}),
        middleware=[
            DefineMiddleware(LocaleMiddleware),
            session_config(secure=settings.is_https).middleware,
            DefineMiddleware(ViewerMiddleware),
        ],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name="kyoso_csrf",
            cookie_secure=settings.is_https,
            cookie_httponly=True,
            cookie_samesite="lax",
            header_name="x-csrftoken",
            # Unsubscribe links are POSTed by mail clients (RFC 8058): the signed token is the authority.
            # Stripe's webhook carries no cookie: its signature over the raw body is the authority.
            exclude=["/healthz", "/readyz", "/static", "/notifications/unsubscribe/", WEBHOOK_PATH],
        ),
        stores=store_registry(settings),
        plugins=[HTMXPlugin()],
        request_class=HTMXRequest,
        template_config=templates,
        exception_handlers=EXCEPTION_HANDLERS,
        before_send=[security_headers_hook(settings.is_https)],
        request_max_body_size=settings.max_body_bytes,
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(title="Kyoso", version="0.1.0", path="/schema"),
        debug=settings.debug,
    )
    # Outside Litestar's middleware (inside its before_send hooks, so security headers still apply):
    # cached anonymous pages skip session, CSRF and routing entirely.
    application.asgi_handler = AnonymousPageCacheMiddleware(application.asgi_handler)
    return application


app = create_app()
