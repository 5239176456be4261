"""The working groups' applications for staff: where they stand (by group and sector, against the seats),
one record each for the export, and possible duplicates; read through storage's functions only."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from handlers.definitions.recruitment import WARSAW, Recruitment
from selection.model import Draw
from storage.applications import (
    Application,
    ApplicationStatus,
    Duplicate,
    application_by_reference,
    find_duplicates,
    in_the_draw,
    list_applications,
)
from storage.repository import Store
from storage.selection import Placement, Role, current_draw, meeting_attendance, placements_by_application

# The export's fields, in this order; names and addresses only when staff ask (and it is logged).
APPLICATION_COLUMNS = [
    *("application", "channel", "received_at", "late", "status"),
    *("sector", "groups", "organisation", "description"),
    *("decision", "group", "reserve_rank", "probability", "attendance"),
]
CONTACT_COLUMNS = ["name", "email"]
NO_SECTOR = "—"


@dataclass(frozen=True, slots=True)
class GroupFigures:
    """One group: what asked for it, by sector and by status, against its seats."""

    code: str
    name: str
    seats: int
    in_draw: int  # complete, on time, not excluded, eligible: what the draw counts
    by_sector: dict[str, int]  # of those in the draw; NO_SECTOR for none given
    short: dict[str, int]  # sectors below their quota's minimum: how many are missing
    complete: int = 0  # every application that asked for the group, by where it stands
    incomplete: int = 0
    withdrawn: int = 0
    late: int = 0
    excluded: int = 0

    @property
    def oversubscription(self) -> float:
        """Applications in the draw per seat: above 1, there are more than seats."""
        return self.in_draw / self.seats


@dataclass(frozen=True, slots=True)
class ApplicationFigures:
    """All applications: how many stand where, by channel, by group, and which may be one person's."""

    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    late: int = 0
    excluded: int = 0
    in_draw: int = 0
    no_group: int = 0  # complete ones that name no group yet
    by_channel: dict[str, int] = field(default_factory=dict)
    groups: list[GroupFigures] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)


async def collect_application_figures(store: Store, call: Recruitment) -> ApplicationFigures:
    """Counts the applications against the call's groups, seats and quotas."""
    applications = await list_applications(store)
    return ApplicationFigures(
        total=len(applications),
        by_status=dict(Counter(a.status for a in applications)),
        late=sum(a.late for a in applications),
        excluded=sum(a.excluded for a in applications),
        in_draw=sum(in_the_draw(a) for a in applications),
        no_group=sum(1 for a in applications if in_the_draw(a) and not a.groups),
        by_channel=dict(sorted(Counter(a.channel for a in applications).items())),
        groups=[_group_figures(call, code, applications) for code in (g.code for g in call.groups)],
        duplicates=await find_duplicates(store),
    )


def _group_figures(call: Recruitment, code: str, applications: Iterable[Application]) -> GroupFigures:
    group = call.group(code)
    assert group is not None
    asked = [a for a in applications if code in (a.groups or ())]
    drawn = [a for a in asked if in_the_draw(a)]
    by_sector = Counter(a.sector or NO_SECTOR for a in drawn)
    short = {
        sector.code: call.quota(code, sector.code).min - by_sector[sector.code]
        for sector in call.sectors
        if by_sector[sector.code] < call.quota(code, sector.code).min
    }
    statuses = Counter(a.status for a in asked)
    return GroupFigures(
        code=code,
        name=group.name("pl"),
        seats=group.seats,
        in_draw=len(drawn),
        by_sector=dict(by_sector),
        short=short,
        complete=statuses[ApplicationStatus.COMPLETE],
        incomplete=statuses[ApplicationStatus.INCOMPLETE],
        withdrawn=statuses[ApplicationStatus.WITHDRAWN],
        late=sum(a.late for a in asked),
        excluded=sum(a.excluded for a in asked),
    )


