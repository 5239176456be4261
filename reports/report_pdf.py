"""The report as a PDF: its HTML printed by headless Chromium (Debian's `chromium`), which honours the
report's print stylesheet (A4, page numbers, tables kept whole)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

PRINT_TIMEOUT = 300  # seconds: a 100,000-submission report prints in well under a minute


class PdfUnavailable(Exception):
    """No Chromium to print with, or it failed; the message says what to do."""


def find_chromium(configured: Path | str | None = None) -> str:
    """The browser to print with: the configured one (WSPOLNOTA_CHROMIUM), else `chromium` on PATH.

    Raises:
        PdfUnavailable: when there is none.
    """
    if configured:
        found = shutil.which(str(configured))
        if found is None:
            raise PdfUnavailable(
                f"WSPOLNOTA_CHROMIUM={configured}: no such program; point it at Chromium or Chrome, "
                "or write the report with --format html"
            )
        return found
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found is not None:
            return found
    raise PdfUnavailable(
        "a PDF is printed by Chromium, which is not installed: install it (apt-get install chromium), "
        "set WSPOLNOTA_CHROMIUM to its path, or write the report with --format html"
    )


def print_pdf(html: str, out: Path, chromium: str) -> None:
    """Prints the report's HTML to `out` as a PDF.

    Raises:
        PdfUnavailable: naming what Chromium said when it printed nothing.
    """
    with tempfile.TemporaryDirectory(prefix="wspolnota-report-") as folder:
        page = Path(folder) / "report.html"
        page.write_text(html, encoding="utf-8")
        printed = Path(folder) / "report.pdf"
        flags = [
            "--headless",
            "--no-sandbox",  # staff may run as root; the page is our own and runs no script (its CSP)
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",  # the report's own footer has the page numbers, not the file's path
            f"--user-data-dir={Path(folder) / 'profile'}",
            f"--print-to-pdf={printed}",
        ]
        try:
            done = subprocess.run(  # noqa: S603 — a fixed command line, the browser found above
                [chromium, *flags, page.as_uri()], capture_output=True, text=True, timeout=PRINT_TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired:
            raise PdfUnavailable(f"Chromium did not print the report within {PRINT_TIMEOUT} s") from None
        except OSError as err:
            raise PdfUnavailable(f"Chromium ({chromium}) could not start: {err.strerror or err}") from None
        if not printed.is_file() or printed.stat().st_size == 0:
            said = " ".join((done.stderr or "").split()[-40:])
            raise PdfUnavailable(f"Chromium printed no PDF (exit {done.returncode}): {said or 'no message'}")
        shutil.copyfile(printed, out)
