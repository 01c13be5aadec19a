"""Demo application forms: every demo challenge open for applications asks the same few questions."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from app.challenges.lifecycle import PUBLIC_STATUSES
from app.challenges.tables import Challenge
from app.submissions.tables import FormField

RUN_BY = json.dumps(
    [{"ja": "自社のみ", "en": "Our company alone"}, {"ja": "他社と共同", "en": "With partners"}]
)
# kind, label (ja), label (en), guidance (ja), required, other columns
DEMO_FIELDS: tuple[tuple[str, str, str, str, bool, dict[str, Any]], ...] = (
    (
        "long_text",
        "解決策の概要",
        "Your solution",
        "課題をどう解決するか、具体的に。",
        True,
        {"max_chars": 1200},
    ),
    ("number", "従業員数", "Number of employees", "", True, {}),
    ("single_choice", "実証実験の実施体制", "Who runs the PoC", "", True, {"choices": RUN_BY}),
    ("url", "ピッチ動画のURL", "Pitch video URL", "3分以内の動画（任意）。", False, {}),
    ("file", "ピッチ資料（PDF）", "Pitch deck (PDF)", "20MBまで。", True, {}),
)


async def seed_demo_forms(*, now: datetime) -> int:
    """Give each public demo challenge without a form the demo questions; returns how many got one."""
    challenges = (
        await Challenge.select(Challenge.id)
        .where(Challenge.status.is_in([s.value for s in PUBLIC_STATUSES]))
        .run()
    )
    with_form = {row["challenge"] for row in await FormField.select(FormField.challenge).run()}
    seeded = 0
    for challenge in challenges:
        if challenge["id"] in with_form:
            continue
        await FormField.insert(
            *(
                FormField(
                    challenge=challenge["id"],
                    position=position,
                    kind=kind,
                    label_ja=label_ja,
                    label_en=label_en,
                    help_ja=help_ja,
                    help_en="",
                    required=required,
                    created_at=now,
                    **extra,
                )
                for position, (kind, label_ja, label_en, help_ja, required, extra) in enumerate(
                    DEMO_FIELDS, start=1
                )
            )
        ).run()
        seeded += 1
    return seeded
