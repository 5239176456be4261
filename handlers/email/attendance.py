"""Whether a plain reply to an invitation says "I'll come" or "I can't" (pl, en, uk), or leaves it to staff.

People answer an invitation to a working group in their own words ("Tak, będę", "Niestety nie mogę",
"I'll be there", "на жаль, не можу"), and calendar programs answer with their own subjects
("Zaakceptowano: …", "Declined: …", "Прийнято: …"). `read_attendance` records only what is clear:
anything uncertain, conditional, partial, mixed or asking a question gives None, and staff read it.
A negation always wins over the yes it contains ("nie, nie będę", "tak naprawdę to nie mogę"): such a
reply is DECLINED or None, never CONFIRMED.

Pure: regular expressions over the writer's own words (quoted history and signature removed).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Literal

from handlers.email.quotes import own_words


class Attendance(StrEnum):
    """A clear answer to an invitation."""

    CONFIRMED = "confirmed"
    DECLINED = "declined"


CONSIDERED_LINES = 4  # the own words' first lines that count (greetings aside)
MAX_OWN_TEXT = 500  # a plain reply longer than this is a letter for staff, not an answer

# Subjects calendar programs give their answers (Outlook, Gmail, Apple; pl, en, uk, ru, de, fr).
_SUBJECT_TENTATIVE = re.compile(
    r"^\s*(?:wst[eę]pnie zaakceptowan[oaey]|tentative(?:ly accepted)?|niepewne|mo[żz]e|maybe|"
    r"mit vorbehalt|vorl[äa]ufig zugesagt|під питанням|попередньо прийнято|под вопросом|provisoire)\s*:",
    re.IGNORECASE,
)
_SUBJECT_ACCEPTED = re.compile(
    r"^\s*(?:zaakceptowan[oaey]|przyj[eę]t[oaey]|accepted|akzeptiert|zugesagt|прийнято|принято|accept[ée])\s*:",
    re.IGNORECASE,
)
_SUBJECT_DECLINED = re.compile(
    r"^\s*(?:odrzucon[oaey]|odm[oó]wion[oaey]|declined|abgelehnt|відхилено|отклонено|refus[ée])\s*:",
    re.IGNORECASE,
)

_GREETING = re.compile(
    r"^(?:dzie[nń] dobry|witam|witaj(?:cie)?|szanowni pa[nń]stwo|szanowna pani|szanowny panie|cze[sś][cć]|"
    r"hello|hi|dear [^,]{0,40}|good (?:morning|afternoon|evening)|"
    r"добрий день|доброго дня|вітаю|привіт|шановні|здравствуйте|добрый день)\b[\s,.!]*$",
    re.IGNORECASE,
)

# Everything below runs on normalised text: lower case, Polish letters without diacritics, one apostrophe.
_POLISH = str.maketrans("ąćęłńóśźż", "acelnoszz")
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "´": "'", "‘": "'"})

_UNCERTAIN = re.compile(
    r"\b(?:nie wiem|nie jestem pewn\w*|niepewn\w*|moze|chyba|prawdopodobnie|postaram sie|sprobuje|raczej|"
    r"jesli|jezeli|o ile|zalezy|wstepnie|ewentualnie|dam znac|potwierdze|spoznie|czy|"
    r"not sure|unsure|maybe|perhaps|probably|possibly|might|try to|i'll try|i will try|don'?t know|do not know|"
    r"depends|if|unless|tentative\w*|let you know|late|"
    r"не знаю|можливо|мабуть|напевно|спробую|постараюся|постараюсь|не впевнен\w*|якщо|залежить|повідомлю|"
    r"может быть|возможно|попробую|если|не уверен\w*)\b",
)
_PARTIAL = re.compile(
    r"\b(?:ale|jednak|tylko|oprocz|poza|z wyjatkiem|but|except|only|however|apart from|"
    r"але|проте|тільки|лише|крім|окрім|но|только|кроме)\b",
)
# One meeting rather than the series ("nie przyjdę na drugie spotkanie", "I can't on 8.11"): staff decide.
_ONE_MEETING = re.compile(
    r"\b(?:pierwsz\w*|drugi\w*|drugie\w*|trzeci\w*|ostatni\w*|first|second|third|last|next|"
    r"перш\w*|друг\w*|трет\w*|останн\w*|наступн\w*|перв\w*|втор\w*|последн\w*)\b"
    r"|\b\d{1,2}\s*[./]\s*\d{1,2}\b"
    r"|\b\d{1,2}\s+(?:pazdziernik\w*|listopad\w*|oct\w*|nov\w*|жовт\w*|листопад\w*|октябр\w*|ноябр\w*)\b"
    r"|\b(?:october|november)\s+\d{1,2}\b",
)
_THANKS_AFTER_BUT = re.compile(
    r"\b(?:ale|but|але|но)\s+(?:bardzo\s+)?(?:dziekuj\w*|dzieki|thank\w*|дякую|спасибо)\b[^.!\n]*",
)
_NEGATIVE = re.compile(
    r"\bnie\s+(?:bede|moge|moglabym|moglbym|mogla|mogl|dam\s+rad[ey]|przyjde|zdaze|zdolam|dotre|pojawie|zjawie|"
    r"stawie|wezme|biore|jestem\s+w\s+stanie|uda\s+(?:mi\s+)?sie|mam\s+(?:jak|mozliwosci|czasu)|pasuje|"
    r"odpowiada\s+mi|potwierdzam|skorzystam|przyjmuje)\w*"
    r"|\bniestety\b|\brezygnuj\w*|\brezygnacj\w*|\bzrezygnow\w*|\bodmawiam\b|\bodmowic\b|\bwycofuj\w*|\bwycofac\b"
    r"|\bbez\s+mnie\b|\bmusze\s+odmowic\b"
    r"|\b(?:can'?t|cannot|can\s+not|won'?t|will\s+not|couldn'?t|could\s+not|unable)\b(?:\s+\w+){0,4}"
    r"|\bnot\s+(?:be\s+)?(?:able|coming|attending|attend|make\s+it|join|joining|participate|available|there)\b"
    r"|\bunfortunately\b|\bregret\w*|\bwithdraw\w*|\bcount\s+me\s+out\b|\bno\s+longer\b"
    r"|\bi\s+(?:must|have\s+to|need\s+to|'ll\s+have\s+to|will\s+have\s+to)\s+(?:decline|cancel|withdraw|miss)\b"
    r"|\bi\s+decline\b"
    r"|\bне\s+(?:зможу|можу|буду|прийду|встигну|вийде|візьму|братиму|маю\s+змоги|маю\s+можливості|підходить|"
    r"смогу|могу|приду|получится|успею)\w*"
    r"|\bна\s+жаль\b|\bк\s+сожалению\b|\bвідмовля\w*|\bвідмовит\w*|\bотказыва\w*|\bвынужден\w*\s+отказ\w*",
)
_NEGATIVE_LINE = re.compile(r"^(?:nie|no|nope|ні|нет)\b\s*(?:[.,!;:]|$)")
_POSITIVE = re.compile(
    r"^(?:tak|yes|yep|yeah|sure|of\s+course|absolutely|oczywiscie|jasne|так|звісно|звичайно|да|конечно)\b"
    r"(?!\s+(?:naprawde|wlasciwie|czy|jak|samo|sam|bylo|by|ze|zwan\w*|zupelnie|sobie|srednio|bardzo|dalej|"
    r"jakby|ze|що|як|само|собі|чи|far|much|as|that))"
    r"|\bbede\b(?!\s+(?:wdzieczn\w*|zobowiazan\w*|musial\w*|potrzebowal\w*|mial\w*|chcial\w*|pamietac|"
    r"informowac|prosic|pisac|czekac|szczesliw\w*))"
    r"|\b(?:przyjde|potwierdzam|zjawie\s+sie|pojawie\s+sie|stawie\s+sie|wezme\s+udzial|biore\s+udzial|"
    r"dotre|chetnie|z\s+przyjemnoscia|z\s+checia|do\s+zobaczenia|akceptuje|przyjmuje\s+zaproszenie|"
    r"bede\s+obecn\w*)\b"
    r"|\bi'?ll\s+be\s+there\b|\bi\s+will\s+be\s+there\b|\bi'?ll\s+(?:come|attend|join|be\s+present)\b"
    r"|\bi\s+will\s+(?:come|attend|join|be\s+present)\b|\bi'?m\s+(?:coming|in)\b|\bi\s+am\s+(?:coming|in)\b"
    r"|\bcount\s+me\s+in\b|^(?:i\s+(?:can\s+|hereby\s+)?)?confirm(?:ed|ing)?\b|\bi\s+(?:can\s+|hereby\s+)?confirm\b"
    r"|\bsee\s+you\s+(?:there|then|on)\b|\bi\s+accept\b|\blooking\s+forward\b|\bi\s+can\s+(?:come|attend|make\s+it)\b"
    r"|\bбуду\b(?!\s+(?:вдячн\w*|змушен\w*|мусит\w*|рад\w*|чекати|писати))"
    r"|\b(?:прийду|підтверджую|візьму\s+участь|беру\s+участь|до\s+зустрічі|залюбки|з\s+радістю|обов'язково|"
    r"приду|подтверждаю|приму\s+участие)\b",
)
_STRAY_NEGATION = re.compile(r"\b(?:nie|not|no|never|nigdy|не|ні|нет|ніколи|никогда)\b|n't\b")


def _normalised(text: str) -> str:
    return re.sub(r"[ \t]+", " ", text.lower().translate(_POLISH).translate(_APOSTROPHES))


def _subject_says(subject: str) -> Attendance | Literal[False] | None:
    """What a calendar program's subject says: an Attendance, False (tentative), None (not such a subject)."""
    if _SUBJECT_TENTATIVE.match(subject):
        return False
    if _SUBJECT_ACCEPTED.match(subject):
        return Attendance.CONFIRMED
    if _SUBJECT_DECLINED.match(subject):
        return Attendance.DECLINED
    return None


