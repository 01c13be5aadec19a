"""The one Jinja environment: autoescape, gettext per request, JST dates, 和暦, and `can(...)`."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from babel.dates import format_date, format_datetime
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from app.clock import utcnow
from app.settings import PROJECT_ROOT
from app.web import i18n
from app.web.flash import flash_messages
from app.web.jst import TOKYO
from app.web.site_header import site_header
from app.web.wareki import format_wareki

TEMPLATE_DIR = PROJECT_ROOT / "templates"

Policy = Callable[..., bool]
# name -> (policy, whether it takes the current time); inspecting signatures per call was measurable.
_policies: dict[str, tuple[Policy, bool]] = {}


def register_policies(policies: Mapping[str, Policy]) -> None:
    """Make policies callable from templates as `can("verb_noun", obj)` (asgi.py registers each feature's)."""
    for name, policy in policies.items():
        _policies[name] = (policy, "now" in inspect.signature(policy).parameters)


def policies_of(module: object) -> dict[str, Policy]:
    """Every `can_<verb>` function of a policies module, keyed without the `can_` prefix."""
    return {
        name.removeprefix("can_"): function
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if name.startswith("can_")
    }


@pass_context
def can(context: Mapping[str, Any], name: str, *args: Any) -> bool:
    """Ask the named policy about the current user, exactly as the server will."""
    policy, takes_now = _policies[name]
    user = context["request"].scope.get("user")
    if takes_now:
        return policy(user, *args, now=utcnow())
    return policy(user, *args)


def to_tokyo(moment: datetime) -> datetime:
    """`moment` in Japan time (naive values are taken as UTC, as stored)."""
    if moment.tzinfo is None:
        raise ValueError("Naive datetime: store and pass timezone-aware UTC instants")
    return moment.astimezone(TOKYO)


# Minutes, not seconds: deadlines are entered to the minute.
DATETIME_PATTERNS = {"ja": "yyyy/MM/dd H:mm", "en": "MMM d, yyyy, h:mm a"}


def jst_datetime(moment: datetime | None, style: str = "") -> str:
    """A date and time in Japan time in the reader's language, e.g. 2026/11/28 23:50."""
    if moment is None:
        return ""
    locale = i18n.current_locale.get()
    return formatted_datetime(moment, style or DATETIME_PATTERNS.get(locale, "medium"), locale)


@lru_cache(maxsize=8192)
def formatted_datetime(moment: datetime, style: str, locale: str) -> str:
    """Babel's formatting, remembered: the same deadlines appear on page after page."""
    return format_datetime(to_tokyo(moment), style, tzinfo=TOKYO, locale=locale)


def jst_date(moment: date | datetime | None, style: str = "long") -> str:
    """A date in the reader's language (datetimes are converted to Japan time first)."""
    if moment is None:
        return ""
    day = to_tokyo(moment).date() if isinstance(moment, datetime) else moment
    return formatted_date(day, style, i18n.current_locale.get())


@lru_cache(maxsize=8192)
def formatted_date(day: date, style: str, locale: str) -> str:
    """Babel's date formatting, remembered (the same dates appear on page after page)."""
    return format_date(day, style, locale=locale)


def wareki(moment: date | datetime | None) -> str:
    """A date as 和暦 (Japanese era) for Japanese readers, the ordinary long date otherwise."""
    if moment is None:
        return ""
    day = to_tokyo(moment).date() if isinstance(moment, datetime) else moment
    if i18n.current_locale.get() != "ja":
        return jst_date(day)
    return format_wareki(day)


@pass_context
def viewer(context: Mapping[str, Any]) -> Any:
    """The signed-in user of the request being rendered, or None."""
    return context["request"].scope.get("user")


def localized(row: Mapping[str, Any], field: str) -> str:
    """The English text of a bilingual field for English readers when it exists, else the Japanese."""
    english = row.get(f"{field}_en")
    if i18n.current_locale.get() == "en" and english:
        return str(english)
    return str(row.get(f"{field}_ja") or "")


def yen(amount: int | None) -> str:
    """An amount in yen as Japanese (1,000,000円) or English (¥1,000,000) readers write it."""
    if amount is None:
        return ""
    return f"{amount:,}円" if i18n.current_locale.get() == "ja" else f"¥{amount:,}"


def days_left(deadline: datetime | None) -> int | None:
    """Calendar days in Japan time until `deadline` (0 on its day); None once past or unset."""
    now = utcnow()
    if deadline is None or deadline <= now:
        return None
    return (to_tokyo(deadline).date() - to_tokyo(now).date()).days


def build_environment() -> Environment:
    """The shared environment; gettext callables read the request's locale from a ContextVar."""
    env = Environment(
        # Checking every template file's mtime on each include was measurable; DEBUG=1 brings it back.
        auto_reload=os.environ.get("DEBUG", "").lower() in {"1", "true", "yes"},
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext, npgettext=i18n.npgettext
    )
    env.filters.update(
        jst_datetime=jst_datetime, jst_date=jst_date, wareki=wareki, yen=yen, days_left=days_left
    )
    env.globals.update(
        can=can,
        localized=localized,
        viewer=viewer,
        site_header=site_header,
        flash_messages=flash_messages,
        current_locale=i18n.current_locale.get,
        locales=i18n.LOCALES,
        language_name=i18n.language_name,
    )
    return env


ENVIRONMENT = build_environment()


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    """Litestar's template config around the shared environment."""
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(ENVIRONMENT))


def render_string(template_name: str, context: Mapping[str, Any]) -> str:
    """Render a template outside a response (error pages, mail)."""
    return ENVIRONMENT.get_template(template_name).render(**context)
