"""publiccode.yml import and export: every mapped field, round trips, and files that must be refused."""

from __future__ import annotations

import time
from typing import Any

import pytest
import yaml

from app.catalog.output_forms import parse_output_form
from app.catalog.publiccode import DEFAULT_PUBLISHER_CODE, export_publiccode, parse_publiccode

V02 = """\
publiccodeYmlVersion: "0.2"
name: Bousai Map
url: "https://github.com/city-tokyo/bousai-map.git"
landingURL: "https://bousai.example.jp"
softwareVersion: "1.4.0"
releaseDate: "2024-03-31"
platforms:
  - web
  - android
categories:
  - emergency-management
developmentStatus: stable
softwareType: standalone/web
description:
  ja:
    shortDescription: 防災マップ
    longDescription: 避難所と危険箇所を地図で示します。
    features:
      - 避難所の表示
    screenshots:
      - https://bousai.example.jp/shot-ja.png
  en:
    shortDescription: Disaster map
    longDescription: Shows shelters and hazards on a map.
    features:
      - Shelters
    screenshots:
      - https://bousai.example.jp/shot-en.png
  it:
    shortDescription: Mappa
    longDescription: Mappa dei rifugi.
    features: [Rifugi]
legal:
  license: MIT OR Apache-2.0
  mainCopyrightOwner: 東京都
maintenance:
  type: internal
  contacts:
    - name: 山田 花子
      email: hanako@city.example.jp
      phone: "+81-3-0000-0000"
    - name: Taro
localisation:
  localisationReady: true
  availableLanguages: [ja, en, it]
it:
  countryExtensionVersion: "0.2"
  riuso:
    codiceIPA: c_h501
"""

V03 = """\
publiccodeYmlVersion: "0.3"
name: Kosodate Navi
url: "https://gitlab.example.jp/kosodate/navi"
softwareVersion: 2.0.1
releaseDate: 2025-01-15
platforms: [ios, android]
categories: [social-services]
developmentStatus: beta
softwareType: standalone/mobile
description:
  ja:
    shortDescription: 子育て支援アプリ
    longDescription: |
      子育て世帯に届く情報を
      まとめて表示します。
    documentation: https://kosodate.example.jp/docs
legal:
  license: GPL-3.0-or-later
maintenance:
  type: community
  contacts:
    - name: Kosodate Team
      email: team@kosodate.example.jp
      affiliation: NPO
localisation:
  localisationReady: false
  availableLanguages: [ja]
dependsOn:
  open:
    - name: PostgreSQL
      versionMin: "13"
"""

V04 = """\
publiccodeYmlVersion: "0.4.0"
name: Gomi Calendar
url: "https://github.com/city-example/gomi"
landingURL: "https://gomi.example.jp/"
softwareVersion: "3.1"
releaseDate: "2026-02-01"
platforms:
  - web
developmentStatus: development
softwareType: library
description:
  en:
    shortDescription: Waste collection calendar
    longDescription: A calendar of waste collection days for every district.
    features:
      - Reminders
    videos:
      - https://www.youtube.com/watch?v=example
legal:
  license: EUPL-1.2
maintenance:
  type: none
localisation:
  localisationReady: true
  availableLanguages: [en]
JP:
  countryExtensionVersion: "0.1"
  publisher:
    localGovernmentCode: "131016"
    department: 環境局
"""

