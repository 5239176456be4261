"""Understanding a raw email: headers, readable text in any charset, attachments, the writer's own words."""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from html import unescape as html_unescape

from bs4 import BeautifulSoup
from charset_normalizer import from_bytes

from handlers.definitions.i18n import Language
from handlers.email.quotes import own_words

DEFAULT_MAX_BYTES = 256 * 1024
# Codecs (Python's names) of one byte per character, whose labels clients often get wrong.
_SINGLE_BYTE_CODECS = ("ascii", "iso8859", "latin", "cp125", "cp8", "koi8", "mac-")
_PLACEHOLDER = re.compile(
    r"(?:this (?:e-?mail|message) (?:is|was) (?:in|sent in|written in|formatted (?:in|as)) (?:rich )?html|"
    r"(?:ta |niniejsza )?wiadomo[sś][cć] (?:jest |zosta[łl]a )?"
    r"(?:w formacie|zapisana w|napisana w|sformatowana w) html|"
    r"your (?:e-?mail |mail )?(?:client|program|reader) does not support html|"
    r"tw[oó]j (?:program|klient) pocztowy nie obs[łl]uguje|"
    r"use an html[- ](?:capable|compatible|enabled)|"
    r"to view (?:this|the) (?:message|e-?mail)[^\n]{0,40}html|"
    r"це повідомлення (?:у|в) форматі html)",
    re.IGNORECASE,
)
_HTML_NOISE = re.compile(r"<(style|script|head|title)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bq]\?", re.IGNORECASE)
_C1 = re.compile("[\x80-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_BLOCKS = ("p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "blockquote", "table", "hr")


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file that came with an email: recorded, never opened."""

    name: str | None
    type: str
    size: int


@dataclass(frozen=True, slots=True)
class ParsedEmail:
    """Everything the service keeps from one email besides its raw bytes."""

    digest: str  # sha256 of the raw bytes, for deduplication
    message_id: str | None
    subject: str
    from_name: str | None
    from_address: str | None
    reply_to: str | None
    date: datetime | None
    in_reply_to: str | None
    references: tuple[str, ...]
    content_type: str
    text: str  # the whole readable body
    own_text: str  # the writer's own words: no quoted history, signature or phone footer
    language: Language
    attachments: tuple[Attachment, ...] = ()
    truncated: bool = False
    headers: dict[str, str] = field(default_factory=dict)  # lower-case name → decoded value (first)


def decode_bytes(data: bytes, declared: str | None) -> str:
    """Decodes text whatever its label says: right labels, wrong labels, unknown labels."""
    if data.isascii():
        return data.decode("ascii")
    label = (declared or "").strip().strip('"').lower()
    try:
        codec = codecs.lookup(label).name if label else ""
    except LookupError:
        codec = ""
    if codec == "utf-8":
        return _decode_mostly_utf8(data)
    if codec == "ascii":
        codec = ""  # 8-bit bytes under an ASCII label: the label says nothing, guess
    try:
        # Valid UTF-8 with non-ASCII bytes is almost never an accident, whatever the label says
        # (webmails that label UTF-8 as windows-1250 or ISO-8859-2, old clients that say us-ascii).
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if codec.startswith(_SINGLE_BYTE_CODECS):
        text = data.decode(codec, errors="replace")
        # C1 controls are never text: Polish mail labelled Latin-1, Latin-2 or ASCII is windows-1250
        # (ś, ź, Ś, Ź and the dashes sit at 0x80-0x9F there).
        return data.decode("cp1250", errors="replace") if _C1.search(text) else text
    if codec:
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            pass
    best = from_bytes(data, cp_isolation=["cp1250", "iso8859_2", "cp1251", "koi8_u", "cp1252"]).best()
    if best is not None:
        return str(best)
    return data.decode("cp1250", errors="replace")


def _decode_mostly_utf8(data: bytes) -> str:
    """Decodes a UTF-8 body, replacing a few bad bytes; a body that is not UTF-8 at all is guessed."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for char in text if char > "\x7f") - bad
    if good >= bad:  # mostly real UTF-8 with some damage: replace the damage, never mojibake the rest
        return text
    return decode_bytes(data, None)


def clean_text(text: str) -> str:
    """Removes what no database text may hold: NUL characters and lone surrogates (PostgreSQL rejects both)."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if _has_surrogates(text) or _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)
    return text


def html_to_text(html: str) -> str:
    """Turns an HTML body (Outlook's, Gmail's) into readable plain text."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["style", "script", "head", "title"]):
        tag.decompose()
    for tag in soup.find_all("br"):
        tag.replace_with("\n")
    for tag in soup.find_all(list(_BLOCKS)):
        tag.insert_before("\n")
        tag.insert_after("\n")
    for quote in soup.find_all("blockquote"):
        lines = quote.get_text().strip("\n").split("\n")
        quote.replace_with("\n" + "\n".join("> " + line for line in lines) + "\n")
    text = soup.get_text().replace("\xa0", " ")
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _raw_headers(message: Message) -> dict[str, str]:
    """Every header (the first of each name), decoded by us: labels in encoded words are not trusted."""
    found: dict[str, str] = {}
    for name, value in message.raw_items():
        key = name.lower()
        if key not in found:
            found[key] = decode_header_value(str(value))
    return found


