"""The working groups' draw in the console (coordinators): where the call and the draw stand, a dry run with its
report, the real draw, the decisions, replacements from the reserve lists and the sign-in sheets.

Everything is done by what `wspolnota groups …` calls (bot/working_groups.py's `WorkingGroups`: `state`,
`select`, `notify`, `replace`, `report`, `roster`), audited there as on the command line with the staff
account as actor. A dry run is stored nowhere, as on the command line: its result is the POST's own page
(200, nothing changed), and its report is that dry run drawn again from its seed (the same seed on the same
applications gives the same groups), sent as a download.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from aiohttp import web

from bot.console.page import Page, Words, attachment
from bot.group_mail import GroupsError
from bot.working_groups import DrawState, WorkingGroups, working_groups
from handlers.definitions.i18n import Language
from handlers.definitions.recruitment import WARSAW, Recruitment
from handlers.email.decisions import group_meetings
from selection.model import Draw, QuotaInfeasible, SelectionUnavailable

SEED_MAX = 2**63 - 1  # the stored seed is a BIGINT
REPORTS = {"html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8"}
NOTES = ("drawn", "notified", "replaced")  # what a redirect after a POST may say (?note=…)


@dataclass(frozen=True, slots=True)
class Refusal:
    """What cannot be done now, in the command line's words, and what staff could change."""

    message: str
    relaxations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SectorLine:
    label: str
    pool: int
    quota: str
    selected: int


@dataclass(frozen=True, slots=True)
class DrawnGroup:
    """One group of a dry run as the page shows it: references only, never names."""

    code: str
    name: str
    seats: int
    pool: int
    lottery: bool
    sectors: tuple[SectorLine, ...]
    selected: tuple[str, ...]
    reserve: tuple[str, ...]  # ranked, as many as would be stored
    notes: tuple[str, ...]


def _reference(application: int) -> str:
    return f"Z-{application}"


def _seed(value: str) -> int | None:
    """A seed typed in the form: a whole number above 0 (0 would let the library pick one: not reproducible)."""
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 19:
        return None
    seed = int(value)
    return seed if 0 < seed <= SEED_MAX else None


def _warsaw(moment: datetime) -> str:
    return f"{moment.astimezone(WARSAW):%Y-%m-%d %H:%M}"


def drawn_groups(draw: Draw, call: Recruitment, language: Language) -> list[DrawnGroup]:
    """A draw's groups by sector against the quotas (as `groups select` prints them), for the page."""
    sector_of = {c.id: c.sector for c in draw.candidates}
    groups = []
    for group in draw.groups:
        pool = Counter(sector_of[i] for i in group.pool)
        seats = Counter(sector_of[i] for i in group.selected)
        lines = []
        for sector in call.sectors:
            quota = call.quota(group.code, sector.code)
            lines.append(
                SectorLine(sector.label(language), pool[sector.code], f"{quota.min}–{quota.max}", seats[sector.code])
            )
        known = call.group(group.code)
        groups.append(
            DrawnGroup(
                code=group.code,
                name=known.name(language) if known else group.code,
                seats=group.seats,
                pool=len(group.pool),
                lottery=group.lottery,
                sectors=tuple(lines),
                selected=tuple(_reference(i) for i in group.selected),
                reserve=tuple(_reference(i) for i in group.reserve[: call.reserve_size]),
                notes=group.notes,
            )
        )
    return groups


