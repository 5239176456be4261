"""The corpus of real-looking resident emails: every one parsed and classified as expected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from handlers.email.classify import classify
from handlers.email.parse import parse_email
from tests.support import QUESTIONNAIRE

CORPUS = Path(__file__).resolve().parent.parent / "emails"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((CORPUS / "expected.yaml").read_text(encoding="utf-8"))
OWN = frozenset({"wspolnota@um.warszawa.pl"})


def test_the_corpus_is_big_enough() -> None:
    assert len(EXPECTED) >= 30
    assert {path.name for path in CORPUS.glob("*.eml")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_email(name: str) -> None:
    expected = EXPECTED[name]
    parsed = parse_email((CORPUS / name).read_bytes())
    verdict = classify(
        parsed.headers,
        content_type=parsed.content_type,
        from_address=parsed.from_address,
        subject=parsed.subject,
        own_addresses=OWN,
        own_domain="wspolnota.um.warszawa.pl",
    )
    kind = "opinion" if expected["kind"] == "form_reply" else expected["kind"]
    assert (verdict.kind.value, verdict.reason) == (kind, expected["reason"])
    assert parsed.subject == expected["subject"]
    assert parsed.from_name == expected["from_name"]
    assert (parsed.from_address or "").lower() == (expected["from_address"] or "").lower()
    assert parsed.message_id == expected.get("message_id")
    assert parsed.language == expected["language"]
    if expected.get("own_text") is not None:
        assert parsed.own_text == expected["own_text"]
    for fragment in expected.get("own_text_contains") or ():
        assert fragment in parsed.own_text
    for fragment in expected.get("own_text_excludes") or ():
        assert fragment not in parsed.own_text
    if expected.get("attachments") is not None:
        assert [(a.name, a.type, a.size) for a in parsed.attachments] == [
            (a["name"], a["type"], a["size"]) for a in expected["attachments"]
        ]
    assert parsed.truncated is bool(expected.get("truncated"))


FORM_REPLIES = sorted(name for name, entry in EXPECTED.items() if entry["kind"] == "form_reply")


@pytest.mark.parametrize("name", FORM_REPLIES)
def test_form_replies_are_read_question_by_question(name: str, config: Any) -> None:
    from handlers.email.form import read_form_reply

    questionnaire = config.questionnaires[QUESTIONNAIRE]
    number_of = {question.code: n for n, question in enumerate(questionnaire.questions, start=1)}
    reading = read_form_reply(questionnaire, parse_email((CORPUS / name).read_bytes()).text)
    read = {number_of[code] for code in reading.answers} | set(reading.unclear)
    assert read == set(EXPECTED[name]["form_answers"])  # every answer found, under its own number
    for number, written in reading.unclear.items():
        assert written == EXPECTED[name]["form_answers"][number]  # what is unclear stays as typed


def test_duplicates_share_a_digest_and_same_id_different_text_does_not() -> None:
    digests = {name: parse_email((CORPUS / name).read_bytes()).digest for name in EXPECTED}
    for name, entry in EXPECTED.items():
        if entry.get("duplicate_of"):
            assert digests[name] == digests[entry["duplicate_of"]]
    assert len(set(digests.values())) == len(EXPECTED) - sum(bool(e.get("duplicate_of")) for e in EXPECTED.values())


def _own_words_right(name: str, own_text: str) -> bool:
    """Whether the extractor kept exactly the writer's words (or, where whitespace is not pinned, all of them)."""
    expected = EXPECTED[name]
    if expected.get("own_text") is not None and own_text != expected["own_text"]:
        return False
    return all(fragment in own_text for fragment in expected.get("own_text_contains") or ()) and not any(
        fragment in own_text for fragment in expected.get("own_text_excludes") or ()
    )


def test_the_extractor_keeps_the_writers_own_words_in_at_least_95_percent(capsys: pytest.CaptureFixture[str]) -> None:
    wrong = sorted(
        name for name in EXPECTED if not _own_words_right(name, parse_email((CORPUS / name).read_bytes()).own_text)
    )
    score = 1 - len(wrong) / len(EXPECTED)
    with capsys.disabled():
        print(f"\nown words exactly right: {len(EXPECTED) - len(wrong)}/{len(EXPECTED)} = {score:.1%}")
    assert score >= 0.95, f"own words wrong in {wrong}"
