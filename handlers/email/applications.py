"""Reading a working-group application in an email: whether it applies or withdraws, which groups, who, from where.

Pure functions over a parsed email and the call (`config/recruitment.yaml`): no I/O, no storage, no engine.
The reader is careful rather than clever. An email applies only when a sentence of the writer's says so in
the first person ("chciałabym dołączyć do grupy II", "I'd like to apply for working group 2", «хочу подати
заявку до робочої групи»), or when it answers our own application message; an opinion that only mentions
the programme, a neighbours' group or the working groups is not an application. What it cannot tell
(the sector when two are named, groups when none is) it leaves empty, and the acknowledgement asks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from handlers.definitions.recruitment import Recruitment
from handlers.email.classify import MailKind, Verdict, classify
from handlers.email.parse import ParsedEmail
from handlers.email.quotes import history_start, starts_signature

_FOLD = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")


@lru_cache(maxsize=512)  # each sentence meets some twenty patterns
def _fold(text: str) -> str:
    """Drops the marks of Polish letters, one character for one ("zgłaszam" → "zglaszam"): positions stay."""
    return text.translate(_FOLD)


class _Words:
    """A pattern that reads Polish written with or without its letters' marks (phones often type none).

    The pattern and the text are both folded, one character for one, so a match's positions index the
    original text: take what it matched from there (`text[m.start() : m.end()]`), never from `m.group()`.
    """

    __slots__ = ("_compiled",)

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._compiled = re.compile(_fold(pattern), flags)

    @property
    def pattern(self) -> str:
        """The folded pattern's source."""
        return self._compiled.pattern

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        """Finds the first match at or after `pos`."""
        return self._compiled.search(_fold(text), pos)

    def match(self, text: str, pos: int = 0) -> re.Match[str] | None:
        """Matches at `pos`."""
        return self._compiled.match(_fold(text), pos)

    def fullmatch(self, text: str) -> re.Match[str] | None:
        """Matches the whole text."""
        return self._compiled.fullmatch(_fold(text))

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        """Every match, left to right."""
        return self._compiled.finditer(_fold(text))


# Who applies, to which groups and from where is said near the top: the rest of a long description is
# kept whole, but not read sentence by sentence (a 250 KB email would otherwise take a second).
_READ_CHARS = 30_000
# Mail that is not a person writing: never an application, whatever its words (auto-replies quote them).
_NOT_A_PERSON = frozenset(
    {MailKind.AUTO_REPLY, MailKind.BOUNCE, MailKind.LIST, MailKind.OWN, MailKind.SPAM, MailKind.SPOOF, MailKind.RECALL}
)
_UPPER = "A-ZĄĆĘŁŃÓŚŹŻÀ-ÖØ-ÞА-ЯЁІЇЄҐ"


@dataclass(frozen=True, slots=True)
class ApplicationReading:
    """What an email says about the working groups, read from the writer's words, signature and address.

    `applies` means the email belongs with the applications rather than the opinions: it applies, answers
    our application message, updates an application or withdraws one. `withdraws` is the whole application
    withdrawn; `drops` are groups the writer leaves while keeping the others ("rezygnuję z grupy III,
    zostaję w I"). Empty `groups` and a None `sector` mean the email did not say: the acknowledgement asks.
    """

    applies: bool
    withdraws: bool = False
    groups: tuple[str, ...] = ()  # group codes wanted, in the call's order
    any_group: bool = False  # "do dowolnej", "any group": `groups` then holds every group
    drops: tuple[str, ...] = ()  # group codes the writer leaves, in the call's order
    sector: str | None = None  # one of recruitment.SECTOR_CODES, when the words, signature or address say it
    name: str | None = None  # the From display name when it is a person's, else the words or the signature
    organisation: str | None = None  # from the signature or the words ("z Fundacji X" → "Fundacja X")
    description: str = ""  # the writer's own words: no greeting, quotes, signature or footer
    reasons: tuple[str, ...] = ()  # why, for staff: the words that decided each field


