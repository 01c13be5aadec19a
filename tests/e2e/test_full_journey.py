"""The whole Kyoso journey in Chromium, from a drafted challenge to another city reusing the winner's output.

It proves the features work together, in order, on one live server: an official drafts a challenge and a
second official publishes it; a founder signs up (confirming the address through the mail the app writes),
registers the company, asks a question that the bureau answers publicly, applies with a PDF and gets a
受付番号; three judges (one declaring a conflict) score the document round, the official advances two,
schedules their pitch slots, the judges score the pitch, a second official approves the proposed winner
and the results are published; the founder reads the feedback, catalogues what was built, an official of
八王子市 records its adoption (the maintainer confirms it) and the header search finds it by a Japanese word.

The people around the founder (officials, judges, three other applicants, the other city's official) are
rows written straight into the live server's database, as the other browser tests' fixtures do; everything
the journey is about goes through the browser. Every judge gives an application the same scores, so the
ranking is known whatever the automatic assignment gives each judge. Screenshots: test-artifacts/e2e/journey/.
Every page a step ends on is also checked by axe (WCAG 2.0/2.1 A and AA) in Japanese and English at 1280
and 375 px: no serious or critical violation anywhere in the journey.
"""

from __future__ import annotations

import re
import secrets
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from app.accounts.corporate_number import with_check_digit
from app.catalog.municipalities import seed_municipalities
from app.catalog.tables import Municipality, MunicipalityMember
from app.challenges.tables import Challenge
from app.clock import utcnow
from tests.e2e.conftest import BrowserLog
from tests.e2e.journey_steps import (
    TOKYO,
    ChallengeDraft,
    Entry,
    Founder,
    Scoring,
    Shots,
    actor_page,
    add_pdf_question,
    answer_question,
    apply_with_pdf,
    approve_and_publish_results,
    approve_challenge,
    approve_entry,
    ask_question,
    assert_clean,
    confirm_address,
    database,
    draft_challenge,
    expect_answer,
    judge_pass,
    move_challenge,
    propose_winner,
    register_company,
    schedule_pitch_slots,
    search_from_header,
    send_for_review,
    sign_up,
    submit_application,
    verification_link,
    write_entry,
)
from tests.e2e.test_catalog_in_browser import adopted_by, confirmed_adopted, count_of, reloaded
from tests.e2e.test_judging_in_browser import (
    add_applicant,
    add_criterion,
    assign_automatically,
    assigned_submissions,
    create_round,
    expect_feedback_hides,
    invite_judges,
    posted_to,
    set_up_pitch_round,
    sign_in,
    submission_statuses,
)
from tests.support.live_server import LiveServer
from tests.support.people import Person, make_bureau, make_user

pytestmark = pytest.mark.browser

HACHIOJI = "132012"  # 東京都八王子市 (app/catalog/data/local-government-codes.csv)
# (first criterion, second criterion) each judge gives each application, by its number (1: the founder).
ROUND_1_SCORES = {1: (5, 5), 2: (4, 4), 3: (2, 3), 4: (1, 2)}
ROUND_2_SCORES = {1: (5, 4), 2: (3, 3)}
QUESTION = "実証実験の期間中、区役所のWi-Fiを利用できますか？"
ANSWER = "はい、実証期間中は庁舎内の来庁者用Wi-Fiを利用できます。"
SEARCH_TERM = "混雑"  # a word inside the compound of the entry's name and description
DEPLOYMENT_URL = "https://madoguchi.city.hachioji.example.jp/"


@dataclass(frozen=True)
class Cast:
    """Everybody but the founder: two officials of one bureau, three judges, an official of 八王子市."""

    run: str
    officials: tuple[Person, Person]
    judges: tuple[Person, Person, Person]
    city_official: Person


@pytest.fixture
async def cast(live_server: LiveServer) -> Cast:
    """Rows written straight into the live server's database (names made unique: the server is shared)."""
    async with database(live_server):
        run = secrets.token_hex(4)
        bureau_id = await make_bureau(f"journey-{run}")
        officials = (
            await make_user(f"official1-{run}@city.example.jp", role="official", bureau_id=bureau_id),
            await make_user(f"official2-{run}@city.example.jp", role="official", bureau_id=bureau_id),
        )
        j1, j2, j3 = [await make_user(f"judge-{x}-{run}@jury.example", role="judge") for x in "abc"]
        await seed_municipalities()  # idempotent: other tests of the session may have seeded them too
        hachioji = (
            await Municipality.select(Municipality.id).where(Municipality.code == HACHIOJI).first().run()
        )
        assert hachioji is not None, "the seed has no 八王子市"
        city_official = await make_user(f"official-{run}@city.hachioji.example.jp")
        await MunicipalityMember.insert(
            MunicipalityMember(municipality=hachioji["id"], user=city_official.id, granted_at=utcnow())
        ).run()
    return Cast(run, officials, (j1, j2, j3), city_official)


