"""Judging in a real browser: two rounds, three judges (one conflicted), advancement, approval, publication.

The applications are rows written straight into the live server's database (applying is not judging);
everything else goes through Chromium: an official sets up both rounds (rubric, judges, automatic
assignment), each judge declares conflicts and scores with the autosaving scorecard, the official confirms
who advances, a second official approves the proposed winner, and the winning applicant reads the feedback.

Scores are chosen so the ranking is known whatever the automatic assignment gives each judge: every judge
gives an application the same scores, so its raw mean does not depend on who scored it.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, Page, Response, expect

from app.accounts.corporate_number import with_check_digit
from app.accounts.tables import Membership, Organization
from app.clock import utcnow
from app.database.engines import engine_from_url
from app.database.registry import current_engine, use_engine
from app.database.sqlite import KyosoSQLiteEngine
from app.submissions.tables import Submission, SubmissionVersion
from tests.challenges.factories import make_challenge
from tests.e2e.conftest import BrowserLog, csp_violations, open_page
from tests.support.live_server import LiveServer
from tests.support.people import Person, make_bureau, make_user

pytestmark = pytest.mark.browser

TOKYO = ZoneInfo("Asia/Tokyo")
SAVED_AT = re.compile(r"\d{1,2}:\d{2}:\d{2}")  # "Saved 9:03:12": the time is there in any language
LEVELS_JA = "5: 非常に優れている\n3: 標準的\n1: 不十分"
LEVELS_EN = "5: Excellent\n3: Adequate\n1: Insufficient"
# (first criterion, second criterion) each judge gives each application, by its number 1–4.
ROUND_1_SCORES = {1: (5, 5), 2: (4, 4), 3: (2, 3), 4: (1, 2)}
ROUND_2_SCORES = {1: (5, 4), 2: (3, 3)}
SHARED_COMMENTS = (
    "課題の理解が明確で、実証計画も具体的です。",
    "費用対効果の説明に説得力があります。",
    "現場での運用まで考えられています。",
)
CONFLICT_REASON = "応募企業の技術顧問を務めています。"


@dataclass(frozen=True)
class Applicant:
    """One startup's submitted application."""

    number: int
    submission_id: int
    receipt_number: str
    organization: str
    organization_id: int
    founder: Person


@dataclass(frozen=True)
class Judging:
    """A challenge in judging with four applications, two officials of its bureau and three judges."""

    slug: str
    officials: tuple[Person, Person]
    judges: tuple[Person, Person, Person]  # the third is a member of the fourth applicant
    applicants: tuple[Applicant, Applicant, Applicant, Applicant]

    def by_submission(self, submission_id: int) -> Applicant:
        """The applicant of a submission id."""
        return next(a for a in self.applicants if a.submission_id == submission_id)


@dataclass
class Comment:
    """A comment a judge wrote on a scorecard, and whether the applicant may read it."""

    submission_id: int
    text: str
    shareable: bool


@dataclass
class Ledger:
    """What the judges did in the browser, for the assertions that follow."""

    comments: list[Comment] = field(default_factory=list)
    finalized: int = 0


async def add_applicant(challenge_id: int, number: int, run: str) -> Applicant:
    """An organization with its founder and a submitted application (one version)."""
    now = utcnow()
    founder = await make_user(f"founder{number}-{run}@startup{number}.example")
    name = f"株式会社審査テスト{number}（{run}）"
    rows = await Organization.insert(
        Organization(
            name_ja=name,
            name_en=f"Judging Test {number} ({run})",
            corporate_number=with_check_digit(f"{secrets.randbelow(10**12):012d}"),
            website="",
            profile="",
            created_at=now,
        )
    ).run()
    organization_id = int(rows[0]["id"])
    await Membership.insert(
        Membership(user=founder.id, organization=organization_id, role="owner", joined_at=now)
    ).run()
    receipt = f"KY-E2E-{run}-{number:04d}"
    rows = await Submission.insert(
        Submission(
            challenge=challenge_id,
            organization=organization_id,
            status="submitted",
            receipt_number=receipt,
            summary=f"提案{number}の概要",
            created_by=founder.id,
            created_at=now,
            updated_at=now,
            submitted_at=now,
        )
    ).run()
    submission_id = int(rows[0]["id"])
    content = {"summary": f"提案{number}：防災情報を地域に届けます。", "answers": {}, "files": []}
    await SubmissionVersion.insert(
        SubmissionVersion(
            submission=submission_id,
            number=1,
            content=json.dumps(content, ensure_ascii=False),
            submitted_by=founder.id,
            submitted_at=now,
        )
    ).run()
    return Applicant(number, submission_id, receipt, name, organization_id, founder)


