"""The console's Data page: the filters of `wspolnota export` and `wspolnota report`, and the files they
write, made by the same functions the command line calls (reports/staff.py, reports/spss.py,
reports/tables.py, reports/codebook.py, reports/report_build.py), each download audited.

Contact data is never offered here.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import tempfile
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.console.page import Page, attachment, send_file
from bot.service import Service
from bot.settings import Settings
from handlers.definitions.questionnaire import Questionnaire
from handlers.engine.presenter import WARSAW
from storage.audit import audit
from storage.exports import SubmissionFilter
from storage.repository import Store

CHANNELS = ("web", "telegram", "email", "terminal", "paper")
# format: (file extension, MIME type)
EXPORTS: dict[str, tuple[str, str]] = {
    "csv_excel": ("csv", "text/csv; charset=utf-8"),
    "csv_analysis": ("csv", "text/csv; charset=utf-8"),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "sav": ("sav", "application/x-spss-sav"),
    "dta": ("dta", "application/x-stata-dta"),
    "codebook_md": ("md", "text/markdown; charset=utf-8"),
    "codebook_csv": ("csv", "text/csv; charset=utf-8"),
    "codebook_xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
REPORTS: dict[str, str] = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}


class Refused(Exception):
    """A form the page cannot act on: its text key."""


@dataclass(frozen=True, slots=True)
class Download:
    name: str
    content_type: str
    body: bytes


@dataclass(frozen=True, slots=True)
class Chosen:
    questionnaire: Questionnaire
    filters: SubmissionFilter
    fmt: str
    public: bool = False  # a report for publication: quotes only those approved on the Quotes page


def chromium(service: Service) -> str | None:
    """The browser that prints a PDF report, or None when none is found (then the page offers HTML only)."""
    from reports.report_pdf import PdfUnavailable, find_chromium

    try:
        return find_chromium(service.settings.chromium)
    except PdfUnavailable:
        return None


def _day(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=WARSAW)
    except ValueError:
        raise Refused("bad_date") from None


def chosen(service: Service, form: Any, formats: tuple[str, ...] | dict[str, Any]) -> Chosen:
    """The questionnaire, filters and format a posted form asks for (unknown values refused)."""
    code = str(form.get("questionnaire") or service.conversation.default_questionnaire)
    questionnaire = service.config.questionnaires.get(code)
    event = str(form.get("event", "")) or None
    channel = str(form.get("channel", "")) or None
    fmt = str(form.get("format") or next(iter(formats)))  # none chosen: the first (CSV for Excel, HTML)
    if questionnaire is None or (event is not None and event not in service.config.events):
        raise Refused("bad_choice")
    if (channel is not None and channel not in CHANNELS) or fmt not in formats:
        raise Refused("bad_choice")
    filters = SubmissionFilter(
        questionnaire.id,
        completed_only=bool(form.get("completed_only")),
        event=event,
        channel=channel,
        since=_day(str(form.get("since", ""))),
        until=_day(str(form.get("until", ""))),
        exclude_flagged=bool(form.get("exclude_flagged")),
    )
    return Chosen(questionnaire, filters, fmt, public=bool(form.get("public")))


def _name(questionnaire: Questionnaire, what: str, now: datetime, extension: str) -> str:
    return f"{questionnaire.id}-{what}-{now.astimezone(WARSAW):%Y-%m-%d}.{extension}"


@dataclass(frozen=True, slots=True)
class Exported:
    """An export written to a file in the caller's folder, to be streamed to the browser."""

    name: str
    content_type: str
    path: Path


async def export_apart(service: Service, choice: Chosen, actor: str, folder: Path) -> Exported | None:
    """`export`, in a process of its own: turning 100,000 submissions into an XLSX is half a minute of
    Python, which on the service's loop would make every resident answering meanwhile wait a second or more
    a step (bench/console). The process opens its own connection to the same database and is gone after."""
    now = service.conversation.clock()
    task = (service.settings, choice.questionnaire.id, choice.filters, choice.fmt, actor, folder, now)
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return await asyncio.get_running_loop().run_in_executor(pool, _export_in_process, *task)


def _export_in_process(*task: Any) -> Exported | None:
    """The spawned process's entry: `_export_alone` on a loop of its own."""
    return asyncio.run(_export_alone(*task))


async def _export_alone(
    settings: Settings,
    questionnaire_id: str,
    filters: SubmissionFilter,
    fmt: str,
    actor: str,
    folder: Path,
    now: datetime,
) -> Exported | None:
    from bot.service import load_config
    from storage.db import create_engine, create_sessions
    from storage.repository import Store

    config = load_config(settings)
    engine = create_engine(settings.database)
    try:
        store = Store(create_sessions(engine))
        choice = Chosen(config.questionnaires[questionnaire_id], filters, fmt)
        return await export(store, config.questionnaires, choice, actor, folder, now)
    finally:
        await engine.dispose()


