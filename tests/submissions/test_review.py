"""The bureau's view of applications: counts, table, versions and diffs, exports, and nobody else sees it."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import secrets
import zipfile
from dataclasses import dataclass

import openpyxl
import pytest

from app.accounts.corporate_number import with_check_digit
from app.accounts.tables import Membership, Organization
from app.clock import utcnow
from app.settings import Settings
from app.submissions.diff import version_diff
from app.submissions.files import upload_folder
from app.submissions.state import receipt_number
from app.submissions.tables import Submission, SubmissionFile, SubmissionVersion
from tests.challenges.factories import make_challenge
from tests.submissions.factories import Contest, make_contest, pdf_bytes
from tests.submissions.test_applying import autosave, fill_everything
from tests.support.client import WebClient
from tests.support.people import Person, make_bureau, make_user
from tests.support.queries import assert_query_budget, count_queries

BASE = "/challenges/smart-city/applications"
PRIVATE = "private, no-store"


async def make_startup(email: str, name_ja: str, name_en: str, digits: str) -> tuple[Person, int]:
    """A user owning an organization with these names; returns both."""
    person = await make_user(email)
    rows = await Organization.insert(
        Organization(
            name_ja=name_ja,
            name_en=name_en,
            corporate_number=with_check_digit(f"0104012345{digits}"),
            website="",
            profile="",
            created_at=utcnow(),
        )
    ).run()
    organization_id = int(rows[0]["id"])
    await Membership.insert(
        Membership(user=person.id, organization=organization_id, role="owner", joined_at=utcnow())
    ).run()
    return person, organization_id


async def apply(
    client: WebClient, contest: Contest, person: Person, organization_id: int, *, submit: bool = True
) -> int:
    """Sign in as `person`, open the organization's draft, answer everything and submit; then sign out."""
    await client.sign_in(person.email, person.password)
    started = await client.post(f"/challenges/{contest.slug}/apply", {"organization": str(organization_id)})
    assert started.status_code == 303, started.text
    submission_id = int(started.headers["location"].rsplit("/", 1)[1])
    if submit:
        await fill_everything(client, contest, submission_id)
        submitted = await client.post(f"/submissions/{submission_id}/submit")
        assert submitted.status_code == 303, submitted.text
    await client.sign_out()
    return submission_id


@dataclass(frozen=True)
class Applications:
    """Four applications of one challenge, one in each situation the view must tell apart."""

    contest: Contest
    resubmitted: int  # the founder's organization, submitted twice (summary, pitch and deck changed)
    submitted: int  # Mirai LLC, submitted once
    draft: int  # Sakura, never submitted
    withdrawn: int  # Kaede, submitted then withdrawn


@pytest.fixture
async def applications(client: WebClient) -> Applications:
    """The applications, made through the pages as startups make them; the official is then signed in."""
    contest = await make_contest()
    mirai, mirai_org = await make_startup("ceo@mirai.example", "合同会社みらい", "Mirai LLC", "01")
    sakura, sakura_org = await make_startup("ceo@sakura.example", "株式会社さくら", "Sakura KK", "02")
    kaede, kaede_org = await make_startup("ceo@kaede.example", "一般社団法人かえで", "Kaede", "03")
    resubmitted = await apply(client, contest, contest.founder, contest.organization_id)
    await client.sign_in(contest.founder.email, contest.founder.password)
    assert await autosave(client, resubmitted, "summary", "改訂版の概要", 1) == 200
    assert (
        await autosave(client, resubmitted, str(contest.fields["pitch"]), "防災情報を届けます（改訂）", 1)
        == 200
    )
    upload = await client.http.post(
        f"/submissions/{resubmitted}/files/{contest.fields['deck']}",
        data={"_csrf_token": await client.csrf_token()},
        files={"file": ("pitch deck v2.pdf", pdf_bytes(4), "application/pdf")},
    )
    assert upload.status_code == 303, upload.text
    assert (await client.post(f"/submissions/{resubmitted}/submit")).status_code == 303
    await client.sign_out()
    submitted = await apply(client, contest, mirai, mirai_org)
    draft = await apply(client, contest, sakura, sakura_org, submit=False)
    withdrawn = await apply(client, contest, kaede, kaede_org)
    await client.sign_in(kaede.email, kaede.password)
    gone = await client.post(f"/submissions/{withdrawn}/withdraw", {"reason": "体制が整わないため"})
    assert gone.status_code == 303
    await client.sign_out()
    await client.sign_in(contest.official.email, contest.official.password)
    return Applications(contest, resubmitted, submitted, draft, withdrawn)