class SelectionPage(Page):
    """/staff/groups: the draw and what follows it, for coordinators."""

    WORDS: ClassVar[Words] = {
        "pl": {
            "groups_heading": "Grupy robocze: losowanie",
            "groups_off": "Grupy robocze są wyłączone: brak pliku config/recruitment.yaml "
            "(zob. docs/working-groups.md).",
            "groups_call": "Nabór",
            "groups_deadline": "Zgłoszenia do",
            "groups_decision_date": "Decyzje do",
            "groups_meetings": "Spotkania",
            "groups_optional": "termin opcjonalny",
            "groups_total": "Wszystkie",
            "groups_in_draw": "W losowaniu",
            "groups_late": "Spóźnione",
            "groups_excluded": "Wykluczone",
            "groups_see_applications": "Przejdź do zgłoszeń",
            "groups_draw": "Stan losowania",
            "groups_no_draw": "Jeszcze nie losowano.",
            "groups_drawn": "Wylosowano z ziarnem {seed} ({when}); decyzje jeszcze nie wysłane — "
            "można losować ponownie.",
            "groups_decided": "Ziarno {seed}; decyzje przekazane do wysyłki {when} (czas warszawski). "
            "Losowanie jest ostateczne.",
            "groups_warning": "UWAGA: każda osoba musi dostać odpowiedź do {date} ({when}). "
            "Jeśli decyzje nie zostaną wysłane, działająca usługa wyśle zapisane decyzje sama o 9:00 tego dnia.",
            "groups_warning_draw": "Najpierw losowanie, potem wysłanie decyzji.",
            "groups_today": "dziś",
            "groups_in_days": "za {days} dni",
            "groups_in_one_day": "jutro",
            "groups_days_ago": "{days} dni temu",
            "groups_yesterday": "wczoraj",
            "groups_seats_heading": "Miejsca w grupach",
            "groups_group": "Grupa",
            "groups_seats": "Miejsca",
            "groups_held": "Zajęte",
            "groups_confirmed": "Potwierdzone",
            "groups_declined": "Odmowy",
            "groups_waiting": "Czekają na odpowiedź",
            "groups_freed": "Zwolnione",
            "groups_reserve": "Lista rezerwowa",
            "groups_moved": "Zmiany: zwolnione {freed}; zaproponowane {offered}",
            "groups_none": "brak",
            "groups_reason_declined": "odmowa",
            "groups_reason_withdrawn": "wycofane",
            "groups_reason_excluded": "wykluczone",
            "groups_reason_no_answer": "brak odpowiedzi w terminie",
            "groups_report": "Sprawozdanie z losowania (HTML)",
            "groups_report_md": "Sprawozdanie (Markdown)",
            "groups_seed": "Ziarno losowania (liczba całkowita większa od 0)",
            "groups_dry_heading": "Próbne losowanie",
            "groups_dry_explain": "Pokazuje wynik, niczego nie zapisując. To samo ziarno na tych samych "
            "zgłoszeniach da te same grupy.",
            "groups_dry_button": "Losuj próbnie",
            "groups_real_heading": "Losowanie właściwe",
            "groups_real_explain": "Zapisuje wynik w miejsce poprzedniego. Ziarno trzeba ogłosić przed losowaniem.",
            "groups_confirm_draw": "Ziarno zostało ogłoszone; po wysłaniu decyzji losowania nie da się powtórzyć.",
            "groups_real_button": "Losuj i zapisz",
            "groups_stands": "Decyzje zostały wysłane: losowanie jest ostateczne. Wolne miejsca wypełnia "
            "lista rezerwowa.",
            "groups_notify_heading": "Decyzje",
            "groups_notify_explain": "Każda osoba dostaje jedną wiadomość (e-mailem, a kto zgłosił się przez "
            "Telegram, także tam): wybrani z zaproszeniem do kalendarza, lista rezerwowa z miejscem, pozostali "
            "z odmową. Nikt nie dostanie jej dwa razy.",
            "groups_confirm_notify": "Wiem, że po wysłaniu decyzji losowanie jest ostateczne.",
            "groups_notify_button": "Wyślij decyzje",
            "groups_replace_heading": "Zastępstwa",
            "groups_replace_explain": "Zwalnia miejsca osób, które odmówiły, wycofały się, zostały wykluczone albo "
            "nie potwierdziły w terminie, i proponuje je kolejnym osobom z listy rezerwowej (w ramach limitów).",
            "groups_replace_button": "Uzupełnij z listy rezerwowej",
            "groups_rosters_heading": "Listy obecności (PDF)",
            "groups_roster_all": "wszystkie spotkania",
            "groups_dry_result": "Wynik próbnego losowania (ziarno {seed}): nic nie zapisano",
            "groups_pool_line": "{selected} z {seats} miejsc, pula {pool}",
            "groups_everyone": "wszyscy (nie więcej chętnych niż miejsc)",
            "groups_lottery": "losowanie",
            "groups_sector": "Sektor",
            "groups_pool": "W puli",
            "groups_quota": "Limit",
            "groups_selected": "Wybrani",
            "groups_selected_refs": "Wybrani (numery zgłoszeń)",
            "groups_reserve_refs": "Lista rezerwowa, w kolejności",
            "groups_notes": "Uwagi",
            "groups_dry_report": "Pobierz sprawozdanie z tej próby (HTML)",
            "groups_refused": "Nie da się tego zrobić:",
            "groups_relax": "Co można zmienić w config/recruitment.yaml (i losować ponownie):",
            "groups_bad_seed": "Ziarno musi być liczbą całkowitą większą od 0.",
            "groups_unconfirmed_draw": "Zaznacz, że ziarno zostało ogłoszone.",
            "groups_unconfirmed_notify": "Zaznacz potwierdzenie przed wysłaniem decyzji.",
            "groups_note_drawn": "Losowanie zapisane.",
            "groups_note_notified": "Decyzje przekazane do wysyłki: {told} os.",
            "groups_note_replaced": "Zwolniono miejsc: {freed}; zaproponowano: {offered}.",
            "groups_no_such_group": "Nie ma takiej grupy albo spotkania.",
            "groups_no_report": "Jeszcze nie losowano: nie ma sprawozdania.",
        },
        "en": {
            "groups_heading": "Working groups: the draw",
            "groups_off": "The working groups are off: there is no config/recruitment.yaml "
            "(see docs/working-groups.md).",
            "groups_call": "The call",
            "groups_deadline": "Applications until",
            "groups_decision_date": "Decisions by",
            "groups_meetings": "Meetings",
            "groups_optional": "optional date",
            "groups_total": "All",
            "groups_in_draw": "In the draw",
            "groups_late": "Late",
            "groups_excluded": "Excluded",
            "groups_see_applications": "Go to the applications",
            "groups_draw": "Where the draw stands",
            "groups_no_draw": "No draw yet.",
            "groups_drawn": "Drawn with seed {seed} ({when}); decisions not sent — it may be drawn again.",
            "groups_decided": "Seed {seed}; decisions queued {when} (Warsaw time). The draw stands.",
            "groups_warning": "WARNING: every applicant must hear back by {date} ({when}). If the decisions are "
            "not sent, the running service sends the stored ones itself at 09:00 on that day.",
            "groups_warning_draw": "Draw first, then send the decisions.",
            "groups_today": "today",
            "groups_in_days": "in {days} days",
            "groups_in_one_day": "tomorrow",
            "groups_days_ago": "{days} days ago",
            "groups_yesterday": "yesterday",
            "groups_seats_heading": "Seats by group",
            "groups_group": "Group",
            "groups_seats": "Seats",
            "groups_held": "Held",
            "groups_confirmed": "Confirmed",
            "groups_declined": "Declined",
            "groups_waiting": "Waiting for an answer",
            "groups_freed": "Freed",
            "groups_reserve": "Reserve list",
            "groups_moved": "Changes: freed {freed}; offered to {offered}",
            "groups_none": "none",
            "groups_reason_declined": "declined",
            "groups_reason_withdrawn": "withdrawn",
            "groups_reason_excluded": "excluded",
            "groups_reason_no_answer": "no answer in time",
            "groups_report": "The draw's report (HTML)",
            "groups_report_md": "The report (Markdown)",
            "groups_seed": "The draw's seed (a whole number above 0)",
            "groups_dry_heading": "Dry run",
            "groups_dry_explain": "Shows the result and stores nothing. The same seed on the same applications "
            "gives the same groups.",
            "groups_dry_button": "Draw a dry run",
            "groups_real_heading": "The real draw",
            "groups_real_explain": "Stores the result in place of the last one. Announce the seed before the draw.",
            "groups_confirm_draw": "The seed was announced; this cannot be redone after the decisions are sent.",
            "groups_real_button": "Draw and store",
            "groups_stands": "The decisions are out: the draw stands. Free seats are filled from the reserve lists.",
            "groups_notify_heading": "Decisions",
            "groups_notify_explain": "Each applicant gets one message (by email, and in Telegram for those who "
            "applied there): the selected with a calendar invitation, the reserve with their place, the others "
            "a no. Nobody is told twice.",
            "groups_confirm_notify": "I know the draw stands once the decisions are sent.",
            "groups_notify_button": "Send the decisions",
            "groups_replace_heading": "Replacements",
            "groups_replace_explain": "Frees the seats of those who declined, withdrew, were excluded or did not "
            "confirm in time, and offers each to the next on the reserve list who keeps the quotas.",
            "groups_replace_button": "Fill from the reserve lists",
            "groups_rosters_heading": "Sign-in sheets (PDF)",
            "groups_roster_all": "every meeting",
            "groups_dry_result": "The dry run's result (seed {seed}): nothing stored",
            "groups_pool_line": "{selected} of {seats} seats, a pool of {pool}",
            "groups_everyone": "everyone (no more applicants than seats)",
            "groups_lottery": "lottery",
            "groups_sector": "Sector",
            "groups_pool": "In the pool",
            "groups_quota": "Quota",
            "groups_selected": "Selected",
            "groups_selected_refs": "Selected (application references)",
            "groups_reserve_refs": "Reserve list, in order",
            "groups_notes": "Notes",
            "groups_dry_report": "Download this dry run's report (HTML)",
            "groups_refused": "This cannot be done:",
            "groups_relax": "What staff could change in config/recruitment.yaml (then draw again):",
            "groups_bad_seed": "The seed must be a whole number above 0.",
            "groups_unconfirmed_draw": "Tick the box to say the seed was announced.",
            "groups_unconfirmed_notify": "Tick the box before sending the decisions.",
            "groups_note_drawn": "The draw is stored.",
            "groups_note_notified": "Decisions queued for {told} applicants.",
            "groups_note_replaced": "Seats freed: {freed}; offered: {offered}.",
            "groups_no_such_group": "There is no such group or meeting.",
            "groups_no_report": "There is no draw yet, so no report.",
        },
    }

    def _found(self) -> WorkingGroups | None:
        return working_groups(self.service)

    def _off(self, request: web.Request, status: int = 200) -> web.Response:
        return self.render(request, "groups.html", {"off": True}, status=status)

    def _missing(self, request: web.Request, key: str) -> web.Response:
        return self.render(request, "message.html", {"message": self.words(request)[key]}, status=404)

    # -- the overview ----------------------------------------------------------------------------

    async def groups(self, request: web.Request) -> web.StreamResponse:
        found = self._found()
        if found is None:
            return self._off(request)
        return await self._page(request, found, note=self._note(request))

    def _note(self, request: web.Request) -> str | None:
        """The note a redirect after a POST carries: which, with its counts (anything else is ignored)."""
        query, words = request.query, self.words(request)
        note = query.get("note", "")
        if note not in NOTES:
            return None
        counts = {key: query.get(key, "0") for key in ("told", "freed", "offered")}
        if not all(value.isascii() and value.isdigit() and len(value) < 7 for value in counts.values()):
            return None
        return words[f"groups_note_{note}"].format(**{key: int(value) for key, value in counts.items()})

    async def _page(
        self,
        request: web.Request,
        found: WorkingGroups,
        *,
        note: str | None = None,
        problem: str | None = None,
        refusal: Refusal | None = None,
        dry: Draw | None = None,
        seed: str = "",
        status: int = 200,
    ) -> web.Response:
        from reports.applications import collect_application_figures

        language, words, call = self.language(request), self.words(request), found.call
        state = await found.state()
        figures = await collect_application_figures(self.store, call)
        names = {group.code: group.name(language) for group in call.groups}
        context: dict[str, Any] = {
            "off": False,
            "note": note,
            "problem": words[problem] if problem else None,
            "refusal": refusal,
            "seed": seed,
            "call": {
                "deadline": _warsaw(call.deadline),
                "decision_date": call.decision_date.isoformat(),
                "groups": [
                    {
                        "code": group.code,
                        "name": names[group.code],
                        "seats": group.seats,
                        "meetings": [
                            {
                                "slug": event.slug,
                                "name": event.name(language),
                                "when": _warsaw(event.starts),
                                "address": event.address,
                                "optional": event.optional,
                            }
                            for event in group_meetings(call, group.code, self.service.config.events)
                        ],
                    }
                    for group in call.groups
                ],
            },
            "figures": figures,
            "state": state,
            "status_line": self._status_line(state, words),
            "warning": self._warning(state, call, words),
            "seats": [
                {
                    "group": seats,
                    "name": names.get(seats.code, seats.code),
                    "freed": ", ".join(
                        f"{_reference(a)} ({words.get(f'groups_reason_{why}', why)})" for a, why in seats.freed
                    )
                    or words["groups_none"],
                    "offered": ", ".join(_reference(a) for a in seats.promoted) or words["groups_none"],
                    "reserve": [_reference(a) for a in seats.reserve],
                }
                for seats in state.groups
            ],
            "dry": drawn_groups(dry, call, language) if dry is not None else None,
            "dry_seed": dry.seed if dry is not None else None,
        }
        return self.render(request, "groups.html", context, status=status)

    @staticmethod
    def _status_line(state: DrawState, words: dict[str, str]) -> str:
        if state.seed is None or state.drawn_at is None:
            return words["groups_no_draw"]
        if state.decisions_at is None:
            return words["groups_drawn"].format(seed=state.seed, when=_warsaw(state.drawn_at))
        return words["groups_decided"].format(seed=state.seed, when=_warsaw(state.decisions_at))

    @staticmethod
    def _warning(state: DrawState, call: Recruitment, words: dict[str, str]) -> str | None:
        left = state.days_left
        if left is None:
            return None
        if left == 0:
            when = words["groups_today"]
        elif left == 1:
            when = words["groups_in_one_day"]
        elif left > 0:
            when = words["groups_in_days"].format(days=left)
        elif left == -1:
            when = words["groups_yesterday"]
        else:
            when = words["groups_days_ago"].format(days=-left)
        warning = words["groups_warning"].format(date=call.decision_date.isoformat(), when=when)
        return f"{warning} {words['groups_warning_draw']}" if state.seed is None else warning

    # -- the draw --------------------------------------------------------------------------------

    async def groups_select(self, request: web.Request) -> web.StreamResponse:
        found = self._found()
        if found is None:
            return self._off(request, status=409)
        form = await request.post()
        typed = str(form.get("seed", ""))[:40]
        seed = _seed(typed)
        if seed is None:
            return await self._page(request, found, problem="groups_bad_seed", seed=typed, status=400)
        dry_run = form.get("dry_run") == "1"
        if not dry_run and form.get("confirm") != "1":
            return await self._page(request, found, problem="groups_unconfirmed_draw", seed=typed, status=400)
        try:
            # the draw runs in a child process, awaited in a thread: the event loop goes on meanwhile
            drawn = await found.select(seed, dry_run=dry_run, actor=self.actor(request))
        except (GroupsError, SelectionUnavailable) as err:
            return await self._page(request, found, refusal=Refusal(str(err)), seed=typed, status=409)
        except QuotaInfeasible as err:
            refusal = Refusal(str(err), tuple(err.relaxations))
            return await self._page(request, found, refusal=refusal, seed=typed, status=409)
        if not dry_run:
            raise web.HTTPSeeOther(f"{self.prefix}/groups?note=drawn")
        if form.get("report") == "1":
            from reports.selection_report import render_html, selection_report

            report = selection_report(drawn, found.call, drawn_at=self.clock(), language=self.language(request))
            name = f"groups-dry-run-report-seed-{seed}.html"
            return attachment(name, REPORTS["html"], render_html(report).encode("utf-8"))
        return await self._page(request, found, dry=drawn, seed=typed)

    async def groups_report(self, request: web.Request) -> web.StreamResponse:
        from reports.selection_report import render_html, render_markdown

        found = self._found()
        if found is None:
            return self._off(request, status=404)
        fmt = request.query.get("format", "html")
        if fmt not in REPORTS:
            fmt = "html"
        try:
            report = await found.report(self.language(request))
        except GroupsError:
            return self._missing(request, "groups_no_report")
        text = render_html(report) if fmt == "html" else render_markdown(report)
        return attachment(f"groups-report-seed-{report.seed}.{fmt}", REPORTS[fmt], text.encode("utf-8"))

    # -- the decisions and what follows ----------------------------------------------------------

    async def groups_notify(self, request: web.Request) -> web.StreamResponse:
        found = self._found()
        if found is None:
            return self._off(request, status=409)
        form = await request.post()
        if form.get("confirm") != "1":
            return await self._page(request, found, problem="groups_unconfirmed_notify", status=400)
        try:
            told = await found.notify(self.actor(request))
        except GroupsError as err:
            return await self._page(request, found, refusal=Refusal(str(err)), status=409)
        raise web.HTTPSeeOther(f"{self.prefix}/groups?note=notified&told={told}")

    async def groups_replace(self, request: web.Request) -> web.StreamResponse:
        found = self._found()
        if found is None:
            return self._off(request, status=409)
        try:
            done = await found.replace(self.actor(request))
        except GroupsError as err:
            return await self._page(request, found, refusal=Refusal(str(err)), status=409)
        freed = sum(len(r.released) for r in done)
        offered = sum(len(r.offered) for r in done)
        raise web.HTTPSeeOther(f"{self.prefix}/groups?note=replaced&freed={freed}&offered={offered}")

    async def groups_roster(self, request: web.Request) -> web.StreamResponse:
        found = self._found()
        if found is None:
            return self._off(request, status=404)
        group = request.match_info["group"]
        meeting = request.query.get("meeting") or None
        with tempfile.TemporaryDirectory(prefix="wspolnota-console-") as folder:
            target = Path(folder) / "roster.pdf"
            try:
                await found.roster(
                    group, target, meeting=meeting, language=self.language(request), actor=self.actor(request)
                )
            except GroupsError:
                return self._missing(request, "groups_no_such_group")
            body = target.read_bytes()
        name = f"lista-obecnosci-{group}" + (f"-{meeting}" if meeting else "") + ".pdf"
        return attachment(name, "application/pdf", body)
