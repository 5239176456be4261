"""Commands that set up and run the service: check, db upgrade, run, chat, mail."""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import sys
from dataclasses import replace
from typing import IO

import click

from bot import app
from bot import service as service_module
from bot.cli import (
    chosen_questionnaire,
    counted,
    damaged,
    fail,
    main,
    one_line,
    recovery,
    run_async,
    staff_settings,
)
from bot.cli.themes import checked_frame
from bot.settings import Settings, load_settings
from handlers.definitions.config_files import ConfigError, Problem
from handlers.definitions.i18n import LANGUAGES
from handlers.engine.messages import Action, Inbound, Reply
from handlers.engine.presenter import WARSAW
from handlers.terminal import ui as terminal_ui
from storage.db import (
    create_engine,
    current_revision,
    quick_check,
    sqlite_file,
    upgrade,
)


@main.command()
def check() -> None:
    """Validate every configuration file and setting, and the database file, without starting anything."""
    problems: list[Problem] = []
    try:
        settings = load_settings()
    except ConfigError as err:
        # Check the files too, with the settings that are right, so staff see every problem at once.
        problems += err.problems
        blanked = {problem.key: "" for problem in err.problems if problem.file == "environment"}
        try:
            settings = load_settings({**os.environ, **blanked})
        except ConfigError:
            fail(err)
    try:
        config = service_module.load_config(settings)
    except ConfigError as err:
        problems += err.problems
    themes_line, themes_problems = checked_frame(settings)
    problems += themes_problems
    database = sqlite_file(settings.database)
    if database is not None and database.exists():
        damage = quick_check(database)
        if damage:
            shown = "; ".join(damage[:2]) + (f"; and {len(damage) - 2} more" if len(damage) > 2 else "")
            problems.append(
                Problem(str(database), "PRAGMA quick_check", f"damaged ({one_line(shown)}): {recovery(database)}")
            )
    if problems:
        fail(ConfigError(problems))
    for q in config.questionnaires.values():
        click.echo(f"OK questionnaire {q.id} (version {q.version}, {len(q.questions)} questions)")
    click.echo(f"OK events: {len(config.events)} in {settings.events_file}")
    click.echo(f"OK messages: {len(config.catalog.keys())} in {settings.messages_file}")
    call = config.recruitment
    if call is None:
        click.echo(f"OK working groups: off (no {settings.recruitment_file})")
    else:
        deadline = f"{call.deadline.astimezone(WARSAW):%Y-%m-%d %H:%M}"
        seats = sum(group.seats for group in call.groups)
        click.echo(
            f"OK working groups: {len(call.groups)} groups, {seats} seats, applications until {deadline}, "
            f"decisions by {call.decision_date} in {settings.recruitment_file}"
        )
    population = config.population
    if population is None:
        click.echo(f"OK population: off (no {settings.population_file})")
    else:
        margins = ", ".join(population.present_margins()) or "none filled in"
        click.echo(f"OK population: {margins} ({population.source}, {population.date}) in {settings.population_file}")
    click.echo(themes_line)
    if database is not None:
        click.echo(f"OK database: {database}" + ("" if database.exists() else " (created on first use)"))


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the newest version."""
    settings = staff_settings()

    async def go() -> str | None:
        engine = create_engine(settings.database)
        try:
            await upgrade(engine)
            return await current_revision(engine)
        finally:
            await engine.dispose()

    revision = run_async(go)
    click.echo(f"Database is at revision {revision}.")


@main.command()
def run() -> None:
    """Run the service: every configured channel in one process (stops on SIGTERM/Ctrl+C)."""
    settings = staff_settings()
    logging.getLogger().setLevel(settings.log_level)
    database = sqlite_file(settings.database)
    if database is not None and database.exists():
        # A second or so for a big file; a damaged one would take answers in and fail later.
        damage = quick_check(database)
        if damage:
            fail(damaged(database, "; ".join(damage[:3])))
    sys.exit(run_async(lambda: app.run(settings)))


@main.command()
@click.option("--questionnaire", "-q", help="Questionnaire id (default: the configured default).")
@click.option("--event", "-e", help="Event slug to record, as a QR code would (optionally `slug__stand`).")
@click.option("--lang", "-l", type=click.Choice(LANGUAGES), help="Language for a new conversation.")
@click.option(
    "--respondent",
    "-r",
    default=getpass.getuser,
    show_default="your user name",
    help="Who is answering; the same name resumes the same conversation.",
)
def chat(questionnaire: str | None, event: str | None, lang: str | None, respondent: str) -> None:
    """Answer a questionnaire in the terminal, one answer per line (scriptable from stdin).

    Choices are numbered; type the number (several for a multiple choice: `1, 3`).
    Commands: /back /skip /done /language en /cancel /help. Answers are stored like any
    other channel's, marked as channel `terminal`. End with Ctrl+D.
    """
    settings = staff_settings()
    run_async(lambda: _chat(settings, questionnaire, event, lang, respondent, sys.stdin))


async def _chat(
    settings: Settings, questionnaire: str | None, event: str | None, lang: str | None, respondent: str, stdin: IO[str]
) -> None:
    async with service_module.open_service(settings) as service:
        if questionnaire:
            chosen_questionnaire(service, questionnaire)
        ref = service.respondent("terminal", respondent, None)
        conversation = service.conversation

        def show(replies: list[Reply]) -> Reply | None:
            for reply in replies:
                click.echo(terminal_ui.render(reply) + "\n")
            return replies[-1] if replies else None

        first = Inbound(ref, action=Action.START, source=event, language=lang, questionnaire=questionnaire)
        last = show(await conversation.handle(first))
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, stdin.readline)
            if not line:
                break
            inbound = replace(terminal_ui.inbound_from_line(line, ref, last), questionnaire=questionnaire)
            last = show(await conversation.handle(inbound))


@main.command()
@click.option("--once", is_flag=True, required=True, help="Process what is waiting, send the replies, and exit.")
def mail(once: bool) -> None:
    """Read the mailbox and send queued replies once (for cron-style deployments)."""
    settings = staff_settings()
    if settings.imap_host is None:
        fail(ConfigError([Problem("environment", "WSPOLNOTA_IMAP_HOST", "not set: there is no mailbox to read")]))

    async def go() -> tuple[int, int]:
        from bot.mailroom import build_mailroom
        from bot.transports.mailbox import MailboxReader
        from bot.transports.mailer import Mailer

        async with service_module.open_service(settings) as service:
            read = await MailboxReader(settings, build_mailroom(service), service.mailbox_positions).once()
            sent = 0
            if settings.smtp_host:
                sent = await Mailer(settings, service.outbox, service.conversation.clock).send_due()
            return read, sent

    read, sent = run_async(go)
    click.echo(f"Read {counted(read, 'new email')}; sent {counted(sent, 'reply', 'replies')}.")
