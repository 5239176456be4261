"""Builds the engine's Replies from a questionnaire and the message catalog, in one language."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from handlers.definitions.application_form import MESSAGES as APPLICATION_FORM_MESSAGES
from handlers.definitions.application_form import long_day
from handlers.definitions.events import Event, upcoming_events
from handlers.definitions.i18n import LANGUAGE_NAMES, LANGUAGES, Catalog, Language
from handlers.definitions.privacy import DEFAULT_CHANNEL, LegalBasis
from handlers.definitions.questionnaire import Question, Questionnaire, QuestionnaireKind, QuestionType
from handlers.engine.answers import describe_answer
from handlers.engine.messages import Action, Choice, InputKind, Reply, ReplyKind
from storage.repository import AnswerValue

WARSAW = ZoneInfo("Europe/Warsaw")
SUMMARY_ANSWER_CHARS = 300

# Every message key the engine uses, with the placeholders its text must contain.
MESSAGES: dict[str, set[str]] = {  # the engine's own words; each channel adapter declares its own
    "btn_accept": set(),
    "btn_decline": set(),
    "btn_back": set(),
    "btn_skip": set(),
    "btn_done": set(),
    "btn_confirm": set(),
    "btn_change": {"number"},
    "btn_yes": set(),
    "btn_no": set(),
    "privacy_question": set(),
    "privacy_question_public_task": set(),
    "btn_accept_public_task": set(),
    "privacy_more": set(),
    "progress": {"number", "total"},
    "hint_text": set(),
    "hint_choose_any": set(),
    "hint_choose_up_to": {"max"},
    "hint_choose_many": {"min", "max"},
    "hint_scale": {"min", "min_label", "max", "max_label"},
    "hint_required": set(),
    "current_answer": {"answer"},
    "other_prompt": {"limit"},
    "skipped": set(),
    "nothing_chosen": set(),
    "summary_title": set(),
    "summary_footer": set(),
    "summary_footer_done": set(),
    "thanks": set(),
    "declined": set(),
    "cancelled": set(),
    "closed_not_yet": {"opens"},
    "closed_ended": {"closes"},
    "help": set(),
    "choose_language": set(),
    "note_language": set(),
    "note_welcome_back": set(),
    "note_already_done": set(),
    "note_first_question": set(),
    "note_kept": set(),
    "error_empty": set(),
    "error_too_long": {"length", "limit"},
    "error_choice": set(),
    "error_number": {"min", "max"},
    "error_email": set(),
    "error_too_few": {"min"},
    "error_too_many": {"max"},
    "error_required": set(),
    "error_stale": set(),
    "error_unknown_command": set(),
    "error_not_text": set(),
    "error_edited": set(),
    "error_internal": set(),
    "error_not_asked": set(),
    "forget_question": set(),
    "forgotten": set(),
    "btn_forget_yes": set(),
    "btn_forget_no": set(),
    "events_title": set(),
    "events_none": set(),
    "mydata_title": set(),
    "mydata_none": set(),
    # An application to the working groups (its form's own wording: handlers/definitions/application_form.py).
    "application_closed_not_yet": {"opens"},
    "application_closed_ended": {"closes", "decision_date"},
    "application_late": {"closes", "decision_date"},
    "application_off": set(),
    "verify_prompt": {"address"},
    "verify_sent_again": set(),
    "verify_format": set(),
    "verify_wrong": set(),
    "verify_locked": set(),
    "verify_expired": set(),
    "verify_too_many_codes": set(),
    "verify_done": set(),
    "verify_mail_subject": set(),
    "verify_mail_body": {"code", "hours"},
    "btn_resend": set(),
    "btn_withdraw": set(),
    "withdraw_question": set(),
    "btn_withdraw_yes": set(),
    "btn_withdraw_no": set(),
    "withdraw_kept": set(),
    "withdraw_none": set(),
    "withdrawn": set(),
    **APPLICATION_FORM_MESSAGES,
}


def progress(visible: Sequence[Question], question: Question) -> tuple[int, int]:
    """The "question n of total" of a question among those shown, counting only the unconditional ones.

    A question shown only for some answers (`show_if`, e.g. the email address after "write to me")
    is a follow-up and carries the number of the question before it, so the total never grows as
    the resident answers.
    """
    numbered = 0
    number = 1
    for shown in visible:
        if not shown.show_if:
            numbered += 1
        if shown.code == question.code:
            number = max(numbered, 1)
    return number, max(numbered, number)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class Presenter:
    """Turns engine states into Replies; knows wording, never storage."""

    def __init__(self, catalog: Catalog, channel: str = DEFAULT_CHANNEL) -> None:
        self.catalog = catalog
        self.channel = channel  # whose sentences of the privacy notice apply
        self._channels: dict[str, Presenter] = {}

    def for_channel(self, channel: str) -> Presenter:
        """The presenter for one channel: its own keys (`telegram_help`…) replace the shared ones."""
        presenter = self._channels.get(channel)
        if presenter is None:
            presenter = self._channels[channel] = Presenter(self.catalog.for_channel(channel), channel)
        return presenter

    def _button(self, key: str, language: Language, action: Action, argument: str | None = None) -> Choice:
        return Choice(label=self.catalog(key, language), action=action, argument=argument)

    def _language_buttons(self, language: Language) -> tuple[Choice, ...]:
        return tuple(
            Choice(label=LANGUAGE_NAMES[code], action=Action.LANGUAGE, argument=code)
            for code in LANGUAGES
            if code != language
        )

    def privacy(self, q: Questionnaire, language: Language) -> Reply:
        """Before any question: who asks and why in one line, the essentials of the notice, and a start.

        On a public-task basis starting is taking part; on a consent basis the button says "I agree".
        """
        privacy = q.privacy
        short = privacy.short_notice(language, self.channel, more=self.catalog("privacy_more", language))
        suffix = "_public_task" if privacy.basis is LegalBasis.PUBLIC_TASK else ""
        text = f"{short}\n\n{self.catalog('privacy_question' + suffix, language)}"
        navigation = (
            self._button("btn_accept" + suffix, language, Action.ACCEPT),
            self._button("btn_decline", language, Action.DECLINE),
            *self._language_buttons(language),
        )
        return Reply(ReplyKind.PRIVACY, text, language, navigation=navigation, heading=privacy.lead(language))

    def privacy_notice(self, q: Questionnaire, language: Language) -> Reply:
        """The full privacy notice as it stands for this channel, to read at any time."""
        return Reply(ReplyKind.INFO, q.privacy.full_notice(language, self.channel), language)

    def events(self, events: Sequence[Event], language: Language, now: datetime) -> Reply:
        """Upcoming events with place, time and accessibility notes."""
        upcoming = upcoming_events({e.slug: e for e in events}, now)
        if not upcoming:
            return Reply(ReplyKind.INFO, self.catalog("events_none", language), language)
        lines = [self.catalog("events_title", language)]
        for event in upcoming:
            starts, ends = event.starts.astimezone(WARSAW), event.ends.astimezone(WARSAW)
            entry = (
                f"• {event.name(language)}\n  {starts:%d.%m.%Y %H:%M}–{ends:%H:%M}, {event.address} ({event.district})"
            )
            if event.accessibility:
                entry += f"\n  {event.accessibility(language)}"
            lines.append(entry)
        return Reply(ReplyKind.INFO, "\n\n".join(lines), language)

    def my_data(self, language: Language, answers: Sequence[tuple[Question, AnswerValue | None]]) -> Reply:
        """Everything stored from this respondent, back to them."""
        if not answers:
            return Reply(ReplyKind.INFO, self.catalog("mydata_none", language), language)
        lines = [self.catalog("mydata_title", language)]
        for question, value in answers:
            shown = describe_answer(question, value, self.catalog, language) if value else ""
            lines.append(f"{question.label(language)}\n→ {shown}")
        return Reply(ReplyKind.INFO, "\n\n".join(lines), language)

    def forget_question(self, language: Language) -> Reply:
        """Asks to confirm erasing everything about the respondent."""
        navigation = (
            self._button("btn_forget_yes", language, Action.FORGET, "yes"),
            self._button("btn_forget_no", language, Action.FORGET, "no"),
        )
        return Reply(ReplyKind.FORGET, self.catalog("forget_question", language), language, navigation=navigation)

    def intro(self, q: Questionnaire, language: Language) -> Reply | None:
        """The questionnaire's introduction, shown once after consent."""
        return Reply(ReplyKind.INFO, q.intro(language), language) if q.intro else None

    def question(
        self,
        question: Question,
        language: Language,
        position: tuple[int, int],
        stored: AnswerValue | None,
        draft: Sequence[str] | None,
    ) -> Reply:
        """One question with its options, hints and the answer given so far."""
        c = self.catalog
        lines = [question.label(language)]
        if question.hint:
            lines.append(question.hint(language))
        kind = question.type
        if kind is QuestionType.TEXT:
            lines.append(c("hint_text", language))
        elif kind is QuestionType.MULTIPLE_CHOICE:
            lines.append(self._choose_hint(question, language))
        elif kind is QuestionType.SCALE:
            lines.append(
                c(
                    "hint_scale",
                    language,
                    min=question.min,
                    max=question.max,
                    min_label=question.min_label(language) if question.min_label else question.min,
                    max_label=question.max_label(language) if question.max_label else question.max,
                )
            )
        if question.required:  # the others carry a Skip button: saying so on every screen would be noise
            lines.append(c("hint_required", language))
        if stored is not None and not stored.skipped:
            answer = _shorten(describe_answer(question, stored, c, language), SUMMARY_ANSWER_CHARS)
            lines.append(c("current_answer", language, answer=answer))
        picked = set(draft if draft is not None else (stored.options or []) if stored and not stored.skipped else [])
        if kind is QuestionType.SCALE and stored is not None and stored.number is not None:
            picked = {str(stored.number)}
        choices = self._choices(question, language, picked)
        navigation: list[Choice] = []
        if kind is QuestionType.MULTIPLE_CHOICE:
            navigation.append(self._button("btn_done", language, Action.DONE))
        if position[0] > 1:
            navigation.append(self._button("btn_back", language, Action.BACK))
        if not question.required:
            navigation.append(self._button("btn_skip", language, Action.SKIP))
        input_kind = {
            QuestionType.TEXT: InputKind.TEXT,
            QuestionType.EMAIL: InputKind.EMAIL,
            QuestionType.SCALE: InputKind.NUMBER,
        }.get(kind, InputKind.NONE)
        return Reply(
            ReplyKind.QUESTION,
            "\n\n".join(lines),
            language,
            choices=choices,
            navigation=tuple(navigation),
            question=question.code,
            progress=position,
            multiple=kind is QuestionType.MULTIPLE_CHOICE,
            input=input_kind,
            max_length=question.max_length if kind is QuestionType.TEXT else None,
            heading=self.catalog("progress", language, number=position[0], total=position[1]),
        )

    def _choose_hint(self, question: Question, language: Language) -> str:
        """How many to pick: all that apply, up to a number, or a range when at least two are needed."""
        if question.min_choices >= 2:
            return self.catalog("hint_choose_many", language, min=question.min_choices, max=question.pick_limit)
        if question.pick_limit >= len(question.options):
            return self.catalog("hint_choose_any", language)
        return self.catalog("hint_choose_up_to", language, max=question.pick_limit)

    def _choices(self, question: Question, language: Language, picked: set[str]) -> tuple[Choice, ...]:
        kind = question.type
        if kind is QuestionType.YES_NO:
            labels = [("yes", self.catalog("btn_yes", language)), ("no", self.catalog("btn_no", language))]
        elif kind is QuestionType.SCALE:
            labels = [(code, code) for code in question.option_codes]
        else:
            labels = [(option.code, option.label(language)) for option in question.options]
        return tuple(Choice(label=label, choice=code, selected=code in picked) for code, label in labels)

    def other(self, question: Question, language: Language) -> Reply:
        """Asks what "other" means, after the "other" option was picked."""
        return Reply(
            ReplyKind.QUESTION,
            self.catalog("other_prompt", language, limit=question.max_length),
            language,
            navigation=(
                self._button("btn_back", language, Action.BACK),
                self._button("btn_skip", language, Action.SKIP),
            ),
            question=question.code,
            input=InputKind.TEXT,
            max_length=question.max_length,
        )

    def summary(
        self,
        q: Questionnaire,
        language: Language,
        answers: Sequence[tuple[Question, AnswerValue | None]],
        *,
        completed: bool,
    ) -> Reply:
        """Every visible question with its answer, to change any of them or confirm."""
        c = self.catalog
        rows = []
        for question, value in answers:
            shown = describe_answer(question, value, c, language) if value is not None else c("skipped", language)
            rows.append((question.label(language), _shorten(shown, SUMMARY_ANSWER_CHARS)))
        lines = [c("summary_title", language)]
        lines += [f"{n}. {label}\n→ {shown}" for n, (label, shown) in enumerate(rows, start=1)]
        lines.append(c("summary_footer_done" if completed else "summary_footer", language))
        choices = tuple(
            Choice(label=c("btn_change", language, number=n), action=Action.EDIT, argument=question.code)
            for n, (question, _) in enumerate(answers, start=1)
        )
        navigation = [self._button("btn_confirm", language, Action.CONFIRM)]
        if not completed:
            navigation.append(self._button("btn_back", language, Action.BACK))
        elif q.kind is QuestionnaireKind.APPLICATION:
            navigation.append(self._button("btn_withdraw", language, Action.WITHDRAW))
        return Reply(
            ReplyKind.SUMMARY,
            "\n\n".join(lines),
            language,
            choices=choices,
            navigation=tuple(navigation),
            answers=tuple(rows),
        )

    def recorded(
        self,
        q: Questionnaire,
        language: Language,
        answers: Sequence[tuple[Question, AnswerValue]],
    ) -> Reply:
        """What a written contribution (an email) recorded, numbered as in the questionnaire."""
        c = self.catalog
        numbers = {question.code: n for n, question in enumerate(q.questions, start=1)}
        rows = tuple(
            (f"{numbers[question.code]}. {question.label(language)}", describe_answer(question, value, c, language))
            for question, value in answers
        )
        text = "\n\n".join([c("mail_recorded", language), *(f"{label}\n   → {shown}" for label, shown in rows)])
        return Reply(ReplyKind.RECORDED, text, language, answers=rows)

    def thanks(self, q: Questionnaire, language: Language) -> Reply:
        """The closing thanks after confirming (an application's says when decisions come, and may be withdrawn)."""
        text = q.thanks(language) if q.thanks else self.catalog("thanks", language)
        navigation = (
            (self._button("btn_withdraw", language, Action.WITHDRAW),)
            if q.kind is QuestionnaireKind.APPLICATION
            else ()
        )
        return Reply(ReplyKind.THANKS, text, language, navigation=navigation)

    def closed(
        self, q: Questionnaire, language: Language, now: datetime, *, late: bool = False, decided: date | None = None
    ) -> Reply:
        """Says politely that the questionnaire is not open now (or that an application came after the deadline)."""
        application = q.kind is QuestionnaireKind.APPLICATION
        prefix = "application_" if application else ""
        if q.opens is not None and now < q.opens:
            opens = f"{q.opens.astimezone(WARSAW):%d.%m.%Y %H:%M}"
            text = self.catalog(prefix + "closed_not_yet", language, opens=opens)
        else:
            assert q.closes is not None
            closes = f"{q.closes.astimezone(WARSAW):%d.%m.%Y %H:%M}" if application else f"{q.closes:%d.%m.%Y}"
            if application:
                key = "application_late" if late else "application_closed_ended"
                decision_date = long_day(decided, language) if decided else "—"
                text = self.catalog(key, language, closes=closes, decision_date=decision_date)
            else:
                text = self.catalog("closed_ended", language, closes=f"{q.closes.astimezone(WARSAW):%d.%m.%Y}")
        return Reply(ReplyKind.CLOSED, text, language)

    def verify(self, question: Question, language: Language, position: tuple[int, int], address: str) -> Reply:
        """Asks for the code mailed to the address just given."""
        navigation = (
            self._button("btn_resend", language, Action.RESEND),
            self._button("btn_back", language, Action.BACK),
        )
        return Reply(
            ReplyKind.QUESTION,
            self.catalog("verify_prompt", language, address=address),
            language,
            navigation=navigation,
            question=question.code,
            progress=position,
            input=InputKind.NUMBER,
            heading=self.catalog("progress", language, number=position[0], total=position[1]),
        )

    def withdraw_question(self, language: Language) -> Reply:
        """Asks to confirm withdrawing an application to the working groups."""
        navigation = (
            self._button("btn_withdraw_yes", language, Action.WITHDRAW, "yes"),
            self._button("btn_withdraw_no", language, Action.WITHDRAW, "no"),
        )
        return Reply(ReplyKind.FORGET, self.catalog("withdraw_question", language), language, navigation=navigation)

    def goodbye(self, key: str, language: Language) -> Reply:
        """Ends a conversation (declined, cancelled) with nothing more to ask."""
        return Reply(ReplyKind.GOODBYE, self.catalog(key, language), language)

    def note(self, key: str, language: Language) -> Reply:
        """A short note shown before the next reply."""
        return Reply(ReplyKind.INFO, self.catalog(key, language), language)

    def problem(self, key: str, language: Language, **values: Any) -> Reply:
        """Why an input was not accepted (a normal reply, never an exception)."""
        return Reply(ReplyKind.PROBLEM, self.catalog(key, language, **values), language)

    def help(self, language: Language) -> Reply:
        """How to answer and which commands there are."""
        return Reply(ReplyKind.INFO, self.catalog("help", language), language)

    def languages(self, language: Language) -> Reply:
        """Offers the languages to switch to."""
        buttons = tuple(
            Choice(label=LANGUAGE_NAMES[code], action=Action.LANGUAGE, argument=code, selected=code == language)
            for code in LANGUAGES
        )
        return Reply(ReplyKind.LANGUAGES, self.catalog("choose_language", language), language, navigation=buttons)