async def export(
    store: Store,
    questionnaires: Mapping[str, Questionnaire],
    choice: Chosen,
    actor: str,
    folder: Path,
    now: datetime,
) -> Exported | None:
    """Writes an export or codebook into `folder`, audited as the command line audits; None when nothing
    matches (then no file is offered)."""
    from reports.codebook import CODEBOOK_COLUMNS, codebook_markdown, codebook_rows, write_codebook_csv
    from reports.spss import write_statistical
    from reports.staff import CSV_ENCODING, ExportChoice, start_export
    from reports.tables import DATES, write_csv_rows, write_xlsx_rows

    questionnaire, fmt = choice.questionnaire, choice.fmt
    extension, content_type = EXPORTS[fmt]
    out = folder / f"out.{extension}"
    if fmt.startswith("codebook_"):
        details = {"format": fmt, "questionnaire": questionnaire.id, "via": "console"}
        await audit(store, actor, "codebook", details, now)
        if fmt == "codebook_md":
            out.write_text(codebook_markdown(questionnaire), encoding="utf-8")
        elif fmt == "codebook_csv":
            with out.open("w", encoding="utf-8", newline="") as handle:
                write_codebook_csv(questionnaire, handle)
        else:
            await write_xlsx_rows(_each(codebook_rows(questionnaire)), out, CODEBOOK_COLUMNS, sheet="codebook")
        return Exported(_name(questionnaire, "codebook", now, extension), content_type, out)
    recorded = "csv" if fmt.startswith("csv") else fmt
    started = await start_export(
        store,
        questionnaires,
        questionnaire,
        choice.filters,
        ExportChoice("submissions", recorded, "wide", None, False),
        actor=actor,
        now=now,
        via="console",
    )
    if fmt in ("sav", "dta"):
        count = await write_statistical(started.records, questionnaire, out, "sav" if fmt == "sav" else "dta")
    elif fmt == "xlsx":
        more = [("codebook", CODEBOOK_COLUMNS, codebook_rows(questionnaire))]
        count = await write_xlsx_rows(
            started.rows, out, started.columns, sheet="submissions", dates=DATES | {"received_at"}, more=more
        )
    else:
        analysis = fmt == "csv_analysis"
        with out.open("w", encoding="utf-8" if analysis else CSV_ENCODING, newline="") as handle:
            count = await write_csv_rows(started.rows, handle, started.columns, neutralised=not analysis)
    if count == 0:
        return None
    what = "submissions-analysis" if fmt == "csv_analysis" else "submissions"
    return Exported(_name(questionnaire, what, now, extension), content_type, out)


async def report_file(service: Service, choice: Chosen, actor: str, browser: str | None) -> Download | None:
    """The report (HTML, or PDF printed by Chromium), audited as the command line audits; None when empty."""
    from reports.report_build import ReportRequest, build_report
    from reports.report_pdf import PdfUnavailable, print_pdf

    questionnaire, now = choice.questionnaire, service.conversation.clock()
    request = ReportRequest(choice.filters, 5, choice.public, service.config.population)
    built = await build_report(service.store, questionnaire, service.config.events, request, now)
    if built.tally.total == 0:
        return None
    name = _name(questionnaire, "public-report" if choice.public else "report", now, choice.fmt)
    if choice.fmt == "pdf":
        if browser is None:
            raise Refused("bad_choice")
        with tempfile.TemporaryDirectory(prefix="wspolnota-console-") as folder:
            out = Path(folder) / "report.pdf"
            try:
                await asyncio.to_thread(print_pdf, built.html, out, browser)
            except PdfUnavailable:
                raise Refused("pdf_failed") from None
            body = out.read_bytes()
    else:
        body = built.html.encode("utf-8")
    details = {
        "format": choice.fmt,
        "public": choice.public,
        "filters": repr(choice.filters),
        "submissions": built.tally.total,
        "via": "console",
    }
    await audit(service.store, actor, "report", details, now)
    return Download(name, REPORTS[choice.fmt], body)


async def _each(rows: list[dict[str, Any]]) -> Any:
    for row in rows:
        yield row


class DataPage(Page):
    """`/staff/data`: the filters and formats, and the downloads they make (analysts and coordinators)."""

    async def data_form(self, request: web.Request) -> web.StreamResponse:
        return self._data_page(request)

    def _data_page(self, request: web.Request, *, problem: str | None = None, status: int = 200) -> web.Response:
        language = self.language(request)
        text = self.words(request)
        config = self.service.config
        context = {
            "problem": text[problem] if problem else None,
            "questionnaires": [(q.id, q.title(language)) for q in config.questionnaires.values()],
            "default_questionnaire": self.service.conversation.default_questionnaire,
            "events": [(code, event.name(language)) for code, event in config.events.items()],
            "channels": CHANNELS,
            "exports": list(EXPORTS),
            "pdf": chromium(self.service) is not None,
        }
        return self.render(request, "data.html", context, status=status)

    async def data_export(self, request: web.Request) -> web.StreamResponse:
        return await self._download(request, report=False)

    async def data_report(self, request: web.Request) -> web.StreamResponse:
        return await self._download(request, report=True)

    async def _download(self, request: web.Request, *, report: bool) -> web.StreamResponse:
        form = await request.post()
        who = self.actor(request)
        try:
            if report:
                browser = chromium(self.service) if form.get("format") == "pdf" else None
                download = await report_file(self.service, chosen(self.service, form, REPORTS), who, browser)
                if download is not None:
                    return attachment(download.name, download.content_type, download.body)
            else:
                choice = chosen(self.service, form, EXPORTS)
                with tempfile.TemporaryDirectory(prefix="wspolnota-console-") as folder:
                    exported = await export_apart(self.service, choice, who, Path(folder))
                    if exported is not None:
                        return await send_file(request, exported.name, exported.content_type, exported.path)
        except Refused as refused:
            return self._data_page(request, problem=str(refused), status=400)
        return self._data_page(request, problem="data_empty")  # nothing matched: a warning, never an empty file