@pytest.fixture
async def judging(live_server: LiveServer) -> AsyncIterator[Judging]:
    """Rows written straight into the live server's database (names made unique: the server is shared)."""
    previous = current_engine()
    engine = engine_from_url(live_server.database_url)
    use_engine(engine)
    try:
        run = secrets.token_hex(4)
        bureau_id = await make_bureau(f"judging-{run}")
        officials = (
            await make_user(f"official1-{run}@city.example.jp", role="official", bureau_id=bureau_id),
            await make_user(f"official2-{run}@city.example.jp", role="official", bureau_id=bureau_id),
        )
        slug = f"judging-{run}"
        challenge_id = await make_challenge(
            bureau_id=bureau_id,
            author_id=officials[0].id,
            slug=slug,
            status="judging",
            now=utcnow(),
            close_in=-timedelta(days=1),
            title_ja=f"審査の課題 {run}",
        )
        a1, a2, a3, a4 = [await add_applicant(challenge_id, number, run) for number in (1, 2, 3, 4)]
        j1, j2, j3 = [await make_user(f"judge-{x}-{run}@jury.example", role="judge") for x in "abc"]
        # The third judge works for the fourth applicant: the system must flag that pair by itself.
        await Membership.insert(
            Membership(user=j3.id, organization=a4.organization_id, role="member", joined_at=utcnow())
        ).run()
        yield Judging(slug, officials, (j1, j2, j3), (a1, a2, a3, a4))
    finally:
        if isinstance(engine, KyosoSQLiteEngine):
            await engine.close_idle_connections()
        use_engine(previous)


# --- Browser helpers -------------------------------------------------------------------------------------


def new_page(browser: Browser, live_server: LiveServer, log: BrowserLog) -> AbstractAsyncContextManager[Page]:
    """A page in a fresh context (no cookies), set up like the `page` fixture and logging into `log`."""
    return open_page(browser, live_server.base_url, log, timeout_ms=10_000)


# The one deliberately refused request (the proposer's own approval) logs its 403 on the console.
REFUSED_APPROVAL = re.compile(r"status of 403 .*/results/proposal/\d+/approve\)$")


async def assert_clean(page: Page, log: BrowserLog) -> None:
    """No uncaught exceptions, no unexpected console errors, no CSP violations on the current document."""
    assert log.page_errors == []
    assert log.unexpected_console_errors(REFUSED_APPROVAL) == []
    assert await csp_violations(page) == []


async def sign_in(page: Page, person: Person, next_path: str) -> None:
    """Sign in through the form and land on `next_path`."""
    await page.goto(f"/signin?next={next_path}")
    form = page.locator("#signin-form")
    await form.locator("#field-email").fill(person.email)
    await form.locator("#field-password").fill(person.password)
    await form.locator('button[type="submit"]').click()
    # On the path itself: the sign-in page's own URL ends with `?next=<path>` too.
    await page.wait_for_url(lambda url: urlsplit(url).path == next_path, timeout=30_000)  # argon2 under load
    await expect(page.locator("#signin-form")).to_have_count(0)


