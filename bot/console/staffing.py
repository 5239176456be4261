"""Changes to the staff team that `wspolnota staff …` and the console's Staff accounts page both make: add an
account (with its one-time setup link), give an account a new setup link (a forgotten password, a lost
phone), disable one, require a second factor. Each is audited the same way
whoever makes it; only the actor differs (`cli:<user>` or `staff:<id>`). Never a password or a token in
the audit log: the account's id and role only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email

from bot.console.accounts import Role, digest, new_token
from bot.service import Service
from storage.audit import audit
from storage.repository import Store
from storage.staff_accounts import (
    Account,
    NoSuchAccount,
    add_account,
    add_setup_token,
    disable_account,
    find_account,
    require_totp,
)

SETUP_PATH = "/staff/setup/"


class BadEmail(ValueError):
    """Not an email address (the message says why, in English)."""


class UnknownRole(ValueError):
    """Not one of the roles (field, analyst, coordinator)."""


@dataclass(frozen=True, slots=True)
class Added:
    """A new account and the token of its setup link (shown once, never stored as given)."""

    account: Account
    token: str


def valid_email(email: str) -> str:
    """The address in the form accounts are kept in (normalised, lower case).

    Raises:
        BadEmail: when it is not an email address.
    """
    try:
        return validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as err:
        raise BadEmail(str(err)) from None


def setup_link(web_url: str, token: str) -> str:
    """The address of a setup link on the site staff reach at `web_url` (scheme and host, maybe a path)."""
    return f"{web_url.rstrip('/')}{SETUP_PATH}{token}"


async def issue_setup_token(service: Service, email: str) -> str:
    """A new one-time setup link's token for an enabled account, valid WSPOLNOTA_STAFF_SETUP_HOURS.

    Raises:
        NoSuchAccount: when no enabled account has the email.
    """
    now = service.conversation.clock()
    token = new_token()
    expires = now + timedelta(hours=service.settings.staff_setup_hours)
    await add_setup_token(service.store, email, digest(token), expires, now)
    return token


async def add_staff(service: Service, email: str, role: str, actor: str) -> Added:
    """Adds an account without a password and issues its setup link; audited as `staff_add`.

    Raises:
        BadEmail: when the email is not an address.
        UnknownRole: when the role is not field, analyst or coordinator.
        AccountExists: when the email has an account already (disabled or not).
    """
    email = valid_email(email)
    if role not in {member.value for member in Role}:
        raise UnknownRole(role)
    now = service.conversation.clock()
    account = await add_account(service.store, email, role, now)
    token = await issue_setup_token(service, email)
    await audit(service.store, actor, "staff_add", {"account": account.id, "role": role}, now)
    return Added(account, token)


async def new_setup_link(service: Service, email: str, actor: str) -> str:
    """A new one-time setup link for an enabled account (its token): for a forgotten password or a lost
    authenticator. Using it sets a new password (and enrols the app again where one is required) and ends the
    account's sessions; until then the old password still works. Audited as `staff_new_link`.

    Raises:
        NoSuchAccount: when no enabled account has the email.
    """
    account = await find_account(service.store, email)
    if account is None or account.disabled:
        raise NoSuchAccount(email)
    token = await issue_setup_token(service, email)
    await audit(service.store, actor, "staff_new_link", {"account": account.id}, service.conversation.clock())
    return token


async def disable_staff(service: Service, email: str, actor: str) -> Account:
    """Disables an account (its sessions and setup link end at once); audited as `staff_disable`.

    Raises:
        NoSuchAccount: when no account has the email.
    """
    account, now = await _changed(service, email, disable_account)
    await audit(service.store, actor, "staff_disable", {"account": account.id}, now)
    return account


async def require_second_factor(service: Service, email: str, actor: str) -> str | None:
    """Requires an authenticator app's code for an account; audited as `staff_require_totp`.

    An enabled account not enrolled yet gets a new setup link (its token is returned): it cannot sign in
    until it has used it. None when the account is enrolled already (or disabled).

    Raises:
        NoSuchAccount: when no account has the email.
    """
    account, now = await _changed(service, email, require_totp)
    token = None
    if account.totp_secret is None and not account.disabled:
        token = await issue_setup_token(service, email)
    await audit(service.store, actor, "staff_require_totp", {"account": account.id}, now)
    return token


async def _changed(
    service: Service, email: str, change: Callable[[Store, str, datetime], Awaitable[None]]
) -> tuple[Account, datetime]:
    """Makes one change to an account now and reads the account back (for its id in the audit log).

    Raises:
        NoSuchAccount: when no account has the email.
    """
    now = service.conversation.clock()
    await change(service.store, email, now)
    account = await find_account(service.store, email)
    if account is None:  # pragma: no cover - accounts are never deleted
        raise NoSuchAccount(email)
    return account, now
