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


@pytest.mark.parametrize(
    ("headers", "subject", "sender", "name", "kind", "reason"),
    [
        ({"x-spam-flag": "YES"}, "Wygrana", "a@example.pl", None, MailKind.SPAM, "x-spam-flag"),
        ({"x-spam-flag": "NO"}, "Opinia", "a@example.pl", None, MailKind.OPINION, None),
        ({"x-spam-status": "Yes, score=7.1 required=5.0"}, "x", "a@example.pl", None, MailKind.SPAM, "x-spam-status"),
        ({"x-spam-status": "No, score=0.3 required=5.0"}, "Opinia", "a@example.pl", None, MailKind.OPINION, None),
        ({"x-spam": "Yes"}, "x", "a@example.pl", None, MailKind.SPAM, "x-spam"),
        (
            {"from": '"wspolnota@um.warszawa.pl" <x@evil.example>'},
            "Re: opinia",
            "x@evil.example",
            "wspolnota@um.warszawa.pl",
            MailKind.SPOOF,
            "display name imitates our address",
        ),
        (  # unquoted: a parser takes the display name for the sender; the angle address is the real one
            {"from": "wspolnota@um.warszawa.pl <x@evil.example>"},
            "Re: opinia",
            "wspolnota@um.warszawa.pl",
            None,
            MailKind.SPOOF,
            "display name imitates our address",
        ),
        (  # our own address with our own name is ours, not a spoof
            {"from": '"Program Wspólnota" <wspolnota@um.warszawa.pl>'},
            "Re: opinia",
            "wspolnota@um.warszawa.pl",
            "Program Wspólnota",
            MailKind.OWN,
            "own message",
        ),
        (  # a resident whose name merely mentions the city is a person
            {"from": '"Jan (Urząd Dzielnicy)" <jan@example.pl>'},
            "Opinia",
            "jan@example.pl",
            "Jan (Urząd Dzielnicy)",
            MailKind.OPINION,
            None,
        ),
        ({}, "Recall: Opinia o programie", "a@example.pl", None, MailKind.RECALL, "outlook recall"),
        ({}, "Odwołaj: Opinia o programie", "a@example.pl", None, MailKind.RECALL, "outlook recall"),
    ],
)
def test_spam_spoofs_and_recalls_are_stored_unanswered(
    headers: dict[str, str], subject: str, sender: str, name: str | None, kind: MailKind, reason: str | None
) -> None:
    verdict = classify(
        headers,
        content_type="text/plain",
        from_address=sender,
        subject=subject,
        own_addresses=OWN,
        own_domain="wspolnota.um.warszawa.pl",
        from_name=name,
    )
    assert (verdict.kind, verdict.reason) == (kind, reason)
    assert verdict.answerable is (kind is MailKind.OPINION)


def test_a_recall_is_known_by_its_words_too() -> None:
    text = 'Jan Kowalski would like to recall the message, "Opinia".'
    verdict = classify(
        {}, content_type="text/plain", from_address="a@example.pl", subject="Opinia", own_addresses=OWN, text=text
    )
    assert verdict.kind is MailKind.RECALL and not verdict.answerable


@pytest.mark.parametrize(
    ("own_text", "kind"),
    [("", MailKind.EMPTY), ("  \n\n ", MailKind.EMPTY), ("—\n…", MailKind.EMPTY), ("Więcej ławek.", MailKind.OPINION)],
)
def test_an_email_without_own_words_is_empty(own_text: str, kind: MailKind) -> None:
    verdict = classify(
        {},
        content_type="text/plain",
        from_address="a@example.pl",
        subject="Opinia o programie",
        own_addresses=OWN,
        own_text=own_text,
    )
    assert verdict.kind is kind
    assert verdict.answerable is (kind is MailKind.OPINION)
