"""The index as a replica of the database: incremental equals rebuilt, one writer across processes."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from piccolo.engine.base import Engine

from app.accounts.viewer import Viewer
from app.catalog.tables import Adoption
from app.challenges.lifecycle import Action
from app.challenges.services import answer_question, close_past_deadline, transition
from app.challenges.tables import Challenge
from app.clock import utcnow
from app.judging.tables import ResultProposal
from app.search.analysis import text_query
from app.search.changes import record_search_change
from app.search.index import (
    GAP_PATIENCE_SECONDS,
    Cursor,
    access_filter,
    apply_changes,
    open_index,
    open_searcher,
    read_cursor,
    reindex,
)
from app.search.tables import SearchChange
from app.search_sources import SEARCH_SOURCES
from app.settings import PROJECT_ROOT
from app.submissions.tables import Submission, SubmissionVersion
from tests.catalog.adoption_factories import make_municipality, make_output
from tests.challenges.factories import make_challenge, make_question
from tests.conftest import ON_POSTGRES, POSTGRES_URL
from tests.search.concurrent_writer import ProbeSource
from tests.support.people import make_bureau, make_organization, make_user

QUERIES = ("防災", "disaster", "避難所", "八王子", "オープンデータ", "ドローン", "株式会社テスト")


def official(user_id: int, bureau_id: int) -> Viewer:
    """A bureau official as policies see them."""
    return Viewer(
        id=user_id, email="", display_name="", locale="ja", official_bureau_ids=frozenset({bureau_id})
    )


async def changed(kind: str, ref: int) -> None:
    """Record a change as a service would (rows inserted by factories record none)."""
    await record_search_change(kind, ref, now=utcnow())


def snapshot(index_dir: Path, bureau_id: int) -> dict[str, Any]:
    """Every document's stored fields, and the keys each query finds (as the search page filters them)."""
    index = open_index(index_dir)
    assert index is not None
    with index.searcher() as searcher:
        documents = {fields["key"]: fields for fields in searcher.all_stored_fields()}
        found = {
            query: sorted(
                hit["key"]
                for hit in searcher.search(
                    text_query(query), limit=None, filter=access_filter({"public", f"bureau:{bureau_id}"})
                )
            )
            for query in QUERIES
        }
    return {"documents": documents, "found": found}


def keys(index_dir: Path) -> set[str]:
    """The keys in the index."""
    with open_searcher(index_dir) as searcher:
        return set() if searcher is None else {fields["key"] for fields in searcher.all_stored_fields()}


async def apply(index_dir: Path) -> int:
    """Apply every pending change; returns the rows applied."""
    report = await apply_changes(SEARCH_SOURCES, index_dir)
    assert not report.busy
    return report.applied


async def submitted(challenge_id: int, organization_id: int, user_id: int, now: datetime) -> int:
    """A submitted application with one version (rows, as after `submit_submission`)."""
    rows = await Submission.insert(
        Submission(
            challenge=challenge_id,
            organization=organization_id,
            status="submitted",
            receipt_number=f"KY-2026-{challenge_id:04d}-0001",
            summary="ドローンで避難経路を案内します",
            created_by=user_id,
            created_at=now,
            updated_at=now,
            submitted_at=now,
            withdraw_reason="",
        )
    ).run()
    submission_id = int(rows[0]["id"])
    content = {"summary": "ドローンで避難経路を案内します", "answers": {}, "files": [], "team": []}
    await SubmissionVersion.insert(
        SubmissionVersion(
            submission=submission_id, number=1, content=content, submitted_by=user_id, submitted_at=now
        )
    ).run()
    return submission_id