async def challenge_id_of(live_server: LiveServer, slug: str) -> int:
    """The id of the challenge the official created in the browser."""
    async with database(live_server):
        row = await Challenge.select(Challenge.id).where(Challenge.slug == slug).first().run()
    assert row is not None, f"no challenge {slug}"
    return int(row["id"])


async def test_from_a_drafted_challenge_to_another_city_reusing_the_winners_output(
    page: Page,
    browser: Browser,
    live_server: LiveServer,
    cast: Cast,
    browser_log: BrowserLog,
    artifacts_dir: Path,
    tmp_path: Path,
) -> None:
    """Challenge → sign-up → Q&A → application → two rounds → results → feedback → catalogue → reuse."""
    shot = Shots(artifacts_dir / "journey")
    run = cast.run
    official, colleague = cast.officials
    now = datetime.now(TOKYO).replace(second=0, microsecond=0)
    draft = ChallengeDraft(
        slug=f"journey-{run}",
        title=f"区民窓口の待ち時間を可視化する（{run}）",
        summary="窓口の混雑を見える化し、来庁者の待ち時間を減らします。",
        opens=now - timedelta(days=1),
        closes=now + timedelta(days=20),
    )
    slug = draft.slug
    founder = Founder(
        name="未来 創",
        email=f"mirai-{run}@madoguchi.example.jp",
        password="tsukiji fish market sunrise",
        company=f"株式会社窓口テック（{run}）",
        corporate_number=with_check_digit(f"{secrets.randbelow(10**12):012d}"),
    )

    async with AsyncExitStack() as stack:
        bureau = await stack.enter_async_context(actor_page(browser, live_server, browser_log))
        second = await stack.enter_async_context(actor_page(browser, live_server, browser_log))

        # 1. An official drafts the challenge; a second official of the bureau approves and publishes it.
        await sign_in(bureau, official, "/account")
        await draft_challenge(bureau, draft)
        await shot(bureau, "challenge-drafted")
        await send_for_review(bureau)
        await shot(bureau, "challenge-sent-for-review")
        await assert_clean(bureau, browser_log)
        await sign_in(second, colleague, f"/challenges/{slug}")
        await approve_challenge(second)
        await shot(second, "challenge-approved-published")
        await assert_clean(second, browser_log)
        await add_pdf_question(bureau, slug, "ピッチ資料（PDF）")
        await shot(bureau, "application-form-pdf-question")
        await assert_clean(bureau, browser_log)
        challenge_id = await challenge_id_of(live_server, slug)

        # 2. The founder signs up, confirms the address by mail, registers the company, asks a question.
        await sign_up(page, founder)
        await shot(page, "founder-signed-up")
        link = await verification_link(live_server.data_dir / "mail", founder.email)
        await confirm_address(page, link)
        await shot(page, "founder-address-confirmed")
        organization_id = await register_company(page, founder)
        await shot(page, "company-registered")
        await ask_question(page, slug, QUESTION)
        await shot(page, "question-asked")
        await assert_clean(page, browser_log)
        await answer_question(bureau, slug, QUESTION, ANSWER)
        await shot(bureau, "question-answered")
        await expect_answer(page, slug, QUESTION, ANSWER)
        await shot(page, "founder-reads-the-answer")
        await assert_clean(page, browser_log)

        # 3. The founder applies with a PDF and gets the challenge's first 受付番号.
        founder_submission = await apply_with_pdf(
            page,
            slug,
            "来庁者の待ち時間をAIで予測し、窓口の混雑を平準化します。",
            tmp_path / "ピッチ資料.pdf",
        )
        await shot(page, "application-draft-with-pdf")
        receipt = f"KY-{now.year}-{challenge_id:04d}-0001"
        await submit_application(page, receipt)
        await shot(page, "application-receipt")
        await assert_clean(page, browser_log)

        # The three other applications, written straight into the database; then applications close.
        async with database(live_server):
            others = [await add_applicant(challenge_id, number, run) for number in (2, 3, 4)]
        s1, s2, s3, s4 = founder_submission, *(other.submission_id for other in others)
        scoring_1 = Scoring({s1: 1, s2: 2, s3: 3, s4: 4})
        scoring_2 = Scoring({s1: 1, s2: 2})
        await move_challenge(bureau, slug, "close")
        await move_challenge(bureau, slug, "start_judging")
        await shot(bureau, "challenge-judging-started")
        await assert_clean(bureau, browser_log)

        # 4. Document round: rubric, three judges, automatic assignment (4 applications x 2 judges).
        first = await create_round(bureau, slug, "document", "書類審査", "Document screening", top_n=2)
        await add_criterion(bureau, "課題解決の効果", "Impact", "2", count_after=1)
        await add_criterion(bureau, "実現可能性", "Feasibility", "1", count_after=2)
        await invite_judges(bureau, cast.judges)
        await assign_automatically(bureau, expected_pairs=8)
        await shot(bureau, "document-round-set-up")
        await assert_clean(bureau, browser_log)

        judges = [
            await stack.enter_async_context(actor_page(browser, live_server, browser_log)) for _ in "abc"
        ]
        for tab, judge in zip(judges, cast.judges, strict=True):
            await sign_in(tab, judge, "/judging")
        await judges[1].goto("/judging")
        conflicted = (await assigned_submissions(judges[1], first))[0]
        scored_by: dict[int, list[int]] = {}
        for index, tab in enumerate(judges):
            scored_by[index] = await judge_pass(
                tab, first, index, ROUND_1_SCORES, scoring_1, conflict_with=conflicted if index == 1 else None
            )
            await shot(tab, f"document-round-judge-{'abc'[index]}-done")
            await assert_clean(tab, browser_log)
        assert scoring_1.finalized == 7  # 8 assignments, one conflict
        assert conflicted in scored_by[0] + scored_by[2]  # somebody else still scored it

        # The official confirms the top two (the founder first) from the ranking.
        await bureau.goto(f"/challenges/{slug}/rounds/{first}/ranking")
        await expect(bureau.locator("#ranking-facts dd[data-final]")).to_have_attribute("data-final", "7")
        rows = bureau.locator("#ranking tbody tr")
        await expect(rows).to_have_count(4)
        order = [int(v or 0) for v in await rows.evaluate_all("rows => rows.map(r => r.dataset.submission)")]
        assert order == [s1, s2, s3, s4]
        await expect(rows.first).to_have_attribute("data-raw-mean", "100.00")
        for submission_id, advancing in ((s1, True), (s2, True), (s3, False), (s4, False)):
            box = bureau.locator(f"#advance-{submission_id}")
            await (expect(box).to_be_checked() if advancing else expect(box).not_to_be_checked())
        await bureau.locator('#advancement form button[type="submit"]').click()
        await bureau.wait_for_url(re.compile(rf"/rounds/{first}/ranking$"))
        await expect(bureau.locator("#flash .flash")).to_contain_text("2")
        await expect(bureau.locator("#advancement form")).to_have_count(0)
        await shot(bureau, "document-round-two-advanced")
        await assert_clean(bureau, browser_log)

        # Pitch round: rubric, judges, assignment, then each finalist's slot on pitch day.
        pitch = await set_up_pitch_round(bureau, slug, cast.judges)
        await schedule_pitch_slots(bureau, slug, pitch, [s1, s2])
        await shot(bureau, "pitch-slots-scheduled")
        await assert_clean(bureau, browser_log)
        await page.goto(f"/submissions/{s1}")
        await page.locator(f'a[href="/submissions/{s1}/pitch"]').click()
        await page.wait_for_url(re.compile(rf"/submissions/{s1}/pitch$"))
        await expect(page.locator("#pitch-slots li[data-pitch-slot]")).to_contain_text("都庁第一本庁舎")
        await shot(page, "founder-sees-the-pitch-slot")
        await assert_clean(page, browser_log)

        for index, tab in enumerate(judges):
            await judge_pass(tab, pitch, index, ROUND_2_SCORES, scoring_2)
            await shot(tab, f"pitch-round-judge-{'abc'[index]}-done")
            await assert_clean(tab, browser_log)
        assert scoring_2.finalized == 4
        await bureau.goto(f"/challenges/{slug}/rounds/{pitch}/ranking")
        await expect(bureau.locator("#ranking tbody tr").first).to_have_attribute("data-submission", str(s1))
        await shot(bureau, "pitch-round-ranking")

        # Results: the first official proposes, the second approves and publishes.
        await propose_winner(bureau, slug, winner=s1, finalist=s2)
        await shot(bureau, "winner-proposed")
        await assert_clean(bureau, browser_log)
        await approve_and_publish_results(second, slug)
        await shot(second, "results-approved-published")
        await assert_clean(second, browser_log)

    async with actor_page(browser, live_server, browser_log) as visitor:
        await visitor.goto(f"/challenges/{slug}/results")
        await expect(visitor.locator(f'[data-winner="{s1}"] h3')).to_have_text(founder.company)
        await expect(visitor.locator("[data-winner]")).to_have_count(1)
        await expect(visitor.locator(f'[data-finalist="{s2}"]')).to_have_count(1)
        for loser in others[1:]:
            await expect(visitor.locator("#main")).not_to_contain_text(loser.organization)
        await shot(visitor, "public-results")
        await assert_clean(visitor, browser_log)

    # The founder follows the notification to the feedback: averages and shared comments only.
    await page.goto("/notifications")
    await page.locator("#notification-items a").first.click()
    await page.wait_for_url(re.compile(rf"/submissions/{s1}/feedback$"))
    await expect(page.locator("dl.facts")).to_contain_text("採択")
    for round_id, expected in ((first, ["5.00", "5.00"]), (pitch, ["5.00", "4.00"])):
        section = page.locator(f'section[aria-labelledby="feedback-{round_id}-title"]')
        await expect(section.locator("td[data-mean]")).to_have_text(expected)
    everything = scoring_1.comments + scoring_2.comments
    shown = sorted(c.text for c in everything if c.submission_id == s1 and c.shareable)
    assert shown, "no judge shared a comment on the winner"
    comments = page.locator(".feedback-comments li")
    await expect(comments).to_have_count(len(shown))
    assert sorted(await comments.all_inner_texts()) == shown
    hidden = [c.text for c in everything if not c.shareable or c.submission_id != s1]
    await expect_feedback_hides(page, hidden, cast.judges)
    await shot(page, "founder-reads-feedback")
    await assert_clean(page, browser_log)
    async with database(live_server):
        statuses = await submission_statuses([s1, s2, s3, s4])
    assert statuses == {s1: "winner", s2: "advanced", s3: "not_selected", s4: "not_selected"}

    # 5. The winner catalogues the output; an official approves it; 八王子市 adopts it; the search finds it.
    entry = Entry(
        slug=f"madoguchi-konzatsu-{run}",
        name=f"窓口混雑予報 {run}",
        short_description="区役所窓口の混雑状況を予測して公開するアプリ",
        long_description="来庁者の待ち時間を予測し、窓口の混雑状況を地図と一覧で知らせます。",
        repository_url=f"https://git.example.org/madoguchi-{run}",
    )
    await write_entry(page, entry, organization_id, slug)
    await shot(page, "output-sent-for-review")
    await assert_clean(page, browser_log)
    async with actor_page(browser, live_server, browser_log) as reviewer:
        await sign_in(reviewer, colleague, "/catalog")
        await approve_entry(reviewer, entry)
        challenge_link = reviewer.locator(f'article dl.facts a[href="/challenges/{slug}"]')
        await expect(challenge_link).to_have_text(draft.title)
        await shot(reviewer, "output-published")
        await assert_clean(reviewer, browser_log)

    entry_path = f"/catalog/{entry.slug}"
    async with actor_page(browser, live_server, browser_log) as city:
        await sign_in(city, cast.city_official, entry_path)
        await expect(adopted_by(city)).to_have_text(count_of(0))
        form = city.locator(f'#adoptions form[hx-post="{entry_path}/adoptions"]')
        await expect(form.locator("#field-municipality_code")).to_have_value(HACHIOJI)
        await form.locator("#field-status").select_option("adopted")
        await form.locator("#field-deployment_url").fill(DEPLOYMENT_URL)
        await city.evaluate("window.__beforeRecord = true")
        async with city.expect_response(posted_to(f"{entry_path}/adoptions")) as posted:
            await form.locator('button[type="submit"]').click()
        assert (await posted.value).status == 200, await (await posted.value).text()
        assert await reloaded(city)
        record = city.locator("#adoptions ul.adopters > li")
        await expect(record).to_have_count(1)
        await expect(record).to_contain_text("八王子市")
        await expect(record.locator(f'a[href="{DEPLOYMENT_URL}"]')).to_be_visible()
        await expect(record.locator(".badge--warning")).to_be_visible()  # 未確認
        await shot(city, "adoption-recorded-by-hachioji")
        await assert_clean(city, browser_log)

        # The founder's company maintains the entry: the founder confirms the adoption.
        await page.goto(entry_path)
        confirm = page.locator('#adoptions form[action$="/confirm"] button[type="submit"]')
        await confirm.click()
        await page.wait_for_url(re.compile(rf"{re.escape(entry_path)}(#adoptions)?$"))
        await expect(adopted_by(page)).to_have_text(count_of(1))
        await expect(confirmed_adopted(page)).to_have_text("1")
        await expect(page.locator("#adoptions ul.adopters .badge--warning")).to_have_count(0)
        await shot(page, "adoption-confirmed-by-maintainer")
        await assert_clean(page, browser_log)

        # The city official searches from the site header with a Japanese word inside the name.
        await city.goto("/")
        await search_from_header(city, SEARCH_TERM, entry_path)
        await shot(city, "search-finds-the-output")
        await city.locator(f'#search-results a[href="{entry_path}"]').first.click()
        await city.wait_for_url(re.compile(rf"{re.escape(entry_path)}$"))
        await expect(adopted_by(city)).to_have_text(count_of(1))
        await shot(city, "output-adopted-by-one-city")
        await assert_clean(city, browser_log)

    # Every page of the journey, in Japanese and English, at 1280 and 375 px.
    shot.assert_accessible()