async def receipts() -> dict[int, str]:
    """Receipt number of every submission that has one."""
    rows = await Submission.select(Submission.id, Submission.receipt_number).run()
    return {row["id"]: row["receipt_number"] for row in rows if row["receipt_number"]}


def listed(html: str) -> list[int]:
    """The submission ids in the table, in order."""
    return [int(found) for found in re.findall(r'data-submission="(\d+)"', html)]


async def test_the_official_sees_counts_and_every_application(
    client: WebClient, applications: Applications
) -> None:
    """Counts by status and a row each, drafts and withdrawn ones included; receipts first, drafts last."""
    page = await client.get(BASE)
    assert page.status_code == 200
    assert page.headers["cache-control"] == PRIVATE
    counts = dict(re.findall(r'data-status="(\w+)">(\d+)<', page.text))
    assert counts == {
        "draft": "1", "submitted": "2", "withdrawn": "1", "advanced": "0", "not_selected": "0",
        "winner": "0", "total": "4",
    }  # fmt: skip
    assert listed(page.text) == [
        applications.resubmitted,
        applications.submitted,
        applications.withdrawn,
        applications.draft,
    ]
    for name in ("株式会社テスト", "合同会社みらい", "株式会社さくら", "一般社団法人かえで"):
        assert name in page.text
    assert "<caption" in page.text
    assert 'scope="col"' in page.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=submitted", ["resubmitted", "submitted"]),
        ("status=draft", ["draft"]),
        ("status=withdrawn", ["withdrawn"]),
        ("status=winner", []),
        ("status=nonsense", ["resubmitted", "submitted", "withdrawn", "draft"]),
        ("q=MIRAI", ["submitted"]),
        ("q=みらい", ["submitted"]),
        ("q=さくら&status=submitted", []),
        ("q=%25", []),  # a literal %, not a wildcard
        ("q=_", []),
    ],
)
async def test_filters_and_search(
    client: WebClient, applications: Applications, query: str, expected: list[str]
) -> None:
    """Status and a search over organization names and receipt numbers; HTMX gets just the table."""
    page = await client.get(f"{BASE}?{query}")
    assert page.status_code == 200
    assert listed(page.text) == [getattr(applications, name) for name in expected]
    fragment = await client.get(f"{BASE}?{query}", htmx=True)
    assert fragment.headers["cache-control"] == PRIVATE
    assert "HX-Request" in fragment.headers["vary"]
    assert "<html" not in fragment.text
    assert 'id="review-results"' in fragment.text
    assert listed(fragment.text) == listed(page.text)


async def test_search_by_receipt_number(client: WebClient, applications: Applications) -> None:
    """Part of a receipt number finds that application."""
    receipt = (await receipts())[applications.submitted]
    page = await client.get(f"{BASE}?q={receipt[-4:]}")
    assert listed(page.text) == [applications.submitted]


