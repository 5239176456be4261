"""Separating the writer's own words from quoted history, signatures and phone footers.

Written here rather than taken from mail-parser-reply: on the formats Polish residents send,
that library keeps Gmail's and Thunderbird's Polish reply headers ("… napisał(a):", "W dniu …
pisze:"), Apple Mail's, the Ukrainian ones, "-- " signatures and Polish phone footers.
"""

from __future__ import annotations

import re

# The line that introduces quoted history: "On … wrote:", "pt., 29 maj 2026 o 10:15 … napisał(a):",
# "W dniu 29.05.2026 o 10:15, Anna pisze:", "Dnia … napisał(a):", "… написав(ла):".
_WROTE = re.compile(
    r"(?:wrote|napisa[łl]\(a\)|napisa[łl]a?|pisze|написав\(ла\)|написала?|пише|писал\(а\)|написал\(а\)|schrieb)"
    r"\s*:\s*$",
    re.IGNORECASE,
)
_STARTERS = re.compile(
    r"^(?:on\s|w dniu\s|dnia\s|(?:pon|wt|śr|czw|pt|sob|niedz|mon|tue|wed|thu|fri|sat|sun)\w*\.?,?\s|\d)",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(
    r"^(?:-{2,}\s*(?:original message|wiadomo[sś][cć] oryginalna|oryginalna wiadomo[sś][cć]|forwarded message|"
    r"wiadomo[sś][cć] przekazana(?: dalej)?|przekazana wiadomo[sś][cć]|wiadomo[sś][cć] przes[łl]ana dalej|"
    r"переслане повідомлення|пересланий лист|пересланное сообщение|оригінальне повідомлення)"
    r"\s*-{2,}|_{10,}|(?:pocz[aą]tek przekazywanej wiadomo[sś]ci|begin forwarded message|"
    r"початок пересланого повідомлення)\s*:)\s*$",
    re.IGNORECASE,
)
_FROM = re.compile(r"^\*?(?:from|od|від|от|de|von)\s*:\*?\s", re.IGNORECASE)
_FROM_NEXT = re.compile(
    r"^\*?(?:sent|date|to|subject|wysłano|wysłane|data|do|temat|dw|надіслано|дата|кому|тема|отправлено)\s*:\*?",
    re.IGNORECASE,
)
_FOOTER = re.compile(
    r"^(?:wys[łl]ane z|wys[łl]ano z|sent from|sent with|get outlook for|pobierz (?:aplikacj[eę] )?outlook|"
    r"надіслано з|відправлено з|отправлено с|envoyé de)\b",
    re.IGNORECASE,
)
# Closing formulas (pl, en, uk) that end a mail; the name, role and phone lines under them follow.
_CLOSING = re.compile(
    r"^(?:(?:dzi[eę]kuj[eę](?: bardzo)?|dzi[eę]ki|thanks|thank you|дякую)[,.!]?\s+(?:i\s+|and\s+|та\s+|і\s+)?)?"
    r"(?:z (?:wyrazami )?(?:powa[żz]ania|powa[żz]aniem|szacunku|szacunkiem)|z pozdrowieniami|"
    r"(?:serdecznie |gor[aą]co |serdeczne )?pozdrawiam(?:y)?(?: serdecznie| gor[aą]co| cieplutko| ciep[łl]o)?|"
    r"(?:serdeczne |gor[aą]ce )?pozdrowienia|[łl][aą]cz[eę] (?:serdeczne |wyrazy szacunku|)(?:pozdrowienia)?|"
    r"mi[łl]ego (?:dnia|wieczoru|weekendu|tygodnia)|do us[łl]yszenia|"
    r"best(?: regards| wishes)?|kind regards|warm regards|warmest regards|regards|all the best|cheers|"
    r"(?:yours )?sincerely|yours faithfully|yours truly|"
    r"з повагою|з найкращими побажаннями|щиро|гарного дня|всього найкращого|с уважением)"
    r"(?P<rest>[\s,.!]*|[,\s]\s*(?P<name>.+))$",
    re.IGNORECASE,
)
_SIGNATURE_LINES = 6  # a closing line followed by at most this many short lines is a signature


def _is_closing(line: str) -> bool:
    """Tells a closing formula ("Pozdrawiam", "Z poważaniem, Jan Kowalski") from a sentence that starts alike."""
    found = _CLOSING.match(line.strip())
    if found is None:
        return False
    name = found.group("name")
    if name is None:
        return True
    words = name.strip(" .!").split()
    # "Z poważaniem, Jan Kowalski" closes; "Pozdrawiam wszystkich sąsiadów z Bielan, którzy…" does not.
    return 0 < len(words) <= 4 and all(word[0].isupper() for word in words)


def history_start(lines: list[str]) -> tuple[int, int]:
    """Where quoted history begins and where its header line ends (both len(lines) when none)."""
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith(">"):
            continue
        if _SEPARATOR.match(stripped):
            return index, index + 1
        if _FROM.match(stripped) and any(_FROM_NEXT.match(next_.strip()) for next_ in lines[index + 1 : index + 6]):
            return index, index + 1
        if _WROTE.search(stripped) and (re.search(r"[\d@<]", stripped) or _STARTERS.match(stripped)):
            return index, index + 1
        if _WROTE.search(stripped) and index > 0 and lines[index - 1].strip() and len(stripped) < 40:
            return index - 1, index + 1  # a long header wrapped before "wrote:"
    return len(lines), len(lines)


def starts_signature(line: str) -> bool:
    """Tells whether a line opens a signature ("-- ") or is a phone's "Sent from …" footer."""
    stripped = line.rstrip()
    return stripped in ("--", "—") or bool(_FOOTER.match(stripped.strip()))


def _without_signature(lines: list[str]) -> list[str]:
    """Drops a "-- " signature, a phone footer, and a closing such as "Pozdrawiam, Jan"."""
    for index, line in enumerate(lines):
        stripped = line.rstrip()
        if starts_signature(line):
            return lines[:index]
        if _is_closing(stripped):
            tail = [rest for rest in lines[index + 1 :] if rest.strip()]
            if len(tail) <= _SIGNATURE_LINES and all(len(rest.strip()) <= 70 for rest in tail):
                return lines[:index]
    return lines


def own_words(text: str) -> str:
    """The writer's own words from a plain-text body: no quoted history, signature or footer.

    Answers written between quoted lines (an inline reply) are kept; the quoted lines are not.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start, end = history_start(lines)
    own = lines[:start]
    history = lines[end:]
    quoted_after = [i for i, line in enumerate(history) if line.lstrip().startswith(">")]
    if quoted_after:
        last_quote = quoted_after[-1]
        inline = [line for line in history[:last_quote] if line.strip() and not line.lstrip().startswith(">")]
        if inline:  # answers among the quoted lines: an inline reply
            own += [line for line in history if not line.lstrip().startswith(">")]
    kept = [line for line in own if not line.lstrip().startswith(">")]
    kept = _without_signature(kept)
    result = "\n".join(line.rstrip() for line in kept).strip()
    return re.sub(r"\n{3,}", "\n\n", result)
