"""Commands for the staff console's accounts: staff add, list, disable, require-totp (see docs/console.md)."""

from __future__ import annotations

import click

from bot import service as service_module
from bot.cli import StaffError, main, run_async, staff_actor, staff_settings

DEFAULT_WEB = "http://127.0.0.1:8080"
_WEB_OPTION = click.option(
    "--web",
    "web_url",
    help=f"The web chat's address as staff reach it (the console is its /staff); default WSPOLNOTA_PUBLIC_URL, "
    f"else {DEFAULT_WEB}.",
)


@main.group("staff")
def staff() -> None:
    """The staff console's accounts (/staff in the browser): roles field, analyst, coordinator."""


@staff.command("add")
@click.argument("email")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["field", "analyst", "coordinator"]),
    help="field: live counts, events, posters; analyst: also exports and reports; coordinator: everything.",
)
@_WEB_OPTION
def staff_add(email: str, role: str, web_url: str | None) -> None:
    """Add a staff account and print its one-time setup link (shown only now; it sets the password)."""
    from bot.console.staffing import BadEmail, add_staff, setup_link, valid_email
    from storage.staff_accounts import AccountExists

    try:
        email = valid_email(email)
    except BadEmail as err:
        raise click.BadParameter(str(err), param_hint="EMAIL") from None
    settings = staff_settings()

    async def go() -> str:
        async with service_module.open_service(settings) as service:
            try:
                added = await add_staff(service, email, role, staff_actor())
            except AccountExists as err:
                raise StaffError(str(err)) from None
            return added.token

    token = run_async(go)
    click.echo(f"Added {email} ({role}). Their setup link, valid {settings.staff_setup_hours:g} hours, works once:")
    click.echo(setup_link(web_url or settings.public_url or DEFAULT_WEB, token))


@staff.command("list")
def staff_list() -> None:
    """List the staff accounts: email, role, second factor, state."""
    from storage.staff_accounts import Account, list_accounts

    settings = staff_settings()

    async def go() -> list[Account]:
        async with service_module.open_service(settings) as service:
            return await list_accounts(service.store)

    accounts = run_async(go)
    if not accounts:
        click.echo("No staff accounts: `wspolnota staff add EMAIL --role coordinator` adds one.")
        return
    for account in accounts:
        totp = "TOTP" if account.totp_secret else ("TOTP required" if account.totp_required else "password")
        state = "disabled" if account.disabled else ("set up" if account.password_hash else "setup link pending")
        click.echo(f"{account.email}  {account.role}  {totp}  {state}")


@staff.command("disable")
@click.argument("email")
def staff_disable(email: str) -> None:
    """Disable a staff account: it is signed out everywhere at once, and its setup link stops working."""
    from bot.console.staffing import disable_staff
    from storage.staff_accounts import NoSuchAccount

    settings = staff_settings()

    async def go() -> None:
        async with service_module.open_service(settings) as service:
            try:
                await disable_staff(service, email, staff_actor())
            except NoSuchAccount as err:
                raise StaffError(str(err)) from None

    run_async(go)
    click.echo(f"Disabled {email.strip().lower()}; their sessions have ended.")


@staff.command("new-link")
@click.argument("email")
@_WEB_OPTION
def staff_new_link(email: str, web_url: str | None) -> None:
    """Print a new one-time setup link for an account: a forgotten password or a lost authenticator app.

    Using it sets a new password (and enrols the app again where one is required) and ends the account's
    sessions; until then the current password still works. An earlier unused link stops working.
    """
    from bot.console.staffing import new_setup_link, setup_link
    from storage.staff_accounts import NoSuchAccount

    settings = staff_settings()

    async def go() -> str:
        async with service_module.open_service(settings) as service:
            try:
                return await new_setup_link(service, email, staff_actor())
            except NoSuchAccount as err:
                raise StaffError(str(err)) from None

    token = run_async(go)
    click.echo(f"A new setup link for {email.strip().lower()}, valid {settings.staff_setup_hours:g} hours, works once:")
    click.echo(setup_link(web_url or settings.public_url or DEFAULT_WEB, token))


@staff.command("require-totp")
@click.argument("email")
@_WEB_OPTION
def staff_require_totp(email: str, web_url: str | None) -> None:
    """Require a second factor (an authenticator app's code) for an account.

    An account not yet enrolled gets a new setup link (printed now) and cannot sign in until it is used.
    """
    from bot.console.staffing import require_second_factor, setup_link
    from storage.staff_accounts import NoSuchAccount

    settings = staff_settings()

    async def go() -> str | None:
        async with service_module.open_service(settings) as service:
            try:
                return await require_second_factor(service, email, staff_actor())
            except NoSuchAccount as err:
                raise StaffError(str(err)) from None

    token = run_async(go)
    if token is None:
        click.echo(f"{email.strip().lower()} now needs their authenticator code to sign in.")
    else:
        click.echo(f"{email.strip().lower()} must enrol an authenticator app; their new setup link works once:")
        click.echo(setup_link(web_url or settings.public_url or DEFAULT_WEB, token))
