"""publiccode.yml (the Developers Italia standard, 0.2–0.4) read into a catalogue entry and written back out.

Pure functions: no database, no HTTP. The file is loaded with a SafeLoader that refuses aliases (the
billion-laughs expansion needs them), counts nodes and nesting, and reads at most 256 KB; line numbers come
from the composed node tree, so every problem points at the line of its key.

Mapping (publiccode.yml → Output column / form field):

    publiccodeYmlVersion                     checked: 0.2, 0.3, 0.4 (also 0.x.y); exported as "0.4"
    name                                     name
    url                                      repository_url (http/https only)
    landingURL                               landing_url (http/https only)
    softwareVersion                          version
    releaseDate                              release_date (YYYY-MM-DD)
    platforms                                platforms (list)
    categories                               categories (list)
    developmentStatus                        development_status (concept … obsolete)
    softwareType                             software_type
    description.ja / description.en
        shortDescription                     short_description_ja / short_description_en
        longDescription                      long_description_ja / long_description_en
        screenshots                          screenshots (one list: ja's then en's, without repeats)
    legal.license                            license (an SPDX expression)
    maintenance.contacts[].name, .email      contacts (a contact's other keys stay in extra, by name)
    usedBy                                   not imported: exported from confirmed adoptions on this platform
    JP.countryExtensionVersion,
    JP.publisher.localGovernmentCode         not imported: written on export (全国地方公共団体コード)

Every other key (other languages, features, maintenance.type, localisation, it:, dependsOn…) is kept as it
came in Output.publiccode_extra and merged back into the exported file, so a round trip loses nothing.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import yaml

from app.catalog.output_forms import (
    DEVELOPMENT_STATUSES,
    SOFTWARE_TYPES,
    TAG_PATTERN,
    contacts_text,
    spdx_problem,
    suggested_slug,
    url_problem,
)
from app.catalog.safe_yaml import PlainDumper, Problem, Refused, load_document
from app.web.i18n import gettext as _

SUPPORTED_VERSION = re.compile(r"^0\.[234](\.\d+)?$")
EXPORT_VERSION = "0.4"
# 全国地方公共団体コード of the publisher written in the JP block: 東京都 runs the platform.
DEFAULT_PUBLISHER_CODE = "130001"
JP_EXTENSION_VERSION = "0.1"
LANGUAGES = ("ja", "en")


@dataclass
class ImportResult:
    """The entry form's values, what could not be used, and the keys kept unchanged for export."""

    values: dict[str, str]
    problems: list[Problem]
    extra: dict[str, Any]
    kept: list[Problem] = field(default_factory=list)

    @property
    def readable(self) -> bool:
        """Whether the file was a publiccode.yml at all (values exist), even with problems."""
        return bool(self.values)


class Reader:
    """Takes mapped keys out of the document, noting a problem (with its line) for each bad value."""

    def __init__(self, lines: dict[str, int]) -> None:
        self.lines = lines
        self.problems: list[Problem] = []

    def problem(self, path: str, message: str) -> None:
        """Record a problem at `path` (or its nearest parent that has a line)."""
        probe = path
        while probe and probe not in self.lines:
            probe = probe.rsplit(".", 1)[0] if "." in probe else ""
        self.problems.append(Problem(self.lines.get(probe), path, message))

    def text(self, container: dict[str, Any], key: str, path: str, *, required: bool = False) -> str | None:
        """A text value taken out of `container` (numbers become text: YAML reads 1.0 as a number)."""
        if key not in container:
            if required:
                self.problem(path, _("The required key {key} is missing.").format(key=path))
            return None
        value = container.pop(key)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problem(path, _("{key} must be text.").format(key=path))
            return None
        return str(value).strip()

    def text_list(
        self, container: dict[str, Any], key: str, path: str, *, required: bool = False
    ) -> list[str]:
        """A list of texts taken out of `container`; items that are not text are reported and left out."""
        if key not in container:
            if required:
                self.problem(path, _("The required key {key} is missing.").format(key=path))
            return []
        value = container.pop(key)
        if not isinstance(value, list):
            self.problem(path, _("{key} must be a list.").format(key=path))
            return []
        items = []
        for index, item in enumerate(value):
            if isinstance(item, str) and item.strip():
                items.append(item.strip())
            else:
                self.problem(f"{path}[{index}]", _("Each item of {key} must be text.").format(key=path))
        return items

    def mapping(
        self, container: dict[str, Any], key: str, path: str, *, required: bool = False
    ) -> dict[str, Any]:
        """A mapping left in place in `container` (its mapped keys are taken out one by one)."""
        if key not in container:
            if required:
                self.problem(path, _("The required key {key} is missing.").format(key=path))
            return {}
        value = container[key]
        if not isinstance(value, dict):
            self.problem(path, _("{key} must be a mapping of keys to values.").format(key=path))
            del container[key]
            return {}
        return value


