"""Language: cookie, then Accept-Language, then Japanese; complete catalogues; 和暦 and JST dates."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from babel.messages.pofile import read_po

from app.web import i18n
from app.web.i18n import locale_from_headers
from app.web.templating import jst_datetime, wareki
from app.web.wareki import format_wareki
from tests.support.client import WebClient


@pytest.mark.parametrize(
    ("cookie", "accept", "expected"),
    [
        (None, None, "ja"),
        (None, "en-US,en;q=0.9", "en"),
        (None, "fr-FR,de;q=0.8", "ja"),
        (None, "en;q=0.5,ja;q=0.9", "ja"),
        ("locale=en", "ja", "en"),
        ("other=1; locale=ja", "en-GB", "ja"),
        ("locale=xx", "en", "en"),
    ],
)
def test_locale_choice(cookie: str | None, accept: str | None, expected: str) -> None:
    assert locale_from_headers(cookie, accept) == expected


async def test_japanese_by_default_and_english_by_header(client: WebClient) -> None:
    ja = await client.get("/")
    assert '<html lang="ja">' in ja.text
    assert "都の課題を、ともに解決する" in ja.text
    en = await client.get("/", headers={"accept-language": "en-US,en;q=0.8"})
    assert '<html lang="en">' in en.text
    assert "Solve the city's challenges together" in en.text


async def test_switch_sets_a_cookie_and_returns_to_the_page(client: WebClient) -> None:
    response = await client.get("/locale/en?next=/signin")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin"
    assert "locale=en" in response.headers["set-cookie"]
    page = await client.get("/signin", headers={"accept-language": "ja"})
    assert '<html lang="en">' in page.text


async def test_switch_refuses_to_leave_the_site(client: WebClient) -> None:
    response = await client.get("/locale/ja?next=https://evil.example/")
    assert response.headers["location"] == "/"


async def test_unknown_route_404_in_the_readers_language(client: WebClient) -> None:
    ja = await client.get("/nowhere")
    assert ja.status_code == 404
    assert "ページが見つかりません" in ja.text
    en = await client.get("/nowhere", headers={"accept-language": "en"})
    assert "Page not found" in en.text
    assert '<html lang="en">' in en.text


async def test_concurrent_requests_never_mix_languages(client: WebClient) -> None:
    import asyncio

    async def fetch(lang: str) -> tuple[str, str]:
        response = await client.get("/", headers={"accept-language": lang})
        return lang, response.text

    results = await asyncio.gather(*(fetch("en" if n % 2 else "ja") for n in range(60)))
    for lang, text in results:
        assert f'<html lang="{lang}">' in text
        assert ("都の課題を" in text) == (lang == "ja")


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_catalogues_are_complete(locale: str) -> None:
    with i18n.catalogue_path(locale).open("rb") as handle:
        catalogue = read_po(handle, locale=locale)
    untranslated = [message.id for message in catalogue if message.id and not message.string]
    fuzzy = [message.id for message in catalogue if message.id and message.fuzzy]
    assert untranslated == []
    assert fuzzy == []


def test_every_template_string_is_in_the_catalogue() -> None:
    from babel.messages.extract import extract_from_dir

    with i18n.catalogue_path("ja").open("rb") as handle:
        known = {message.id for message in read_po(handle, locale="ja") if message.id}
    method_map = [("app/**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(str(i18n.PROJECT_ROOT), method_map, options, keywords={"_": None})
        if message[0].startswith(("app/", "templates/"))
    }
    assert found - known == set(), "run `make i18n` and translate the new strings"


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 28), "令和8年11月28日"),
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
        (date(1926, 12, 25), "昭和元年12月25日"),
        (date(1912, 7, 30), "大正元年7月30日"),
        (date(1873, 1, 1), "明治6年1月1日"),
    ],
)
def test_wareki(day: date, expected: str) -> None:
    assert format_wareki(day) == expected


def test_wareki_refuses_the_lunisolar_era() -> None:
    with pytest.raises(ValueError, match="lunisolar"):
        format_wareki(date(1872, 12, 31))


def test_dates_are_shown_in_tokyo_time() -> None:
    # 15:30 UTC on the 28th is 00:30 JST on the 29th: the deadline day a founder sees.
    moment = datetime(2026, 11, 28, 15, 30, tzinfo=UTC)
    token = i18n.current_locale.set("ja")
    try:
        assert wareki(moment) == "令和8年11月29日"
        assert "2026/11/29 0:30" in jst_datetime(moment)
    finally:
        i18n.current_locale.reset(token)
    token = i18n.current_locale.set("en")
    try:
        assert "Nov 29, 2026" in jst_datetime(moment)
    finally:
        i18n.current_locale.reset(token)
