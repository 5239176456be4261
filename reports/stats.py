"""Live counts for staff: the same figures for `/stats` in Telegram and the terminal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from handlers.definitions.population import Population
from handlers.definitions.questionnaire import Question, Questionnaire
from handlers.definitions.recruitment import Recruitment
from reports.applications import collect_application_figures, describe_application_summary
from reports.representation import Representation, Weights, representation
from storage.counts import count_submissions
from storage.repository import Store

WARSAW = ZoneInfo("Europe/Warsaw")

StaffLanguage = Literal["pl", "en"]  # staff's figures are in Polish, or English for a visiting analyst

# Staff's words, in their language (WSPOLNOTA_STAFF_LANGUAGE).
TEXTS: dict[StaffLanguage, dict[str, str]] = {
    "pl": {
        "completed": "Ukończone: {total} (dziś {today})",
        "started": "Rozpoczęte: {started}, ukończono {rate}",
        "by_channel": "Według kanału: {counts}",
        "by_event": "Według wydarzenia:",
        "per_question": "Odpowiedzi na pytania:",
        "who": "Kto odpowiedział, a kto tu mieszka ({source}, stan na {date})",
        "off": "Porównanie z mieszkańcami: wyłączone (brak pliku population.yaml)",
        "empty": "Porównanie z mieszkańcami: population.yaml nie ma liczb mieszkańców dla pytań tej ankiety",
        "margin": "{name} — ankiet z odpowiedzią: {base}",
        "left_out": "pominięte: spoza Warszawy {outside}, bez odpowiedzi lub „wolę nie podawać” {not_given}",
        "nobody": "{name}: nikt jeszcze nie odpowiedział; porównanie pojawi się z pierwszymi ankietami",
        "row": "  {label}: {respondents} ({share}) · mieszkańcy {resident_share} · oczekiwane {expected} ({gap})",
        "dissimilarity": "  Wskaźnik niepodobieństwa: {index} (0 = jak mieszkańcy, 1 = zupełnie inaczej)",
        "missing": "Najbardziej brakuje teraz:",
        "missing_row": "  {label}: {respondents} z oczekiwanych {expected}",
        "missing_none": "Najbardziej brakuje teraz: nikogo (żadna grupa nie odstaje o całą osobę)",
        "district": "Dzielnice",
        "age_band": "Wiek",
        "weights": "Wagi do: {margins} — zważonych ankiet: {weighted} (średnia waga 1); bez wagi: {left_out} "
        "(spoza Warszawy albo bez żadnej z tych odpowiedzi)",
        "deff": "Efekt schematu (Kish): {deff}, efektywna liczebność {n_eff}; wagi od {low} do {high}",
        "capped": "Przycięte do granic [{floor}; {cap}] × średnia — ankiet: {capped}; udziały odbiegają od mieszkańców "
        "najwyżej o {error} p.p.",
        "fit": "Udziały ważone zgadzają się z mieszkańcami (największa różnica {error} p.p.)",
        "empty_groups": "Nikt nie odpowiedział z: {groups}; ich mieszkańców reprezentują pozostali",
        "not_converged": "Uwaga: wagi nie ustaliły się po {iterations} rundach; to najlepsze znalezione",
    },
    "en": {
        "completed": "Completed: {total} (today {today})",
        "started": "Started: {started}, completion rate {rate}",
        "by_channel": "By channel: {counts}",
        "by_event": "By event:",
        "per_question": "Answers per question:",
        "who": "Who answered against who lives here ({source}, as of {date})",
        "off": "Comparison with residents: off (no population.yaml)",
        "empty": "Comparison with residents: population.yaml has no figures for this questionnaire's questions",
        "margin": "{name} — submissions with an answer: {base}",
        "left_out": "left out: outside Warsaw {outside}, no answer or 'prefer not to say' {not_given}",
        "nobody": "{name}: nobody has answered yet; the comparison comes with the first submissions",
        "row": "  {label}: {respondents} ({share}) · residents {resident_share} · expected {expected} ({gap})",
        "dissimilarity": "  Dissimilarity index: {index} (0 = like the residents, 1 = wholly apart)",
        "missing": "Most missing now:",
        "missing_row": "  {label}: {respondents} of an expected {expected}",
        "missing_none": "Most missing now: nobody (no group is a whole person short)",
        "district": "Districts",
        "age_band": "Age",
        "weights": "Weights to: {margins} — submissions weighted: {weighted} (mean weight 1); without a weight: "
        "{left_out} (outside Warsaw, or none of these answers)",
        "deff": "Design effect (Kish): {deff}, effective sample size {n_eff}; weights from {low} to {high}",
        "capped": "Trimmed to [{floor}; {cap}] × the mean — submissions: {capped}; shares differ from the residents' "
        "by at most {error} percentage points",
        "fit": "Weighted shares match the residents' (largest difference {error} percentage points)",
        "empty_groups": "Nobody answered from: {groups}; the others stand for their residents",
        "not_converged": "Warning: the weights did not settle after {iterations} rounds; these are the best found",
    },
}


@dataclass(frozen=True, slots=True)
class Stats:
    """How many answers came in, and from where."""

    completed_total: int
    completed_today: int
    started: int  # accepted the privacy notice (active or completed)
    by_event: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)
    per_question: dict[str, int] = field(default_factory=dict)  # answers given (not skipped)

    @property
    def completion_rate(self) -> float:
        return self.completed_total / self.started if self.started else 0.0


async def collect_stats(
    store: Store, now: datetime, questionnaire_id: str | None = None, *, per_question: bool = True
) -> Stats:
    """Counts submissions and answers (completed ones, unless said otherwise); without `per_question`, no
    answers are counted (Stats.per_question is empty)."""
    midnight = now.astimezone(WARSAW).replace(hour=0, minute=0, second=0, microsecond=0)
    since = midnight.astimezone(now.tzinfo) if now.tzinfo else midnight
    counts = await count_submissions(store, since=since, questionnaire_id=questionnaire_id, per_question=per_question)
    by_event = {(event or "—"): n for event, n in counts.by_event.items()}
    return Stats(
        counts.completed, counts.completed_since, counts.started, by_event, counts.by_channel, counts.per_question
    )


def describe_stats(stats: Stats, question_order: list[str], language: StaffLanguage = "pl") -> str:
    """Shows the counts as plain text in staff's language."""
    text = TEXTS[language]
    channels = ", ".join(f"{k} {v}" for k, v in sorted(stats.by_channel.items())) or "—"
    lines = [
        text["completed"].format(total=stats.completed_total, today=stats.completed_today),
        text["started"].format(started=stats.started, rate=percent(stats.completion_rate, language, 0)),
        "",
        text["by_channel"].format(counts=channels),
        text["by_event"],
        *[f"  {k}: {v}" for k, v in sorted(stats.by_event.items(), key=lambda kv: -kv[1])],
        "",
        text["per_question"],
        *[f"  {code}: {stats.per_question.get(code, 0)}" for code in question_order],
    ]
    return "\n".join(lines)


