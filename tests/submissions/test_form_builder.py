"""The form builder: officials add, edit, move and remove questions; frozen once submitted; no outsiders."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from app.clock import utcnow
from app.submissions.form_builder import fields_of
from app.submissions.tables import Answer, FormField, Submission
from app.web.uploads import MIB
from tests.challenges.factories import make_challenge
from tests.support.client import WebClient
from tests.support.people import Person, make_bureau, make_organization, make_user
from tests.support.queries import assert_query_budget, count_queries

FORM = "/challenges/bousai/form"


@dataclass(frozen=True)
class Town:
    """A bureau's official, their challenge, and the outsiders who must not touch its form."""

    challenge_id: int
    official: Person
    outsiders: dict[str, Person]


async def town(status: str = "published") -> Town:
    """A challenge of one bureau, with an official of another bureau, a startup member and a judge."""
    bureau_id = await make_bureau("disaster")
    other_bureau = await make_bureau("port")
    official = await make_user("official@city.example", role="official", bureau_id=bureau_id)
    startup = await make_user("founder@startup.example")
    await make_organization(startup)
    outsiders = {
        "startup_member": startup,
        "other_bureau_official": await make_user(
            "port@city.example", role="official", bureau_id=other_bureau
        ),
        "judge": await make_user("judge@example.jp", role="judge"),
    }
    challenge_id = await make_challenge(
        bureau_id=bureau_id, author_id=official.id, slug="bousai", status=status, now=utcnow()
    )
    return Town(challenge_id, official, outsiders)


def question(kind: str = "short_text", **overrides: str) -> dict[str, str]:
    """A valid builder form for a question of `kind`."""
    form = {
        "kind": kind,
        "label_ja": f"質問 {kind}",
        "label_en": f"Question {kind}",
        "help_ja": "説明",
        "help_en": "Guidance",
        "max_chars": "",
        "max_mb": "",
        "choices_ja": "",
        "choices_en": "",
    }
    form.update(overrides)
    return form


async def signed_in_official(client: WebClient, place: Town) -> None:
    """Sign in the challenge's official and read pages in English (the messages are checked by text)."""
    await client.get("/locale/en")
    await client.sign_in(place.official.email, place.official.password)


async def labels_in_order(challenge_id: int) -> list[str]:
    """The Japanese labels of the form's questions, in form order."""
    return [row["label_en"] for row in await fields_of(challenge_id)]


async def submit_an_application(challenge_id: int, person: Person, *, submitted: bool = True) -> int:
    """An organization's application, submitted (or still a draft); returns its id."""
    organization_id = await make_organization(person, "020401234567")
    now = utcnow()
    rows = await Submission.insert(
        Submission(
            challenge=challenge_id,
            organization=organization_id,
            status="submitted" if submitted else "draft",
            active_slot=f"{challenge_id}:{organization_id}",
            receipt_number="KY-2026-0001-0001" if submitted else None,
            summary="概要",
            created_by=person.id,
            created_at=now,
            updated_at=now,
            submitted_at=now if submitted else None,
        )
    ).run()
    return int(rows[0]["id"])


async def test_official_adds_each_kind_of_question(client: WebClient) -> None:
    place = await town()
    await signed_in_official(client, place)
    forms = [
        question("short_text", required="1", max_chars="100"),
        question("long_text", max_chars="２,０００"),  # full-width digits and a comma, as people type them
        question("number"),
        question("single_choice", choices_ja="はい\nいいえ", choices_en="Yes\nNo", required="1"),
        question("multiple_choice", choices_ja="防災\n交通\n福祉"),
        question("url", label_en="Pitch video"),
        question("file", max_mb="10"),
        question("file", label_en="Default size"),
    ]
    for form in forms:
        response = await client.post(f"{FORM}/fields", form)
        assert response.status_code == 303, response.text
        assert response.headers["location"] == f"{FORM}#form-fields"
    rows = await fields_of(place.challenge_id)
    assert [row["kind"] for row in rows] == [form["kind"] for form in forms]
    assert [row["position"] for row in rows] == list(range(len(forms)))
    assert [row["required"] for row in rows] == [True, False, False, True, False, False, False, False]
    assert [row["max_chars"] for row in rows[:3]] == [100, 2000, None]
    assert rows[3]["choices"] == [{"ja": "はい", "en": "Yes"}, {"ja": "いいえ", "en": "No"}]
    assert rows[4]["choices"] == [
        {"ja": "防災", "en": ""},
        {"ja": "交通", "en": ""},
        {"ja": "福祉", "en": ""},
    ]
    assert [row["max_bytes"] for row in rows[5:]] == [None, 10 * MIB, 20 * MIB]
    assert (rows[0]["label_ja"], rows[0]["help_en"]) == ("質問 short_text", "Guidance")

    page = await client.get(FORM)
    assert page.status_code == 200
    assert page.text.index("Pitch video") < page.text.index("Default size")
    for text in ("URL (e.g. a pitch video)", "up to 2,000 characters", "up to 10 MB", "Move up", "Move down"):
        assert text in page.text, text
    assert 'role="status" aria-live="polite"' in page.text


