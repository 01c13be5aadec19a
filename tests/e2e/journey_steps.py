"""Steps of the full journey (tests/e2e/test_full_journey.py): each acts through Chromium and checks it."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, expect

from app.database.engines import engine_from_url
from app.database.registry import current_engine, use_engine
from app.database.sqlite import KyosoSQLiteEngine
from tests.e2e.conftest import BrowserLog, csp_violations, open_page
from tests.e2e.test_accessibility import AXE_OPTIONS, BLOCKING_IMPACTS, Finding
from tests.e2e.test_judging_in_browser import (
    Comment,
    assigned_submissions,
    declare_and_check_conflict,
    expect_progress,
    posted_to,
    score_submission,
)
from tests.submissions.corpus import pdf_of_size
from tests.support.live_server import LiveServer
from tests.support.people import Person

TOKYO = ZoneInfo("Asia/Tokyo")
PDF_BYTES = 64 * 1024
SHARED_COMMENTS = (
    "課題の理解が明確で、実証計画も具体的です。",
    "費用対効果の説明に説得力があります。",
    "現場での運用まで考えられています。",
)
INTERNAL_NOTE = "内部メモ：価格が高すぎる。"
MAIL_TIMEOUT_SECONDS = 30.0
SEARCH_TIMEOUT_SECONDS = 30.0


def jst_local(moment: datetime) -> str:
    """The value a datetime-local input takes for an instant, in Japan time."""
    return moment.astimezone(TOKYO).strftime("%Y-%m-%dT%H:%M")


@dataclass
class Shots:
    """Numbered full-page screenshots (test-artifacts/e2e/journey/NN-step-name.png), each page checked by axe.

    axe runs on the address the step ended on, opened again in another tab of the same session, in Japanese
    and English at 1280 and 375 px; the findings are asserted at the end of the journey. (Not in the
    journey's own tab: axe sets inline styles and fetches style sheets, which the console would report.)
    """

    folder: Path
    taken: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    axe: Axe = field(default_factory=Axe)

    def __post_init__(self) -> None:
        """Start from an empty folder, so the numbers tell the order of this run only."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()

    async def __call__(self, page: Page, name: str) -> None:
        """Save the page as the next numbered screenshot and check it with axe."""
        file_name = f"{len(self.taken) + 1:02d}-{name}.png"
        await page.screenshot(path=self.folder / file_name, full_page=True)
        self.taken.append(file_name)
        await self.check_address(page, name)

    async def check(self, page: Page, label: str) -> None:
        """Every WCAG 2.0/2.1 A and AA violation axe finds on the page as it is now."""
        results = await self.axe.run(page, options=AXE_OPTIONS)
        self.findings.extend(
            Finding(label, v["id"], v.get("impact") or "minor", len(v["nodes"]), v["help"])
            for v in results.response["violations"]
        )

    async def check_address(self, page: Page, name: str) -> None:
        """The page's address in another tab of its session, in both languages and at both widths."""
        context = page.context
        tab = await context.new_page()
        try:
            for locale in ("ja", "en"):
                await context.add_cookies([{"name": "locale", "value": locale, "url": page.url}])
                await tab.set_viewport_size({"width": 1280, "height": 800})
                await tab.goto(page.url)
                await self.check(tab, f"{name} {locale} 1280px")
                await tab.set_viewport_size({"width": 375, "height": 800})
                await self.check(tab, f"{name} {locale} 375px")
        finally:
            # Back to the journey's Japanese (the reader's Accept-Language) for the next steps.
            await context.clear_cookies(name="locale")
            await tab.close()

    def assert_accessible(self) -> None:
        """No serious or critical violation on any page; the others are printed."""
        for finding in self.findings:
            print(f"axe {finding.impact}: {finding.page}: {finding.rule} ({finding.nodes}) {finding.help}")
        blocking = [finding for finding in self.findings if finding.impact in BLOCKING_IMPACTS]
        assert blocking == [], blocking


@asynccontextmanager
async def database(live_server: LiveServer) -> AsyncIterator[None]:
    """The live server's database as the current engine, for rows written or read straight in it."""
    previous = current_engine()
    engine = engine_from_url(live_server.database_url)
    use_engine(engine)
    try:
        yield
    finally:
        if isinstance(engine, KyosoSQLiteEngine):
            await engine.close_idle_connections()
        use_engine(previous)


def actor_page(
    browser: Browser, live_server: LiveServer, log: BrowserLog
) -> AbstractAsyncContextManager[Page]:
    """A page in a fresh context (no cookies), set up like the `page` fixture and logging into `log`."""
    return open_page(browser, live_server.base_url, log)


async def assert_clean(page: Page, log: BrowserLog) -> None:
    """No uncaught exceptions, no console errors, no CSP violations on the current document."""
    assert log.page_errors == [], log.page_errors
    unexpected = log.unexpected_console_errors()
    assert unexpected == [], unexpected
    violations = await csp_violations(page)
    assert violations == [], violations


# --- Step 1: the challenge ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChallengeDraft:
    """What the official types into the new challenge form."""

    slug: str
    title: str
    summary: str
    opens: datetime
    closes: datetime


async def draft_challenge(page: Page, draft: ChallengeDraft) -> None:
    """From 局の業務, fill the new challenge form (live Markdown preview) and save the draft."""
    await page.get_by_role("navigation").get_by_role("link", name="局の業務").click()
    await expect(page).to_have_url(re.compile(r"/bureau/challenges$"))
    await page.get_by_role("link", name="新しい課題を作成").click()
    await expect(page).to_have_url(re.compile(r"/challenges/new$"))
    await expect(page.locator("#field-bureau option:checked")).to_have_text("デジタルサービス局")
    await page.locator("#field-slug").fill(draft.slug)
    await page.locator("#field-title_ja").fill(draft.title)
    await page.locator("#field-summary_ja").fill(draft.summary)
    body = page.locator("#field-body_ja")
    await body.fill("区役所の窓口は**混雑")
    async with page.expect_response(
        lambda response: response.url.endswith("/challenges/preview") and response.status == 200
    ):
        await body.press_sequentially("**")
    await expect(page.locator("#preview-body_ja strong")).to_have_text("混雑")
    await page.locator("#field-eligibility_ja").fill("設立10年以内\n都内で実証可能")
    await page.locator("#field-poc_budget_jpy").fill("10,000,000")
    await page.locator("#field-themes").fill("行政DX, まちづくり")
    await page.locator("#field-applications_open_at").fill(jst_local(draft.opens))
    await page.locator("#field-applications_close_at").fill(jst_local(draft.closes))
    async with page.expect_response(
        lambda response: response.url.endswith("/challenges/new") and response.request.method == "POST"
    ) as saved:
        await page.get_by_role("button", name="保存").click()
    assert (await saved.value).headers.get("hx-redirect") == f"/challenges/{draft.slug}"
    await page.wait_for_url(re.compile(rf"/challenges/{draft.slug}$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(draft.title)
    await expect(page.locator("#flash")).to_contain_text("下書きを保存しました")


async def send_for_review(page: Page) -> None:
    """The author sends the draft for review and may not approve it."""
    await page.get_by_role("button", name="承認を依頼").click()
    await expect(page.locator("#flash")).to_contain_text("承認を依頼しました")
    await expect(page.get_by_text("作成者は自分の下書きを承認できません")).to_be_visible()
    await expect(page.get_by_role("button", name="承認して公開")).to_have_count(0)


async def approve_challenge(page: Page) -> None:
    """A second official of the bureau approves: the challenge is published and open."""
    await expect(page.get_by_text("作成者は自分の下書きを承認できません")).to_have_count(0)
    await page.get_by_role("button", name="承認して公開").click()
    await expect(page.locator("#flash")).to_contain_text("承認し、公開しました")
    await expect(page.locator("article > p.badge")).to_have_text("募集中")


async def add_pdf_question(page: Page, slug: str, label: str) -> None:
    """From the bureau panel, add a required file (PDF) question to the application form."""
    await page.goto(f"/challenges/{slug}")
    await page.locator(f'#bureau-panel-title ~ p a[href="/challenges/{slug}/form"]').click()
    await page.wait_for_url(re.compile(rf"/challenges/{slug}/form/?$"))
    form = page.locator("#field-form")
    await form.locator("#field-kind").select_option("file")
    await form.locator("#field-label_ja").fill(label)
    await form.locator("#field-required").check()
    await form.locator('button[type="submit"]').click()
    await page.wait_for_url(re.compile(rf"/challenges/{slug}/form/?#form-fields$"))
    await expect(page.locator("#flash")).to_contain_text("質問を追加しました")
    await expect(page.locator("#form-fields ol.form-fields > li")).to_have_count(1)
    await expect(page.locator("#form-fields ol.form-fields > li")).to_contain_text(label)


# --- Step 2: the founder ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Founder:
    """The startup founder who signs up in the browser, and their company."""

    name: str
    email: str
    password: str
    company: str
    corporate_number: str

    @property
    def person(self) -> Person:
        """The founder as someone who signs in (the id is not needed by the browser)."""
        return Person(id=0, email=self.email, password=self.password)


async def sign_up(page: Page, founder: Founder) -> None:
    """Home → アカウント登録 → the form → the account page, address not confirmed yet."""
    await page.goto("/")
    await page.get_by_role("navigation").get_by_role("link", name="アカウント登録").click()
    await expect(page).to_have_url(re.compile(r"/signup$"))
    await page.get_by_label("お名前").fill(founder.name)
    await page.get_by_label("メールアドレス").fill(founder.email)
    await page.get_by_label("パスワード").fill(founder.password)
    await page.get_by_role("button", name="アカウントを作成").click()
    await page.wait_for_url(re.compile(r"/account$"), timeout=30_000)  # argon2 under load
    await expect(page.get_by_role("heading", level=1)).to_have_text("マイアカウント")
    await expect(page.locator("#flash")).to_contain_text("協創へようこそ")
    await expect(page.locator(".facts")).to_contain_text(founder.email)
    await expect(page.locator(".facts .badge--warning")).to_have_text("未確認")


async def verification_link(mail_dir: Path, address: str) -> str:
    """The path of the confirmation link in the mail sent to `address` (the worker writes .eml files)."""
    deadline = time.monotonic() + MAIL_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        for path in sorted(mail_dir.glob("*.eml")):  # noqa: ASYNC240 (a few small files in a test)
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if address not in str(message.get("To", "")):
                continue
            body = message.get_body(preferencelist=("plain",))
            assert body is not None, f"{path.name} has no text part"
            found = re.search(r"https?://\S+(/account/verify/\S+)", body.get_content())
            if found:
                return found.group(1)
        await asyncio.sleep(0.25)
    raise AssertionError(f"no confirmation mail to {address} in {mail_dir} within {MAIL_TIMEOUT_SECONDS} s")


async def confirm_address(page: Page, link: str) -> None:
    """Open the emailed link: the address is confirmed on the account page."""
    response = await page.goto(link)
    assert response is not None
    assert response.status == 200, await response.text()
    content_type = response.headers.get("content-type", "")
    assert content_type.startswith("text/html"), f"the confirmation page is served as {content_type!r}"
    await expect(page.get_by_role("heading", level=1)).to_have_text("メールアドレスを確認しました")
    await page.get_by_role("main").get_by_role("link", name="マイアカウント").click()
    await page.wait_for_url(re.compile(r"/account$"))
    await expect(page.locator(".facts .badge--warning")).to_have_count(0)
    await expect(page.locator(".facts")).to_contain_text("確認済み")


async def register_company(page: Page, founder: Founder) -> int:
    """From the account page, register the company (an HTMX form); returns the organization's id."""
    await page.locator('a[href="/organizations/new"]').click()
    await page.wait_for_url(re.compile(r"/organizations/new$"))
    form = page.locator("#organization-form")
    await form.locator("#field-name_ja").fill(founder.company)
    await form.locator("#field-corporate_number").fill(founder.corporate_number)
    await form.locator("#field-profile").fill("窓口の混雑を予測するSaaSを開発しています。")
    await form.locator('button[type="submit"]').click()
    await page.wait_for_url(re.compile(r"/organizations/\d+$"))
    await expect(page.locator("#flash")).to_contain_text("組織を登録しました")
    await expect(page.get_by_role("heading", level=1)).to_contain_text(founder.company)
    return int(urlsplit(page.url).path.rsplit("/", 1)[1])


async def ask_question(page: Page, slug: str, question: str) -> None:
    """On the challenge page, send a question."""
    await page.goto(f"/challenges/{slug}")
    await page.locator("#field-body").fill(question)
    await page.get_by_role("button", name="質問を送信").click()
    await page.wait_for_url(re.compile(rf"/challenges/{slug}#questions$"))
    await expect(page.locator("#flash")).to_contain_text("質問を送信しました")


async def answer_question(page: Page, slug: str, question: str, answer: str) -> None:
    """The bureau sees the waiting question and publishes an answer."""
    await page.goto(f"/challenges/{slug}")
    waiting = page.locator('#questions form[action^="/questions/"]').filter(has_text=question)
    await expect(waiting).to_have_count(1)
    await waiting.locator("textarea").fill(answer)
    await waiting.get_by_role("button", name="回答を公開").click()
    await page.wait_for_url(re.compile(rf"/challenges/{slug}#questions$"))
    await expect(page.locator('#questions form[action^="/questions/"]')).to_have_count(0)
    await expect(page.locator("#questions dl.qa dd")).to_contain_text(answer)


async def expect_answer(page: Page, slug: str, question: str, answer: str) -> None:
    """The answered question is on the public challenge page."""
    await page.goto(f"/challenges/{slug}")  # a full load (the asker's page is at #questions already)
    qa = page.locator("#questions dl.qa")
    await expect(qa.locator("dt")).to_contain_text(question)
    await expect(qa.locator("dd")).to_contain_text(answer)


# --- Step 3: the application --------------------------------------------------------------------------------


async def apply_with_pdf(page: Page, slug: str, summary: str, pdf: Path) -> int:
    """Apply, autosave the summary, consent, upload a PDF, submit; returns the submission's id."""
    await page.goto(f"/challenges/{slug}")
    await page.locator(".apply-call a.button--primary").click()
    await expect(page).to_have_url(re.compile(rf"/challenges/{slug}/apply/?$"))
    await page.locator(f'form[action="/challenges/{slug}/apply"] button[type="submit"]').click()
    await page.wait_for_url(re.compile(r"/submissions/\d+$"))
    submission_id = int(urlsplit(page.url).path.rsplit("/", 1)[1])
    async with page.expect_response(
        lambda response: response.url.endswith("/answers/summary") and response.request.method == "POST"
    ) as saved:
        await page.locator("#summary-input").fill(summary)
    assert (await saved.value).status == 200
    await expect(page.locator("#summary-state")).to_contain_text("保存済み")
    await expect(page.locator('#team input[type="checkbox"]')).to_be_checked()  # the founder is on the team
    consents = page.locator('input[id^="consent-input-"]')
    for index in range(await consents.count()):
        async with page.expect_response(posted_to(f"/consents/{index}")) as consent:
            await page.locator(f"#consent-input-{index}").check()
        assert (await consent.value).status == 200
    upload_form = page.locator('form[id^="field-"]:has(input[type="file"])')
    await expect(upload_form).to_have_count(1)
    field_id = (await upload_form.get_attribute("id") or "").removeprefix("field-")
    pdf.write_bytes(pdf_of_size(PDF_BYTES))  # noqa: ASYNC240 (one small file)
    await upload_form.locator('input[type="file"]').set_input_files(pdf)
    async with page.expect_response(posted_to(f"/files/{field_id}"), timeout=30_000) as uploaded:
        await upload_form.locator('button[type="submit"]').click()
    assert (await uploaded.value).status == 200
    await expect(page.locator(f"#field-{field_id} a[href*='/files/']")).to_have_text(pdf.name)
    return submission_id


async def submit_application(page: Page, expected_receipt: str) -> None:
    """Submit the draft: the receipt page shows the 受付番号."""
    await page.locator('button[name="then"][value="submit"]').click()
    await page.wait_for_url(re.compile(r"/submissions/\d+/receipt$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("応募を受け付けました")
    await expect(page.locator('.receipt-number[role="status"] strong')).to_have_text(expected_receipt)


async def move_challenge(page: Page, slug: str, action: str) -> None:
    """Press one of the bureau panel's lifecycle buttons (close, start_judging)."""
    await page.goto(f"/challenges/{slug}")
    await page.locator(f'form[action="/challenges/{slug}/transitions/{action}"] button').click()
    await page.wait_for_url(re.compile(rf"/challenges/{slug}$"))
    await expect(page.locator("#flash .flash--success")).not_to_have_count(0)
    await expect(page.locator(f'form[action="/challenges/{slug}/transitions/{action}"]')).to_have_count(0)


# --- Step 4: judging ----------------------------------------------------------------------------------------


@dataclass
class Scoring:
    """What the judges did in the browser, for the assertions that follow."""

    numbers: dict[int, int]  # submission id -> its number 1-4 (1 is the journey's founder)
    comments: list[Comment] = field(default_factory=list)
    finalized: int = 0


async def judge_pass(
    page: Page,
    round_id: int,
    judge_index: int,
    scores: dict[int, tuple[int, int]],
    scoring: Scoring,
    *,
    conflict_with: int | None = None,
) -> list[int]:
    """One judge's pass over a round from the dashboard ("n / m" progress); returns what they scored."""
    await page.goto("/judging")
    assigned = await assigned_submissions(page, round_id)
    assert assigned, f"judge {judge_index + 1} has nothing to judge in round {round_id}"
    await expect_progress(page, round_id, 0, len(assigned))
    to_score = list(assigned)
    if conflict_with is not None:
        to_score.remove(conflict_with)
        await declare_and_check_conflict(page, round_id, conflict_with, remaining=len(to_score))
    for done, submission_id in enumerate(to_score, start=1):
        number = scoring.numbers[submission_id]
        shared = judge_index != 1  # the second judge keeps their comments internal
        text = SHARED_COMMENTS[judge_index] if shared else INTERNAL_NOTE
        comment = Comment(submission_id, f"{text}（{round_id}-{number}）", shared)  # unique per card
        await score_submission(page, round_id, submission_id, scores[number], comment)
        scoring.comments.append(comment)
        scoring.finalized += 1
        await expect_progress(page, round_id, done, len(to_score))
    return to_score


async def schedule_pitch_slots(page: Page, slug: str, round_id: int, finalists: list[int]) -> None:
    """On the pitch round's schedule page, give each finalist a 30-minute slot at 都庁."""
    await page.goto(f"/challenges/{slug}/rounds/{round_id}/slots")
    sections = page.locator("section[data-finalist]")
    await expect(sections).to_have_count(len(finalists))
    starts = (datetime.now(TOKYO) + timedelta(days=3)).replace(hour=13, minute=0, second=0, microsecond=0)
    for position, submission_id in enumerate(finalists):
        begins = starts + timedelta(minutes=30 * position)
        section = page.locator(f'section[data-finalist="{submission_id}"]')
        await section.locator(f"#slot-{submission_id}-starts_at").fill(jst_local(begins))
        await section.locator(f"#slot-{submission_id}-ends_at").fill(
            jst_local(begins + timedelta(minutes=30))
        )
        await section.locator(f"#slot-{submission_id}-place").fill("都庁第一本庁舎 5階 大会議室")
        await section.get_by_role("button", name="時間枠を保存").click()
        await page.wait_for_url(re.compile(rf"/rounds/{round_id}/slots$"))
        await expect(page.locator("#flash .flash--success")).not_to_have_count(0)
        saved = page.locator(f'section[data-finalist="{submission_id}"]')
        await expect(saved.locator('a[href^="/pitch-slots/"]')).to_be_visible()
        await expect(saved).to_contain_text("都庁第一本庁舎")


async def propose_winner(page: Page, slug: str, winner: int, finalist: int) -> None:
    """The first official proposes the winner (and shows the other finalist); they may not approve it."""
    await page.goto(f"/challenges/{slug}/results/proposal")
    proposal_form = page.locator("#new-proposal form")
    await expect(proposal_form.locator("fieldset")).to_have_count(2)
    await expect(proposal_form.locator(f"#decision-{finalist}-advanced")).to_be_checked()
    await proposal_form.locator(f"#decision-{winner}-winner").check()
    await proposal_form.locator("#show-finalists").check()
    await proposal_form.locator("#proposal-note").fill("ピッチ審査の1位を採択とします。")
    await proposal_form.locator('button[type="submit"]').click()
    current = page.locator("#current-proposal")
    await expect(current.locator(f'tr[data-submission="{winner}"]')).to_have_attribute(
        "data-decision", "winner"
    )
    await expect(current.locator(f'tr[data-submission="{finalist}"]')).to_have_attribute(
        "data-decision", "advanced"
    )
    await expect(current.locator('form[action$="/approve"] button[type="submit"]')).to_be_disabled()
    await expect(current.locator('form[action$="/publish"]')).to_have_count(0)


async def approve_and_publish_results(page: Page, slug: str) -> None:
    """A second official approves the proposal, then publishes the results."""
    await page.goto(f"/challenges/{slug}/results/proposal")
    current = page.locator("#current-proposal")
    await current.locator('form[action$="/approve"] button[type="submit"]').click()
    await expect(page.locator("#flash .flash")).not_to_have_count(0)
    publish = current.locator('form[action$="/publish"] button[type="submit"]')
    await expect(publish).to_be_enabled()
    await publish.click()
    await expect(current.locator(f'a[href="/challenges/{slug}/results"]')).to_be_visible()
    await expect(page.locator("#new-proposal")).to_have_count(0)


# --- Step 5: the catalogue ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """The catalogue entry the winner writes about what they built."""

    slug: str
    name: str
    short_description: str
    long_description: str
    repository_url: str


async def write_entry(page: Page, entry: Entry, organization_id: int, challenge_slug: str) -> None:
    """/catalog/new: the entry form (HTMX), saved as a draft from the challenge, then sent for review."""
    await page.goto("/catalog/new")
    form = page.locator("#output-form")
    await form.locator("#field-name").fill(entry.name)
    await form.locator("#field-slug").fill(entry.slug)
    await form.locator("#field-short_description_ja").fill(entry.short_description)
    await form.locator("#field-long_description_ja").fill(entry.long_description)
    await form.locator("#field-repository_url").fill(entry.repository_url)
    await form.locator("#field-license").fill("MIT")
    await form.locator("#field-categories").fill("government, queue-management")
    await form.locator("#field-maintainer_organization").select_option(str(organization_id))
    await form.locator("#field-source_challenge").fill(challenge_slug)
    async with page.expect_response(posted_to("/catalog/new")) as saved:
        await form.locator('button[type="submit"]').click()
    response = await saved.value
    assert response.status == 200, await response.text()
    assert (await response.all_headers()).get("hx-redirect") == f"/catalog/{entry.slug}"
    await page.wait_for_url(re.compile(rf"/catalog/{entry.slug}$"))
    await expect(page.locator("#output-title")).to_have_text(entry.name)
    await expect(page.locator("article .notice")).to_be_visible()  # not published yet
    await page.goto(f"/catalog/{entry.slug}/edit")
    await page.locator(f'form[action="/catalog/{entry.slug}/submit"] button').click()
    await page.wait_for_url(re.compile(rf"/catalog/{entry.slug}$"))
    await expect(page.locator("#flash .flash--success")).not_to_have_count(0)


async def approve_entry(page: Page, entry: Entry) -> None:
    """An official (not its author) approves and publishes the entry."""
    await page.goto(f"/catalog/{entry.slug}/edit")
    await page.locator(f'form[action="/catalog/{entry.slug}/approve"] button').click()
    await page.wait_for_url(re.compile(rf"/catalog/{entry.slug}$"))
    await expect(page.locator("#flash .flash--success")).not_to_have_count(0)
    await expect(page.locator("article .notice")).to_have_count(0)


async def search_from_header(page: Page, term: str, href: str) -> None:
    """Type `term` into the header's search box until the index (updated every few seconds) has `href`."""
    deadline = time.monotonic() + SEARCH_TIMEOUT_SECONDS
    while True:
        await page.locator("#site-search-q").fill(term)
        await page.locator("#site-search-q").press("Enter")
        await page.wait_for_url(re.compile(r"/search\?"))
        await expect(page.locator("#search-page-q")).to_have_value(term)
        hits = page.locator("#search-results li.card").filter(has=page.locator(f'a[href="{href}"]'))
        if await hits.count() or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)
    await expect(hits).to_have_count(1)
    await expect(hits.locator("mark").first).to_have_text(term)
