"""The remembered site header: each visitor gets their own, and a role change shows at once."""

from __future__ import annotations

import re

from app.accounts.services import grant_staff_role
from app.accounts.viewer import load_viewer
from app.clock import utcnow
from app.web.site_header import _rendered
from tests.support.client import WebClient
from tests.support.people import make_bureau, make_user

SIGN_OUT_TOKEN = re.compile(r'action="/signout">\s*<input type="hidden" name="_csrf_token" value="([^"]+)"')


def header_of(html: str) -> str:
    """The <header> element of a page."""
    return html[html.index('<header class="site-header">') : html.index("</header>")]


async def test_two_visitors_on_one_page_each_get_their_own_header(
    client: WebClient, other_client: WebClient
) -> None:
    """Same path, same language: the official's nav and token never reach the other user or the public."""
    bureau = await make_bureau()
    official = await make_user("official@city.example", role="official", bureau_id=bureau)
    startup = await make_user("founder@startup.example")
    await client.sign_in(official.email, official.password)
    await other_client.sign_in(startup.email, startup.password)
    _rendered.clear()

    official_header = header_of((await client.get("/challenges")).text)
    startup_header = header_of((await other_client.get("/challenges")).text)
    again = header_of((await client.get("/challenges")).text)

    assert 'href="/bureau/challenges"' in official_header
    assert 'href="/bureau/challenges"' not in startup_header
    official_token = SIGN_OUT_TOKEN.search(official_header)
    startup_token = SIGN_OUT_TOKEN.search(startup_header)
    assert official_token
    assert startup_token
    assert official_token.group(1) == await client.csrf_token()
    assert startup_token.group(1) == await other_client.csrf_token()
    assert official_token.group(1) != startup_token.group(1)
    assert again == official_header
    await other_client.sign_out()
    anonymous_header = header_of((await other_client.get("/challenges")).text)
    assert 'href="/signin"' in anonymous_header
    assert "_csrf_token" not in anonymous_header


async def test_a_role_granted_shows_in_the_header_on_the_next_page(client: WebClient) -> None:
    """The key holds the viewer's roles, so a remembered header cannot hide a new role."""
    admin = await make_user("admin@city.example", role="admin")
    person = await make_user("person@city.example")
    bureau = await make_bureau()
    await client.sign_in(person.email, person.password)
    assert 'href="/bureau/challenges"' not in header_of((await client.get("/challenges")).text)

    await grant_staff_role(
        await load_viewer(admin.id), email=person.email, role="official", bureau_id=bureau, now=utcnow()
    )

    assert 'href="/bureau/challenges"' in header_of((await client.get("/challenges")).text)
