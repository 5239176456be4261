"""The staff command line: `wspolnota check | db upgrade | chat | export | run`."""

from __future__ import annotations

import asyncio
import gc
import getpass
import io
import logging
import os
import sys
import traceback
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import IO, Any, NoReturn, TypeVar

import click

from bot import app
from bot import service as service_module
from bot.settings import Settings, load_settings
from bot.transports.mailbox import MailboxUnavailable
from handlers.definitions.config_files import ConfigError, Problem
from handlers.definitions.i18n import LANGUAGES, as_language, plural
from handlers.definitions.questionnaire import Questionnaire
from handlers.engine.messages import Action, Inbound, Reply
from handlers.engine.presenter import WARSAW
from handlers.terminal import ui as terminal_ui
from reports.export import write_jsonl
from storage.db import (
    DatabaseDamaged,
    DatabaseUnavailable,
    StorageError,
    create_engine,
    current_revision,
    is_damaged,
    quick_check,
    sqlite_file,
    upgrade,
)
from storage.exports import SubmissionFilter
from storage.repository import VersionConflict

T = TypeVar("T")
Row = dict[str, Any]
logger = logging.getLogger(__name__)


class StaffError(Exception):
    """A problem staff can fix; the message names what is wrong and how to fix it."""


def _settings() -> Settings:
    try:
        settings = load_settings()
    except ConfigError as err:
        _fail(err)
    if settings.log_level == "DEBUG":
        logging.getLogger().setLevel(logging.DEBUG)  # so an unexpected error's traceback is logged
    return settings


def _count(number: int, noun: str, nouns: str | None = None) -> str:
    """The noun in the plural form of its number (Babel's English rule): "1 submission", "2 submissions"."""
    return f"{number} {plural('en', number, {'one': noun, 'other': nouns or noun + 's'})}"


def _fail(err: Exception) -> NoReturn:
    """Reports a problem staff can fix, with no traceback, and exits with status 1."""
    if isinstance(err, ConfigError) and len(err.problems) == 1:
        click.echo(f"Configuration problem: {err.problems[0]}", err=True)
    elif isinstance(err, ConfigError):
        click.echo(f"Configuration has {_count(len(err.problems), 'problem')}:", err=True)
        for problem in err.problems:
            click.echo(f"  {problem}", err=True)
    else:
        click.echo(f"Error: {_one_line(str(err))}", err=True)
    sys.exit(1)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _damaged(path: Path | None, why: str) -> StaffError:
    """Says the SQLite file is corrupt and how to get the answers back."""
    if path is None:
        try:
            path = sqlite_file(load_settings().database)
        except ConfigError:
            path = None
    return StaffError(f"the database {path or 'file'} is damaged ({_one_line(why)}): {_recovery(path)}")


def _recovery(path: Path | None) -> str:
    where = str(path) if path else "wspolnota.db"
    return (
        "stop the service and restore the latest backup, "
        f"or salvage what is readable with `sqlite3 {where} .recover | sqlite3 recovered.db`"
    )


def _explain(err: Exception) -> StaffError | None:
    """Turns an error a command can meet on a bad file, path or database into one line staff can act on."""
    if isinstance(err, DatabaseDamaged):
        return _damaged(err.path, err.reason)
    if isinstance(err, StorageError) and is_damaged(err):
        return _damaged(None, str(getattr(err, "orig", None) or err))
    if isinstance(err, StorageError):
        return StaffError(f"database: {getattr(err, 'orig', None) or err}")
    if isinstance(err, OSError) and err.filename is not None:
        return StaffError(f"{err.filename}: {err.strerror or err}")
    return None


class _Commands(click.Group):
    """The command group that has the last word on errors: one line for staff, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            _close_quietly()
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as err:  # the last resort: staff get one line, DEBUG the traceback
            logger.debug("The command failed", exc_info=True)
            explained = _explain(err)
            if explained is not None:
                _fail(explained)
            _fail(
                StaffError(
                    f"unexpected {type(err).__name__}: {err} "
                    "(run with WSPOLNOTA_LOG_LEVEL=DEBUG for the details, and tell the developers)"
                )
            )


def _close_quietly() -> NoReturn:
    """Ends a command whose reader went away (`| head -1`): it has what it wanted; exit 0.

    Python's recipe (https://docs.python.org/3/library/signal.html#note-on-sigpipe): point
    standard output at devnull so the flush at exit does not fail again.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass  # not a real file descriptor (a test's captured output): nothing will flush to it
    sys.exit(0)