def parse_publiccode(text: str) -> ImportResult:
    """The entry form's values from a publiccode.yml, with every problem and the keys kept for export."""
    try:
        data, lines = load_document(text)
    except Refused as refused:
        return ImportResult({}, [refused.problem], {})
    if not isinstance(data, dict):
        return ImportResult(
            {}, [Problem(1, "", _("A publiccode.yml must be a mapping of keys to values."))], {}
        )
    version = data.get("publiccodeYmlVersion")
    version_text = str(version).strip() if isinstance(version, str | float) else ""
    if version is None:
        return ImportResult(
            {},
            [Problem(None, "publiccodeYmlVersion", _("The required key publiccodeYmlVersion is missing."))],
            {},
        )
    if not SUPPORTED_VERSION.match(version_text):
        message = _("Version {version} of publiccode.yml is not supported (use 0.2, 0.3 or 0.4).")
        return ImportResult(
            {},
            [
                Problem(
                    lines.get("publiccodeYmlVersion"), "publiccodeYmlVersion", message.format(version=version)
                )
            ],
            {},
        )
    rest: dict[str, Any] = copy.deepcopy(data)
    del rest["publiccodeYmlVersion"]
    reader = Reader(lines)
    values = map_core(reader, rest, needs_categories=not version_text.startswith("0.4"))
    map_descriptions(reader, rest, values)
    map_legal_and_maintenance(reader, rest, values)
    if "usedBy" in rest:
        del rest["usedBy"]
        reader.problem(
            "usedBy",
            _(
                "usedBy is not imported: municipalities record their adoptions here, "
                "and the export lists the confirmed ones."
            ),
        )
    jp = rest.get("JP")
    if isinstance(jp, dict):
        jp.pop("countryExtensionVersion", None)
        publisher = jp.get("publisher")
        if isinstance(publisher, dict):
            publisher.pop("localGovernmentCode", None)
    extra = without_empty(rest)
    kept = [Problem(lines.get(path), path, "") for path in kept_paths(extra)]
    values["slug"] = suggested_slug(values.get("repository_url", ""), values.get("name", ""))
    return ImportResult(values, reader.problems, extra, kept)


def map_core(reader: Reader, rest: dict[str, Any], *, needs_categories: bool) -> dict[str, str]:
    """Name, addresses, version, release date, platforms, categories, status and type."""
    values: dict[str, str] = {}
    if (name := reader.text(rest, "name", "name", required=True)) is not None:
        values["name"] = name
    for key, column, required in (("url", "repository_url", True), ("landingURL", "landing_url", False)):
        address = reader.text(rest, key, key, required=required)
        if address is None:
            continue
        if problem := url_problem(address):
            reader.problem(key, problem)
        values[column] = address  # shown in the form, where the same check asks for a correction
    if (version := reader.text(rest, "softwareVersion", "softwareVersion")) is not None:
        values["version"] = version
    if "releaseDate" in rest:
        released = rest.pop("releaseDate")
        if isinstance(released, date) and not isinstance(released, datetime):
            values["release_date"] = released.isoformat()
        elif isinstance(released, str) and is_iso_date(released.strip()):
            values["release_date"] = released.strip()
        else:
            reader.problem("releaseDate", _("releaseDate must be a date such as 2026-04-01."))
    for key, required in (("platforms", True), ("categories", needs_categories)):
        tags = reader.text_list(rest, key, key, required=required)
        for index, tag in enumerate(tags):
            if not TAG_PATTERN.match(tag):
                reader.problem(f"{key}[{index}]", _("{value} is not a usable word here.").format(value=tag))
        values[key] = ", ".join(tag for tag in tags if TAG_PATTERN.match(tag))
    status = reader.text(rest, "developmentStatus", "developmentStatus", required=True)
    if status is not None and status not in DEVELOPMENT_STATUSES:
        reader.problem("developmentStatus", _("Unknown development status: {value}.").format(value=status))
    values["development_status"] = status if status in DEVELOPMENT_STATUSES else "development"
    software_type = reader.text(rest, "softwareType", "softwareType", required=True)
    if software_type is not None and software_type not in SOFTWARE_TYPES:
        reader.problem("softwareType", _("Unknown software type: {value}.").format(value=software_type))
    values["software_type"] = software_type if software_type in SOFTWARE_TYPES else "standalone/web"
    return values


