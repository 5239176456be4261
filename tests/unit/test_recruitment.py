"""The call for working-group applications as data: the shipped file loads; every mistake is named at once."""

from __future__ import annotations

import copy
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from bot.cli import main
from bot.service import Config
from handlers.definitions.config_files import ConfigError, read_yaml
from handlers.definitions.events import EventKind, load_events, parse_events
from handlers.definitions.recruitment import SECTOR_CODES, load_recruitment, parse_recruitment
from tests.support import SHIPPED_CONFIG, TEST_CONFIG

FILE = "recruitment.yaml"
AREAS = {
    "otwartosc": (
        "Otwartość i nawiązywanie relacji",
        "Openness and building relationships",
        "Відкритість і налагодження стосунків",
    ),
    "aktywnosc": (
        "Aktywność społeczna i współpraca lokalna",
        "Social activity and local cooperation",
        "Громадська активність і місцева співпраця",
    ),
    "przynaleznosc": (
        "Przynależność i identyfikacja z miejscem",
        "Belonging and identification with a place",
        "Належність та ідентифікація з місцем",
    ),
}


@pytest.fixture(scope="module")
def shipped_raw() -> dict[str, Any]:
    raw: dict[str, Any] = read_yaml(SHIPPED_CONFIG / "recruitment.yaml")
    return raw


@pytest.fixture(scope="module")
def shipped_events() -> dict[str, Any]:
    return load_events(SHIPPED_CONFIG / "events.yaml")


