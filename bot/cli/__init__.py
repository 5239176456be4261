"""The staff command line, `wspolnota …`: the command group and what its commands share (settings,
one-line errors, running a coroutine, common options). The commands live beside it, one module per
concern: `running` (check, db, run, chat, mail), `data` (export, report, stats, forget, purge),
`events` (events, posters, kiosk) and `groups` (the working groups' applications)."""

from __future__ import annotations

import asyncio
import gc
import getpass
import io
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any, NoReturn, TypeVar

import click

from bot import service as service_module
from bot.settings import Settings, load_settings
from bot.transports.mailbox import MailboxUnavailable
from handlers.definitions.config_files import ConfigError
from handlers.definitions.i18n import plural
from handlers.definitions.questionnaire import Questionnaire
from handlers.engine.presenter import WARSAW
from storage.db import (
    DatabaseDamaged,
    DatabaseUnavailable,
    StorageError,
    is_damaged,
    sqlite_file,
)
from storage.repository import VersionConflict

T = TypeVar("T")
Row = dict[str, Any]
logger = logging.getLogger(__name__)


class StaffError(Exception):
    """A problem staff can fix; the message names what is wrong and how to fix it."""


def staff_settings() -> Settings:
    try:
        settings = load_settings()
    except ConfigError as err:
        fail(err)
    if settings.log_level == "DEBUG":
        logging.getLogger().setLevel(logging.DEBUG)  # so an unexpected error's traceback is logged
    return settings


def counted(number: int, noun: str, nouns: str | None = None) -> str:
    """The noun in the plural form of its number (Babel's English rule): "1 submission", "2 submissions"."""
    return f"{number} {plural('en', number, {'one': noun, 'other': nouns or noun + 's'})}"


def fail(err: Exception) -> NoReturn:
    """Reports a problem staff can fix, with no traceback, and exits with status 1."""
    if isinstance(err, ConfigError) and len(err.problems) == 1:
        click.echo(f"Configuration problem: {err.problems[0]}", err=True)
    elif isinstance(err, ConfigError):
        click.echo(f"Configuration has {counted(len(err.problems), 'problem')}:", err=True)
        for problem in err.problems:
            click.echo(f"  {problem}", err=True)
    else:
        click.echo(f"Error: {one_line(str(err))}", err=True)
    sys.exit(1)


def one_line(text: str) -> str:
    return " ".join(text.split())


def damaged(path: Path | None, why: str) -> StaffError:
    """Says the SQLite file is corrupt and how to get the answers back."""
    if path is None:
        try:
            path = sqlite_file(load_settings().database)
        except ConfigError:
            path = None
    return StaffError(f"the database {path or 'file'} is damaged ({one_line(why)}): {recovery(path)}")


def recovery(path: Path | None) -> str:
    where = str(path) if path else "wspolnota.db"
    return (
        "stop the service and restore the latest backup, "
        f"or salvage what is readable with `sqlite3 {where} .recover | sqlite3 recovered.db`"
    )


def _explain(err: Exception) -> StaffError | None:
    """Turns an error a command can meet on a bad file, path or database into one line staff can act on."""
    if isinstance(err, DatabaseDamaged):
        return damaged(err.path, err.reason)
    if isinstance(err, StorageError) and is_damaged(err):
        return damaged(None, str(getattr(err, "orig", None) or err))
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
                fail(explained)
            fail(
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


def run_async(coroutine_factory: Callable[[], Awaitable[T]]) -> T:
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
        fail(damaged(err.path, err.reason))
    except (ConfigError, DatabaseUnavailable, VersionConflict, MailboxUnavailable, StaffError) as err:
        fail(err)


def chosen_questionnaire(service: service_module.Service, questionnaire: str | None) -> Questionnaire:
    """The questionnaire a command is about: the one named with -q, or the default one.

    Raises:
        StaffError: naming the questionnaires there are, when there is no such one.
    """
    code = questionnaire or service.conversation.default_questionnaire
    if code not in service.config.questionnaires:
        known = ", ".join(service.config.questionnaires)
        raise StaffError(f"--questionnaire: no such questionnaire '{code}' (known: {known})")
    return service.config.questionnaires[code]


def writable(path: Path) -> None:
    """Refuses an output file that cannot be written, before anything is read or logged."""
    folder = path.parent
    if not folder.is_dir():
        fail(StaffError(f"cannot write {path}: the folder {folder} does not exist"))
    if path.is_dir():
        fail(StaffError(f"cannot write {path}: it is a folder"))
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        fail(StaffError(f"cannot write {path}: permission denied"))


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wspolnota")
def main() -> None:
    """Wspólnota: collect residents' opinions for Programme Wspólnota.

    Settings come from WSPOLNOTA_* environment variables and a `.env` file (see README).
    """
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL at INFO, and a Bot API URL carries the bot's token.
    logging.getLogger("httpx").setLevel(logging.WARNING)


F = TypeVar("F", bound=Callable[..., Any])


def filter_options(command: F) -> F:
    """The options that choose which submissions an export or the report covers."""
    options = [
        click.option("--questionnaire", "-q", help="Only this questionnaire (default: the configured default)."),
        click.option("--event", help="Only submissions from this event (slug)."),
        click.option(
            "--channel",
            type=click.Choice(["telegram", "email", "web", "terminal", "paper"]),
            help="Only this channel.",
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


def staff_actor() -> str:
    return f"cli:{getpass.getuser()}"


def warsaw_day(value: str | None) -> datetime | None:
    """Reads YYYY-MM-DD as midnight in Warsaw."""
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=WARSAW)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-05-30") from None


@contextmanager
def text_stdout(encoding: str) -> Iterator[IO[str]]:
    """Standard output as text in a chosen encoding, left open afterwards."""
    wrapper = io.TextIOWrapper(sys.stdout.buffer, encoding=encoding, newline="")
    try:
        yield wrapper
    finally:
        wrapper.flush()
        wrapper.detach()


# The commands register themselves on `main` when their modules are imported.
from bot.cli import codebook, data, events, groups, paper, quotes, running, staff, themes, weights  # noqa: E402

__all__ = [
    "StaffError",
    "codebook",
    "data",
    "events",
    "groups",
    "main",
    "paper",
    "quotes",
    "running",
    "staff",
    "themes",
    "weights",
]
