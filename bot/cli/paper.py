"""`wspolnota import`: paper questionnaires typed into a spreadsheet (the export's wide layout), checked by the
engine row by row and recorded as channel `paper`, all or nothing (or the valid rows, with --skip-invalid)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from pathlib import Path
from typing import Any

import click

from bot import service as service_module
from bot.cli import StaffError, chosen_questionnaire, counted, fail, main, run_async, staff_actor, staff_settings
from handlers.definitions.questionnaire import Questionnaire
from handlers.engine.answers import AnswerValue
from handlers.engine.conversation import Conversation
from handlers.engine.messages import Reply, ReplyKind
from handlers.engine.states import Status
from handlers.paper.forms import (
    CHANNEL,
    PaperForm,
    Problem,
    Reading,
    inbound_of,
    missing_required,
    not_asked,
    questionnaire_named,
    read_forms,
    same_answers,
    unanswered,
)
from handlers.paper.sheet import Sheet, UnreadableSheet, read_sheet
from reports.tables import wide_columns
from storage.audit import audit_in
from storage.models import Submission
from storage.repository import Unit


@main.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--questionnaire", "-q", help="Questionnaire id (default: the file's `questionnaire` column, or the default)."
)
@click.option("--skip-invalid", is_flag=True, help="Import the rows without problems; report and leave out the others.")
@click.option("--dry-run", is_flag=True, help="Check every row and say what would be imported; store nothing.")
def import_forms(file: Path, questionnaire: str | None, skip_invalid: bool, dry_run: bool) -> None:
    """Import paper questionnaires from FILE.csv or FILE.xlsx, in the wide layout `export` writes.

    One row per paper form: its own id in `submission` (e.g. P-0001), `language`, `event` (a known slug),
    `started_at`/`finished_at` (else now) and the answers as the export writes them (codes, or labels in
    pl/en/uk; a multiple choice as 0/1 columns `code__option` or one column of codes). Every row is checked
    by the questionnaire's rules and every problem reported at once; nothing is imported while any row is
    wrong, unless --skip-invalid. A form imported before is not imported again.
    """
    settings = staff_settings()
    if not file.is_file():
        fail(StaffError(f"{file}: no such file" if not file.exists() else f"{file}: not a file"))
    try:
        sheet = read_sheet(file.name, file.read_bytes())
    except UnreadableSheet as err:
        fail(StaffError(f"{file}: {err}"))
    except OSError as err:
        fail(StaffError(f"{file}: {err.strerror or err}"))
    if not sheet.rows:
        what = "no rows under its header" if sheet.header else "nothing in it"
        click.echo(f"Warning: {file} has {what}; nothing imported.", err=True)
        return

    async def go() -> Outcome:
        async with service_module.open_service(settings) as service:
            chosen = _questionnaire(service, questionnaire, sheet)
            now = service.conversation.clock()
            columns = wide_columns(chosen, include_contact=True)
            reading = read_forms(sheet, chosen, columns=columns, events=service.config.events, now=now)
            if reading.problems:
                return Outcome(problems=reading.problems)
            return await _import(service, chosen, reading, file, skip_invalid=skip_invalid, dry_run=dry_run, now=now)

    outcome = run_async(go)
    _report(file, outcome, skip_invalid=skip_invalid, dry_run=dry_run)


def _questionnaire(service: service_module.Service, wanted: str | None, sheet: Sheet) -> Questionnaire:
    """The one named with -q; else the one the file's `questionnaire` column names, if just one; else the default."""
    named = questionnaire_named(sheet)
    if wanted is None and len(named) == 1 and (only := next(iter(named))) in service.config.questionnaires:
        wanted = only
    return chosen_questionnaire(service, wanted)


@dataclass
class Outcome:
    """What an import found and did."""

    rows: int = 0
    imported: list[PaperForm] = field(default_factory=list)  # recorded (or, in a dry run, would be)
    already: list[PaperForm] = field(default_factory=list)  # imported before: left as they are
    changed: list[PaperForm] = field(default_factory=list)  # of those, the ones whose row says otherwise now
    problems: list[Problem] = field(default_factory=list)  # the file's, or every refused row's
    refused_rows: int = 0