async def test_incremental_updates_equal_a_rebuild(database: Engine, tmp_path: Path) -> None:  # type: ignore[type-arg]
    now = utcnow()
    incremental, rebuilt = tmp_path / "incremental" / "index", tmp_path / "rebuilt" / "index"
    bureau_id = await make_bureau("digital")
    author = await make_user("author@city.example.jp", role="official", bureau_id=bureau_id)
    approver = await make_user("approver@city.example.jp", role="official", bureau_id=bureau_id)
    founder = await make_user("founder@startup.example")
    organization_id = await make_organization(founder)
    assert await apply(incremental) == 0  # a new replica starts from a rebuild (of nothing yet)

    open_id = await make_challenge(bureau_id=bureau_id, author_id=author.id, slug="bousai", now=now)
    review_id = await make_challenge(
        bureau_id=bureau_id,
        author_id=author.id,
        slug="drone",
        status="in_review",
        title_ja="ドローン物流",
        now=now,
    )
    expiring_id = await make_challenge(
        bureau_id=bureau_id, author_id=author.id, slug="expiring", now=now, close_in=timedelta(seconds=1)
    )
    for challenge_id in (open_id, review_id, expiring_id):
        await changed("challenge", challenge_id)
    assert await apply(incremental) == 3
    assert keys(incremental) == {f"challenge:{open_id}", f"challenge:{expiring_id}"}

    # Services record their own changes from here on.
    await transition(official(approver.id, bureau_id), review_id, Action.APPROVE, now=now)
    question_id = await make_question(open_id, asker_id=founder.id, body="避難所の数は？", asked_at=now)
    await answer_question(official(author.id, bureau_id), question_id, "都内に3,000か所です。", now=now)
    assert await close_past_deadline(now + timedelta(seconds=2)) == 1
    await apply(incremental)

    output_id = await make_output("open-data-portal", created_by=founder.id, name="オープンデータポータル")
    hachioji = await make_municipality("13201", "東京都", "八王子市")
    await Adoption.insert(
        Adoption(
            output=output_id,
            municipality=hachioji["id"],
            status="adopted",
            deployment_url="",
            fork_url="",
            recorded_by=founder.id,
            recorded_at=now,
            updated_at=now,
            confirmed_by=founder.id,
            confirmed_at=now,
            one_per_pair=f"{output_id}:{hachioji['id']}",
        )
    ).run()
    await changed("output", output_id)
    submission_id = await submitted(open_id, organization_id, founder.id, now)
    await changed("submission", submission_id)
    await Challenge.update({Challenge.status: "results_published"}).where(Challenge.id == expiring_id).run()
    await ResultProposal.insert(
        ResultProposal(
            challenge=expiring_id,
            decisions={},
            note="",
            proposed_by=author.id,
            proposed_at=now,
            approved_by=approver.id,
            approved_at=now,
            published_at=now,
        )
    ).run()
    await changed("challenge", expiring_id)
    await changed("result", expiring_id)
    await apply(incremental)

    assert await reindex(SEARCH_SOURCES, rebuilt) == 6
    assert snapshot(incremental, bureau_id) == snapshot(rebuilt, bureau_id)
    found = snapshot(rebuilt, bureau_id)["found"]
    assert f"challenge:{open_id}" in found["避難所"]  # answered Q&A
    assert f"submission:{submission_id}" in found["ドローン"]  # staff see their bureau's applications
    assert found["八王子"] == [f"output:{output_id}"]  # adopting municipality
    assert f"challenge:{review_id}" in found["ドローン"]  # approved through the service
    documents = snapshot(rebuilt, bureau_id)["documents"]
    assert documents[f"challenge:{expiring_id}"]["status"] == "results"
    assert documents[f"output:{output_id}"]["prefecture"] == "東京都"
    # A rebuild's cursor starts after every change it has read: nothing is applied twice.
    assert await apply(rebuilt) == 0


