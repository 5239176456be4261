"""Understanding a raw email: headers, readable text in any charset, attachments, the writer's own words."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from bs4 import BeautifulSoup
from charset_normalizer import from_bytes

from handlers.definitions.i18n import Language
from handlers.email.quotes import own_words

DEFAULT_MAX_BYTES = 256 * 1024
_SINGLE_BYTE = {"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252"}
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
    label = (declared or "").strip().strip('"').lower()
    if label and label not in _SINGLE_BYTE:
        try:
            return data.decode(label)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        # Valid UTF-8 with non-ASCII bytes is almost never an accident, whatever the label says.
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if label in _SINGLE_BYTE and label not in ("us-ascii", "ascii"):
        return data.decode("cp1252" if label in ("windows-1252", "cp1252") else "latin-1")
    best = from_bytes(data, cp_isolation=["cp1250", "iso8859_2", "cp1251", "koi8_u", "cp1252"]).best()
    if best is not None:
        return str(best)
    return data.decode("cp1250", errors="replace")


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
    return " ".join(text.split())


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
    """Joins format=flowed lines (RFC 3676): a line ending in a space goes on with the next one."""
    out: list[str] = []
    carry = ""
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" ") and depth:
            content = content[1:]  # the space after the quote marks
        elif content.startswith(" "):
            content = content[1:]  # space-stuffing
        if content.endswith(" ") and content != "-- ":
            carry += content[:-1] if delsp else content
            continue
        out.append(">" * depth + (" " if depth else "") + carry + content if depth else carry + content)
        carry = ""
    if carry:
        out.append(carry)
    return "\n".join(out)


def _body(message: Message) -> str:
    """The readable text: the plain parts (joined), or the HTML one made readable."""
    plain = [
        part
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
        found.append(Attachment(name, part.get_content_type(), len(data) if isinstance(data, bytes) else 0))
    return tuple(found)


_POLISH = frozenset(
    "w na nie się że z do to jest o jak ale dla po mnie przez są czy co mam tak lub oraz by już też".split()
)
_ENGLISH = frozenset("the and is are to of in for you we our it this that on with be have not my your would".split())


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
    from_name, from_address = None, None
    addresses = getaddresses([headers.get("from", "")])
    if addresses and addresses[0][1]:
        from_name, from_address = addresses[0][0] or None, addresses[0][1].lower()
    reply_to = getaddresses([headers["reply-to"]])[0][1].lower() if headers.get("reply-to") else None
    try:
        date = parsedate_to_datetime(headers["date"]) if headers.get("date") else None
    except (TypeError, ValueError, IndexError):
        date = None
    text = _body(message).replace("\r\n", "\n").replace("\r", "\n").strip()
    return ParsedEmail(
        digest=content_digest(raw, headers),
        message_id=headers.get("message-id"),
        subject=subject,
        from_name=from_name,
        from_address=from_address,
        reply_to=reply_to or None,
        date=date,
        in_reply_to=headers.get("in-reply-to"),
        references=tuple(headers.get("references", "").split()),
        content_type=message.get_content_type(),
        text=text,
        own_text=own_words(text),
        language=_language(text, subject),
        attachments=_attachments(message),
        truncated=truncated,
        headers=headers,
    )
