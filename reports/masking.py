"""Hiding what identifies a person in a quote — names, street addresses, emails, phone numbers — and
nothing else: places, events, amounts and years stay as the resident wrote them.

Names come from lists shipped as data (`reports/data/`, their sources in its README): Polish and
Ukrainian first names and surnames, Latin and Cyrillic, each with the inflected forms Polish and
Ukrainian give it ("Zbyszka", "Kasią", "Олени"). A name is masked in any case and at a sentence
start; a name that is also an ordinary word ("ani", "róża", "wiara") only where it reads as a name
(capitalised inside a sentence, after "pan"/"pani", or next to another name). A capitalised word
that is in no list is left alone, so "Dzień Sąsiada" and "z Ukrainy" survive. Masking is a safety
net, not a guarantee: staff approve every quote before a public report shows it (`wspolnota quotes`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

NAME_MARK = "[…]"
EMAIL_MARK = "[e-mail]"
PHONE_MARK = "[telefon]"
ADDRESS_MARK = "[adres]"
ACCOUNT_MARK = "[konto]"  # a social-media handle such as @sasiedzi_bielany
PESEL_MARK = "[PESEL]"

_UPPER = "A-ZĄĆĘŁŃÓŚŹŻА-ЯЄІЇҐЁ"
_LOWER = "a-ząćęłńóśźżа-яєіїґё"
_APOSTROPHES = "'ʼ’"
_TLD = r"(?:pl|com|eu|net|org|ua|info|io|de|uk|edu|gov|waw\.pl)"

# --- emails, plain and written so that robots miss them ---------------------------------------------
_LOCAL = r"[\w.+-]*\w"
_EMAIL = re.compile(rf"{_LOCAL}\s?@\s?[\w-]+(?:\.[\w-]+)+")
_AT_BRACKETED = r"\s*[(\[{<]\s*(?:at|@|małpa|malpa|собака)\s*[)\]}>]\s*"
_AT_WORD = r"\s+(?:at|małpa|malpa|собака)\s+"
_DOT_BRACKETED = r"\s*[(\[{<]\s*(?:dot|kropka|крапка|точка|\.)\s*[)\]}>]\s*"
_DOT_WORD = r"\s+(?:dot|kropka|крапка|точка)\s+"
_DOT_ANY = rf"(?:{_DOT_BRACKETED}|{_DOT_WORD}|\.|\s(?={_TLD}\b))"
# "jan(at)wp.pl", "jan [at] wp [dot] pl": the brackets say it is an address, whatever follows.
_EMAIL_BRACKETED = re.compile(rf"{_LOCAL}{_AT_BRACKETED}[\w-]+(?:{_DOT_ANY}[\w-]+)+", re.IGNORECASE)
# "jan małpa wp.pl", "ania.nowak at gmail com": a bare word needs a domain ending in a known TLD.
_EMAIL_WORDED = re.compile(rf"{_LOCAL}{_AT_WORD}(?:[\w-]+{_DOT_ANY})+{_TLD}\b", re.IGNORECASE)
_MAIL_PROVIDERS = (
    r"(?:gmail|googlemail|wp|o2|onet|op|interia|poczta|tlen|gazeta|yahoo|outlook|hotmail|live|icloud|me|"
    r"proton|protonmail|ukr|i|meta|um)\b"
)
_HANDLE = re.compile(r"(?<![\w.@\]])@[A-Za-z0-9_.]{3,}\w")

# --- phone numbers ---------------------------------------------------------------------------------------
# Anything that looks like digits in groups; whether it is a phone number is decided by counting them.
_PHONE_CANDIDATE = re.compile(
    r"(?<![\w+/.,\]])(?:(?:\+|00)\s?\d{2,3}[ \t\u00a0.-]?)?(?:\(\s?0?\d{2,3}\s?\)[ \t\u00a0-]?)?"
    r"\d(?:[ \t\u00a0.-]?\d)+(?![\w\[]|[.,]\d)"
)
_THOUSANDS = re.compile(r"\d{1,3}(?:[ \u00a0.]\d{3})+")
# A number followed by one of these is an amount or a count, never a phone number or a house.
_UNIT = re.compile(
    r"\s?(?:zł|złotych|złote|zlotych|pln|eur|euro|usd|\$|€|грн|gr\b|tys|mln|mld|osób|osoby|osoba|ludzi|"
    r"mieszkańców|dzieci|rodzin|sąsiadów|lat|lata|roku|rok|razy|raz|%|proc|procent|minut|godzin|godz|"
    r"dni|tygodni|miesięcy|km|m2|m²|metrów|m\b|x\b|people|years|osіб|людей|років|разів)",
    re.IGNORECASE,
)

# --- street addresses ------------------------------------------------------------------------------------
_HOUSE = r"\d{1,4}[a-zA-Z]?(?:\s?/\s?\d{1,4}[a-zA-Z]?)?(?:,?\s*(?:m\.?|lok\.?|mieszk\.?|kv\.?|кв\.?)\s*\d{1,4})?"
_STREET_ABBREVIATION = r"(?i:ul|al|os|pl|вул|просп)\."
_STREET_NOUN = (
    r"(?i:ulica|ulicy|ulicę|ulicą|aleja|alei|aleję|aleje|alejach|osiedle|osiedlu|osiedla|plac|placu|placem|"
    r"rondo|ronda|skwer|skweru|bulwar|вулиця|вулиці|проспект)"
)
_STREET_WORD = rf"(?:[{_UPPER}][\w{_APOSTROPHES}.-]*|[IVX]{{1,4}}|\d{{1,2}}(?=\s+[{_UPPER}]))"
# "ul. Kondratowicza 37 m. 12", "al. Jana Pawła II 10/4", "ul. kondratowicza 37", "ulica Marszałkowska 10"
_ADDRESS_WITH_PREFIX = re.compile(
    rf"(?<!\w)(?:{_STREET_ABBREVIATION}\s*[\w{_APOSTROPHES}-]+|{_STREET_NOUN}\s+{_STREET_WORD})"
    rf"(?:\s+{_STREET_WORD}){{0,4}}\s+{_HOUSE}(?![\d\w\[]|[:.,]\d)"
)
# "Kondratowicza 37": a capitalised word that ends as Polish street names do, then a house number.
_ADDRESS_BARE = re.compile(
    rf"(?<!\w)(?P<street>[{_UPPER}][{_LOWER}]+(?:a|e|i|o|y|ą|ę|ów|ej|ich|ych|ego))\s+"
    r"\d{1,3}[a-zA-Z]?(?:\s?/\s?\d{1,4}[a-zA-Z]?)?(?:,?\s*(?:m\.?|lok\.?)\s*\d{1,4})?(?![\d\w\[]|[:.,]\d)"
)
# Ordinary words often followed by a number: "Sala 5", "Grupa 3" are no addresses.
_NOT_STREETS = frozenset(
    """
    sala sali klasa klasie grupa grupy grupie linia linii strefa strefie brama bramy klatka klatki klatce
    edycja edycji pozycja strona stronie lekcja runda godzina tura faza liga wersja szkoła szkole tabela
    trasa wejście wyjście piętro piętrze część etapie punkcie numerze
    """.split()
)
_MORE_THOUSANDS = re.compile(r"[ \u00a0.]\d{3}(?!\d)")
_PESEL = re.compile(r"(?<![\d\w+\]])\d{11}(?![\d\w\[])")

# --- names -----------------------------------------------------------------------------------------------
_WORD = re.compile(rf"[^\W\d_]+(?:[{_APOSTROPHES}-][^\W\d_]+)*")
_SENTENCE_END = ".!?…\n"
# Surnames that cannot be ordinary words, so that they count in lower case too ("pani kowalska").
_SURNAME_SHAPED = re.compile(
    r"(?:[sc]k|dzk)(?:i|a|iego|iej|ą|iemu|im)$|wicz|czyk|czak|enk[oa]$|czuk|(?:ak|ek|ik|yk|uk)$|чук|юк|енк|ськ|цьк"
)
# Words before a person's name: after them a capitalised word, or a listed one, is a name.
_TITLES = frozenset(
    """
    pan pana panu panem panie pani panią państwo państwa państwu państwem p dr mgr inż prof ks ksiądz
    księdza siostra siostry mr mrs ms miss пан пана пану паном пане пані панi господин госпожа
    """.split()
)
# Words after which a name belongs to a street, a school or a saint, not to a resident.
_PATRONS = frozenset(
    "im imienia św świętego świętej ul ulica ulicy ulicę al aleja alei os osiedle pl plac placu rondo вул".split()
)


@dataclass(frozen=True, slots=True)
class _Lexicon:
    first: frozenset[str]  # every form of every listed first name, lower case
    surnames: frozenset[str]
    common: frozenset[str]  # forms that are also ordinary words
    keep: frozenset[str]  # places and events: never masked
    bases: frozenset[str]  # the names as listed, uninflected: what an all-capitals word must be ("ANNA", not "RODO")


def mask(text: str) -> str:
    """Hides names, street addresses, emails, handles, phone numbers and PESEL numbers in a quote."""
    text = _EMAIL_BRACKETED.sub(EMAIL_MARK, text)
    text = _EMAIL_WORDED.sub(_worded_email, text)
    text = _EMAIL.sub(EMAIL_MARK, text)
    text = _HANDLE.sub(ACCOUNT_MARK, text)
    text = _PHONE_CANDIDATE.sub(_phone, text)
    text = _PESEL.sub(PESEL_MARK, text)
    text = _ADDRESS_WITH_PREFIX.sub(_address, text)
    text = _ADDRESS_BARE.sub(_bare_address, text)
    return _mask_names(text, _lexicon())


def _worded_email(match: re.Match[str]) -> str:
    """Masks "jan małpa wp.pl", "ania.nowak at gmail com" — not "a report at 2030.um.warszawa.pl/…" (a
    link after an English "at"), unless the words around say it is an address."""
    found = match.group()
    if match.string[match.end() : match.end() + 1] == "/":
        return found
    local, at, domain = re.split(r"\s+(at|małpa|malpa|собака)\s+", found, maxsplit=1, flags=re.IGNORECASE)
    if (
        at.lower() != "at"
        or re.search(r"[._\d+-]", local)
        or re.search(r"\b(?:dot|kropka)\b", domain, re.IGNORECASE)
        or re.match(_MAIL_PROVIDERS, domain, re.IGNORECASE)
    ):
        return EMAIL_MARK
    return found


def _phone(match: re.Match[str]) -> str:
    found = match.group()
    digits = re.sub(r"\D", "", found)
    international = found.startswith(("+", "00"))
    if international:
        digits = digits.removeprefix("00")
        phone = 10 <= len(digits) <= 13
    else:
        phone = (
            len(digits) == 9
            or (len(digits) == 10 and digits.startswith("0"))  # Ukrainian 0XX, or an old Polish 0 22 …
            or (len(digits) == 11 and digits.startswith("48"))
            or (len(digits) == 12 and digits.startswith("380"))
        )
    if not phone:
        return found
    after = match.string[match.end() :]
    if not international and _THOUSANDS.fullmatch(found.strip()) and (_UNIT.match(after) or " 000" in found):
        return found  # 125 000 000 zł
    return PHONE_MARK


def _address(match: re.Match[str]) -> str:
    if _amount_follows(match):
        return match.group()
    return ADDRESS_MARK


def _bare_address(match: re.Match[str]) -> str:
    street = match.group("street").lower()
    if street in _lexicon().keep or street in _NOT_STREETS or _amount_follows(match):
        return match.group()
    return ADDRESS_MARK


def _amount_follows(match: re.Match[str]) -> bool:
    """Whether the number just matched goes on as an amount or a count ("5 osób", "125 000 000 zł")."""
    after = match.string[match.end() :]
    return bool(_UNIT.match(after) or _MORE_THOUSANDS.match(after))


def _mask_names(text: str, lexicon: _Lexicon) -> str:
    words = list(_WORD.finditer(text))
    masked = [False] * len(words)
    for i in range(len(words)):
        masked[i] = _is_name(text, words, i, masked, lexicon)
    # A listed first name is a name, and so is a capitalised word right before it ("Kowalczyk Anna").
    for i in range(len(words) - 1):
        if masked[i + 1] and not masked[i] and _adjacent(text, words[i], words[i + 1]):
            token = words[i].group()
            lower = token.lower()
            if lower in lexicon.surnames and lower not in lexicon.keep and token[0].isupper():
                masked[i] = True
    out: list[str] = []
    position = 0
    previous_masked: re.Match[str] | None = None
    for word, hidden in zip(words, masked, strict=True):
        if not hidden:
            continue
        if previous_masked is not None and _adjacent(text, previous_masked, word):
            position = word.end()  # "Anna Kowalczyk" is one […]
        else:
            out.append(text[position : word.start()])
            out.append(NAME_MARK)
            position = word.end()
        previous_masked = word
    out.append(text[position:])
    return "".join(out)


def _is_name(text: str, words: list[re.Match[str]], i: int, masked: list[bool], lexicon: _Lexicon) -> bool:
    token = words[i].group()
    lower = token.lower().replace("ʼ", "'").replace("’", "'")
    if lower in lexicon.keep or lower in _TITLES:
        return False
    if "-" in lower and lower not in lexicon.first and lower not in lexicon.surnames:
        parts = lower.split("-")  # Nowak-Kowalska, Anna-Maria
        if any(part in lexicon.first or part in lexicon.surnames for part in parts if part not in lexicon.common):
            lower = next(part for part in parts if part in lexicon.first or part in lexicon.surnames)
    capital = token[0].isupper()
    if len(token) > 1 and token.isupper() and lower not in lexicon.bases:
        return False  # an acronym (RODO, GUS, ZUS), unless a name written in capitals (ANNA)
    previous = words[i - 1] if i > 0 and _adjacent(text, words[i - 1], words[i], dot=True) else None
    if previous is not None and previous.group().lower().rstrip(".") in _PATRONS:
        return False  # ul. Jana Pawła, im. Marii Skłodowskiej, św. Anny
    # In lower case only a first name counts: surnames include words ("pan musiał", "Anna tylko").
    first_name = lower in lexicon.first and lower not in lexicon.common
    if previous is not None and previous.group().lower() in _TITLES:
        surname = lower in lexicon.surnames and _SURNAME_SHAPED.search(lower) is not None
        return capital or first_name or surname  # pan Zdzichu, pani Krystyna, pan zbyszek, pani kowalska
    if previous is not None and masked[i - 1]:
        return capital or first_name  # Anna Kowalczyk, Олена Петренко, anna maria
    if first_name:
        return True  # zbyszek, Kasią, Ani at a sentence start too
    if not capital or _sentence_start(text, words[i].start()):
        return False
    if lower in lexicon.first:
        return True  # Róża inside a sentence; "róża" and "Ani jeden" stay
    return lower in lexicon.surnames and (lower not in lexicon.common)


def _adjacent(text: str, left: re.Match[str], right: re.Match[str], *, dot: bool = False) -> bool:
    """Whether only spaces (or, after an abbreviation, a dot and spaces) stand between two words."""
    gap = text[left.end() : right.start()]
    if dot:
        gap = gap.removeprefix(".")
    return gap != "" and gap.isspace() and "\n" not in gap


def _sentence_start(text: str, position: int) -> bool:
    before = text[:position].rstrip(" \t\u00a0\"'„”“«»()[]-–—*")
    return not before or before[-1] in _SENTENCE_END


# --- the lists and the forms Polish and Ukrainian give a name ----------------------------------------------


@cache
def _lexicon() -> _Lexicon:
    first = {form for name in _read("first_names_pl.txt") + _read("first_names_uk.txt") for form in name_forms(name)}
    surnames = {
        form for name in _read("surnames_pl.txt") + _read("surnames_uk.txt") for form in name_forms(name, surname=True)
    }
    keep = {form for name in _read("places.txt") for form in name_forms(name)}
    common = set(_read("common_words.txt"))
    bases = {name.lower() for name in _read("first_names_pl.txt") + _read("first_names_uk.txt")}
    bases |= {name.lower() for name in _read("surnames_pl.txt") + _read("surnames_uk.txt")}
    # Residents type without Polish letters too ("Lukasz", "Malgosia", "Jozefa"): the same names, folded.
    # Not a form whose ending carries the letter: "alę" would fold into "ale" (but), "Lesię" into "lesie".
    first, surnames, keep, common, bases = (
        words | {_fold(word) for word in words if not word.endswith(("ą", "ę"))}
        for words in (first, surnames, keep, common, bases)
    )
    return _Lexicon(
        frozenset(first - keep), frozenset(surnames - keep), frozenset(common), frozenset(keep), frozenset(bases - keep)
    )


_FOLDED = str.maketrans("ąćęłńóśźż", "acelnoszz")


def _fold(word: str) -> str:
    return word.translate(_FOLDED)


def _read(name: str) -> list[str]:
    text = resources.files("reports").joinpath("data", name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


# The last consonants of a Polish stem and what they become before -e (Ewa → Ewie, Marta → Marcie).
_PL_SOFTENED = (
    ("st", "ście"), ("zd", "ździe"), ("sł", "śle"), ("ch", "sze"), ("tr", "trze"),
    ("k", "ce"), ("g", "dze"), ("r", "rze"), ("t", "cie"), ("d", "dzie"), ("ł", "le"), ("n", "nie"),
    ("m", "mie"), ("w", "wie"), ("f", "fie"), ("b", "bie"), ("p", "pie"), ("s", "sie"), ("z", "zie"),
)  # fmt: skip
_PL_SOFT = {"ni": "ń", "si": "ś", "zi": "ź", "ci": "ć", "dzi": "dź"}
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def name_forms(name: str, *, surname: bool = False) -> set[str]:
    """A name and the inflected forms a resident may write it in, lower case (generous: a form that
    is no word costs nothing)."""
    lower = name.lower().replace("ʼ", "'").replace("’", "'")
    if _CYRILLIC.search(lower):
        return _uk_forms(lower, surname)
    return _pl_forms(lower, surname)


def _pl_forms(n: str, surname: bool) -> set[str]:
    forms = {n}
    if n.endswith(("ski", "cki", "dzki")):
        stem = n[:-1]
        plural = stem[:-1] + ("cy" if stem.endswith("sk") else "ccy")
        return forms | {stem + "iego", stem + "iemu", stem + "im", stem + "ich", stem + "imi", plural, stem + "a"}
    if n.endswith(("ska", "cka", "dzka")):
        stem = n[:-1]
        return forms | {stem + "iej", stem + "ą", stem + "o"}
    if n.endswith("a"):
        stem = n[:-1]
        if stem.endswith("i"):  # Kasia, Maria
            return forms | {stem, stem + "i", stem + "ę", stem + "ą", stem + "u", stem + "o"}
        if stem.endswith("j"):  # Maja → Mai
            forms |= {stem[:-1] + "i"}
        genitive = stem + ("i" if stem[-1:] in ("k", "g", "l", "j") else "y")
        forms |= {genitive, stem + "ę", stem + "ą", stem + "o", stem + "u", _pl_softened(stem)}
        return forms
    if n.endswith("y") and not surname:  # Jerzy, Ignacy
        stem = n[:-1]
        return forms | {stem + "ego", stem + "emu", stem + "ym"}
    if n.endswith("i"):  # Antoni, Jeremi
        return forms | {n + "ego", n + "emu", n + "m"}
    if n.endswith("o"):  # Mieszko, Petro, Bruno
        stem = n[:-1]
        return forms | {stem + "a", stem + "y", stem + "owi", stem + "em", stem + "u", stem + "ę", stem + "ą"}
    stems = {n}
    if n.endswith("ek") and len(n) > 4:  # Marek → Marka, Heniek → Heńka
        short = n[:-2] + "k"
        stems.add(short)
        for soft, letter in _PL_SOFT.items():
            if n[:-2].endswith(soft):
                stems.add(n[: -2 - len(soft)] + letter + "k")
    if n.endswith("ów"):  # Rembertów → Rembertowa
        stems.add(n[:-2] + "ow")
    if n.endswith("eł"):  # Paweł → Pawła
        stems.add(n[:-2] + "ł")
    if n.endswith("er") and len(n) > 4:  # Kacper → Kacpra
        stems.add(n[:-2] + "r")
    for ending, soft in (("ś", "si"), ("ć", "ci"), ("ń", "ni"), ("ź", "zi")):  # Jaś → Jasia
        if n.endswith(ending):
            stems.add(n[:-1] + soft)
    for stem in stems:
        forms |= {stem + "a", stem + "owi", stem + "em", stem + "u"}
        if stem.endswith(("k", "g", "ch")):  # Zbyszkiem, Jackiem; Marku (never "Marce")
            forms |= {stem + "iem"}
        else:  # Janie, Piotrze, Pawle, Robercie
            forms |= {stem + "ie", _pl_softened(stem)}
        if surname:
            forms |= {stem + "owie", stem + "ów", stem + "ami", stem + "ach", stem + "owa", stem + "ówna"}
    return forms


def _pl_softened(stem: str) -> str:
    for consonants, softened in _PL_SOFTENED:
        if stem.endswith(consonants):
            return stem[: -len(consonants)] + softened
    return stem + "i"


def _uk_forms(n: str, surname: bool) -> set[str]:
    forms = {n}
    if n.endswith(("ський", "цький", "зький")):
        stem = n[:-2]
        return forms | {stem + "ого", stem + "ому", stem + "им", stem + "і"}
    if n.endswith(("ська", "цька", "зька")):
        stem = n[:-1]
        return forms | {stem + "ої", stem + "ій", stem + "у", stem + "ою"}
    if n.endswith("а"):
        stem = n[:-1]
        forms |= {stem + "и", stem + "і", stem + "у", stem + "ою", stem + "о", stem + "ы", stem + "е", stem + "ой"}
        for hard, soft in (("к", "ц"), ("г", "з"), ("х", "с")):
            if stem.endswith(hard):
                forms.add(stem[:-1] + soft + "і")
        return forms
    if n.endswith("я"):
        stem = n[:-1]
        return forms | {stem + "ї", stem + "і", stem + "ю", stem + "єю", stem + "е", stem + "и", stem + "ей"}
    if n.endswith("й"):
        stem = n[:-1]
        return forms | {stem + "я", stem + "ю", stem + "єм", stem + "єві", stem + "ї", stem + "ем", stem + "е"}
    if n.endswith("о"):
        stem = n[:-1]
        return forms | {stem + "а", stem + "у", stem + "ові", stem + "ом", stem + "е"}
    if n.endswith("ь"):
        stem = n[:-1]
        return forms | {stem + "я", stem + "ю", stem + "ем", stem + "еві", stem + "ю"}
    forms |= {n + "а", n + "у", n + "ові", n + "ом", n + "е", n + "я", n + "ю", n + "ем", n + "еві", n + "і"}
    if n.endswith("ір"):  # Федір → Федора
        forms |= {n[:-2] + "ор" + ending for ending in ("а", "у", "ові", "ом", "е")}
    if surname:
        forms |= {n + "и", n + "ів", n + "ами"}
    return forms
