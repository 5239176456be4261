"""`wspolnota groups select|notify|replace|report|roster|attended|cancel-meeting` run as staff would: a seed of 0
refused, a dry run storing nothing, the draw standing once its decisions are out, the status's warning before
the decision date, the public report without personal data, the sign-in sheet and attendance."""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from bot.service import open_service
from bot.settings import load_settings
from handlers.definitions.recruitment import WARSAW
from storage.applications import ApplicationFields
from tests.support import SHIPPED_CONFIG, service_environment
from tests.support.applicants import record_applicant
from tests.support.extras import require_selection

require_selection()

SECTORS = ["ngo", "informal", "resident", "district_office", "city_institution", "city_hall"]


def env_with_decisions_on(tmp_path: Path, decision_date: date) -> dict[str, str]:
    """The programme's call with its deadline passed and its decision date on the given day (staff's commands
    keep the real clock)."""
    config = tmp_path / "config"
    shutil.copytree(SHIPPED_CONFIG, config)
    recruitment = config / "recruitment.yaml"
    deadline = decision_date - timedelta(days=7)
    recruitment.write_text(
        recruitment.read_text(encoding="utf-8")
        .replace("opens: 2027-09-01T00:00:00+02:00", f"opens: {deadline - timedelta(days=30)}T00:00:00+00:00")
        .replace("deadline: 2027-09-30T23:59:59+02:00", f"deadline: {deadline}T23:59:59+00:00")
        .replace("decision_date: 2027-10-08", f"decision_date: {decision_date}")
    )
    return service_environment(tmp_path / "data", WSPOLNOTA_CONFIG_DIR=str(config))


def invoke(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def seed(env: dict[str, str], count: int, *, skewed: bool = False) -> None:
    """`count` complete applications on time, sectors in turn, each for one group in turn (by six: every group
    gets every sector; `skewed`: one by one, so each group gets two sectors only)."""

    async def go() -> None:
        async with open_service(load_settings(env, env_file=None)) as service:
            call = service.config.recruitment
            assert call is not None
            at = call.deadline - timedelta(days=1)
            async with service.store.unit() as unit:
                for n in range(count):
                    fields = ApplicationFields(
                        name=f"Osoba {n}",
                        email=f"osoba{n}@example.pl",
                        organisation=f"Organizacja {n}",
                        sector=SECTORS[n % len(SECTORS)],
                        groups=(call.groups[(n if skewed else n // 6) % 3].code,),
                        available=True,
                    )
                    await record_applicant(unit, f"p{n}", fields, at)

    asyncio.run(go())


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return env_with_decisions_on(tmp_path, datetime.now(WARSAW).date() + timedelta(days=2))  # the city's days


def test_a_seed_of_zero_is_refused(env: dict[str, str]) -> None:
    result = invoke(env, "groups", "select", "--seed", "0")
    assert result.exit_code == 2 and "not reproducible" in result.output


def test_quotas_that_cannot_be_met_are_named_with_what_staff_could_relax(env: dict[str, str]) -> None:
    seed(env, 90, skewed=True)
    result = invoke(env, "groups", "select", "--seed", "3")
    assert result.exit_code == 1
    assert "group otwartosc: the quotas cannot be met: informal: at least 3 seats, but only 0" in result.output
    assert "lower informal's min from 3 to 0 in config/recruitment.yaml" in result.output
    assert "there is no draw yet" in invoke(env, "groups", "report").output


def test_draw_notify_and_the_draw_then_stands(env: dict[str, str], tmp_path: Path) -> None:
    seed(env, 90)  # 30 a group, 5 of each sector: more than 24 seats, quotas within reach
    status = invoke(env, "groups", "status")
    assert status.exit_code == 0, status.output
    assert "WARNING: every applicant must hear back by" in status.output and "in 2 days" in status.output

    dry = invoke(env, "groups", "select", "--seed", "11", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Dry run: nothing stored." in dry.output and "otwartosc: 24 of 24 seats from a pool of 30" in dry.output
    assert "there is no draw yet" in invoke(env, "groups", "report").output

    drawn = invoke(env, "groups", "select", "--seed", "11")
    assert drawn.exit_code == 0 and "Stored." in drawn.output
    assert (
        drawn.output.replace("Stored.", "Dry run: nothing stored.").split("\n\n")[:-1] == dry.output.split("\n\n")[:-1]
    )
    report = invoke(env, "groups", "report", "--format", "html")
    assert report.exit_code == 0 and "--seed 11" in report.output
    assert "Osoba" not in report.output and "@example.pl" not in report.output and "Z-" not in report.output

    assert "90 applicants" in invoke(env, "groups", "notify").output
    refused = invoke(env, "groups", "select", "--seed", "12")
    assert refused.exit_code == 1 and "stands" in refused.output
    status = invoke(env, "groups", "status").output
    assert "WARNING" not in status and "otwartosc: 24 of 24 seats held (0 confirmed, 24 waiting), 0 freed" in status

    lines = invoke(env, "groups", "export", "--format", "jsonl").output.splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert sorted({r["decision"] for r in records}) == ["reserve", "selected"]  # 6 a group left: all on the reserve
    assert sum(r["decision"] == "selected" for r in records) == 72
    assert all(0 < r["probability"] <= 1 for r in records)
    assert {r["reserve_rank"] for r in records if r["decision"] == "reserve"} == set(range(1, 7))

    roster = tmp_path / "lista.pdf"
    written = invoke(env, "groups", "roster", "otwartosc", "--out", str(roster))
    assert written.exit_code == 0 and "24 people" in written.output and roster.read_bytes().startswith(b"%PDF")
    selected = [r["application"] for r in records if r["group"] == "otwartosc"]
    attended = invoke(env, "groups", "attended", "grupa-1-spotkanie-1-2027-10-25", *selected[:20])
    assert attended.exit_code == 0 and "Recorded 20 people" in attended.output
    assert "no application Z-999" in invoke(env, "groups", "attended", "spotkanie-podsumowujace", "Z-999").output

    replaced = invoke(env, "groups", "replace")
    assert replaced.exit_code == 0 and "otwartosc: freed none; offered to none" in replaced.output
    assert (
        "not marked `optional: true`"
        in invoke(env, "groups", "cancel-meeting", "grupa-1-spotkanie-1-2027-10-25").output
    )
    cancelled = invoke(env, "groups", "cancel-meeting", "grupa-1-spotkanie-3-2027-11-22")
    assert cancelled.exit_code == 0 and "for 24 people" in cancelled.output


def test_without_the_selection_extra_the_draw_says_how_to_install_it(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from selection.model import SelectionUnavailable

    def missing(*args: object, **kwargs: object) -> None:
        raise SelectionUnavailable("No module named 'sortition_algorithms'")

    monkeypatch.setattr("selection.draw.draw", missing)
    result = invoke(env, "groups", "select", "--seed", "5")
    assert result.exit_code == 1 and 'pip install -e ".[selection]"' in result.output
    assert "Traceback" not in result.output
