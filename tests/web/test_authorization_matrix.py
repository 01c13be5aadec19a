"""The authorization matrix: every route of the app × every role × the states that matter → the answer.

Each row of MATRIX is (method, route as in the app's route table without parameter types, state, the answers
of the nine roles in ROLES order). An answer is a status code, `S` (a redirect to sign in), `a|b` (either),
`-` (not asked), or `ok` for an allowed unsafe request: the handler ran (anything but 401/403/404/405 or a
redirect to sign in). Unsafe requests carry an empty form, so an allowed one is usually refused as invalid
(422); those that act anyway run after every other row, the ones in LAST_ROUTES at the very end.

States: `-` (none), `draft` / `published` / `results` (the challenges "draft-challenge", "smart-city" with its
open document round, and "results-out" with results published; for catalogue routes the draft and the
published output), `submitted` (the owner's application), `other-draft` (the other startup's draft), `winner`
(the owner's winning application of "results-out"). Ids of the published challenge's round, form field or
criterion asked under another challenge's slug must be 404 for everyone: ids never cross challenges.

A route missing from the matrix fails the test with the row it would need (its current answers, to check
against the policies before pasting), so no route ships without its rules. OPTIONS is left out: Litestar
answers it itself, with no handler of ours.
"""

from __future__ import annotations

import contextlib
import time

from litestar import Litestar

from app.settings import Settings
from tests.support.client import WebClient
from tests.web.authorization_matrix_runner import (
    Cell,
    app_routes,
    ask,
    in_running_order,
    matches,
    role_client,
    url_of,
)
from tests.web.authorization_world import ROLES, build_world

