"""The staff command line, run as staff would: scripted chat, check, migrations, export."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from tests.support import QUESTIONNAIRE, SHIPPED_CONFIG, TEST_CONFIG


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "WSPOLNOTA_DATA_DIR": str(tmp_path / "data"),
        "WSPOLNOTA_SECRET_KEY": "cli-secret-" + "x" * 32,
        "WSPOLNOTA_CONFIG_DIR": str(TEST_CONFIG),
    }


def invoke(env: dict[str, str], *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)


def test_every_command_has_help() -> None:
    def walk(command: click.Command, path: list[str]) -> None:
        assert command.help, f"`{' '.join(path)}` has no help text"
        result = CliRunner().invoke(main, [*path[1:], "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, [*path, name])

    walk(main, ["wspolnota"])


def test_check_passes_on_shipped_config(env: dict[str, str]) -> None:
    result = invoke({**env, "WSPOLNOTA_CONFIG_DIR": str(SHIPPED_CONFIG)}, "check")
    assert result.exit_code == 0, result.output
    assert "OK questionnaire " in result.output


def test_check_names_each_questionnaire_with_its_version_and_size(env: dict[str, str]) -> None:
    result = invoke(env, "check")
    assert result.exit_code == 0
    assert f"OK questionnaire {QUESTIONNAIRE} (version 1, 16 questions)" in result.output


def test_check_names_file_key_and_reason_without_traceback(env: dict[str, str], tmp_path: Path) -> None:
    import shutil

    config_dir = tmp_path / "config"
    shutil.copytree(TEST_CONFIG, config_dir)
    path = config_dir / "questionnaires" / f"{QUESTIONNAIRE}.yaml"
    path.write_text(path.read_text().replace("max_choices: 3", "max_choice: 3", 1))
    result = CliRunner().invoke(main, ["check"], env={**env, "WSPOLNOTA_CONFIG_DIR": str(config_dir)})
    assert result.exit_code == 1
    assert f"{path}: questions[values].max_choice: unknown key (a typo?)" in result.output
    assert "Traceback" not in result.output


def test_db_upgrade_is_repeatable(env: dict[str, str]) -> None:
    from alembic.script import ScriptDirectory

    from storage.db import MIGRATIONS

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert f"revision {head}." in invoke(env, "db", "upgrade").output
    assert f"revision {head}." in invoke(env, "db", "upgrade").output


def test_chat_stop_come_back_change_finish_export(env: dict[str, str], tmp_path: Path) -> None:
    # First visit: consent, two answers, then the terminal closes (end of input).
    first = invoke(env, "chat", "--event", "dzien-sasiada-wola", input="1\n7\nLudzie, którzy się znają.\n")
    assert first.exit_code == 0
    assert "[Pytanie 3 z 12]" in first.output
    # Later: resume at question 3, go back to change question 2, then finish.
    answers = [
        "2, 3",  # values
        "/back",
        "/back",  # back to question 2
        "Sąsiedzi, którzy sobie pomagają.",  # a changed answer
        "/done",  # values keep their picks
        "4",  # connection
        "3",  # participation
        "Podwórko",
        "/skip",
        "2",  # priority area
        "Zielono i gwarno",
        "/skip",
        "tak",
        "/done",  # no contact
        "13",  # the summary: 12 edit buttons, then confirm
    ]
    second = invoke(env, "chat", input="\n".join(answers) + "\n")
    assert second.exit_code == 0
    assert "Witamy z powrotem" in second.output
    assert "Dziękujemy!" in second.output

    out = tmp_path / "export.jsonl"
    result = invoke(env, "export", "--format", "jsonl", "--out", str(out))
    assert "Exported 1 row" in result.output
    [record] = [json.loads(line) for line in out.read_text().splitlines()]
    assert record["channel"] == "terminal"
    assert record["status"] == "completed"
    assert record["event"] == "dzien-sasiada-wola" and record["event_known"] is False
    assert record["answers"]["district"] == "praga_polnoc"
    assert record["answers"]["community_meaning"] == "Sąsiedzi, którzy sobie pomagają."
    assert record["answers"]["values"] == ["mutual_help", "trust"]
    assert record["answers"]["connection"] == 4
    assert record["answers"]["hinders"] is None  # skipped
    assert record["answers"]["quote_consent"] == "yes"
    assert "email" not in record["answers"]

    csv_out = tmp_path / "export.csv"
    invoke(env, "export", "--format", "csv", "--out", str(csv_out))
    raw = csv_out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM for Polish letters
    [row] = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert (row["values__mutual_help"], row["values__trust"], row["values__openness"]) == ("1", "1", "0")
    assert row["community_meaning"] == "Sąsiedzi, którzy sobie pomagają."
    assert "email" not in row


def test_export_to_stdout_and_formula_cells_neutralised(env: dict[str, str]) -> None:
    invoke(env, "chat", input='1\n1\n=HYPERLINK("http://x")\n')
    result = invoke(env, "export", "--format", "csv")
    assert "'=HYPERLINK" in result.output
    jsonl = invoke(env, "export", "--format", "jsonl")
    assert json.loads(jsonl.output.splitlines()[0])["answers"]["community_meaning"].startswith("=HYPERLINK")


def test_chat_in_english_and_unknown_questionnaire(env: dict[str, str]) -> None:
    result = invoke(env, "chat", "--lang", "en", "--respondent", "tom", input="1\n")
    assert "Question 1 of 12" in result.output
    missing = CliRunner().invoke(main, ["chat", "-q", "nope"], env=env, input="")
    assert missing.exit_code == 1 and "no such questionnaire" in missing.output


def test_run_with_every_channel_off_says_what_to_do(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["run"], env={**env, "WSPOLNOTA_WEB_ENABLED": "false"})
    assert result.exit_code == 0


def test_a_changed_structure_needs_a_new_version(env: dict[str, str], tmp_path: Path) -> None:
    import shutil

    config_dir = tmp_path / "config"
    shutil.copytree(TEST_CONFIG, config_dir)
    env = {**env, "WSPOLNOTA_CONFIG_DIR": str(config_dir)}
    assert invoke(env, "chat", input="1\n1\n").exit_code == 0  # answers stored under version 1
    path = config_dir / "questionnaires" / f"{QUESTIONNAIRE}.yaml"
    original = path.read_text()

    path.write_text(original.replace("Ile masz lat?", "W jakim jesteś wieku?"))  # wording: fine
    assert invoke(env, "chat", input="").exit_code == 0

    path.write_text(original.replace("code: bemowo", "code: bemowo_dzielnica"))  # a code: not without a version
    refused = CliRunner().invoke(main, ["chat"], env=env, input="")
    assert refused.exit_code == 1
    assert "raise `version` to 2" in refused.output
    assert "Traceback" not in refused.output

    path.write_text(original.replace("code: bemowo", "code: bemowo_dzielnica").replace("version: 1", "version: 2", 1))
    resumed = invoke(env, "chat", input="")
    assert resumed.exit_code == 0 and "Witamy z powrotem" in resumed.output


def test_events_with_deep_links(env: dict[str, str]) -> None:
    result = invoke(env, "events", "--bot", "wspolnota_bot")
    assert result.exit_code == 0
    assert "https://t.me/wspolnota_bot?start=spotkanie-konsultacyjne-2026-05-29" in result.output
    assert "Nowolipie 25b" in result.output
    # Staff see the working groups' meetings too, marked as not open to residents.
    assert result.output.count("(for selected participants only: not listed to residents)") == 4


def test_xlsx_long_layout_labels_filters_and_emails(env: dict[str, str], tmp_path: Path) -> None:
    from openpyxl import load_workbook

    invoke(env, "chat", "-e", "dzien-sasiada-wola", "-r", "a", input="1\n17\nSąsiedzi\n2, 9\n=HYPERLINK(1)\n")
    invoke(env, "chat", "-r", "b", input="1\n1\n")
    book_path = tmp_path / "out.xlsx"
    result = invoke(env, "export", "--format", "xlsx", "--out", str(book_path), "--labels", "pl")
    assert "Exported 2 rows" in result.output
    sheet = load_workbook(book_path).active
    rows = list(sheet.iter_rows(values_only=True))
    header, first = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert sheet.freeze_panes == "A2" and header[0] == "submission"
    assert first["district"] == "Wola" and first["values__mutual_help"] == 1 and first["values__trust"] == 0
    assert first["values__other"] == 1 and first["values__text"] == "=HYPERLINK(1)"  # a text cell, not a formula
    long_csv = tmp_path / "long.csv"
    invoke(env, "export", "--layout", "long", "--event", "dzien-sasiada-wola", "--out", str(long_csv))
    long_rows = list(csv.DictReader(io.StringIO(long_csv.read_text(encoding="utf-8-sig"))))
    assert {(r["question"], r["option"]) for r in long_rows} >= {
        ("district", "wola"),
        ("values", "mutual_help"),
        ("values", "other"),
    }
    assert any(r["value"] == "'=HYPERLINK(1)" for r in long_rows)  # an "other" text, neutralised
    assert all(r["event"] == "dzien-sasiada-wola" for r in long_rows)
    nothing = invoke(env, "export", "--since", "2099-01-01", "--out", str(tmp_path / "none.csv"))
    assert nothing.exit_code == 0 and "Warning: no submissions match these filters; no file written." in nothing.output
    assert not (tmp_path / "none.csv").exists()  # a warning, not an empty file someone sends on
    emails = invoke(env, "export", "--what", "emails", "--out", str(tmp_path / "emails.csv"))
    assert emails.exit_code == 0 and "Warning: no emails match" in emails.output


def test_posters_for_every_event(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "posters"
    result = invoke(env, "events", "--bot", "wspolnota_bot", "posters", "--out", str(out))
    assert result.exit_code == 0, result.output
    pdfs = sorted(out.glob("*.pdf"))
    assert (out / "all-codes.pdf") in pdfs and (out / "spotkanie-konsultacyjne-2026-05-29.pdf") in pdfs
    assert len(pdfs) == 12  # eleven events and the sheet
    assert all(path.read_bytes().startswith(b"%PDF") for path in pdfs)
    missing = CliRunner().invoke(main, ["events", "posters"], env=env)
    assert missing.exit_code != 0 and "--web URL" in missing.output


def test_posters_for_chosen_events_open_the_web_chat(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "web"
    chosen = [
        "dzien-sasiada-zoliborz-2026-05-30",
        "dzien-sasiada-targowek-2026-05-31",
        "spotkanie-konsultacyjne-2026-05-29",
    ]
    args = [arg for slug in chosen for arg in ("--event", slug)]
    result = invoke(env, "events", "--web", "https://ankieta.example.pl/", "posters", "--out", str(out), *args)
    assert result.exit_code == 0, result.output
    assert sorted(p.stem for p in out.glob("*.pdf")) == sorted([*chosen, "all-codes"])
    # Those without a phone can write: the mailbox on every poster and the stand's sheet (pdftotext reads it).
    for name in (chosen[0], "all-codes"):
        text = subprocess.run(["pdftotext", str(out / f"{name}.pdf"), "-"], capture_output=True, text=True, check=True)
        assert "Bez telefonu? Napisz: wspolnota@um.warszawa.pl" in text.stdout and "Без телефону" in text.stdout
    listing = invoke(env, "events", "--web", "https://ankieta.example.pl")
    assert "https://ankieta.example.pl/?event=dzien-sasiada-zoliborz-2026-05-30" in listing.output
    wrong = CliRunner().invoke(main, ["events", "--web", "https://x.pl", "posters", "--event", "nope"], env=env)
    assert wrong.exit_code != 0 and "no event nope" in wrong.output


def test_poster_qr_encodes_the_deep_link() -> None:
    import segno

    from reports.posters import _qr

    link = "https://t.me/wspolnota_bot?start=dzien-sasiada-wola"
    matrix = _qr(link)
    expected = segno.make(link, error="m", micro=False)
    assert matrix.shape == expected.symbol_size(scale=1, border=4)


def test_report_command_writes_html(env: dict[str, str], tmp_path: Path) -> None:
    invoke(env, "chat", input="1\n1\nSąsiedzi\n")
    out = tmp_path / "raport.html"
    result = invoke(env, "report", "--out", str(out), "--min-cell", "1")
    assert result.exit_code == 0 and "Wrote" in result.output
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "W której dzielnicy mieszkasz?" in html