def _quiet_shutdown() -> None:
    """Keeps a failed command's message the only one, unless DEBUG asks for everything.

    A stream an error or a closed pipe interrupted (an export's rows) is closed by asyncio when the
    loop shuts down, after the database was let go; SQLAlchemy and asyncio then log tracebacks
    about a read-only cursor that can no longer matter.
    """
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        for name in ("asyncio", "sqlalchemy.pool"):
            logging.getLogger(name).setLevel(logging.CRITICAL)


def _run(coroutine_factory: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await coroutine_factory()

    # What start-up loaded (modules, SQLAlchemy's tables, the questionnaires) lives until exit:
    # kept out of the cyclic collector's way, which a million-answer export otherwise pays ~1 s for.
    gc.freeze()
    try:
        with asyncio.Runner() as runner:
            try:
                return runner.run(main())
            except BaseException:
                _quiet_shutdown()
                raise
    except DatabaseDamaged as err:
        _fail(_damaged(err.path, err.reason))
    except (ConfigError, DatabaseUnavailable, VersionConflict, MailboxUnavailable, StaffError) as err:
        _fail(err)


def _chosen(service: service_module.Service, questionnaire: str | None) -> Questionnaire:
    """The questionnaire a command is about: the one named with -q, or the default one.

    Raises:
        StaffError: naming the questionnaires there are, when there is no such one.
    """
    code = questionnaire or service.conversation.default_questionnaire
    if code not in service.config.questionnaires:
        known = ", ".join(service.config.questionnaires)
        raise StaffError(f"--questionnaire: no such questionnaire '{code}' (known: {known})")
    return service.config.questionnaires[code]


def _writable(path: Path) -> None:
    """Refuses an output file that cannot be written, before anything is read or logged."""
    folder = path.parent
    if not folder.is_dir():
        _fail(StaffError(f"cannot write {path}: the folder {folder} does not exist"))
    if path.is_dir():
        _fail(StaffError(f"cannot write {path}: it is a folder"))
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        _fail(StaffError(f"cannot write {path}: permission denied"))


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wspolnota")
def main() -> None:
    """Wspólnota: collect residents' opinions for Programme Wspólnota.

    Settings come from WSPOLNOTA_* environment variables and a `.env` file (see README).
    """
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL at INFO, and a Bot API URL carries the bot's token.
    logging.getLogger("httpx").setLevel(logging.WARNING)


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
            _fail(err)
    try:
        config = service_module.load_config(settings)
    except ConfigError as err:
        problems += err.problems
    database = sqlite_file(settings.database)
    if database is not None and database.exists():
        damage = quick_check(database)
        if damage:
            shown = "; ".join(damage[:2]) + (f"; and {len(damage) - 2} more" if len(damage) > 2 else "")
            problems.append(
                Problem(str(database), "PRAGMA quick_check", f"damaged ({_one_line(shown)}): {_recovery(database)}")
            )
    if problems:
        _fail(ConfigError(problems))
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
    if database is not None:
        click.echo(f"OK database: {database}" + ("" if database.exists() else " (created on first use)"))


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the newest version."""
    settings = _settings()

    async def go() -> str | None:
        engine = create_engine(settings.database)
        try:
            await upgrade(engine)
            return await current_revision(engine)
        finally:
            await engine.dispose()

    revision = _run(go)
    click.echo(f"Database is at revision {revision}.")


@main.command()
def run() -> None:
    """Run the service: every configured channel in one process (stops on SIGTERM/Ctrl+C)."""
    settings = _settings()
    logging.getLogger().setLevel(settings.log_level)
    database = sqlite_file(settings.database)
    if database is not None and database.exists():
        # A second or so for a big file; a damaged one would take answers in and fail later.
        damage = quick_check(database)
        if damage:
            _fail(_damaged(database, "; ".join(damage[:3])))
    sys.exit(_run(lambda: app.run(settings)))


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
    settings = _settings()
    _run(lambda: _chat(settings, questionnaire, event, lang, respondent, sys.stdin))


async def _chat(
    settings: Settings, questionnaire: str | None, event: str | None, lang: str | None, respondent: str, stdin: IO[str]
) -> None:
    async with service_module.open_service(settings) as service:
        if questionnaire:
            _chosen(service, questionnaire)
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


F = TypeVar("F", bound=Callable[..., Any])


def _filter_options(command: F) -> F:
    """The options that choose which submissions an export or the report covers."""
    options = [
        click.option("--questionnaire", "-q", help="Only this questionnaire (default: the configured default)."),
        click.option("--event", help="Only submissions from this event (slug)."),
        click.option(
            "--channel", type=click.Choice(["telegram", "email", "web", "terminal"]), help="Only this channel."
        ),
        click.option("--since", help="Only from this day on (YYYY-MM-DD)."),
        click.option("--until", help="Only before this day (YYYY-MM-DD)."),
        click.option("--completed-only", is_flag=True, help="Only confirmed submissions."),
        click.option(
            "--exclude-flagged",
            is_flag=True,
            help="Leave out submissions the web chat flagged (many finished from one place in an hour).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


@main.command()
@click.option(
    "--out",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("report.html"),
    show_default=True,
    help="The HTML file to write.",
)
@_filter_options
@click.option(
    "--min-cell",
    type=click.IntRange(1),
    default=5,
    show_default=True,
    help="Table cells smaller than this are hidden (anonymity).",
)
def report(
    out: Path,
    questionnaire: str | None,
    event: str | None,
    channel: str | None,
    since: str | None,
    until: str | None,
    completed_only: bool,
    exclude_flagged: bool,
    min_cell: int,
) -> None:
    """Write the consultation report: one self-contained HTML file with charts, breakdowns and themes."""
    settings = _settings()
    _writable(out)

    async def go() -> tuple[str, int]:
        from reports.report import gather, render_report

        async with service_module.open_service(settings) as service:
            chosen = _chosen(service, questionnaire)
            filters = SubmissionFilter(
                chosen.id, completed_only, event, channel, _day(since), _day(until), exclude_flagged
            )
            tally = await gather(service.store, chosen, filters)
            html = render_report(chosen, tally, filters, service.conversation.clock(), min_cell)
        return html, tally.total

    html, total = _run(go)
    out.write_text(html, encoding="utf-8")
    click.echo(f"Wrote {out} ({_count(total, 'submission')}).")


@main.command()
@click.option("--questionnaire", "-q", help="Questionnaire id (default: the configured default).")
def stats(questionnaire: str | None) -> None:
    """Show live counts: submissions today and in total, by event and channel, per question."""
    settings = _settings()

    async def go() -> str:
        from reports.staff import describe_live_stats

        async with service_module.open_service(settings) as service:
            chosen = _chosen(service, questionnaire)
            return await describe_live_stats(service.store, chosen, service.conversation.clock())

    click.echo(_run(go))


@main.command()
@click.option("--telegram", "telegram_id", help="The person's Telegram user id.")
@click.option("--email", "email_address", help="The person's email address.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def forget(telegram_id: str | None, email_address: str | None, yes: bool) -> None:
    """Erase everything about one person: answers, contact data, emails with their raw source, replies."""
    if (telegram_id is None) == (email_address is None):
        raise click.UsageError("give exactly one of --telegram ID or --email ADDRESS")
    settings = _settings()
    channel, identifier = ("telegram", telegram_id) if telegram_id else ("email", (email_address or "").strip().lower())
    assert identifier is not None
    if not yes:
        click.confirm(f"Erase everything about this {channel} user? This cannot be undone", abort=True)

    async def go() -> str:
        from storage.erasure import forget as erase

        async with service_module.open_service(settings) as service:
            ref = service.respondent(channel, identifier, identifier)
            now = service.conversation.clock()
            erased = await erase(
                service.store, channel=channel, pseudonym=ref.pseudonym, address=identifier, actor=_actor(), now=now
            )
        if not erased.anything:
            return "Nothing was stored about this person."
        return (
            f"Erased: {_count(erased.respondents, 'respondent')} with their answers and contact data, "
            f"{_count(erased.emails, 'email')}, "
            f"{_count(erased.outbox, 'queued or sent reply', 'queued or sent replies')}, "
            f"{_count(erased.inbox, 'received message')}."
        )

    click.echo(_run(go))


@main.command()
@click.option("--older-than", "older_than", required=True, help="A retention period: 365d, 52w or 2y.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def purge(older_than: str, yes: bool) -> None:
    """Apply a retention period: erase submissions, emails and received messages older than it."""
    import re
    from datetime import timedelta

    match = re.fullmatch(r"\s*(\d+)\s*([dwy])\s*", older_than.lower())
    if match is None:
        raise click.BadParameter("use a number of days, weeks or years: 365d, 52w, 2y", param_hint="--older-than")
    days = int(match.group(1)) * {"d": 1, "w": 7, "y": 365}[match.group(2)]
    try:
        datetime.now(WARSAW) - timedelta(days=days)
    except OverflowError:
        _fail(StaffError(f"--older-than {older_than.strip()}: that goes back before the year 1; use a shorter period"))
    settings = _settings()
    if not yes:
        click.confirm(f"Erase everything older than {days} days? This cannot be undone", abort=True)

    async def go() -> dict[str, int]:
        from storage.erasure import purge as apply

        async with service_module.open_service(settings) as service:
            now = service.conversation.clock()
            return await apply(service.store, before=now - timedelta(days=days), actor=_actor(), now=now)

    counts = _run(go)
    click.echo("Erased: " + ", ".join(f"{n} {what}" for what, n in counts.items()) + ".")


@main.command()
@click.option("--once", is_flag=True, required=True, help="Process what is waiting, send the replies, and exit.")
def mail(once: bool) -> None:
    """Read the mailbox and send queued replies once (for cron-style deployments)."""
    settings = _settings()
    if settings.imap_host is None:
        _fail(ConfigError([Problem("environment", "WSPOLNOTA_IMAP_HOST", "not set: there is no mailbox to read")]))

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

    read, sent = _run(go)
    click.echo(f"Read {_count(read, 'new email')}; sent {_count(sent, 'reply', 'replies')}.")


@main.group(invoke_without_command=True)
@click.option("--bot", "bot_username", help="The bot's username for deep links (default: asked from Telegram).")
@click.option("--web", "web_url", help="The web chat's public address, e.g. https://ankieta.example.pl (for QR codes).")
@click.pass_context
def events(context: click.Context, bot_username: str | None, web_url: str | None) -> None:
    """List the events with their links for QR codes: Telegram (t.me/BOT?start=SLUG), web chat (URL/?event=SLUG)."""
    from reports.posters import deep_link, web_link

    settings = _settings()
    try:
        config = service_module.load_config(settings)
    except ConfigError as err:
        _fail(err)
    if bot_username is None and settings.telegram_token is not None:
        bot_username = _run(lambda: _bot_username(settings))
    context.obj = (config, bot_username, web_url)
    if context.invoked_subcommand is not None:
        return
    for event in sorted(config.events.values(), key=lambda e: e.starts):
        when = f"{event.starts.astimezone(WARSAW):%Y-%m-%d %H:%M}"
        click.echo(f"{when}  {event.slug}\n    {event.name('pl')} — {event.address} ({event.district})")
        if not event.open_to_public:
            click.echo("    (for selected participants only: not listed to residents)")
        if event.optional:
            click.echo("    (optional date: held only if the group's earlier meetings leave work to do)")
        click.echo(f"    {deep_link(bot_username, event)}" if bot_username else "    (set --bot for the Telegram link)")
        click.echo(f"    {web_link(web_url, event)}" if web_url else "    (set --web for the web chat's link)")


@events.command()
@click.option(
    "--out",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("posters"),
    show_default=True,
    help="Folder for the PDFs.",
)
@click.option("--event", "slugs", multiple=True, help="Only this event (repeat for several; default: all).")
@click.pass_obj
def posters(obj: tuple[Any, str | None, str | None], out: Path, slugs: tuple[str, ...]) -> None:
    """Write an A4 PDF poster with a QR code per event, and one sheet of all codes for the stands.

    The codes open the web chat when --web is given (no Telegram needed), else the Telegram bot.
    """
    from reports.posters import deep_link, web_link, write_posters

    config, bot_username, web_url = obj
    unknown = sorted(set(slugs) - set(config.events))
    if unknown:
        raise click.BadParameter(f"no event {', '.join(unknown)} (see `wspolnota events`)", param_hint="--event")
    chosen = [event for event in config.events.values() if not slugs or event.slug in slugs]
    if web_url:
        written = write_posters(chosen, lambda event: web_link(web_url, event), out)
    elif bot_username:
        written = write_posters(chosen, lambda event: deep_link(bot_username, event), out)
    else:
        raise click.UsageError("the links need the web chat's address or the bot: wspolnota events --web URL posters")
    click.echo(f"Wrote {_count(len(written.posters), 'poster')} and {written.sheet}.")


@main.group()
def kiosk() -> None:
    """Stands' tablets: only a kiosk link makes a browser one (a new person after each, the volunteer's mark).

    Tokens also come from WSPOLNOTA_WEB_KIOSK_TOKENS; a running service sees added or removed
    kiosks within half a minute.
    """


@kiosk.command("add")
@click.option("--name", required=True, help="What staff call the tablet(s), e.g. zoliborz-1 (a-z, 0-9, -, _).")
@click.option("--event", "event_source", help="The event (slug or slug__stand) the tablet records.")
@click.option(
    "--web",
    "web_url",
    default="http://127.0.0.1:8080",
    show_default=True,
    help="The web chat's address as the tablet reaches it.",
)
def kiosk_add(name: str, event_source: str | None, web_url: str) -> None:
    """Set up a stand's tablet and print its link (shown only now: open it once on the tablet)."""
    import secrets
    from urllib.parse import urlencode

    from handlers.web.guard import token_digest, valid_kiosk_name
    from handlers.web.ui import clean_source
    from storage.audit import audit
    from storage.kiosks import KioskExists, add_kiosk

    if not valid_kiosk_name(name):
        raise click.BadParameter("up to 32 of a-z, 0-9, '-' and '_', first a letter or digit", param_hint="--name")
    source = clean_source(event_source)
    if event_source is not None and source is None:
        raise click.BadParameter(f"{event_source!r} is not an event slug (`wspolnota events`)", param_hint="--event")
    settings = _settings()
    token = secrets.token_urlsafe(18)

    async def go() -> None:
        async with service_module.open_service(settings) as service:
            now = service.conversation.clock()
            try:
                await add_kiosk(service.store, name, token_digest(token), now)
            except KioskExists as err:
                raise click.ClickException(str(err)) from None
            await audit(service.store, _actor(), "kiosk_add", {"name": name}, now)

    _run(go)
    query = urlencode({"kiosk": token, **({"event": source} if source else {})})
    click.echo(f"{web_url.rstrip('/')}/?{query}")


