"""The working groups: applications by group and sector, their export, staff's exclusions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar, cast

import click

from bot import service as service_module
from bot.cli import StaffError, counted, fail, main, run_async, staff_actor, staff_settings, text_stdout, writable
from bot.group_mail import GroupsError
from bot.settings import Settings
from bot.working_groups import WorkingGroups, working_groups
from handlers.definitions.i18n import Language
from handlers.definitions.recruitment import WARSAW, Recruitment
from storage.applications import list_applications

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
        text = describe_application_figures(figures, call)
        return "\n".join([text, *await _draw_status(service, call)])

    click.echo(_with_call(staff_settings(), work))


async def _draw_status(service: service_module.Service, call: Recruitment) -> list[str]:
    """The draw's lines for `groups status` (bot/working_groups.py's `WorkingGroups.state`, which the console
    words too): whether decisions are out, a warning from three days before the decision date while they are
    not, and the seats' answers by group."""
    found = working_groups(service)
    assert found is not None  # _with_call refused already
    state = await found.state()
    lines = [""]
    if state.seed is None or state.drawn_at is None:
        lines.append("Draw: none yet (`wspolnota groups select --seed N`).")
    elif state.decisions_at is None:
        lines.append(
            f"Draw: seed {state.seed}, drawn {state.drawn_at.astimezone(WARSAW):%Y-%m-%d %H:%M}; decisions not sent."
        )
    else:
        sent = state.decisions_at.astimezone(WARSAW)
        lines.append(f"Draw: seed {state.seed}; decisions queued {sent:%Y-%m-%d %H:%M} (Warsaw).")
    if state.days_left is not None:
        left = state.days_left
        when = "today" if left == 0 else f"in {counted(left, 'day')}" if left > 0 else f"{-left} days ago"
        lines.append(
            f"WARNING: every applicant must hear back by {call.decision_date} ({when}). "
            + ("Draw (`groups select`), then `groups notify`; " if state.seed is None else "Run `groups notify`; ")
            + "the running service sends stored decisions itself at 09:00 on that day."
        )
    if state.decisions_at is not None:
        for group in state.groups:
            lines.append(
                f"  {group.code}: {group.held} of {group.seats} seats held ({group.confirmed} confirmed, "
                f"{group.waiting} waiting), {len(group.freed)} freed"
            )
    return lines


@groups.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "jsonl"]), default="csv", show_default=True)
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: stdout).")
@click.option("--include-contact", is_flag=True, help="Include the applicants' names and email addresses (logged).")
def groups_export(fmt: str, out: Path | None, include_contact: bool) -> None:
    """Export the applications, one record each: CSV (UTF-8 with BOM), XLSX or JSON Lines (written to the audit log).

    Fields: application, channel, received_at, late, status, sector, groups (codes; comma-separated in
    CSV and XLSX, a list in JSON Lines), organisation, description, and after a draw decision (selected,
    reserve, not_selected), group (the seats' codes), reserve_rank, probability, attendance (confirmed,
    declined, empty); with --include-contact also name, email.
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


def _with_groups(act: Callable[[WorkingGroups, Recruitment], Awaitable[str]]) -> str:
    """Runs `act` on the working groups after the call; what cannot be done now (a draw that stands, quotas
    that cannot be met, the selection extra missing) is a clear message and exit 1."""

    async def work(service: service_module.Service, call: Recruitment) -> str:
        from selection.model import QuotaInfeasible, SelectionUnavailable

        found = working_groups(service)
        assert found is not None  # _with_call refused already
        try:
            return await act(found, call)
        except (GroupsError, SelectionUnavailable) as err:
            raise StaffError(str(err)) from None
        except QuotaInfeasible as err:
            lines = [str(err), "What staff could change in config/recruitment.yaml (then draw again):"]
            lines += [f"  - {relaxation}" for relaxation in err.relaxations]
            raise StaffError("\n".join(lines)) from None

    return _with_call(staff_settings(), work)


@groups.command("select")
@click.option("--seed", type=int, required=True, help="A whole number above 0, announced before the draw.")
@click.option("--dry-run", is_flag=True, help="Draw and show the result without storing it.")
def groups_select(seed: int, dry_run: bool) -> None:
    """Draw the working groups: per group, a lottery within the sector quotas (maximin, sortition-algorithms).

    Only complete, on-time, not excluded, eligible applications of people who asked for a group take
    part; distinct people first (a second seat only where a group cannot otherwise be filled); a group
    with no more applicants than seats takes everyone; a ranked reserve list per group. The same seed on
    the same data gives the same groups. Staff may draw again until `groups notify`; then it is refused.
    Needs the `selection` extra: pip install -e ".[selection]" (GPL-3.0).
    """
    from reports.applications import describe_draw

    if seed <= 0:
        raise click.BadParameter("a seed above 0 (0 would let the library pick a random one: not reproducible)")

    async def draw(found: WorkingGroups, call: Recruitment) -> str:
        drawn = await found.select(seed, dry_run=dry_run, actor=staff_actor())
        return describe_draw(drawn, call, stored=not dry_run)

    click.echo(_with_groups(draw))


@groups.command("notify")
def groups_notify() -> None:
    """Queue one decision per applicant (selected with the meetings and a calendar invitation, reserve with
    the rank, or not selected), by email and in Telegram for those who applied there; the draw then stands.

    Sent through the outbox by the running service. Safe to run again: nobody is told twice. The service
    sends them itself on the decision date (09:00 Warsaw) if staff have not.
    """

    async def notify(found: WorkingGroups, call: Recruitment) -> str:
        told = await found.notify(staff_actor())
        return f"Queued decisions for {counted(told, 'applicant')} (the running service sends them)."

    click.echo(_with_groups(notify))


@groups.command("replace")
def groups_replace() -> None:
    """Free the seats of those who declined, withdrew, were excluded or did not confirm in time, and offer
    each to the next on the group's reserve list who keeps the sector quotas (with the same invitation)."""

    async def replace(found: WorkingGroups, call: Recruitment) -> str:
        lines = []
        for done in await found.replace(staff_actor()):
            freed = ", ".join(f"Z-{a} ({why})" for a, why in done.released) or "none"
            offered = ", ".join(f"Z-{a}" for a in done.offered) or "none"
            line = f"{done.group}: freed {freed}; offered to {offered}"
            if done.unfilled:
                line += f"; {counted(done.unfilled, 'seat')} still free"
            lines.append(line)
        return "\n".join(lines)

    click.echo(_with_groups(replace))