EXPECTED = {
    "0.2": {
        "name": "Bousai Map",
        "repository_url": "https://github.com/city-tokyo/bousai-map.git",
        "landing_url": "https://bousai.example.jp",
        "version": "1.4.0",
        "release_date": "2024-03-31",
        "platforms": "web, android",
        "categories": "emergency-management",
        "development_status": "stable",
        "software_type": "standalone/web",
        "short_description_ja": "防災マップ",
        "long_description_ja": "避難所と危険箇所を地図で示します。",
        "short_description_en": "Disaster map",
        "long_description_en": "Shows shelters and hazards on a map.",
        "screenshots": "https://bousai.example.jp/shot-ja.png\nhttps://bousai.example.jp/shot-en.png",
        "license": "MIT OR Apache-2.0",
        "contacts": "山田 花子 <hanako@city.example.jp>\nTaro",
        "slug": "bousai-map",
    },
    "0.3": {
        "name": "Kosodate Navi",
        "repository_url": "https://gitlab.example.jp/kosodate/navi",
        "version": "2.0.1",
        "release_date": "2025-01-15",
        "platforms": "ios, android",
        "categories": "social-services",
        "development_status": "beta",
        "software_type": "standalone/mobile",
        "short_description_ja": "子育て支援アプリ",
        "long_description_ja": "子育て世帯に届く情報を\nまとめて表示します。",
        "screenshots": "",
        "license": "GPL-3.0-or-later",
        "contacts": "Kosodate Team <team@kosodate.example.jp>",
        "slug": "navi",
    },
    "0.4": {
        "name": "Gomi Calendar",
        "repository_url": "https://github.com/city-example/gomi",
        "landing_url": "https://gomi.example.jp/",
        "version": "3.1",
        "release_date": "2026-02-01",
        "platforms": "web",
        "categories": "",
        "development_status": "development",
        "software_type": "library",
        "short_description_en": "Waste collection calendar",
        "long_description_en": "A calendar of waste collection days for every district.",
        "screenshots": "",
        "license": "EUPL-1.2",
        "contacts": "",
        "slug": "gomi",
    },
}
FILES = {"0.2": V02, "0.3": V03, "0.4": V04}


def stored_row(values: dict[str, str], extra: dict[str, Any]) -> dict[str, Any]:
    """The Output row the import form would store (through the same form parser as the site)."""
    parsed, errors = parse_output_form(values)
    assert errors == {}
    return {**parsed.columns(), "version": values.get("version", ""), "publiccode_extra": extra}


@pytest.mark.parametrize("version", ["0.2", "0.3", "0.4"])
def test_every_mapped_field_is_read(version: str) -> None:
    result = parse_publiccode(FILES[version])
    assert result.problems == []
    assert result.values == EXPECTED[version]


def test_unmapped_keys_are_kept_with_their_lines() -> None:
    result = parse_publiccode(V02)
    assert result.extra["description"]["it"]["shortDescription"] == "Mappa"
    assert result.extra["description"]["ja"] == {"features": ["避難所の表示"]}
    assert result.extra["legal"] == {"mainCopyrightOwner": "東京都"}
    assert result.extra["maintenance"] == {
        "type": "internal",
        "contacts": [{"name": "山田 花子", "phone": "+81-3-0000-0000"}],
    }
    assert result.extra["it"]["riuso"] == {"codiceIPA": "c_h501"}
    kept = {problem.key: problem.line for problem in result.kept}
    assert kept["description.ja.features"] == 18
    assert kept["maintenance.type"] == 37
    assert kept["it"] == 46


@pytest.mark.parametrize("version", ["0.2", "0.3", "0.4"])
def test_round_trip_keeps_mapped_fields_and_extra(version: str) -> None:
    first = parse_publiccode(FILES[version])
    exported = export_publiccode(stored_row(first.values, first.extra), [], DEFAULT_PUBLISHER_CODE)
    second = parse_publiccode(exported)
    assert second.problems == []
    assert second.values == first.values
    assert second.extra == first.extra


def test_export_is_a_0_4_file_with_used_by_and_the_japanese_block() -> None:
    first = parse_publiccode(V04)
    row = stored_row(first.values, first.extra)
    document = yaml.safe_load(export_publiccode(row, ["東京都八王子市", "神奈川県"], "130001"))
    assert document["publiccodeYmlVersion"] == "0.4"
    assert document["usedBy"] == ["東京都八王子市", "神奈川県"]
    # The generated publisher code wins over the imported one; the rest of the block comes back.
    assert document["JP"] == {
        "countryExtensionVersion": "0.1",
        "publisher": {"localGovernmentCode": "130001", "department": "環境局"},
    }
    assert document["description"]["en"]["videos"] == ["https://www.youtube.com/watch?v=example"]
    assert document["maintenance"] == {"type": "none"}