def percent(share: float, language: StaffLanguage, digits: int = 1) -> str:
    """A share as a percentage, with a decimal comma in Polish: 0.093 → "9,3%"."""
    shown = f"{share * 100:.{digits}f}%"
    return shown.replace(".", ",") if language == "pl" else shown


def describe_representation(
    compared: Representation | None, questionnaire: Questionnaire, language: StaffLanguage = "pl"
) -> str:
    """Who answered against who lives here, for field teams: per district (and age band when staff filled it
    in) respondents and their share beside the residents' share and the count expected at it, the
    dissimilarity index, and the three groups most missing now ("Rembertów: 0 z oczekiwanych 13")."""
    text = TEXTS[language]
    if compared is None:
        return text["off"]
    if not compared.margins:
        return text["empty"]
    lines = [text["who"].format(source=compared.source.split(":")[0], date=compared.date)]
    for margin in compared.margins:
        question = questionnaire.question(margin.question)
        name = text.get(margin.name, margin.name)
        if not margin.base:
            lines.append(text["nobody"].format(name=name))
            continue
        lines.append(
            text["margin"].format(name=name, base=margin.base)
            + f" ({text['left_out'].format(outside=margin.outside, not_given=margin.not_given)})"
        )
        for c in margin.categories:
            lines.append(
                text["row"].format(
                    label=_label(question, c.code, language),
                    respondents=c.respondents,
                    share=percent(c.respondent_share, language),
                    resident_share=percent(c.resident_share, language),
                    expected=round(c.expected),
                    gap=f"{round(c.gap):+d}".replace("-", "−"),
                )
            )
        index = margin.dissimilarity or 0.0
        lines.append(text["dissimilarity"].format(index=f"{index:.2f}".replace(".", "," if language == "pl" else ".")))
    if any(margin.base for margin in compared.margins):
        most = compared.most_missing()
        lines.append(text["missing"] if most else text["missing_none"])
        for margin, c in most:
            question = questionnaire.question(margin.question)
            label = _label(question, c.code, language)
            lines.append(text["missing_row"].format(label=label, respondents=c.respondents, expected=round(c.expected)))
    return "\n".join(lines)