def problems_of(raw: dict[str, Any], events: dict[str, Any] | None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_recruitment(raw, FILE, events)
    return [str(problem) for problem in caught.value.problems]


def test_the_shipped_call_loads_with_its_meetings(shipped_config: Config) -> None:
    call = shipped_config.recruitment
    assert call is not None
    assert [g.code for g in call.groups] == list(AREAS)  # in the programme's order
    for group in call.groups:
        assert (group.name("pl"), group.name("en"), group.name("uk")) == AREAS[group.code]
        assert group.seats == 24
        meetings = [shipped_config.events[slug] for slug in group.meetings]
        assert len(meetings) == 3 and all(m.kind is EventKind.WORKING_GROUP for m in meetings)
        assert all(not m.open_to_public for m in meetings)
        assert meetings == sorted(meetings, key=lambda m: m.starts)
        assert [m.optional for m in meetings[:2]] == [False, False]
        # 17:00–20:00 in Warsaw, whatever the offset (summer time ends on 31 October 2027).
        assert all((m.starts.hour, m.ends.hour) == (17, 20) for m in meetings)
        assert all(m.starts.date() > call.decision_date for m in meetings)
    # The page stars the third date of groups I and III as optional.
    third = {g.code: shipped_config.events[g.meetings[2]].optional for g in call.groups}
    assert third == {"otwartosc": True, "aktywnosc": False, "przynaleznosc": True}
    assert call.closing_meeting == "spotkanie-podsumowujace"
    closing = shipped_config.events["spotkanie-podsumowujace"]
    assert (
        closing.kind is EventKind.PLENARY and closing.name("pl") == "Spotkanie podsumowujące wszystkich grup roboczych"
    )
    assert tuple(s.code for s in call.sectors) == SECTOR_CODES
    assert (str(call.opens), str(call.deadline)) == ("2027-09-01 00:00:00+02:00", "2027-09-30 23:59:59+02:00")
    assert call.decision_date == date(2027, 10, 8)
    for group in call.groups:
        quotas = [call.quota(group.code, sector) for sector in SECTOR_CODES]
        assert sum(q.min for q in quotas) <= group.seats <= sum(q.max for q in quotas)


def test_the_applicants_notice_says_what_art_13_asks(shipped_config: Config) -> None:
    call = shipped_config.recruitment
    assert call is not None
    for language in ("pl", "en", "uk"):
        text = call.privacy.text(language)
        for needed in ("pl. Bankowy 3/5, 00-950 Warszawa", "iod@um.warszawa.pl", "6", "ul. Stawki 2, 00-193", "16"):
            assert needed in text, (language, needed)
        assert "Telegram" in text and "2" in text
    assert "art. 6 ust. 1 lit. a RODO" in call.privacy.text("pl")
    assert "losowanie" in call.privacy.text("pl") and "random draw" in call.privacy.text("en")


def test_every_semantic_mistake_is_named_with_file_and_key_at_once(
    shipped_raw: dict[str, Any], shipped_events: dict[str, Any]
) -> None:
    raw = copy.deepcopy(shipped_raw)
    raw["groups"][1]["code"] = "otwartosc"  # duplicate
    raw["groups"][2]["meetings"].append("grupa-9-spotkanie-1")  # no such event
    raw["groups"][0]["name"].pop("uk")  # a missing translation (schema)
    raw["sectors"][0]["code"] = "ngos"  # not one of the fixed six (and ngo is then missing)
    raw["quotas"]["przynaleznosc"]["resident"] = {"min": 9, "max": 3}
    raw["quotas"]["nieznana"] = {"ngo": {"min": 1, "max": 2}}
    raw["quotas"]["przynaleznosc"]["city_hall"] = {"min": 1, "max": 4, "mx": 5}  # a typo (schema)
    raw["decision_date"] = date(2027, 9, 30)
    raw["closing_meeting"] = "dzien-sasiada-zoliborz-2027-05-29"
    found = problems_of(raw, shipped_events)
    for expected in [
        f"{FILE}: groups[otwartosc].name.uk: required but missing",
        f"{FILE}: quotas.przynaleznosc.city_hall.mx: unknown key (a typo?)",
        f"{FILE}: groups[otwartosc]: duplicate group code",
        f"{FILE}: groups[przynaleznosc].meetings[4]: no event 'grupa-9-spotkanie-1' in events.yaml",
        f"{FILE}: sectors[ngos]: unknown sector; the sectors are fixed: ngo, informal, resident,",
        f"{FILE}: sectors: 'ngo' is missing",
        f"{FILE}: quotas.przynaleznosc.resident: min (9) is more than max (3)",
        f"{FILE}: quotas.nieznana: no group has the code 'nieznana'",
        f"{FILE}: decision_date: must be later than the deadline's day (2027-09-30)",
        f"{FILE}: closing_meeting: 'dzien-sasiada-zoliborz-2027-05-29' is a neighbour_day event in events.yaml",
        f"{FILE}: closing_meeting: 'dzien-sasiada-zoliborz-2027-05-29' starts before the applicants hear back",
    ]:
        assert any(line.startswith(expected) for line in found), (expected, found)


def test_infeasible_quotas_are_refused(shipped_raw: dict[str, Any]) -> None:
    raw = copy.deepcopy(shipped_raw)
    raw["quotas"]["otwartosc"]["ngo"]["min"] = 8  # 15 + 5 = 20: still fits 24
    raw["quotas"]["aktywnosc"] = {sector: {"min": 5, "max": 8} for sector in SECTOR_CODES}  # 30 > 24
    raw["quotas"]["przynaleznosc"] = {sector: {"min": 0, "max": 3} for sector in SECTOR_CODES}  # 18 < 24
    found = problems_of(raw, None)
    assert found == [
        f"{FILE}: quotas.aktywnosc: the minimums add up to 30, more than the group's 24 seats",
        f"{FILE}: quotas.przynaleznosc: the maximums add up to 18, fewer than the group's 24 seats",
    ]
    # A sector a group leaves out may take any number of seats: then the maximums never fall short.
    del raw["quotas"]["przynaleznosc"]["city_hall"]
    del raw["quotas"]["aktywnosc"]
    call = parse_recruitment(raw, FILE)
    assert call.quota("przynaleznosc", "city_hall").max == 24 and call.quota("aktywnosc", "ngo").min == 0


def test_dates_in_order_and_with_a_time_zone(shipped_raw: dict[str, Any]) -> None:
    raw = copy.deepcopy(shipped_raw)
    raw["opens"] = "2027-10-01T00:00:00+02:00"
    assert problems_of(raw, None) == [f"{FILE}: deadline: must be later than `opens`"]
    raw["opens"] = "2027-09-01T00:00:00"
    assert problems_of(raw, None) == [f"{FILE}: opens: needs a time zone, e.g. 2027-09-30T23:59:59+02:00"]
    raw["opens"], raw["decision_date"] = shipped_raw["opens"], "2027-02-30"
    assert problems_of(raw, None)[0].startswith(f"{FILE}: decision_date: ")


def test_a_missing_meeting_and_the_wrong_kind_of_event(shipped_raw: dict[str, Any]) -> None:
    events = parse_events(yaml.safe_load((SHIPPED_CONFIG / "events.yaml").read_text(encoding="utf-8")), "events.yaml")
    del events["grupa-2-spotkanie-2-2027-11-02"]
    del events["spotkanie-podsumowujace"]
    raw = copy.deepcopy(shipped_raw)
    raw["groups"][0]["meetings"][0] = "spotkanie-konsultacyjne-2027-05-21"
    raw["groups"][2]["meetings"][1] = raw["groups"][2]["meetings"][0]
    found = problems_of(raw, events)
    assert f"{FILE}: groups[aktywnosc].meetings[2]: no event 'grupa-2-spotkanie-2-2027-11-02' in events.yaml" in found
    assert f"{FILE}: closing_meeting: no event 'spotkanie-podsumowujace' in events.yaml" in found
    assert (
        f"{FILE}: groups[otwartosc].meetings[1]: 'spotkanie-konsultacyjne-2027-05-21' is a consultation_meeting "
        "event in events.yaml, not a working_group meeting"
    ) in found
    assert (
        f"{FILE}: groups[przynaleznosc].meetings[2]: 'grupa-3-spotkanie-1-2027-10-27' is also a meeting "
        "of group 'przynaleznosc'"
    ) in found


def test_the_notice_must_say_who_may_apply(shipped_raw: dict[str, Any]) -> None:
    raw = copy.deepcopy(shipped_raw)
    raw["min_age"] = 18
    found = problems_of(raw, None)
    assert found == [
        f"{FILE}: privacy.text.{language}: must say who may apply: from the age of 18 (`min_age`)"
        for language in ("pl", "en", "uk")
    ]


def test_only_a_working_groups_meeting_may_be_optional() -> None:
    event = {
        "slug": "festyn",
        "kind": "neighbour_day",
        "name": {"pl": "a", "en": "b", "uk": "c"},
        "district": "Wola",
        "address": "x",
        "starts": "2027-05-29T14:00:00+02:00",
        "ends": "2027-05-29T18:00:00+02:00",
        "optional": True,
    }
    with pytest.raises(ConfigError) as caught:
        parse_events({"events": [event]}, "events.yaml")
    assert str(caught.value) == "events.yaml: events[festyn].optional: only a working_group meeting can be optional"


def test_an_absent_file_means_the_working_groups_are_off(tmp_path: Path) -> None:
    assert load_recruitment(tmp_path / "recruitment.yaml", {}) is None


# `wspolnota check`, as staff run it


def check(config_dir: Path, tmp_path: Path) -> Result:
    env = {
        "WSPOLNOTA_DATA_DIR": str(tmp_path / "data"),
        "WSPOLNOTA_SECRET_KEY": "recruitment-" + "x" * 32,
        "WSPOLNOTA_CONFIG_DIR": str(config_dir),
    }
    return CliRunner().invoke(main, ["check"], env=env, catch_exceptions=False)


def test_check_reports_the_shipped_call(tmp_path: Path) -> None:
    result = check(SHIPPED_CONFIG, tmp_path)
    assert result.exit_code == 0, result.output
    assert (
        "OK working groups: 3 groups, 72 seats, applications until 2027-09-30 23:59, decisions by 2027-10-08 in "
        f"{SHIPPED_CONFIG / 'recruitment.yaml'}"
    ) in result.output


def test_check_says_the_working_groups_are_off_without_the_file(tmp_path: Path) -> None:
    assert not (TEST_CONFIG / "recruitment.yaml").exists()
    result = check(TEST_CONFIG, tmp_path)
    assert result.exit_code == 0, result.output
    assert f"OK working groups: off (no {TEST_CONFIG / 'recruitment.yaml'})" in result.output


def test_check_lists_the_calls_problems_with_the_other_files(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(SHIPPED_CONFIG, config)
    events, call = config / "events.yaml", config / "recruitment.yaml"
    events.write_text(
        events.read_text(encoding="utf-8").replace("slug: spotkanie-podsumowujace", "slug: spotkanie-plenarne"),
        encoding="utf-8",
    )
    text = call.read_text(encoding="utf-8")
    text = text.replace("    seats: 24\n", "    seats: 2\n", 1).replace(
        "deadline: 2027-09-30T", "deadline: 2027-08-30T"
    )
    call.write_text(text, encoding="utf-8")
    result = check(config, tmp_path)
    assert result.exit_code == 1 and "Traceback" not in result.output
    for expected in [
        f"{call}: deadline: must be later than `opens`",
        f"{call}: closing_meeting: no event 'spotkanie-podsumowujace' in events.yaml",
        f"{call}: quotas.otwartosc: the minimums add up to 15, more than the group's 2 seats",
    ]:
        assert expected in result.output, result.output
    assert "Configuration has 3 problems:" in result.output


def test_a_broken_events_file_is_reported_once_not_as_missing_meetings(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(SHIPPED_CONFIG, config)
    events = config / "events.yaml"
    events.write_text(events.read_text(encoding="utf-8") + "  - slug: [\n", encoding="utf-8")
    result = check(config, tmp_path)
    assert result.exit_code == 1
    assert "not valid YAML" in result.output and "no event" not in result.output


def test_staff_see_which_meeting_dates_are_optional(tmp_path: Path) -> None:
    env = {
        "WSPOLNOTA_DATA_DIR": str(tmp_path / "data"),
        "WSPOLNOTA_SECRET_KEY": "recruitment-" + "x" * 32,
        "WSPOLNOTA_CONFIG_DIR": str(SHIPPED_CONFIG),
    }
    result = CliRunner().invoke(main, ["events", "--bot", "wspolnota_bot"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    blocks = result.output.split("\n2027-")
    optional = [block.split()[2] for block in blocks if "(optional date:" in block]
    assert optional == ["grupa-1-spotkanie-3-2027-11-22", "grupa-3-spotkanie-3-2027-11-24"]