@kiosk.command("list")
def kiosk_list() -> None:
    """List the stands' kiosks: the ones added here and the ones in WSPOLNOTA_WEB_KIOSK_TOKENS."""
    from handlers.web.guard import kiosk_tokens
    from storage.kiosks import list_kiosks

    settings = _settings()

    async def go() -> list[str]:
        async with service_module.open_service(settings) as service:
            added = await list_kiosks(service.store)
            return [f"{k.name}  added {k.created_at.astimezone(WARSAW):%Y-%m-%d %H:%M}" for k in added]

    configured = kiosk_tokens(settings.web_kiosk_tokens).values()
    lines = _run(go) + [f"{name}  (WSPOLNOTA_WEB_KIOSK_TOKENS)" for name in configured]
    if settings.web_kiosk:
        lines.append("server  (WSPOLNOTA_WEB_KIOSK=true: every visitor of this server is a kiosk's)")
    click.echo("\n".join(lines) if lines else "No kiosks: `wspolnota kiosk add --name NAME` sets one up.")


@kiosk.command("remove")
@click.argument("name")
def kiosk_remove(name: str) -> None:
    """Withdraw a kiosk's link: its tablets become ordinary browsers (within half a minute)."""
    from storage.audit import audit
    from storage.kiosks import remove_kiosk

    settings = _settings()

    async def go() -> bool:
        async with service_module.open_service(settings) as service:
            removed = await remove_kiosk(service.store, name)
            if removed:
                await audit(service.store, _actor(), "kiosk_remove", {"name": name}, service.conversation.clock())
            return removed

    if not _run(go):
        raise click.ClickException(f"no kiosk named {name!r} was added (see `wspolnota kiosk list`)")
    click.echo(f"Removed kiosk {name}.")


