"""Benchmark: the publishable report over 100,000 submissions, as HTML and as a PDF printed by Chromium.

Seeds SQLite as bench/export does (the shipped questionnaire, every question answered), spread over the
18 districts, the age bands and three languages so every breakdown, the map and the suppression have
work; then measures in one run `wspolnota report --format html`, `--format pdf` (the same, printed by
headless Chromium) and Chromium alone printing the written HTML: seconds, peak MB of the command (the
browser's own processes are apart) and the PDF's pages.
Usage: `python -m bench.report [--submissions 100000]`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.export.__main__ import ROWS, measure, seed
from reports.report_pdf import find_chromium

DISTRICTS = [
    *("bemowo", "bialoleka", "bielany", "mokotow", "ochota", "praga_poludnie", "praga_polnoc", "rembertow"),
    *("srodmiescie", "targowek", "ursus", "ursynow", "wawer", "wesola", "wilanow", "wlochy", "wola", "zoliborz"),
]
AGES = ["age_under_18", "age_18_29", "age_30_44", "age_45_59", "age_60_74", "age_75_plus", "prefer_not"]


def spread(database: Path) -> None:
    """Varies who answered: districts weighted towards the big ones (a few small cells remain), age
    bands, languages and two events."""
    connection = sqlite3.connect(database)
    with connection:
        connection.create_function("district", 1, lambda i: DISTRICTS[(i * i) % 97 % len(DISTRICTS)])
        connection.create_function("age", 1, lambda i: AGES[(i * 7) % 11 % len(AGES)])
        connection.execute(
            "UPDATE answer SET options = '[\"' || district(submission_id) || '\"]' WHERE question_code = 'district'"
        )
        connection.execute(
            "UPDATE answer SET options = '[\"' || age(submission_id) || '\"]' WHERE question_code = 'age_band'"
        )
        connection.execute(
            "UPDATE submission SET language = CASE WHEN id % 9 = 0 THEN 'uk' WHEN id % 23 = 0 THEN 'en' ELSE 'pl' END,"
            " event = CASE WHEN id % 3 = 0 THEN 'dzien-sasiada-zoliborz-2027-05-29' WHEN id % 3 = 1 THEN NULL"
            " ELSE 'dzien-sasiada-targowek-2027-05-30' END"
        )
    connection.close()


def pages(pdf: Path) -> str:
    if shutil.which("pdfinfo") is None:
        return "?"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return next((line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")), "?")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=100_000)
    args = parser.parse_args()
    browser = find_chromium(os.environ.get("WSPOLNOTA_CHROMIUM"))
    root = Path(tempfile.mkdtemp(prefix="wspolnota-bench-report-"))
    data = root / "data"
    submissions = seed(data, len(ROWS) * args.submissions)
    spread(data / "wspolnota.db")
    env = {**os.environ, "WSPOLNOTA_DATA_DIR": str(data), "WSPOLNOTA_SECRET_KEY": "bench-" + "x" * 32}
    wspolnota = [sys.executable, "-m", "bot", "report"]
    html, pdf = root / "report.html", root / "report.pdf"
    as_html = measure([*wspolnota, "--format", "html", "--out", str(html)], env)
    as_pdf = measure([*wspolnota, "--format", "pdf", "--out", str(pdf)], env)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer"]
    started = time.perf_counter()
    subprocess.run(
        [browser, *flags, f"--user-data-dir={root / 'profile'}", f"--print-to-pdf={root / 'alone.pdf'}", html.as_uri()],
        capture_output=True,
        check=True,
        timeout=300,
    )
    alone = time.perf_counter() - started
    print(f"\nseeded: {submissions:,} submissions ({len(ROWS)} answers each), HTML {html.stat().st_size / 1e6:.1f} MB")
    print(f"\n{'':>36} {'seconds':>8} {'peak MB':>8}")
    print(f"{'report --format html':>36} {as_html[0]:>8.1f} {as_html[1]:>8.0f}")
    print(f"{'report --format pdf':>36} {as_pdf[0]:>8.1f} {as_pdf[1]:>8.0f}")
    print(f"{'chromium --print-to-pdf alone':>36} {alone:>8.1f} {'':>8}")
    print(
        f"\nPDF: {pages(pdf)} pages, {pdf.stat().st_size / 1e6:.1f} MB; printing adds"
        f" {as_pdf[0] - as_html[0]:.1f} s to the HTML (pdf/html {as_pdf[0] / as_html[0]:.2f}); aim <= 30 s for the PDF"
    )
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