@groups.command("report")
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True)
@click.option("--language", type=click.Choice(["pl", "en", "uk"]), default="pl", show_default=True)
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: stdout).")
def groups_report(fmt: str, language: str, out: Path | None) -> None:
    """The published account of the stored draw: the pool and the groups by sector against the quotas, the
    chances, and how to repeat the draw. Anonymised: no names, addresses or references."""
    from reports.selection_report import render_html, render_markdown

    if out is not None:
        writable(out)

    async def work(found: WorkingGroups, call: Recruitment) -> str:
        report = await found.report(cast(Language, language))  # click.Choice: pl, en or uk
        return render_html(report) if fmt == "html" else render_markdown(report)

    text = _with_groups(work)
    if out is None:
        click.echo(text)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {out}.", err=True)


@groups.command("roster")
@click.argument("group")
@click.option("--meeting", help="Only this meeting's sheet (its slug); default: every meeting of the group.")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), help="PDF to write.")
@click.option("--language", type=click.Choice(["pl", "en", "uk"]), default="pl", show_default=True)
def groups_roster(group: str, meeting: str | None, out: Path | None, language: str) -> None:
    """Print a group's sign-in sheets (A4 PDF): the names and organisations of those holding a seat, one sheet
    per meeting (with the closing meeting). Written to the audit log: it holds names."""
    target = out or Path(f"lista-obecnosci-{group}.pdf")
    writable(target)

    async def work(found: WorkingGroups, call: Recruitment) -> str:
        chosen = cast(Language, language)  # click.Choice: pl, en or uk
        written = await found.roster(group, target, meeting=meeting, language=chosen, actor=staff_actor())
        people, meetings = counted(written.people, "person", "people"), counted(written.meetings, "meeting")
        return f"Wrote {target}: {people}, {meetings}."

    click.echo(_with_groups(work))


@groups.command("attended")
@click.argument("meeting")
@click.argument("applications", nargs=-1, required=True)
def groups_attended(meeting: str, applications: tuple[str, ...]) -> None:
    """Record who came to a meeting (its slug), from the sign-in sheet: their references (Z-12 Z-14 …)."""
    from storage.applications import parse_reference
    from storage.selection import record_meeting_attendance

    ids = []
    for reference in applications:
        number = parse_reference(reference)
        if number is None:
            raise click.BadParameter(f"{reference!r} is not a reference like Z-12", param_hint="APPLICATIONS")
        ids.append(number)

    async def work(service: service_module.Service, call: Recruitment) -> str:
        slugs = {slug for g in call.groups for slug in g.meetings} | {call.closing_meeting}
        if meeting not in slugs:
            raise StaffError(f"{meeting!r} is no working group's meeting in recruitment.yaml")
        known = {a.id for a in await list_applications(service.store)}
        unknown = [f"Z-{i}" for i in ids if i not in known]
        if unknown:
            raise StaffError(f"no application {', '.join(unknown)}")
        now = service.conversation.clock()
        new = await record_meeting_attendance(service.store, meeting, ids, actor=staff_actor(), now=now)
        return f"Recorded {counted(new, 'person', 'people')} at {meeting} ({len(ids) - new} already recorded)."

    click.echo(_with_call(staff_settings(), work))


@groups.command("cancel-meeting")
@click.argument("meeting")
def groups_cancel_meeting(meeting: str) -> None:
    """Cancel an optional meeting (its slug): everyone holding a seat in its group gets a calendar
    cancellation for that date and a message; no reminder is sent for it."""

    async def cancel(found: WorkingGroups, call: Recruitment) -> str:
        told = await found.cancel_meeting(meeting, staff_actor())
        return f"Cancelled {meeting}: queued the cancellation for {counted(told, 'person', 'people')}."

    click.echo(_with_groups(cancel))


@groups.command("update-invitations")
def groups_update_invitations() -> None:
    """After a group's meeting changed in events.yaml (date, time, place): send everyone holding a seat the
    invitation again with its SEQUENCE raised, so their calendar moves the event, and the new dates in words."""

    async def update(found: WorkingGroups, call: Recruitment) -> str:
        told = await found.update_invitations(staff_actor())
        return f"Queued the updated invitation for {counted(told, 'person', 'people')}."

    click.echo(_with_groups(update))
