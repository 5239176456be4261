"""A dataset for the report's tests: 65 submissions with districts, age bands, languages, events (one not
in events.yaml), "other" texts, quote consent, Warsaw-day boundaries and unfinished ones, stored directly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.service import Service
from storage.models import Answer, Respondent, Submission
from tests.support import QUESTIONNAIRE

ZOLIBORZ = "dzien-sasiada-zoliborz-2026-05-30"


def person(
    district: str,
    consent: str | None,
    *,
    language: str = "pl",
    age: str = "age_30_44",
    event: str | None = ZOLIBORZ,
    finished: datetime = datetime(2026, 5, 30, 12, tzinfo=UTC),
    status: str = "completed",
    other: str | None = None,
    text: str = "Sąsiedzi pomagają sobie na podwórku.",
) -> dict[str, Any]:
    answers: dict[str, dict[str, Any]] = {
        "district": {"options": [district]},
        "community_meaning": {"text": text},
        "values": {"options": ["trust", "other"], "text": other} if other else {"options": ["trust"]},
        "age_band": {"options": [age]},
    }
    if consent is not None:
        answers["quote_consent"] = {"options": [consent]}
    return {"event": event, "language": language, "finished": finished, "status": status, "answers": answers}


# Praga-Południe: 6 people, 5 allow quoting and 1 does not (the review's "n=6, tak=5" gave the 1 away).
# Wilanów: one person who did not say whether to quote (a group under the threshold in the other
# questions' breakdowns: its n is never printed, nor its answers).
PEOPLE = (
    [person("praga_poludnie", "yes") for _ in range(5)]
    + [person("praga_poludnie", "no")]
    + [person("wola", "yes", language="uk", age="age_18_29") for _ in range(12)]
    + [person("wola", "no", age="age_18_29") for _ in range(8)]
    + [person("mokotow", "yes", event=None) for _ in range(20)]
    + [person("mokotow", "no", event="dzien-sasiada-nieznany", language="en") for _ in range(10)]
    + [person("wilanow", None)]
    + [person("mokotow", "yes", other="Sąsiedzka pomoc, pisz do Jana Kowalskiego 600 100 200")]
    + [person("wola", "no", other="Tajny tekst bez zgody")]
    # Warsaw days: 21:59 UTC on 30 May is 23:59 in Warsaw (30 May); 22:00 UTC is already 31 May.
    + [person("wola", "yes", finished=datetime(2026, 5, 30, 21, 59, tzinfo=UTC))]
    + [person("wola", "yes", finished=datetime(2026, 5, 30, 22, 0, tzinfo=UTC)) for _ in range(2)]
    + [person("wola", "yes", status="active") for _ in range(3)]  # unfinished: not counted
)


async def seed(service: Service) -> list[int]:
    ids = []
    async with service.store.unit() as unit:
        for n, who in enumerate(PEOPLE):
            at = who["finished"] - timedelta(minutes=10)
            respondent = Respondent(channel="web", pseudonym=f"{n:064d}", created_at=at)
            unit.add(respondent)
            await unit.flush()
            submission = Submission(
                respondent_id=respondent.id,
                questionnaire_id=QUESTIONNAIRE,
                questionnaire_version=1,
                channel="web" if n % 3 else "telegram",
                event=who["event"],
                event_known=who["event"] == ZOLIBORZ,
                stand=None,
                language=who["language"],
                privacy_version="2026-05-01",
                status=who["status"],
                step="done",
                started_at=at,
                updated_at=at,
                finished_at=who["finished"] if who["status"] == "completed" else None,
            )
            unit.add(submission)
            await unit.flush()
            ids.append(submission.id)
            for code, value in who["answers"].items():
                unit.add(Answer(submission_id=submission.id, question_code=code, answered_at=at, **value))
    return ids
