"""The web chat's pure functions: a posted form into an Inbound, a Reply into what a page shows."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from handlers.definitions.i18n import LANGUAGES, Language
from handlers.engine.messages import (
    Choice,
    Delivery,
    Inbound,
    InputKind,
    Reply,
    ReplyKind,
    RespondentRef,
    decode_choice,
    encode_choice,
)

_SOURCE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
# Replies after which a stand's tablet hands over to the next person.
FAREWELLS = frozenset({ReplyKind.THANKS, ReplyKind.GOODBYE})


def preferred_language(accept_language: str | None) -> Language | None:
    """The first of our languages a browser's Accept-Language asks for (`uk-UA,uk;q=0.9,en;q=0.8`)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        ranked.append((-weight, position, tag.split("-")[0].lower()))
    for _, _, code in sorted(ranked):
        if code in LANGUAGES:
            return code
    return None


def clean_source(value: str | None) -> str | None:
    """An event slug (or `slug__stand`) from a link, or None when it is not one."""
    value = (value or "").strip().lower()
    return value if _SOURCE.fullmatch(value) else None


def inbound_from_form(
    fields: Mapping[str, str],
    respondent: RespondentRef,
    *,
    source: str | None = None,
    language: str | None = None,
    assisted: bool = False,
    delivery: Delivery | None = None,
) -> Inbound:
    """Reads a posted form: a pressed button (`button`), else typed text for `question`; the rest
    is what the page knows beside the form. An empty form only says who is there."""
    button, text = fields.get("button"), fields.get("text")
    if button:
        said = decode_choice(button, respondent)
    else:
        said = Inbound(respondent, text=text, question=(fields.get("question") or None) if text is not None else None)
    return replace(said, source=source, language=language, assisted=assisted, delivery=delivery)


@dataclass(frozen=True, slots=True)
class SummaryRow:
    number: int
    question: str
    answer: str
    change: Choice


@dataclass(frozen=True, slots=True)
class View:
    """One reply as a page shows it: paragraphs, the summary as rows, buttons, a text field."""

    reply: Reply
    paragraphs: list[list[str]]  # paragraphs of lines
    rows: list[SummaryRow]
    footer: list[list[str]]  # paragraphs under the summary rows
    text_field: bool  # a free-text (or e-mail, number) answer is typed here
    field_type: str  # the <input> type when it is one line

    def value(self, choice: Choice) -> str:
        """The form value of a button of this reply."""
        return encode_choice(choice, self.reply.question)


def _paragraphs(text: str) -> list[list[str]]:
    return [para.split("\n") for para in text.split("\n\n") if para.strip()]


def view(reply: Reply) -> View:
    """Prepares a reply for the page template (all text is escaped by the template itself)."""
    paragraphs = _paragraphs(reply.text)
    rows: list[SummaryRow] = []
    footer: list[list[str]] = []
    if reply.kind is ReplyKind.SUMMARY and reply.answers and len(reply.answers) == len(reply.choices):
        # The summary's text is "title, one paragraph per answer, footer": shown as rows instead,
        # each with its own "change" button.
        rows = [
            SummaryRow(n, question, answer, change)
            for n, ((question, answer), change) in enumerate(zip(reply.answers, reply.choices, strict=True), start=1)
        ]
        paragraphs, footer = paragraphs[:1], paragraphs[-1:]
    text_field = reply.input is not InputKind.NONE and not reply.choices
    field_type = {InputKind.EMAIL: "email", InputKind.NUMBER: "number"}.get(reply.input, "textarea")
    return View(reply, paragraphs, rows, footer, text_field, field_type)