# ── recognising an application ────────────────────────────────────────────────────────────────────
# The first person, or a wish, in the sentence: third-person mentions ("mieszkańcy mogą się zgłaszać")
# and invitations to others ("zachęcam do zgłaszania się") are opinions.
_FIRST_PERSON = _Words(
    r"\b(?:zgłaszam|zgłaszamy|aplikuję|kandyduję|dołączę|dołączyłabym|dołączyłbym|wezmę|chcę|chciał\w*|"
    r"chętnie|pragnę|pragnęł\w*|zamierzam|planuję|proszę|prosimy|moj\w*|moją|mnie|mi|mam|jestem|"
    r"przesyłam|załączam|deklaruję|zostaję|zmieniam|dopiszcie|zapiszcie|"
    r"(?-i:I)|i'd|i'm|i've|i'll|me|my|we'd|we're|our|us|please|"
    r"я|хочу|хотів\w*|хотіл\w*|бажаю|прошу|подаю|моя|мою|мене|мені|надсилаю)(?![\w'’])",
    re.IGNORECASE,
)
_ACTION = _Words(
    r"\b(?:zgłasza\w*|zgłosi\w*|zgłoszeni\w*|zgłaszam\w*|aplik\w+|kandyd\w+|dołącz\w*|przyłącz\w*|przystąpi\w*|"
    r"(?:wziąć|wezmę|brać) udział|udział\w* w (?:prac\w* )?grup\w*|uczestnicz\w*|uczestnict\w*|"
    r"zapis\w+|dopis\w+|wpis\w+|"
    r"członk\w+ grup\w*|"
    r"apply|applying|application|applied|join|joining|take part|participat\w*|candida\w+|sign (?:me )?up|"
    r"be part of|be considered|count me in|volunteer\w*|"
    r"заявк\w*|подати|подаю|приєдна\w*|долучи\w*|взяти участь|участ\w*|кандидат\w*|запиш\w*|записа\w*)",
    re.IGNORECASE,
)
# Nouns and verbs that name an application on their own, so the group may be named in another sentence.
_STRONG_ACTION = _Words(
    r"\b(?:zgłaszam\w*|zgłosić|zgłoszeni\w*|kandydatur\w*|kandyduję|aplikuję|aplikacj\w*|"
    r"apply|applying|application|candidacy|заявк\w*|кандидатур\w*)",
    re.IGNORECASE,
)
# A wish that applies when it names a group ("Chcę do II", "interesuje mnie grupa III", "I'd prefer group 1").
_WISH = _Words(
    r"\b(?:chcę|chciał\w*|wolał\w*|wolę|wybieram|interesuj\w* mnie|zależy mi|zainteresowan[aey]|"
    r"i'd prefer|i prefer|i choose|i'm interested|i am interested|i'd be interested|"
    r"хочу|хотіла б|хотів би|цікавить мене|мене цікавить|обираю)(?![\w'’])",
    re.IGNORECASE,
)
# Staying in a group while leaving another: "…, ale zostaję w III".
_STAY = _Words(r"\b(?:zostaj\w*|pozostaj\w*|zostan\w*|stay\w*|remain\w*|залиша\w*)", re.IGNORECASE)
# Before a group: "nie do III", "zamiast grupy II", "not group 1", «не до третьої».
_NEGATION = _Words(
    r"\b(?:nie|zamiast|not|no|never|don't|doesn't|won't|can't|cannot|instead|не|ні|замість)\b", re.IGNORECASE
)
_WITHDRAW = _Words(
    r"\b(?:rezygnuj\w*|rezygnacj\w*|zrezygnow\w*|wycofuj\w*|wycofać|wycofani\w*|wycofał\w*|anuluj\w*|"
    r"(?:usunięcie|skreślenie|wykreślenie|usunąć|skreślić|wykreślić) (?:mnie|mojego zgłoszenia|mojej kandydatury)|"
    r"withdraw\w*|cancel\w* my application|(?:remove|take) me (?:off|from)|"
    r"no longer (?:be )?(?:able|wish|want|intend)\w* to (?:take part|participate|join|apply)|"
    r"відклика\w*|відкликати|скасув\w*|відмовля\w*|відмовил\w*)",
    re.IGNORECASE,
)
# What a withdrawal must be about, unless the email answers our application message.
_APPLICATION_TOPIC = _Words(
    r"zgłosz\w*|zgłoszeni\w*|kandydatur\w*|aplikacj\w*|udział\w*|grup\w*|uczestnict\w*|"
    r"application|candidacy|group|participation|заявк\w*|груп\w*|участ\w*|кандидатур\w*",
    re.IGNORECASE,
)
# Polite requests end with "?" but ask us to do something: "Could you please move my application…?"
_REQUEST = _Words(
    r"^(?:could you|would you|can you|will you|czy (?:mog[eęł]\w* prosić|mogliby|można prosić|mogłaby pani|"
    r"mógłby pan)|чи (?:можна|могли б|можете))\b",
    re.IGNORECASE,
)
_QUESTION_WORDS = _Words(
    r"^(?:czy|jak|kiedy|gdzie|ile|do kogo|how|when|where|can i|could i|may i|is it|чи|як|коли|де)\b", re.IGNORECASE
)

