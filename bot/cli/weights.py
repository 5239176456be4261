"""`wspolnota weights`: post-stratification (raking) weights of the completed submissions to Warsaw's residents."""

from __future__ import annotations

import csv
from pathlib import Path

import click

from bot import service as service_module
from bot.cli import (
    StaffError,
    chosen_questionnaire,
    main,
    run_async,
    staff_actor,
    staff_settings,
    text_stdout,
    writable,
)
from storage.exports import SubmissionFilter

COLUMNS = ["submission", "weight"]


@main.command()
@click.option("--questionnaire", "-q", help="Questionnaire id (default: the configured default).")
@click.option(
    "--out", "-o", type=click.Path(dir_okay=False, path_type=Path), help="CSV file to write (default: stdout)."
)
@click.option(
    "--cap",
    type=click.FloatRange(min=1, min_open=True),
    default=5.0,
    show_default=True,
    help="Trim weights to [1/CAP, CAP] times the mean weight.",
)
def weights(questionnaire: str | None, out: Path | None, cap: float) -> None:
    """Write raking weights: a row per completed submission, `submission` and `weight`, raked to the residents
    by district (and age band when filled in) in config/population.yaml; mean weight 1, empty for a submission
    that cannot be weighted (outside Warsaw, or no district nor age). A summary (design effect, smallest and
    largest weight) goes to stderr. Written to the audit log like an export."""
    settings = staff_settings()
    if out is not None:
        writable(out)

    async def go() -> tuple[str, int] | None:
        from reports.representation import compute_weights
        from reports.staff import CSV_ENCODING
        from reports.stats import describe_weights
        from storage.audit import audit

        async with service_module.open_service(settings) as service:
            chosen = chosen_questionnaire(service, questionnaire)
            population = service.config.population
            if population is None:
                raise StaffError(f"no {settings.population_file}: weights need the residents' figures")
            if not population.present_margins():
                raise StaffError(
                    f"{settings.population_file} has no residents' figures filled in: nothing to weight to"
                )
            population = population.asked_in(chosen)
            if not population.present_margins():
                raise StaffError(
                    f"questionnaire '{chosen.id}' asks none of the questions {settings.population_file} has figures for"
                )
            filters = SubmissionFilter(chosen.id, completed_only=True)
            computed = await compute_weights(service.store, chosen.id, population, filters=filters, cap=cap)
            if not computed.weights:
                count = len(computed.left_out)
                why = (
                    f"none of its {count} completed submissions can be weighted"
                    if count
                    else "no completed submissions yet"
                )
                click.echo(f"Warning: questionnaire '{chosen.id}': {why}; nothing written.", err=True)
                return None
            details = {"what": "weights", "format": "csv", "filters": repr(filters), "cap": cap}
            await audit(service.store, staff_actor(), "export", details, service.conversation.clock())
            rows = sorted([*computed.weights.items(), *((sid, None) for sid in computed.left_out)])
            with open(out, "w", encoding=CSV_ENCODING, newline="") if out else text_stdout(CSV_ENCODING) as handle:  # noqa: ASYNC230
                writer = csv.writer(handle)
                writer.writerow(COLUMNS)
                writer.writerows([sid, "" if weight is None else f"{weight:.6f}"] for sid, weight in rows)
            return describe_weights(computed, chosen, settings.staff_language), len(rows)

    done = run_async(go)
    if done is not None:
        summary, count = done
        click.echo(summary, err=True)
        click.echo(f"Wrote {count} rows" + (f" to {out}" if out else "") + ".", err=True)
