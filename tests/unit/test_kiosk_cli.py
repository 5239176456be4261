"""Staff commands for ballot stuffing: stands' kiosk links, and flagged submissions left out of exports and the report."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from bot.service import open_service
from handlers.web.kiosks import KioskRegistry
from storage.models import Respondent, Submission
from tests.support import QUESTIONNAIRE, make_settings, service_environment


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return service_environment(tmp_path / "data")


def invoke(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def known_kiosk(env: dict[str, str], token: str) -> str | None:
    """The kiosk the web chat would make of a link with this token."""

    async def look() -> str | None:
        async with open_service(make_settings(Path(env["WSPOLNOTA_DATA_DIR"]))) as service:
            registry = KioskRegistry(service.read_kiosks, {}, lambda: 0.0)
            await registry.refresh()
            return registry.name_of(token)

    return asyncio.run(look())


def test_kiosk_add_prints_a_link_that_makes_a_tablet_a_kiosk_until_removed(env: dict[str, str]) -> None:
    added = invoke(env, "kiosk", "add", "--name", "wola-1", "--event", "dzien-sasiada-wola", "--web", "https://a.pl/")
    assert added.exit_code == 0, added.output
    link = urlsplit(added.output.strip())
    query = parse_qs(link.query)
    assert (link.scheme, link.netloc, query["event"]) == ("https", "a.pl", ["dzien-sasiada-wola"])
    [token] = query["kiosk"]
    assert len(token) >= 16 and known_kiosk(env, token) == "wola-1"
    assert known_kiosk(env, "1") is None  # `?kiosk=1` is no kiosk
    listed = invoke(env, "kiosk", "list")
    assert "wola-1  added " in listed.output and token not in listed.output
    again = invoke(env, "kiosk", "add", "--name", "wola-1")
    assert again.exit_code == 1 and "exists already" in again.output and "Traceback" not in again.output
    assert invoke(env, "kiosk", "add", "--name", "Wola 1!").exit_code == 2
    assert invoke(env, "kiosk", "remove", "wola-1").exit_code == 0
    assert known_kiosk(env, token) is None
    missing = invoke(env, "kiosk", "remove", "wola-1")
    assert missing.exit_code == 1 and "no kiosk named 'wola-1'" in missing.output


def test_kiosk_list_names_the_configured_tokens_without_showing_them(env: dict[str, str]) -> None:
    token = "t" * 20
    listed = invoke({**env, "WSPOLNOTA_WEB_KIOSK_TOKENS": f"mokotow-2={token}"}, "kiosk", "list")
    assert listed.exit_code == 0 and "mokotow-2  (WSPOLNOTA_WEB_KIOSK_TOKENS)" in listed.output
    assert token not in listed.output


def seed_one_flagged(env: dict[str, str]) -> None:
    async def seed() -> None:
        settings = make_settings(Path(env["WSPOLNOTA_DATA_DIR"]))
        at = datetime(2026, 5, 30, 10, tzinfo=UTC)
        async with open_service(settings) as service, service.store.unit() as unit:
            for n, flag in enumerate([None, "burst"]):
                respondent = Respondent(channel="web", pseudonym=f"p{n}" * 16, created_at=at)
                unit.add(respondent)
                await unit.flush()
                unit.add(
                    Submission(
                        respondent_id=respondent.id,
                        questionnaire_id=QUESTIONNAIRE,
                        questionnaire_version=1,
                        channel="web",
                        event_known=False,
                        language="pl",
                        status="completed",
                        step="done",
                        flag=flag,
                        client="a1b2c3d4e5f6" if flag else None,
                        started_at=at,
                        updated_at=at,
                        finished_at=at,
                        answers={},
                    )
                )

    asyncio.run(seed())


def test_flagged_submissions_are_a_column_and_the_filter_leaves_them_out(env: dict[str, str], tmp_path: Path) -> None:
    seed_one_flagged(env)
    everything = invoke(env, "export", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(everything.stdout.lstrip("\ufeff"))))
    assert [(row["flagged"], row["flagged_from"]) for row in rows] == [("", ""), ("burst", "a1b2c3d4e5f6")]
    honest = invoke(env, "export", "--format", "csv", "--exclude-flagged")
    assert [row["flagged"] for row in csv.DictReader(io.StringIO(honest.stdout.lstrip("\ufeff")))] == [""]
    out = tmp_path / "report.html"
    report = invoke(env, "report", "--exclude-flagged", "--out", str(out))
    assert report.exit_code == 0 and "(1 submission)" in report.output
    html = out.read_text(encoding="utf-8")
    assert "Oznaczone jako podejrzane: <b>1</b>" in html and "pominięte w tym raporcie" in html
    invoke(env, "report", "--out", str(out))
    assert "ujęte w tym raporcie" in out.read_text(encoding="utf-8")
