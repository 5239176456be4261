"""`wspolnota groups …` run as staff would, over applications recorded as the engine records them:
status against the seats, the export in three formats, exclusion, erasure, and the groups off."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from bot.service import open_service
from bot.settings import load_settings
from storage.applications import ApplicationFields, record_application, withdraw_application
from storage.models import Application, AuditEntry
from tests.support import SHIPPED_CONFIG, TEST_CONFIG, count, service_environment

# Before and after the call's deadline (moved to 2025 by `env`); in the past, so `purge` reaches them.
ON_TIME = datetime(2025, 9, 10, 12, 0, tzinfo=UTC)
LATE = datetime(2025, 10, 1, 9, 0, tzinfo=UTC)
ANNA = ApplicationFields(
    name="Anna Kowalska",
    email="anna@example.org",
    organisation="Fundacja Sąsiedzi",
    sector="ngo",
    groups=("otwartosc", "aktywnosc"),
    description="Prowadzę klub sąsiedzki.",
    available=True,
    privacy_version="2027-09-01",
)
COLUMNS = "application,channel,received_at,late,status,sector,groups,organisation,description"
COLUMNS += ",decision,group,reserve_rank,probability,attendance"  # the draw's outcome: empty before a draw


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The programme's own call for applications (config/recruitment.yaml) over a temp database, its dates
    moved two years back, so the seeded applications are on time or late by them and old enough to purge
    (the service marks late by the file's deadline whenever it starts)."""
    config = tmp_path / "config"
    shutil.copytree(SHIPPED_CONFIG, config)
    recruitment = config / "recruitment.yaml"
    recruitment.write_text(
        recruitment.read_text(encoding="utf-8")
        .replace("opens: 2027-", "opens: 2025-")
        .replace("deadline: 2027-", "deadline: 2025-")
        .replace("decision_date: 2027-", "decision_date: 2025-")
    )
    return service_environment(tmp_path / "data", WSPOLNOTA_CONFIG_DIR=str(config))


