"""Small raw emails for the tests, built the way mail clients write them (CRLF, UTF-8, 8bit)."""

from __future__ import annotations

import itertools

_numbers = itertools.count(1)


def build_email(
    body: str,
    *,
    sender: str = "Anna Nowak <anna.nowak@example.pl>",
    subject: str = "Opinia o programie",
    headers: dict[str, str] | None = None,
    message_id: str | None = None,
) -> bytes:
    """One text/plain email; `headers` adds or replaces header lines (From, Subject, Reply-To, X-Spam-Flag…)."""
    lines = {
        "From": sender,
        "To": "wspolnota@um.warszawa.pl",
        "Subject": subject,
        "Date": "Fri, 29 May 2026 10:15:00 +0200",
        "Message-ID": message_id or f"<test-{next(_numbers)}@example.pl>",
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=utf-8",
        "Content-Transfer-Encoding": "8bit",
        **(headers or {}),
    }
    head = "".join(f"{name}: {value}\r\n" for name, value in lines.items())
    return (head + "\r\n" + body.replace("\r\n", "\n").replace("\n", "\r\n")).encode("utf-8")