async def test_an_irrelevant_limit_is_not_stored(client: WebClient) -> None:
    place = await town()
    await signed_in_official(client, place)
    response = await client.post(f"{FORM}/fields", question("number", max_chars="10", choices_ja="a\nb"))
    assert response.status_code == 303
    row = (await fields_of(place.challenge_id))[0]
    assert (row["max_chars"], row["choices"], row["max_bytes"]) == (None, [], None)


async def test_reorder_with_and_without_javascript(client: WebClient) -> None:
    place = await town()
    await signed_in_official(client, place)
    for name in ("A", "B", "C"):
        await client.post(f"{FORM}/fields", question(label_en=name))
    ids = [row["id"] for row in await fields_of(place.challenge_id)]

    swapped = await client.post(f"{FORM}/fields/{ids[2]}/move/up", htmx=True)
    assert swapped.status_code == 200
    assert swapped.text.lstrip().startswith('<section id="form-fields"')  # the fragment, not the page
    assert "<html" not in swapped.text
    assert 'hx-swap-oob="innerHTML">The question was moved up.' in swapped.text
    assert await labels_in_order(place.challenge_id) == ["A", "C", "B"]

    plain = await client.post(f"{FORM}/fields/{ids[0]}/move/down")
    assert plain.status_code == 303
    assert plain.headers["location"] == f"{FORM}#form-field-{ids[0]}"
    assert await labels_in_order(place.challenge_id) == ["C", "A", "B"]
    assert "The question was moved down." in (await client.get(FORM)).text

    top = await client.post(f"{FORM}/fields/{ids[2]}/move/up", htmx=True)
    assert top.status_code == 200  # already first: nothing moves
    assert await labels_in_order(place.challenge_id) == ["C", "A", "B"]
    assert (await client.post(f"{FORM}/fields/{ids[2]}/move/sideways")).status_code == 404


async def test_edit_a_question(client: WebClient) -> None:
    place = await town()
    await signed_in_official(client, place)
    await client.post(
        f"{FORM}/fields", question("single_choice", choices_ja="はい\nいいえ", choices_en="Yes\nNo")
    )
    field_id = (await fields_of(place.challenge_id))[0]["id"]

    page = await client.get(f"{FORM}/fields/{field_id}")
    assert page.status_code == 200
    assert "Edit the question" in page.text
    assert "はい\nいいえ</textarea>" in page.text
    assert f'action="{FORM}/fields/{field_id}"' in page.text

    changed = question("multiple_choice", label_ja="変更後", choices_ja="赤\n青\n緑", required="1")
    response = await client.post(f"{FORM}/fields/{field_id}", changed)
    assert response.status_code == 303, response.text
    row = (await fields_of(place.challenge_id))[0]
    assert (row["kind"], row["label_ja"], row["required"]) == ("multiple_choice", "変更後", True)
    assert [choice["ja"] for choice in row["choices"]] == ["赤", "青", "緑"]

    refused = await client.post(f"{FORM}/fields/{field_id}", question("multiple_choice", label_ja=""))
    assert refused.status_code == 422
    assert "Enter the question in Japanese." in refused.text
    assert (await fields_of(place.challenge_id))[0]["label_ja"] == "変更後"
    assert (await client.get(f"{FORM}/fields/999999")).status_code == 404