def calendar_answer_subject(subject: str) -> bool:
    """Tells whether a subject is a calendar program's answer to an invitation ("Zaakceptowano: …",
    "Declined: …", a tentative one too): such an email answers a seat even outside our thread."""
    return _subject_says(subject) is not None


def _lines_say(lines: list[str]) -> Attendance | Literal[False] | None:
    """What the first lines say: an Attendance, False (unsure, mixed or partial), None (nothing)."""
    text = _normalised("\n".join(lines))
    if _UNCERTAIN.search(text):
        return False
    if _PARTIAL.search(_THANKS_AFTER_BUT.sub(" ", text)):
        return False
    negative = bool(_NEGATIVE.search(text)) or any(_NEGATIVE_LINE.match(line) for line in text.splitlines())
    rest = _NEGATIVE.sub(" ", text)
    positive = any(_POSITIVE.search(line.strip(" \t,.!-–")) for line in rest.splitlines())
    if negative:
        return False if positive else Attendance.DECLINED
    if positive:
        # A negation the lists don't know ("tak, nie dam się prosić"): never read as a yes.
        return False if _STRAY_NEGATION.search(rest) else Attendance.CONFIRMED
    return None


def read_attendance(subject: str, own_text: str) -> Attendance | None:
    """A plain reply's clear answer to an invitation, decision or reminder; None leaves it for staff.

    `subject` decides alone when it is a calendar program's ("Zaakceptowano: …", "Declined: …") and the
    text does not say otherwise; a tentative answer is None. Only the own words' first few lines count
    (quoted history and signature removed, greetings skipped); a question, a long letter, or a plain reply
    about one of the meetings ("nie przyjdę na drugie spotkanie") is None. A calendar program's own answer
    is better read with `calendar.calendar_replies`, which also tells which meeting it is about.
    """
    said = _subject_says(subject.strip())
    if said is False:
        return None
    own = own_words(own_text)
    lines = [line.strip() for line in own.splitlines() if line.strip()]
    lines = [line for line in lines if not _GREETING.match(line)][:CONSIDERED_LINES]
    if said is None and (len(own) > MAX_OWN_TEXT or "?" in own or _ONE_MEETING.search(_normalised(own))):
        return None  # a letter, a question, or an answer about one meeting: staff read it
    if said is not None and any("?" in line for line in lines):
        return None
    text_says = _lines_say(lines)
    if text_says is False:
        return None
    if said is None or text_says is None:
        return text_says if said is None else said
    return said if text_says == said else None
