"""Tells a person's email from everything we store but never answer: automatic mail (RFC 3834), spam,
spoofs of our address, Outlook recalls and emails with no words of the writer's own."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class MailKind(StrEnum):
    OPINION = "opinion"  # a person wrote to us: store, answer once
    FORM_REPLY = "form_reply"  # a person answered our numbered form
    APPLICATION = "application"  # a person applied to the working groups (or answered our application mail)
    AUTO_REPLY = "auto_reply"  # out-of-office and other automatic answers
    BOUNCE = "bounce"  # delivery reports
    LIST = "list"  # mailing lists and bulk mail
    OWN = "own"  # our own message coming back
    SPAM = "spam"  # an upstream filter's verdict
    SPOOF = "spoof"  # a foreign address whose display name imitates ours
    RECALL = "recall"  # Outlook asking to recall an earlier message
    EMPTY = "empty"  # no words of the writer's own once quotes, signatures and footers are gone
    ATTENDANCE = "attendance"  # a yes or no to a working group's seat (a calendar reply, "tak, będę"): recorded
    FOR_STAFF = "for_staff"  # another reply to a working-group decision: kept for staff, never answered by us


AUTOMATIC = frozenset({MailKind.AUTO_REPLY, MailKind.BOUNCE, MailKind.LIST, MailKind.OWN})
ANSWERABLE = frozenset({MailKind.OPINION, MailKind.FORM_REPLY})

_AUTO_SUBJECT = re.compile(
    r"^\s*(?:odpowied[zź] automatyczna|automatyczna odpowied[zź]|automatic reply|auto(?:matic)?[- ]?reply|"
    r"out of (?:the )?office|nieobecno[sś][cć]|poza biurem|автовідповідь|автоматична відповідь|"
    r"автоматический ответ)\b",
    re.IGNORECASE,
)
# Outlook sends a recall as a new message whose subject starts with the word in the sender's language.
_RECALL_SUBJECT = re.compile(
    r"^\s*(?:recall|odwo[łl]aj|odwo[łl]anie|wycofaj|відкликати|отозвать|rückruf)\s*:", re.IGNORECASE
)
_RECALL_TEXT = re.compile(
    r"would like to recall the message|chce odwo[łl]a[ćc] wiadomo[śs][ćc]|хоче відкликати повідомлення", re.IGNORECASE
)
_ADDRESS_DOMAIN = re.compile(r"[\w.+-]+@([\w-]+(?:\.[\w-]+)+)")
_ANGLE_ADDRESS = re.compile(r"<([^<>]*)>\s*$")
_DAEMONS = re.compile(r"^(?:mailer-daemon|postmaster|mail delivery (?:system|subsystem))\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What an email is, and why (stored with it for staff)."""

    kind: MailKind
    reason: str | None = None

    @property
    def automatic(self) -> bool:
        """Automatic mail is stored but never answered."""
        return self.kind in AUTOMATIC

    @property
    def answerable(self) -> bool:
        """Only a person's own words get a reply: everything else is stored with its reason, unanswered."""
        return self.kind in ANSWERABLE


def has_own_words(text: str) -> bool:
    """Whether any letter or digit is left (what remains once quotes and signatures are removed)."""
    return any(char.isalnum() for char in text)


def _is_ours(domain: str, own_domains: frozenset[str]) -> bool:
    return any(domain == own or domain.endswith(f".{own}") for own in own_domains)


def _spoofed(from_header: str, from_name: str | None, from_address: str | None, own_domains: frozenset[str]) -> bool:
    """A display name carrying an address of our domains in front of a foreign address.

    Read from the raw From header as well as the parsed name: an unquoted address in the display
    name makes parsers take it for the sender.
    """
    angle = _ANGLE_ADDRESS.search(from_header)
    display = from_header[: angle.start()] if angle else ""
    actual = (angle.group(1) if angle else from_address or "").strip().lower()
    if not actual or _is_ours(actual.rsplit("@", 1)[-1], own_domains):
        return False
    named = f"{display} {from_name or ''}".lower()
    return any(_is_ours(domain, own_domains) for domain in _ADDRESS_DOMAIN.findall(named))