def invoke(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


async def _seed(env: dict[str, str]) -> None:
    """Six applications: two in the draw for otwartosc, one late, one incomplete, one withdrawn, one named twice."""
    people = [
        ("telegram", "anna", ANNA, True, ON_TIME),  # Z-1: in the draw for otwartosc and aktywnosc
        (
            "email",
            "bob",
            replace(
                ANNA,
                name="Bob Nowak",
                email="bob@example.org",
                sector="resident",
                groups=("otwartosc",),
                organisation=None,
            ),
            True,
            ON_TIME,
        ),  # Z-2
        (
            "web",
            "cecylia",
            replace(ANNA, name="Cecylia", email=None, sector="informal", groups=("aktywnosc",)),
            False,
            ON_TIME,
        ),  # Z-3: incomplete
        (
            "email",
            "dorota",
            replace(
                ANNA, name="Dorota", email="d@example.org", groups=("otwartosc",), description='=HYPERLINK("http://x")'
            ),
            True,
            LATE,
        ),  # Z-4: late
        (
            "telegram",
            "ewa",
            replace(ANNA, name="Ewa", email="e@example.org", sector="city_hall", groups=("przynaleznosc",)),
            True,
            ON_TIME,
        ),  # Z-5: withdrawn below
        (
            "web",
            "anna-web",
            replace(ANNA, name="KOWALSKA  anna", email="anna.k@example.org", groups=("otwartosc",)),
            True,
            ON_TIME,
        ),  # Z-6: Anna again, from the web chat
    ]
    async with open_service(load_settings(env, env_file=None)) as service:
        for channel, who, fields, complete, at in people:
            async with service.store.unit() as unit:
                respondent = await unit.ensure_respondent(channel, who, at)
                await record_application(
                    unit,
                    respondent_id=respondent.id,
                    submission_id=None,
                    channel=channel,
                    received_at=at,
                    late=at == LATE,
                    fields=fields,
                    complete=complete,
                    now=at,
                )
                if who == "ewa":
                    await withdraw_application(unit, respondent.id, at)


def seed(env: dict[str, str]) -> None:
    asyncio.run(_seed(env))


def audit_entries(env: dict[str, str]) -> list[tuple[str, dict[str, object]]]:
    async def read() -> list[tuple[str, dict[str, object]]]:
        from sqlalchemy import select

        async with open_service(load_settings(env, env_file=None)) as service, service.store.sessions() as session:
            return [(e.action, e.details) for e in await session.scalars(select(AuditEntry).order_by(AuditEntry.id))]

    return asyncio.run(read())


def row_of(output: str, group: str) -> list[str]:
    return next(line.split() for line in output.splitlines() if line.strip().startswith(group + " "))


def test_status_counts_by_group_and_sector_against_the_seats(env: dict[str, str]) -> None:
    seed(env)
    assert invoke(env, "groups", "exclude", "Z-6", "--reason", "applied twice").exit_code == 0

    result = invoke(env, "groups", "status")

    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith(
        "Call: 3 groups, 72 seats; applications from 2025-09-01 00:00 until 2025-09-30 23:59 (Warsaw), "
        "decisions by 2025-10-08\n"
    )
    assert "Applications: 6 (complete 4, incomplete 1, withdrawn 1); late 1, excluded 1" in out
    assert "In the draw (complete, on time, eligible, not excluded): 2" in out
    assert "By channel: email 2, telegram 2, web 2" in out
    heads = next(line.split() for line in out.splitlines() if line.strip().startswith("group ") and "ngo" in line)
    assert heads == [
        *("group", "ngo", "informal", "resident", "district_office", "city_institution", "city_hall"),
        *("in", "draw", "seats", "per", "seat"),
    ]
    # otwartosc: Anna (ngo) and Bob (resident); Dorota is late, Anna's second application excluded.
    assert row_of(out, "otwartosc")[:1] + row_of(out, "otwartosc")[7:] == ["otwartosc", "2", "24", "0.08"]
    assert [cell.rstrip("!") for cell in row_of(out, "otwartosc")[1:7]] == ["1", "0", "1", "0", "0", "0"]
    assert row_of(out, "aktywnosc")[7:] == ["1", "24", "0.04"]  # Cecylia's is incomplete
    assert row_of(out, "przynaleznosc")[7:] == ["0", "24", "0.00"]  # Ewa withdrew
    statuses = out.split("Every application that asked for each group:")[1]
    assert row_of(statuses, "otwartosc") == ["otwartosc", "4", "0", "0", "1", "1"]
    assert row_of(statuses, "aktywnosc") == ["aktywnosc", "1", "1", "0", "0", "0"]
    assert row_of(statuses, "przynaleznosc") == ["przynaleznosc", "0", "0", "1", "0", "0"]
    assert "Z-1, Z-6: the same name" in out


def test_status_shows_a_group_oversubscribed(env: dict[str, str]) -> None:
    async def many() -> None:
        async with open_service(load_settings(env, env_file=None)) as service, service.store.unit() as unit:
            for n in range(30):
                respondent = await unit.ensure_respondent("web", f"p{n}", ON_TIME)
                fields = replace(ANNA, name=f"Person {n}", email=f"p{n}@example.org", groups=("aktywnosc",))
                await record_application(
                    unit,
                    respondent_id=respondent.id,
                    submission_id=None,
                    channel="web",
                    received_at=ON_TIME,
                    late=False,
                    fields=fields,
                    complete=True,
                    now=ON_TIME,
                )

    asyncio.run(many())
    assert row_of(invoke(env, "groups", "status").output, "aktywnosc")[7:] == ["30", "24", "1.25", "(over)"]


def test_export_csv_one_row_per_application_without_contact_unless_asked_and_audited(
    env: dict[str, str], tmp_path: Path
) -> None:
    seed(env)
    result = invoke(env, "groups", "export")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout.removeprefix("\ufeff"))))
    assert result.stdout.splitlines()[0] == "\ufeff" + COLUMNS  # a BOM for Excel
    assert [row["application"] for row in rows] == ["Z-1", "Z-2", "Z-3", "Z-5", "Z-6", "Z-4"]  # by receipt
    first = rows[0]
    assert first == {
        "application": "Z-1",
        "channel": "telegram",
        "received_at": "2025-09-10T12:00:00+00:00",
        "late": "False",
        "status": "complete",
        "sector": "ngo",
        "groups": "otwartosc,aktywnosc",
        "organisation": "Fundacja Sąsiedzi",
        "description": "Prowadzę klub sąsiedzki.",
        **dict.fromkeys(("decision", "group", "reserve_rank", "probability", "attendance"), ""),
    }
    assert rows[-1]["late"] == "True" and rows[-1]["description"].startswith("'=HYPERLINK")  # never a formula
    assert "Kowalska" not in result.stdout and "@example.org" not in result.stdout
    assert "Exported 6 applications." in result.stderr

    out = tmp_path / "with-contact.csv"
    assert invoke(env, "groups", "export", "--include-contact", "--out", str(out)).exit_code == 0
    contact = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert list(contact[0]) == [*COLUMNS.split(","), "name", "email"]
    assert (contact[0]["name"], contact[0]["email"]) == ("Anna Kowalska", "anna@example.org")

    assert audit_entries(env) == [
        ("export", {"what": "applications", "format": "csv", "include_contact": False}),
        ("export", {"what": "applications", "format": "csv", "include_contact": True}),
    ]


def test_export_jsonl_keeps_groups_a_list(env: dict[str, str]) -> None:
    seed(env)
    plain = invoke(env, "groups", "export", "--format", "jsonl")
    records = [json.loads(line) for line in plain.stdout.splitlines()]
    assert len(records) == 6 and list(records[0]) == COLUMNS.split(",")
    assert records[0]["groups"] == ["otwartosc", "aktywnosc"] and records[0]["late"] is False
    assert records[-1]["description"] == '=HYPERLINK("http://x")'  # JSON is no spreadsheet: kept as written
    withcontact = invoke(env, "groups", "export", "--format", "jsonl", "--include-contact")
    assert json.loads(withcontact.stdout.splitlines()[1])["email"] == "bob@example.org"
    assert [details["format"] for _, details in audit_entries(env)] == ["jsonl", "jsonl"]


