"""Understanding a raw email: headers, readable text in any charset, attachments, the writer's own words."""

from __future__ import annotations

import contextlib
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import getaddresses, parsedate_to_datetime

from bs4 import BeautifulSoup
from charset_normalizer import from_bytes

from handlers.email_quotes import own_words
from handlers.i18n import Language

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


def _header(message: Message, name: str) -> str | None:
    """A header's decoded value; broken encodings are decoded as well as they can be."""
    try:
        value = message.get(name)
    except (ValueError, TypeError, IndexError):  # the email package's header parser gave up
        value = None
        raw = message.get_all(name, failobj=[])
        if raw:
            value = str(raw[0])
    if value is None:
        return None
    text = str(value)
    if "=?" in text:
        with contextlib.suppress(LookupError, UnicodeDecodeError, ValueError):
            text = str(make_header(decode_header(text)))
    return " ".join(text.split())


def _payload_text(part: Message) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    text = decode_bytes(data, part.get_content_charset())
    return html_to_text(text) if part.get_content_type() == "text/html" else text


def _body(message: Message) -> str:
    """The readable text: the plain part, or the HTML one made readable."""
    if isinstance(message, EmailMessage):
        try:
            body = message.get_body(preferencelist=("plain", "html"))
        except (KeyError, ValueError, TypeError):
            body = None
        if body is not None:
            return _payload_text(body)
    for part in message.walk():
        if part.get_content_maintype() == "text" and not part.get_filename():
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
        found.append(Attachment(name, part.get_content_type(), len(data) if isinstance(data, bytes) else 0))
    return tuple(found)


def _language(text: str, subject: str) -> Language:
    sample = f"{subject}\n{text}"[:4000]
    cyrillic = sum("а" <= c.lower() <= "я" or c in "іїєґІЇЄҐ" for c in sample)
    if cyrillic > 20 or (cyrillic > 3 and cyrillic * 3 > len(sample)):
        return "uk"
    polish = sum(c in "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ" for c in sample)
    words = re.findall(r"[a-ząćęłńóśźż]+", sample.lower())
    english = sum(w in {"the", "and", "is", "are", "i", "you", "we", "our", "to", "of", "in"} for w in words)
    if polish == 0 and english >= 3 and english * 8 >= len(words):
        return "en"
    return "pl"


def parse_email(raw: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedEmail:
    """Parses one raw email; never raises on bad input, and keeps at most `max_bytes` of it."""
    truncated = len(raw) > max_bytes
    kept = raw[:max_bytes] if truncated else raw
    message = message_from_bytes(kept, policy=policy.default)
    names = {key.lower() for key in message}
    headers = {name: value for name in names if (value := _header(message, name)) is not None}
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
        digest=hashlib.sha256(raw).hexdigest(),
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