async def _bot_username(settings: Settings) -> str:
    from telegram import Bot
    from telegram.error import TelegramError

    assert settings.telegram_token is not None
    try:
        async with Bot(settings.telegram_token.get_secret_value(), base_url=settings.telegram_api_url) as bot:
            return str(bot.username)
    except TelegramError as err:
        raise StaffError(f"could not ask Telegram for the bot's name ({err}); give it with --bot NAME") from None


def _day(value: str | None) -> datetime | None:
    """Reads YYYY-MM-DD as midnight in Warsaw."""
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=WARSAW)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-05-30") from None


@main.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "jsonl"]), default="csv", show_default=True)
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: stdout).")
@click.option("--what", type=click.Choice(["submissions", "emails"]), default="submissions", show_default=True)
@click.option(
    "--layout",
    type=click.Choice(["wide", "long"]),
    default="wide",
    show_default=True,
    help="wide: a row per submission; long: a row per answer (for statistical tools).",
)
@click.option("--labels", type=click.Choice(LANGUAGES), help="Option labels in this language instead of codes.")
@_filter_options
@click.option("--include-contact", is_flag=True, help="Include email addresses residents gave (logged).")
def export(
    fmt: str,
    out: Path | None,
    what: str,
    layout: str,
    labels: str | None,
    questionnaire: str | None,
    event: str | None,
    channel: str | None,
    since: str | None,
    until: str | None,
    completed_only: bool,
    exclude_flagged: bool,
    include_contact: bool,
) -> None:
    """Export submissions (or emails) for analysis: CSV (UTF-8 with BOM), XLSX or JSON Lines.

    Columns are question codes; a multiple choice is a 0/1 column per option (`code__option`),
    an "other" text is `code__text`. No contact data unless --include-contact.
    """
    settings = _settings()
    if fmt == "xlsx" and out is None:
        raise click.UsageError("XLSX needs --out FILE")
    if out is not None:
        _writable(out)
    language = as_language(labels)

    async def go() -> int:
        from reports.staff import CSV_ENCODING, ExportChoice, start_export
        from reports.tables import write_csv_rows, write_xlsx_rows

        async with service_module.open_service(settings) as service:
            chosen = _chosen(service, questionnaire)
            filters = SubmissionFilter(
                chosen.id, completed_only, event, channel, _day(since), _day(until), exclude_flagged
            )
            choice = ExportChoice(what, fmt, layout, language, include_contact)
            started = await start_export(
                service.store,
                service.config.questionnaires,
                chosen,
                filters,
                choice,
                actor=_actor(),
                now=service.conversation.clock(),
            )
            rows, columns, records = started.rows, started.columns, started.records
            try:
                with _progress(out is not None) as tick:
                    if fmt == "xlsx":
                        assert out is not None
                        return await write_xlsx_rows(_ticking(rows, tick), out, columns, sheet=what)
                    encoding = CSV_ENCODING if fmt == "csv" else "utf-8"
                    with open(out, "w", encoding=encoding, newline="") if out else _stdout(encoding) as handle:  # noqa: ASYNC230
                        if fmt == "jsonl":
                            source = records if what == "submissions" and layout == "wide" else rows
                            return await write_jsonl(_ticking(source, tick), handle)
                        return await write_csv_rows(_ticking(rows, tick), handle, columns)
            except BaseException as err:
                await _close_streams(err, rows, records)
                raise

    count = _run(go)
    click.echo(f"Exported {_count(count, 'row')}" + (f" to {out}" if out else "") + ".", err=True)


