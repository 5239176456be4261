"""The privacy notice (GDPR art. 13) as each channel shows it: a one-line lead, the essentials before
the first question, the whole notice one tap away, each with the data protection officer, the legal
basis and what is true in that channel; the start button follows the legal basis."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.service import MESSAGES
from handlers.definitions.config_files import ConfigError
from handlers.definitions.i18n import LANGUAGES, Catalog, Language, load_catalog
from handlers.definitions.privacy import DEFAULT_CHANNEL, LegalBasis
from handlers.definitions.questionnaire import Questionnaire, load_questionnaires, parse_questionnaire
from handlers.engine.messages import Action, ReplyKind
from handlers.engine.presenter import Presenter
from tests.support import QUESTIONNAIRE, SHIPPED_CONFIG, TEST_CONFIG

DPO = "iod@um.warszawa.pl"
PUODO = "Stawki 2, 00-193 Warszawa"
CHANNELS = ("telegram", "web", "email", "terminal")
# Each basis by its article, as the notice writes it in each language.
ARTICLE = {
    LegalBasis.PUBLIC_TASK: {"pl": "art. 6 ust. 1 lit. e RODO", "en": "Art. 6(1)(e) GDPR", "uk": "ст. 6(1)(e) GDPR"},
    LegalBasis.CONSENT: {"pl": "art. 6 ust. 1 lit. a RODO", "en": "Art. 6(1)(a) GDPR", "uk": "ст. 6(1)(a) GDPR"},
}
SLASH_COMMAND = re.compile(r"(?<![\w.:/])/[a-z]")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(SHIPPED_CONFIG / "messages.yaml", MESSAGES)


def _questionnaires() -> list[Questionnaire]:
    shipped = load_questionnaires(SHIPPED_CONFIG / "questionnaires")
    tests = load_questionnaires(TEST_CONFIG / "questionnaires")
    return [*shipped.values(), tests[QUESTIONNAIRE]]


QUESTIONNAIRES = _questionnaires()


def test_the_shipped_and_the_tests_questionnaires_cover_both_bases() -> None:
    assert {q.privacy.basis for q in QUESTIONNAIRES} == set(LegalBasis)


@pytest.mark.parametrize("questionnaire", QUESTIONNAIRES, ids=lambda q: f"{q.id}-{q.privacy.basis}")
@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_each_channel_shows_the_dpo_the_basis_and_its_own_sentences(
    questionnaire: Questionnaire, channel: str, language: Language, catalog: Catalog
) -> None:
    privacy, presenter = questionnaire.privacy, Presenter(catalog).for_channel(channel)
    own = privacy.channel(channel)
    article = ARTICLE[privacy.basis][language]

    first = presenter.privacy(questionnaire, language)
    assert first.kind is ReplyKind.PRIVACY
    assert first.heading == privacy.lead(language)  # who asks, about what, how long: one line on top
    assert "\n" not in privacy.lead(language)
    assert DPO in first.text and article in first.text and own.kept(language) in first.text

    full = presenter.privacy_notice(questionnaire, language).text
    for part in (DPO, article, PUODO, own.kept(language), own.exercise(language), "16"):
        assert part in full, part
    if channel == "email":  # the truth differs: the whole email and its sender are kept
        assert privacy.channels["email"].kept(language) in full
    if channel in ("web", "email"):  # no channel of buttons or letters names a /command
        assert not SLASH_COMMAND.search(first.text) and not SLASH_COMMAND.search(full)


@pytest.mark.parametrize("questionnaire", QUESTIONNAIRES, ids=lambda q: f"{q.id}-{q.privacy.basis}")
def test_the_start_button_follows_the_legal_basis(questionnaire: Questionnaire, catalog: Catalog) -> None:
    suffix = "_public_task" if questionnaire.privacy.basis is LegalBasis.PUBLIC_TASK else ""
    for language in LANGUAGES:
        reply = Presenter(catalog).privacy(questionnaire, language)
        [accept] = [c for c in reply.navigation if c.action is Action.ACCEPT]
        assert accept.label == catalog("btn_accept" + suffix, language)
        assert reply.text.endswith(catalog("privacy_question" + suffix, language))
    consent_words = {"pl": "Zgadzam", "en": "agree", "uk": "Погоджу"}
    if not suffix:
        assert all(consent_words[lang] in catalog("btn_accept", lang) for lang in LANGUAGES)
    else:  # on a public task there is nothing to agree to: starting is taking part
        assert not any(consent_words[lang] in catalog("btn_accept_public_task", lang) for lang in LANGUAGES)


def test_the_web_notice_names_the_web_chats_own_buttons(catalog: Catalog) -> None:
    """The notice tells a web visitor which buttons to press: their labels are the footer's."""
    web = catalog.for_channel("web")
    for questionnaire in QUESTIONNAIRES:
        for language in LANGUAGES:
            exercise = questionnaire.privacy.channel("web").exercise(language)
            for key in ("cmd_mydata", "cmd_forget"):
                assert catalog(key, language) in exercise, (questionnaire.id, language, key)
            assert catalog("cmd_privacy", language) in web("privacy_more", language)


def test_a_channel_without_its_own_sentences_gets_the_general_ones() -> None:
    privacy = QUESTIONNAIRES[0].privacy
    assert privacy.channel("paper") == privacy.channels[DEFAULT_CHANNEL]


def _problems(tmp_path: Path, change: str, new: str) -> list[str]:
    source = (TEST_CONFIG / "questionnaires" / f"{QUESTIONNAIRE}.yaml").read_text()
    assert change in source
    path = tmp_path / "demo.yaml"
    path.write_text(source.replace(change, new, 1))
    from handlers.definitions.config_files import read_yaml

    with pytest.raises(ConfigError) as caught:
        parse_questionnaire(read_yaml(path), str(path))
    return [str(problem) for problem in caught.value.problems]


def test_a_notice_with_a_mistake_is_named_by_file_key_and_reason(tmp_path: Path) -> None:
    found = _problems(tmp_path, "{exercise}", "{exercize}")
    assert any("privacy.full.pl" in p and "unknown placeholder {exercize}" in p for p in found), found
    assert any("privacy.full.pl" in p and "must include {exercise}" in p for p in found), found
    found = _problems(tmp_path, "basis: consent", "basis: public_interest")
    assert any("privacy.basis" in p for p in found), found


def test_the_chosen_basis_needs_its_texts(tmp_path: Path) -> None:
    found = _problems(tmp_path, "    consent:  # each resident agrees", "    agreed:  # each resident agrees")
    assert any("privacy" in p and "bases" in p for p in found), found
