"""The working groups' applications (coordinators): the figures `wspolnota groups status` prints, the list
with filters, one application read whole, and exclude or include it with a reason — the same storage and
report functions the command line calls (storage/applications.py, reports/applications.py).

Names and email addresses are shown on one application's page only (to recognise a duplicate), never in
the list; the filters travel in the address as codes, never as personal data.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote, urlencode

from aiohttp import web

from bot.console.page import Page, Words
from handlers.definitions.i18n import Language
from handlers.definitions.recruitment import WARSAW, Recruitment
from reports.applications import (
    IN_DRAW,
    NO_SECTOR,
    NONE_GIVEN,
    STANDINGS,
    ApplicationFilter,
    ListedApplication,
    collect_application_figures,
    listed_application,
    listed_applications,
)
from storage.applications import UnknownApplication, exclude_application, include_application
from storage.audit import audit
from storage.selection import current_draw

PER_PAGE = 100  # rows a page: a call of a few hundred applications is a few pages
REASON_LIMIT = 500  # characters of an exclusion's reason: a sentence for staff, not a file
LATE = {"yes": True, "no": False}
NOTES = {"excluded": "applications_note_excluded", "included": "applications_note_included"}


class Refused(Exception):
    """A filter the page does not know: its text key."""


class ApplicationsPage(Page):
    """The applications' figures and list, one application, and staff's exclusions."""

    WORDS: ClassVar[Words] = {
        "pl": {
            "applications_heading": "Zgłoszenia do grup roboczych",
            "applications_off": "Grupy robocze są wyłączone: na serwerze nie ma pliku recruitment.yaml.",
            "applications_to_groups": "Losowanie, decyzje i listy obecności: strona Grupy robocze.",
            "applications_summary": "Podsumowanie",
            "applications_call": "Nabór od {opens} do {deadline} (czas warszawski); decyzje do {decision}.",
            "applications_total": "Wszystkie",
            "applications_in_draw_count": "W losowaniu",
            "applications_in_draw_explain": "W losowaniu są zgłoszenia kompletne, na czas, niewykluczone, "
            "od osób, które mogą przyjść na spotkania.",
            "applications_no_group": "W tym bez wybranej grupy: {count}.",
            "applications_by_channel": "Według kanału: {channels}.",
            "applications_by_sector": "W losowaniu według grupy i sektora, wobec miejsc",
            "applications_short": "! mniej niż minimum sektora w recruitment.yaml",
            "applications_no_sector": "bez sektora",
            "applications_seats": "Miejsca",
            "applications_per_seat": "Na miejsce",
            "applications_over": "więcej chętnych niż miejsc",
            "applications_by_status": "Wszystkie zgłoszenia do każdej grupy",
            "applications_draw_none": "Losowania jeszcze nie było.",
            "applications_draw_stored": "Losowanie z ziarnem {seed} ({at}); decyzje jeszcze niewysłane.",
            "applications_draw_sent": "Losowanie z ziarnem {seed}; decyzje wysłane {at}.",
            "applications_duplicates_count": "Możliwe duplikaty (ta sama osoba dwa razy?): {count}.",
            "applications_list": "Lista zgłoszeń",
            "applications_filter": "Pokaż",
            "applications_group": "Grupa",
            "applications_any_group": "wszystkie grupy",
            "applications_sector": "Sektor",
            "applications_any_sector": "wszystkie sektory",
            "applications_status": "Stan",
            "applications_any_status": "każdy stan",
            "applications_late": "Po terminie",
            "applications_late_any": "bez znaczenia",
            "applications_late_yes": "tak",
            "applications_late_no": "nie",
            "applications_duplicates_only": "Tylko możliwe duplikaty",
            "applications_found": "Pasujących zgłoszeń: {count}.",
            "applications_page": "Strona {page} z {pages}",
            "applications_none": "Żadne zgłoszenie nie pasuje.",
            "applications_bad_filter": "Nieznana grupa, sektor, stan albo strona: pokazuję wszystkie zgłoszenia.",
            "applications_reference": "Numer",
            "applications_received": "Wpłynęło (czas warszawski)",
            "applications_channel": "Kanał",
            "applications_groups": "Grupy",
            "applications_duplicate": "Możliwy duplikat",
            "applications_decision": "Decyzja",
            "applications_previous": "Poprzednia strona",
            "applications_next": "Następna strona",
            "applications_status_complete": "kompletne",
            "applications_status_incomplete": "niekompletne",
            "applications_status_withdrawn": "wycofane",
            "applications_status_excluded": "wykluczone",
            "applications_status_in_draw": "w losowaniu",
            "applications_decision_selected": "wybrana osoba",
            "applications_decision_reserve": "rezerwa (miejsce {rank})",
            "applications_decision_not_selected": "niewybrana osoba",
            "applications_attendance_confirmed": "potwierdziła udział",
            "applications_attendance_declined": "odmówiła",
            "applications_by_name": "to samo imię i nazwisko",
            "applications_by_email": "ten sam e-mail",
            "applications_yes": "tak",
            "applications_no": "nie",
            "applications_unknown": "Nie ma zgłoszenia o takim numerze.",
            "applications_back": "Wszystkie zgłoszenia",
            "applications_one": "Zgłoszenie {reference}",
            "applications_name": "Imię i nazwisko",
            "applications_email": "E-mail",
            "applications_email_verified": "(potwierdzony)",
            "applications_organisation": "Organizacja",
            "applications_description": "Opis doświadczenia",
            "applications_available": "Może przyjść na wszystkie spotkania",
            "applications_language": "Język",
            "applications_updated": "Ostatnia zmiana (czas warszawski)",
            "applications_flagged": "Może to ta sama osoba co",
            "applications_reason": "Powód wykluczenia",
            "applications_outcome": "Po losowaniu",
            "applications_seat_in": "Miejsce w grupie",
            "applications_probability": "Szansa na miejsce",
            "applications_attendance": "Odpowiedź",
            "applications_meetings": "Obecność na spotkaniach",
            "applications_exclude_heading": "Wyklucz z losowania",
            "applications_exclude_explain": "Zgłoszenie zostaje w bazie, ale nie bierze udziału w losowaniu. "
            "Powód trafia do dziennika zdarzeń: napisz go bez danych osobowych (np. „poniżej 16 lat”).",
            "applications_exclude_seat": "Ta osoba ma miejsce w grupie: po wykluczeniu zwolni się ono przy "
            "najbliższym uzupełnianiu z listy rezerwowej (strona Grupy robocze).",
            "applications_reason_field": "Powód (wymagany)",
            "applications_exclude": "Wyklucz",
            "applications_include_heading": "Przywróć do losowania",
            "applications_include": "Przywróć",
            "applications_reason_empty": "Podaj powód wykluczenia.",
            "applications_reason_long": "Powód jest za długi: najwyżej 500 znaków.",
            "applications_note_excluded": "Zgłoszenie wykluczone z losowania.",
            "applications_note_included": "Zgłoszenie przywrócone do losowania.",
        },
        "en": {
            "applications_heading": "Working-group applications",
            "applications_off": "The working groups are off: there is no recruitment.yaml on the server.",
            "applications_to_groups": "The draw, decisions and sign-in sheets: the Working groups page.",
            "applications_summary": "Summary",
            "applications_call": "Applications from {opens} until {deadline} (Warsaw time); decisions by {decision}.",
            "applications_total": "In all",
            "applications_in_draw_count": "In the draw",
            "applications_in_draw_explain": "In the draw: complete, on time, not excluded, from people who can "
            "attend the meetings.",
            "applications_no_group": "Of which name no group yet: {count}.",
            "applications_by_channel": "By channel: {channels}.",
            "applications_by_sector": "In the draw by group and sector, against the seats",
            "applications_short": "! fewer than the sector's minimum in recruitment.yaml",
            "applications_no_sector": "no sector",
            "applications_seats": "Seats",
            "applications_per_seat": "Per seat",
            "applications_over": "more applicants than seats",
            "applications_by_status": "Every application that asked for each group",
            "applications_draw_none": "No draw yet.",
            "applications_draw_stored": "Draw with seed {seed} ({at}); decisions not sent yet.",
            "applications_draw_sent": "Draw with seed {seed}; decisions sent {at}.",
            "applications_duplicates_count": "Possible duplicates (one person twice?): {count}.",
            "applications_list": "Applications",
            "applications_filter": "Show",
            "applications_group": "Group",
            "applications_any_group": "every group",
            "applications_sector": "Sector",
            "applications_any_sector": "every sector",
            "applications_status": "Status",
            "applications_any_status": "any status",
            "applications_late": "Late",
            "applications_late_any": "either",
            "applications_late_yes": "yes",
            "applications_late_no": "no",
            "applications_duplicates_only": "Possible duplicates only",
            "applications_found": "Matching applications: {count}.",
            "applications_page": "Page {page} of {pages}",
            "applications_none": "No application matches.",
            "applications_bad_filter": "An unknown group, sector, status or page: showing every application.",
            "applications_reference": "Reference",
            "applications_received": "Received (Warsaw time)",
            "applications_channel": "Channel",
            "applications_groups": "Groups",
            "applications_duplicate": "Possible duplicate",
            "applications_decision": "Decision",
            "applications_previous": "Previous page",
            "applications_next": "Next page",
            "applications_status_complete": "complete",
            "applications_status_incomplete": "incomplete",
            "applications_status_withdrawn": "withdrawn",
            "applications_status_excluded": "excluded",
            "applications_status_in_draw": "in the draw",
            "applications_decision_selected": "selected",
            "applications_decision_reserve": "reserve (rank {rank})",
            "applications_decision_not_selected": "not selected",
            "applications_attendance_confirmed": "confirmed",
            "applications_attendance_declined": "declined",
            "applications_by_name": "the same name",
            "applications_by_email": "the same email",
            "applications_yes": "yes",
            "applications_no": "no",
            "applications_unknown": "There is no application with this reference.",
            "applications_back": "All applications",
            "applications_one": "Application {reference}",
            "applications_name": "Name",
            "applications_email": "Email",
            "applications_email_verified": "(verified)",
            "applications_organisation": "Organisation",
            "applications_description": "Experience",
            "applications_available": "Can attend every meeting",
            "applications_language": "Language",
            "applications_updated": "Last changed (Warsaw time)",
            "applications_flagged": "May be the same person as",
            "applications_reason": "Why excluded",
            "applications_outcome": "After the draw",
            "applications_seat_in": "Seat in group",
            "applications_probability": "Chance of a seat",
            "applications_attendance": "Answer",
            "applications_meetings": "Meetings attended",
            "applications_exclude_heading": "Exclude from the draw",
            "applications_exclude_explain": "The application stays stored but takes no part in the draw. "
            "The reason goes to the audit log: write it without personal data (e.g. 'younger than 16').",
            "applications_exclude_seat": "This person holds a seat: once excluded, it is freed at the next "
            "replacement from the reserve list (the Working groups page).",
            "applications_reason_field": "Reason (required)",
            "applications_exclude": "Exclude",
            "applications_include_heading": "Take back into the draw",
            "applications_include": "Include",
            "applications_reason_empty": "Say why the application is excluded.",
            "applications_reason_long": "The reason is too long: 500 characters at most.",
            "applications_note_excluded": "The application is excluded from the draw.",
            "applications_note_included": "The application is back in the draw.",
        },
    }

    # -- the list --------------------------------------------------------------------------------

    async def applications(self, request: web.Request) -> web.StreamResponse:
        call = self.service.config.recruitment
        if call is None:
            return self._off(request, status=200)
        problem = None
        try:
            chosen, page = _chosen(call, request.query)
        except Refused as refused:
            (chosen, page), problem = (ApplicationFilter(), 1), str(refused)
        language = self.language(request)
        figures = await collect_application_figures(self.store, call)
        found = await listed_applications(self.store, chosen)
        pages = max(1, -(-len(found) // PER_PAGE))
        if page > pages:
            (chosen, page), problem = (ApplicationFilter(), 1), "applications_bad_filter"
            found = await listed_applications(self.store, chosen)
            pages = max(1, -(-len(found) // PER_PAGE))
        shown = found[(page - 1) * PER_PAGE : page * PER_PAGE]
        words = self.words(request)
        query = _query(chosen)
        context = {
            "problem": words[problem] if problem else None,
            "call_line": words["applications_call"].format(
                opens=f"{call.opens.astimezone(WARSAW):%Y-%m-%d %H:%M}",
                deadline=f"{call.deadline.astimezone(WARSAW):%Y-%m-%d %H:%M}",
                decision=call.decision_date.isoformat(),
            ),
            "figures": figures,
            "channels": ", ".join(f"{words.get('channel_' + c, c)} {n}" for c, n in figures.by_channel.items()) or "—",
            "draw_line": await self._draw_line(request),
            "sectors": [(s.code, s.label(language)) for s in call.sectors],
            "no_sector_column": any(NO_SECTOR in g.by_sector for g in figures.groups),
            "no_sector": NO_SECTOR,
            "group_names": {g.code: g.name(language) for g in call.groups},
            "groups": [(g.code, g.name(language)) for g in call.groups],
            "standings": [*STANDINGS, IN_DRAW],
            "none_given": NONE_GIVEN,
            "chosen": chosen,
            "late_choice": next((k for k, v in LATE.items() if v == chosen.late), ""),
            "rows": [self._row(call, listed, language, words) for listed in shown],
            "count": len(found),
            "page": page,
            "pages": pages,
            "previous": _page_link(self.prefix, query, page - 1) if page > 1 else None,
            "next": _page_link(self.prefix, query, page + 1) if page < pages else None,
        }
        status = 400 if problem else 200
        return self.render(request, "applications.html", context, status=status)

    def _row(
        self, call: Recruitment, listed: ListedApplication, language: Language, words: dict[str, str]
    ) -> dict[str, Any]:
        application = listed.application
        others = sorted({r for d in listed.duplicates for r in d.references if r != application.reference}, key=_number)
        return {
            "reference": application.reference,
            "href": _application_link(self.prefix, application.reference),
            "received": f"{application.received_at.astimezone(WARSAW):%Y-%m-%d %H:%M}",
            "channel": words.get(f"channel_{application.channel}", application.channel),
            "groups": ", ".join(_group_name(call, code, language) for code in application.groups or ()) or "—",
            "sector": self._sector(application.sector, language, words),
            "standing": words[f"applications_status_{listed.standing}"],
            "late": words["applications_yes" if application.late else "applications_no"],
            "duplicates": others,
            "decision": _decision(listed.outcome, words),
        }

    def _sector(self, code: str | None, language: Language, words: dict[str, str]) -> str:
        call = self.service.config.recruitment
        sector = call.sector(code) if call is not None and code else None
        if sector is not None:
            return sector.label(language)
        return code or words["applications_no_sector"]

    async def _draw_line(self, request: web.Request) -> str:
        words = self.words(request)
        draw = await current_draw(self.store)
        if draw is None:
            return words["applications_draw_none"]
        if draw.decisions_at is None:
            at = f"{draw.drawn_at.astimezone(WARSAW):%Y-%m-%d %H:%M}"
            return words["applications_draw_stored"].format(seed=draw.seed, at=at)
        at = f"{draw.decisions_at.astimezone(WARSAW):%Y-%m-%d %H:%M}"
        return words["applications_draw_sent"].format(seed=draw.seed, at=at)

    # -- one application -------------------------------------------------------------------------

    async def application(self, request: web.Request) -> web.StreamResponse:
        return await self._application_page(request, viewed=True)

    async def _application_page(
        self,
        request: web.Request,
        *,
        problem: str | None = None,
        reason: str = "",
        status: int = 200,
        viewed: bool = False,
    ) -> web.Response:
        call = self.service.config.recruitment
        if call is None:
            return self._off(request)
        listed = await listed_application(self.store, request.match_info["reference"])
        if listed is None:
            return self._unknown(request)
        language = self.language(request)
        words = self.words(request)
        application = listed.application
        if viewed:  # the page shows a person's name and address: who opened it is recorded, by reference only
            details = {"application": application.reference}
            await audit(self.store, self.actor(request), "application_view", details, self.clock())
        draw = await current_draw(self.store)
        flagged = [
            (reference, _application_link(self.prefix, reference), words[f"applications_by_{d.by}"])
            for d in listed.duplicates
            for reference in d.references
            if reference != application.reference
        ]
        outcome = listed.outcome
        context = {
            "a": application,
            "problem": words[problem] if problem else None,
            "note": words[NOTES[n]] if (n := request.query.get("note", "")) in NOTES else None,
            "reason": reason,
            "reason_limit": REASON_LIMIT,
            "standing": words[f"applications_status_{listed.standing}"],
            "in_draw": listed.in_draw,
            "received": f"{application.received_at.astimezone(WARSAW):%Y-%m-%d %H:%M:%S}",
            "updated": f"{application.updated_at.astimezone(WARSAW):%Y-%m-%d %H:%M:%S}",
            "channel": words.get(f"channel_{application.channel}", application.channel),
            "sector": self._sector(application.sector, language, words),
            "groups": [_group_name(call, code, language) for code in application.groups or ()],
            "available": {True: words["applications_yes"], False: words["applications_no"], None: "—"}[
                application.available
            ],
            "late": words["applications_yes" if application.late else "applications_no"],
            "flagged": flagged,
            "drawn": draw is not None,
            "decision": _decision(outcome, words),
            "seat_groups": outcome["group"],
            "probability": f"{outcome['probability']:.0%}" if outcome["probability"] is not None else None,
            "attendance": words[f"applications_attendance_{outcome['attendance']}"] if outcome["attendance"] else None,
            "meetings": listed.meetings,
            "holds_seat": draw is not None and draw.decisions_at is not None and outcome["decision"] == "selected",
            "base": _application_link(self.prefix, application.reference),
        }
        return self.render(request, "application.html", context, status=status)

    # -- exclude and include ----------------------------------------------------------------------

    async def application_exclude(self, request: web.Request) -> web.StreamResponse:
        if self.service.config.recruitment is None:
            return self._off(request)
        form = await request.post()
        reason = " ".join(str(form.get("reason", "")).split())  # as the command line keeps it: one line
        if not reason:
            return await self._application_page(request, problem="applications_reason_empty", status=400)
        if len(reason) > REASON_LIMIT:
            problem = "applications_reason_long"
            return await self._application_page(request, problem=problem, reason=reason, status=400)
        return await self._judge(request, "excluded", reason)

    async def application_include(self, request: web.Request) -> web.StreamResponse:
        if self.service.config.recruitment is None:
            return self._off(request)
        return await self._judge(request, "included", None)

    async def _judge(self, request: web.Request, note: str, reason: str | None) -> web.StreamResponse:
        """Excludes (with a reason) or includes as `wspolnota groups exclude/include` do: storage writes the
        audit log in the same transaction, as `staff:<id>`."""
        reference = request.match_info["reference"]
        listed = await listed_application(self.store, reference)
        if listed is None:
            return self._unknown(request)
        canonical, who, now = listed.application.reference, self.actor(request), self.clock()
        try:
            if reason is not None:
                await exclude_application(self.store, canonical, reason=reason, actor=who, now=now)
            else:
                await include_application(self.store, canonical, actor=who, now=now)
        except UnknownApplication:  # erased between the two reads
            return self._unknown(request)
        raise web.HTTPSeeOther(f"{_application_link(self.prefix, canonical)}?note={note}")

    # -- messages ---------------------------------------------------------------------------------

    def _off(self, request: web.Request, *, status: int = 404) -> web.Response:
        return self.render(request, "message.html", {"message": self.words(request)["applications_off"]}, status=status)

    def _unknown(self, request: web.Request) -> web.Response:
        message = self.words(request)["applications_unknown"]
        return self.render(request, "message.html", {"message": message}, status=404)


def _chosen(call: Recruitment, query: Any) -> tuple[ApplicationFilter, int]:
    """The filter and page a list's address asks for: codes the call knows only.

    Raises:
        Refused: on a value the call does not know, or a page that is not a number.
    """
    group = query.get("group") or None
    sector = query.get("sector") or None
    standing = query.get("status") or None
    late = query.get("late") or None
    if group is not None and call.group(group) is None:
        raise Refused("applications_bad_filter")
    if sector is not None and sector != NONE_GIVEN and call.sector(sector) is None:
        raise Refused("applications_bad_filter")
    if (standing is not None and standing not in (*STANDINGS, IN_DRAW)) or (late is not None and late not in LATE):
        raise Refused("applications_bad_filter")
    try:
        page = int(query.get("page") or "1")
    except ValueError:
        raise Refused("applications_bad_filter") from None
    if page < 1:
        raise Refused("applications_bad_filter")
    chosen = ApplicationFilter(
        group=group,
        sector=sector,
        standing=standing,
        late=LATE[late] if late is not None else None,
        duplicates_only=query.get("duplicates") == "1",
    )
    return chosen, page


def _query(chosen: ApplicationFilter) -> dict[str, str]:
    """The filter as the list's address holds it (codes only), to keep it from page to page."""
    late = next((k for k, v in LATE.items() if v == chosen.late), None)
    pairs = {
        "group": chosen.group,
        "sector": chosen.sector,
        "status": chosen.standing,
        "late": late,
        "duplicates": "1" if chosen.duplicates_only else None,
    }
    return {key: value for key, value in pairs.items() if value}


def _page_link(prefix: str, query: dict[str, str], page: int) -> str:
    return f"{prefix}/groups/applications?{urlencode({**query, 'page': str(page)})}"


def _application_link(prefix: str, reference: str) -> str:
    return f"{prefix}/groups/applications/{quote(reference, safe='')}"


def _group_name(call: Recruitment, code: str, language: Language) -> str:
    group = call.group(code)
    return group.name(language) if group is not None else code  # a group since taken out of the file: its code


def _number(reference: str) -> int:
    return int(reference.removeprefix("Z-"))


def _decision(outcome: dict[str, Any], words: dict[str, str]) -> str:
    """The draw's decision in words ("" before a draw, and for a withdrawn application)."""
    decision = outcome["decision"]
    if decision is None:
        return ""
    text = words[f"applications_decision_{decision}"].format(rank=outcome["reserve_rank"])
    if outcome["attendance"]:
        text += f" · {words['applications_attendance_' + outcome['attendance']]}"
    return text
