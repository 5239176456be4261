"""Commands over the data collected: export, report, stats, forget, purge."""

from __future__ import annotations

import asyncio
import sys
import traceback
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from bot import service as service_module
from bot.cli import (
    Row,
    StaffError,
    chosen_questionnaire,
    counted,
    fail,
    filter_options,
    main,
    run_async,
    staff_actor,
    staff_settings,
    text_stdout,
    warsaw_day,
    writable,
)
from bot.erasure import normalised, person_to_erase
from handlers.definitions.i18n import LANGUAGES, as_language
from handlers.definitions.questionnaire import Questionnaire
from handlers.engine.presenter import WARSAW
from reports.export import write_jsonl
from storage.exports import SubmissionFilter


@main.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "pdf"]),
    default="html",
    show_default=True,
    help="html: one self-contained page; pdf: that page printed by headless Chromium (WSPOLNOTA_CHROMIUM).",
)
@click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write (default: report.html or report.pdf).",
)
@click.option("--public", is_flag=True, help="For publication: quotes only from those staff approved.")
@filter_options
@click.option(
    "--min-cell",
    type=click.IntRange(1),
    default=5,
    show_default=True,
    help="Breakdown cells and groups smaller than this are hidden, with complements (anonymity).",
)
def report(
    fmt: str,
    out: Path | None,
    public: bool,
    questionnaire: str | None,
    event: str | None,
    channel: str | None,
    since: str | None,
    until: str | None,
    completed_only: bool,
    exclude_flagged: bool,
    min_cell: int,
) -> None:
    """Write the consultation report: a self-contained HTML page or a PDF, with stated bases, charts and
    their tables, protected breakdowns, themes, quotes and the district map."""
    from reports.report_build import ReportRequest, build_report
    from reports.report_pdf import PdfUnavailable, find_chromium, print_pdf

    settings = staff_settings()
    out = out or Path(f"report.{fmt}")
    writable(out)
    browser = None
    if fmt == "pdf":
        try:
            browser = find_chromium(settings.chromium)
        except PdfUnavailable as err:
            fail(StaffError(str(err)))

    async def go() -> tuple[int, list[str]]:
        from storage.audit import audit

        async with service_module.open_service(settings) as service:
            chosen = chosen_questionnaire(service, questionnaire)
            filters = SubmissionFilter(
                chosen.id, completed_only, event, channel, warsaw_day(since), warsaw_day(until), exclude_flagged
            )
            request = ReportRequest(filters, min_cell, public, service.config.population)
            now = service.conversation.clock()
            built = await build_report(service.store, chosen, service.config.events, request, now)
            total = built.tally.total
            if total == 0:
                return total, built.warnings
            if browser is not None:
                try:
                    await asyncio.to_thread(print_pdf, built.html, out, browser)
                except PdfUnavailable as err:
                    raise StaffError(str(err)) from None
            else:
                await asyncio.to_thread(out.write_text, built.html, encoding="utf-8")
            # Recorded once written (a report holds quotes meant for publication); never its contents.
            details = {"format": fmt, "public": public, "filters": repr(filters), "submissions": total, "out": str(out)}
            await audit(service.store, staff_actor(), "report", details, now)
        return total, built.warnings

    total, warnings = run_async(go)
    for warning in warnings:
        click.echo(f"Warning: {warning}", err=True)
    if total == 0:
        click.echo("Warning: no submissions match these filters; no report written.", err=True)
        return
    click.echo(f"Wrote {out} ({counted(total, 'submission')}).")