async def _close_streams(err: BaseException, *streams: AsyncIterator[Any]) -> None:
    """Closes an interrupted export's row streams (a closed pipe, a full disk) while the database is open.

    Left to asyncio, they would be closed after the service let the database go, and their cursors'
    threads would report a closed event loop with a traceback. The error's frames hold the inner
    streams; cleared, those are finalised, and their closing is awaited here.
    """
    traceback.clear_frames(err.__traceback__)
    for stream in streams:
        if isinstance(stream, AsyncGenerator):
            await stream.aclose()
    await asyncio.sleep(0)  # the finaliser schedules each orphaned stream's aclose() as a task
    closing = asyncio.all_tasks() - {asyncio.current_task()}
    if closing:
        await asyncio.wait(closing, timeout=5)


async def _ticking(rows: AsyncIterator[Row], tick: Callable[[], None]) -> AsyncIterator[Row]:
    async for row in rows:
        tick()
        yield row


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[], None]]:
    """A progress counter on a terminal (rich); nothing when piped."""
    if not (enabled and sys.stderr.isatty()):
        yield lambda: None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn

    with Progress(SpinnerColumn(), TextColumn("{task.completed} rows"), transient=True) as progress:
        task = progress.add_task("export")
        yield lambda: progress.advance(task)


@contextmanager
def _stdout(encoding: str) -> Iterator[IO[str]]:
    """Standard output as text in a chosen encoding, left open afterwards."""
    wrapper = io.TextIOWrapper(sys.stdout.buffer, encoding=encoding, newline="")
    try:
        yield wrapper
    finally:
        wrapper.flush()
        wrapper.detach()
