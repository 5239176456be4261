"""The Quotes page (coordinators): the candidate quotes for a public report as `wspolnota quotes review` lists
them — masked, as the public report would print them — to approve as they are, edit and approve, or reject,
one at a time, recorded by the same functions `wspolnota quotes approve` uses (reports/quote_review.py).

The resident's unmasked words are not shown, as the review file does not show them: the masking marks
([…], [adres], [telefon]…) say what was hidden, and a coordinator reads the masked text for what it missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlencode

from aiohttp import web

from bot.console.page import Page, Words
from handlers.definitions.questionnaire import Questionnaire, QuestionnaireKind
from reports.quote_review import QuoteRefused, ReviewRow, decide_quote, review_rows, shown_text
from storage.quotes import APPROVED, REJECTED

PER_PAGE = 50  # quotes a page
SHOWS = ("todo", "approved", "rejected", "all")  # the filter; the first is the default
STATES = {"": "todo", "yes": "approved", "no": "rejected"}  # a review row's mark → its state
DECISIONS = {"approve": APPROVED, "reject": REJECTED}
NOTES = ("approved", "edited", "rejected", "unchanged")


@dataclass(frozen=True, slots=True)
class Shown:
    """One quote as the page shows it."""

    key: str  # `<submission>-<question>`: the quote's part of its form's address
    submission: int
    question: str  # the question's wording in the console's language
    text: str  # what the public report prints (masked, or as approved)
    state: str  # todo, approved, rejected
    draft: str  # the text area's text: the quote's, or what was just refused
    problem: str | None = None

    @property
    def anchor(self) -> str:
        return f"quote-{self.key}"


def quote_key(row: ReviewRow) -> str:
    return f"{row.submission}-{row.question}"


def _parse_key(value: str) -> tuple[int, str] | None:
    submission, _, question = value.partition("-")
    if not submission.isdigit() or not question or len(submission) > 18:
        return None
    return int(submission), question


class QuotesPage(Page):
    """The candidate quotes of one questionnaire, filtered by state, and one decision at a time."""

    WORDS: ClassVar[Words] = {
        "pl": {
            "quotes_heading": "Cytaty do raportu publicznego",
            "quotes_explain": "Wypowiedzi z pytań otwartych od osób, które zgodziły się na cytowanie, już zamaskowane "
            "tak, jak wydrukuje je raport publiczny: imiona i nazwiska jako […], adresy jako [adres], telefony, "
            "e-maile i konta jako [telefon], [e-mail], [konto]. Przeczytaj każdy tekst: maskowanie jest siatką "
            "bezpieczeństwa, nie gwarancją. Raport publiczny cytuje tylko zatwierdzone teksty, w zatwierdzonej "
            "postaci. Każda decyzja trafia do dziennika zdarzeń (bez treści cytatu).",
            "quotes_filter": "Które cytaty",
            "quotes_show_todo": "Do decyzji",
            "quotes_show_approved": "Zatwierdzone",
            "quotes_show_rejected": "Odrzucone",
            "quotes_show_all": "Wszystkie",
            "quotes_state_todo": "do decyzji",
            "quotes_state_approved": "zatwierdzony",
            "quotes_state_rejected": "odrzucony",
            "quotes_state": "Stan: {state}",
            "quotes_submission": "Wypełniona ankieta nr {number}",
            "quotes_edit": "Popraw tekst przed zatwierdzeniem",
            "quotes_text": "Tekst do publikacji (zatwierdzenie publikuje go w tej postaci)",
            "quotes_approve": "Zatwierdź",
            "quotes_reject": "Odrzuć",
            "quotes_none_at_all": "W tej ankiecie nie ma jeszcze cytatów: nikt, kto zgodził się na cytowanie, "
            "nie odpowiedział na pytanie otwarte.",
            "quotes_none_here": "Brak cytatów w tym widoku.",
            "quotes_page": "Strona {page} z {pages}",
            "quotes_previous": "Poprzednie",
            "quotes_next": "Następne",
            "quotes_note_approved": "Cytat zatwierdzony.",
            "quotes_note_edited": "Cytat zatwierdzony w poprawionej postaci.",
            "quotes_note_rejected": "Cytat odrzucony.",
            "quotes_note_unchanged": "Ta decyzja była już zapisana: nic się nie zmieniło.",
            "quotes_refused_empty": "Nie zapisano: nie można zatwierdzić pustego tekstu.",
            "quotes_refused_masking": "Nie zapisano: ten tekst wciąż może kogoś wskazywać albo zawierać dane "
            "kontaktowe (maskowanie zmieniłoby go na: „{masked}”). Popraw go i zatwierdź ponownie.",
            "quotes_to_quote": "Przejdź do tego cytatu",
            "quotes_bad_form": "Nie zapisano: wybierz „Zatwierdź” albo „Odrzuć”.",
            "quotes_unknown": "Nie ma takiej ankiety albo takiego cytatu (mógł zniknąć, jeśli osoba zmieniła "
            "odpowiedź albo cofnęła zgodę).",
            "quotes_public": "Raport publiczny (cytuje tylko cytaty zatwierdzone na stronie Cytaty)",
        },
        "en": {
            "quotes_heading": "Quotes for the public report",
            "quotes_explain": "Answers to open questions from residents who allowed quoting, already masked as the "
            "public report will print them: names as […], addresses as [adres], phones, emails and handles as "
            "[telefon], [e-mail], [konto]. Read every text: masking is a safety net, not a guarantee. The public "
            "report quotes only approved texts, as approved. Every decision goes to the audit log (never the text).",
            "quotes_filter": "Which quotes",
            "quotes_show_todo": "To decide",
            "quotes_show_approved": "Approved",
            "quotes_show_rejected": "Rejected",
            "quotes_show_all": "All",
            "quotes_state_todo": "to decide",
            "quotes_state_approved": "approved",
            "quotes_state_rejected": "rejected",
            "quotes_state": "State: {state}",
            "quotes_submission": "Submission {number}",
            "quotes_edit": "Edit the text before approving",
            "quotes_text": "Text to publish (approving publishes it as it stands here)",
            "quotes_approve": "Approve",
            "quotes_reject": "Reject",
            "quotes_none_at_all": "No quotes in this questionnaire yet: nobody who allowed quoting has answered an "
            "open question.",
            "quotes_none_here": "No quotes in this view.",
            "quotes_page": "Page {page} of {pages}",
            "quotes_previous": "Previous",
            "quotes_next": "Next",
            "quotes_note_approved": "Quote approved.",
            "quotes_note_edited": "Quote approved as edited.",
            "quotes_note_rejected": "Quote rejected.",
            "quotes_note_unchanged": "That decision was recorded already: nothing changed.",
            "quotes_refused_empty": "Not recorded: an empty text cannot be approved.",
            "quotes_refused_masking": "Not recorded: this text may still name someone or hold contact data "
            "(masking would make it “{masked}”). Edit it and approve again.",
            "quotes_to_quote": "Go to this quote",
            "quotes_bad_form": "Not recorded: choose Approve or Reject.",
            "quotes_unknown": "No such questionnaire or quote (it goes when its author changes the answer or "
            "withdraws the consent).",
            "quotes_public": "Public report (quotes only those approved on the Quotes page)",
        },
    }

    # -- the list ------------------------------------------------------------------------------

    async def quotes(self, request: web.Request) -> web.StreamResponse:
        questionnaire = self._questionnaire(request.query.get("questionnaire"))
        if questionnaire is None:
            return self._unknown(request)
        show = _show(request.query.get("show"))
        try:
            page = max(1, int(request.query.get("page", "1")))
        except ValueError:
            page = 1
        note = request.query.get("note", "")
        return await self._list(request, questionnaire, show, page, note=note if note in NOTES else None)

    async def _list(
        self,
        request: web.Request,
        questionnaire: Questionnaire,
        show: str,
        page: int,
        *,
        note: str | None = None,
        refused: tuple[str, str, str] | None = None,  # (quote key, the text refused, why)
        status: int = 200,
    ) -> web.Response:
        words = self.words(request)
        language = self.language(request)
        rows = await review_rows(self.store, questionnaire, masked=False)  # only the page's rows are masked
        counts = {name: sum(1 for row in rows if show_has(name, row)) for name in SHOWS}
        chosen = [row for row in rows if show_has(show, row)]
        pages = max(1, -(-len(chosen) // PER_PAGE))
        if refused is not None:  # the page holding the refused quote
            page = next((n // PER_PAGE + 1 for n, row in enumerate(chosen) if quote_key(row) == refused[0]), page)
        page = min(page, pages)
        shown = []
        for row in chosen[(page - 1) * PER_PAGE : page * PER_PAGE]:
            key = quote_key(row)
            text = shown_text(row)
            question = questionnaire.question(row.question)
            problem = refused[2] if refused is not None and refused[0] == key else None
            shown.append(
                Shown(
                    key,
                    row.submission,
                    question.label(language) if question is not None else row.question,
                    text,
                    STATES[row.approved],
                    refused[1] if problem is not None and refused is not None else text,
                    problem,
                )
            )
        context: dict[str, Any] = {
            "questionnaire": questionnaire,
            "questionnaires": [(q.id, q.title(language)) for q in self._questionnaires()],
            "show": show,
            "shows": [(name, counts[name], self._address(questionnaire, name)) for name in SHOWS],
            "quotes": shown,
            "total": len(rows),
            "page": page,
            "pages": pages,
            "previous": self._address(questionnaire, show, page - 1) if page > 1 else None,
            "next": self._address(questionnaire, show, page + 1) if page < pages else None,
            "note": words[f"quotes_note_{note}"] if note else None,
            "problem": refused[2] if refused is not None else None,
            "problem_anchor": f"quote-{refused[0]}" if refused is not None else None,
        }
        return self.render(request, "quotes.html", context, status=status)

    # -- one decision --------------------------------------------------------------------------

    async def quote_decide(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        questionnaire = self._questionnaire(str(form.get("questionnaire", "")) or None)
        key = _parse_key(request.match_info["quote"])
        if questionnaire is None or key is None:
            return self._unknown(request)
        show = _show(str(form.get("show", "")))
        decision = DECISIONS.get(str(form.get("decision", "")))
        words = self.words(request)
        quote = f"{key[0]}-{key[1]}"
        # A text area posts its lines with CRLF (HTML's form submission); stored as the CLI stores them.
        posted = str(form.get("text", "")).replace("\r\n", "\n")
        if decision is None:
            refused = (quote, posted, words["quotes_bad_form"])
            return await self._list(request, questionnaire, show, 1, refused=refused, status=400)
        text = posted if decision == APPROVED else None
        try:
            decided = await decide_quote(
                self.store,
                questionnaire,
                key,
                decision,
                text,
                actor=self.actor(request),
                now=self.clock(),
                via="console",
            )
        except LookupError:
            return self._unknown(request)
        except QuoteRefused as refusal:
            why = (
                words["quotes_refused_masking"].format(masked=refusal.masked)
                if refusal.masked is not None
                else words["quotes_refused_empty"]
            )
            return await self._list(request, questionnaire, show, 1, refused=(quote, posted, why), status=400)
        if not decided.changed:
            note = "unchanged"
        elif decided.decision == REJECTED:
            note = "rejected"
        else:
            note = "edited" if decided.edited else "approved"
        raise web.HTTPSeeOther(await self._after(questionnaire, show, quote, note))

    async def _after(self, questionnaire: Questionnaire, show: str, quote: str, note: str) -> str:
        """Back to the list with the same filter, at the quote after the one just decided (Post/Redirect/Get)."""
        rows = await review_rows(self.store, questionnaire, masked=False)  # the order and states only
        keys = [quote_key(row) for row in rows]
        start = keys.index(quote) + 1 if quote in keys else 0
        chosen = [quote_key(row) for row in rows if show_has(show, row)]
        following = next((key for key in keys[start:] if key in chosen), None)
        page = chosen.index(following) // PER_PAGE + 1 if following is not None else max(1, -(-len(chosen) // PER_PAGE))
        address = self._address(questionnaire, show, page, note=note)
        return f"{address}#quote-{following}" if following is not None else address

    # -- helpers -------------------------------------------------------------------------------

    def _questionnaires(self) -> list[Questionnaire]:
        """The consultations (an application's answers are never quoted)."""
        return [q for q in self.service.config.questionnaires.values() if q.kind is QuestionnaireKind.CONSULTATION]

    def _questionnaire(self, code: str | None) -> Questionnaire | None:
        wanted = code or self.service.conversation.default_questionnaire
        return next((q for q in self._questionnaires() if q.id == wanted), None)

    def _address(self, questionnaire: Questionnaire, show: str, page: int = 1, *, note: str | None = None) -> str:
        query: dict[str, str | int] = {"questionnaire": questionnaire.id, "show": show}
        if page > 1:
            query["page"] = page
        if note:
            query["note"] = note
        return f"{self.prefix}/quotes?{urlencode(query)}"

    def _unknown(self, request: web.Request) -> web.Response:
        return self.render(request, "message.html", {"message": self.words(request)["quotes_unknown"]}, status=404)


def show_has(show: str, row: ReviewRow) -> bool:
    """Whether a filter (todo, approved, rejected, all) shows this quote."""
    return show == "all" or STATES[row.approved] == show


def _show(value: str | None) -> str:
    return value if value in SHOWS else SHOWS[0]
