"""The working groups: applications by group and sector, their export, staff's exclusions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click

from bot import service as service_module
from bot.cli import StaffError, counted, fail, main, run_async, staff_actor, staff_settings, text_stdout, writable
from bot.settings import Settings
from handlers.definitions.recruitment import Recruitment

T = TypeVar("T")


@main.group()
def groups() -> None:
    """The working groups (config/recruitment.yaml): applications, their export, staff's exclusions.

    Without config/recruitment.yaml the working groups are off and these commands say so.
    """


def _with_call(settings: Settings, work: Callable[[service_module.Service, Recruitment], Awaitable[T]]) -> T:
    """Runs `work` with the service and the call for applications; refuses, exit 1, when the groups are off."""
    off = StaffError(
        f"the working groups are off: there is no {settings.recruitment_file} (see docs/working-groups.md)"
    )
    if not settings.recruitment_file.exists():
        fail(off)

    async def go() -> T:
        async with service_module.open_service(settings) as service:
            if service.config.recruitment is None:
                raise off
            return await work(service, service.config.recruitment)

    return run_async(go)


@groups.command("status")
def groups_status() -> None:
    """Show the applications by group × sector (complete, incomplete, late, withdrawn, excluded) against the seats.

    A group's "per seat" counts the complete, on-time, not excluded applications that asked for it.
    Possible duplicates (the same name or email on two applications) are listed at the end.
    """
    from reports.applications import collect_application_figures, describe_application_figures

    async def work(service: service_module.Service, call: Recruitment) -> str:
        figures = await collect_application_figures(service.store, call)
        return describe_application_figures(figures, call)

    click.echo(_with_call(staff_settings(), work))


@groups.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "jsonl"]), default="csv", show_default=True)
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: stdout).")
@click.option("--include-contact", is_flag=True, help="Include the applicants' names and email addresses (logged).")
def groups_export(fmt: str, out: Path | None, include_contact: bool) -> None:
    """Export the applications, one record each: CSV (UTF-8 with BOM), XLSX or JSON Lines (written to the audit log).

    Fields: application, channel, received_at, late, status, sector, groups (codes; comma-separated in
    CSV and XLSX, a list in JSON Lines), organisation, description; with --include-contact also name, email.
    """
    from reports.applications import application_columns, application_records, application_rows
    from reports.export import write_jsonl
    from reports.staff import CSV_ENCODING
    from reports.tables import write_csv_rows, write_xlsx_rows
    from storage.audit import audit

    settings = staff_settings()
    if fmt == "xlsx" and out is None:
        raise click.UsageError("XLSX needs --out FILE")
    if out is not None:
        writable(out)

    async def work(service: service_module.Service, call: Recruitment) -> int:
        details = {"what": "applications", "format": fmt, "include_contact": include_contact}
        await audit(service.store, staff_actor(), "export", details, service.conversation.clock())
        columns = application_columns(include_contact=include_contact)
        if fmt == "xlsx":
            assert out is not None
            rows = application_rows(service.store, include_contact=include_contact)
            return await write_xlsx_rows(rows, out, columns, sheet="applications")
        encoding = CSV_ENCODING if fmt == "csv" else "utf-8"
        with open(out, "w", encoding=encoding, newline="") if out else text_stdout(encoding) as handle:  # noqa: ASYNC230
            if fmt == "jsonl":
                return await write_jsonl(application_records(service.store, include_contact=include_contact), handle)
            return await write_csv_rows(
                application_rows(service.store, include_contact=include_contact), handle, columns
            )

    count = _with_call(settings, work)
    click.echo(f"Exported {counted(count, 'application')}" + (f" to {out}" if out else "") + ".", err=True)


@groups.command("exclude")
@click.argument("application")
@click.option("--reason", required=True, help="Why, for staff and the audit log (e.g. 'younger than 16').")
def groups_exclude(application: str, reason: str) -> None:
    """Leave an application (its reference, e.g. Z-12) out of the draw, for a reason (written to the audit log)."""
    from storage.applications import UnknownApplication, exclude_application

    if not reason.strip():
        raise click.BadParameter("say why the application is excluded", param_hint="--reason")

    async def work(service: service_module.Service, call: Recruitment) -> str:
        try:
            found = await exclude_application(
                service.store,
                application,
                reason=" ".join(reason.split()),
                actor=staff_actor(),
                now=service.conversation.clock(),
            )
        except UnknownApplication as err:
            raise StaffError(str(err)) from None
        return f"Excluded {found.reference}: {found.exclusion_reason}"

    click.echo(_with_call(staff_settings(), work))


@groups.command("include")
@click.argument("application")
def groups_include(application: str) -> None:
    """Take an excluded application (its reference, e.g. Z-12) back into the draw (written to the audit log)."""
    from storage.applications import UnknownApplication, include_application

    async def work(service: service_module.Service, call: Recruitment) -> str:
        try:
            found = await include_application(
                service.store, application, actor=staff_actor(), now=service.conversation.clock()
            )
        except UnknownApplication as err:
            raise StaffError(str(err)) from None
        return f"Included {found.reference}."

    click.echo(_with_call(staff_settings(), work))
