"""Tells a resident's email from automatic mail, which is stored but never answered (RFC 3834)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class MailKind(StrEnum):
    OPINION = "opinion"  # a person wrote to us: store, answer once
    FORM_REPLY = "form_reply"  # a person answered our numbered form
    AUTO_REPLY = "auto_reply"  # out-of-office and other automatic answers
    BOUNCE = "bounce"  # delivery reports
    LIST = "list"  # mailing lists and bulk mail
    OWN = "own"  # our own message coming back


AUTOMATIC = frozenset({MailKind.AUTO_REPLY, MailKind.BOUNCE, MailKind.LIST, MailKind.OWN})

_AUTO_SUBJECT = re.compile(
    r"^\s*(?:odpowied[zź] automatyczna|automatyczna odpowied[zź]|automatic reply|auto(?:matic)?[- ]?reply|"
    r"out of (?:the )?office|nieobecno[sś][cć]|poza biurem|автовідповідь|автоматична відповідь|"
    r"автоматический ответ)\b",
    re.IGNORECASE,
)
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


def classify(
    headers: Mapping[str, str],
    *,
    content_type: str,
    from_address: str | None,
    subject: str,
    own_addresses: frozenset[str],
    own_domain: str | None = None,
) -> Verdict:
    """Classifies an email by its headers (lower-case names), most certain signals first."""

    def header(name: str) -> str:
        return headers.get(name, "").strip()

    sender = (from_address or "").lower()
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
    return Verdict(MailKind.OPINION)