def decode_header_value(raw: str) -> str:
    """Decodes RFC 2047 encoded words (any charset, right or wrong) and raw 8-bit bytes in a header."""
    parts = []
    try:
        pieces = decode_header(raw)
    except (ValueError, LookupError):
        pieces = [(raw, None)]
    for piece, charset in pieces:
        if isinstance(piece, bytes):
            parts.append(decode_bytes(piece, charset))
        else:
            # 8-bit bytes in a header arrive as surrogates; decode them like a body.
            parts.append(
                decode_bytes(piece.encode("utf-8", "surrogateescape"), None) if _has_surrogates(piece) else piece
            )
    text = "".join(parts) if any(isinstance(p, bytes) for p, _ in pieces) else " ".join(parts)
    return " ".join(clean_text(text).split())


def _has_surrogates(text: str) -> bool:
    return any("\udc80" <= char <= "\udcff" for char in text)


def _payload_text(part: Message) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    text = decode_bytes(data, part.get_content_charset()).replace("\r\n", "\n").replace("\r", "\n")
    if part.get_content_type() == "text/html":
        return html_to_text(text)
    if str(part.get_param("format") or "").lower() == "flowed":
        return unflow(text, delsp=str(part.get_param("delsp") or "").lower() == "yes")
    return text


def unflow(text: str, *, delsp: bool = False) -> str:
    """Joins format=flowed lines (RFC 3676): a line ending in a space goes on with the next one.

    With delsp=yes that space was added by the sender and goes (the break may fall inside a word);
    a change of quote depth ends a paragraph whatever the line ended with (RFC 3676 4.5).
    """
    out: list[str] = []
    carry = ""
    carry_depth = 0
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing, or the space after the quote marks
        if carry and depth != carry_depth:
            out.append(_quoted(carry_depth, carry))
            carry = ""
        if content.endswith(" ") and content != "-- ":
            carry += content[:-1] if delsp else content
            carry_depth = depth
            continue
        out.append(_quoted(depth, carry + content))
        carry = ""
    if carry:
        out.append(_quoted(carry_depth, carry))
    return "\n".join(out)


def _quoted(depth: int, content: str) -> str:
    return ">" * depth + " " + content if depth else content


def _body(message: Message) -> str:
    """The readable text: the plain parts (joined), or the HTML one made readable."""
    preferred = _html_preferred(message)
    plain = [
        preferred.get(id(part), part)
        for part in message.walk()
        if part.get_content_type() == "text/plain"
        and not part.get_filename()
        and "attachment" not in (part.get("Content-Disposition") or "").lower()
    ]
    if plain:
        # iOS sends text, photo, text as separate parts; all of them are the writer's.
        return "\n\n".join(text.strip("\n") for part in plain if (text := _payload_text(part)).strip())
    for part in message.walk():
        if part.get_content_type() == "text/html" and not part.get_filename():
            return _payload_text(part)
    return ""


def _html_preferred(message: Message) -> dict[int, Message]:
    """The plain parts of multipart/alternative that say less than their HTML twin, each mapped to it.

    Some clients put only a placeholder ("this message is in HTML") or a first line in the plain part.
    """
    chosen: dict[int, Message] = {}
    for part in message.walk():
        if part.get_content_type() != "multipart/alternative" or not isinstance(part.get_payload(), list):
            continue
        plain = html = None
        for child in part.walk():
            if child.get_content_type() == "text/plain" and plain is None and not child.get_filename():
                plain = child
            elif child.get_content_type() == "text/html" and html is None and not child.get_filename():
                html = child
        if plain is None or html is None:
            continue
        plain_text = _payload_text(plain)
        if _PLACEHOLDER.search(plain_text[:400]) or _letters(plain_text) * 2 < _html_letters(html):
            chosen[id(plain)] = html
    return chosen


def _letters(text: str) -> int:
    return len(re.sub(r"\s+", "", text))


def _html_letters(part: Message) -> int:
    """A cheap estimate of how much text an HTML part holds (no parser: most plain parts are fine)."""
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return 0
    html = data.decode("ascii", errors="ignore") if data.isascii() else data.decode("utf-8", errors="ignore")
    html = _HTML_NOISE.sub("", html)
    return _letters(html_unescape(_TAG.sub("", html)))