async def test_the_detail_shows_versions_and_what_a_resubmit_changed(
    client: WebClient, applications: Applications
) -> None:
    """Both versions are listed; by default the page shows the changes from version 1 to 2."""
    page = await client.get(f"{BASE}/{applications.resubmitted}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == PRIVATE
    html = page.text
    assert "?from=1&amp;to=2" in html
    assert re.search(r"<del>.*都庁の課題を解決します。</del>", html)
    assert re.search(r"<ins>.*改訂版の概要</ins>", html)
    assert re.search(r"<ins>.*防災情報を届けます（改訂）</ins>", html)
    assert re.search(r"<ins>.*pitch deck v2\.pdf", html)  # a new file (another SHA-256)
    file_id = (
        await SubmissionFile.select(SubmissionFile.id)
        .where(SubmissionFile.display_name == "pitch deck v2.pdf")
        .first()
        .run()
    )["id"]
    link = f"/submissions/{applications.resubmitted}/files/{file_id}/pitch%20deck%20v2.pdf"
    assert link in html
    download = await client.get(link)
    assert download.status_code == 200
    assert download.headers["cache-control"] == PRIVATE
    same = await client.get(f"{BASE}/{applications.resubmitted}?from=2&to=2")
    assert "<ins>" not in same.text
    assert "<del>" not in same.text


async def test_a_draft_detail_shows_no_answers(client: WebClient, applications: Applications) -> None:
    """A draft is listed but its unsubmitted answers stay with the startup."""
    page = await client.get(f"{BASE}/{applications.draft}")
    assert page.status_code == 200
    assert "株式会社さくら" in page.text
    assert "都庁の課題を解決します。" not in page.text


async def test_a_submission_of_another_challenge_is_not_found_here(
    client: WebClient, applications: Applications
) -> None:
    """The id must belong to the challenge in the URL, even another challenge of the same bureau."""
    contest = applications.contest
    await make_challenge(
        bureau_id=contest.bureau_id, author_id=contest.official.id, slug="other", now=utcnow()
    )
    assert (await client.get("/challenges/other/applications")).status_code == 200
    assert (await client.get(f"/challenges/other/applications/{applications.resubmitted}")).status_code == 404
    assert (await client.get(f"{BASE}/{applications.resubmitted + 1000}")).status_code == 404
    assert (
        await client.get(f"/challenges/unknown/applications/{applications.resubmitted}")
    ).status_code == 404


async def test_csv_and_xlsx_hold_one_row_per_submitted_application(
    client: WebClient, applications: Applications
) -> None:
    """UTF-8 with BOM, Japanese intact, latest answers, drafts and withdrawn left out; the XLSX agrees."""
    response = await client.get(f"{BASE}/export.csv")
    assert response.status_code == 200
    assert response.headers["cache-control"] == PRIVATE
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    header, body = rows[0], rows[1:]
    assert header[5:] == ["提案内容", "従業員数", "所在地", "ピッチ動画", "ピッチ資料"]
    numbers = await receipts()
    assert [row[0] for row in body] == [numbers[applications.resubmitted], numbers[applications.submitted]]
    founder, mirai = body
    assert founder[1] == "株式会社テスト"
    assert founder[4] == "改訂版の概要"  # the latest version
    assert founder[5] == "防災情報を届けます（改訂）"
    assert founder[6:] == ["１２", "東京都内", "", "pitch deck v2.pdf"]
    assert mirai[1] == "合同会社みらい"
    assert mirai[5] == "防災\n情報を𠮷野家のように届けます"  # a character outside the BMP survives
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", founder[3])
    assert "株式会社さくら" not in response.text
    assert "一般社団法人かえで" not in response.text

    workbook_response = await client.get(f"{BASE}/export.xlsx")
    assert workbook_response.status_code == 200
    assert workbook_response.headers["cache-control"] == PRIVATE
    sheet = openpyxl.load_workbook(io.BytesIO(workbook_response.content), read_only=True).active
    cells = [[value or "" for value in row] for row in sheet.iter_rows(values_only=True)]
    assert cells == rows


async def test_a_formula_in_an_answer_stays_text(client: WebClient, applications: Applications) -> None:
    """An answer starting with = is quoted in the CSV and a text cell in the workbook (no CSV injection)."""
    version = (
        await SubmissionVersion.select()
        .where(SubmissionVersion.submission == applications.submitted)
        .first()
        .output(load_json=True)
        .run()
    )
    content = version["content"]
    content["summary"] = '=HYPERLINK("https://evil.example","x")'
    await (
        SubmissionVersion.update({SubmissionVersion.content: json.dumps(content)})
        .where(SubmissionVersion.id == version["id"])
        .run()
    )
    rows = list(csv.reader(io.StringIO((await client.get(f"{BASE}/export.csv")).content.decode("utf-8-sig"))))
    assert rows[2][4] == "'" + content["summary"]
    workbook = openpyxl.load_workbook(io.BytesIO((await client.get(f"{BASE}/export.xlsx")).content))
    cell = workbook.active.cell(row=3, column=5)
    assert cell.value == content["summary"]
    assert cell.data_type == "s"


async def test_the_zip_holds_every_latest_deck(
    client: WebClient, applications: Applications, settings: Settings
) -> None:
    """One folder per receipt number, the latest version's files, byte for byte."""
    response = await client.get(f"{BASE}/decks.zip")
    assert response.status_code == 200
    assert response.headers["cache-control"] == PRIVATE
    assert response.headers["content-type"] == "application/zip"
    numbers = await receipts()
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.namelist() == [
        f"{numbers[applications.resubmitted]}/pitch deck v2.pdf",
        f"{numbers[applications.submitted]}/pitch deck.pdf",
    ]
    latest = {
        row["submission"]: row["content"]
        for row in await SubmissionVersion.select()
        .order_by(SubmissionVersion.number)
        .output(load_json=True)
        .run()
    }
    for submission_id in (applications.resubmitted, applications.submitted):
        [frozen] = latest[submission_id]["files"]
        data = archive.read(f"{numbers[submission_id]}/{frozen['display_name']}")
        assert hashlib.sha256(data).hexdigest() == frozen["sha256"]


def test_version_diff_names_each_changed_part() -> None:
    """Summary, changed answers (choices by label), files by hash and team; unchanged parts are left out."""
    deck = {"field": 5, "display_name": "a.pdf", "sha256": "a" * 64, "pages": 2}
    old = {
        "summary": "一行目\n二行目",
        "answers": {
            "1": {"label_ja": "所在地", "kind": "single_choice", "value": "0"},
            "2": {"label_ja": "従業員数", "kind": "number", "value": "12"},
            "5": {"label_ja": "資料", "kind": "file", "value": None},
        },
        "files": [deck],
        "team": [{"user": 1, "display_name": "創業者", "email": "f@example.jp"}],
    }
    new = {
        **old,
        "summary": "一行目\n三行目",
        "answers": {**old["answers"], "1": {**old["answers"]["1"], "value": "1"}},
        "files": [{**deck, "display_name": "renamed.pdf"}],
    }
    choices = {"1": [{"ja": "東京都内"}, {"ja": "都外"}]}
    sections = version_diff(old, new, choices)
    assert [(section.part, section.label) for section in sections] == [("summary", ""), ("answer", "所在地")]
    summary, place = sections
    assert [(line.kind, line.text) for line in summary.lines] == [
        ("same", "一行目"), ("removed", "二行目"), ("added", "三行目"),
    ]  # fmt: skip
    assert [(line.kind, line.text) for line in place.lines] == [("removed", "東京都内"), ("added", "都外")]
    replaced = version_diff(old, {**old, "files": [{**deck, "sha256": "b" * 64}], "team": []})
    assert [section.part for section in replaced] == ["files", "team"]
    assert [line.kind for line in replaced[0].lines] == ["removed", "added"]
    assert version_diff(old, old) == []


async def seed_application(contest: Contest, settings: Settings, organization_id: int, sequence: int) -> int:
    """A submitted application written straight to the database (with its PDF on disk); returns its id."""
    now = utcnow()
    data = pdf_bytes(1)
    stored_name = secrets.token_hex(16)
    folder = upload_folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / stored_name).write_bytes(data)
    rows = await Submission.insert(
        Submission(
            challenge=contest.challenge_id, organization=organization_id, status="submitted",
            active_slot=f"{contest.challenge_id}:{organization_id}",
            receipt_number=receipt_number(contest.challenge_id, sequence, now), summary="概要",
            created_by=contest.founder.id, created_at=now, updated_at=now, submitted_at=now,
            withdraw_reason="",
        )
    ).run()  # fmt: skip
    submission_id = int(rows[0]["id"])
    sha256 = hashlib.sha256(data).hexdigest()
    await SubmissionFile.insert(
        SubmissionFile(
            submission=submission_id, field=contest.fields["deck"], stored_name=stored_name,
            display_name="deck.pdf", kind="pdf", size_bytes=len(data), pages=1, sha256=sha256,
            uploaded_by=contest.founder.id, uploaded_at=now,
        )
    ).run()  # fmt: skip
    content = {
        "summary": "概要",
        "answers": {
            str(field_id): {"label_ja": name, "kind": "short_text", "value": f"{name}の答え"}
            for name, field_id in contest.fields.items()
        },
        "files": [
            {"field": contest.fields["deck"], "display_name": "deck.pdf", "sha256": sha256,
             "size_bytes": len(data), "pages": 1, "stored_name": stored_name},
        ],
        "team": [{"user": contest.founder.id, "display_name": "founder", "email": contest.founder.email}],
        "consents": [],
    }  # fmt: skip
    await SubmissionVersion.insert(
        SubmissionVersion(
            submission=submission_id, number=1, content=json.dumps(content, ensure_ascii=False),
            submitted_by=contest.founder.id, submitted_at=now,
        )
    ).run()  # fmt: skip
    return submission_id