# anonymous, startup owner, other startup, assigned judge, unassigned judge, conflicted judge,
# bureau official, other bureau's official, admin
MATRIX: tuple[tuple[str, str, str, str], ...] = (
    # Rows in route order. Public pages, feeds, open data and the API answer everyone alike.
    ("GET", "/", "-", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/accessibility", "-", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/account", "-", "S 200 200 200 200 200 200 200 200"),
    ("GET", "/account/identities", "-", "S 200 200 200 200 200 200 200 200"),
    ("GET", "/account/notifications", "-", "S 200 200 200 200 200 200 200 200"),
    ("GET", "/account/verify/{token}", "-", "400 400 400 400 400 400 400 400 400"),
    # Admin pages: admins only; officials and everyone else get 404.
    ("GET", "/admin/audit", "-", "S 404 404 404 404 404 404 404 200"),
    ("GET", "/admin/bureaus", "-", "S 404 404 404 404 404 404 404 200"),
    ("GET", "/admin/municipalities", "-", "S 404 404 404 404 404 404 404 200"),
    ("GET", "/admin/notifications", "-", "S 404 404 404 404 404 404 404 200"),
    ("GET", "/admin/notifications/{notification_id}", "-", "S 404 404 404 404 404 404 404 200"),
    ("GET", "/api/v1/challenges", "-", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/api/v1/challenges/{slug}", "draft", "404 404 404 404 404 404 404 404 404"),
    ("GET", "/api/v1/challenges/{slug}", "published", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/api/v1/challenges/{slug}", "results", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/api/v1/municipalities/{code}/adoptions", "-", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/api/v1/outputs", "-", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/api/v1/outputs/{slug}", "published", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/api/v1/outputs/{slug}", "draft", "404 404 404 404 404 404 404 404 404"),
    ("GET", "/api/v1/search", "-", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/bureau/challenges", "-", "S 404 404 404 404 404 200 200 200"),
    ("GET", "/cases", "-", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/cases/challenge/{slug}", "draft", "404 404 404 404 404 404 200 404 200"),
    ("GET", "/cases/challenge/{slug}", "published", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/cases/challenge/{slug}", "results", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/cases/{collaboration_id}", "-", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/catalog", "-", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/catalog/dump.csv", "-", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/catalog/dump.json", "-", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/catalog/import", "-", "S 200 200 404 404 404 200 200 200"),
    ("GET", "/catalog/new", "-", "S 200 200 404 404 404 200 200 200"),
    ("GET", "/catalog/{slug}", "published", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/catalog/{slug}", "draft", "404 404 404 404 404 404 200 200 200"),
    ("GET", "/catalog/{slug}/edit", "published", "S 200 403 403 403 403 200 200 200"),
    ("GET", "/catalog/{slug}/edit", "draft", "S 404 404 404 404 404 200 200 200"),
    ("GET", "/catalog/{slug}/publiccode.yml", "published", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/catalog/{slug}/publiccode.yml", "draft", "404 404 404 404 404 404 200 200 200"),
    ("GET", "/catalog/{slug}/sponsorship", "published", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/catalog/{slug}/sponsorship", "draft", "404 404 404 404 404 404 404 404 404"),
    ("GET", "/challenges", "-", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/challenges.csv", "-", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/challenges/new", "-", "S 404 404 404 404 404 200 200 200"),
    # A draft exists only for its bureau (and admins): 404 to everyone else, never 403.
    ("GET", "/challenges/{slug}", "draft", "404 404 404 404 404 404 200 404 200"),
    ("GET", "/challenges/{slug}", "published", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/challenges/{slug}", "results", "200 200 200 200 200 200 200 200 200"),
    # Applications, exports and decks: the owning bureau and admins only; 404 to everyone else.
    ("GET", "/challenges/{slug}/applications", "draft", "S 404 404 404 404 404 200 404 200"),
    ("GET", "/challenges/{slug}/applications", "published", "S 404 404 404 404 404 200 404 200"),
    ("GET", "/challenges/{slug}/applications", "results", "S 404 404 404 404 404 200 404 200"),
    ("GET", "/challenges/{slug}/applications/decks.zip", "draft", "S 404 404 404 404 404 200 404 200"),
    ("GET", "/challenges/{slug}/applications/decks.zip", "published", "S 404 404 404 404 404 200 404 200"),
    ("GET", "/challenges/{slug}/applications/decks.zip", "results", "S 404 404 404 404 404 200 404 200"),
    ("GET", "/challenges/{slug}/applications/export.csv", "draft", "S 404 404 404 404 404 200 404 200"),
    ("GET", "/challenges/{slug}/applications/export.csv", "published", "S 404 404 404 404 404 200 404 200"),
    ("GET", "/challenges/{slug}/applications/export.csv", "results", "S 404 404 404 404 404 200 404 200"),
    ("GET", "/challenges/{slug}/applications/export.xlsx", "draft", "S 404 404 404 404 404 200 404 200"),
    ("GET", "/challenges/{slug}/applications/export.xlsx", "published", "S 404 404 404 404 404 200 404 200"),
    ("GET", "/challenges/{slug}/applications/export.xlsx", "results", "S 404 404 404 404 404 200 404 200"),
    ("GET", "/challenges/{slug}/applications/{submission_id}", "draft", "S 404 404 404 404 404 404 404 404"),
    (
        "GET",
        "/challenges/{slug}/applications/{submission_id}",
        "published",
        "S 404 404 404 404 404 200 404 200",
    ),
    (
        "GET",
        "/challenges/{slug}/applications/{submission_id}",
        "results",
        "S 404 404 404 404 404 200 404 200",
    ),
    ("GET", "/challenges/{slug}/apply", "draft", "S 404 404 404 404 404 200 404 200"),
    ("GET", "/challenges/{slug}/apply", "published", "S 200 200 200 200 200 200 200 200"),
    ("GET", "/challenges/{slug}/apply", "results", "S 200 200 200 200 200 200 200 200"),
    (
        "GET",
        "/challenges/{slug}/attachments/{attachment_id}/{filename}",
        "draft",
        "404 404 404 404 404 404 200 404 200",
    ),
    (
        "GET",
        "/challenges/{slug}/attachments/{attachment_id}/{filename}",
        "published",
        "200 200 200 200 200 200 200 200 200",
    ),
    (
        "GET",
        "/challenges/{slug}/attachments/{attachment_id}/{filename}",
        "results",
        "404 404 404 404 404 404 404 404 404",
    ),
    ("GET", "/challenges/{slug}/calendar.ics", "draft", "404 404 404 404 404 404 404 404 404"),
    ("GET", "/challenges/{slug}/calendar.ics", "published", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/challenges/{slug}/calendar.ics", "results", "200 200 200 200 200 200 200 200 200"),
    # Editing a public challenge is refused with 403 (it exists for everyone); a draft is 404.
    ("GET", "/challenges/{slug}/edit", "draft", "S 404 404 404 404 404 200 404 200"),
    ("GET", "/challenges/{slug}/edit", "published", "S 403 403 403 403 403 200 403 200"),
    ("GET", "/challenges/{slug}/edit", "results", "S 403 403 403 403 403 403 403 403"),
    ("GET", "/challenges/{slug}/form", "draft", "S 404 404 404 404 404 200 404 200"),
    ("GET", "/challenges/{slug}/form", "published", "S 403 403 403 403 403 200 403 200"),
    ("GET", "/challenges/{slug}/form", "results", "S 403 403 403 403 403 403 403 403"),
    ("GET", "/challenges/{slug}/form/fields/{field_id}", "draft", "S 404 404 404 404 404 404 404 404"),
    ("GET", "/challenges/{slug}/form/fields/{field_id}", "published", "S 403 403 403 403 403 200 403 200"),
    ("GET", "/challenges/{slug}/form/fields/{field_id}", "results", "S 403 403 403 403 403 403 403 403"),
    ("GET", "/challenges/{slug}/pitch-day", "draft", "404 404 404 404 404 404 200 404 200"),
    ("GET", "/challenges/{slug}/pitch-day", "published", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/challenges/{slug}/pitch-day", "results", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/challenges/{slug}/pitch-day/attendees", "draft", "S 404 404 404 404 404 404 404 404"),
    ("GET", "/challenges/{slug}/pitch-day/attendees", "published", "S 404 404 404 404 404 200 404 200"),
    ("GET", "/challenges/{slug}/pitch-day/attendees", "results", "S 404 404 404 404 404 404 404 404"),
    ("GET", "/challenges/{slug}/results", "draft", "404 404 404 404 404 404 404 404 404"),
    ("GET", "/challenges/{slug}/results", "published", "404 404 404 404 404 404 404 404 404"),
    ("GET", "/challenges/{slug}/results", "results", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/challenges/{slug}/results/proposal", "draft", "S 404 404 404 404 404 200 404 200"),
    ("GET", "/challenges/{slug}/results/proposal", "published", "S 404 404 404 404 404 200 404 200"),
    ("GET", "/challenges/{slug}/results/proposal", "results", "S 404 404 404 404 404 200 404 200"),
    ("GET", "/challenges/{slug}/review-summary", "draft", "404 404 404 404 404 404 404 404 404"),
    ("GET", "/challenges/{slug}/review-summary", "published", "404 404 404 404 404 404 404 404 404"),
    ("GET", "/challenges/{slug}/review-summary", "results", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/challenges/{slug}/rounds", "draft", "S 404 404 404 404 404 200 404 200"),
    ("GET", "/challenges/{slug}/rounds", "published", "S 404 404 404 404 404 200 404 200"),
    ("GET", "/challenges/{slug}/rounds", "results", "S 404 404 404 404 404 200 404 200"),
    ("GET", "/challenges/{slug}/rounds/{round_id}", "draft", "S 404 404 404 404 404 404 404 404"),
    ("GET", "/challenges/{slug}/rounds/{round_id}", "published", "S 404 404 404 404 404 200 404 200"),
    ("GET", "/challenges/{slug}/rounds/{round_id}", "results", "S 404 404 404 404 404 200 404 200"),
    (
        "GET",
        "/challenges/{slug}/rounds/{round_id}/criteria/{criterion_id}",
        "draft",
        "S 404 404 404 404 404 404 404 404",
    ),
    (
        "GET",
        "/challenges/{slug}/rounds/{round_id}/criteria/{criterion_id}",
        "published",
        "S 404 404 404 404 404 200 404 200",
    ),
    (
        "GET",
        "/challenges/{slug}/rounds/{round_id}/criteria/{criterion_id}",
        "results",
        "S 404 404 404 404 404 404 404 404",
    ),
    ("GET", "/challenges/{slug}/rounds/{round_id}/ranking", "draft", "S 404 404 404 404 404 404 404 404"),
    ("GET", "/challenges/{slug}/rounds/{round_id}/ranking", "published", "S 404 404 404 404 404 200 404 200"),
    ("GET", "/challenges/{slug}/rounds/{round_id}/ranking", "results", "S 404 404 404 404 404 200 404 200"),
    ("GET", "/challenges/{slug}/rounds/{round_id}/scores.csv", "draft", "S 404 404 404 404 404 404 404 404"),
    (
        "GET",
        "/challenges/{slug}/rounds/{round_id}/scores.csv",
        "published",
        "S 404 404 404 404 404 200 404 200",
    ),
    (
        "GET",
        "/challenges/{slug}/rounds/{round_id}/scores.csv",
        "results",
        "S 404 404 404 404 404 200 404 200",
    ),
    ("GET", "/challenges/{slug}/rounds/{round_id}/scores.xlsx", "draft", "S 404 404 404 404 404 404 404 404"),
    (
        "GET",
        "/challenges/{slug}/rounds/{round_id}/scores.xlsx",
        "published",
        "S 404 404 404 404 404 200 404 200",
    ),
    (
        "GET",
        "/challenges/{slug}/rounds/{round_id}/scores.xlsx",
        "results",
        "S 404 404 404 404 404 200 404 200",
    ),
    ("GET", "/challenges/{slug}/rounds/{round_id}/slots", "draft", "S 404 404 404 404 404 404 404 404"),
    ("GET", "/challenges/{slug}/rounds/{round_id}/slots", "published", "S 404 404 404 404 404 404 404 404"),
    ("GET", "/challenges/{slug}/rounds/{round_id}/slots", "results", "S 404 404 404 404 404 404 404 404"),
    ("GET", "/challenges/{slug}/same-problem", "draft", "404 404 404 404 404 404 200 404 200"),
    ("GET", "/challenges/{slug}/same-problem", "published", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/challenges/{slug}/same-problem", "results", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/feeds/catalog.atom", "-", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/feeds/challenges.atom", "-", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/feeds/deadlines.ics", "-", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/healthz", "-", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/invitations/{token}", "-", "404 404 404 404 404 404 404 404 404"),
    # Judging: only the assigned judge who declared no conflict reads the application; 404 otherwise.
    ("GET", "/judging", "-", "S 200 200 200 200 200 200 200 200"),
    ("GET", "/judging/invitations/{token}", "-", "200 200 200 200 200 200 200 200 200"),
    (
        "GET",
        "/judging/rounds/{round_id}/submissions/{submission_id}",
        "-",
        "S 404 404 200 404 404 404 404 404",
    ),
    (
        "GET",
        "/judging/rounds/{round_id}/submissions/{submission_id}/files/{file_id}",
        "-",
        "S 404 404 200 404 404 404 404 404",
    ),
    ("GET", "/locale/{code}", "-", "303 303 303 303 303 303 303 303 303"),
    ("GET", "/my/applications", "-", "S 200 200 200 200 200 200 200 200"),
    ("GET", "/notifications", "-", "S 200 200 200 200 200 200 200 200"),
    ("GET", "/notifications/bell", "-", "S 200 200 200 200 200 200 200 200"),
    ("GET", "/notifications/unsubscribe/{token}", "-", "400 400 400 400 400 400 400 400 400"),
    ("GET", "/notifications/{notification_id}", "-", "S 302 404 404 404 404 404 404 404"),
    ("GET", "/oidc/link/confirm", "-", "400 400 400 400 400 400 400 400 400"),
    ("GET", "/oidc/{provider_id}/callback", "-", "404 404 404 404 404 404 404 404 404"),
    ("GET", "/oidc/{provider_id}/start", "-", "404 404 404 404 404 404 404 404 404"),
    ("GET", "/organizations/new", "-", "S 200 200 200 200 200 200 200 200"),
    ("GET", "/organizations/{organization_id}", "-", "S 200 404 404 404 404 404 404 200"),
    ("GET", "/password/forgot", "-", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/password/reset/{token}", "-", "400 400 400 400 400 400 400 400 400"),
    # Payments: the payer (the entry fee: the applicant) and the bureau paid; 404 to everyone else.
    ("GET", "/payments/entry/{submission_id}", "-", "S 200 404 404 404 404 200 404 200"),
    ("GET", "/payments/{payment_id}", "-", "S 404 200 404 404 404 200 404 200"),
    ("GET", "/payments/{payment_id}/pay", "-", "S 404 303 404 404 404 303 404 303"),
    ("GET", "/payments/{payment_id}/receipt", "-", "S 404 200 404 404 404 200 404 200"),
    ("GET", "/pitch-slots/{slot_file}", "-", "S 200 404 404 404 404 200 404 200"),
    ("GET", "/readyz", "-", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/schema", "-", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/schema/elements", "-", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/schema/oauth2-redirect.html", "-", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/schema/openapi.json", "-", "200 200 200 200 200 200 200 200 200"),
    # Litestar renders the same YAML for everyone, 2 s each: asked as anonymous and as admin only.
    ("GET", "/schema/openapi.yaml", "-", "200 - - - - - - - 200"),
    ("GET", "/schema/openapi.yml", "-", "200 - - - - - - - 200"),
    ("GET", "/schema/rapidoc", "-", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/schema/redoc", "-", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/schema/swagger", "-", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/schema/{path}", "-", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/search", "-", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/signin", "-", "200 200 200 200 200 200 200 200 200"),
    ("GET", "/signup", "-", "200 302 302 302 302 302 302 302 302"),
    ("GET", "/static/{file_path}", "-", "200 200 200 200 200 200 200 200 200"),
    # Applications are confidential: their organization and the owning bureau; 404 to everyone else.
    ("GET", "/submissions/{submission_id}", "submitted", "S 200 404 404 404 404 200 404 200"),
    ("GET", "/submissions/{submission_id}", "other-draft", "S 404 200 404 404 404 200 404 200"),
    ("GET", "/submissions/{submission_id}", "winner", "S 200 404 404 404 404 200 404 200"),
    ("GET", "/submissions/{submission_id}/feedback", "submitted", "S 404 404 404 404 404 404 404 404"),
    ("GET", "/submissions/{submission_id}/feedback", "other-draft", "S 404 404 404 404 404 404 404 404"),
    ("GET", "/submissions/{submission_id}/feedback", "winner", "S 200 404 404 404 404 404 404 404"),
    (
        "GET",
        "/submissions/{submission_id}/files/{file_id}/{filename}",
        "submitted",
        "S 200 404 404 404 404 200 404 200",
    ),
    (
        "GET",
        "/submissions/{submission_id}/files/{file_id}/{filename}",
        "other-draft",
        "S 404 404 404 404 404 404 404 404",
    ),
    (
        "GET",
        "/submissions/{submission_id}/files/{file_id}/{filename}",
        "winner",
        "S 404 404 404 404 404 404 404 404",
    ),
    ("GET", "/submissions/{submission_id}/pitch", "submitted", "S 200 404 404 404 404 404 404 404"),
    ("GET", "/submissions/{submission_id}/pitch", "other-draft", "S 404 200 404 404 404 404 404 404"),
    ("GET", "/submissions/{submission_id}/pitch", "winner", "S 200 404 404 404 404 404 404 404"),
    ("GET", "/submissions/{submission_id}/print", "submitted", "S 200 404 404 404 404 200 404 200"),
    ("GET", "/submissions/{submission_id}/print", "other-draft", "S 404 200 404 404 404 200 404 200"),
    ("GET", "/submissions/{submission_id}/print", "winner", "S 200 404 404 404 404 200 404 200"),
    ("GET", "/submissions/{submission_id}/receipt", "submitted", "S 200 404 404 404 404 200 404 200"),
    ("GET", "/submissions/{submission_id}/receipt", "other-draft", "S 404 200 404 404 404 200 404 200"),
    ("GET", "/submissions/{submission_id}/receipt", "winner", "S 200 404 404 404 404 200 404 200"),
    ("GET", "/tickets/{ticket_id}", "-", "S 404 200 404 404 404 200 404 200"),
    ("HEAD", "/static/{file_path}", "-", "200 200 200 200 200 200 200 200 200"),
    # Unsafe requests.
    ("POST", "/account/identities/{identity_id}/unlink", "-", "S 404 404 404 404 404 404 404 404"),
    ("POST", "/account/notifications", "-", "S ok ok ok ok ok ok ok ok"),
    ("POST", "/account/verify", "-", "S ok ok ok ok ok ok ok ok"),
    ("POST", "/admin/bureaus", "-", "S 403 403 403 403 403 403 403 ok"),
    ("POST", "/admin/bureaus/{bureau_id}/officials", "-", "S 403 403 403 403 403 403 403 ok"),
    ("POST", "/admin/municipalities/grants", "-", "S 404 404 404 404 404 404 404 ok"),
    ("POST", "/admin/municipalities/import", "-", "S 404 404 404 404 404 404 404 ok"),
    ("POST", "/admin/notifications/{notification_id}/retry", "-", "S 404 404 404 404 404 404 404 ok"),
    ("POST", "/catalog/import", "-", "S ok ok 404 404 404 ok ok ok"),
    ("POST", "/catalog/new", "-", "S ok ok 404 404 404 ok ok ok"),
    # Only officials of a municipality record adoptions, and no role here is one: 403 before the form is read.
    ("POST", "/catalog/{slug}/adoptions", "published", "S 403 403 403 403 403 403 403 403"),
    (
        "POST",
        "/catalog/{slug}/adoptions/{adoption_id}/confirm",
        "published",
        "S ok 403 403 403 403 403 403 ok",
    ),
    ("POST", "/catalog/{slug}/approve", "published", "S 403 403 403 403 403 403 403 403"),
    ("POST", "/catalog/{slug}/edit", "published", "S ok 403 403 403 403 ok ok ok"),
    ("POST", "/catalog/{slug}/sponsorship", "published", "S ok ok ok ok ok ok ok ok"),
    ("POST", "/catalog/{slug}/submit", "published", "S 403 403 403 403 403 403 403 403"),
    ("POST", "/challenges/new", "-", "S 404 404 404 404 404 ok ok ok"),
    ("POST", "/challenges/preview", "-", "S 404 404 404 404 404 ok ok ok"),
    # Startup members apply and ask; anyone without an organization is refused (403) before the form is read.
    ("POST", "/challenges/{slug}/apply", "published", "S ok ok 403 403 403 403 403 403"),
    ("POST", "/challenges/{slug}/attachments", "published", "S 403 403 403 403 403 ok 403 ok"),
    # The official removes the attachment first; the admin then finds it gone (404).
    (
        "POST",
        "/challenges/{slug}/attachments/{attachment_id}/remove",
        "published",
        "S 403 403 403 403 403 ok 403 ok|404",
    ),
    ("POST", "/challenges/{slug}/collaborations", "published", "S 404 404 404 404 404 404 404 404"),
    ("POST", "/challenges/{slug}/edit", "published", "S 403 403 403 403 403 ok 403 ok"),
    ("POST", "/challenges/{slug}/entry-fee", "published", "S 404 404 404 404 404 ok 404 ok"),
    ("POST", "/challenges/{slug}/follow", "published", "S ok ok ok ok ok ok ok ok"),
    ("POST", "/challenges/{slug}/form/fields", "published", "S 403 403 403 403 403 ok 403 ok"),
    ("POST", "/challenges/{slug}/form/fields/{field_id}", "published", "S 403 403 403 403 403 ok 403 ok"),
    (
        "POST",
        "/challenges/{slug}/form/fields/{field_id}/move/{direction}",
        "published",
        "S 403 403 403 403 403 ok 403 ok",
    ),
    (
        "POST",
        "/challenges/{slug}/form/fields/{field_id}/remove",
        "published",
        "S 403 403 403 403 403 ok 403 ok",
    ),
    ("POST", "/challenges/{slug}/pitch-day", "published", "S 404 404 404 404 404 ok 404 ok"),
    ("POST", "/challenges/{slug}/pitch-day/check-in", "published", "S 404 404 404 404 404 ok 404 ok"),
    ("POST", "/challenges/{slug}/pitch-day/register", "published", "S ok ok ok ok ok ok ok ok"),
    ("POST", "/challenges/{slug}/pitch-day/ticket-types", "published", "S 404 404 404 404 404 ok 404 ok"),
    ("POST", "/challenges/{slug}/questions", "published", "S ok ok 403 403 403 403 403 403"),
    # Results are proposed, approved and published only while judging: 422 for the bureau otherwise.
    ("POST", "/challenges/{slug}/results/proposal", "published", "S 404 404 404 404 404 422 404 422"),
    (
        "POST",
        "/challenges/{slug}/results/proposal/{proposal_id}/approve",
        "published",
        "S 404 404 404 404 404 422 404 422",
    ),
    (
        "POST",
        "/challenges/{slug}/results/proposal/{proposal_id}/publish",
        "published",
        "S 404 404 404 404 404 422 404 422",
    ),
    ("POST", "/challenges/{slug}/rounds", "published", "S 404 404 404 404 404 ok 404 ok"),
    ("POST", "/challenges/{slug}/rounds/{round_id}", "published", "S 404 404 404 404 404 ok 404 ok"),
    (
        "POST",
        "/challenges/{slug}/rounds/{round_id}/assignments",
        "published",
        "S 404 404 404 404 404 ok 404 ok",
    ),
    (
        "POST",
        "/challenges/{slug}/rounds/{round_id}/assignments/auto",
        "published",
        "S 404 404 404 404 404 ok 404 ok",
    ),
    (
        "POST",
        "/challenges/{slug}/rounds/{round_id}/assignments/{assignment_id}/reassign",
        "published",
        "S 404 404 404 404 404 ok 404 ok",
    ),
    (
        "POST",
        "/challenges/{slug}/rounds/{round_id}/assignments/{assignment_id}/remove",
        "published",
        "S 404 404 404 404 404 ok 404 ok",
    ),
    ("POST", "/challenges/{slug}/rounds/{round_id}/criteria", "published", "S 404 404 404 404 404 ok 404 ok"),
    (
        "POST",
        "/challenges/{slug}/rounds/{round_id}/criteria/{criterion_id}",
        "published",
        "S 404 404 404 404 404 ok 404 ok",
    ),
    (
        "POST",
        "/challenges/{slug}/rounds/{round_id}/criteria/{criterion_id}/remove",
        "published",
        "S 404 404 404 404 404 ok 404 ok",
    ),
    (
        "POST",
        "/challenges/{slug}/rounds/{round_id}/hidden-fields",
        "published",
        "S 404 404 404 404 404 ok 404 ok",
    ),
    ("POST", "/challenges/{slug}/rounds/{round_id}/judges", "published", "S 404 404 404 404 404 ok 404 ok"),
    (
        "POST",
        "/challenges/{slug}/rounds/{round_id}/judges/{round_judge_id}/remove",
        "published",
        "S 404 404 404 404 404 ok 404 ok",
    ),
    ("POST", "/challenges/{slug}/rounds/{round_id}/ranking", "published", "S 404 404 404 404 404 ok 404 ok"),
    ("POST", "/challenges/{slug}/rounds/{round_id}/slots", "published", "S 404 404 404 404 404 404 404 404"),
    # Only municipality officials (no role here) say so: the refusal is a redirect back with the reason.
    ("POST", "/challenges/{slug}/same-problem", "published", "S 303 303 303 303 303 303 303 303"),
    ("POST", "/challenges/{slug}/transitions/{action}", "published", "S 403 403 403 403 403 403 403 403"),
    ("POST", "/collaborations/{collaboration_id}/steps", "-", "S 404 404 404 404 404 ok 404 ok"),
    ("POST", "/invitations/{token}/accept", "-", "S 404 404 404 404 404 404 404 404"),
    ("POST", "/judging/invitations/{token}", "-", "S 400 400 400 ok 400 400 400 400"),
    (
        "POST",
        "/judging/rounds/{round_id}/submissions/{submission_id}/comment",
        "-",
        "S 404 404 ok 404 404 404 404 404",
    ),
    (
        "POST",
        "/judging/rounds/{round_id}/submissions/{submission_id}/conflict",
        "-",
        "S 404 404 ok 404 404 404 404 404",
    ),
    (
        "POST",
        "/judging/rounds/{round_id}/submissions/{submission_id}/finalize",
        "-",
        "S 404 404 ok 404 404 404 404 404",
    ),
    (
        "POST",
        "/judging/rounds/{round_id}/submissions/{submission_id}/scores",
        "-",
        "S 404 404 ok 404 404 404 404 404",
    ),
    (
        "POST",
        "/judging/rounds/{round_id}/submissions/{submission_id}/scores/{criterion_id}",
        "-",
        "S 404 404 ok 404 404 404 404 404",
    ),
    # Only a final scorecard is reopened, and this one is open: the officials get 404 like everyone.
    (
        "POST",
        "/judging/rounds/{round_id}/submissions/{submission_id}/unlock",
        "-",
        "S 404 404 404 404 404 404 404 404",
    ),
    ("POST", "/notifications/read", "-", "S ok ok ok ok ok ok ok ok"),
    ("POST", "/notifications/unsubscribe/{token}", "-", "400 400 400 400 400 400 400 400 400"),
    ("POST", "/oidc/link/confirm", "-", "400 400 400 400 400 400 400 400 400"),
    ("POST", "/organizations", "-", "S ok ok ok ok ok ok ok ok"),
    ("POST", "/organizations/{organization_id}/invitations", "-", "S ok 404 404 404 404 404 404 ok"),
    ("POST", "/password/reset/{token}", "-", "400 400 400 400 400 400 400 400 400"),
    ("POST", "/payments/entry/{submission_id}/pay", "-", "S ok 404 404 404 404 403 404 403"),
    ("POST", "/payments/entry/{submission_id}/waiver", "-", "S ok 404 404 404 404 403 404 403"),
    # Stripe is not configured in this app: the webhook answers 503, and cancel and refund stop at the
    # gateway (a redirect back with the reason) before the policy is asked (refund asks who sees it first).
    ("POST", "/payments/stripe/webhook", "-", "503 503 503 503 503 503 503 503 503"),
    # The payment is the other startup's ticket: no monthly sponsorship to stop, whoever asks (asked before
    # the gateway, so "payments unavailable" is never the answer to someone who may not act).
    ("POST", "/payments/{payment_id}/cancel", "-", "S 404 404 404 404 404 404 404 404"),
    ("POST", "/payments/{payment_id}/card", "-", "S 404 422 404 404 404 403 404 403"),
    ("POST", "/payments/{payment_id}/refund", "-", "S 404 404 404 404 404 ok 404 ok"),
    ("POST", "/questions/{question_id}/answer", "-", "S 404 404 404 404 404 ok 404 ok"),
    ("POST", "/signout", "-", "303 303 303 303 303 303 303 303 303"),
    # The bureau (and an admin) may read an application but never change it: 403 before the form is read.
    ("POST", "/submissions/{submission_id}", "submitted", "S ok 404 404 404 404 403 404 403"),
    ("POST", "/submissions/{submission_id}/answers/{key}", "submitted", "S ok 404 404 404 404 403 404 403"),
    (
        "POST",
        "/submissions/{submission_id}/consents/{index}",
        "submitted",
        "S ok 404 404 404 404 403 404 403",
    ),
    (
        "POST",
        "/submissions/{submission_id}/files/{field_id}",
        "submitted",
        "S ok 404 404 404 404 403 404 403",
    ),
    (
        "POST",
        "/submissions/{submission_id}/files/{file_id}/remove",
        "submitted",
        "S ok 404 404 404 404 403 404 403",
    ),
    ("POST", "/submissions/{submission_id}/submit", "submitted", "S ok 404 404 404 404 403 404 403"),
    ("POST", "/submissions/{submission_id}/team", "submitted", "S ok 404 404 404 404 403 404 403"),
    ("POST", "/submissions/{submission_id}/withdraw", "submitted", "S ok 404 404 404 404 403 404 403"),
    (
        "GET",
        "/challenges/{slug}/pitch-day/ticket-types/{type_id}",
        "draft",
        "S 404 404 404 404 404 404 404 404",
    ),
    (
        "GET",
        "/challenges/{slug}/pitch-day/ticket-types/{type_id}",
        "published",
        "S 404 404 404 404 404 200 404 200",
    ),
    (
        "GET",
        "/challenges/{slug}/pitch-day/ticket-types/{type_id}",
        "results",
        "S 404 404 404 404 404 404 404 404",
    ),
    (
        "POST",
        "/challenges/{slug}/pitch-day/ticket-types/{type_id}",
        "published",
        "S 404 404 404 404 404 ok 404 ok",
    ),
    (
        "POST",
        "/challenges/{slug}/pitch-day/ticket-types/{type_id}/delete",
        "published",
        "S 404 404 404 404 404 ok 404 ok",
    ),
    # Empty forms are invalid before anything else is asked (a signed-in person signing up changes nothing).
    ("POST", "/password/forgot", "-", "422 422 422 422 422 422 422 422 422"),
    ("POST", "/signin", "-", "422 422 422 422 422 422 422 422 422"),
    ("POST", "/signup", "-", "422 422 422 422 422 422 422 422 422"),
    ("POST", "/challenges/{slug}/collaborations", "results", "S 404 404 404 404 404 ok 404 ok"),
    ("POST", "/challenges/{slug}/results/proposal", "results", "S 404 404 404 404 404 422 404 422"),
    (
        "POST",
        "/challenges/{slug}/results/proposal/{proposal_id}/approve",
        "results",
        "S 404 404 404 404 404 422 404 422",
    ),
    (
        "POST",
        "/challenges/{slug}/results/proposal/{proposal_id}/publish",
        "results",
        "S 404 404 404 404 404 422 404 422",
    ),
    # The official sends the draft to review first; the admin then finds it in review (403).
    ("POST", "/challenges/{slug}/transitions/{action}", "draft", "S 404 404 404 404 404 ok 404 ok|403"),
)

# Allowed unsafe requests that change what other rows see (or end the role's session) run last, in this order.
LAST_ROUTES = (
    "/judging/rounds/{round_id}/submissions/{submission_id}/finalize",
    "/judging/rounds/{round_id}/submissions/{submission_id}/unlock",
    "/challenges/{slug}/rounds/{round_id}/assignments/auto",
    "/challenges/{slug}/rounds/{round_id}/assignments/{assignment_id}/reassign",
    "/challenges/{slug}/rounds/{round_id}/assignments/{assignment_id}/remove",
    "/challenges/{slug}/rounds/{round_id}/judges/{round_judge_id}/remove",
    "/challenges/{slug}/rounds/{round_id}/criteria/{criterion_id}/remove",
    "/challenges/{slug}/attachments/{attachment_id}/remove",
    "/submissions/{submission_id}/files/{file_id}/remove",
    "/submissions/{submission_id}/withdraw",
    "/challenges/{slug}/transitions/{action}",
    "/signout",
)


def suggested_states(method: str, route: str) -> tuple[str, ...]:
    """The states a new route's row is suggested in (the matrix may add or drop some)."""
    if route.startswith(("/catalog/{slug", "/api/v1/outputs/{slug")):
        return ("published", "draft") if method == "GET" else ("published",)
    if "{slug" in route:
        return ("draft", "published", "results") if method == "GET" else ("published",)
    if route.startswith("/submissions/{submission_id"):
        return ("submitted", "other-draft", "winner") if method == "GET" else ("submitted",)
    return ("-",)


def cells_of(world: object, rows: tuple[tuple[str, str, str, str], ...]) -> list[Cell]:
    """One cell per row and role."""
    cells = []
    for method, route, state, answers in rows:
        expected = answers.split()
        assert len(expected) == len(ROLES), f"{method} {route} [{state}]: {len(expected)} answers for 9 roles"
        url = url_of(world, route, state)  # type: ignore[arg-type]
        cells += [
            Cell(method, route, state, role, url, want)
            for role, want in zip(ROLES, expected, strict=True)
            if want != "-"
        ]
    return cells


async def test_every_route_answers_every_role_as_its_policies_say(
    app: Litestar, client: WebClient, settings: Settings
) -> None:
    started = time.monotonic()
    world = await build_world(settings)
    routes = app_routes(app)
    covered = {(method, route) for method, route, _, _ in MATRIX}
    stale = sorted(covered - routes)
    assert not stale, f"rows for routes the app no longer has (remove them): {stale}"
    missing = sorted(routes - covered)
    unknown_rows = tuple(
        (method, route, state, " ".join("?" for _ in ROLES))
        for method, route in missing
        for state in suggested_states(method, route)
    )
    failures: list[str] = []
    actual: dict[tuple[str, str, str], dict[str, str]] = {}
    async with contextlib.AsyncExitStack() as stack:
        clients: dict[str, WebClient] = {}
        for number, role in enumerate(ROLES, start=10):
            web = await stack.enter_async_context(role_client(app, number))
            person = world.people[role]
            if person is not None:
                await web.sign_in(person.email, person.password)
            clients[role] = web
        cells = cells_of(world, MATRIX) + cells_of(world, unknown_rows)
        for cell in in_running_order(cells, LAST_ROUTES):
            answer = await ask(clients[cell.role], cell.method, cell.url)
            actual.setdefault((cell.method, cell.route, cell.state), {})[cell.role] = answer
            if cell.expected != "?" and not matches(cell.expected, answer):
                failures.append(
                    f"{cell.method} {cell.url} ({cell.route} [{cell.state}]) as {cell.role}: "
                    f"expected {cell.expected}, got {answer}"
                )
    suggestions = []
    for method, route, state, _ in unknown_rows:
        answers = " ".join(actual[(method, route, state)][role] for role in ROLES)
        suggestions.append(f'    ("{method}", "{route}", "{state}", "{answers}"),')
    assert not suggestions, (
        "routes missing from the authorization matrix: add its rules (check these current answers against "
        "the policies first):\n" + "\n".join(suggestions)
    )
    assert not failures, "\n".join(failures)
    elapsed = time.monotonic() - started
    print(f"authorization matrix: {len(cells)} cells over {len(routes)} routes, {elapsed:.1f} s")
