"""Staff accounts in the browser (coordinators): the accounts as `wspolnota staff list` shows them, and what
`staff add`, `staff disable` and `staff require-totp` do, made by the same functions (bot/console/staffing.py).

A setup link is shown once, on the page that answers the post (never in a redirect's address, where it
would land in a history or a log). A coordinator cannot disable their own account, so the console never
loses its last coordinator by a slip of the mouse.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from aiohttp import web

from bot.console.accounts import Role
from bot.console.page import Page, Words, actor
from bot.console.staffing import (
    BadEmail,
    UnknownRole,
    add_staff,
    disable_staff,
    new_setup_link,
    require_second_factor,
    setup_link,
)
from bot.service import Service
from handlers.engine.presenter import WARSAW
from storage.audit import latest_by_actor
from storage.staff_accounts import Account, AccountExists, NoSuchAccount, list_accounts

NOTES = ("disabled", "totp")  # what a redirect after a change may say: ?note=…


@dataclass(frozen=True, slots=True)
class Row:
    """One account as the page shows it."""

    id: int
    email: str
    role: str
    state: str  # a text key: team_state_…
    locked_until: str  # Warsaw time, when locked
    factor: str  # a text key: team_factor_…
    created: str
    signed_in: str  # the last sign-in, Warsaw time; "" when never
    you: bool
    disabled: bool
    enrolled: bool
    totp_required: bool


def state_of(account: Account, now: datetime) -> str:
    """Where an account stands: disabled, waiting for its setup link, locked for a while, or active."""
    if account.disabled:
        return "disabled"
    if account.password_hash is None or (account.totp_required and account.totp_secret is None):
        return "waiting"  # cannot sign in until its setup link is used
    if account.locked_until is not None and account.locked_until > now:
        return "locked"
    return "active"


def factor_of(account: Account) -> str:
    if account.totp_secret is not None:
        return "enrolled"
    return "required" if account.totp_required else "none"


class TeamPage(Page):
    """The staff accounts: list, add, disable, require a second factor."""

    WORDS: ClassVar[Words] = {
        "pl": {
            "team_heading": "Konta zespołu",
            "team_explain": "Każda zmiana trafia do dziennika zdarzeń. Kont się nie usuwa, tylko wyłącza.",
            "team_accounts": "Konta",
            "team_email": "Adres e-mail",
            "team_role": "Rola",
            "team_state": "Stan",
            "team_factor": "Drugi składnik",
            "team_created": "Utworzone",
            "team_signed_in": "Ostatnie logowanie",
            "team_actions": "Działania",
            "team_you": "(Ty)",
            "team_state_active": "aktywne",
            "team_state_waiting": "czeka na ustawienie hasła (link)",
            "team_state_disabled": "wyłączone",
            "team_state_locked": "zablokowane do {time}",
            "team_factor_none": "niewymagany",
            "team_factor_required": "wymagany, jeszcze nieskonfigurowany",
            "team_factor_enrolled": "wymagany, skonfigurowany",
            "team_none": "Nie ma jeszcze żadnych kont.",
            "team_add_heading": "Dodaj konto",
            "team_role_hint": "Teren: liczby na żywo, wydarzenia, plakaty. Analityk: także eksporty i raporty. "
            "Koordynator: wszystko, także konta zespołu.",
            "team_add": "Dodaj konto",
            "team_added": "Dodano konto {email} ({role}).",
            "team_link_heading": "Jednorazowy link do ustawienia hasła",
            "team_link_once": "Ten link pokazujemy tylko teraz. Przekaż go tej osobie prywatnym kanałem "
            "(np. w wiadomości do niej, nie na wspólnym czacie). Działa raz, przez {hours} godz.",
            "team_link_totp": "Konto {email} musi teraz skonfigurować aplikację uwierzytelniającą; "
            "do tego czasu nie zaloguje się.",
            "team_back": "Wróć do listy kont",
            "team_disable": "Wyłącz",
            "team_disable_confirm": "Tak, wyłącz konto {email}",
            "team_require_totp": "Wymagaj drugiego składnika",
            "team_new_link": "Nowy link do konfiguracji",
            "team_reset": "Nowy link do ustawienia hasła",
            "team_link_reset": "Nowy link dla {email}: ustawia nowe hasło (i ponownie aplikację uwierzytelniającą, "
            "jeśli jest wymagana) i kończy sesje tego konta. Do tego czasu działa dotychczasowe hasło.",
            "team_note_disabled": "Konto wyłączone: jego sesje zakończyły się, a link przestał działać.",
            "team_note_totp": "Od teraz to konto loguje się z kodem z aplikacji uwierzytelniającej.",
            "team_bad_email": "To nie jest poprawny adres e-mail.",
            "team_bad_role": "Wybierz rolę: teren, analityk albo koordynator.",
            "team_exists": "Konto z tym adresem już istnieje (także wyłączone konta zostają na liście).",
            "team_confirm_missing": "Zaznacz potwierdzenie, aby wyłączyć konto.",
            "team_not_yourself": "Nie możesz wyłączyć własnego konta. Poproś o to innego koordynatora.",
            "team_already_disabled": "To konto jest już wyłączone.",
            "team_unknown": "Nie ma takiego konta.",
        },
        "en": {
            "team_heading": "Staff accounts",
            "team_explain": "Every change is written to the audit log. Accounts are never deleted, only disabled.",
            "team_accounts": "Accounts",
            "team_email": "Email address",
            "team_role": "Role",
            "team_state": "State",
            "team_factor": "Second factor",
            "team_created": "Created",
            "team_signed_in": "Last signed in",
            "team_actions": "Actions",
            "team_you": "(you)",
            "team_state_active": "active",
            "team_state_waiting": "waiting for its password (setup link)",
            "team_state_disabled": "disabled",
            "team_state_locked": "locked until {time}",
            "team_factor_none": "not required",
            "team_factor_required": "required, not set up yet",
            "team_factor_enrolled": "required, set up",
            "team_none": "No accounts yet.",
            "team_add_heading": "Add an account",
            "team_role_hint": "Field: live counts, events, posters. Analyst: also exports and reports. "
            "Coordinator: everything, staff accounts too.",
            "team_add": "Add the account",
            "team_added": "Added the account {email} ({role}).",
            "team_link_heading": "One-time link to set the password",
            "team_link_once": "This link is shown only now. Send it to the person by a private channel "
            "(a message to them, not a shared chat). It works once, for {hours} hours.",
            "team_link_totp": "The account {email} must now set up an authenticator app; until then it cannot sign in.",
            "team_back": "Back to the accounts",
            "team_disable": "Disable",
            "team_disable_confirm": "Yes, disable the account {email}",
            "team_require_totp": "Require a second factor",
            "team_new_link": "A new setup link",
            "team_reset": "A new link to set the password",
            "team_link_reset": "A new link for {email}: it sets a new password (and the authenticator app again, "
            "where one is required) and ends the account's sessions. Until then the current password works.",
            "team_note_disabled": "Account disabled: its sessions have ended and its setup link stopped working.",
            "team_note_totp": "From now on this account signs in with a code from an authenticator app.",
            "team_bad_email": "That is not a valid email address.",
            "team_bad_role": "Choose a role: field, analyst or coordinator.",
            "team_exists": "An account with that address exists already (disabled accounts stay on the list too).",
            "team_confirm_missing": "Tick the confirmation to disable the account.",
            "team_not_yourself": "You cannot disable your own account. Ask another coordinator.",
            "team_already_disabled": "That account is disabled already.",
            "team_unknown": "No such account.",
        },
    }

    async def team(self, request: web.Request) -> web.StreamResponse:
        note = request.query.get("note", "")
        return await self._page(request, note=note if note in NOTES else None)

    async def team_add(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        email = str(form.get("email", "")).strip()[:254]
        role = str(form.get("role", ""))
        try:
            added = await add_staff(self.service, email, role, self.actor(request))
        except BadEmail:
            return await self._refused(request, "team_bad_email", email=email, role=role)
        except UnknownRole:
            return await self._refused(request, "team_bad_role", email=email, role=role)
        except AccountExists:
            return await self._refused(request, "team_exists", email=email, role=role)
        text = self.words(request)
        done = text["team_added"].format(email=added.account.email, role=text[f"role_{added.account.role}"])
        return await self._page(request, link=setup_link(self.public_address(request), added.token), done=done)

    async def team_disable(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        account = await self._account(form.get("account"))
        if account is None:
            return self._unknown(request)
        if account.id == self.signed(request).account.id:
            return await self._refused(request, "team_not_yourself")
        if account.disabled:
            return await self._refused(request, "team_already_disabled")
        if form.get("confirm") != "yes":
            return await self._refused(request, "team_confirm_missing")
        try:
            await disable_staff(self.service, account.email, self.actor(request))
        except NoSuchAccount:  # pragma: no cover - accounts are never deleted
            raise web.HTTPNotFound() from None
        raise web.HTTPSeeOther(f"{self.prefix}/team?note=disabled")

    async def team_totp(self, request: web.Request) -> web.StreamResponse:
        return await self._with_link(request, require_second_factor, "team_link_totp", "totp")

    async def team_link(self, request: web.Request) -> web.StreamResponse:
        """A new one-time setup link for a colleague who forgot their password or lost their phone."""
        return await self._with_link(request, new_setup_link, "team_link_reset", None)

    async def _with_link(
        self,
        request: web.Request,
        change: Callable[[Service, str, str], Awaitable[str | None]],
        said: str,
        note: str | None,
    ) -> web.StreamResponse:
        """Makes a change to the enabled account the form names; a new setup link it gives is shown once
        (`said` over it), and when it gives none the list comes back with `note`."""
        form = await request.post()
        account = await self._account(form.get("account"))
        if account is None:
            return self._unknown(request)
        if account.disabled:
            return await self._refused(request, "team_already_disabled")
        try:
            token = await change(self.service, account.email, self.actor(request))
        except NoSuchAccount:  # pragma: no cover - accounts are never deleted
            raise web.HTTPNotFound() from None
        if token is None:
            raise web.HTTPSeeOther(f"{self.prefix}/team?note={note}")
        done = self.words(request)[said].format(email=account.email)
        return await self._page(request, link=setup_link(self.public_address(request), token), done=done)

    # -- helpers -------------------------------------------------------------------------------

    async def _account(self, given: Any) -> Account | None:
        """The account a form names by its id, if there is one."""
        wanted = str(given or "")
        return next((a for a in await list_accounts(self.store) if wanted.isdigit() and a.id == int(wanted)), None)

    def _unknown(self, request: web.Request) -> web.Response:
        message = self.words(request)["team_unknown"]
        return self.render(request, "message.html", {"message": message}, status=404)

    async def _refused(
        self, request: web.Request, problem: str, *, email: str = "", role: str = ""
    ) -> web.StreamResponse:
        return await self._page(request, problem=problem, email=email, role=role, status=400)

    async def _page(
        self,
        request: web.Request,
        *,
        note: str | None = None,
        problem: str | None = None,
        link: str | None = None,
        done: str | None = None,
        email: str = "",
        role: str = "",
        status: int = 200,
    ) -> web.Response:
        text = self.words(request)
        now = self.clock()
        me = self.signed(request).account.id
        last = await latest_by_actor(self.store, "staff_sign_in")
        rows = [
            Row(
                id=account.id,
                email=account.email,
                role=text[f"role_{account.role}"] if account.role in set(Role) else account.role,
                state=state_of(account, now),
                locked_until=_when(account.locked_until) if account.locked_until else "",
                factor=factor_of(account),
                created=account.created_at.astimezone(WARSAW).strftime("%Y-%m-%d"),
                signed_in=_when(at) if (at := last.get(actor(account.id))) else "",
                you=account.id == me,
                disabled=account.disabled,
                enrolled=account.totp_secret is not None,
                totp_required=account.totp_required,
            )
            for account in await list_accounts(self.store)
        ]
        context = {
            "rows": rows,
            "roles": [role.value for role in Role],
            "note": text[f"team_note_{note}"] if note else None,
            "problem": text[problem] if problem else None,
            "link": link,
            "done": done,
            "hours": f"{self.service.settings.staff_setup_hours:g}",
            "email": email,
            "role": role,
        }
        return self.render(request, "team.html", context, status=status)


def _when(moment: datetime) -> str:
    return moment.astimezone(WARSAW).strftime("%Y-%m-%d %H:%M")