def map_descriptions(reader: Reader, rest: dict[str, Any], values: dict[str, str]) -> None:
    """Japanese and English descriptions and the screenshots of both; other languages stay in extra."""
    descriptions = reader.mapping(rest, "description", "description", required=True)
    screenshots: list[str] = []
    for lang in LANGUAGES:
        block = reader.mapping(descriptions, lang, f"description.{lang}")
        for key, column in (
            ("shortDescription", "short_description"),
            ("longDescription", "long_description"),
        ):
            described = reader.text(block, key, f"description.{lang}.{key}")
            if described is not None:
                values[f"{column}_{lang}"] = described
        for index, url in enumerate(
            reader.text_list(block, "screenshots", f"description.{lang}.screenshots")
        ):
            if problem := url_problem(url):
                reader.problem(f"description.{lang}.screenshots[{index}]", problem)
            elif url not in screenshots:
                screenshots.append(url)
    if descriptions and not any(isinstance(descriptions.get(lang), dict) for lang in LANGUAGES):
        reader.problem(
            "description",
            _(
                "There is no Japanese (ja) or English (en) description; "
                "other languages are kept for export only."
            ),
        )
    values["screenshots"] = "\n".join(screenshots)


def map_legal_and_maintenance(reader: Reader, rest: dict[str, Any], values: dict[str, str]) -> None:
    """The licence and the contacts (their other keys stay in extra, matched by name)."""
    legal = reader.mapping(rest, "legal", "legal", required=True)
    license_text = reader.text(legal, "license", "legal.license", required=bool(legal) or "legal" in rest)
    if license_text is not None:
        if problem := spdx_problem(license_text):
            reader.problem("legal.license", problem)
        values["license"] = license_text
    maintenance = reader.mapping(rest, "maintenance", "maintenance")
    contacts: list[dict[str, str]] = []
    contact_extras: list[dict[str, Any]] = []
    raw_contacts = maintenance.pop("contacts", [])
    if not isinstance(raw_contacts, list):
        reader.problem("maintenance.contacts", _("{key} must be a list.").format(key="maintenance.contacts"))
        raw_contacts = []
    for index, contact in enumerate(raw_contacts):
        path = f"maintenance.contacts[{index}]"
        if (
            not isinstance(contact, dict)
            or not isinstance(contact.get("name"), str)
            or not contact["name"].strip()
        ):
            reader.problem(path, _("Each contact needs a name."))
            continue
        name = contact.pop("name").strip()
        email = contact.pop("email", "")
        if not isinstance(email, str):
            reader.problem(f"{path}.email", _("{key} must be text.").format(key=f"{path}.email"))
            email = ""
        contacts.append({"name": name, "email": email.strip()})
        if contact:
            contact_extras.append({"name": name, **contact})
    if contact_extras:
        maintenance["contacts"] = contact_extras
    values["contacts"] = contacts_text(contacts)


def is_iso_date(text: str) -> bool:
    """Whether `text` is a calendar date written YYYY-MM-DD."""
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def without_empty(value: Any) -> Any:
    """`value` with the mappings emptied by mapping removed (at any depth)."""
    if isinstance(value, dict):
        cleaned = {key: without_empty(item) for key, item in value.items()}
        return {key: item for key, item in cleaned.items() if item != {}}
    if isinstance(value, list):
        return [without_empty(item) for item in value]
    return value