def posted_to(path_end: str) -> Callable[[Response], bool]:
    """Matches the response to a POST whose URL ends with `path_end`."""
    return lambda response: response.url.endswith(path_end) and response.request.method == "POST"


def jst_local(moment: datetime) -> str:
    """The value a datetime-local input takes for an instant, in Japan time."""
    return moment.astimezone(TOKYO).strftime("%Y-%m-%dT%H:%M")


async def shot(page: Page, artifacts_dir: Path, name: str) -> None:
    """A full-page screenshot as test-artifacts/e2e/judging-<name>.png."""
    await page.screenshot(path=artifacts_dir / f"judging-{name}.png", full_page=True)


# --- The official's set-up -------------------------------------------------------------------------------


async def create_round(page: Page, slug: str, kind: str, name_ja: str, name_en: str, top_n: int) -> int:
    """Add a round (2 judges per application, scoring open now for a week) from the rounds page."""
    await page.goto(f"/challenges/{slug}/rounds")
    form = page.locator("#round-new form")
    await form.locator("#field-kind").select_option(kind)
    await form.locator("#field-name_ja").fill(name_ja)
    await form.locator("#field-name_en").fill(name_en)
    now = datetime.now(TOKYO)
    await form.locator("#field-opens_at").fill(jst_local(now - timedelta(hours=1)))
    await form.locator("#field-closes_at").fill(jst_local(now + timedelta(days=7)))
    await form.locator("#field-judges_per_submission").fill("2")
    await form.locator("#field-advancement_rule").select_option("top_n")
    await form.locator("#field-advancement_value").fill(str(top_n))
    await form.locator('button[type="submit"]').click()
    await page.wait_for_url(re.compile(rf"/challenges/{slug}/rounds/\d+$"))
    await expect(page.locator("#flash .flash")).not_to_have_count(0)
    await expect(page.locator("#settings #field-name_ja")).to_have_value(name_ja)
    return int(page.url.rsplit("/", 1)[1])


async def add_criterion(page: Page, name_ja: str, name_en: str, weight: str, count_after: int) -> None:
    """Add a 1–5 criterion with level descriptors; the rubric section is swapped by HTMX."""
    editor = page.locator("#criterion-editor form")
    await editor.locator("#field-name_ja").fill(name_ja)
    await editor.locator("#field-name_en").fill(name_en)
    await editor.locator("#field-description_ja").fill(f"{name_ja}を評価します。")
    await editor.locator("#field-weight").fill(weight)
    await editor.locator("#field-scale_min").fill("1")
    await editor.locator("#field-scale_max").fill("5")
    await editor.locator("#field-levels_ja").fill(LEVELS_JA)
    await editor.locator("#field-levels_en").fill(LEVELS_EN)
    async with page.expect_response(posted_to("/criteria")) as added:
        await editor.locator('button[type="submit"]').click()
    response = await added.value
    assert response.status == 200, await response.text()
    assert response.request.headers.get("hx-request") == "true"
    criteria = page.locator("#rubric ol.criteria > li")
    await expect(criteria).to_have_count(count_after)
    last = criteria.nth(count_after - 1)
    await expect(last).to_contain_text(name_ja)
    await expect(last.locator("dl.levels dt")).to_have_text(["5", "3", "1"])
    await expect(last.locator("dl.levels dd").first).to_have_text("非常に優れている")


async def invite_judges(page: Page, judges: tuple[Person, ...]) -> None:
    """Invite each judge by email (they have accounts: added at once); the judges section is swapped."""
    section = page.locator("#judges")
    for count, judge in enumerate(judges, start=1):
        await section.locator("#field-email").fill(judge.email)
        async with page.expect_response(posted_to("/judges")) as invited:
            await section.locator('form[hx-post$="/judges"] button[type="submit"]').click()
        assert (await invited.value).status == 200
        await expect(section.locator("tbody tr")).to_have_count(count)
        await expect(section.locator("tbody tr").nth(count - 1)).to_contain_text(judge.email)
    await expect(page.locator("#round-status")).not_to_be_empty()


