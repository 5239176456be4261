"""The codebook command: what every column of the exports means, from the questionnaire itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import click

from bot import service as service_module
from bot.cli import StaffError, counted, fail, main, staff_settings, text_stdout, writable
from handlers.definitions.config_files import ConfigError


@main.command("codebook")
@click.option("--questionnaire", "-q", help="Questionnaire id (default: the configured default).")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "md"]), default="md", show_default=True)
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: stdout).")
@click.option("--include-contact", is_flag=True, help="List the email question too (as the export does with it).")
def codebook_command(questionnaire: str | None, fmt: str, out: Path | None, include_contact: bool) -> None:
    """Write the codebook: each export column's question text in pl/en/uk, type, values in questionnaire
    order with their labels (the numbers SPSS and Stata get), missing-value codes and show-if rule."""
    from reports.codebook import CODEBOOK_COLUMNS, codebook_markdown, codebook_rows, write_codebook_csv
    from reports.staff import CSV_ENCODING
    from reports.tables import write_xlsx_rows

    settings = staff_settings()
    if fmt == "xlsx" and out is None:
        raise click.UsageError("XLSX needs --out FILE")
    if out is not None:
        writable(out)
    try:
        questionnaires = service_module.load_config(settings).questionnaires
    except ConfigError as err:
        fail(err)
    code = questionnaire or settings.questionnaire or next(iter(questionnaires))
    if code not in questionnaires:
        fail(StaffError(f"--questionnaire: no such questionnaire '{code}' (known: {', '.join(questionnaires)})"))
    chosen = questionnaires[code]
    if fmt == "xlsx":
        assert out is not None
        rows = codebook_rows(chosen, include_contact=include_contact)
        asyncio.run(write_xlsx_rows(_streamed(rows), out, CODEBOOK_COLUMNS, sheet="codebook"))
        count = len(rows)
    elif fmt == "csv":
        with open(out, "w", encoding=CSV_ENCODING, newline="") if out else text_stdout(CSV_ENCODING) as handle:
            count = write_codebook_csv(chosen, handle, include_contact=include_contact)
    else:
        text = codebook_markdown(chosen, include_contact=include_contact)
        count = text.count("\n")
        if out is None:
            click.echo(text, nl=False)
        else:
            out.write_text(text, encoding="utf-8")
    if out is not None:
        click.echo(f"Wrote the codebook of {chosen.id} to {out} ({counted(count, fmt_unit(fmt))}).", err=True)


def fmt_unit(fmt: str) -> str:
    return "line" if fmt == "md" else "row"


async def _streamed(rows: Iterable[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    for row in rows:
        yield row