@main.command()
@click.option("--questionnaire", "-q", help="Questionnaire id (default: the configured default).")
def stats(questionnaire: str | None) -> None:
    """Show live counts: submissions today and in total, by event and channel, per question; who answered
    against who lives here (per district, and age band when filled in) and the groups most missing now (and
    applications). In WSPOLNOTA_STAFF_LANGUAGE (Polish by default)."""
    settings = staff_settings()

    async def go() -> str:
        from reports.stats import describe_applications, describe_staff_stats

        async with service_module.open_service(settings) as service:
            chosen = chosen_questionnaire(service, questionnaire)
            text = await describe_staff_stats(
                service.store,
                chosen,
                service.conversation.clock(),
                population=service.config.population,
                language=settings.staff_language,
            )
            applications = await describe_applications(
                service.store, service.config.recruitment, settings.staff_language
            )
        return text if applications is None else f"{text}\n\n{applications}"

    click.echo(run_async(go))


@main.command()
@click.option("--telegram", "telegram_id", help="The person's Telegram user id.")
@click.option("--email", "email_address", help="The person's email address.")
@click.option("--paper", "paper_id", help="A paper form's id as imported (e.g. P-0001).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def forget(telegram_id: str | None, email_address: str | None, paper_id: str | None, yes: bool) -> None:
    """Erase everything about one person: answers, contact data, emails with their raw source, replies,
    working-group applications (theirs, and any giving their email address); or one paper form (its id)."""
    given = [
        (channel, value)
        for channel, value in (("telegram", telegram_id), ("email", email_address), ("paper", paper_id))
        if value is not None
    ]
    if len(given) != 1:
        raise click.UsageError("give exactly one of --telegram ID, --email ADDRESS or --paper ID")
    settings = staff_settings()
    channel, identifier = given[0]
    identifier = normalised(channel, identifier)
    if not yes:
        what = f"paper form {identifier}" if channel == "paper" else f"{channel} user"
        click.confirm(f"Erase everything about this {what}? This cannot be undone", abort=True)

    async def go() -> str:
        from storage.erasure import forget as erase

        async with service_module.open_service(settings) as service:
            person = person_to_erase(service, channel, identifier)
            now = service.conversation.clock()
            erased = await erase(
                service.store,
                channel=person.channel,
                pseudonym=person.pseudonym,
                address=person.address,
                actor=staff_actor(),
                now=now,
            )
        if not erased.anything:
            return "Nothing was stored about this person."
        return (
            f"Erased: {counted(erased.respondents, 'respondent')} with their answers and contact data, "
            f"{counted(erased.emails, 'email')}, "
            f"{counted(erased.outbox, 'queued or sent reply', 'queued or sent replies')}, "
            f"{counted(erased.inbox, 'received message')}"
            + (f", {counted(erased.applications, 'working-group application')}." if erased.applications else ".")
        )

    click.echo(run_async(go))


@main.command()
@click.option("--older-than", "older_than", required=True, help="A retention period: 365d, 52w or 2y.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def purge(older_than: str, yes: bool) -> None:
    """Apply a retention period: erase submissions, emails, received messages and applications older than it."""
    import re
    from datetime import timedelta

    match = re.fullmatch(r"\s*(\d+)\s*([dwy])\s*", older_than.lower())
    if match is None:
        raise click.BadParameter("use a number of days, weeks or years: 365d, 52w, 2y", param_hint="--older-than")
    days = int(match.group(1)) * {"d": 1, "w": 7, "y": 365}[match.group(2)]
    try:
        datetime.now(WARSAW) - timedelta(days=days)
    except OverflowError:
        fail(StaffError(f"--older-than {older_than.strip()}: that goes back before the year 1; use a shorter period"))
    settings = staff_settings()
    if not yes:
        click.confirm(f"Erase everything older than {days} days? This cannot be undone", abort=True)

    async def go() -> dict[str, int]:
        from storage.erasure import purge as apply

        async with service_module.open_service(settings) as service:
            now = service.conversation.clock()
            return await apply(service.store, before=now - timedelta(days=days), actor=staff_actor(), now=now)

    counts = run_async(go)
    click.echo("Erased: " + ", ".join(f"{n} {what}" for what, n in counts.items()) + ".")


@main.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx", "jsonl", "sav", "dta"]),
    default="csv",
    show_default=True,
    help="sav: SPSS, dta: Stata (both labelled, wide layout, need --out).",
)
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: stdout).")
@click.option(
    "--for",
    "audience",
    type=click.Choice(["excel", "analysis"]),
    default="excel",
    show_default=True,
    help="CSV for Excel (BOM, formula-like cells prefixed with ') or for R, pandas, SPSS (texts as written, no BOM).",
)
@click.option("--what", type=click.Choice(["submissions", "emails"]), default="submissions", show_default=True)
@click.option(
    "--layout",
    type=click.Choice(["wide", "long"]),
    default="wide",
    show_default=True,
    help="wide: a row per submission; long: a row per answer (for statistical tools).",
)
@click.option(
    "--labels",
    type=click.Choice(LANGUAGES),
    help="Option labels in this language instead of codes (sav/dta: the labels' language, default pl).",
)
@filter_options
@click.option("--include-contact", is_flag=True, help="Include email addresses residents gave (logged).")
@click.option(
    "--weights",
    "weighted",
    is_flag=True,
    help="Add a `weight` column: the raking weights of `wspolnota weights` (completed submissions only).",
)
def export(
    fmt: str,
    out: Path | None,
    audience: str,
    what: str,
    layout: str,
    labels: str | None,
    questionnaire: str | None,
    event: str | None,
    channel: str | None,
    since: str | None,
    until: str | None,
    completed_only: bool,
    exclude_flagged: bool,
    include_contact: bool,
    weighted: bool,
) -> None:
    """Export submissions (or emails) for analysis: CSV (UTF-8 with BOM), XLSX (with a codebook sheet),
    JSON Lines, SPSS .sav or Stata .dta.

    Columns are question codes; a multiple choice is a 0/1 column per option (`code__option`),
    an "other" text is `code__text`. No contact data unless --include-contact.
    """
    settings = staff_settings()
    if fmt in ("xlsx", "sav", "dta") and out is None:
        raise click.UsageError(f"{fmt.upper()} needs --out FILE")
    if fmt in ("sav", "dta") and (what != "submissions" or layout != "wide"):
        raise click.UsageError(
            f"{fmt.upper()} holds the submissions in the wide layout (no --what emails, --layout long)"
        )
    if weighted and what != "submissions":
        raise click.UsageError("--weights weighs submissions, not emails")
    if out is not None:
        writable(out)
    language = as_language(labels)

    async def go() -> int:
        from reports.codebook import CODEBOOK_COLUMNS, codebook_rows
        from reports.spss import write_statistical
        from reports.staff import CSV_ENCODING, ExportChoice, start_export
        from reports.tables import DATES, write_csv_rows, write_xlsx_rows

        async with service_module.open_service(settings) as service:
            chosen = chosen_questionnaire(service, questionnaire)
            filters = SubmissionFilter(
                chosen.id, completed_only, event, channel, warsaw_day(since), warsaw_day(until), exclude_flagged
            )
            # Before the audit entry: an export that cannot be weighted is not written at all.
            weights = await _weights(service, chosen, settings.population_file) if weighted else None
            choice = ExportChoice(what, fmt, layout, language, include_contact)
            started = await start_export(
                service.store,
                service.config.questionnaires,
                chosen,
                filters,
                choice,
                actor=staff_actor(),
                now=service.conversation.clock(),
            )
            rows, columns, records = started.rows, started.columns, started.records
            if weights is not None:
                rows, records = _weighted(rows, weights), _weighted(records, weights)
                columns = [*columns, "weight"]
            try:
                with _progress(out is not None) as tick:
                    if fmt in ("sav", "dta"):
                        assert out is not None
                        return await write_statistical(
                            records,
                            chosen,
                            out,
                            "sav" if fmt == "sav" else "dta",
                            labels=language or "pl",
                            include_contact=include_contact,
                            weighted=weighted,
                            tick=tick,
                        )
                    if fmt == "xlsx":
                        assert out is not None
                        submissions = what == "submissions"
                        sheet = "answers" if submissions and layout == "long" else what
                        codebook = [
                            ("codebook", CODEBOOK_COLUMNS, codebook_rows(chosen, include_contact=include_contact))
                        ]
                        return await write_xlsx_rows(
                            _ticking(rows, tick),
                            out,
                            columns,
                            sheet=sheet,
                            dates=DATES | {"received_at"},
                            more=codebook if submissions else (),
                        )
                    analysis = audience == "analysis"
                    encoding = CSV_ENCODING if fmt == "csv" and not analysis else "utf-8"
                    with open(out, "w", encoding=encoding, newline="") if out else text_stdout(encoding) as handle:  # noqa: ASYNC230
                        if fmt == "jsonl":
                            source = records if what == "submissions" and layout == "wide" else rows
                            return await write_jsonl(_ticking(source, tick), handle)
                        return await write_csv_rows(_ticking(rows, tick), handle, columns, neutralised=not analysis)
            except BaseException as err:
                await _close_streams(err, rows, records)
                raise

    count = run_async(go)
    if count == 0:  # nothing matched: a warning, not an empty file someone sends on
        if out is not None:
            out.unlink(missing_ok=True)
        click.echo(
            f"Warning: no {what} match these filters; " + ("no file written." if out else "nothing exported."), err=True
        )
        return
    click.echo(f"Exported {counted(count, 'row')}" + (f" to {out}" if out else "") + ".", err=True)


