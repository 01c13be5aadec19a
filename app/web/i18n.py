"""The reader's language for the current request, and gettext that follows it.

One Jinja environment serves every request, so gettext reads the locale from a ContextVar that a small
ASGI middleware sets per request (installing translations per request on a shared env mixes languages).
"""

from __future__ import annotations

from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.support import NullTranslations, Translations
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from app.settings import PROJECT_ROOT

LOCALES = ("ja", "en")
DEFAULT_LOCALE = "ja"
LOCALE_COOKIE = "locale"
LOCALE_DIR = PROJECT_ROOT / "locale"

current_locale: ContextVar[str] = ContextVar("current_locale", default=DEFAULT_LOCALE)


@cache
def translations(locale: str) -> Translations:
    """The compiled catalogue of `locale`; a missing one is an error, not a silent fallback."""
    loaded = Translations.load(str(LOCALE_DIR), [locale], domain="messages")
    if not isinstance(loaded, Translations) or type(loaded) is NullTranslations:
        raise RuntimeError(f"No compiled catalogue for {locale!r} under {LOCALE_DIR}: run `make i18n`")
    return loaded


def check_catalogues() -> list[str]:
    """Problems with the catalogues (empty when every locale has a compiled catalogue)."""
    problems = []
    for locale in LOCALES:
        if not (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.mo").exists():
            problems.append(f"locale/{locale}/LC_MESSAGES/messages.mo is missing: run `make i18n`")
    return problems


def gettext(message: str) -> str:
    """Translate `message` into the current request's language."""
    return translations(current_locale.get()).ugettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate with a plural form chosen by `n`."""
    return translations(current_locale.get()).ungettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """Translate `message` within a disambiguating context."""
    return translations(current_locale.get()).upgettext(context, message)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    """Plural translation within a context."""
    return translations(current_locale.get()).unpgettext(context, singular, plural, n)


def locale_from_headers(cookie_header: str | None, accept_language: str | None) -> str:
    """Cookie `locale` if valid, else the best of Accept-Language, else Japanese."""
    if cookie_header:
        for part in cookie_header.split(";"):
            name, _, value = part.strip().partition("=")
            if name == LOCALE_COOKIE and value in LOCALES:
                return value
    for language in preferred_languages(accept_language or ""):
        if language in LOCALES:
            return language
    return DEFAULT_LOCALE


def preferred_languages(accept_language: str) -> list[str]:
    """Primary language tags of an Accept-Language header, most preferred first (q=0 dropped)."""
    weighted = []
    for position, item in enumerate(accept_language.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            weighted.append((-quality, position, tag.split("-")[0].lower()))
    return [language for _, _, language in sorted(weighted)]


def locale_of_scope(scope: Scope | dict[str, Any]) -> str:
    """The locale a request asks for, read from its raw headers."""
    cookie = accept = None
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            cookie = value.decode("latin-1")
        elif name == b"accept-language":
            accept = value.decode("latin-1")
    return locale_from_headers(cookie, accept)


@cache
def language_name(locale: str) -> str:
    """The language's own name (日本語, English) for the switch."""
    return Locale.parse(locale).get_display_name(locale) or locale


class LocaleMiddleware:
    """Set the request's locale before anything renders."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        token = current_locale.set(locale_of_scope(scope))
        try:
            await self.app(scope, receive, send)
        finally:
            current_locale.reset(token)


def catalogue_path(locale: str) -> Path:
    """Where the source catalogue of `locale` lives."""
    return LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