# ── the groups ────────────────────────────────────────────────────────────────────────────────────
_CONJ = r"(?:\s*[,;/&+]\s*|\s+(?:i|oraz|and|or|lub|albo|a także|та|і|й|чи|або)\s+|\s*[-–—]\s*)"
# "group I would also be fine" is group I; "working group I would like to join" is the pronoun.
_PRONOUN_I = (
    r"(?:would|should|could) (?:like|love|prefer|be happy|be glad|bring)|"
    r"think|am|have|want|hope|believe|can|will|was|feel|know|work|live"
)
_ROMAN = rf"(?-i:III|II|I)(?![\w'’])(?!\s+(?:{_PRONOUN_I})\b)"
_DIGIT = r"(?<![\d.,])[123](?![\d,.:%]\d|\d|\s*[-–]\s*\d|\s*(?:-|–)?\s*(?:os[oó]b|os\.|people|person|ос))"
_ORDINAL_WORDS = {
    1: r"pierwsz\w*|first|one|перш\w+",
    2: r"drug\w*|second|two|друг\w+",
    3: r"trzeci\w*|third|three|трет\w+",
}
_ORDINAL = "|".join(f"(?:{words})" for words in _ORDINAL_WORDS.values())
_NUMERAL = rf"(?:{_ROMAN}|{_DIGIT}|\b(?:{_ORDINAL})\b)"
_NUMERALS = rf"{_NUMERAL}(?:{_CONJ}(?:(?:nr|no|numer|№)\.?\s*)?{_NUMERAL})*"  # "1 i 3", "nr 1 i nr 3"
# Before the word "group" only ordinals and Roman numerals: "3 grupy robocze", "two groups" are counts.
_ORDINAL_ADJECTIVE = r"\b(?:pierwsz\w*|drug\w*|trzeci\w*|first|second|third|перш\w+|друг\w+|трет\w+)\b"
_NUMERAL_BEFORE = rf"(?:{_ROMAN}|{_ORDINAL_ADJECTIVE})"
_NUMERALS_BEFORE = rf"{_NUMERAL_BEFORE}(?:{_CONJ}{_NUMERAL_BEFORE})*"
# The programme's page calls them areas too: "obszar drugi", "area 2".
_GROUP_WORD = r"\b(?:grup\w*|group\w*|груп\w*|obszar\w*|areas?\b|напрям\w*)"
_NUMBER_SIGN = r"(?:\s*(?:nr|numer|no|number|№|#)\.?)?"
_WORKING = r"(?:\s+(?:robocz\w*|working|робоч\w*))?"
# "grupy II", "grupa robocza nr 2", "groups 1 and 3", "групи III"; "II grupy", "pierwszej i trzeciej grupy".
_GROUPS_AFTER = _Words(rf"{_GROUP_WORD}{_WORKING}{_NUMBER_SIGN}\s*[(,:]?\s*(?P<list>{_NUMERALS})", re.IGNORECASE)
_GROUPS_BEFORE = _Words(
    rf"(?<![\w-])(?P<list>{_NUMERALS_BEFORE})\s+(?:robocz\w+\s+|working\s+|робоч\w+\s+)?{_GROUP_WORD}", re.IGNORECASE
)
# "…obszar drugi, ale mogę też pierwszy": after a group named, a clause that ends with a bare numeral.
_LONE_NUMERAL = _Words(rf"(?:^|\s)(?P<list>{_NUMERALS_BEFORE})\s*[.!]?$", re.IGNORECASE)
# "Zgłaszam się do I i III", "zostaję w III": bare Roman numerals after a preposition, where one applies.
_GROUPS_BARE = _Words(
    rf"\b(?:do|to|for|w|we|in|до|у|в)\s+(?P<list>{_ROMAN}(?:{_CONJ}{_ROMAN})*)(?=\s*(?:[.,;!)]|$|\s+(?:grup\w*|group\w*|груп\w*)))",
    re.IGNORECASE,
)
_GROUP_REF = rf"(?:the\s+)?(?:{_GROUP_WORD}{_WORKING}{_NUMBER_SIGN}\s*)?"
# "z grupy 1 do grupy 3", "from group 1 to group 3", "z II na III", «з групи 1 до групи 3»: one left, one wanted.
_MOVE = _Words(
    rf"\b(?:from|z|ze|з|із)\s+{_GROUP_REF}(?P<old>{_NUMERALS})\s+(?:to|into|do|na|до|на)\s+{_GROUP_REF}(?P<new>{_NUMERALS})",
    re.IGNORECASE,
)
_ANY_GROUP = _Words(
    r"\b(?:do (?:dowoln\w+|którejkolwiek|jakiejkolwiek|każdej)\b|"
    r"(?:dowoln\w+|którejkolwiek|jakiejkolwiek|każdej|wszystkich)(?: trzech)? (?:z )?(?:tych |trzech )?grup\w*|"
    r"obojętnie (?:której|jakiej|do której)|wszystkich trzech|(?:każdej|którejkolwiek|dowolnej) innej|"
    r"any other(?: group)?|"
    r"any (?:one )?(?:of (?:the|them)(?: three| 3)?|(?:working )?groups?)|whichever group|"
    r"all (?:three |3 )?(?:working )?groups|all three|"
    r"будь-як\w+|будь як\w+|(?:всіх|усіх|кожн\w+)(?: трьох| з)? груп\w*)",
    re.IGNORECASE,
)
_WORKING_GROUP = _Words(
    r"\bgrup\w* robocz\w*|\brobocz\w+ grup\w*|\bworking[- ]groups?\b|\bробоч\w+ груп\w*|\bгруп\w+ робоч\w+|"
    + _GROUPS_AFTER.pattern.replace("?P<list>", "")
    + "|"
    + _GROUPS_BEFORE.pattern.replace("?P<list>", ""),
    re.IGNORECASE,
)
# Each area's words, by the shipped codes; stems, so every case and language matches.
_TOPICS: dict[str, _Words] = {
    "otwartosc": _Words(
        r"\b(?:otwartoś\w*|otwartos\w*|relacj\w*|nawiązywani\w*|openness|relationships?|відкрит\w*|стосунк\w*|"
        r"взаємин\w*)",
        re.IGNORECASE,
    ),
    "aktywnosc": _Words(
        r"\b(?:aktywnoś\w*|aktywnos\w*|współprac\w*|social activity|activity|cooperation|co-operation|"
        r"активн\w*|співпрац\w*)",
        re.IGNORECASE,
    ),
    "przynaleznosc": _Words(
        r"\b(?:przynależ\w*|przynalez\w*|identyfikac\w*|tożsamoś\w*|belonging|identity|identification|"
        r"належн\w*|ідентифікац\w*|ідентичн\w*)",
        re.IGNORECASE,
    ),
}
_TOPIC_REACH = 80  # a topic word names a group only this close after a group word ("grupy o …")

