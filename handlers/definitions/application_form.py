"""The application to the working groups as a questionnaire, built from the call (`config/recruitment.yaml`).

Staff edit one file: the groups, sectors, dates and the applicants' notice come from the call; the
questions' wording is the engine's own (`application_*` keys in `config/messages.yaml`), so the form's
fields stay the ones an application stores (`storage.applications.ApplicationFields`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from zoneinfo import ZoneInfo

from babel.dates import format_date

from handlers.definitions.events import Event
from handlers.definitions.i18n import LANGUAGES, Catalog, Language, Text
from handlers.definitions.privacy import LegalBasis, Privacy
from handlers.definitions.questionnaire import Option, Question, Questionnaire, QuestionnaireKind, QuestionType
from handlers.definitions.recruitment import DESCRIPTION_LIMIT, Recruitment

WARSAW = ZoneInfo("Europe/Warsaw")
APPLICATION_ID = "grupy-robocze"  # stored with every submission of the form; never a questionnaire file's id
NAME_LIMIT = 200
ORGANISATION_LIMIT = 300

# The form's questions, by the fields of an application they fill.
NAME, EMAIL, ORGANISATION, SECTOR, GROUPS, DESCRIPTION, AVAILABLE = (
    "name",
    "email",
    "organisation",
    "sector",
    "groups",
    "description",
    "available",
)

# The catalog keys the form is worded with, and the placeholders each takes.
MESSAGES: dict[str, set[str]] = {
    "application_title": set(),
    "application_lead": set(),
    "application_intro": set(),
    "application_thanks": {"decision_date"},
    "application_q_name": set(),
    "application_q_email": set(),
    "application_h_email": set(),
    "application_q_organisation": set(),
    "application_h_organisation": set(),
    "application_q_sector": set(),
    "application_q_groups": set(),
    "application_q_description": set(),
    "application_h_description": {"limit"},
    "application_q_available": set(),
    "application_h_available": {"hours", "dates"},
    "application_all_groups": set(),
    "application_optional_date": set(),
}


def _text(make: Callable[[Language], str]) -> Text:
    return Text(**{language: make(language) for language in LANGUAGES})


def _day(event: Event) -> str:
    return f"{event.starts.astimezone(WARSAW):%d.%m}"


def _hours(event: Event) -> str:
    return f"{event.starts.astimezone(WARSAW):%H:%M}–{event.ends.astimezone(WARSAW):%H:%M}"


def meeting_dates(recruitment: Recruitment, events: Mapping[str, Event], catalog: Catalog, language: Language) -> str:
    """Each group's meeting days, one line a group (and the closing meeting), an optional one marked *."""
    known = [events[slug] for group in recruitment.groups for slug in group.meetings if slug in events]
    hours = {_hours(event) for event in known}
    same_hours = len(hours) == 1

    def days(slugs: tuple[str, ...] | list[str]) -> str:
        shown = []
        for slug in slugs:
            event = events.get(slug)
            if event is not None:
                mark = "*" if event.optional else ""
                shown.append(_day(event) + mark + ("" if same_hours else f" {_hours(event)}"))
        return ", ".join(shown)

    lines = [f"• {group.name(language)}: {days(group.meetings)}" for group in recruitment.groups]
    if recruitment.closing_meeting and recruitment.closing_meeting in events:
        lines.append(f"• {catalog('application_all_groups', language)}: {days([recruitment.closing_meeting])}")
    if any(event.optional for event in known):
        lines.append(f"* {catalog('application_optional_date', language)}")
    return "\n".join(lines)


def long_day(day: date, language: Language) -> str:
    """A day written out in a language: "8 października 2027", "8 October 2027", "8 жовтня 2027"."""
    return format_date(day, format="d MMMM y", locale=language)


def application_questionnaire(recruitment: Recruitment, catalog: Catalog, events: Mapping[str, Event]) -> Questionnaire:
    """The application form: name, a verified email, organisation, sector, groups, experience, availability."""

    def words(key: str, **values: object) -> Text:
        return _text(lambda language: catalog(key, language, **values))

    known = [events[slug] for group in recruitment.groups for slug in group.meetings if slug in events]
    hours = sorted({_hours(event) for event in known})
    notice = recruitment.privacy

    def available_hint(language: Language) -> str:
        dates = meeting_dates(recruitment, events, catalog, language)
        return catalog("application_h_available", language, hours=", ".join(hours) or "17:00–20:00", dates=dates)

    sectors = tuple(Option(code=sector.code, label=sector.label) for sector in recruitment.sectors)
    groups = tuple(Option(code=group.code, label=group.name) for group in recruitment.groups)
    text, choice, choices = QuestionType.TEXT, QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE
    questions = (
        Question(code=NAME, type=text, label=words("application_q_name"), required=True, max_length=NAME_LIMIT),
        Question(
            code=EMAIL,
            type=QuestionType.EMAIL,
            label=words("application_q_email"),
            hint=words("application_h_email"),
            required=True,
            verified=True,
        ),
        Question(
            code=ORGANISATION,
            type=text,
            label=words("application_q_organisation"),
            hint=words("application_h_organisation"),
            max_length=ORGANISATION_LIMIT,
        ),
        Question(code=SECTOR, type=choice, label=words("application_q_sector"), required=True, options=sectors),
        Question(code=GROUPS, type=choices, label=words("application_q_groups"), required=True, options=groups),
        Question(
            code=DESCRIPTION,
            type=text,
            label=words("application_q_description"),
            hint=words("application_h_description", limit=DESCRIPTION_LIMIT),
            required=True,
            max_length=DESCRIPTION_LIMIT,
        ),
        Question(
            code=AVAILABLE,
            type=QuestionType.YES_NO,
            label=words("application_q_available"),
            hint=_text(available_hint),
            required=True,
        ),
    )
    return Questionnaire(
        id=APPLICATION_ID,
        version=recruitment.form_version,
        kind=QuestionnaireKind.APPLICATION,
        title=words("application_title"),
        intro=words("application_intro"),
        thanks=_text(
            lambda language: catalog(
                "application_thanks", language, decision_date=long_day(recruitment.decision_date, language)
            )
        ),
        opens=recruitment.opens,
        closes=recruitment.deadline,
        privacy=Privacy(
            version=notice.version,
            basis=LegalBasis.CONSENT,
            lead=notice.lead or words("application_lead"),
            short=notice.short or notice.text,
            full=notice.text,
        ),
        questions=questions,
        email_opinion=DESCRIPTION,
    )