async def seed_organizations(count: int, start: int) -> list[int]:
    """`count` organizations with distinct corporate numbers."""
    ids = []
    for index in range(start, start + count):
        rows = await Organization.insert(
            Organization(
                name_ja=f"株式会社{index}", name_en=f"Startup {index}",
                corporate_number=with_check_digit(f"{900000000000 + index}"), website="", profile="",
                created_at=utcnow(),
            )
        ).run()  # fmt: skip
        ids.append(int(rows[0]["id"]))
    return ids


async def test_the_list_needs_the_same_few_queries_for_3_or_12_applications(
    client: WebClient, settings: Settings
) -> None:
    """No query per row: the page costs the same with 3 and with 12 applications."""
    contest = await make_contest()
    for sequence, organization_id in enumerate(await seed_organizations(3, 0), start=1):
        await seed_application(contest, settings, organization_id, sequence)
    await client.sign_in(contest.official.email, contest.official.password)
    await client.get(BASE)  # the viewer is remembered after the first page
    with count_queries() as few:
        page = await client.get(BASE)
    assert len(listed(page.text)) == 3
    for sequence, organization_id in enumerate(await seed_organizations(9, 3), start=4):
        await seed_application(contest, settings, organization_id, sequence)
    with count_queries() as many:
        page = await client.get(BASE)
    assert len(listed(page.text)) == 12
    assert many.value == few.value
    assert_query_budget(many, 5)


