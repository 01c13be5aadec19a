"""The catalogue entry form turned into checked values (pure), and the checks publiccode.yml import shares."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

# No type information is published for license-expression.
from license_expression import (  # type: ignore[import-untyped,unused-ignore]
    LicenseSymbol,
    LicenseWithExceptionSymbol,
    get_spdx_licensing,
)

from app.web.i18n import gettext as _

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,78}[a-z0-9]$")
# Addresses under /catalog/ that belong to pages, not to an entry.
RESERVED_SLUGS = frozenset({"new", "import"})
DEVELOPMENT_STATUSES = ("concept", "development", "beta", "stable", "obsolete")
# The software types of publiccode.yml (0.2–0.4 share them).
SOFTWARE_TYPES = (
    "standalone/web", "standalone/mobile", "standalone/desktop", "standalone/backend",
    "standalone/iot", "standalone/other", "addon", "library", "configurationFiles",
)  # fmt: skip
TAG_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,59}$")
EMAIL_PATTERN = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
CONTACT_LINE = re.compile(r"^(?P<name>[^<>]*?)\s*(?:<(?P<email>[^<>]*)>)?$")
MAX_TAGS = 20
MAX_SCREENSHOTS = 10
MAX_CONTACTS = 10
MAX_URL_CHARS = 500  # the URL columns are Varchar(500)
MAX_LONG_DESCRIPTION_CHARS = 10_000  # publiccode.yml's own limit for longDescription
TEXT_LIMITS = {
    "name": 200,
    "short_description_ja": 300,
    "short_description_en": 300,
    "long_description_ja": MAX_LONG_DESCRIPTION_CHARS,
    "long_description_en": MAX_LONG_DESCRIPTION_CHARS,
    "maintainer_name": 200,
    "version": 40,
}
# Licences approved by the OSI or the FSF, by SPDX id. A short list of what public software actually uses,
# kept here rather than fetched: an expression is "open" only when every licence in it is listed.
OPEN_LICENSES = frozenset({
    "0BSD", "AFL-3.0", "AGPL-3.0-only", "AGPL-3.0-or-later", "Apache-2.0", "Artistic-2.0",
    "BSD-2-Clause", "BSD-3-Clause", "BSL-1.0", "CC0-1.0", "CDDL-1.0", "ECL-2.0", "EPL-1.0", "EPL-2.0",
    "EUPL-1.1", "EUPL-1.2", "GPL-2.0-only", "GPL-2.0-or-later", "GPL-3.0-only", "GPL-3.0-or-later",
    "ISC", "LGPL-2.1-only", "LGPL-2.1-or-later", "LGPL-3.0-only", "LGPL-3.0-or-later", "MIT", "MIT-0",
    "MPL-2.0", "MS-PL", "NCSA", "OSL-3.0", "PostgreSQL", "Python-2.0", "Unlicense", "UPL-1.0", "Zlib",
})  # fmt: skip
_licensing = get_spdx_licensing()


@dataclass
class OutputValues:
    """Checked values of a catalogue entry, ready to store."""

    slug: str
    texts: dict[str, str]
    repository_url: str
    landing_url: str
    license: str
    development_status: str
    software_type: str
    categories: list[str]
    platforms: list[str]
    contacts: list[dict[str, str]]
    screenshots: list[str]
    release_date: date | None
    maintainer_organization_id: int | None = None
    source_challenge_slug: str = ""
    collaboration_id: int | None = None
    license_is_open: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def columns(self) -> dict[str, Any]:
        """Column name -> value for the Output row (the maintainer and origin are resolved apart)."""
        return {
            "slug": self.slug,
            **self.texts,
            "repository_url": self.repository_url,
            "landing_url": self.landing_url,
            "license": self.license,
            "license_is_open": self.license_is_open,
            "development_status": self.development_status,
            "software_type": self.software_type,
            "categories": self.categories,
            "platforms": self.platforms,
            "contacts": self.contacts,
            "screenshots": self.screenshots,
            "release_date": self.release_date,
        }


def url_problem(text: str) -> str | None:
    """Why `text` is not an http(s) address (javascript:, data:, relative paths…), or None."""
    if len(text) > MAX_URL_CHARS:
        return _("Use at most 500 characters.")
    try:
        parts = urlsplit(text)
    except ValueError:
        return _("Enter an address starting with https:// or http://.")
    if (
        parts.scheme.lower() not in {"http", "https"}
        or not parts.hostname
        or any(ch.isspace() for ch in text)
    ):
        return _("Enter an address starting with https:// or http://.")
    return None


def spdx_problem(expression: str) -> str | None:
    """Why `expression` is not a valid SPDX licence expression, or None."""
    if not expression.strip():
        return _("Enter the licence as an SPDX expression, e.g. MIT or Apache-2.0 OR GPL-3.0-or-later.")
    try:
        info = _licensing.validate(expression)
    except Exception:  # noqa: BLE001 (license-expression raises assorted errors on some malformed input)
        return _("This is not a valid SPDX expression (e.g. MIT or Apache-2.0 OR GPL-3.0-or-later).")
    if info.errors or info.normalized_expression is None:
        return _("This is not a valid SPDX expression (e.g. MIT or Apache-2.0 OR GPL-3.0-or-later).")
    return None


def normalized_license(expression: str) -> str:
    """The canonical spelling of a valid expression (mit → MIT, GPL-2.0+ → GPL-2.0-or-later)."""
    info = _licensing.validate(expression)
    return str(info.normalized_expression)


def license_is_open(expression: str) -> bool:
    """Whether every licence of a valid expression is OSI/FSF-approved (exceptions are not licences)."""
    parsed = _licensing.parse(expression)
    if parsed is None:
        return False
    keys = []
    for symbol in _licensing.license_symbols(parsed, decompose=False):
        if isinstance(symbol, LicenseWithExceptionSymbol):
            keys.append(symbol.license_symbol.key)
        elif isinstance(symbol, LicenseSymbol):
            keys.append(symbol.key)
    return bool(keys) and all(key in OPEN_LICENSES for key in keys)


def split_tags(text: str) -> list[str]:
    """Categories or platforms from a comma-, 、- or line-separated list, in order, without repeats."""
    tags = [tag.strip() for tag in re.split(r"[,、，\n]", unicodedata.normalize("NFKC", text))]
    return list(dict.fromkeys(tag for tag in tags if tag))


def tags_problem(tags: list[str]) -> str | None:
    """Why a list of categories or platforms is refused, or None."""
    if len(tags) > MAX_TAGS or not all(TAG_PATTERN.match(tag) for tag in tags):
        return _("Use at most 20 short words of letters, digits and hyphens (e.g. web, linux).")
    return None


def parse_contacts(text: str) -> tuple[list[dict[str, str]], str | None]:
    """Contacts written one per line as "Name <email>" (the email is optional)."""
    contacts: list[dict[str, str]] = []
    for line in (line.strip() for line in text.splitlines()):
        if not line:
            continue
        match = CONTACT_LINE.match(line)
        if match is None or not match["name"]:
            return contacts, _("Write one contact per line as: Name <email@example.jp>.")
        email = (match["email"] or "").strip()
        if email and not EMAIL_PATTERN.match(email):
            return contacts, _("Write one contact per line as: Name <email@example.jp>.")
        contacts.append({"name": match["name"].strip(), "email": email})
    if len(contacts) > MAX_CONTACTS:
        return contacts, _("List at most 10 contacts.")
    return contacts, None


def contacts_text(contacts: Iterable[Mapping[str, Any]]) -> str:
    """Contacts as the form's lines."""
    return "\n".join(
        f"{contact.get('name', '')} <{contact['email']}>"
        if contact.get("email")
        else str(contact.get("name", ""))
        for contact in contacts
    )