async def test_unpublishing_and_withdrawing_remove_documents(database: Engine, tmp_path: Path) -> None:  # type: ignore[type-arg]
    now = utcnow()
    index_dir = tmp_path / "index"
    bureau_id = await make_bureau("digital")
    author = await make_user("author@city.example.jp", role="official", bureau_id=bureau_id)
    founder = await make_user("founder@startup.example")
    challenge_id = await make_challenge(bureau_id=bureau_id, author_id=author.id, slug="bousai", now=now)
    output_id = await make_output("portal", created_by=founder.id)
    submission_id = await submitted(challenge_id, await make_organization(founder), founder.id, now)
    for kind, ref in (("challenge", challenge_id), ("output", output_id), ("submission", submission_id)):
        await changed(kind, ref)
    await apply(index_dir)
    assert keys(index_dir) == {
        f"challenge:{challenge_id}",
        f"output:{output_id}",
        f"submission:{submission_id}",
    }

    await Challenge.update({Challenge.status: "draft"}).where(Challenge.id == challenge_id).run()
    await changed("challenge", challenge_id)
    await Submission.update({Submission.status: "withdrawn"}).where(Submission.id == submission_id).run()
    await changed("submission", submission_id)
    await apply(index_dir)
    assert keys(index_dir) == {f"output:{output_id}"}


async def test_every_hit_is_checked_again_by_the_policies(database: Engine, tmp_path: Path) -> None:  # type: ignore[type-arg]
    now = utcnow()
    bureau_id = await make_bureau("digital")
    author = await make_user("author@city.example.jp", role="official", bureau_id=bureau_id)
    founder = await make_user("founder@startup.example")
    challenge_id = await make_challenge(bureau_id=bureau_id, author_id=author.id, slug="bousai", now=now)
    organization_id = await make_organization(founder)
    submission_id = await submitted(challenge_id, organization_id, founder.id, now)
    draft_id = await make_challenge(
        bureau_id=bureau_id, author_id=author.id, slug="draft", status="draft", now=now
    )
    by_kind = {source.kind: source for source in SEARCH_SOURCES}
    challenges = {f"challenge:{challenge_id}", f"challenge:{draft_id}"}
    assert await by_kind["challenge"].visible(None, challenges) == {f"challenge:{challenge_id}"}
    assert await by_kind["challenge"].visible(official(author.id, bureau_id), challenges) == challenges
    key = f"submission:{submission_id}"
    assert await by_kind["submission"].visible(official(author.id, bureau_id), {key}) == {key}
    applicant = Viewer(
        id=founder.id, email="", display_name="", locale="ja", memberships={organization_id: "owner"}
    )
    assert await by_kind["submission"].visible(applicant, {key}) == {key}
    judge = Viewer(id=founder.id + 1, email="", display_name="", locale="ja", is_judge=True)
    for outsider in (None, judge, official(author.id, bureau_id + 1)):
        assert await by_kind["submission"].visible(outsider, {key}) == set()


async def failing_change() -> None:
    """A feature's transaction that records its search change, then fails."""
    async with SearchChange._meta.db.transaction():
        await changed("challenge", 1)
        raise RuntimeError("the feature's change failed")


async def test_a_rolled_back_change_leaves_no_row(database: Engine, tmp_path: Path) -> None:  # type: ignore[type-arg]
    with pytest.raises(RuntimeError):
        await failing_change()
    assert await SearchChange.count().run() == 0


async def test_the_cursor_survives_a_restart(database: Engine, tmp_path: Path) -> None:  # type: ignore[type-arg]
    index_dir = tmp_path / "index"
    assert (await apply_changes([ProbeSource()], index_dir)).applied == 0  # built, empty
    for number in range(3):
        await record_search_change("probe", f"first-{number}", now=utcnow())
    assert (await apply_changes([ProbeSource()], index_dir)).applied == 3
    cursor = read_cursor(index_dir.resolve()).applied
    await record_search_change("probe", "after-restart", now=utcnow())
    # A new process knows only what is on disk: the same cursor file, so only the new row is applied.
    script = (
        "import asyncio, sys; from pathlib import Path;"
        "from app.database.engines import engine_from_url; from app.database.registry import use_engine;"
        "from app.search.index import apply_changes; from tests.search.concurrent_writer import ProbeSource;"
        "use_engine(engine_from_url(sys.argv[1]));"
        "print(asyncio.run(apply_changes([ProbeSource()], Path(sys.argv[2]))).applied)"
    )
    restarted = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        database_url(database),
        str(index_dir),
        cwd=PROJECT_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(restarted.communicate(), timeout=120)
    assert restarted.returncode == 0, stderr.decode()
    assert stdout.decode().strip() == "1"
    assert read_cursor(index_dir.resolve()).applied > cursor
    assert len(keys(index_dir)) == 4