def _attachments(message: Message) -> tuple[Attachment, ...]:
    found = []
    for part in message.walk():
        if part.is_multipart():
            continue
        name = part.get_filename()
        disposition = (part.get("Content-Disposition") or "").lower()
        # A text part with no name and no attachment disposition is a body, not a file.
        body_like = part.get_content_maintype() in ("text", "message")
        if name is None and "attachment" not in disposition and body_like:
            continue
        data = part.get_payload(decode=True)
        if name is not None and "=?" in name:
            name = decode_header_value(name)  # some clients put RFC 2047 words in the filename
        size = len(data) if isinstance(data, bytes) else 0
        found.append(Attachment(clean_text(name) if name else name, clean_text(part.get_content_type()), size))
    return tuple(found)


_POLISH = frozenset(
    "w na nie się że z do to jest o jak ale dla po mnie przez są czy co mam tak lub oraz by już też".split()
)
_ENGLISH = frozenset(
    "the and is are to of in for you we our it this that on with be have not my your would i a an at from "
    "please hi hello thanks thank more would could should there can like love here".split()
)


def _language(text: str, subject: str) -> Language:
    """Guesses the writer's language (pl, en or uk) from their words; Polish when unsure."""
    sample = f"{subject}\n{text}"[:4000]
    letters = [c for c in sample.lower() if c.isalpha()]
    cyrillic = sum("а" <= c <= "я" or c in "іїєґ" for c in letters)
    if letters and cyrillic * 2 > len(letters):
        return "uk"
    words = re.findall(r"[^\W\d_]+", sample.lower())
    polish = sum(word in _POLISH for word in words) + 2 * sum(c in "ąćęłńóśźż" for c in letters)
    english = sum(word in _ENGLISH for word in words)
    return "en" if english > polish else "pl"


def content_digest(raw: bytes, headers: dict[str, str]) -> str:
    """Hashes what a message says, not how it travelled: the same mail relayed twice (other
    Received or Delivered-To lines) hashes the same; a different text under one Message-ID does not.
    """
    body_start = min((i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0), default=len(raw))
    identity = "\n".join(headers.get(name, "") for name in ("message-id", "from", "date", "subject", "to"))
    return hashlib.sha256(identity.encode() + b"\n" + raw[body_start:].strip()).hexdigest()


def parse_email(raw: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedEmail:
    """Parses one raw email; never raises on bad input, and keeps at most `max_bytes` of it."""
    truncated = len(raw) > max_bytes
    kept = raw[:max_bytes] if truncated else raw
    # compat32: we decode headers ourselves (labels in encoded words are not trusted), and its
    # lazy header handling is several times cheaper than policy.default's registry.
    message = message_from_bytes(kept, policy=policy.compat32)
    headers = _raw_headers(message)
    subject = headers.get("subject", "")
    from_name, from_address = _address(message, "from")
    _, reply_to = _address(message, "reply-to")
    try:
        date = parsedate_to_datetime(headers["date"]) if headers.get("date") else None
    except (TypeError, ValueError, IndexError):
        date = None
    text = clean_text(_body(message).replace("\r\n", "\n").replace("\r", "\n").strip())
    own_text = own_words(text)
    return ParsedEmail(
        digest=content_digest(raw, headers),
        message_id=headers.get("message-id"),
        subject=subject,
        from_name=from_name,
        from_address=from_address,
        reply_to=reply_to,
        date=date,
        in_reply_to=headers.get("in-reply-to"),
        references=tuple(headers.get("references", "").split()),
        content_type=clean_text(message.get_content_type()),
        text=text,
        own_text=own_text,
        language=_language(own_text or text, subject),
        attachments=_attachments(message),
        truncated=truncated,
        headers=headers,
    )


def _address(message: Message, name: str) -> tuple[str | None, str | None]:
    """The first address of a header: its decoded display name and its addr-spec exactly as written.

    The address is read before any RFC 2047 decoding: an encoded word may only stand in a display
    name, and decoding first lets "=?utf-8?q?a=40evil.example=3e?=@example.pl" or a name holding
    "<x@y>" or a comma choose the address. An addr-spec holding an encoded word is no address at all.
    """
    # raw_items(): compat32's get() turns 8-bit bytes into a Header whose str() loses them.
    raw = next((str(value) for key, value in message.raw_items() if key.lower() == name), None)
    if raw is None:
        return None, None
    if _has_surrogates(raw):  # raw UTF-8 (SMTPUTF8, RFC 6532): internationalised addresses as they are
        raw = raw.encode("utf-8", "surrogateescape").decode("utf-8", errors="replace")
    found = getaddresses([raw])
    if not found:
        return None, None
    written_name, address = found[0]
    display = decode_header_value(written_name) or None if written_name else None
    address = clean_text(address.strip())
    if not address or _ENCODED_WORD.search(address) or "@" not in address:
        return display, None
    return display, address.lower()