CHUNK = 100  # forms per transaction: SQLite's write lock is held about a second at a time, never for the file


class _Undo(Exception):
    """Leaves a unit of work without committing it (a check)."""


class _FormClock:
    """The engine's clock during an import: the time the form at hand was filled in."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


async def _import(
    service: service_module.Service,
    questionnaire: Questionnaire,
    reading: Reading,
    file: Path,
    *,
    skip_invalid: bool,
    dry_run: bool,
    now: datetime,
) -> Outcome:
    """Checks every new row through the engine without keeping anything; then, when no row is wrong (or with
    --skip-invalid), records the valid ones."""
    outcome = Outcome(rows=len(reading.forms))
    keys = [(CHANNEL, form.pseudonym, questionnaire.id) for form in reading.forms]
    async with service.store.unit(write=False) as unit:
        found = await unit.latest_submissions(keys)
    fresh = []
    for form in reading.forms:
        before = found.get((CHANNEL, form.pseudonym, questionnaire.id))
        if before is None or form.problems:
            fresh.append(form)
            continue
        outcome.already.append(form)
        if not same_answers(questionnaire, form, _answers_of(before)):
            outcome.changed.append(form)
    refused = await _run(service, questionnaire, fresh, keep=False, now=now)
    outcome.problems = [problem for form in fresh for problem in refused.get(form.row, [])]
    outcome.refused_rows = len(refused)
    if refused and not skip_invalid:
        return outcome
    outcome.imported = [form for form in fresh if form.row not in refused]
    if not dry_run:
        details = {"file": str(file), "questionnaire": questionnaire.id, "rows": outcome.rows}
        details |= {"imported": len(outcome.imported), "already_imported": len(outcome.already)}
        details |= {"skipped_invalid": outcome.refused_rows}
        await _run(service, questionnaire, outcome.imported, keep=True, now=now, audited=details)
    return outcome


async def _run(
    service: service_module.Service,
    questionnaire: Questionnaire,
    forms: list[PaperForm],
    *,
    keep: bool,
    now: datetime,
    audited: dict[str, Any] | None = None,
) -> dict[int, list[Problem]]:
    """Gives the forms to the engine, a chunk per transaction, each at the time it was filled in (its
    questionnaire must have been open then), as channel `paper`; returns the problems by row.

    A check (`keep` false) keeps nothing. A recording keeps every chunk, the audit entry with the last;
    the rows were checked a moment ago, so a problem now means the data changed under the import: the
    chunks before it stay, and running the import again adds the rest.

    Raises:
        StaffError: recording, a row that no longer passes.
    """
    clock = _FormClock(now)
    conversation = Conversation(
        service.store,
        service.config.questionnaires,
        service.config.events,
        service.conversation.presenter,
        default_questionnaire=questionnaire.id,
        clock=clock,
    )
    problems: dict[int, list[Problem]] = {}
    for start in range(0, len(forms), CHUNK):
        chunk = forms[start : start + CHUNK]
        try:
            async with service.store.unit() as unit:
                found = await _check(unit, conversation, clock, questionnaire, chunk, now)
                problems |= found
                if keep and found:
                    row, [problem, *_] = next(iter(found.items()))
                    raise StaffError(
                        f"row {row} no longer passes ({problem.message}): {counted(start, 'form')} imported "
                        "before it; run the import again to add the rest"
                    )
                if not keep:
                    raise _Undo
                if audited is not None and start + CHUNK >= len(forms):
                    audit_in(unit, staff_actor(), "import", audited, now)
        except _Undo:
            pass
    return problems


async def _check(
    unit: Unit,
    conversation: Conversation,
    clock: _FormClock,
    questionnaire: Questionnaire,
    forms: list[PaperForm],
    now: datetime,
) -> dict[int, list[Problem]]:
    """Records forms through the engine and says what is wrong with each (nothing: it is complete), by row."""
    replies: dict[int, list[Reply]] = {}
    # Forms filled in at the same time (none given: the import's) go to the engine together, as a batch.
    for at, same_time in groupby(forms, key=lambda form: form.finished_at or form.started_at or now):
        clock.at = at
        batch = list(same_time)
        answered = await conversation.handle_within(unit, [inbound_of(form, questionnaire) for form in batch])
        replies |= {form.row: said for form, said in zip(batch, answered, strict=True)}
    keys = [(CHANNEL, form.pseudonym, questionnaire.id) for form in forms]
    submissions = await unit.latest_submissions(keys)
    problems = {}
    for form, key in zip(forms, keys, strict=True):
        found = _judge(form, replies[form.row], submissions.get(key), questionnaire)
        if found:
            problems[form.row] = found
    return problems


def _judge(
    form: PaperForm, replies: list[Reply], submission: Submission | None, questionnaire: Questionnaire
) -> list[Problem]:
    """What is wrong with a form the engine has just recorded (nothing: it is complete); sets what the engine
    leaves to a written contribution's channel: its event and stand, and when it was started."""
    problems = list(form.problems)
    explained = {problem.column for problem in problems}
    if any(reply.kind is ReplyKind.CLOSED for reply in replies):
        when = form.finished_at or form.started_at
        said = f"was not open on {when.isoformat(' ', 'minutes')}" if when else "is not open now"
        column = "finished_at" if form.finished_at else "started_at" if form.started_at else None
        return [*problems, Problem(form.row, column, f"questionnaire {questionnaire.id} {said}")]
    given = dict(form.answers)
    for reply in replies:
        question = questionnaire.question(reply.question or "") if reply.kind is ReplyKind.PROBLEM else None
        if question is None or question.code in explained:
            continue
        message = not_asked(question) if question.code in given else unanswered(question)
        problems.append(Problem(form.row, question.code, message))
        explained.add(question.code)
    if submission is None or submission.status != Status.COMPLETED:
        if not problems:
            problems.append(Problem(form.row, None, "is not a complete questionnaire"))
        return problems
    for question in missing_required(questionnaire, _answers_of(submission)):
        if question.code not in explained:
            problems.append(Problem(form.row, question.code, unanswered(question)))
    submission.event, submission.event_known = form.event, form.event is not None
    submission.stand = form.stand
    if form.started_at is not None:
        submission.started_at = form.started_at
    return problems


