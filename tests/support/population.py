"""A population and a planted sample of who answered, with golden numbers worked out by hand
(tests/unit/test_representation.py), for the representativeness monitor's tests."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.service import Service
from handlers.definitions.population import Population, parse_population
from storage.models import Answer, Respondent, Submission
from tests.support.settings import QUESTIONNAIRE

# Four districts and two age bands, in round numbers so the golden figures can be checked by hand.
POPULATION = parse_population(
    {
        "source": "GUS: test",
        "date": "2024-06-30",
        "margins": {
            "district": {
                "question": "district",
                "residents": {"mokotow": 500, "wola": 300, "ursus": 150, "rembertow": 50},
                "outside": ["outside_warsaw"],
            },
            "age_band": {"question": "age_band", "residents": {"age_18_29": 400, "age_60_74": 600}},
        },
    },
    "population.yaml",
)
DISTRICTS_ONLY = Population.model_validate(
    {**POPULATION.model_dump(), "margins": {"district": POPULATION.margins["district"].model_dump()}}
)

# The planted sample: 100 completed submissions with a district (60 Mokotów, 20 Wola, 20 Ursus, none from
# Rembertów); 3 from outside Warsaw; 2 who skipped the district. Ages: 70 young, 20 older, 10 prefer not.
PLANTED: list[dict[str, str]] = (
    [{"district": "mokotow", "age_band": "age_18_29"}] * 50
    + [{"district": "mokotow", "age_band": "age_60_74"}] * 10
    + [{"district": "wola", "age_band": "age_18_29"}] * 10
    + [{"district": "wola", "age_band": "age_60_74"}] * 5
    + [{"district": "wola", "age_band": "prefer_not"}] * 5
    + [{"district": "ursus", "age_band": "age_18_29"}] * 10
    + [{"district": "ursus", "age_band": "age_60_74"}] * 5
    + [{"district": "ursus", "age_band": "prefer_not"}] * 5
    + [{"district": "outside_warsaw"}] * 3
    + [{"age_band": "age_18_29"}] * 2
)


async def plant(service: Service, people: list[dict[str, str]], *, status: str = "completed") -> list[int]:
    """Stores completed (or `status`) submissions of the tests' questionnaire with these answers (a skipped district for a person without one); returns their ids."""
    at = datetime(2026, 5, 30, 10, tzinfo=UTC)
    ids = []
    async with service.store.unit() as unit:
        for answers in people:
            respondent = Respondent(channel="web", pseudonym=f"p{len(ids)}-{status}".ljust(32, "x"), created_at=at)
            unit.add(respondent)
            await unit.flush()
            submission = Submission(
                respondent_id=respondent.id,
                questionnaire_id=QUESTIONNAIRE,
                questionnaire_version=1,
                channel="web",
                language="pl",
                privacy_version="2026-05-01",
                status=status,
                step="done",
                started_at=at,
                updated_at=at,
                finished_at=at if status == "completed" else None,
            )
            unit.add(submission)
            await unit.flush()
            ids.append(submission.id)
            if "district" not in answers:
                unit.add(Answer(submission_id=submission.id, question_code="district", answered_at=at, skipped=True))
            for code, option in answers.items():
                unit.add(Answer(submission_id=submission.id, question_code=code, answered_at=at, options=[option]))
    return ids


# The same population as a file in a configuration folder.
POPULATION_YAML = """
source: "GUS: test"
date: 2024-06-30
margins:
  district:
    question: district
    residents: {mokotow: 500, wola: 300, ursus: 150, rembertow: 50}
    outside: [outside_warsaw]
  age_band:
    question: age_band
    residents: {age_18_29: 400, age_60_74: 600}
"""