async def test_remove_a_question(client: WebClient) -> None:
    place = await town()
    await signed_in_official(client, place)
    for name in ("A", "B"):
        await client.post(f"{FORM}/fields", question(label_en=name))
    first, second = (row["id"] for row in await fields_of(place.challenge_id))

    swapped = await client.post(f"{FORM}/fields/{first}/remove", htmx=True)
    assert swapped.status_code == 200
    assert "The question was removed." in swapped.text
    assert f'id="form-field-{first}"' not in swapped.text
    assert await labels_in_order(place.challenge_id) == ["B"]

    plain = await client.post(f"{FORM}/fields/{second}/remove")
    assert plain.status_code == 303
    assert await FormField.count().run() == 0
    assert "No questions yet" in (await client.get(FORM)).text
    assert (await client.post(f"{FORM}/fields/{second}/remove")).status_code == 404


@pytest.mark.parametrize(
    ("form", "field_name", "message"),
    [
        (question(label_ja=" "), "label_ja", "Enter the question in Japanese."),
        (question("long_text", max_chars="many"), "max_chars", "Enter a whole number of characters"),
        (
            question("long_text", max_chars="100001"),
            "max_chars",
            "Enter a whole number of characters from 1 to 100,000",
        ),
        (question("single_choice"), "choices_ja", "Enter the options in Japanese, one per line."),
        (
            question("multiple_choice", choices_ja="はい\nいいえ", choices_en="Yes"),
            "choices_en",
            "Give one English line for each Japanese option",
        ),
        (question("file", max_mb="51"), "max_mb", "Enter a size in MB from 1 to 50."),
        (question("signature"), "kind", "Choose a type of question from the list."),
    ],
)
async def test_bad_input_is_explained_beside_its_field_and_nothing_is_saved(
    client: WebClient, form: dict[str, str], field_name: str, message: str
) -> None:
    place = await town()
    await signed_in_official(client, place)
    response = await client.post(f"{FORM}/fields", form)
    assert response.status_code == 422
    assert f'<p class="field-error" id="field-{field_name}-error">{message}' in response.text
    assert 'aria-invalid="true"' in response.text
    assert f'value="{form["label_en"]}"' in response.text  # what was typed is kept
    assert await FormField.count().run() == 0


async def test_after_the_first_submission_only_optional_questions_are_added(client: WebClient) -> None:
    place = await town()
    await signed_in_official(client, place)
    for name in ("A", "B"):
        await client.post(f"{FORM}/fields", question(label_en=name, required="1"))
    first, second = (row["id"] for row in await fields_of(place.challenge_id))
    await submit_an_application(place.challenge_id, place.outsiders["startup_member"])
    before = await fields_of(place.challenge_id)

    required = await client.post(f"{FORM}/fields", question(label_en="C", required="1"))
    assert required.status_code == 422
    assert "a new question must be optional." in required.text
    refusals = [
        await client.post(f"{FORM}/fields/{first}", question(label_en="changed")),
        await client.post(f"{FORM}/fields/{second}/move/up", htmx=True),
        await client.post(f"{FORM}/fields/{first}/move/down"),
        await client.post(f"{FORM}/fields/{first}/remove", htmx=True),
    ]
    for refused in refusals:
        assert refused.status_code == 422
        assert "existing questions can no longer be changed, moved or removed" in refused.text
    assert await fields_of(place.challenge_id) == before

    optional = await client.post(f"{FORM}/fields", question(label_en="C"))
    assert optional.status_code == 303
    assert await labels_in_order(place.challenge_id) == ["A", "B", "C"]
    page = await client.get(FORM)
    assert "the questions below are frozen" in page.text
    # No button the server would refuse.
    assert "Move up" not in page.text
    assert "Remove" not in page.text


async def test_draft_answers_keep_their_question(client: WebClient) -> None:
    place = await town()
    await signed_in_official(client, place)
    await client.post(f"{FORM}/fields", question("long_text"))
    field_id = (await fields_of(place.challenge_id))[0]["id"]
    startup = place.outsiders["startup_member"]
    draft = await submit_an_application(place.challenge_id, startup, submitted=False)
    await Answer.insert(
        Answer(
            submission=draft,
            field=field_id,
            value=json.dumps("下書きの回答"),
            updated_by=startup.id,
            updated_at=utcnow(),
        )
    ).run()

    removed = await client.post(f"{FORM}/fields/{field_id}/remove")
    assert removed.status_code == 422
    assert "cannot be removed" in removed.text
    retyped = await client.post(f"{FORM}/fields/{field_id}", question("number"))
    assert retyped.status_code == 422
    assert "its type cannot change" in retyped.text
    relabelled = await client.post(f"{FORM}/fields/{field_id}", question("long_text", label_en="Clearer"))
    assert relabelled.status_code == 303  # nobody has submitted yet: the wording may still improve
    assert await labels_in_order(place.challenge_id) == ["Clearer"]