def _answers_of(submission: Submission) -> dict[str, AnswerValue]:
    return {
        code: AnswerValue(options=a.options, text=a.text, number=a.number, skipped=a.skipped)
        for code, a in submission.answers.items()
    }


def _report(file: Path, outcome: Outcome, *, skip_invalid: bool, dry_run: bool) -> None:
    """Every problem, then one line on what was (or would be) imported; exit 1 when the file was refused."""
    if outcome.problems:
        rows = outcome.refused_rows
        where = f"{counted(rows, 'row')}" if rows else "its columns"
        click.echo(f"{file}: {counted(len(outcome.problems), 'problem')} in {where}:", err=True)
        for problem in outcome.problems:
            click.echo(f"  {problem}", err=True)
    for form in outcome.changed:
        click.echo(
            f"Note: row {form.row}: {form.paper_id} was imported before with other answers; those are kept.",
            err=True,
        )
    refused = bool(outcome.problems) and (not skip_invalid or not outcome.refused_rows)
    if refused:
        advice = " (or import the others with --skip-invalid)" if outcome.refused_rows else ""
        fail(StaffError(f"nothing imported from {file}: fix the problems above{advice}"))
    forms = counted(len(outcome.imported), "paper form")
    notes = []
    if outcome.refused_rows:
        notes.append(f"{counted(outcome.refused_rows, 'row')} with problems left out")
    if outcome.already:
        notes.append(f"{counted(len(outcome.already), 'form')} imported before, left as they were")
    said = f" ({'; '.join(notes)})" if notes else ""
    if dry_run:
        click.echo(f"Dry run: {forms} from {file} would be imported{said}; nothing was stored.")
    elif not outcome.imported and outcome.already:
        click.echo(f"Nothing new in {file}: {counted(len(outcome.already), 'paper form')} imported before.")
    else:
        click.echo(f"Imported {forms} from {file}{said}.")