async def _weights(service: service_module.Service, questionnaire: Questionnaire, file: Path) -> dict[int, float]:
    """The raking weights of a questionnaire's completed submissions, as `wspolnota weights` computes them.

    Raises:
        StaffError: when there are no residents' figures to weight to.
    """
    from reports.representation import raking_weights

    population = service.config.population
    if population is None or not population.present_margins():
        raise StaffError(f"--weights: no residents' figures in {file} to weight to")
    population = population.asked_in(questionnaire)
    if not population.present_margins():
        raise StaffError(f"--weights: questionnaire '{questionnaire.id}' asks none of the questions {file} counts")
    completed = SubmissionFilter(questionnaire.id, completed_only=True)
    return await raking_weights(service.store, questionnaire.id, population, filters=completed)


async def _weighted(rows: AsyncIterator[Row], weights: dict[int, float]) -> AsyncIterator[Row]:
    """The rows with their submission's weight (None: unfinished, or not weighted)."""
    async for row in rows:
        weight = weights.get(row["submission"])
        row["weight"] = None if weight is None else round(weight, 6)
        yield row


async def _close_streams(err: BaseException, *streams: AsyncIterator[Any]) -> None:
    """Closes an interrupted export's row streams (a closed pipe, a full disk) while the database is open.

    Left to asyncio, they would be closed after the service let the database go, and their cursors'
    threads would report a closed event loop with a traceback. The error's frames hold the inner
    streams; cleared, those are finalised, and their closing is awaited here.
    """
    traceback.clear_frames(err.__traceback__)
    for stream in streams:
        if isinstance(stream, AsyncGenerator):
            await stream.aclose()
    await asyncio.sleep(0)  # the finaliser schedules each orphaned stream's aclose() as a task
    closing = asyncio.all_tasks() - {asyncio.current_task()}
    if closing:
        await asyncio.wait(closing, timeout=5)


async def _ticking(rows: AsyncIterator[Row], tick: Callable[[], None]) -> AsyncIterator[Row]:
    async for row in rows:
        tick()
        yield row


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[], None]]:
    """A progress counter on a terminal (rich); nothing when piped."""
    if not (enabled and sys.stderr.isatty()):
        yield lambda: None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn

    with Progress(SpinnerColumn(), TextColumn("{task.completed} rows"), transient=True) as progress:
        task = progress.add_task("export")
        yield lambda: progress.advance(task)