async def test_options_answered_in_drafts_are_not_removed(client: WebClient) -> None:
    place = await town()
    await signed_in_official(client, place)
    await client.post(f"{FORM}/fields", question("single_choice", choices_ja="はい\nいいえ"))
    field_id = (await fields_of(place.challenge_id))[0]["id"]
    startup = place.outsiders["startup_member"]
    draft = await submit_an_application(place.challenge_id, startup, submitted=False)
    await Answer.insert(
        Answer(
            submission=draft,
            field=field_id,
            value=json.dumps([1]),
            updated_by=startup.id,
            updated_at=utcnow(),
        )
    ).run()

    fewer = await client.post(f"{FORM}/fields/{field_id}", question("single_choice", choices_ja="はい"))
    assert fewer.status_code == 422
    assert "options can be added, not removed" in fewer.text
    more = await client.post(
        f"{FORM}/fields/{field_id}", question("single_choice", choices_ja="はい\nいいえ\n未定")
    )
    assert more.status_code == 303
    assert len((await fields_of(place.challenge_id))[0]["choices"]) == 3


async def test_anonymous_visitors_are_sent_to_sign_in(client: WebClient) -> None:
    place = await town()
    page = await client.get(FORM)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/signin?next=")
    assert (await client.post(f"{FORM}/fields", question())).status_code == 303
    assert await FormField.count().run() == 0
    assert place.challenge_id


@pytest.mark.parametrize("who", ["startup_member", "other_bureau_official", "judge"])
@pytest.mark.parametrize(("status", "expected"), [("draft", 404), ("published", 403)])
async def test_outsiders_cannot_see_or_change_the_builder(
    client: WebClient, other_client: WebClient, who: str, status: str, expected: int
) -> None:
    place = await town(status)
    await signed_in_official(other_client, place)
    await other_client.post(f"{FORM}/fields", question(label_en="A"))
    field_id = (await fields_of(place.challenge_id))[0]["id"]
    before = await fields_of(place.challenge_id)

    outsider = place.outsiders[who]
    await client.sign_in(outsider.email, outsider.password)
    # A draft is unknown to them (404); a published challenge exists, but its form is not theirs (403).
    attempts: list[Any] = [
        await client.get(FORM),
        await client.get(f"{FORM}/fields/{field_id}"),
        await client.post(f"{FORM}/fields", question(label_en="B")),
        await client.post(f"{FORM}/fields/{field_id}", question(label_en="changed")),
        await client.post(f"{FORM}/fields/{field_id}/move/down", htmx=True),
        await client.post(f"{FORM}/fields/{field_id}/remove"),
    ]
    assert [response.status_code for response in attempts] == [expected] * len(attempts)
    assert await fields_of(place.challenge_id) == before


async def test_a_challenge_in_review_is_frozen_for_its_own_bureau_too(client: WebClient) -> None:
    place = await town("in_review")
    await signed_in_official(client, place)
    assert (await client.get(FORM)).status_code == 403
    assert (await client.post(f"{FORM}/fields", question())).status_code == 403
    assert await FormField.count().run() == 0


@pytest.mark.parametrize("count", [1, 12])
async def test_the_page_needs_few_queries_whatever_the_number_of_questions(
    client: WebClient, count: int
) -> None:
    place = await town()
    await signed_in_official(client, place)
    for index in range(count):
        await client.post(
            f"{FORM}/fields", question("single_choice", label_en=f"Q{index}", choices_ja="甲\n乙")
        )
    await client.get(FORM)  # the viewer is remembered after the first page
    with count_queries() as counted:
        page = await client.get(FORM)
    assert page.status_code == 200
    assert page.text.count('<li id="form-field-') == count
    assert_query_budget(counted, 3)