def test_an_entry_typed_in_the_form_exports_a_complete_file() -> None:
    values = {
        "name": "Minimal",
        "slug": "minimal",
        "repository_url": "https://github.com/city/minimal",
        "license": "mit",
        "development_status": "concept",
        "software_type": "standalone/web",
        "short_description_ja": "最小",
        "contacts": "担当 <tantou@city.example.jp>",
    }
    document = yaml.safe_load(export_publiccode(stored_row(values, {}), [], "130001"))
    assert document["legal"] == {"license": "MIT"}
    assert document["platforms"] == ["web"]
    assert document["maintenance"] == {
        "type": "community",
        "contacts": [{"name": "担当", "email": "tantou@city.example.jp"}],
    }
    assert document["localisation"] == {"localisationReady": False, "availableLanguages": ["ja"]}
    assert parse_publiccode(yaml.safe_dump(document, allow_unicode=True)).problems == []


def test_billion_laughs_is_refused_quickly() -> None:
    bomb = 'lol0: &a0 ["lol"]\n' + "".join(
        f"lol{n}: &a{n} [{','.join([f'*a{n - 1}'] * 10)}]\n" for n in range(1, 10)
    )
    started = time.perf_counter()
    result = parse_publiccode(bomb)
    assert time.perf_counter() - started < 0.5
    assert not result.readable
    assert result.problems[0].line == 2
    assert "Aliases" in result.problems[0].message or "エイリアス" in result.problems[0].message


def test_a_file_over_256_kb_is_refused_before_parsing() -> None:
    result = parse_publiccode("name: x\n" + "# padding\n" * 30_000)
    assert not result.readable
    assert result.problems[0].line is None


def test_not_yaml_gives_the_line() -> None:
    result = parse_publiccode('publiccodeYmlVersion: "0.4"\nname: [unclosed\nurl: x\n')
    assert not result.readable
    assert result.problems[0].line == 3


def test_python_tags_are_not_constructed() -> None:
    result = parse_publiccode('publiccodeYmlVersion: "0.4"\nname: !!python/object/apply:os.system ["true"]\n')
    assert not result.readable
    assert result.problems[0].line == 2


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n"])
def test_a_document_that_is_not_a_mapping_is_refused(text: str) -> None:
    assert not parse_publiccode(text).readable


def test_unknown_version_is_refused_with_its_line() -> None:
    result = parse_publiccode('# comment\npubliccodeYmlVersion: "0.9"\nname: x\n')
    assert not result.readable
    assert [(problem.line, problem.key) for problem in result.problems] == [(2, "publiccodeYmlVersion")]


def test_missing_name_and_url_and_wrong_types_are_listed_with_lines() -> None:
    text = V04.replace('name: Gomi Calendar\nurl: "https://github.com/city-example/gomi"\n', "")
    text = text.replace("platforms:\n  - web\n", "platforms: web\n")
    text = text.replace('releaseDate: "2026-02-01"', "releaseDate: [2026]")
    text = text.replace("license: EUPL-1.2", "license: Not-A-Licence")
    text = text.replace('landingURL: "https://gomi.example.jp/"', 'landingURL: "javascript:alert(1)"')
    result = parse_publiccode(text)
    assert result.readable
    found = {problem.key: problem.line for problem in result.problems}
    assert found == {
        "name": None,
        "url": None,
        "landingURL": 2,
        "releaseDate": 4,
        "platforms": 5,
        "legal.license": 17,
    }
    assert result.values["license"] == "Not-A-Licence"  # shown in the form for correction, never stored as is


def test_used_by_is_not_imported_but_reported() -> None:
    result = parse_publiccode(V04 + "usedBy:\n  - 某市\n")
    assert [problem.key for problem in result.problems] == ["usedBy"]
    assert "usedBy" not in result.extra


def test_invalid_items_are_reported_at_their_own_line() -> None:
    text = V03.replace("      email: team@kosodate.example.jp\n", "      email: [team]\n")
    text = text.replace("platforms: [ios, android]", "platforms: [ios, {a: 1}]")
    result = parse_publiccode(text)
    found = {problem.key: problem.line for problem in result.problems}
    assert found == {"platforms[1]": 6, "maintenance.contacts[0].email": 23}