def describe_application_figures(figures: ApplicationFigures, call: Recruitment) -> str:
    """Shows the applications as plain text: totals, a group × sector table against the seats, duplicates."""
    status = figures.by_status
    opens, deadline = (f"{moment.astimezone(WARSAW):%Y-%m-%d %H:%M}" for moment in (call.opens, call.deadline))
    lines = [
        f"Call: {len(call.groups)} groups, {sum(g.seats for g in call.groups)} seats; applications from {opens} "
        f"until {deadline} (Warsaw), decisions by {call.decision_date}",
        f"Applications: {figures.total} (complete {status.get(ApplicationStatus.COMPLETE, 0)}, "
        f"incomplete {status.get(ApplicationStatus.INCOMPLETE, 0)}, "
        f"withdrawn {status.get(ApplicationStatus.WITHDRAWN, 0)}); late {figures.late}, excluded {figures.excluded}",
        f"In the draw (complete, on time, eligible, not excluded): {figures.in_draw}"
        + (f", of which {figures.no_group} name no group yet" if figures.no_group else ""),
        "By channel: " + (", ".join(f"{k} {v}" for k, v in figures.by_channel.items()) or "—"),
    ]
    if not figures.groups:
        return "\n".join(lines)
    sectors = [sector.code for sector in call.sectors]
    extra = any(NO_SECTOR in g.by_sector for g in figures.groups)
    heads = ["group", *sectors, *([NO_SECTOR] if extra else []), "in draw", "seats", "per seat"]
    rows = []
    for g in figures.groups:
        cells = [f"{g.by_sector.get(s, 0)}{'!' if s in g.short else ''}" for s in sectors]
        ratio = f"{g.oversubscription:.2f}" + (" (over)" if g.in_draw > g.seats else "")
        rows.append([g.code, *cells, *([str(g.by_sector.get(NO_SECTOR, 0))] if extra else []), str(g.in_draw)])
        rows[-1] += [str(g.seats), ratio]
    lines += ["", "Applications in the draw by group × sector, against the seats:", *_table(heads, rows)]
    if any(g.short for g in figures.groups):
        lines.append("  ! fewer than the sector's quota minimum in config/recruitment.yaml")
    heads = ["group", "complete", "incomplete", "withdrawn", "late", "excluded"]
    rows = [[g.code, *map(str, (g.complete, g.incomplete, g.withdrawn, g.late, g.excluded))] for g in figures.groups]
    lines += ["", "Every application that asked for each group:", *_table(heads, rows)]
    if figures.duplicates:
        lines += ["", "Possible duplicates (one person twice? check before the draw):"]
        lines += [f"  {', '.join(d.references)}: the same {d.by}" for d in figures.duplicates]
    return "\n".join(lines)


def describe_application_summary(figures: ApplicationFigures, language: str = "en") -> str:
    """A few lines for `wspolnota stats` and Telegram's /stats, in staff's language (pl or en): totals and
    each group's applications in the draw against its seats; counts follow a colon, so no noun agrees."""
    status = figures.by_status
    complete, incomplete, withdrawn = (
        status.get(s, 0)
        for s in (ApplicationStatus.COMPLETE, ApplicationStatus.INCOMPLETE, ApplicationStatus.WITHDRAWN)
    )
    if language == "pl":
        lines = [
            "Grupy robocze",
            f"Zgłoszenia: {figures.total} (kompletne: {complete}, niekompletne: {incomplete}, wycofane: {withdrawn}); "
            f"spóźnione: {figures.late}, wykluczone: {figures.excluded}",
            *[
                f"  {g.code}: w losowaniu: {g.in_draw} · miejsca: {g.seats} · na miejsce: {per_seat}"
                for g in figures.groups
                if (per_seat := f"{g.oversubscription:.2f}".replace(".", ","))
            ],
        ]
        if figures.duplicates:
            lines.append(f"  możliwe duplikaty: {len(figures.duplicates)} (wspolnota groups status)")
        return "\n".join(lines)
    lines = [
        "Working groups",
        f"Applications: {figures.total} (complete {complete}, incomplete {incomplete}, withdrawn {withdrawn}); "
        f"late {figures.late}, excluded {figures.excluded}",
        *[f"  {g.code}: {g.in_draw} for {g.seats} seats ({g.oversubscription:.2f} per seat)" for g in figures.groups],
    ]
    if figures.duplicates:
        lines.append(f"  possible duplicates: {len(figures.duplicates)} (wspolnota groups status)")
    return "\n".join(lines)


