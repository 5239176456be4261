"""Quotes for a public report: `quotes review` writes the candidates for staff to mark, `quotes approve`
records the marks; `report --public` quotes only what was approved."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click

from bot import service as service_module
from bot.cli import (
    StaffError,
    chosen_questionnaire,
    counted,
    fail,
    main,
    run_async,
    staff_actor,
    staff_settings,
    writable,
)
from reports.quote_review import ApproveResult, ReviewProblems, ReviewRow


@main.group()
def quotes() -> None:
    """Approve quotes before a public report shows them: review (write the candidates), approve (read them back)."""


@quotes.command()
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The CSV file to write (UTF-8): submission, question, the masked text, approved.",
)
@click.option("--questionnaire", "-q", help="Only this questionnaire (default: the configured default).")
def review(out: Path, questionnaire: str | None) -> None:
    """Write every quote a public report could use — open answers whose authors allowed quoting, masked —
    for staff to mark `approved` yes or no (and edit a text if needed); quotes decided before keep their mark."""
    settings = staff_settings()
    writable(out)

    async def go() -> tuple[str, list[ReviewRow]]:
        from reports.quote_review import review_rows, write_review
        from storage.audit import audit

        async with service_module.open_service(settings) as service:
            chosen = chosen_questionnaire(service, questionnaire)
            rows = await review_rows(service.store, chosen)
            if rows:
                with out.open("w", encoding="utf-8-sig", newline="") as stream:
                    write_review(rows, stream)
                details = {"questionnaire": chosen.id, "file": str(out), "quotes": len(rows)}
                await audit(service.store, staff_actor(), "quotes-review", details, service.conversation.clock())
        return chosen.id, rows

    questionnaire_id, rows = run_async(go)
    if not rows:
        click.echo(
            f"Warning: no quotes to review in '{questionnaire_id}' (no open answer from a resident who allowed "
            f"quoting); {out} was not written.",
            err=True,
        )
        return
    decided = sum(1 for row in rows if row.approved)
    click.echo(
        f"Wrote {counted(len(rows), 'quote')} to {out} ({decided} decided before, {len(rows) - decided} to decide). "
        f"Mark `approved` yes or no, edit a text if it still shows someone, then run "
        f"`wspolnota quotes approve {out}`."
    )


@quotes.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--questionnaire", "-q", help="The questionnaire the file is about (default: the configured default).")
def approve(file: Path, questionnaire: str | None) -> None:
    """Record the marks in a file `quotes review` wrote: yes/tak/1/x approves, no/nie/0 rejects, empty leaves
    a quote undecided; an edited text is what is published. A file with a bad row records nothing."""
    from reports.quote_review import decode_review, read_review

    settings = staff_settings()
    if not file.is_file():
        fail(StaffError(f"cannot read {file}: no such file"))
    try:
        review_file = read_review(decode_review(file.read_bytes(), str(file)), str(file))
    except ReviewProblems as problems:
        _refuse(problems)
    except OSError as err:
        fail(StaffError(f"cannot read {file}: {err.strerror or err}"))

    async def go() -> ApproveResult:
        from reports.quote_review import approve_review

        async with service_module.open_service(settings) as service:
            chosen = chosen_questionnaire(service, questionnaire)
            now = service.conversation.clock()
            return await approve_review(service.store, chosen, review_file, actor=staff_actor(), now=now)

    try:
        result = run_async(go)
    except ReviewProblems as problems:
        _refuse(problems)
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    edited = f" ({result.edited} with an edited text)" if result.edited else ""
    click.echo(
        f"Recorded {file}: {result.approved} approved{edited}, {result.rejected} rejected, "
        f"{result.undecided} undecided; {counted(result.changed, 'decision')} new or changed."
    )


def _refuse(problems: ReviewProblems) -> NoReturn:
    click.echo(f"Error: {problems.source}: {counted(len(problems.problems), 'problem')}, nothing recorded:", err=True)
    for problem in problems.problems:
        click.echo(f"  {problem}", err=True)
    sys.exit(1)
