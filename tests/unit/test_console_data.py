"""The console's Data page (exports and the report, each download audited with the staff account) and
the audit log page, over HTTP without a browser."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from bs4 import BeautifulSoup

from bot.service import Service
from reports.staff import ExportChoice, start_export
from reports.tables import DATES, write_xlsx_rows
from storage.exports import SubmissionFilter
from tests.support import QUESTIONNAIRE
from tests.support.console import audit_entries, form_token, server, signed_in
from tests.support.report_data import PEOPLE, seed

FIELD, ANALYST, COORDINATOR = "teren@um.warszawa.pl", "analityk@um.warszawa.pl", "koordynator@um.warszawa.pl"
COMPLETED = sum(1 for who in PEOPLE if who["status"] == "completed")


@pytest.fixture
async def client(service: Service) -> AsyncIterator[TestClient[Any, Any]]:
    await seed(service)
    async with TestClient(server(service)) as test_client:
        yield test_client


async def test_a_field_account_may_not_see_the_data_page(client: TestClient[Any, Any], service: Service) -> None:
    _, csrf = await signed_in(client, service, FIELD, "field")
    assert (await client.get("/staff/data")).status == 403
    posted = await client.post("/staff/data/export", data={"csrf": csrf, "format": "xlsx"})
    assert posted.status == 403
    home = BeautifulSoup(await (await client.get("/staff/")).text(), "html.parser")
    links = {a["href"] for a in home.select("header a")}
    assert "/staff/data" not in links and "/staff/audit" not in links


async def test_an_analyst_downloads_exports_and_the_report_each_audited(
    client: TestClient[Any, Any], service: Service, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    account, _ = await signed_in(client, service, ANALYST, "analyst")
    page = await client.get("/staff/data")
    assert page.status == 200
    html = await page.text()
    soup = BeautifulSoup(html, "html.parser")
    csrf = form_token(html)
    assert {a["href"] for a in soup.select("header a")} >= {"/staff/", "/staff/data"}
    assert "/staff/audit" not in {a["href"] for a in soup.select("header a")}
    assert "include_contact" not in html and "kontakt" not in html.replace("Danych kontaktowych tu nie ma", "")

    filters = {"csrf": csrf, "questionnaire": QUESTIONNAIRE, "completed_only": "1"}
    xlsx = await client.post("/staff/data/export", data={**filters, "format": "xlsx"})
    assert xlsx.status == 200
    assert xlsx.headers["Content-Disposition"].startswith(f'attachment; filename="{QUESTIONNAIRE}-submissions-')
    got = tmp_path / "got.xlsx"
    got.write_bytes(await xlsx.read())
    # What the CLI's export writes with the same filters.
    questionnaire = service.config.questionnaires[QUESTIONNAIRE]
    expected = tmp_path / "expected.xlsx"
    started = await start_export(
        service.store,
        service.config.questionnaires,
        questionnaire,
        SubmissionFilter(QUESTIONNAIRE, completed_only=True),
        ExportChoice(fmt="xlsx"),
        actor="test",
        now=service.conversation.clock(),
    )
    await write_xlsx_rows(started.rows, expected, started.columns, sheet="submissions", dates=DATES | {"received_at"})
    rows = list(load_workbook(got)["submissions"].iter_rows(values_only=True))
    assert rows == list(load_workbook(expected)["submissions"].iter_rows(values_only=True))
    assert len(rows) == COMPLETED + 1 and rows[0][0] == "submission"
    assert "codebook" in load_workbook(got).sheetnames

    analysis = await client.post("/staff/data/export", data={**filters, "format": "csv_analysis"})
    assert analysis.status == 200 and analysis.headers["Content-Type"].startswith("text/csv")
    body = await analysis.read()
    assert not body.startswith(b"\xef\xbb\xbf")  # no BOM for R and pandas
    table = list(csv.DictReader(io.StringIO(body.decode("utf-8"))))
    assert len(table) == COMPLETED
    assert any(row["values__text"] == "Tajny tekst bez zgody" for row in table)  # as written, not neutralised

    sav = await client.post("/staff/data/export", data={**filters, "format": "sav"})
    assert sav.status == 200 and '.sav"' in sav.headers["Content-Disposition"]
    import pyreadstat

    (tmp_path / "got.sav").write_bytes(await sav.read())
    frame, meta = pyreadstat.read_sav(str(tmp_path / "got.sav"))
    assert len(frame) == COMPLETED and "district" in meta.column_names

    report = await client.post("/staff/data/report", data={**filters, "format": "html"})
    assert report.status == 200 and report.headers["Content-Type"].startswith("text/html")
    assert report.headers["Content-Disposition"].startswith(f'attachment; filename="{QUESTIONNAIRE}-report-')
    assert "<html" in (await report.text()).lower()

    empty = await client.post("/staff/data/export", data={**filters, "format": "xlsx", "since": "2099-01-01"})
    assert empty.status == 200 and "Content-Disposition" not in empty.headers
    assert "nie ma czego pobrać" in await empty.text()
    nothing = await client.post("/staff/data/report", data={**filters, "format": "html", "since": "2099-01-01"})
    assert nothing.status == 200 and "Content-Disposition" not in nothing.headers

    forged = await client.post("/staff/data/export", data={"format": "xlsx"})
    assert forged.status == 403
    wrong = await client.post("/staff/data/export", data={"csrf": csrf, "format": "xlsx", "since": "jutro"})
    assert wrong.status == 400 and "RRRR-MM-DD" in await wrong.text()

    mine = [e for e in await audit_entries(service) if e.actor == f"staff:{account}"]
    downloads = [(e.action, e.details.get("format")) for e in mine if e.action != "staff_sign_in"]
    assert downloads[:4] == [("export", "xlsx"), ("export", "csv"), ("export", "sav"), ("report", "html")]
    for entry in mine[1:5]:
        assert entry.details["via"] == "console" and "completed_only=True" in entry.details["filters"]
        assert entry.details.get("include_contact") in (None, False)


async def test_the_audit_log_page_is_for_coordinators(client: TestClient[Any, Any], service: Service) -> None:
    analyst, csrf = await signed_in(client, service, ANALYST, "analyst")
    await client.get("/staff/data")
    done = await client.post("/staff/data/export", data={"csrf": csrf, "format": "csv_excel"})
    assert done.status == 200
    assert (await client.get("/staff/audit")).status == 403

    await signed_in(client, service, COORDINATOR, "coordinator")
    page = await client.get("/staff/audit")
    assert page.status == 200
    soup = BeautifulSoup(await page.text(), "html.parser")
    assert "/staff/audit" in {a["href"] for a in soup.select("header a")}
    rows = [[cell.get_text(strip=True) for cell in tr.find_all("td")] for tr in soup.select("tbody tr")]
    assert rows[0][1:3] == [f"staff:{analyst + 1}", "staff_sign_in"]  # newest first: the coordinator's
    export = next(row for row in rows if row[2] == "export")
    assert export[1] == f"staff:{analyst}" and "via: console" in export[3] and "format: csv" in export[3]
    assert "Sąsiedzi" not in await page.text()  # the log holds filters, never data


async def test_the_audit_log_is_paginated(client: TestClient[Any, Any], service: Service) -> None:
    from storage.audit import audit

    for n in range(60):
        await audit(service.store, "cli:test", "export", {"n": n}, service.conversation.clock())
    await signed_in(client, service, COORDINATOR, "coordinator")
    first = BeautifulSoup(await (await client.get("/staff/audit")).text(), "html.parser")
    assert len(first.select("tbody tr")) == 50
    second = BeautifulSoup(await (await client.get("/staff/audit?page=2")).text(), "html.parser")
    assert len(second.select("tbody tr")) == 11  # 60 and the sign-in


async def test_the_report_downloads_as_a_pdf_printed_by_chromium(
    client: TestClient[Any, Any], service: Service
) -> None:
    from tests.support.chromium import chromium

    chromium()  # Debian's Chromium prints it (a missing browser fails under CI=true)
    account, csrf = await signed_in(client, service, ANALYST, "analyst")
    page = await client.get("/staff/data")
    assert 'value="pdf"' in await page.text()  # offered only when the server has a browser
    pdf = await client.post("/staff/data/report", data={"csrf": csrf, "questionnaire": QUESTIONNAIRE, "format": "pdf"})
    assert pdf.status == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert f'filename="{QUESTIONNAIRE}-report-' in pdf.headers["Content-Disposition"]
    assert (await pdf.read()).startswith(b"%PDF-")
    reports = [e for e in await audit_entries(service) if e.actor == f"staff:{account}" and e.action == "report"]
    assert [e.details["format"] for e in reports] == ["pdf"]