def classify(
    headers: Mapping[str, str],
    *,
    content_type: str,
    from_address: str | None,
    subject: str,
    own_addresses: frozenset[str],
    own_domain: str | None = None,
    from_name: str | None = None,
    text: str | None = None,
    own_text: str | None = None,
) -> Verdict:
    """Classifies an email by its headers (lower-case names), most certain signals first.

    With `text` a recall is also recognised by its words; with `own_text` an email with no words
    of the writer's own is `empty` (a reply that answers our form inline is read by the caller).
    """

    def header(name: str) -> str:
        return headers.get(name, "").strip()

    sender = (from_address or "").lower()
    own_domains = frozenset(address.rsplit("@", 1)[-1] for address in own_addresses if "@" in address)
    if own_domain:
        own_domains |= {own_domain}
    if _spoofed(header("from"), from_name, from_address, own_domains):
        return Verdict(MailKind.SPOOF, "display name imitates our address")
    message_id = header("message-id").lower()
    if (
        sender in own_addresses
        or header("x-wspolnota-reference")
        or (own_domain and message_id.endswith(f"@{own_domain}>"))
    ):
        return Verdict(MailKind.OWN, "own message")
    if content_type.lower().startswith("multipart/report"):
        return Verdict(MailKind.BOUNCE, "multipart/report")
    local_part = sender.split("@", 1)[0]
    if _DAEMONS.match(local_part) or _DAEMONS.match(header("from")):
        return Verdict(MailKind.BOUNCE, "mailer-daemon")
    auto_submitted = header("auto-submitted").lower()
    if auto_submitted and auto_submitted != "no":
        token = re.split(r"[\s;(]", auto_submitted, maxsplit=1)[0]
        return Verdict(MailKind.AUTO_REPLY, f"auto-submitted: {token}")
    for name in ("x-autoreply", "x-autorespond", "x-autoresponse"):
        if name in headers:
            return Verdict(MailKind.AUTO_REPLY, name)
    # Exchange marks its own automatic mail (out-of-office, receipts) with "All" or "OOF";
    # ordinary Outlook mail may carry other values, so those alone do not make it automatic.
    suppress = header("x-auto-response-suppress").lower()
    if any(flag in suppress for flag in ("all", "oof", "autoreply")):
        return Verdict(MailKind.AUTO_REPLY, "x-auto-response-suppress")
    if _AUTO_SUBJECT.match(subject):
        return Verdict(MailKind.AUTO_REPLY, f"subject: {subject.split(':')[0].strip().lower()}")
    if "return-path" in headers and header("return-path") in ("<>", ""):
        return Verdict(MailKind.BOUNCE, "empty return-path")
    for name in ("list-id", "list-unsubscribe"):
        if name in headers:
            return Verdict(MailKind.LIST, name)
    precedence = header("precedence").lower()
    if precedence in ("bulk", "list", "junk"):
        return Verdict(MailKind.LIST, f"precedence: {precedence}")
    if header("x-spam-flag").lower().startswith("yes"):
        return Verdict(MailKind.SPAM, "x-spam-flag")
    if header("x-spam-status").lower().startswith("yes"):
        return Verdict(MailKind.SPAM, "x-spam-status")
    if header("x-spam").lower().startswith("yes"):  # rspamd
        return Verdict(MailKind.SPAM, "x-spam")
    if _RECALL_SUBJECT.match(subject) or (text is not None and _RECALL_TEXT.search(text[:2000])):
        return Verdict(MailKind.RECALL, "outlook recall")
    if own_text is not None and not has_own_words(own_text):
        return Verdict(MailKind.EMPTY, "no own words")
    return Verdict(MailKind.OPINION)