# ── the sector and the organisation ───────────────────────────────────────────────────────────────
# Most specific first: a line with "Centrum … Urzędu m.st. Warszawy" is City Hall, "Fundacja Centrum X" an NGO.
_SECTORS: tuple[tuple[str, _Words], ...] = (
    (
        "city_hall",
        _Words(
            r"\burz[ąę]d\w*\s+(?:m\.\s*st\.|m\.st\.|miasta\s+st\w*\.?|miasta\s+stołecznego|miasta)\s+warszaw\w*|"
            r"\burz[ąę]d\w* miasta\b|\bcity hall\b|\bwarsaw city (?:hall|office)|\bcity of warsaw\b|"
            r"\bмері\w+|\bміськ\w+ (?:рад\w+|адміністрац\w+)",
            re.IGNORECASE,
        ),
    ),
    (
        "district_office",
        _Words(
            r"\burz[ąę]d\w*\s+dzielnic\w*|\bdistrict (?:office|council|authority)|"
            r"\b(?:районн\w+|дільничн\w+) (?:управ\w+|адміністрац\w+)|\bуправ\w+ (?:району|дільниці)",
            re.IGNORECASE,
        ),
    ),
    (
        "ngo",
        _Words(
            r"\bfundacj\w*|\bstowarzysze\w*|\borganizacj\w* pozarządow\w*|\bpozarządow\w*|\bngo\b|\btowarzystw\w*|"
            r"\bfoundation\b|\bassociation\b|\bnon-?profit\b|\bcharity\b|\bnon-governmental\b|"
            r"\bфонд\w*|\bгромадськ\w+ організац\w*|\bго\s+«|\bблагодійн\w*|\bасоціац\w*",
            re.IGNORECASE,
        ),
    ),
    (
        "informal",
        _Words(
            r"\bgrup\w* nieformaln\w*|\bnieformaln\w*|\binicjatyw\w* (?:sąsiedzk|oddoln|lokaln|mieszkańc)\w*|"
            r"\bkolektyw\w*|\bpartnerstw\w* lokaln\w*|\binformal\b|\bneighbou?rhood initiative|\bgrassroots\b|"
            r"\bcollective\b|\bнеформальн\w*|\bініціативн\w+ груп\w*|\bсусідськ\w+ ініціатив\w*",
            re.IGNORECASE,
        ),
    ),
    (
        "city_institution",
        _Words(
            r"\bdom\w* kultury|\bbibliot\w*|\bośrod\w+ pomocy społecznej|\b(?-i:M?OPS)\b|\bcentrum\s+(?-i:["
            + _UPPER
            + r"])|"
            r"\bcentrum (?:społeczn|kultur|usług|pomocy)\w*|\bwarszawsk\w+ centrum|\binstytucj\w* miejsk\w*|"
            r"\bmiejsk\w+ (?:instytucj|jednostk)\w*|\bzarząd\w* (?:zieleni|dróg|mienia|transportu)|"
            r"\bpublic library|\blibrary\b|\bcommunity cent(?:re|er)|\bcultural cent(?:re|er)|\bcity institution|"
            r"\bsocial welfare cent(?:re|er)|\bбібліот\w*|\bбудин\w* культури|\bцентр\w* соціальн\w*|"
            r"\bміськ\w+ установ\w*",
            re.IGNORECASE,
        ),
    ),
)
_RESIDENT = _Words(
    r"\b(?:mieszka[nń](?:k|c|iec)\w*|osob\w+ prywatn\w*|prywatnie|(?:we|w) (?:własnym imieniu|imieniu własnym)|"
    r"sąsiad\w*|resident|private (?:person|individual|capacity)|individual|on my own behalf|"
    r"мешкан\w*|жител\w*|приватн\w+ особ\w*|від власного імені)",
    re.IGNORECASE,
)
# Words by which writers say what they are: the sector named right after one of these is theirs.
_SELF = _Words(
    r"\b(?:jako|reprezentuj\w*|w imieniu|z ramienia|jestem|jesteśmy|pracuj\w*|działam|działamy|prowadz[ęi]\w*|"
    r"koordynuj\w*|współtworz\w*|założył\w*|zgłaszam się z|piszę z|piszę w imieniu|"
    r"as a|as an|i represent|representing|on behalf of|i work|i'm|i am|we are|i run|i lead|i coordinate|"
    r"як|представляю|від імені|працюю|я з|я —|я|керую|координую|веду)\b"
    r"|\b(?:sektor|sector|сектор)\s*:",  # "Sektor: organizacja pozarządowa"
    re.IGNORECASE,
)
# "Centrum Aktywności Lokalnej prowadzone przez Stowarzyszenie X": the one that runs it is the sector.
_RUN_BY = _Words(
    r"\b(?:prowadzon\w* przez|run by|operated by|managed by|(?:який|яку|що) (?:веде|керує))\b", re.IGNORECASE
)
_SELF_REACH = 70  # characters after a self-word within which the sector must be named…
# …and before the sentence turns to something else: "Jestem przekonana, że biblioteki…" says nothing of her.
_SELF_STOP = _Words(r"[,;:()]|\s[-–—]\s|\b(?:że|bo|ponieważ|któr\w+|gdzie|that|because|which|who|where|що|бо|як\w+)\b")
# Organisation names: a head noun, then the words of its proper name.
_ORG_HEAD = _Words(
    r"\b(?P<head>Fundacj[aię]|Fundacją|Stowarzyszeni[eau]|Stowarzyszeniem|Towarzystw[aou]|Dom(?:u|em)? Kultury|"
    r"Bibliote(?:ka|ki|ce|kę|ką)|Ośrod(?:ek|ka|ku|kiem)|Centrum|Urz[ąę]d(?:u|zie|em)?|Biur(?:o|a|ze|em)|"
    r"Inicjatyw[aęyą]|Kolektyw(?:u|ie|em)?|Grup(?:a|y|ie|ę|ą) [Nn]ieformaln\w+|Partnerstw[aou]|"
    r"фонд(?:у|і|ом)?|громадськ\w+ організаці\w+|ГО)\b"
)
_ORG_EN = _Words(
    r"\b(?:[" + _UPPER + r"][\w'’.-]*\s+){1,6}(?:Foundation|Association|Library|Centre|Center|Collective|Initiative|"
    r"Society|Trust|Office)\b"
)
_NOMINATIVE_BY_CASE = {
    "fundacji": "Fundacja",
    "fundację": "Fundacja",
    "fundacją": "Fundacja",
    "stowarzyszenia": "Stowarzyszenie",
    "stowarzyszeniu": "Stowarzyszenie",
    "stowarzyszeniem": "Stowarzyszenie",
    "towarzystwa": "Towarzystwo",
    "towarzystwu": "Towarzystwo",
    "domu kultury": "Dom Kultury",
    "domem kultury": "Dom Kultury",
    "biblioteki": "Biblioteka",
    "bibliotece": "Biblioteka",
    "bibliotekę": "Biblioteka",
    "biblioteką": "Biblioteka",
    "ośrodka": "Ośrodek",
    "ośrodku": "Ośrodek",
    "ośrodkiem": "Ośrodek",
    "urzędu": "Urząd",
    "urzędzie": "Urząd",
    "urzędem": "Urząd",
    "urzad": "Urząd",
    "biura": "Biuro",
    "biurze": "Biuro",
    "biurem": "Biuro",
    "inicjatywy": "Inicjatywa",
    "inicjatywę": "Inicjatywa",
    "inicjatywą": "Inicjatywa",
    "kolektywu": "Kolektyw",
    "kolektywie": "Kolektyw",
    "kolektywem": "Kolektyw",
    "partnerstwa": "Partnerstwo",
    "partnerstwie": "Partnerstwo",
    "фонду": "фонд",
    "фонді": "фонд",
    "фондом": "фонд",
}
_NOMINATIVE = {_fold(case): nominative for case, nominative in _NOMINATIVE_BY_CASE.items()}
_FEMININE_HEADS = ("Fundacja", "Biblioteka", "Inicjatywa")
_NAME_CONNECTORS = frozenset(
    {"z", "w", "we", "na", "dla", "im.", "pod", "przy", "i", "ds.", "m.st.", "of", "for", "the"}
)
_ORG_STOP = _Words(r"[,;:()|/]|\s[-–—]\s|\b(?:która|który|które|gdzie|od|jako|oraz|and|which|that|where)\b")
# "Z poważaniem" and the like, read here only to find the name under them (quotes.py removes them).
_CLOSING = _Words(
    r"^(?:z (?:wyrazami )?(?:powa[żz]aniem|szacunku|szacunkiem)|z pozdrowieniami|(?:serdecznie )?pozdrawiam\w*"
    r"(?: serdecznie)?|(?:dzi[eę]kuj[eę] i )?pozdrawiam|best(?: regards| wishes)?|kind regards|regards|"
    r"(?:yours )?sincerely|cheers|з повагою|з найкращими побажаннями|щиро|łączę pozdrowienia)[,.!]?\s*(?P<name>.*)$",
    re.IGNORECASE,
)
_GREETING = _Words(
    r"^(?:dzień dobry|dzien dobry|szanown\w+(?: \w+){0,3}|witam(?: serdecznie)?|cześć|hello|hi|dear\b.*|"
    r"good (?:morning|afternoon|evening)|добрий день|доброго дня|вітаю|шановн\w+(?: \w+){0,3})[,!.]*$",
    re.IGNORECASE,
)
_SAYS_NAME = _Words(
    r"(?:\b(?i:nazywam się|mam na imię|my name is|мене звати)|^\s*(?i:imię i nazwisko|name|full name|"
    r"ім['’]я(?: та прізвище)?|прізвище та ім['’]я)\s*:)"
    rf"\s*(?P<name>[{_UPPER}][\w'’-]+(?:[ \t]+[{_UPPER}][\w'’-]+){{0,2}})",
    re.MULTILINE,
)
_PERSON_TOKEN = _Words(rf"^[{_UPPER}](?:[\w'’-]*\w)?\.?$")
_REPLY_PREFIX = _Words(r"^\s*(?:(?:re|odp|fwd?|pd|aw|wg|sv|відп|ответ|пр)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_ABBREVIATIONS = _Words(r"\b(?:m\.st|ul|nr|im|np|tzw|ok|al|os|św|dr|prof|mgr|inż|tel|ds|ws|wg|ew|tj|pl|m|st|no)\.$")


def _sentences(text: str) -> list[str]:
    """Splits text into sentences: hard-wrapped lines join, blank lines and list items start a new one."""
    sentences: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        lines = [line.strip() for line in paragraph.split("\n") if line.strip()]
        joined = ""
        for line in lines:
            if joined and re.match(r"^(?:[-•*–]|\d{1,2}[.)])\s", line):
                sentences.extend(_split_sentence(joined))
                joined = line
            else:
                joined = f"{joined} {line}".strip()
        sentences.extend(_split_sentence(joined))
    return [sentence for sentence in sentences if sentence]


def _split_sentence(text: str) -> Iterator[str]:
    """Cuts a paragraph after ".", "!", "?" before a capital or a digit, not after "m.st." or "ul."."""
    start = 0
    for match in re.finditer(rf"[.!?…]+[\"'”»)]?\s+(?=[\"'„«(]?[{_UPPER}\d])", text):
        if _ABBREVIATIONS.search(text[start : match.start() + 1]):
            continue  # "Urzędu m.st. Warszawy", "ul. Nowolipie"
        yield text[start : match.end()].strip()
        start = match.end()
    if text[start:].strip():
        yield text[start:].strip()


def _clauses(sentence: str) -> list[str]:
    """A sentence cut at its turns ("…, ale nie do III", "…, but not…"): each clause wants or refuses on its own."""
    turns = rf",?\s+\b(?:ale|lecz|jednak|but|however|але|проте)\b\s*|;\s*|,\s+(?!{_NUMERAL})"
    return [part for part in re.split(turns, sentence) if part]


def _negated(clause: str, position: int) -> bool:
    """Whether a negation stands within the three words before `position`."""
    before = clause[:position].split()[-3:]
    return any(_NEGATION.fullmatch(word.strip(",.!")) for word in before)


def _numbers(listed: str, count: int) -> list[int]:
    """Group numbers (1-based) in "I i III", "1, 3", "II-III", "pierwszej i trzeciej", "two"."""
    found: list[int] = []
    tokens = re.finditer(rf"{_ROMAN}|\b[123]\b|\b(?:{_ORDINAL})\b|[-–—]", listed, re.IGNORECASE)
    dash = False
    for token in tokens:
        text = token.group(0)
        if text in "-–—":
            dash = bool(found)
            continue
        number = _number(text)
        if number is None:
            continue
        if dash and found and number > found[-1]:  # "I–III", "1-3": a range
            found.extend(range(found[-1] + 1, number + 1))
        else:
            found.append(number)
        dash = False
    return [n for n in found if 1 <= n <= count]


def _number(token: str) -> int | None:
    """One group's number: "II" → 2, "3" → 3, "pierwszej" → 1."""
    if token in ("I", "II", "III"):
        return len(token)
    if token in ("1", "2", "3"):
        return int(token)
    for number, words in _ORDINAL_WORDS.items():
        if re.fullmatch(words, token, re.IGNORECASE):
            return number
    return None


def _named_groups(clause: str, codes: tuple[str, ...], names: dict[str, list[str]], *, applying: bool) -> list[str]:
    """The groups a clause names: by number, by "any" or by a group's name; else by topic words near "grupa"."""
    return _numbered_groups(clause, codes, names, applying=applying) or _topic_groups(clause, codes)


def _numbered_groups(clause: str, codes: tuple[str, ...], names: dict[str, list[str]], *, applying: bool) -> list[str]:
    """The groups a clause names for sure: by number ("II", "2", "drugiej", "two"), by "any", by a group's name."""
    numbers: list[int] = []
    patterns = [_GROUPS_AFTER, _GROUPS_BEFORE] + ([_GROUPS_BARE] if applying else [])
    for pattern in patterns:
        for match in pattern.finditer(clause):
            if not _negated(clause, match.start()):
                numbers += _numbers(match.group("list"), len(codes))
    found = [codes[n - 1] for n in numbers]
    if _ANY_GROUP.search(clause):
        found += codes
    lowered = _fold(clause.lower())
    for code, group_names in names.items():
        if any(_fold(name) in lowered for name in group_names):
            found.append(code)
    return found


def _topic_groups(clause: str, codes: tuple[str, ...]) -> list[str]:
    """The groups whose topic words stand by the word "group": "grupy o przynależności", "the belonging group"."""
    found: list[str] = []
    for group_word in re.finditer(_GROUP_WORD, clause, re.IGNORECASE):
        if _negated(clause, group_word.start()):
            continue
        after = clause[group_word.end() : group_word.end() + _TOPIC_REACH]
        before = " ".join(clause[: group_word.start()].split()[-2:])
        found += [code for code in codes if code in _TOPICS and _TOPICS[code].search(f"{before} {after}")]
    return found


def _in_order(codes: tuple[str, ...], wanted: Iterable[str]) -> tuple[str, ...]:
    """The codes wanted, once each, in the call's order."""
    chosen = set(wanted)
    return tuple(code for code in codes if code in chosen)


def _is_question(sentence: str) -> bool:
    """A question asks about applying ("Czy mogę się zgłosić…?"); a polite request ("Could you…?") does not."""
    if _REQUEST.match(sentence):
        return False
    return sentence.rstrip().endswith("?") or bool(_QUESTION_WORDS.match(sentence))


def _intends(sentence: str) -> re.Match[str] | None:
    """The action of a first-person sentence that applies ("chciałabym dołączyć"), unless negated or asked."""
    if _is_question(sentence) or not _FIRST_PERSON.search(sentence):
        return None
    for action in _ACTION.finditer(sentence):
        if not _negated(sentence, action.start()):
            return action
    return None


def _quote(text: str, limit: int = 70) -> str:
    """The words that decided, quoted for staff on one line."""
    text = " ".join(text.split())
    return f'"{text[: limit - 1]}…"' if len(text) > limit else f'"{text}"'


# ── the writer: name, signature, sector, organisation ────────────────────────────────────────────
def _signature_lines(email: ParsedEmail) -> list[str]:
    """The lines under the writer's own words and above any quoted history: signature, name, title, phone."""
    lines = email.text.split("\n")
    start, _ = history_start(lines)
    body = [line.strip() for line in lines[:start] if not line.lstrip().startswith(">")]
    own = [line.strip() for line in email.own_text.split("\n") if line.strip()]
    position = 0
    if own:
        last = own[-1]
        matches = [i for i, line in enumerate(body) if line == last]
        position = matches[-1] + 1 if matches else len(body)
    found = []
    for line in body[position:]:
        if not line or starts_signature(line):
            continue  # "-- ", "Sent from my iPhone"
        found.append(line.strip(" *_|"))
    return [line for line in found if line]


def _person(text: str | None) -> str | None:
    """A person's name as written ("Anna Nowak", "Kowalska, Anna" → "Anna Kowalska"), or None."""
    if not text:
        return None
    text = " ".join(text.replace('"', "").split()).strip(" ,.")
    if "@" in text or any(char.isdigit() for char in text):
        return None
    if text.count(",") == 1:  # Outlook's "Surname, Name"
        surname, given = (part.strip() for part in text.split(","))
        text = f"{given} {surname}"
    tokens = text.split()
    if not 1 <= len(tokens) <= 4 or not all(_PERSON_TOKEN.match(token) for token in tokens):
        return None
    if _ORG_HEAD.search(text) or any(pattern.search(text) for _, pattern in _SECTORS):
        return None
    if text.isupper() and len(text) > 3:
        text = " ".join(token.capitalize() for token in tokens)
    return text


def _name(email: ParsedEmail, signature: list[str]) -> tuple[str | None, str | None]:
    """The writer's name and where it came from: the From display name, their words, the signature."""
    display = _person(email.from_name)
    if display and " " in display:
        return display, "from the From display name"
    said = _SAYS_NAME.search(email.own_text)
    if said and (person := _person(email.own_text[said.start("name") : said.end("name")])):
        return person, f"from the words {_quote(email.own_text[said.start() : said.end()])}"
    for line in signature:
        closing = _CLOSING.match(line)
        candidate = line[closing.start("name") :] if closing else line
        person = _person(candidate)
        if person and (" " in person or display is None):
            return person, f"from the signature {_quote(line)}"
    if display:
        return display, "from the From display name"
    return None, None


def _organisation_name(text: str, start: int) -> str | None:
    """The proper name of the organisation whose head noun starts at `start`, put in the nominative."""
    head = _ORG_HEAD.match(text, start)
    if head is None:
        return None
    head_text = text[head.start("head") : head.end("head")]
    nominative = _NOMINATIVE.get(_fold(head_text.lower()), head_text[0].upper() + head_text[1:])
    rest = text[head.end() :]
    stop = _ORG_STOP.search(rest)
    rest = rest[: stop.start()] if stop else rest
    words: list[str] = []
    in_quotes = False
    for word in rest.split():
        opens = word[0] in "\"„«'“"
        if in_quotes or opens or word[0].isupper() or word[0].isdigit():
            closes = word.rstrip(".,!").endswith(('"', "”", "»", "'"))
            in_quotes = ((in_quotes or opens) and not closes) or (opens and len(word) == 1)
        elif not (word.lower() in _NAME_CONNECTORS and (words or word.lower() == "m.st.")):
            break
        # A name ends with its sentence, not at an initial or an abbreviation ("im. St. Staszica").
        ends = word.endswith(".") and word.lower() not in _NAME_CONNECTORS and len(word.rstrip(".")) > 2
        words.append(word.rstrip(".") if ends else word)
        if ends or len(words) >= 10:
            break
    while words and words[-1].lower() in _NAME_CONNECTORS:
        words.pop()
    if words and nominative in _FEMININE_HEADS and words[0].lower().endswith("ej") and head_text != nominative:
        words[0] = words[0][:-2] + "a"  # "Biblioteki Publicznej" → "Biblioteka Publiczna"
    if not words:
        return None  # "w urzędzie", "w fundacji", «громадську організацію»: a kind, not a name
    return " ".join([nominative, *words]).strip(" .,;")


def _organisation_in(text: str, *, near: int | None = None) -> str | None:
    """The first organisation named in a line or sentence ("Fundacja Sąsiedzka Praga", "the Wola Library").

    With `near`, only a name that starts within that many characters counts.
    """
    for head in _ORG_HEAD.finditer(text):
        if near is not None and head.start() > near:
            break
        name = _organisation_name(text, head.start())
        if name:
            return name
    english = _ORG_EN.search(text)
    if english and (near is None or english.start() <= near):
        return text[english.start() : english.end()].removeprefix("The ").strip()
    return None


def _sector_of(text: str) -> str | None:
    """The most specific sector a line or phrase names, if any."""
    for code, pattern in _SECTORS:
        if pattern.search(text):
            return code
    return None


def _self_statements(text: str) -> list[tuple[str, str, str | None]]:
    """What the writer says they are ("jako mieszkanka", "reprezentuję Fundację X"): sector, words, organisation."""
    found: list[tuple[str, str, str | None]] = []
    for sentence in _sentences(text):
        for marker in _SELF.finditer(sentence):
            reach = sentence.find(" ", marker.end() + _SELF_REACH)  # never cut a word
            window = sentence[marker.end() : reach if reach >= 0 else len(sentence)]
            if stop := _SELF_STOP.search(window):
                window = window[: stop.start()]
            resident = _resident_first(window)
            hits = [(m.start(), code) for code, pattern in _SECTORS if (m := pattern.search(window))]
            if (operator := _RUN_BY.search(window)) and any(position >= operator.end() for position, _ in hits):
                hits = [(position, code) for position, code in hits if position >= operator.end()]
            if resident and (not hits or resident.start() <= min(hits)[0]):
                found.append(("resident", sentence[marker.start() : marker.end() + 30], None))
                continue
            if hits:
                position, code = min(hits)
                # The name may run past the window ("…przez Stowarzyszenie Sąsiedzki Ursus"): read it from the sentence.
                organisation = _organisation_in(sentence[marker.end() + max(0, position - 20) :], near=40)
                found.append((code, sentence[marker.start() : marker.end() + position + 30], organisation))
    return found


_BEFORE_RESIDENT = frozenset(
    _fold(word)
    for word in "a an the zwykła zwykły zwykłą zwykłym prywatna prywatny lokalna lokalny local ordinary private "
    "long-time longtime звичайна звичайний проста простий".split()
)


def _resident_first(window: str) -> re.Match[str] | None:
    """Finds the resident word first in a window: "mieszkanka", "zwykła mieszkanka", "a local resident"."""
    words = window.split()
    while words and _fold(words[0].lower()) in _BEFORE_RESIDENT:
        words.pop(0)
    return _RESIDENT.match(words[0]) if words else None


def _domain_sector(domain: str) -> str | None:
    """A sector the sender's domain tells: City Hall's own, or one that spells its kind."""
    if domain == "um.warszawa.pl":
        return "city_hall"
    if re.search(r"fundacj|stowarzysz", domain):
        return "ngo"
    if re.search(r"bibliotek|domkultury|\bdk[a-z]*\.|\bops\.", domain):
        return "city_institution"
    return None


@dataclass(frozen=True, slots=True)
class _Writer:
    """Who the writer is: their sector and organisation, and why."""

    sector: str | None
    organisation: str | None
    reasons: tuple[str, ...]


def _writer(email: ParsedEmail, words: str, signature: list[str]) -> _Writer:
    """The sector and organisation: what the writer says they are, then the signature, then the address.

    Two sectors said ("mieszkanka… działam w stowarzyszeniu") are settled by the signature, else left unsure.
    A resident by their own words has no organisation, whatever their employer's signature says.
    """
    statements = _self_statements(words[:_READ_CHARS])
    said = {code for code, _, _ in statements}
    said_org = next((org for _, _, org in statements if org), None)
    signed: list[tuple[str, str]] = [(line, code) for line in signature if (code := _sector_of(line)) is not None]
    if email.from_name and (code := _sector_of(email.from_name)) is not None:
        signed.append((email.from_name, code))  # "Dom Kultury Kadr <sekretariat@…>"
    signed_org = next((org for line, _ in signed if (org := _organisation_in(line))), None)
    if len(said) == 1:
        sector = next(iter(said))
        words_said = next(text for code, text, _ in statements if code == sector)
        organisation = None if sector == "resident" else signed_org or said_org
        return _Writer(sector, organisation, (f"sector from the words {_quote(words_said)}",))
    if said:
        settled = {code for _, code in signed} & said
        if len(settled) == 1:
            sector = settled.pop()
            return _Writer(sector, signed_org or said_org, (f"sector from the signature, among {sorted(said)}",))
        return _Writer(None, signed_org or said_org, (f"sector unsure: the words name {sorted(said)}",))
    if signed:
        line, sector = signed[0]
        return _Writer(sector, signed_org, (f"sector from the signature {_quote(line)}",))
    domain = (email.from_address or "").rsplit("@", 1)[-1]
    if (sector_by_domain := _domain_sector(domain)) is not None:
        return _Writer(sector_by_domain, _organisation_in(words), (f"sector from the address's domain {domain}",))
    return _Writer(None, None, ())


def _trailing_signature(own_text: str) -> tuple[str, list[str]]:
    """Splits off a signature written without "-- " or a closing formula: a name and a few short lines at the end.

    quotes.py keeps a bare name at the end (it may be the only signature); here a last block that starts
    with a person's full name and has at most five short lines, none a sentence, is the signature.
    """
    lines = own_text.split("\n")
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    start = end
    while start and lines[start - 1].strip() and end - start < 6:
        start -= 1
    block = [line.strip() for line in lines[start:end]]
    for offset, line in enumerate(block):
        person = _person(line)
        rest = block[offset:]
        closing = _CLOSING.match(line)
        if closing and (not (signed := line[closing.start("name") :].strip()) or _person(signed)):
            # A closing formula quotes.py kept because a line under it was long ("Jan Nowak | Dyrektor | …").
            return "\n".join(lines[: start + offset]).rstrip(), rest
        if (
            person
            and " " in person
            and all((len(item) <= 70 and not re.search(r"[.!?]$", item)) or _person(item) for item in rest)
        ):
            kept = "\n".join(lines[: start + offset]).rstrip()
            return kept, rest
    return own_text, []


def _description(own_text: str, name: str | None) -> str:
    """The writer's own words as the description: without the greeting line and a bare name at the end."""
    lines = own_text.split("\n")
    while lines and (not lines[0].strip() or _GREETING.match(lines[0].strip())):
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    if lines and name and lines[-1].strip(" ,.") in (name, name.split()[0]):
        lines.pop()
    return "\n".join(lines).strip()


# ── the reading ───────────────────────────────────────────────────────────────────────────────────
def read_application(
    email: ParsedEmail,
    recruitment: Recruitment,
    *,
    answers_our_application_mail: bool = False,
    verdict: Verdict | None = None,
) -> ApplicationReading:
    """Reads what an email says about the working groups; never raises.

    `answers_our_application_mail`: the caller found our application message in In-Reply-To or
    References; such a reply belongs with the application whatever it says. `verdict`: the classifier's,
    when the caller has it; otherwise it is asked here (our address is the call's `contact`).
    """
    if verdict is None:
        verdict = classify(
            email.headers,
            content_type=email.content_type,
            from_address=email.from_address,
            subject=email.subject,
            own_addresses=frozenset({recruitment.contact.lower()}),
            from_name=email.from_name,
            text=email.text,
        )
    if verdict.kind in _NOT_A_PERSON:
        return ApplicationReading(applies=False, reasons=(f"not a person's own email: {verdict.kind.value}",))
    codes = tuple(group.code for group in recruitment.groups)
    names = {
        group.code: [group.name(language).lower() for language in ("pl", "en", "uk")] for group in recruitment.groups
    }
    prefix = _REPLY_PREFIX.match(email.subject)
    subject = email.subject[prefix.end() if prefix else 0 :].strip()
    words, signed_below = _trailing_signature(email.own_text)
    # Our own subject, quoted back in a reply, says nothing of the writer's.
    read_subject = bool(subject) and not answers_our_application_mail
    found = _Found()
    if read_subject:
        _read_sentence(found, subject, codes, names, subject=True, replying=answers_our_application_mail)
    for sentence in _sentences(words[:_READ_CHARS]):
        _read_sentence(found, sentence, codes, names, subject=False, replying=answers_our_application_mail)
    mentions_working_group = bool(_WORKING_GROUP.search(f"{subject if read_subject else ''}\n{words}"))
    intent = found.intent
    if intent is None and found.strong is not None and (mentions_working_group or found.named):
        intent = found.strong
    if intent is None and read_subject and _STRONG_ACTION.search(subject) and mentions_working_group:
        intent = subject
    wanted = found.wanted or (found.named if intent else [])
    groups = _in_order(codes, [code for code in wanted if code not in found.dropped])
    withdraws = found.withdrawal is not None and not groups
    if not (intent or found.withdrawal or answers_our_application_mail):
        return ApplicationReading(applies=False, reasons=("no words of applying to the working groups",))
    reasons = ["a reply to our application message"] if answers_our_application_mail else []
    if intent:
        reasons.append(f"applies: {_quote(intent)}")
    if found.withdrawal:
        reasons.append(f"withdraws: {_quote(found.withdrawal)}")
    any_group = len(groups) == len(codes) and bool(_ANY_GROUP.search(f"{subject}\n{words}"))
    if groups:
        reasons.append(f"groups: {', '.join(groups)}" + (" (any)" if any_group else ""))
    signature = signed_below + _signature_lines(email)
    name, name_reason = _name(email, signature)
    if name_reason:
        reasons.append(f"name {name_reason}")
    writer = _writer(email, words, signature)
    reasons += writer.reasons
    return ApplicationReading(
        applies=True,
        withdraws=withdraws,
        groups=groups,
        any_group=any_group,
        drops=_in_order(codes, found.dropped),
        sector=writer.sector,
        name=name,
        organisation=writer.organisation,
        description=_description(words, name),
        reasons=tuple(reasons),
    )


@dataclass(slots=True)
class _Found:
    """What the sentences said so far."""

    intent: str | None = None  # the first sentence that applies and names the working groups
    strong: str | None = None  # the first that applies without naming them ("przesyłam zgłoszenie")
    withdrawal: str | None = None
    wanted: list[str] = field(default_factory=list)  # named where the writer applies or names a working group
    named: list[str] = field(default_factory=list)  # named anywhere ("interesuje mnie grupa o przynależności")
    dropped: list[str] = field(default_factory=list)


def _read_sentence(
    found: _Found,
    sentence: str,
    codes: tuple[str, ...],
    names: dict[str, list[str]],
    *,
    subject: bool,
    replying: bool,
) -> None:
    """Reads one sentence (or the subject): an application, a withdrawal, the groups named."""
    action = _ACTION.search(sentence) if subject else _intends(sentence)
    wish = None if subject or _is_question(sentence) else _WISH.search(sentence) or _STAY.search(sentence)
    named_here = False
    for clause in _clauses(sentence):
        if moved := _MOVE.search(clause):
            found.dropped += [codes[n - 1] for n in _numbers(moved.group("old"), len(codes))]
            new = [codes[n - 1] for n in _numbers(moved.group("new"), len(codes))]
            found.wanted += new
            found.named += new
            found.intent = found.intent or sentence
            continue
        leaving = _WITHDRAW.search(clause)
        if leaving and not _negated(clause, leaving.start()) and not _is_question(sentence):
            if replying or _APPLICATION_TOPIC.search(clause):
                found.withdrawal = found.withdrawal or sentence
                found.dropped += _named_groups(clause, codes, names, applying=True)
            continue
        numbered = _numbered_groups(clause, codes, names, applying=action is not None or wish is not None)
        lone = _LONE_NUMERAL.search(clause) if not numbered and named_here else None
        if lone and not _negated(clause, lone.end()):
            numbered = [codes[n - 1] for n in _numbers(lone.group("list"), len(codes))]
        named_here = named_here or bool(numbered)
        groups = numbered or _topic_groups(clause, codes)
        found.named += groups
        working_group = bool(groups or _WORKING_GROUP.search(clause))
        # A wish applies only with a group named for sure: "interesuje mnie współpraca z grupą sąsiadów" does not.
        if found.intent is None and ((action is not None and working_group) or (wish is not None and numbered)):
            found.intent = sentence
        if groups and (action is not None or _WORKING_GROUP.search(clause) or found.intent or replying):
            found.wanted += groups
    if action is not None and not subject and found.strong is None and _STRONG_ACTION.search(sentence):
        found.strong = sentence
