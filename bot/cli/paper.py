"""`wspolnota import`: paper questionnaires typed into a spreadsheet (the export's wide layout), checked by the
engine row by row and recorded as channel `paper`, all or nothing (or the valid rows, with --skip-invalid)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import click

from bot import service as service_module
from bot.cli import StaffError, chosen_questionnaire, counted, fail, main, run_async, staff_actor, staff_settings
from handlers.definitions.questionnaire import Questionnaire
from handlers.engine.answers import AnswerValue
from handlers.engine.conversation import Conversation
from handlers.engine.messages import ReplyKind
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


class _Undo(Exception):
    """Leaves a unit of work without committing it (a check, or a refused file)."""


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
    """Runs every new row through the engine in one transaction; keeps it only when nothing is wrong. With
    --skip-invalid, a second transaction records the rows that passed."""
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
    refused = await _record(service, questionnaire, fresh, keep=not dry_run, file=file, outcome=outcome, now=now)
    outcome.problems = [problem for form in fresh for problem in refused.get(form.row, [])]
    outcome.refused_rows = len({form.row for form in fresh if form.row in refused})
    valid = [form for form in fresh if form.row not in refused]
    if refused and skip_invalid and valid and not dry_run:
        again = await _record(service, questionnaire, valid, keep=True, file=file, outcome=outcome, now=now)
        if again:  # the engine judged these rows valid a moment ago: the database changed under the import
            raise StaffError("the rows' checks changed between two passes; run the import again")
    if not refused or skip_invalid:
        outcome.imported = valid
    return outcome


async def _record(
    service: service_module.Service,
    questionnaire: Questionnaire,
    forms: list[PaperForm],
    *,
    keep: bool,
    file: Path,
    outcome: Outcome,
    now: datetime,
) -> dict[int, list[Problem]]:
    """Gives each form to the engine at the time it was filled in (its questionnaire must have been open then),
    as channel `paper`; returns the problems by row. Commits only when `keep` and no row has a problem."""
    if not forms:
        return {}
    moment = [now]
    conversation = Conversation(
        service.store,
        service.config.questionnaires,
        service.config.events,
        service.conversation.presenter,
        default_questionnaire=questionnaire.id,
        clock=lambda: moment[0],
    )
    problems: dict[int, list[Problem]] = defaultdict(list)
    try:
        async with service.store.unit() as unit:
            for form in forms:
                moment[0] = form.finished_at or form.started_at or now
                found = await _check(unit, conversation, questionnaire, form)
                if found:
                    problems[form.row] = found
            if problems or not keep:
                raise _Undo
            details = {"file": str(file), "questionnaire": questionnaire.id, "rows": outcome.rows}
            details |= {"imported": len(forms), "already_imported": len(outcome.already)}
            details |= {"skipped_invalid": outcome.rows - len(forms) - len(outcome.already)}
            audit_in(unit, staff_actor(), "import", details, now)
    except _Undo:
        pass
    return dict(problems)


async def _check(
    unit: Unit, conversation: Conversation, questionnaire: Questionnaire, form: PaperForm
) -> list[Problem]:
    """Records one form through the engine and says what is wrong with it (nothing: it is complete)."""
    problems = list(form.problems)
    explained = {problem.column for problem in problems}
    [replies] = await conversation.handle_within(unit, [inbound_of(form, questionnaire)])
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
    key = (CHANNEL, form.pseudonym, questionnaire.id)
    submission = (await unit.latest_submissions([key])).get(key)
    if submission is None or submission.status != Status.COMPLETED:
        if not problems:
            problems.append(Problem(form.row, None, "is not a complete questionnaire"))
        return problems
    for question in missing_required(questionnaire, _answers_of(submission)):
        if question.code not in explained:
            problems.append(Problem(form.row, question.code, unanswered(question)))
    # What the engine keeps of a written contribution's own (it starts when it is received), as the form says.
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