def parse_output_form(form: Mapping[str, str]) -> tuple[OutputValues, dict[str, str]]:
    """Check every field at once; the values are meaningful only when the errors are empty."""
    errors: dict[str, str] = {}
    slug = form.get("slug", "").strip().lower()
    if not SLUG_PATTERN.match(slug) or slug in RESERVED_SLUGS:
        errors["slug"] = _("Use 3–80 lower-case letters, digits and hyphens.")
    texts = {name: form.get(name, "").strip() for name in TEXT_LIMITS}
    if not texts["name"]:
        errors["name"] = _("Enter the software's name.")
    for name, limit in TEXT_LIMITS.items():
        if len(texts[name]) > limit and name not in errors:
            errors[name] = _("Use at most {limit} characters (now {length}).").format(
                limit=limit, length=len(texts[name])
            )
    repository_url = form.get("repository_url", "").strip()
    if not repository_url:
        errors["repository_url"] = _("Enter the address of the source code repository.")
    elif problem := url_problem(repository_url):
        errors["repository_url"] = problem
    landing_url = form.get("landing_url", "").strip()
    if landing_url and (problem := url_problem(landing_url)):
        errors["landing_url"] = problem
    license_text = form.get("license", "").strip()
    if problem := spdx_problem(license_text):
        errors["license"] = problem
    else:
        license_text = normalized_license(license_text)
    status = form.get("development_status", "")
    if status not in DEVELOPMENT_STATUSES:
        errors["development_status"] = _("Choose a development status.")
    software_type = form.get("software_type", "")
    if software_type not in SOFTWARE_TYPES:
        errors["software_type"] = _("Choose a software type.")
    categories = split_tags(form.get("categories", ""))
    platforms = split_tags(form.get("platforms", ""))
    for name, tags in (("categories", categories), ("platforms", platforms)):
        if problem := tags_problem(tags):
            errors[name] = problem
    contacts, problem = parse_contacts(form.get("contacts", ""))
    if problem:
        errors["contacts"] = problem
    screenshots = list(
        dict.fromkeys(line.strip() for line in form.get("screenshots", "").splitlines() if line.strip())
    )
    if len(screenshots) > MAX_SCREENSHOTS:
        errors["screenshots"] = _("List at most 10 screenshots.")
    elif any(url_problem(url) for url in screenshots):
        errors["screenshots"] = _("Enter one image address per line, each starting with https:// or http://.")
    release_date = None
    if text := form.get("release_date", "").strip():
        try:
            release_date = date.fromisoformat(unicodedata.normalize("NFKC", text))
        except ValueError:
            errors["release_date"] = _("Enter a date such as 2026-04-01.")
    maintainer = optional_int(form.get("maintainer_organization", ""))
    if maintainer is None and form.get("maintainer_organization", "").strip():
        errors["maintainer_organization"] = _("Choose an organization from the list.")
    collaboration = optional_int(form.get("collaboration", ""))
    if collaboration is None and form.get("collaboration", "").strip():
        errors["collaboration"] = _("Enter the collaboration's number, or leave it empty.")
    values = OutputValues(
        slug=slug,
        texts=texts,
        repository_url=repository_url,
        landing_url=landing_url,
        license=license_text,
        development_status=status,
        software_type=software_type,
        categories=categories,
        platforms=platforms,
        contacts=contacts,
        screenshots=screenshots,
        release_date=release_date,
        maintainer_organization_id=maintainer,
        source_challenge_slug=form.get("source_challenge", "").strip().lower(),
        collaboration_id=collaboration,
        license_is_open="license" not in errors and license_is_open(license_text),
    )
    return values, errors