def kept_paths(extra: Mapping[str, Any]) -> list[str]:
    """The keys kept unchanged, one level into the sections the form maps (description.ja.features…)."""
    paths: list[str] = []
    for key, value in extra.items():
        if key in {"description", "legal", "maintenance", "JP"} and isinstance(value, dict):
            for sub, inner in value.items():
                if key == "description" and sub in LANGUAGES and isinstance(inner, dict):
                    paths.extend(f"description.{sub}.{name}" for name in inner)
                else:
                    paths.append(f"{key}.{sub}")
        else:
            paths.append(str(key))
    return paths


def export_publiccode(output_row: Mapping[str, Any], used_by: list[str], publisher_code: str) -> str:
    """A publiccode.yml (version 0.4) for a stored entry, with usedBy and the JP block, extra merged back."""
    doc: dict[str, Any] = {
        "publiccodeYmlVersion": EXPORT_VERSION,
        "name": output_row["name"],
        "url": output_row["repository_url"],
    }
    if output_row.get("landing_url"):
        doc["landingURL"] = output_row["landing_url"]
    if output_row.get("version"):
        doc["softwareVersion"] = output_row["version"]
    released = output_row.get("release_date")
    if isinstance(released, date):
        doc["releaseDate"] = released.isoformat()
    # platforms is required by the standard: a web catalogue's entries run in a browser unless told otherwise.
    doc["platforms"] = list(output_row.get("platforms") or ["web"])
    if output_row.get("categories"):
        doc["categories"] = list(output_row["categories"])
    doc["developmentStatus"] = output_row.get("development_status") or "development"
    doc["softwareType"] = output_row.get("software_type") or "standalone/web"
    if used_by:
        doc["usedBy"] = list(used_by)
    doc["description"] = descriptions_of(output_row)
    doc["legal"] = {"license": output_row["license"]}
    extra: dict[str, Any] = dict(output_row.get("publiccode_extra") or {})
    contacts = [
        {"name": contact["name"], **({"email": contact["email"]} if contact.get("email") else {})}
        for contact in output_row.get("contacts") or []
    ]
    maintenance: dict[str, Any] = {}
    if "type" not in (extra.get("maintenance") or {}):
        maintenance["type"] = "community" if contacts else "none"
    if contacts:
        maintenance["contacts"] = contacts
    doc["maintenance"] = maintenance
    if "localisation" not in extra:
        languages = [lang for lang in LANGUAGES if lang in doc["description"]]
        doc["localisation"] = {
            "localisationReady": len(languages) > 1,
            "availableLanguages": languages or ["ja"],
        }
    doc["JP"] = {
        "countryExtensionVersion": JP_EXTENSION_VERSION,
        "publisher": {"localGovernmentCode": publisher_code},
    }
    merged = merge(doc, extra)
    return yaml.dump(
        merged, Dumper=PlainDumper, allow_unicode=True, sort_keys=False, default_flow_style=False, width=100
    )


def descriptions_of(output_row: Mapping[str, Any]) -> dict[str, Any]:
    """description.ja / description.en for the languages that have text; screenshots go with each."""
    descriptions: dict[str, Any] = {}
    screenshots = list(output_row.get("screenshots") or [])
    for lang in LANGUAGES:
        short = output_row.get(f"short_description_{lang}") or ""
        long = output_row.get(f"long_description_{lang}") or ""
        if not short and not long:
            continue
        block: dict[str, Any] = {"shortDescription": short, "longDescription": long}
        if screenshots:
            block["screenshots"] = screenshots
        descriptions[lang] = block
    return descriptions


def merge(generated: dict[str, Any], kept: Mapping[str, Any]) -> dict[str, Any]:
    """`generated` with the kept keys added (generated values win; contacts are matched by name)."""
    merged: dict[str, Any] = {}
    for key, value in generated.items():
        old = kept.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            merged[key] = merge(value, old)
        elif key == "contacts" and isinstance(value, list) and isinstance(old, list):
            by_name = {item.get("name"): item for item in old if isinstance(item, dict)}
            merged[key] = [
                {
                    **value_item,
                    **{k: v for k, v in by_name.get(value_item["name"], {}).items() if k not in value_item},
                }
                for value_item in value
            ]
        else:
            merged[key] = value
    for key, value in kept.items():
        if key not in merged:
            merged[key] = value
    return merged
