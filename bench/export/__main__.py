"""Benchmark: exports and the report on a large SQLite database, beside plain sqlite3 as the floor.

Seeds 1,000,000 answers (and a 100,000-answer database, and 100,000 submissions for the report), then
measures in one run: CSV export vs `sqlite3 -csv` of the same rows (time ratio), peak memory of the
export at both sizes (flat?), XLSX time, SPSS .sav time and peak memory at both sizes, and the report.
Usage: `python -m bench.export [--answers 1000000] [--report-submissions 100000]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.service import open_service
from bot.settings import load_settings
from tests.support import REPOSITORY as ROOT

DISTRICTS = ["wola", "mokotow", "ursynow", "bielany", "praga_poludnie"]
TEXT = "Sąsiedzi, którzy się znają i pomagają sobie nawzajem na podwórku."
ROWS = [  # the shipped questionnaire's version 2, every question but the email answered
    ("district", '["{}"]', None, None),
    ("community_meaning", None, TEXT, None),
    ("values", '["trust", "cooperation"]', None, None),
    ("care", None, "Robimy zakupy starszej sąsiadce.", None),
    ("connection", None, None, 4),
    ("participation", '["sometimes"]', None, None),
    ("priority_area", '["belonging"]', None, None),
    ("support", None, TEXT, None),
    ("age_band", '["age_30_44"]', None, None),
    ("quote_consent", '["yes"]', None, None),
    ("contact_consent", "[]", None, None),
]


def seed(data: Path, answers: int) -> int:
    """Creates the schema through the service, then fills it directly; returns the submissions."""
    settings = load_settings(
        {"WSPOLNOTA_DATA_DIR": str(data), "WSPOLNOTA_SECRET_KEY": "bench-" + "x" * 32}, env_file=None
    )

    async def migrate() -> None:
        async with open_service(settings):
            pass

    asyncio.run(migrate())
    now = datetime(2026, 5, 30, tzinfo=UTC).replace(tzinfo=None).isoformat(sep=" ")
    submissions = answers // len(ROWS)
    connection = sqlite3.connect(data / "wspolnota.db")
    with connection:
        connection.executemany(
            "INSERT INTO respondent (id, channel, pseudonym, created_at) VALUES (?, 'telegram', ?, ?)",
            ((i, f"p{i:062d}", now) for i in range(1, submissions + 1)),
        )
        connection.executemany(
            "INSERT INTO submission (id, respondent_id, questionnaire_id, questionnaire_version, channel, event,"
            " event_known, language, privacy_version, status, step, editing, started_at, updated_at, finished_at)"
            " VALUES (?, ?, 'wizja-i-wartosci', 2, 'telegram', 'bench', 0, 'pl', '2026-05-01', 'completed',"
            " 'done', 0, ?, ?, ?)",
            ((i, i, now, now, now) for i in range(1, submissions + 1)),
        )
        connection.executemany(
            "INSERT INTO answer (submission_id, question_code, options, text, number, skipped, answered_at)"
            " VALUES (?, ?, ?, ?, ?, 0, ?)",
            (
                (s, code, options.format(DISTRICTS[s % 5]) if options else None, text, number, now)
                for s in range(1, submissions + 1)
                for code, options, text, number in ROWS
            ),
        )
    connection.close()
    return submissions


def measure(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Runs a command; returns wall seconds and its own peak memory in MB."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"{command[:4]} failed with status {status}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--report-submissions", type=int, default=100_000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="wspolnota-bench-export-"))
    sizes = {"100k": 100_000, "1M": args.answers}
    envs, subs = {}, {}
    for label, answers in {**sizes, "report": len(ROWS) * args.report_submissions}.items():
        data = root / label
        subs[label] = seed(data, answers)
        envs[label] = {**os.environ, "WSPOLNOTA_DATA_DIR": str(data), "WSPOLNOTA_SECRET_KEY": "bench-" + "x" * 32}
    wspolnota = [sys.executable, "-m", "bot"]
    print(f"\nseeded: {subs['100k']:,}, {subs['1M']:,} and {subs['report']:,} submissions ({len(ROWS)} answers each)")
    results = {}
    for label in sizes:
        out = root / f"{label}.csv"
        results[label] = measure([*wspolnota, "export", "--format", "csv", "--out", str(out)], envs[label])
    query = (
        "SELECT s.id, r.pseudonym, s.channel, s.event, s.language, s.started_at, s.finished_at,"
        " a.question_code, a.options, a.text, a.number FROM submission s JOIN respondent r ON r.id = s.respondent_id"
        " JOIN answer a ON a.submission_id = s.id ORDER BY s.id"
    )
    database = str(root / "1M" / "wspolnota.db")
    if shutil.which("sqlite3"):
        floor = measure(["sqlite3", "-csv", database, query], envs["1M"])
        floor_name = "sqlite3 -csv"
    else:
        rows = f"sqlite3.connect({database!r}).execute({query!r})"
        script = f"import csv,sqlite3,sys; csv.writer(sys.stdout).writerows({rows})"
        floor = measure([sys.executable, "-c", script], envs["1M"])
        floor_name = "python sqlite3 + csv (no sqlite3 CLI)"
    xlsx = measure([*wspolnota, "export", "--format", "xlsx", "--out", str(root / "100k.xlsx")], envs["100k"])
    sav = {  # pyreadstat writes one DataFrame: a row per submission is held (not per answer)
        label: measure([*wspolnota, "export", "--format", "sav", "--out", str(root / f"{label}.sav")], envs[label])
        for label in sizes
    }
    report = measure([*wspolnota, "report", "--out", str(root / "report.html")], envs["report"])
    print(f"\n{'':>34} {'seconds':>8} {'peak MB':>8}")
    print(f"{'CSV export, 100k answers':>34} {results['100k'][0]:>8.1f} {results['100k'][1]:>8.0f}")
    print(f"{'CSV export, 1M answers':>34} {results['1M'][0]:>8.1f} {results['1M'][1]:>8.0f}")
    print(f"{floor_name + ', 1M':>34} {floor[0]:>8.1f} {floor[1]:>8.0f}")
    print(f"{'XLSX export, 100k answers':>34} {xlsx[0]:>8.1f} {xlsx[1]:>8.0f}")
    print(f"{'SAV export, 100k answers':>34} {sav['100k'][0]:>8.1f} {sav['100k'][1]:>8.0f}")
    print(f"{'SAV export, 1M answers':>34} {sav['1M'][0]:>8.1f} {sav['1M'][1]:>8.0f}")
    report_label = f"report, {subs['report']:,} submissions"
    print(f"{report_label:>34} {report[0]:>8.1f} {report[1]:>8.0f}")
    print(
        f"\nCSV export / floor: {results['1M'][0] / floor[0]:.2f} (aim <= 2); peak memory 1M / 100k:"
        f" {results['1M'][1] / results['100k'][1]:.2f} (flat ~1; aim <= 200 MB); report aim <= 20 s"
    )
    print(
        f"SAV peak memory 1M / 100k: {sav['1M'][1] / sav['100k'][1]:.2f} (not flat: pyreadstat takes one table,"
        f" ~1 KB a submission held; aim <= 300 MB at 1M); SAV / CSV time at 1M: {sav['1M'][0] / results['1M'][0]:.2f}"
    )


if __name__ == "__main__":
    main()