def _table(heads: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(head), *(len(row[i]) for row in rows)) for i, head in enumerate(heads)]
    line = "  ".join(head.ljust(widths[0]) if i == 0 else head.rjust(widths[i]) for i, head in enumerate(heads))
    out = ["  " + line.rstrip()]
    for row in rows:
        out.append("  " + "  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row)))
    return out


def application_record(
    application: Application, *, include_contact: bool, placements: Sequence[Placement] = (), decided: bool = False
) -> dict[str, Any]:
    """One application as the export's record (JSON Lines keeps `groups` a list), with the draw's outcome:
    `decision` (empty before a draw, and for a withdrawn application), `group` (the seats held, codes),
    `reserve_rank` (the best rank on a reserve list), `probability` (the chance of a seat: of the group held,
    else the best of the groups asked for), `attendance` (the seat's answer: confirmed, declined, empty)."""
    record: dict[str, Any] = {
        "application": application.reference,
        "channel": application.channel,
        "received_at": application.received_at.isoformat(),
        "late": application.late,
        "status": application.status,
        "sector": application.sector,
        "groups": list(application.groups or ()),
        "organisation": application.organisation,
        "description": application.description,
        **_outcome(application, placements, decided),
    }
    if include_contact:
        record["name"] = application.name
        record["email"] = application.email
    return record


def _outcome(application: Application, placements: Sequence[Placement], decided: bool) -> dict[str, Any]:
    seats = [p for p in placements if p.role == Role.SELECTED]
    reserves = [p.reserve_rank for p in placements if p.role == Role.RESERVE and p.reserve_rank is not None]
    decision = None
    if decided and application.status != ApplicationStatus.WITHDRAWN:
        decision = "selected" if seats else "reserve" if reserves else "not_selected"
    chances = [p.probability for p in (seats or placements)]
    attendance = next((p.attendance for p in seats if p.attendance), None)
    return {
        "decision": decision,
        "group": ",".join(p.group_code for p in seats) or None,
        "reserve_rank": min(reserves) if reserves and not seats else None,
        "probability": round(max(chances), 4) if chances else None,
        "attendance": attendance,
    }


async def application_records(store: Store, *, include_contact: bool) -> AsyncIterator[dict[str, Any]]:
    """Every application as an export record, oldest first."""
    placements = await placements_by_application(store)
    draw = await current_draw(store)
    decided = draw is not None
    for application in await list_applications(store):
        yield application_record(
            application, include_contact=include_contact, placements=placements.get(application.id, ()), decided=decided
        )


async def application_rows(store: Store, *, include_contact: bool) -> AsyncIterator[dict[str, Any]]:
    """Every application as a spreadsheet row: `groups` as codes joined by commas (`otwartosc,aktywnosc`)."""
    async for record in application_records(store, include_contact=include_contact):
        yield record | {"groups": ",".join(record["groups"])}


def application_columns(*, include_contact: bool) -> list[str]:
    """The export's columns, with the name and email only when asked for."""
    return APPLICATION_COLUMNS + (CONTACT_COLUMNS if include_contact else [])


def describe_draw(draw: Draw, call: Recruitment, *, stored: bool) -> str:
    """A draw for staff's terminal: per group, the seats and the reserve by sector against the quotas."""
    sectors = {c.id: c.sector for c in draw.candidates}
    lines = [
        f"Draw with seed {draw.seed} ({draw.algorithm}; sortition-algorithms {draw.library_version}, "
        f"highspy {draw.solver_version})",
    ]
    codes = [sector.code for sector in call.sectors]
    heads = ["", *codes, "total"]
    for group in draw.groups:
        how = "lottery" if group.lottery else "everyone (no more applicants than seats)"
        lines += [
            "",
            f"{group.code}: {len(group.selected)} of {group.seats} seats from a pool of {len(group.pool)} — {how}",
        ]
        pool = Counter(sectors[i] for i in group.pool)
        seats = Counter(sectors[i] for i in group.selected)
        quota = [f"{call.quota(group.code, c).min}–{call.quota(group.code, c).max}" for c in codes]
        rows = [
            ["pool", *(str(pool[c]) for c in codes), str(len(group.pool))],
            ["quota", *quota, str(group.seats)],
            ["selected", *(str(seats[c]) for c in codes), str(len(group.selected))],
        ]
        lines += _table(heads, rows)
        lines.append(f"  reserve list: {min(len(group.reserve), call.reserve_size)} ranked")
        lines += [f"  note: {note}" for note in group.notes]
    lines.append("")
    if stored:
        lines.append(
            "Stored. Draw again to replace it until `wspolnota groups notify`; "
            "`wspolnota groups report` writes the public account."
        )
    else:
        lines.append("Dry run: nothing stored.")
    return "\n".join(lines)


# Where an application stands for staff: its status, unless staff excluded it; IN_DRAW: what the draw counts.
EXCLUDED = "excluded"
IN_DRAW = "in_draw"
STANDINGS = (ApplicationStatus.COMPLETE, ApplicationStatus.INCOMPLETE, ApplicationStatus.WITHDRAWN, EXCLUDED)
NONE_GIVEN = "none"  # the sector filter's value for an application that names no sector yet


def standing(application: Application) -> str:
    """Where an application stands for staff: `excluded` when staff left it out, else its status."""
    return EXCLUDED if application.excluded else application.status


@dataclass(frozen=True, slots=True)
class ApplicationFilter:
    """Which applications staff look at (codes only, never personal data); None or False: any."""

    group: str | None = None  # a group code the application asks for
    sector: str | None = None  # a sector code, or NONE_GIVEN
    standing: str | None = None  # one of STANDINGS, or IN_DRAW
    late: bool | None = None
    duplicates_only: bool = False

    def admits(self, listed: ListedApplication) -> bool:
        """Tells whether an application passes every filter given."""
        application = listed.application
        if self.group is not None and self.group not in (application.groups or ()):
            return False
        if self.sector is not None and (application.sector or NONE_GIVEN) != self.sector:
            return False
        if self.standing == IN_DRAW:
            if not listed.in_draw:
                return False
        elif self.standing is not None and listed.standing != self.standing:
            return False
        if self.late is not None and application.late != self.late:
            return False
        return not self.duplicates_only or bool(listed.duplicates)


@dataclass(frozen=True, slots=True)
class ListedApplication:
    """One application as staff list it: where it stands, the possible duplicates it is part of, and the
    draw's outcome (`application_record`'s decision, group, reserve_rank, probability, attendance)."""

    application: Application
    standing: str
    in_draw: bool
    duplicates: tuple[Duplicate, ...]
    outcome: dict[str, Any]
    meetings: tuple[str, ...] = ()  # the meetings its person came to (slugs), as staff recorded


async def listed_applications(store: Store, chosen: ApplicationFilter | None = None) -> list[ListedApplication]:
    """The applications that pass the filter, oldest first, with their duplicates and the draw's outcome."""
    every = await _listed(store, await list_applications(store))
    return [listed for listed in every if chosen is None or chosen.admits(listed)]


async def listed_application(store: Store, reference: str) -> ListedApplication | None:
    """One application (`Z-12`) as staff read it, with the meetings its person came to; None when unknown."""
    application = await application_by_reference(store, reference)
    if application is None:
        return None
    (listed,) = await _listed(store, [application])
    came = (await meeting_attendance(store)).get(application.id, [])
    return ListedApplication(
        listed.application, listed.standing, listed.in_draw, listed.duplicates, listed.outcome, tuple(came)
    )


async def _listed(store: Store, applications: Sequence[Application]) -> list[ListedApplication]:
    duplicates: dict[str, list[Duplicate]] = {}
    for duplicate in await find_duplicates(store):
        for reference in duplicate.references:
            duplicates.setdefault(reference, []).append(duplicate)
    placements = await placements_by_application(store)
    decided = await current_draw(store) is not None  # as the export: a decision once a draw is stored
    return [
        ListedApplication(
            application=application,
            standing=standing(application),
            in_draw=in_the_draw(application),
            duplicates=tuple(duplicates.get(application.reference, ())),
            outcome=_outcome(application, placements.get(application.id, ()), decided),
        )
        for application in applications
    ]