def optional_int(text: str) -> int | None:
    """A positive integer from ASCII or full-width digits, or None."""
    folded = unicodedata.normalize("NFKC", text).strip()
    return int(folded) if re.fullmatch(r"[1-9]\d{0,9}", folded) else None


def suggested_slug(*candidates: str) -> str:
    """An address from the first candidate with enough ASCII in it (a repository's last path segment)."""
    for candidate in candidates:
        tail = candidate.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
        slug = (
            re.sub(r"[^a-z0-9]+", "-", unicodedata.normalize("NFKC", tail).lower()).strip("-")[:80].strip("-")
        )
        if SLUG_PATTERN.match(slug) and slug not in RESERVED_SLUGS:
            return slug
    return ""


def form_from_row(row: Mapping[str, Any], source_challenge_slug: str = "") -> dict[str, str]:
    """The entry form's values for a stored entry."""
    values = {name: str(row.get(name) or "") for name in TEXT_LIMITS}
    release = row.get("release_date")
    values.update(
        slug=str(row["slug"]),
        repository_url=str(row.get("repository_url") or ""),
        landing_url=str(row.get("landing_url") or ""),
        license=str(row.get("license") or ""),
        development_status=str(row.get("development_status") or "development"),
        software_type=str(row.get("software_type") or "standalone/web"),
        categories=", ".join(row.get("categories") or []),
        platforms=", ".join(row.get("platforms") or []),
        contacts=contacts_text(row.get("contacts") or []),
        screenshots="\n".join(row.get("screenshots") or []),
        release_date=release.isoformat() if isinstance(release, date) else "",
        maintainer_organization=str(row.get("maintainer_organization") or ""),
        source_challenge=source_challenge_slug,
        collaboration=str(row.get("collaboration") or ""),
    )
    return values