def _label(question: Question | None, code: str, language: StaffLanguage) -> str:
    option = question.option(code) if question is not None else None
    return option.label(language) if option is not None else code


async def describe_staff_stats(
    store: Store,
    questionnaire: Questionnaire,
    now: datetime,
    *,
    population: Population | None = None,
    language: StaffLanguage = "pl",
) -> str:
    """Live counts of one questionnaire and who answered against who lives here, in staff's language: what
    `wspolnota stats` and Telegram's /stats show."""
    figures = await collect_stats(store, now, questionnaire.id)
    counts = describe_stats(figures, [q.code for q in questionnaire.questions], language)
    compared = None
    if population is not None:
        compared = await representation(store, questionnaire.id, population.asked_in(questionnaire))
    return counts + "\n\n" + describe_representation(compared, questionnaire, language)


async def describe_applications(store: Store, call: Recruitment | None, language: StaffLanguage = "pl") -> str | None:
    """The working groups' applications in a few lines for /stats and `wspolnota stats`; None when off."""
    if call is None:
        return None
    figures = await collect_application_figures(store, call)
    return describe_application_summary(figures, language)


def describe_weights(weights: Weights, questionnaire: Questionnaire, language: StaffLanguage = "pl") -> str:
    """A short summary of raking weights for staff: how many, the design effect, the smallest and largest
    weight, what trimming cost, and the groups nobody answered from."""
    text = TEXTS[language]

    def number(value: float, digits: int = 2) -> str:
        shown = f"{value:.{digits}f}"
        return shown.replace(".", ",") if language == "pl" else shown

    names = ", ".join(text.get(name, name) for name in weights.margins)
    lines = [
        text["weights"].format(weighted=len(weights.weights), margins=names, left_out=len(weights.left_out)),
        text["deff"].format(
            deff=number(weights.design_effect),
            n_eff=round(weights.effective_n),
            low=number(weights.smallest),
            high=number(weights.largest),
        ),
    ]
    error = number(weights.max_error * 100, 1)
    if weights.capped:
        lines.append(
            text["capped"].format(
                floor=number(1 / weights.cap), cap=number(weights.cap, 1), capped=weights.capped, error=error
            )
        )
    else:
        lines.append(text["fit"].format(error=error))
    if weights.empty:
        labels = [_label(questionnaire.question(question), code, language) for question, code in weights.empty]
        lines.append(text["empty_groups"].format(groups=", ".join(labels)))
    if not weights.converged:
        lines.append(text["not_converged"].format(iterations=weights.iterations))
    return "\n".join(lines)
