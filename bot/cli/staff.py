"""Commands for the staff console's accounts: staff add, list, disable, require-totp (see docs/console.md)."""

from __future__ import annotations

from datetime import timedelta

import click

from bot import service as service_module
from bot.cli import StaffError, main, run_async, staff_actor, staff_settings

DEFAULT_WEB = "http://127.0.0.1:8080"
_WEB_OPTION = click.option(
    "--web",
    "web_url",
    default=DEFAULT_WEB,
    show_default=True,
    help="The web chat's address as staff reach it (the console is its /staff).",
)


@main.group("staff")
def staff() -> None:
    """The staff console's accounts (/staff in the browser): roles field, analyst, coordinator."""


def _link(web_url: str, token: str) -> str:
    return f"{web_url.rstrip('/')}/staff/setup/{token}"


async def _issue_link(service: service_module.Service, email: str) -> str:
    from bot.console.accounts import digest, new_token
    from storage.staff_accounts import add_setup_token

    now = service.conversation.clock()
    token = new_token()
    expires = now + timedelta(hours=service.settings.staff_setup_hours)
    await add_setup_token(service.store, email, digest(token), expires, now)
    return token


@staff.command("add")
@click.argument("email")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["field", "analyst", "coordinator"]),
    help="field: live counts, events, posters; analyst: also exports and reports; coordinator: everything.",
)
@_WEB_OPTION
def staff_add(email: str, role: str, web_url: str) -> None:
    """Add a staff account and print its one-time setup link (shown only now; it sets the password)."""
    from email_validator import EmailNotValidError, validate_email

    from storage.audit import audit
    from storage.staff_accounts import AccountExists, add_account

    try:
        email = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as err:
        raise click.BadParameter(str(err), param_hint="EMAIL") from None
    settings = staff_settings()

    async def go() -> str:
        async with service_module.open_service(settings) as service:
            now = service.conversation.clock()
            try:
                account = await add_account(service.store, email, role, now)
            except AccountExists as err:
                raise StaffError(str(err)) from None
            token = await _issue_link(service, email)
            await audit(service.store, staff_actor(), "staff_add", {"account": account.id, "role": role}, now)
            return token

    token = run_async(go)
    click.echo(f"Added {email} ({role}). Their setup link, valid {settings.staff_setup_hours:g} hours, works once:")
    click.echo(_link(web_url, token))


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
    from storage.audit import audit
    from storage.staff_accounts import NoSuchAccount, disable_account, find_account

    settings = staff_settings()

    async def go() -> None:
        async with service_module.open_service(settings) as service:
            now = service.conversation.clock()
            try:
                await disable_account(service.store, email, now)
            except NoSuchAccount as err:
                raise StaffError(str(err)) from None
            account = await find_account(service.store, email)
            assert account is not None
            await audit(service.store, staff_actor(), "staff_disable", {"account": account.id}, now)

    run_async(go)
    click.echo(f"Disabled {email.strip().lower()}; their sessions have ended.")


@staff.command("require-totp")
@click.argument("email")
@_WEB_OPTION
def staff_require_totp(email: str, web_url: str) -> None:
    """Require a second factor (an authenticator app's code) for an account.

    An account not yet enrolled gets a new setup link (printed now) and cannot sign in until it is used.
    """
    from storage.audit import audit
    from storage.staff_accounts import NoSuchAccount, find_account, require_totp

    settings = staff_settings()

    async def go() -> str | None:
        async with service_module.open_service(settings) as service:
            now = service.conversation.clock()
            try:
                await require_totp(service.store, email, now)
            except NoSuchAccount as err:
                raise StaffError(str(err)) from None
            account = await find_account(service.store, email)
            assert account is not None
            token = None
            if account.totp_secret is None and not account.disabled:
                token = await _issue_link(service, email)
            await audit(service.store, staff_actor(), "staff_require_totp", {"account": account.id}, now)
            return token

    token = run_async(go)
    if token is None:
        click.echo(f"{email.strip().lower()} now needs their authenticator code to sign in.")
    else:
        click.echo(f"{email.strip().lower()} must enrol an authenticator app; their new setup link works once:")
        click.echo(_link(web_url, token))