async def assign_automatically(page: Page, expected_pairs: int) -> None:
    """Press 自動割り当て and check the balanced loads add up."""
    async with page.expect_response(posted_to("/assignments/auto")) as assigned:
        await page.locator("#auto-assign").click()
    response = await assigned.value
    assert response.status == 200, await response.text()
    await expect(page.locator("#assignment-matrix")).to_be_visible()
    await expect(page.locator('#assignment-matrix button[id^="unassign-"]')).to_have_count(expected_pairs)
    loads = [int(text) for text in await page.locator("#assignment-matrix td.load").all_inner_texts()]
    assert sum(loads) == expected_pairs
    assert max(loads) - min(loads) <= 1, f"unbalanced loads {loads}"


# --- A judge's work --------------------------------------------------------------------------------------


def round_section(page: Page, round_id: int) -> tuple[str, str]:
    """CSS of the dashboard section of one round, and of its links to scorecards."""
    section = f"section.judge-round:has(#round-{round_id}-title)"
    return section, f'{section} a[href^="/judging/rounds/{round_id}/submissions/"]'


async def assigned_submissions(page: Page, round_id: int) -> list[int]:
    """The submissions the dashboard links to in a round, in its order."""
    _section, links = round_section(page, round_id)
    hrefs = [await link.get_attribute("href") or "" for link in await page.locator(links).all()]
    return [int(href.rsplit("/", 1)[1]) for href in hrefs]


async def expect_progress(page: Page, round_id: int, done: int, total: int) -> None:
    """The dashboard shows "done / total" for the round."""
    section, _links = round_section(page, round_id)
    await expect(page.locator(f"{section} .judge-progress strong")).to_have_text(
        re.compile(rf"^\D*{done}\s*/\s*{total}\D")
    )


async def declare_conflict(page: Page, round_id: int, submission_id: int) -> None:
    """Open an application from the dashboard and declare a conflict of interest with a reason."""
    path = f"/judging/rounds/{round_id}/submissions/{submission_id}"
    await page.locator(f'a[href="{path}"]').click()
    await page.wait_for_url(re.compile(re.escape(path) + "$"))
    form = page.locator(f'form[action="{path}/conflict"]')
    await form.locator('label[for="answer-conflict"]').click()
    await expect(form.locator("#answer-conflict")).to_be_checked()
    await form.locator("#reason").fill(CONFLICT_REASON)
    await form.locator('button[type="submit"]').click()
    await page.wait_for_url(re.compile(r"/judging/?$"))
    await expect(page.locator("#flash .flash")).not_to_have_count(0)


async def expect_feedback_hides(page: Page, hidden: Iterable[str], judges: Iterable[Person]) -> None:
    """The applicant's feedback shows none of `hidden` (internal notes, others' comments), no judge's name."""
    content = await page.content()
    for text in hidden:
        assert text not in content
    for judge in judges:
        assert judge.email.split("@")[0] not in content, "a judge's name reached the applicant"


async def submission_statuses(submission_ids: list[int]) -> dict[int, str]:
    """Each application's status, read from the database."""
    rows = await (
        Submission.select(Submission.id, Submission.status).where(Submission.id.is_in(submission_ids)).run()
    )
    return {row["id"]: row["status"] for row in rows}


async def declare_and_check_conflict(page: Page, round_id: int, submission_id: int, remaining: int) -> None:
    """Declare a conflict from the dashboard: the application is no longer a link, the progress shrinks."""
    await declare_conflict(page, round_id, submission_id)
    section, links = round_section(page, round_id)
    # It is no longer a link: the judge cannot reach the application again.
    await expect(
        page.locator(f'a[href="/judging/rounds/{round_id}/submissions/{submission_id}"]')
    ).to_have_count(0)
    await expect(page.locator(f"{section} .judge-item--conflict")).to_have_count(1)
    await expect(page.locator(links)).to_have_count(remaining)
    await expect_progress(page, round_id, 0, remaining)


