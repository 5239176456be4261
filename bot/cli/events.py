"""Commands for the events and their stands: events (links), posters, kiosk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from bot import service as service_module
from bot.cli import (
    StaffError,
    counted,
    fail,
    main,
    run_async,
    staff_actor,
    staff_settings,
)
from bot.settings import Settings
from handlers.definitions.config_files import ConfigError
from handlers.engine.presenter import WARSAW


@main.group(invoke_without_command=True)
@click.option("--bot", "bot_username", help="The bot's username for deep links (default: asked from Telegram).")
@click.option(
    "--web",
    "web_url",
    help="The web chat's public address, e.g. https://ankieta.example.pl (for QR codes; default WSPOLNOTA_PUBLIC_URL).",
)
@click.pass_context
def events(context: click.Context, bot_username: str | None, web_url: str | None) -> None:
    """List the events with their links for QR codes: Telegram (t.me/BOT?start=SLUG), web chat (URL/?event=SLUG)."""
    from reports.posters import deep_link, web_link

    settings = staff_settings()
    try:
        config = service_module.load_config(settings)
    except ConfigError as err:
        fail(err)
    web_url = web_url or settings.public_url
    if bot_username is None and settings.telegram_token is not None:
        bot_username = run_async(lambda: _bot_username(settings))
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
    from reports.posters import poster_link, write_posters

    config, bot_username, web_url = obj
    unknown = sorted(set(slugs) - set(config.events))
    if unknown:
        raise click.BadParameter(f"no event {', '.join(unknown)} (see `wspolnota events`)", param_hint="--event")
    chosen = [event for event in config.events.values() if not slugs or event.slug in slugs]
    contact = staff_settings().mail_from  # the programme's mailbox: for those without a phone
    link = poster_link(web_url, bot_username)
    if link is None:
        raise click.UsageError("the links need the web chat's address or the bot: wspolnota events --web URL posters")
    written = write_posters(chosen, link, out, contact)
    click.echo(f"Wrote {counted(len(written.posters), 'poster')} and {written.sheet}.")


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
    settings = staff_settings()
    token = secrets.token_urlsafe(18)

    async def go() -> None:
        async with service_module.open_service(settings) as service:
            now = service.conversation.clock()
            try:
                await add_kiosk(service.store, name, token_digest(token), now)
            except KioskExists as err:
                raise click.ClickException(str(err)) from None
            await audit(service.store, staff_actor(), "kiosk_add", {"name": name}, now)

    run_async(go)
    query = urlencode({"kiosk": token, **({"event": source} if source else {})})
    click.echo(f"{web_url.rstrip('/')}/?{query}")


@kiosk.command("list")
def kiosk_list() -> None:
    """List the stands' kiosks: the ones added here and the ones in WSPOLNOTA_WEB_KIOSK_TOKENS."""
    from bot.kiosks import StandKiosks, stand_kiosks

    settings = staff_settings()

    async def go() -> StandKiosks:
        async with service_module.open_service(settings) as service:
            return await stand_kiosks(service)

    kiosks = run_async(go)
    lines = [f"{k.name}  added {k.added_at.astimezone(WARSAW):%Y-%m-%d %H:%M}" for k in kiosks.added]
    lines += [f"{name}  (WSPOLNOTA_WEB_KIOSK_TOKENS)" for name in kiosks.configured]
    if kiosks.whole_server:
        lines.append("server  (WSPOLNOTA_WEB_KIOSK=true: every visitor of this server is a kiosk's)")
    click.echo("\n".join(lines) if lines else "No kiosks: `wspolnota kiosk add --name NAME` sets one up.")


@kiosk.command("remove")
@click.argument("name")
def kiosk_remove(name: str) -> None:
    """Withdraw a kiosk's link: its tablets become ordinary browsers (within half a minute)."""
    from storage.audit import audit
    from storage.kiosks import remove_kiosk

    settings = staff_settings()

    async def go() -> bool:
        async with service_module.open_service(settings) as service:
            removed = await remove_kiosk(service.store, name)
            if removed:
                await audit(service.store, staff_actor(), "kiosk_remove", {"name": name}, service.conversation.clock())
            return removed

    if not run_async(go):
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
