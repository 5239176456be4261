"""Automatic mail is recognised by its headers (RFC 3834) and never answered."""

from __future__ import annotations

import pytest

from handlers.email.classify import MailKind, classify

OWN = frozenset({"wspolnota@um.warszawa.pl"})


@pytest.mark.parametrize(
    ("headers", "subject", "sender", "content_type", "kind", "reason"),
    [
        (
            {"auto-submitted": "auto-replied"},
            "Re: opinia",
            "a@example.pl",
            "text/plain",
            MailKind.AUTO_REPLY,
            "auto-submitted: auto-replied",
        ),
        ({"auto-submitted": "no"}, "Opinia", "a@example.pl", "text/plain", MailKind.OPINION, None),
        ({"x-autoreply": "yes"}, "Re", "a@example.pl", "text/plain", MailKind.AUTO_REPLY, "x-autoreply"),
        (
            {"x-auto-response-suppress": "All"},
            "Urlop",
            "a@example.pl",
            "text/plain",
            MailKind.AUTO_REPLY,
            "x-auto-response-suppress",
        ),
        ({"x-auto-response-suppress": "DR, RN"}, "Opinia", "a@example.pl", "text/plain", MailKind.OPINION, None),
        (
            {},
            "Odpowiedź automatyczna: Opinia",
            "a@example.pl",
            "text/plain",
            MailKind.AUTO_REPLY,
            "subject: odpowiedź automatyczna",
        ),
        ({}, "Out of Office: Opinia", "a@example.pl", "text/plain", MailKind.AUTO_REPLY, "subject: out of office"),
        ({}, "Undelivered", "a@example.pl", "multipart/report", MailKind.BOUNCE, "multipart/report"),
        ({}, "Failure", "MAILER-DAEMON@mx.example.pl", "text/plain", MailKind.BOUNCE, "mailer-daemon"),
        ({"return-path": "<>"}, "x", "a@example.pl", "text/plain", MailKind.BOUNCE, "empty return-path"),
        ({"list-id": "<sasiedzi.example.pl>"}, "x", "a@example.pl", "text/plain", MailKind.LIST, "list-id"),
        ({"precedence": "bulk"}, "x", "a@example.pl", "text/plain", MailKind.LIST, "precedence: bulk"),
        ({}, "Re: Dziękujemy", "wspolnota@um.warszawa.pl", "text/plain", MailKind.OWN, "own message"),
        ({"x-wspolnota-reference": "W-12"}, "Re", "relay@example.pl", "text/plain", MailKind.OWN, "own message"),
    ],
)
def test_classification(
    headers: dict[str, str], subject: str, sender: str, content_type: str, kind: MailKind, reason: str | None
) -> None:
    verdict = classify(
        headers, content_type=content_type, from_address=sender.lower(), subject=subject, own_addresses=OWN
    )
    assert (verdict.kind, verdict.reason) == (kind, reason)
    assert verdict.automatic is (kind not in (MailKind.OPINION, MailKind.FORM_REPLY))