async def set_up_pitch_round(page: Page, slug: str, judges: tuple[Person, ...]) -> int:
    """The official's pitch round for the two advanced applications: rubric, judges, assignment."""
    round_id = await create_round(page, slug, "pitch", "ピッチ審査", "Pitch", top_n=1)
    await add_criterion(page, "プレゼンテーション", "Presentation", "1", count_after=1)
    await add_criterion(page, "実行体制", "Team", "1", count_after=2)
    await invite_judges(page, judges)
    await assign_automatically(page, expected_pairs=4)
    await expect(page.locator("#assignment-matrix tbody tr")).to_have_count(2)
    return round_id


async def score_submission(
    page: Page, round_id: int, submission_id: int, scores: tuple[int, int], comment: Comment
) -> None:
    """Open it from the dashboard, declare no conflict if asked, score each criterion, comment, finalize."""
    path = f"/judging/rounds/{round_id}/submissions/{submission_id}"
    await page.locator(f'a[href="{path}"]').click()
    await page.wait_for_url(re.compile(re.escape(path) + "$"))
    question = page.locator(f'form[action="{path}/conflict"]')
    scorecard = page.locator("#scorecard-scores")
    await expect(question.or_(scorecard)).to_be_visible()
    if await question.count():
        await question.locator('label[for="answer-none"]').click()
        await question.locator('button[type="submit"]').click()
    await expect(scorecard).to_be_visible()
    assert await page.evaluate("typeof htmx") == "object"
    criteria = [
        int(value or 0)
        for value in await page.locator("fieldset.score-criterion").evaluate_all(
            "nodes => nodes.map(node => node.dataset.criterion)"
        )
    ]
    assert len(criteria) == len(scores) == 2
    for criterion_id, value in zip(criteria, scores, strict=True):
        state = page.locator(f"#criterion-{criterion_id}-state")
        await expect(state).to_have_text("")
        async with page.expect_response(posted_to(f"{path}/scores/{criterion_id}")) as saved:
            await page.locator(f'label[for="criterion-{criterion_id}-{value}"]').click()
        response = await saved.value
        assert response.status == 200, await response.text()
        assert response.request.headers.get("hx-request") == "true"
        await expect(state).to_have_text(SAVED_AT)
        await expect(page.locator(f"#criterion-{criterion_id}-{value}")).to_be_checked()
    await page.locator("#comment").fill(comment.text)
    if comment.shareable:
        # Leaving the textarea saves the comment; ticking the box saves again, shareable this time.
        async with page.expect_response(
            lambda r: (
                r.url.endswith(f"{path}/comment") and "comment_shareable=1" in (r.request.post_data or "")
            )
        ) as saved:
            await page.locator('label[for="comment_shareable"]').click()
    else:
        async with page.expect_response(posted_to(f"{path}/comment")) as saved:
            await page.locator("#comment").blur()
    assert (await saved.value).status == 200
    await expect(page.locator("#comment-state")).to_have_text(SAVED_AT)
    await expect(page.locator("#scorecard-unsent")).to_be_hidden()
    await page.locator(f'#scorecard-comment button[formaction="{path}/finalize"]').click()
    await page.wait_for_url(re.compile(r"/judging/?$"))
    await expect(page.locator("#flash .flash")).not_to_have_count(0)