def database_url(database: Engine) -> str:  # type: ignore[type-arg]
    """How a child process reaches the test's database."""
    return POSTGRES_URL if ON_POSTGRES else f"sqlite:///{database.path}"  # type: ignore[attr-defined]


async def test_four_processes_lose_no_update_and_no_lock_error(database: Engine, tmp_path: Path) -> None:  # type: ignore[type-arg]
    index_dir, per_writer = tmp_path / "index", 50
    writers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.search.concurrent_writer",
            database_url(database),
            str(index_dir),
            str(number),
            str(per_writer),
            cwd=PROJECT_ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for number in range(4)
    ]
    outputs = [await asyncio.wait_for(writer.communicate(), timeout=300) for writer in writers]
    for writer, (_stdout, stderr) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, stderr.decode()
        assert b"LockError" not in stderr
    # Whatever a busy moment left pending is applied by the next run; nothing was skipped for good.
    await apply_changes([ProbeSource()], index_dir)
    expected = {f"probe:w{writer}-{number}" for writer in range(4) for number in range(per_writer)}
    assert keys(index_dir) == expected
    assert await SearchChange.count().run() == 4 * per_writer
    assert read_cursor(index_dir.resolve()).applied == max(
        row["id"] for row in await SearchChange.select(SearchChange.id).run()
    )


def test_an_id_that_commits_late_is_read_again_until_it_is_old() -> None:
    cursor = Cursor(applied=10).advanced({11, 13}, now=1000.0)
    assert (cursor.applied, cursor.gaps) == (13, {12: 1000.0})
    cursor = cursor.advanced({14}, now=1000.0 + GAP_PATIENCE_SECONDS - 1)
    assert cursor.gaps == {12: 1000.0}  # on PostgreSQL, 12 may still commit
    assert cursor.advanced({12}, now=1001.0).gaps == {}
    assert cursor.advanced(set(), now=1000.0 + GAP_PATIENCE_SECONDS).gaps == {}  # rolled back for good


async def test_an_id_committed_after_a_larger_one_is_still_applied(database: Engine, tmp_path: Path) -> None:  # type: ignore[type-arg]
    """A change whose id appears after a larger one was applied (a late commit) is still indexed."""
    index_dir = tmp_path / "index"
    await apply_changes([ProbeSource()], index_dir)
    if ON_POSTGRES:
        # A real late commit: the smaller id's transaction stays open while the larger one is applied.
        inserted, release = asyncio.Event(), asyncio.Event()

        async def slow_transaction() -> None:
            async with SearchChange._meta.db.transaction():
                await record_search_change("probe", "slow", now=utcnow())
                inserted.set()
                await release.wait()

        slow = asyncio.create_task(slow_transaction())
        await inserted.wait()
        await record_search_change("probe", "fast", now=utcnow())
        await apply_changes([ProbeSource()], index_dir)
        assert keys(index_dir) == {"probe:fast"}
        release.set()
        await slow
    else:
        # SQLite commits one transaction at a time, so the late commit is reproduced: the smaller id's row is
        # taken out before the larger one is applied and put back (same id) afterwards.
        await record_search_change("probe", "slow", now=utcnow())
        await record_search_change("probe", "fast", now=utcnow())
        late = await SearchChange.select().where(SearchChange.ref_id == "slow").first().run()
        await SearchChange.delete().where(SearchChange.id == late["id"]).run()
        await apply_changes([ProbeSource()], index_dir)
        assert keys(index_dir) == {"probe:fast"}
        await SearchChange.insert(SearchChange(**late)).run()
    await apply_changes([ProbeSource()], index_dir)
    assert keys(index_dir) == {"probe:fast", "probe:slow"}
