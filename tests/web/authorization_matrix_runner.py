"""The authorization matrix's machinery: a route in a state as a URL, asked as each role, the answer read."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from litestar import Litestar

from tests.support.client import WebClient
from tests.web.authorization_world import World

# Litestar answers OPTIONS itself (CORS preflight, no handler of ours) and HEAD only for static files.
FRAMEWORK_METHODS = frozenset({"OPTIONS"})
REFUSALS = frozenset({"401", "403", "404", "405", "S"})
PLACEHOLDER = re.compile(r"\{(\w+)(?::\w+)?\}")


@dataclass(frozen=True)
class Cell:
    """One request of one role: the route, its state, the URL, and what is expected."""

    method: str
    route: str
    state: str
    role: str
    url: str
    expected: str

    @property
    def unsafe(self) -> bool:
        """Whether the request may change the world (it then runs after every safe one)."""
        return self.method not in {"GET", "HEAD"}

    @property
    def refusal(self) -> bool:
        """Whether every answer expected is a refusal (nothing can change)."""
        return all(token in REFUSALS for token in self.expected.split("|")) and self.expected != "?"


def app_routes(app: Litestar) -> set[tuple[str, str]]:
    """Every (method, path) of the app's route table, without parameter types (OPTIONS is Litestar's own)."""
    return {
        (method, re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path))
        for route in app.routes
        for method in getattr(route, "route_handler_map", {})
        if method not in FRAMEWORK_METHODS
    }


def state_values(world: World, route: str, state: str) -> dict[str, str]:
    """The path parameters of `route` in `state` (the state names the thing the row is about)."""
    ids = {key: str(value) for key, value in world.ids.items()}
    catalogue = route.startswith(("/catalog/", "/api/v1/outputs/"))
    values = {
        "slug": ids["output"] if catalogue else ids["published"],
        "submission_id": ids["submission"],
        "file_id": ids["file"],
        "filename": "pitch deck.pdf",
        "field_id": ids["deck_field"] if route.startswith("/submissions/") else ids["field"],
        "key": "summary",
        "index": "0",
        "round_id": ids["round"],
        "criterion_id": ids["criterion"],
        "assignment_id": ids["assignment"],
        "round_judge_id": ids["round_judge"],
        "proposal_id": ids["proposal"],
        "direction": "up",
        # Not a move a published challenge can make: the handler answers, nothing changes.
        "action": "approve",
        "token": ids["invitation"] if route.startswith("/judging/invitations/") else "not-a-valid-token",
        "code": ids["municipality_code"] if route.startswith("/api/") else "en",
        "provider_id": "no-such-provider",
        "organization_id": ids["organization"],
        "bureau_id": ids["bureau"],
        "identity_id": "1",
        "question_id": ids["question"],
        "attachment_id": ids["attachment"],
        "notification_id": ids["notification"],
        "collaboration_id": ids["collaboration"],
        "adoption_id": ids["adoption"],
        "payment_id": ids["payment"],
        "ticket_id": ids["ticket"],
        "type_id": ids["ticket_type"],
        "slot_file": ids["slot_file"],
        "path": "swagger",
        "file_path": "css/kyoso.css",
    }
    overrides: Mapping[str, Mapping[str, str]] = {
        "-": {},
        "published": {},
        "round-open": {},
        "submitted": {},
        # The draft's own attachment; and the one move its bureau may make (it runs last: see LAST_ROUTES).
        "draft": {
            "slug": ids["draft_output"] if catalogue else ids["draft"],
            "attachment_id": ids["draft_attachment"],
            "action": "submit_for_review",
        },
        "results": {"slug": ids["results"], "submission_id": ids["winner"], "round_id": ids["results_round"]},
        "other-draft": {"submission_id": ids["other_draft"]},
        "winner": {"submission_id": ids["winner"]},
        "other-organization": {"organization_id": ids["other_organization"]},
        "other-bureau": {"bureau_id": ids["other_bureau"]},
    }
    return {**values, **overrides[state]}


def url_of(world: World, route: str, state: str) -> str:
    """The URL of `route` in `state`."""
    values = state_values(world, route, state)
    unknown = set(PLACEHOLDER.findall(route)) - set(values)
    assert not unknown, f"{route}: give {sorted(unknown)} a value from the world in state_values()"
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], route)


def answer_token(status: int, location: str) -> str:
    """What a response says in the matrix's words: `S` for a redirect to sign in, else the status code."""
    if status in {302, 303, 307} and location.startswith("/signin"):
        return "S"
    return str(status)


def matches(expected: str, actual: str) -> bool:
    """`ok` is any answer that shows the handler ran (no refusal); otherwise one of the listed answers."""
    return any(actual not in REFUSALS if token == "ok" else actual == token for token in expected.split("|"))


async def ask(client: WebClient, method: str, url: str) -> str:
    """Send one request as a browser would (an empty form for unsafe methods) and read the answer."""
    if method == "GET":
        response = await client.get(url)
    elif method == "HEAD":
        response = await client.http.head(url)
    else:
        response = await client.post(url, {})
    return answer_token(response.status_code, response.headers.get("location", ""))


def in_running_order(cells: Iterable[Cell], last_routes: Iterable[str]) -> list[Cell]:
    """Safe requests first, then refused unsafe ones, then allowed ones (`last_routes` at the end)."""
    last = tuple(last_routes)

    def order(cell: Cell) -> tuple[int, int]:
        if not cell.unsafe:
            return (0, 0)
        if cell.refusal:
            return (1, 0)
        return (2, last.index(cell.route) + 1 if cell.route in last else 0)

    return sorted(cells, key=order)


@asynccontextmanager
async def role_client(app: Litestar, number: int) -> AsyncIterator[WebClient]:
    """A client with an address of its own (rate limits count per address: roles never limit each other)."""
    transport = httpx.ASGITransport(app=app, client=(f"192.0.2.{number}", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield WebClient(http)
