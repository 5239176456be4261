"""`wspolnota themes`: the themes of the open answers, as the report uses them."""

from __future__ import annotations

import json
from collections import Counter
from typing import NamedTuple

import click

from bot import service as service_module
from bot.cli import (
    StaffError,
    chosen_questionnaire,
    counted,
    filter_options,
    main,
    run_async,
    staff_settings,
    warsaw_day,
)
from bot.settings import Settings
from handlers.definitions.config_files import ConfigError, Problem
from handlers.definitions.i18n import Language
from handlers.definitions.questionnaire import QuestionType, load_questionnaires
from handlers.definitions.themes import THEMES_FILE, load_coding_frame
from reports.export import export_records
from reports.themes import Lexicon, Theme, gather_themes, methods_note
from storage.exports import SubmissionFilter


class _Found(NamedTuple):
    question: str
    text: str
    answers: int
    by_language: dict[Language, int]  # the answers with words, by the language they were read in
    themes: list[Theme]


@main.command()
@filter_options
@click.option("--question", help="Only this open question (its code).")
@click.option("--top", type=click.IntRange(1, 100), default=10, show_default=True, help="Themes per question.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Text for reading; JSON: a list of {question, label, keywords, count, quotes}.",
)
def themes(
    questionnaire: str | None,
    event: str | None,
    channel: str | None,
    since: str | None,
    until: str | None,
    completed_only: bool,
    exclude_flagged: bool,
    question: str | None,
    top: int,
    fmt: str,
) -> None:
    """Print the themes of each open question: the coding frame's (config/themes.yaml) first, then the
    words and phrases most distinctive of the answers, each with its keywords, answers and quotes."""
    settings = staff_settings()

    async def go() -> list[_Found]:
        async with service_module.open_service(settings) as service:
            chosen = chosen_questionnaire(service, questionnaire)
            open_questions = [q.code for q in chosen.questions if q.type is QuestionType.TEXT]
            if question is not None and question not in open_questions:
                known = ", ".join(open_questions) or "none"
                raise StaffError(f"--question: no open question '{question}' in {chosen.id} (open questions: {known})")
            frame = load_coding_frame(settings.config_dir / THEMES_FILE, service.config.questionnaires)
            filters = SubmissionFilter(
                chosen.id, completed_only, event, channel, warsaw_day(since), warsaw_day(until), exclude_flagged
            )
            records = export_records(service.store, {chosen.id: chosen}, filters)
            found = await gather_themes(records, chosen, Lexicon(frame))
        return [
            _Found(
                code,
                counter.question.label("pl") if counter.question else code,
                counter.answers,
                dict(counter.by_language),
                counter.themes(top=top),
            )
            for code, counter in found.counters.items()
            if question is None or code == question
        ]

    rows = run_async(go)
    if fmt == "json":
        listed = [
            {
                "question": row.question,
                "label": theme.label,
                "keywords": list(theme.keywords),
                "count": theme.answers,
                "quotes": list(theme.quotes),
                "kind": theme.kind,
                "language": theme.language,
            }
            for row in rows
            for theme in row.themes
        ]
        click.echo(json.dumps(listed, ensure_ascii=False, indent=2))
        return
    if not any(row.answers for row in rows):
        click.echo("Warning: no open answers match these filters.", err=True)
    totals: Counter[Language] = Counter()
    for row in rows:
        totals.update(row.by_language)
        languages = ", ".join(f"{code} {n}" for code, n in sorted(row.by_language.items(), key=lambda item: -item[1]))
        click.echo(
            f"{row.question} — {row.text} ({counted(row.answers, 'answer')}{': ' if languages else ''}{languages})"
        )
        read = sum(row.by_language.values())
        for n, theme in enumerate(row.themes, start=1):
            kind = "coding frame" if theme.kind == "frame" else f"automatic, {theme.language}"
            share = f" ({theme.answers / read:.0%})" if read else ""
            click.echo(f"  {n}. {theme.label} [{kind}] — {counted(theme.answers, 'answer')}{share}")
            click.echo(f"     keywords: {', '.join(theme.keywords)}")
            for quote in theme.quotes:
                click.echo(f"     „{quote}”")
        click.echo()
    click.echo(methods_note(settings.staff_language, totals))


def checked_frame(settings: Settings) -> tuple[str | None, list[Problem]]:
    """What `wspolnota check` says of the coding frame: its OK line, or its problems (file, key, reason)."""
    path = settings.config_dir / THEMES_FILE
    try:
        questionnaires = load_questionnaires(settings.questionnaires_dir)
    except ConfigError:
        questionnaires = None  # their own problems are reported; the frame is checked on its own
    try:
        frame = load_coding_frame(path, questionnaires)
    except ConfigError as err:
        return None, err.problems
    if not path.exists():
        return f"OK themes: automatic only (no {path})", []
    return f"OK themes: {len(frame.themes)} named in {path}", []
