"""The application form as data: built from the call, its plain notice checked with file and key, kept out of
the consultation's exports."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.service import Config, load_config
from handlers.definitions.application_form import APPLICATION_ID, application_questionnaire
from handlers.definitions.config_files import ConfigError, read_yaml
from handlers.definitions.i18n import LANGUAGES
from handlers.definitions.privacy import LegalBasis, Privacy, check_privacy
from handlers.definitions.questionnaire import QuestionnaireKind, parse_questionnaire
from handlers.definitions.recruitment import parse_recruitment
from handlers.engine.messages import ReplyKind
from handlers.engine.presenter import Presenter
from tests.support import GROUPS_CONFIG, QUESTIONNAIRE, TEST_CONFIG, make_settings

FILE = "recruitment.yaml"


def texts(value: str) -> dict[str, str]:
    return {language: value for language in LANGUAGES}


def test_a_plain_notice_needs_no_bases_or_channels() -> None:
    notice = Privacy(version="1", basis=LegalBasis.CONSENT, lead=texts("Kto pyta"), short=texts("Krótko. {more}"),
                     full=texts("Całość, bez wstawek."))  # fmt: skip
    assert check_privacy(notice, "x.yaml") == []
    assert notice.short_notice("pl", "telegram", more="/privacy") == "Krótko. /privacy"
    assert notice.full_notice("en", "web") == "Całość, bez wstawek."
    wrong = notice.model_copy(update={"full": notice.full.model_copy(update={"pl": "Zapisujemy {kept}."})})
    [problem] = check_privacy(wrong, "x.yaml")
    assert str(problem) == "x.yaml: privacy.full.pl: {kept} needs the notice's `channels`, which it does not give"


def test_a_questionnaire_file_cannot_claim_to_be_the_application(tmp_path: Path) -> None:
    raw: dict[str, Any] = read_yaml(TEST_CONFIG / "questionnaires" / f"{QUESTIONNAIRE}.yaml")
    raw["kind"] = "application"
    raw["questions"][0]["verified"] = True
    with pytest.raises(ConfigError) as caught:
        parse_questionnaire(raw, "q.yaml")
    found = [str(problem) for problem in caught.value.problems]
    assert any(p.startswith("q.yaml: kind: the application form is built from config/recruitment.yaml") for p in found)
    assert any(".verified: only the working groups' application form confirms an address" in p for p in found), found


def test_the_calls_notice_layers_are_checked_with_file_and_key() -> None:
    raw: dict[str, Any] = read_yaml(GROUPS_CONFIG / "recruitment.yaml")
    broken = copy.deepcopy(raw)
    broken["privacy"]["short"]["en"] = "Short. {more} {basis_short}"
    broken["privacy"]["lead"]["uk"] = "Хто {питає}"
    broken["privacy"]["text"]["pl"] = raw["privacy"]["text"]["pl"] + " {"
    with pytest.raises(ConfigError) as caught:
        parse_recruitment(broken, FILE)
    found = [str(problem) for problem in caught.value.problems]
    assert any(p.startswith("recruitment.yaml: privacy.short.en: {basis_short} needs") for p in found), found
    assert any(p.startswith("recruitment.yaml: privacy.lead.uk: unknown placeholder {питає}") for p in found), found
    assert any(p.startswith("recruitment.yaml: privacy.text.pl: broken placeholder") for p in found), found


def test_the_shipped_call_makes_a_form_with_its_own_notice(shipped_config: Config) -> None:
    call = shipped_config.call()
    assert call is not None
    form = call.questionnaire
    assert form.id == APPLICATION_ID and form.kind is QuestionnaireKind.APPLICATION
    assert (form.opens, form.closes) == (shipped_config.recruitment.opens, shipped_config.recruitment.deadline)  # type: ignore[union-attr]
    notice = shipped_config.recruitment.privacy  # type: ignore[union-attr]
    for language in LANGUAGES:
        first = Presenter(shipped_config.catalog).for_channel("telegram").privacy(form, language)
        assert first.kind is ReplyKind.PRIVACY and first.heading == notice.lead(language)  # type: ignore[misc]
        assert "iod@um.warszawa.pl" in first.text and "16" in first.text and "/privacy" in first.text
        assert len(first.text) < len(notice.text(language)) / 2  # the essentials, the rest one tap away
        shown = Presenter(shipped_config.catalog).for_channel("web").privacy_notice(form, language).text
        assert shown == notice.text(language)
    # Without `short`, the whole notice comes first; without `lead`, the catalog's line.
    plain = Privacy(version="1", basis=LegalBasis.CONSENT, lead=form.privacy.lead, short=notice.text, full=notice.text)
    assert (
        Presenter(shipped_config.catalog)
        .privacy(form.model_copy(update={"privacy": plain}), "pl")
        .text.startswith(notice.text("pl"))
    )
    available = form.question("available")
    assert available is not None and available.hint is not None
    hint = available.hint("pl")
    assert "17:00–20:00" in hint and "25.10, 08.11, 22.11*" in hint and "30.11" in hint  # the shipped meetings
    assert "* to spotkanie może się nie odbyć" in hint


def test_wspolnota_export_refuses_the_application(tmp_path: Path) -> None:
    env = {
        "WSPOLNOTA_DATA_DIR": str(tmp_path / "data"),
        "WSPOLNOTA_SECRET_KEY": "application-" + "x" * 32,
        "WSPOLNOTA_CONFIG_DIR": str(GROUPS_CONFIG),
    }
    result = CliRunner().invoke(main, ["export", "-q", APPLICATION_ID, "-o", str(tmp_path / "x.csv")], env=env)
    assert result.exit_code != 0
    assert f"no such questionnaire '{APPLICATION_ID}'" in result.output
    assert not (tmp_path / "x.csv").exists()


def test_the_form_is_the_calls_whenever_it_is_built(tmp_path: Path) -> None:
    config = load_config(make_settings(tmp_path / "data", WSPOLNOTA_CONFIG_DIR=str(GROUPS_CONFIG)))
    call = config.call()
    assert call is not None and config.recruitment is not None
    assert application_questionnaire(config.recruitment, config.catalog, config.events) == call.questionnaire
    assert (
        call.questionnaire.structure_digest()
        == application_questionnaire(config.recruitment, config.catalog, config.events).structure_digest()
    )  # start-up registers it like a questionnaire file: the same version, the same digest
    assert APPLICATION_ID not in config.questionnaires