def test_export_xlsx_needs_a_file_and_has_the_fields(env: dict[str, str], tmp_path: Path) -> None:
    from openpyxl import load_workbook

    seed(env)
    refused = invoke(env, "groups", "export", "--format", "xlsx")
    assert refused.exit_code == 2 and "XLSX needs --out FILE" in refused.output
    for contact, name in ((False, "a.xlsx"), (True, "b.xlsx")):
        path = tmp_path / name
        args = ["groups", "export", "--format", "xlsx", "--out", str(path)] + (["--include-contact"] if contact else [])
        assert invoke(env, *args).exit_code == 0
        sheet = load_workbook(path)["applications"]
        rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
        assert rows[0] == COLUMNS.split(",") + (["name", "email"] if contact else [])
        assert len(rows) == 7 and rows[1][6] == "otwartosc,aktywnosc"
    assert [d["include_contact"] for _, d in audit_entries(env)] == [False, True]


def test_exclude_and_include_by_reference_with_the_audit_log(env: dict[str, str]) -> None:
    seed(env)
    excluded = invoke(env, "groups", "exclude", "z-2", "--reason", "  younger   than 16 ")
    assert excluded.exit_code == 0 and excluded.output == "Excluded Z-2: younger than 16\n"
    assert "excluded 1" in invoke(env, "groups", "status").output
    included = invoke(env, "groups", "include", "Z-2")
    assert included.exit_code == 0 and included.output == "Included Z-2.\n"
    assert audit_entries(env) == [
        ("application_exclude", {"application": "Z-2", "was_excluded": False, "reason": "younger than 16"}),
        ("application_include", {"application": "Z-2", "was_excluded": True}),
    ]


def test_an_unknown_reference_or_no_reason_is_one_line_and_a_failing_status(env: dict[str, str]) -> None:
    seed(env)
    unknown = invoke(env, "groups", "include", "Z-99")
    assert unknown.exit_code == 1
    assert unknown.output == "Error: no application 'Z-99' (references look like Z-12; see `wspolnota groups export`)\n"
    assert invoke(env, "groups", "exclude", "anna", "--reason", "x").exit_code == 1
    assert invoke(env, "groups", "exclude", "Z-1").exit_code == 2  # --reason is required
    assert invoke(env, "groups", "exclude", "Z-1", "--reason", " ").exit_code == 2
    assert audit_entries(env) == []


@pytest.mark.parametrize(
    "args", [["status"], ["export"], ["exclude", "Z-1", "--reason", "x"], ["include", "Z-1"]], ids=lambda a: a[0]
)
def test_without_a_call_the_working_groups_are_off_and_every_command_says_so(tmp_path: Path, args: list[str]) -> None:
    env = service_environment(tmp_path / "data", WSPOLNOTA_CONFIG_DIR=str(TEST_CONFIG))
    result = invoke(env, "groups", *args)
    assert result.exit_code == 1
    assert re.fullmatch(
        r"Error: the working groups are off: there is no \S+recruitment\.yaml \(see docs/working-groups\.md\)\n",
        result.output,
    )
    assert not (tmp_path / "data" / "wspolnota.db").exists()  # refused before the database is touched


def test_forget_and_purge_take_the_applications_too(env: dict[str, str]) -> None:
    seed(env)
    forgotten = invoke(env, "forget", "--email", "ANNA@example.org", "--yes")
    # Anna's Telegram application gave this address: it goes, though she never emailed.
    assert forgotten.exit_code == 0 and "1 working-group application." in forgotten.output
    purged = invoke(env, "purge", "--older-than", "1d", "--yes")
    assert "5 applications" in purged.output

    async def left() -> int:
        async with open_service(load_settings(env, env_file=None)) as service:
            return await count(service.store, Application)

    assert asyncio.run(left()) == 0


def test_staff_stats_show_the_applications_when_there_is_a_call(env: dict[str, str]) -> None:
    seed(env)

    async def stats() -> str:
        async with open_service(load_settings(env, env_file=None)) as service:
            return await service.staff.stats()  # what Telegram's /stats shows

    text = asyncio.run(stats())  # in staff's language: Polish unless WSPOLNOTA_STAFF_LANGUAGE says en
    assert (
        "Grupy robocze\nZgłoszenia: 6 (kompletne: 4, niekompletne: 1, wycofane: 1); spóźnione: 1, wykluczone: 0" in text
    )
    assert "  otwartosc: w losowaniu: 3 · miejsca: 24 · na miejsce: 0,12" in text
    assert "możliwe duplikaty: 1" in text
    cli = invoke(env, "stats")
    assert cli.exit_code == 0 and "Grupy robocze\nZgłoszenia: 6" in cli.output
    english = invoke({**env, "WSPOLNOTA_STAFF_LANGUAGE": "en"}, "stats")
    assert (
        "Working groups\nApplications: 6 (complete 4, incomplete 1, withdrawn 1); late 1, excluded 0" in english.output
    )
    assert "  otwartosc: 3 for 24 seats (0.12 per seat)" in english.output