async def judge_round(
    page: Page,
    round_id: int,
    judging: Judging,
    judge_index: int,
    scores: dict[int, tuple[int, int]],
    ledger: Ledger,
    *,
    conflict_with: int | None = None,
    artifacts_dir: Path,
    label: str,
) -> list[int]:
    """One judge's pass over a round from the dashboard; returns the submissions they scored."""
    await page.goto("/judging")
    assigned = await assigned_submissions(page, round_id)
    assert assigned, f"judge {judge_index + 1} has nothing to judge in round {round_id}"
    await expect_progress(page, round_id, 0, len(assigned))
    await shot(page, artifacts_dir, f"{label}-dashboard")
    to_score = list(assigned)
    if conflict_with is not None:
        to_score.remove(conflict_with)
        await declare_and_check_conflict(page, round_id, conflict_with, remaining=len(to_score))
        await shot(page, artifacts_dir, f"{label}-conflict-declared")
    for done, submission_id in enumerate(to_score, start=1):
        number = judging.by_submission(submission_id).number
        shared = judge_index != 1  # the second judge keeps their comments internal
        text = SHARED_COMMENTS[judge_index] if shared else "内部メモ：価格が高すぎる。"
        comment = Comment(submission_id, f"{text}（{round_id}-{number}）", shared)  # unique per card
        await score_submission(page, round_id, submission_id, scores[number], comment)
        ledger.comments.append(comment)
        ledger.finalized += 1
        await expect_progress(page, round_id, done, len(to_score))
        if done == 1:
            await page.go_back()  # the finalized scorecard, read-only now
            await expect(page.locator("#scorecard-scores input[type=radio]:disabled")).to_have_count(10)
            await shot(page, artifacts_dir, f"{label}-scorecard-final")
            await page.goto("/judging")
    await shot(page, artifacts_dir, f"{label}-done")
    return to_score


# --- The test --------------------------------------------------------------------------------------------


