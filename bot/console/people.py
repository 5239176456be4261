"""People's requests: find a resident by Telegram id, email address or paper form id, see what erasing them
would take, and erase them (coordinators; the same erasure as `wspolnota forget`).

Whom staff look for is personal data, so it never travels in a URL (where access logs and the browser's
history would keep it): the search form posts to /people/erase with `step=preview`, which changes nothing
and answers with the counts (200); the confirmation form carries the identifier in a hidden field only and
posts `step=erase` with its "cannot be undone" checkbox, then redirects (303) to /people with the counts
erased in the query string, never who. Each search is audited as `people_lookup` with its kind only; the
erasure is audited by storage's `forget` as the signed-in `staff:<id>`.
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import urlencode

from aiohttp import web

from bot.console.page import Page, Words
from bot.erasure import KINDS, normalised, person_to_erase
from storage.audit import audit
from storage.erasure import Erased, erasure_preview, forget

VALUE_LIMIT = 320  # the longest email address a mailbox takes (RFC 3696 errata); ids are far shorter
# The counts a redirect after an erasure carries, as Erased names them.
COUNTS = ("respondents", "submissions", "completed", "emails", "outbox", "inbox", "applications")


class PeoplePage(Page):
    """Find a person, preview what would be erased, erase it."""

    WORDS: ClassVar[Words] = {
        "pl": {
            "people_heading": "Prośby mieszkańców",
            "people_explain": "Mieszkaniec może poprosić o usunięcie wszystkich swoich danych (RODO, art. 17). "
            "Znajdź go po identyfikatorze, sprawdź, co jest zapisane, i potwierdź usunięcie. "
            "Każde wyszukiwanie i usunięcie trafia do dziennika zdarzeń (bez identyfikatora).",
            "people_search_heading": "Znajdź osobę",
            "people_kind": "Rodzaj identyfikatora",
            "people_kind_telegram": "Identyfikator użytkownika Telegrama",
            "people_kind_email": "Adres e-mail",
            "people_kind_paper": "Numer ankiety papierowej (np. P-0001)",
            "people_value": "Identyfikator",
            "people_search": "Pokaż, co jest zapisane",
            "people_preview_heading": "Co zostanie usunięte",
            "people_nothing": "Nic nie jest zapisane o tej osobie.",
            "people_counts": "Zapisane dane tej osoby",
            "people_erased_heading": "Usunięto",
            "people_erased_counts": "Usunięte dane",
            "people_erased_nothing": "Nic nie było zapisane o tej osobie; niczego nie usunięto.",
            "people_respondents": "Respondenci (z odpowiedziami i danymi kontaktowymi)",
            "people_submissions_complete": "Ankiety ukończone",
            "people_submissions_open": "Ankiety nieukończone",
            "people_emails": "E-maile zapisane z pełną treścią",
            "people_outbox": "Odpowiedzi w kolejce lub wysłane",
            "people_inbox": "Odebrane wiadomości",
            "people_applications": "Zgłoszenia do grup roboczych",
            "people_confirm": "Rozumiem, że tego nie można cofnąć",
            "people_erase": "Usuń wszystko o tej osobie",
            "people_problem_value": "Podaj rodzaj identyfikatora i identyfikator.",
            "people_problem_confirm": "Zaznacz, że rozumiesz, że usunięcia nie można cofnąć.",
        },
        "en": {
            "people_heading": "People's requests",
            "people_explain": "A resident may ask for all their data to be erased (GDPR, Art. 17). "
            "Find them by an identifier, check what is stored and confirm the erasure. "
            "Every search and erasure goes to the audit log (without the identifier).",
            "people_search_heading": "Find a person",
            "people_kind": "Kind of identifier",
            "people_kind_telegram": "Telegram user id",
            "people_kind_email": "Email address",
            "people_kind_paper": "Paper form id (e.g. P-0001)",
            "people_value": "Identifier",
            "people_search": "Show what is stored",
            "people_preview_heading": "What would be erased",
            "people_nothing": "Nothing is stored about this person.",
            "people_counts": "What is stored about this person",
            "people_erased_heading": "Erased",
            "people_erased_counts": "What was erased",
            "people_erased_nothing": "Nothing was stored about this person; nothing was erased.",
            "people_respondents": "Respondents (with their answers and contact data)",
            "people_submissions_complete": "Complete submissions",
            "people_submissions_open": "Submissions not complete",
            "people_emails": "Emails stored with their raw source",
            "people_outbox": "Replies queued or sent",
            "people_inbox": "Received messages",
            "people_applications": "Working-group applications",
            "people_confirm": "I understand this cannot be undone",
            "people_erase": "Erase everything about this person",
            "people_problem_value": "Give the kind of identifier and the identifier.",
            "people_problem_confirm": "Tick the box to say you understand the erasure cannot be undone.",
        },
    }

    async def people(self, request: web.Request) -> web.StreamResponse:
        """The search form, and after an erasure the counts erased (from the redirect's query string)."""
        erased = None
        if request.query.get("note") == "erased":
            erased = Erased(**{name: _count(request.query.get(name)) for name in COUNTS})
        return self._page(request, erased=erased)

    async def people_erase(self, request: web.Request) -> web.StreamResponse:
        """`step=preview`: what erasing this person would take (nothing changes); `step=erase`: erase it."""
        form = await request.post()
        kind, value, step = str(form.get("kind", "")), str(form.get("value", "")).strip(), form.get("step")
        if kind not in KINDS or not value or len(value) > VALUE_LIMIT or step not in {"preview", "erase"}:
            return self._page(request, problem="people_problem_value", kind=kind, status=400)
        person = person_to_erase(self.service, kind, value)
        value = normalised(kind, value)
        if step == "erase" and form.get("confirm") == "yes":
            erased = await forget(
                self.store,
                channel=person.channel,
                pseudonym=person.pseudonym,
                address=person.address,
                actor=self.actor(request),
                now=self.clock(),
            )
            counts = {name: getattr(erased, name) for name in COUNTS}
            raise web.HTTPSeeOther(f"{self.prefix}/people?{urlencode({'note': 'erased', **counts})}")
        # A search shows what is stored about someone: audited, by its kind only (never whom).
        await audit(self.store, self.actor(request), "people_lookup", {"kind": kind}, self.clock())
        preview = await erasure_preview(
            self.store, channel=person.channel, pseudonym=person.pseudonym, address=person.address
        )
        if step == "erase":  # the confirmation's box was not ticked: the same preview, and why nothing went
            return self._page(
                request, problem="people_problem_confirm", kind=kind, value=value, preview=preview, status=400
            )
        return self._page(request, kind=kind, value=value, preview=preview)

    def _page(
        self,
        request: web.Request,
        *,
        problem: str | None = None,
        kind: str = "",
        value: str = "",
        preview: Erased | None = None,
        erased: Erased | None = None,
        status: int = 200,
    ) -> web.Response:
        context = {
            "problem": self.words(request)[problem] if problem else None,
            "kinds": KINDS,
            "kind": kind if kind in KINDS else KINDS[0],
            "value": value,
            "preview": preview,
            "erased": erased,
        }
        return self.render(request, "people.html", context, status=status)


def _count(given: str | None) -> int:
    """A count from the query string; anything else is none."""
    return int(given) if given is not None and given.isdigit() and len(given) < 10 else 0
