"""Analysis-ready exports on the golden dataset: SPSS and Stata read back with pyreadstat (labels, numbered
choices, declared missing values, Warsaw times), XLSX dates, text and codebook sheet, CSV for Excel or for
analysis, the long layout's status, and the codebook in CSV, XLSX and Markdown."""

from __future__ import annotations

import asyncio
import csv
import io
import math
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pyreadstat
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from bot.cli import main
from bot.service import open_service
from bot.settings import load_settings
from tests.support import TEST_CONFIG, service_environment
from tests.support.extras import require_tool
from tests.support.population import PLANTED, POPULATION_YAML, plant
from tests.unit.test_export_golden import seed

PARTICIPATION = {
    1: "Nigdy",
    2: "Rzadko – raz w roku lub rzadziej",
    3: "Czasem – kilka razy w roku",
    4: "Często – co miesiąc lub częściej",
}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = service_environment(tmp_path / "data", WSPOLNOTA_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/t.db")
    asyncio.run(seed(env))
    return env


@pytest.fixture
def any_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """The golden dataset on SQLite and on PostgreSQL."""
    env = service_environment(tmp_path / "data", WSPOLNOTA_DATABASE_URL=database_url)
    asyncio.run(seed(env))
    return env


def invoke(env: dict[str, str], *args: str) -> Any:
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result


def by_stand(frame: Any) -> dict[str, dict[str, Any]]:
    return {row["stand"]: row for row in frame.to_dict("records")}


def same(got: Any, expected: Any) -> bool:
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(got, float) and math.isnan(got)
    return bool(got == expected)


def test_spss_has_labels_numbered_choices_and_declared_missing_values(any_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "all.sav"
    assert "Exported 5 rows" in invoke(any_env, "export", "--format", "sav", "--out", str(out)).output
    frame, meta = pyreadstat.read_sav(out, user_missing=True)
    rows = by_stand(frame)
    assert list(rows) == ["s1", "s2", "s3", "s4", "s5"]
    nan = float("nan")
    expected = {  # -1 skipped, -2 not shown (its show-if did not hold), -3 unfinished, NaN never recorded
        "s1": {"district": 17, "values__trust": 1, "values__openness": 1, "values__mutual_help": 0, "connection": 5,
               "quote_consent": 1, "participation": nan, "no_quote_reason": -2, "outside_warsaw_where": ""},
        "s3": {"district": 4, "values__trust": 1, "values__other": 1, "values__text": "=SUM(A1)", "connection": 3,
               "quote_consent": nan, "no_quote_reason": -2, "community_meaning": ""},
        "s4": {"district": 17, "values__trust": -1, "values__other": -1, "connection": 2, "participation": -3,
               "quote_consent": -3, "no_quote_reason": -3, "grassroots_example": "", "community_meaning": "",
               "outside_warsaw_where": ""},
        "s5": {"district": 11, "values__openness": 1, "values__mutual_help": 1, "connection": 1},
    }  # fmt: skip
    for stand, values in expected.items():
        got = {code: rows[stand][code] for code in values}
        assert all(same(got[code], value) for code, value in values.items()), (stand, got)
    assert "email" not in frame.columns  # contact data only when asked for
    assert rows["s1"]["community_meaning"] == "Sąsiedzi pomagają sobie."
    assert rows["s3"]["started_at"] == datetime(2026, 5, 20, 12, 0)  # 10:00 UTC in Warsaw's summer time
    assert rows["s1"]["event_known"] == 1 and rows["s3"]["event_known"] == 0
    labels = meta.column_names_to_labels
    assert labels["district"] == "W której dzielnicy mieszkasz?"
    assert labels["started_at"] == "Rozpoczęto (czas warszawski)"
    assert labels["values__trust"].endswith(": Zaufanie")
    values = meta.variable_value_labels
    assert {n: values["participation"][n] for n in (1, 2, 3, 4)} == PARTICIPATION  # questionnaire order
    assert values["participation"][-1] == "pominięte" and values["participation"][-3] == "nie dokończono"
    assert values["quote_consent"][1] == "tak" and values["quote_consent"][0] == "nie"
    assert values["values__trust"][1] == "wybrano" and values["values__trust"][0] == "nie wybrano"
    assert values["connection"][1] == "Nie czuję żadnej więzi" and values["connection"][5] == "Czuję bardzo silną więź"
    declared = [(r["lo"], r["hi"]) for r in meta.missing_ranges["participation"]]
    assert declared == [(-1, -1), (-2, -2), (-3, -3)]
    assert "community_meaning" not in meta.missing_ranges  # a text's missing answer is empty
    assert meta.variable_measure["participation"] == "nominal" and meta.variable_measure["connection"] == "ordinal"
    # Read as most tools do, the declared missing values are missing
    plain = by_stand(pyreadstat.read_sav(out)[0])
    assert math.isnan(plain["s4"]["participation"]) and math.isnan(plain["s4"]["values__trust"])
    assert plain["s4"]["connection"] == 2


def test_spss_labels_in_another_language(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "en.sav"
    invoke(env, "export", "--format", "sav", "--labels", "uk", "--out", str(out))
    _, meta = pyreadstat.read_sav(out, metadataonly=True)
    assert meta.column_names_to_labels["district"] == "У якому районі ви живете?"
    assert meta.variable_value_labels["participation"][1] == "Ніколи"


def test_stata_has_labels_and_extended_missing_values(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "all.dta"
    invoke(env, "export", "--format", "dta", "--labels", "en", "--out", str(out), "--include-contact")
    frame, meta = pyreadstat.read_dta(out, user_missing=True)
    rows = by_stand(frame)
    assert rows["s4"]["values__trust"] == "a"  # .a skipped
    assert rows["s4"]["participation"] == "c"  # .c unfinished
    assert rows["s1"]["no_quote_reason"] == "b"  # .b not shown
    assert rows["s1"]["participation"] is None or math.isnan(rows["s1"]["participation"])  # never recorded
    assert rows["s1"]["district"] == 17 and rows["s5"]["email"] == "x@example.pl"
    assert rows["s4"]["community_meaning"] == ""  # Stata strings have no missing values
    assert rows["s3"]["started_at"] == datetime(2026, 5, 20, 12, 0)
    assert meta.missing_user_values["values__trust"] == ["a"]  # the extended missing values the data holds
    assert meta.variable_value_labels["participation"]["a"] == "skipped"
    assert meta.variable_value_labels["participation"]["c"] == "unfinished (not reached)"
    assert meta.column_names_to_labels["district"] == "Which district do you live in?"
    assert meta.variable_value_labels["participation"][4] == "Often – every month or more"
    assert all(len(name) <= 32 for name in frame.columns)  # Stata's limit
    assert {"contact_consent__report", "contact_consent__2"} <= set(frame.columns)  # 2: contact_consent__working_groups
    assert meta.column_names_to_labels["started_at"] == "Started (Europe/Warsaw)"
    plain = by_stand(pyreadstat.read_dta(out)[0])
    assert math.isnan(plain["s4"]["participation"]) and plain["s4"]["connection"] == 2


def test_statistical_formats_need_a_file_and_the_wide_layout(env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    no_file = runner.invoke(main, ["export", "--format", "sav"], env=env)
    assert no_file.exit_code == 2 and "SAV needs --out FILE" in no_file.output
    long = runner.invoke(
        main, ["export", "--format", "dta", "--layout", "long", "-o", str(tmp_path / "x.dta")], env=env
    )
    assert long.exit_code == 2 and "wide layout" in long.output
    assert not (tmp_path / "x.dta").exists()


def test_xlsx_has_warsaw_dates_text_as_text_fitting_widths_and_a_codebook(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "all.xlsx"
    invoke(env, "export", "--format", "xlsx", "--out", str(out))
    book = load_workbook(out)
    assert book.sheetnames == ["submissions", "codebook"]
    sheet = book["submissions"]
    header = [cell.value for cell in sheet[1]]
    rows = {row[header.index("stand")].value: dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2)}
    started = rows["s3"]["started_at"]
    assert started.is_date and started.value == datetime(2026, 5, 20, 12, 0)
    assert rows["s4"]["finished_at"].value is None
    other = rows["s3"]["values__text"]
    assert other.value == "=SUM(A1)" and other.data_type == "s"  # stored as text, never a formula
    assert rows["s2"]["community_meaning"].value == "+48 dzwońcie"  # no ' inside the data
    assert rows["s1"]["event_known"].value == 1 and rows["s3"]["assisted"].value == 0  # 1/0, not TRUE/FALSE
    widths = {
        name: sheet.column_dimensions[cell.column_letter].width for name, cell in zip(header, sheet[1], strict=True)
    }
    assert widths["respondent"] >= 18 and widths["community_meaning"] >= len("Sąsiedzi pomagają sobie.") + 2
    assert widths["event_known"] < widths["community_meaning"] <= 60
    assert sheet.auto_filter.ref == f"A1:{sheet[1][-1].column_letter}6"
    codebook = list(book["codebook"].iter_rows(values_only=True))
    assert codebook[0][:4] == ("variable", "question", "position", "type")
    assert ("participation", "participation", None, None, 4, "often") in [row[:6] for row in codebook]
    long = tmp_path / "long.xlsx"
    invoke(env, "export", "--format", "xlsx", "--layout", "long", "--out", str(long))
    assert load_workbook(long).sheetnames == ["answers", "codebook"]


def test_csv_for_excel_or_for_analysis(env: dict[str, str], tmp_path: Path) -> None:
    excel, analysis = tmp_path / "excel.csv", tmp_path / "analysis.csv"
    invoke(env, "export", "--out", str(excel))
    invoke(env, "export", "--for", "analysis", "--out", str(analysis))
    assert excel.read_bytes().startswith(b"\xef\xbb\xbf") and not analysis.read_bytes().startswith(b"\xef\xbb\xbf")
    for path, meaning, other in ((excel, "'+48 dzwońcie", "'=SUM(A1)"), (analysis, "+48 dzwońcie", "=SUM(A1)")):
        rows = {row["stand"]: row for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")))}
        assert rows["s2"]["community_meaning"] == meaning and rows["s3"]["values__text"] == other
        assert (rows["s1"]["event_known"], rows["s3"]["event_known"], rows["s1"]["assisted"]) == ("1", "0", "0")


def test_long_layout_has_status_times_and_skipped(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "long.csv"
    invoke(env, "export", "--layout", "long", "--for", "analysis", "--out", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    s4 = [row for row in rows if row["stand"] == "s4"]
    assert {row["status"] for row in s4} == {"active"} and {row["finished_at"] for row in s4} == {""}
    assert [(row["question"], row["skipped"]) for row in s4 if row["skipped"] == "1"] == [("values", "1")]
    assert {row["status"] for row in rows if row["stand"] == "s1"} == {"completed"}


def test_codebook_in_three_formats(env: dict[str, str], tmp_path: Path) -> None:
    markdown = invoke(env, "codebook").output
    assert "# Codebook: " in markdown and "(sasiedztwo, version 1)" in markdown
    assert "| -1 | -1 | .a | skipped (pominięte) |" in markdown
    assert "## 5. `participation` (single_choice)" in markdown
    assert "| 4 | `often` | Często – co miesiąc lub częściej | Often – every month or more |" in markdown
    assert "- uk: Як часто ви берете участь у місцевих ініціативах?" in markdown
    assert "- shown if: quote_consent answered and quote_consent not equals yes" in markdown
    assert "`values__grassroots`" in markdown and "`email`" not in markdown
    assert "- choices: 1 to 3" in markdown and "- scale: 1 to 5" in markdown

    out = tmp_path / "codebook.csv"
    invoke(env, "codebook", "--format", "csv", "--out", str(out), "--include-contact")
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    participation = [row for row in rows if row["variable"] == "participation"]
    assert participation[0]["label_en"] == "How often do you take part in local initiatives?"
    assert participation[0]["missing"] == "-1 = skipped; -2 = not shown (show-if); -3 = unfinished (not reached)"
    assert [(row["value"], row["code"]) for row in participation[1:]] == [
        ("1", "never"),
        ("2", "rarely"),
        ("3", "sometimes"),
        ("4", "often"),
    ]
    assert [row["label_pl"] for row in participation[1:]] == list(PARTICIPATION.values())
    email = next(row for row in rows if row["variable"] == "email")
    assert email["show_if"] == "contact_consent answered" and email["type"] == "email"

    book = tmp_path / "codebook.xlsx"
    invoke(env, "codebook", "--format", "xlsx", "--out", str(book), "--include-contact")
    sheet = list(load_workbook(book)["codebook"].iter_rows(values_only=True))
    as_text = [["" if cell is None else str(cell) for cell in row] for row in sheet[1:]]
    assert as_text == [[row[column] for column in sheet[0]] for row in rows]

    unknown = CliRunner().invoke(main, ["codebook", "-q", "nope"], env=env)
    assert unknown.exit_code == 1 and "Error: --questionnaire: no such questionnaire 'nope'" in unknown.output
    assert "Traceback" not in unknown.output


@pytest.mark.parametrize(("language", "yes"), [("pl", "tak"), ("en", "yes"), ("uk", "так")])
def test_yes_and_no_labelled_in_each_language(env: dict[str, str], tmp_path: Path, language: str, yes: str) -> None:
    out = tmp_path / "labelled.csv"
    invoke(env, "export", "--labels", language, "--out", str(out))
    rows = {row["stand"]: row for row in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig")))}
    assert rows["s1"]["quote_consent"] == yes


def test_pspp_opens_the_sav_with_its_labels_and_missing_values(env: dict[str, str], tmp_path: Path) -> None:
    pspp = require_tool("pspp", "pspp")
    out = tmp_path / "all.sav"
    invoke(env, "export", "--format", "sav", "--out", str(out))
    syntax = tmp_path / "read.sps"
    syntax.write_text(
        f"GET FILE='{out}'.\nDISPLAY DICTIONARY /VARIABLES=participation community_meaning started_at.\n"
        "FREQUENCIES /VARIABLES=participation values__trust.\n"
        "LIST /VARIABLES=stand started_at.\n",
        encoding="utf-8",
    )
    done = subprocess.run([pspp, "-O", "format=csv", str(syntax)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "warning" not in done.stdout.lower() and not done.stderr.strip(), done.stdout
    lines = done.stdout.splitlines()
    assert any(
        line.endswith(
            ",Jak często bierzesz udział w lokalnych inicjatywach?,Nominal,Input,8,Right,F8.0,F8.0,-1; -2; -3"
        )
        for line in lines
    )
    assert {
        ",1,Nigdy",
        ",4,Często – co miesiąc lub częściej",
        ",-1[a],pominięte",
        ",-2[a],nie pokazano (warunek)",
    } <= set(lines)
    assert ",nie dokończono,1,20.0%" in lines  # participation: s4 stopped before it; the others never answered it
    assert "Valid,nie wybrano,1,20.0%,25.0%,25.0%" in lines and "Missing,pominięte,1,20.0%,," in lines  # values__trust
    assert "s3,20-MAY-2026 12:00:00" in lines  # Warsaw time


def test_weights_join_the_exports(tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    shutil.copytree(TEST_CONFIG, config_dir)
    env = service_environment(tmp_path / "data", WSPOLNOTA_CONFIG_DIR=str(config_dir))
    refused = CliRunner().invoke(main, ["export", "--weights", "--out", str(tmp_path / "w.csv")], env=env)
    assert refused.exit_code == 1 and "Error: --weights: no residents' figures in" in refused.output
    assert not (tmp_path / "w.csv").exists()

    (config_dir / "population.yaml").write_text(POPULATION_YAML, encoding="utf-8")

    async def planted() -> None:
        async with open_service(load_settings(env, env_file=None)) as service:
            await plant(service, PLANTED)

    asyncio.run(planted())
    weights_csv, export_csv, sav = tmp_path / "weights.csv", tmp_path / "all.csv", tmp_path / "all.sav"
    invoke(env, "weights", "--out", str(weights_csv))
    expected = {
        row["submission"]: row["weight"] for row in csv.DictReader(io.StringIO(weights_csv.read_text("utf-8-sig")))
    }
    invoke(env, "export", "--weights", "--for", "analysis", "--out", str(export_csv))
    rows = list(csv.DictReader(io.StringIO(export_csv.read_text(encoding="utf-8"))))
    assert len(rows) == len(expected) and list(rows[0])[-1] == "weight"
    for row in rows:
        assert (float(row["weight"]) if row["weight"] else None) == (
            pytest.approx(float(expected[row["submission"]]), abs=1e-6) if expected[row["submission"]] else None
        )
    invoke(env, "export", "--weights", "--format", "sav", "--out", str(sav))
    frame, meta = pyreadstat.read_sav(sav)
    assert meta.column_names_to_labels["weight"] == "Waga: raking do mieszkańców Warszawy (średnio 1)"
    assert frame["weight"].mean() == pytest.approx(1, abs=1e-5)
