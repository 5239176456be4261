"""Reading one email right: lying charsets, NUL bytes, format=flowed, HTML twins, addresses, closings."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from handlers.email.parse import decode_bytes, parse_email, unflow
from handlers.email.quotes import own_words


def _mail(headers: str, body: bytes) -> bytes:
    return headers.replace("\n", "\r\n").encode("utf-8") + b"\r\n\r\n" + body


def _strings(value: Any) -> list[str]:
    """Every string a parsed email carries, however deep."""
    if isinstance(value, str):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [s for field in dataclasses.fields(value) for s in _strings(getattr(value, field.name))]
    if isinstance(value, dict):
        return [s for pair in value.items() for item in pair for s in _strings(item)]
    if isinstance(value, list | tuple):
        return [s for item in value for s in _strings(item)]
    return []


def test_no_nul_reaches_any_field_the_database_gets() -> None:
    boundary = "b1"
    body = (
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDzie\x00\u0144 dobry\x00\r\n"
        f'--{boundary}\r\nContent-Type: application/pdf; name="a\x00.pdf"\r\n'
        f'Content-Disposition: attachment; filename="a\x00.pdf"\r\n\r\nPDF\r\n--{boundary}--\r\n'
    ).encode()
    raw = _mail(
        "From: =?utf-8?q?Jan=00_Nowak?= <jan@example.pl>\nReply-To: x\x00 <x@example.pl>\n"
        "Subject: =?utf-8?q?Temat=00?= \x00\nMessage-ID: <a\x00b@example.pl>\nMIME-Version: 1.0\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"',
        body,
    )
    parsed = parse_email(raw)
    assert parsed.own_text == "Dzień dobry"
    assert parsed.subject == "Temat"
    assert not [s for s in _strings(parsed) if "\x00" in s or any("\ud800" <= c <= "\udfff" for c in s)]


@pytest.mark.parametrize(
    ("data", "label", "text"),
    [
        ("Świetlica, źle".encode("cp1250"), "iso-8859-1", "Świetlica, źle"),  # C1 controls: windows-1250
        ("śmieci są".encode("cp1250"), "iso-8859-2", "śmieci są"),
        ("Żółte ławki".encode(), "windows-1250", "Żółte ławki"),  # UTF-8 under a Polish label
        ("Żółte ławki".encode(), "iso-8859-2", "Żółte ławki"),
        ("zamknięty".encode() + b"\xff!", "utf-8", "zamknięty\ufffd!"),  # damage replaced, no mojibake
        ("café".encode("latin-1"), "iso-8859-1", "café"),  # a right Latin-1 label stays right
        (b"plain", "x-unknown", "plain"),
    ],
)
def test_lying_charsets_are_read_as_written(data: bytes, label: str, text: str) -> None:
    assert decode_bytes(data, label) == text


def test_flowed_soft_breaks_inside_words_and_between_words() -> None:
    assert unflow("ma \nłe i ludzie  \nzaczęli\n-- \nEwa", delsp=True) == "małe i ludzie zaczęli\n-- \nEwa"
    assert unflow("można \nspotkać\n\nnowy", delsp=False) == "można spotkać\n\nnowy"


def test_a_change_of_quote_depth_ends_a_flowed_paragraph() -> None:
    assert unflow("moje zdanie \n> cytat \n> dalej") == "moje zdanie \n> cytat dalej"


def test_the_address_is_the_addr_spec_never_a_decoded_display_name() -> None:
    raw = _mail(
        "From: =?UTF-8?Q?Kowalska=2C_Zofia_=3Cz=40example=2Eorg=3E?= <zofia@example.pl>\nSubject: x", b"Tekst\r\n"
    )
    parsed = parse_email(raw)
    assert (parsed.from_name, parsed.from_address) == ("Kowalska, Zofia <z@example.org>", "zofia@example.pl")


def test_an_encoded_word_inside_an_address_is_no_address() -> None:
    parsed = parse_email(_mail("From: Adam <=?utf-8?q?adam=40evil.example=3e?=@example.pl>\nSubject: x", b"Tekst\r\n"))
    assert parsed.from_address is None


@pytest.mark.parametrize(
    ("text", "own"),
    [
        ("Prośba o ławki.\n\nZ poważaniem, Jan Kowalski", "Prośba o ławki."),
        ("Prośba.\n\nPozdrawiam serdecznie\nAnna Nowak\nPrezeska\nFundacja X\ntel. 600 100 200", "Prośba."),
        ("Prośba.\n\nŁączę pozdrowienia\nAnna", "Prośba."),
        ("Prośba.\n\nMiłego dnia!\nKasia", "Prośba."),
        ("Please.\n\nKind regards, Sarah", "Please."),
        ("Прохання.\n\nЗ повагою,\nОлена\n+48 500 600 700", "Прохання."),
        (
            "Pozdrawiam sąsiadów z Bielan, którzy sprzątali park.",
            "Pozdrawiam sąsiadów z Bielan, którzy sprzątali park.",
        ),
    ],
)
def test_closing_formulas_take_the_name_under_them(text: str, own: str) -> None:
    assert own_words(text) == own
