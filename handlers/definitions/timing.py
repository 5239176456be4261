"""How long a questionnaire takes on a phone: a documented estimate behind the promise in its intro.

The estimate adds up, screen by screen, what a resident does on a phone:

- **reading** the privacy notice as the caller shows it, the intro, each question with its hint and
  every option label (as if the whole district list were read), and on the summary the answers the
  resident checks (its labels were read a moment before) — at **1,148 characters a minute**. That is
  the International Reading Speed Texts' 68 ms a character, read *aloud* by native speakers aged
  18–35 in 14 languages, Polish and Russian among them (Trauzettel-Klosinski & Dietz 2012,
  "Standardized Assessment of Reading Performance: The New International Reading Speed Texts IReST",
  IOVS 53(9):5452–5461), scaled to silent reading by the ratio of 238 words a minute read silently
  to 183 read aloud (Brysbaert 2019, "How many words do we read per minute? A review and
  meta-analysis of reading rate", J. Memory and Language 109:104047). Counting characters, not
  words, treats Polish and Ukrainian (longer words) fairly beside English. IReST's 184 words a minute
  are 863 characters, 4.7 a word, so its characters are letters and marks without the spaces:
  `reading_characters` counts them the same way;
- the bot's own words on a question screen (the progress line, how to answer, Back and Skip), which
  live in the message catalog, not in the questionnaire: `CHROME_CHARACTERS`, read once — on later
  screens the same lines are recognised, not read again;
- **tapping** a closed question: one mental preparation (1.35 s) and one pointing action (1.1 s) per
  tap, the operators of the Keystroke-Level Model (Card, Moran & Newell 1980, "The keystroke-level
  model for user performance time with interactive systems", CACM 23(7):396–410); a multiple choice
  adds a tap on "Done", an open answer a tap on "Send";
- **typing** an open answer at **36.2 words a minute** (181 characters, a "word" being 5 characters
  with its space): the mean of 37,370 volunteers typing on their own phones (Palin, Feit, Kim,
  Kristensson & Oulasvirta 2019, "How do People Type on Mobile Devices? Observations from a Study
  with 37,000 Volunteers", MobileHCI '19). That study measured copying a given sentence; composing
  one's own answer also needs a moment to think, for which no published figure fits these
  questions: `THINK_BRIEF` and `THINK_FULLER` are this module's assumptions, stated as such;
- a second a screen for the page to turn (an assumption, for a phone on a mobile network).

The clock stops when the answers are sent: the thanks after them is not counted.

Two figures per language. **Brief**: one short sentence (60 characters) per open question, one pick
per multiple choice, and no contact (a question that opens others — the contact consent, which opens
the email — is read and skipped). **Fuller**: a few sentences (200 characters) per open question,
the most picks allowed, both contact options and an email address. Neither skips anything else or
picks "other". Pure: no clock, no I/O. `python -m bench.timing` prints it for the shipped
questionnaire, and a test holds the brief figure under five minutes in every language.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.definitions.i18n import Language
from handlers.definitions.questionnaire import Question, Questionnaire, QuestionType

READING_CPM = 60_000 / 68 * 238 / 183  # 1,148: IReST's 68 ms a character aloud, times silent/aloud (Brysbaert)
TYPING_CPM = 36.2 * 5  # 181: 36.2 WPM on phones (Palin et al. 2019), 5 characters a word
DECIDE_SECONDS = 1.35  # KLM mental preparation, M (Card, Moran & Newell 1980)
TAP_SECONDS = 1.1  # KLM pointing, P
SCREEN_SECONDS = 1.0  # the page turning on a mobile network (assumption)
CHROME_CHARACTERS = 75  # the bot's own lines on a question screen, spaces not counted; read once
THINK_BRIEF = 10.0  # seconds to decide what to write before one short sentence (assumption)
THINK_FULLER = 25.0  # seconds before a few sentences (assumption)
BRIEF_ANSWER = 60  # characters typed, spaces included: one short sentence, about 8-10 words
FULLER_ANSWER = 200  # characters typed: two or three sentences
EMAIL_ADDRESS = 24  # characters of a typical address
SUMMARY_CHOICE = 20  # characters the summary shows for one picked option or number


@dataclass(frozen=True, slots=True)
class Effort:
    """Seconds spent reading, tapping and typing on one way through a questionnaire."""

    reading: float
    tapping: float
    typing: float
    screens: int

    @property
    def seconds(self) -> float:
        return self.reading + self.tapping + self.typing + self.screens * SCREEN_SECONDS

    @property
    def minutes(self) -> float:
        return self.seconds / 60


@dataclass(frozen=True, slots=True)
class Estimate:
    """The brief and the fuller way through a questionnaire in one language."""

    language: Language
    brief: Effort
    fuller: Effort


def reading_characters(text: str) -> int:
    """Characters as reading rates count them: letters, digits and marks, not spaces or line breaks."""
    return sum(1 for character in text if not character.isspace())


def _reading(characters: float) -> float:
    return characters / READING_CPM * 60


def _taps(count: int) -> float:
    return count * (DECIDE_SECONDS + TAP_SECONDS)


def _typing(characters: int, think: float) -> float:
    return think + characters / TYPING_CPM * 60


def _on_screen(question: Question, language: Language) -> int:
    """Characters of the question's own texts: label, hint, every option, the scale's end labels."""
    texts = [question.label(language)]
    texts += [text(language) for text in (question.hint, question.min_label, question.max_label) if text]
    texts += [option.label(language) for option in question.options]
    return sum(reading_characters(text) for text in texts)


def _way(questionnaire: Questionnaire, language: Language, notice: str, *, fuller: bool) -> Effort:
    """One way through: `fuller` gives longer answers, more picks and the email."""
    answer = FULLER_ANSWER if fuller else BRIEF_ANSWER
    intro = questionnaire.intro(language) if questionnaire.intro else ""
    read = float(reading_characters(notice) + reading_characters(intro) + CHROME_CHARACTERS)
    taps = 2  # accept the notice; send the answers from the summary
    typed = 0.0
    screens = 2  # the notice (the intro comes with the first question), the summary
    gates = {condition.question for question in questionnaire.questions for condition in question.show_if}
    for question in questionnaire.questions:
        if question.show_if and not fuller:
            continue  # the brief way opens nothing conditional
        screens += 1
        read += _on_screen(question, language)
        kind = question.type
        if question.code in gates and not fuller:
            taps += 1  # Skip
        elif kind in (QuestionType.TEXT, QuestionType.EMAIL):
            length = answer if kind is QuestionType.TEXT else EMAIL_ADDRESS
            think = (THINK_FULLER if fuller else THINK_BRIEF) if kind is QuestionType.TEXT else DECIDE_SECONDS
            typed += _typing(length, think)
            taps += 1  # Send
            read += length * 5 / 6  # checked on the summary: the typed characters without their spaces
        else:
            picks = (question.pick_limit if fuller else 1) if kind is QuestionType.MULTIPLE_CHOICE else 1
            taps += picks + (1 if kind is QuestionType.MULTIPLE_CHOICE else 0)  # each pick, then Done
            read += SUMMARY_CHOICE * picks
    return Effort(reading=_reading(read), tapping=_taps(taps), typing=typed, screens=screens)


def estimate(questionnaire: Questionnaire, language: Language, notice: str) -> Estimate:
    """How long the questionnaire takes on a phone in a language, briefly and more fully.

    `notice` is everything on the first screen as the resident sees it (the privacy notice's layers
    and its buttons are the presenter's business); the rest is read from the questionnaire itself.
    """
    return Estimate(
        language,
        brief=_way(questionnaire, language, notice, fuller=False),
        fuller=_way(questionnaire, language, notice, fuller=True),
    )