async def test_two_rounds_three_judges_advancement_approval_publication_and_feedback(
    page: Page,
    browser: Browser,
    live_server: LiveServer,
    judging: Judging,
    browser_log: BrowserLog,
    artifacts_dir: Path,
) -> None:
    """The whole judging flow in Chromium, from the first round's rubric to the winner's feedback."""
    slug = judging.slug
    s1, s2, s3, s4 = (a.submission_id for a in judging.applicants)
    judge_c = judging.judges[2]
    official, colleague = judging.officials
    round_1, round_2 = Ledger(), Ledger()

    # Round 1 (document screening): rubric, judges, automatic assignment.
    await sign_in(page, official, f"/challenges/{slug}/rounds")
    await shot(page, artifacts_dir, "01-rounds-empty")
    first = await create_round(page, slug, "document", "書類審査", "Document screening", top_n=2)
    await add_criterion(page, "課題解決の効果", "Impact", "2", count_after=1)
    await add_criterion(page, "実現可能性", "Feasibility", "1", count_after=2)
    await invite_judges(page, judging.judges)
    # 4 applications x 2 judges; the third judge is never given the fourth applicant (their employer).
    await assign_automatically(page, expected_pairs=8)
    await expect(page.locator(f"#assign-{judge_c.id}-{s4}")).to_have_count(0)
    flagged = page.locator("#conflict-list tbody tr").filter(has_text=judging.applicants[3].receipt_number)
    await expect(flagged).to_have_count(1)
    await expect(flagged).to_contain_text(judge_c.email.split("@")[0])
    await shot(page, artifacts_dir, "02-round1-set-up")
    await assert_clean(page, browser_log)

    async with AsyncExitStack() as stack:
        pages = [await stack.enter_async_context(new_page(browser, live_server, browser_log)) for _ in "abc"]
        for tab, judge in zip(pages, judging.judges, strict=True):
            await sign_in(tab, judge, "/judging")

        # The second judge declares a conflict with one of theirs; the others score everything.
        await pages[1].goto("/judging")
        conflicted = (await assigned_submissions(pages[1], first))[0]
        scored_by: dict[int, list[int]] = {}
        for index, tab in enumerate(pages):
            label = f"03-round1-judge-{'abc'[index]}"
            scored = await judge_round(
                tab, first, judging, index, ROUND_1_SCORES, round_1,
                conflict_with=conflicted if index == 1 else None, artifacts_dir=artifacts_dir, label=label,
            )  # fmt: skip
            assert s4 not in scored or index != 2
            scored_by[index] = scored
            await assert_clean(tab, browser_log)
        assert round_1.finalized == 7  # 8 assignments, one conflict

        # The ranking: every application has at least one final scorecard, ranked by raw mean.
        await page.goto(f"/challenges/{slug}/rounds/{first}/ranking")
        await expect(page.locator("#ranking-facts dd[data-final]")).to_have_attribute("data-final", "7")
        rows = page.locator("#ranking tbody tr")
        await expect(rows).to_have_count(4)
        order = [
            int(value or 0)
            for value in await rows.evaluate_all("rows => rows.map(r => r.dataset.submission)")
        ]
        assert order == [s1, s2, s3, s4]
        await expect(rows.first).to_have_attribute("data-raw-mean", "100.00")
        # The rule (top 2) pre-fills the advancement; the official confirms it as it is.
        for submission_id, advancing in ((s1, True), (s2, True), (s3, False), (s4, False)):
            box = page.locator(f"#advance-{submission_id}")
            await (expect(box).to_be_checked() if advancing else expect(box).not_to_be_checked())
        await shot(page, artifacts_dir, "04-round1-ranking")
        await page.locator('#advancement form button[type="submit"]').click()
        await page.wait_for_url(re.compile(rf"/rounds/{first}/ranking$"))
        await expect(page.locator("#flash .flash")).to_contain_text("2")
        await expect(page.locator("#advancement form")).to_have_count(0)
        await shot(page, artifacts_dir, "05-round1-advanced")
        await assert_clean(page, browser_log)

        # Round 2 (pitch): only the two advanced applications are in scope.
        second = await set_up_pitch_round(page, slug, judging.judges)
        if conflicted in (s1, s2):  # a declared conflict holds in every later round
            await expect(page.locator(f"#assign-{judging.judges[1].id}-{conflicted}")).to_have_count(0)
            row = page.locator("#assignment-matrix tbody tr").filter(
                has_text=judging.by_submission(conflicted).receipt_number
            )
            await expect(row.locator('button[id^="unassign-"]')).to_have_count(2)
            await expect(row.locator("td .badge")).to_have_count(1)
        await expect(page.locator("#assignment-matrix tbody")).not_to_contain_text(
            judging.applicants[2].receipt_number
        )
        await shot(page, artifacts_dir, "06-round2-set-up")
        for index, tab in enumerate(pages):
            await judge_round(
                tab, second, judging, index, ROUND_2_SCORES, round_2,
                artifacts_dir=artifacts_dir, label=f"07-round2-judge-{'abc'[index]}",
            )  # fmt: skip
            await assert_clean(tab, browser_log)
        assert round_2.finalized == 4
    await page.goto(f"/challenges/{slug}/rounds/{second}/ranking")
    await expect(page.locator("#ranking tbody tr").first).to_have_attribute("data-submission", str(s1))
    await shot(page, artifacts_dir, "08-round2-ranking")

    # Results: the first official proposes, cannot approve their own proposal, a colleague approves.
    await page.goto(f"/challenges/{slug}/results/proposal")
    proposal_form = page.locator("#new-proposal form")
    await expect(proposal_form.locator("fieldset")).to_have_count(2)  # the two finalists still compete
    await expect(proposal_form.locator(f"#decision-{s2}-advanced")).to_be_checked()
    await proposal_form.locator(f"#decision-{s1}-winner").check()
    await proposal_form.locator("#show-finalists").check()
    await proposal_form.locator("#proposal-note").fill("ピッチ審査の1位を採択とします。")
    await proposal_form.locator('button[type="submit"]').click()
    current = page.locator("#current-proposal")
    await expect(current.locator(f'tr[data-submission="{s1}"]')).to_have_attribute("data-decision", "winner")
    await expect(current.locator(f'tr[data-submission="{s2}"]')).to_have_attribute(
        "data-decision", "advanced"
    )
    approve = current.locator('form[action$="/approve"] button[type="submit"]')
    await expect(approve).to_be_disabled()
    await expect(current.locator('form[action$="/approve"] p.hint')).to_be_visible()
    await expect(current.locator('form[action$="/publish"]')).to_have_count(0)
    await shot(page, artifacts_dir, "09-proposed-own-approval-disabled")
    # Even with the button forced on, the server refuses the proposer's approval (two-person rule).
    await approve.evaluate("button => { button.disabled = false; }")
    async with page.expect_response(posted_to("/approve")) as refused:
        await approve.click()
    assert (await refused.value).status == 403
    await expect(page.locator("#results-error")).to_be_visible()
    await expect(page.locator("#current-proposal form[action$='/approve'] button")).to_be_disabled()
    await shot(page, artifacts_dir, "10-own-approval-refused")
    await assert_clean(page, browser_log)

    async with new_page(browser, live_server, browser_log) as other:
        await sign_in(other, colleague, f"/challenges/{slug}/results/proposal")
        other_current = other.locator("#current-proposal")
        await expect(other.locator("#results-error")).to_have_count(0)
        await other_current.locator('form[action$="/approve"] button[type="submit"]').click()
        await expect(other.locator("#flash .flash")).not_to_have_count(0)
        publish = other_current.locator('form[action$="/publish"] button[type="submit"]')
        await expect(publish).to_be_enabled()
        await shot(other, artifacts_dir, "11-approved-by-colleague")
        await publish.click()
        await expect(other_current.locator(f'a[href="/challenges/{slug}/results"]')).to_be_visible()
        await expect(other.locator("#new-proposal")).to_have_count(0)
        await shot(other, artifacts_dir, "12-published")
        await assert_clean(other, browser_log)

    # The public results page: the winner and (as proposed) the finalist, nobody else.
    async with new_page(browser, live_server, browser_log) as visitor:
        await visitor.goto(f"/challenges/{slug}/results")
        winner = visitor.locator(f'[data-winner="{s1}"]')
        await expect(winner.locator("h3")).to_have_text(judging.applicants[0].organization)
        await expect(visitor.locator("[data-winner]")).to_have_count(1)
        await expect(visitor.locator(f'[data-finalist="{s2}"]')).to_have_count(1)
        for loser in judging.applicants[2:]:
            await expect(visitor.locator("#main")).not_to_contain_text(loser.organization)
        await shot(visitor, artifacts_dir, "13-public-results")
        await assert_clean(visitor, browser_log)

    # The winning founder follows the notification to the feedback: averages and shared comments only.
    async with new_page(browser, live_server, browser_log) as founder:
        await sign_in(founder, judging.applicants[0].founder, "/notifications")
        await founder.locator("#notification-items a").first.click()
        await founder.wait_for_url(re.compile(rf"/submissions/{s1}/feedback$"))
        for round_id, expected in ((first, ["5.00", "5.00"]), (second, ["5.00", "4.00"])):
            section = founder.locator(f'section[aria-labelledby="feedback-{round_id}-title"]')
            await expect(section.locator("td[data-mean]")).to_have_text(expected)
        comments = founder.locator(".feedback-comments li")
        shown = sorted(
            c.text for c in round_1.comments + round_2.comments if c.submission_id == s1 and c.shareable
        )
        hidden = [
            c.text for c in round_1.comments + round_2.comments if not c.shareable or c.submission_id != s1
        ]
        assert shown, "no judge shared a comment on the winner"
        await expect(comments).to_have_count(len(shown))
        assert sorted(await comments.all_inner_texts()) == shown
        await expect_feedback_hides(founder, hidden, judging.judges)
        await shot(founder, artifacts_dir, "14-winner-feedback")
        await assert_clean(founder, browser_log)

    statuses = await submission_statuses([s1, s2, s3, s4])
    assert statuses == {s1: "winner", s2: "advanced", s3: "not_selected", s4: "not_selected"}
    assert conflicted in scored_by[0] + scored_by[2]  # somebody else still scored it