URLS = ["/", "/{id}", "/export.csv", "/export.xlsx", "/decks.zip"]


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize(
    "who", ["anonymous", "other_startup", "applicant", "other_bureau_official", "judge", "official"]
)
async def test_only_the_bureau_sees_applications(
    client: WebClient, settings: Settings, who: str, url: str
) -> None:
    """404 for everyone but the owning bureau (sign-in first for anonymous); private, no-store for it."""
    contest = await make_contest()
    submission_id = await seed_application(contest, settings, contest.organization_id, 1)
    people = {
        "other_startup": (await make_startup("ceo@other.example", "他社", "Other", "09"))[0],
        "applicant": contest.founder,
        "other_bureau_official": await make_user(
            "port@city.example.jp", role="official", bureau_id=await make_bureau("port")
        ),
        "judge": await make_user("judge@example.jp", role="judge"),
        "official": contest.official,
    }
    if who != "anonymous":
        await client.sign_in(people[who].email, people[who].password)
    address = BASE + url.format(id=submission_id).rstrip("/")
    response = await client.get(address)
    if who == "anonymous":
        assert response.status_code == 303
        assert response.headers["location"].startswith("/signin?next=")
    elif who == "official":
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == PRIVATE
    else:
        assert response.status_code == 404
        assert "概要" not in response.text
