"""Staff accounts for the web console: the account, its one-time setup links and its signed-in sessions.

Secrets are never stored as given: a setup link's and a session's token only as the caller's digest,
a password only as the caller's hash. What a password or a code is worth is the caller's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update

from storage.models import StaffAccount, StaffSession, StaffSetupToken
from storage.repository import Store, Unit


class AccountExists(Exception):
    """An account with that email exists already."""

    def __init__(self, email: str) -> None:
        super().__init__(f"a staff account for {email} exists already (see `wspolnota staff list`)")


class NoSuchAccount(Exception):
    """No account has that email."""

    def __init__(self, email: str) -> None:
        super().__init__(f"no staff account for {email} (see `wspolnota staff list`)")


@dataclass(frozen=True, slots=True)
class Account:
    """What the console needs to know about a staff member, detached from the database."""

    id: int
    email: str
    role: str
    password_hash: str | None
    totp_secret: str | None
    totp_required: bool
    disabled: bool
    failed_attempts: int
    locked_until: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, row: StaffAccount) -> Account:
        return cls(
            row.id,
            row.email,
            row.role,
            row.password_hash,
            row.totp_secret,
            row.totp_required,
            row.disabled,
            row.failed_attempts,
            row.locked_until,
            row.created_at,
        )


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A live session and whose it is."""

    account: Account
    csrf_token: str
    created_at: datetime


def normal_email(email: str) -> str:
    return email.strip().lower()


async def _existing(unit: Unit, email: str) -> StaffAccount:
    """The account with the email.

    Raises:
        NoSuchAccount: when no account has it.
    """
    row = await _by_email(unit, email)
    if row is None:
        raise NoSuchAccount(normal_email(email))
    return row


async def _by_email(unit: Unit, email: str) -> StaffAccount | None:
    return await unit.session.scalar(select(StaffAccount).where(StaffAccount.email == normal_email(email)))


async def _revoke(unit: Unit, account_id: int) -> None:
    await unit.session.execute(delete(StaffSession).where(StaffSession.account_id == account_id))
    await unit.session.execute(delete(StaffSetupToken).where(StaffSetupToken.account_id == account_id))


async def add_account(store: Store, email: str, role: str, now: datetime) -> Account:
    """Creates an account without a password (its setup link sets one).

    Raises:
        AccountExists: when the email has an account, disabled or not.
    """
    async with store.unit() as unit:
        if await _by_email(unit, email) is not None:
            raise AccountExists(normal_email(email))
        row = StaffAccount(email=normal_email(email), role=role, created_at=now, updated_at=now)
        row.totp_required = False
        row.disabled = False
        row.failed_attempts = 0
        unit.add(row)
        await unit.flush()
        return Account.of(row)


async def list_accounts(store: Store) -> list[Account]:
    """Every account, by email."""
    async with store.unit(write=False) as unit:
        rows = await unit.session.scalars(select(StaffAccount).order_by(StaffAccount.email))
        return [Account.of(row) for row in rows]


async def find_account(store: Store, email: str) -> Account | None:
    """The account of this email, if any."""
    async with store.unit(write=False) as unit:
        row = await _by_email(unit, email)
        return None if row is None else Account.of(row)


async def any_active_account(store: Store) -> bool:
    """Whether anyone at all may use the console (it is off otherwise)."""
    async with store.unit(write=False) as unit:
        count = await unit.session.scalar(
            select(func.count()).select_from(StaffAccount).where(StaffAccount.disabled.is_(False))
        )
        return bool(count)


async def disable_account(store: Store, email: str, now: datetime) -> None:
    """Disables an account and ends its sessions and setup links at once.

    Raises:
        NoSuchAccount: when no account has the email.
    """
    async with store.unit() as unit:
        row = await _existing(unit, email)
        row.disabled = True
        row.updated_at = now
        await _revoke(unit, row.id)


async def require_totp(store: Store, email: str, now: datetime) -> None:
    """Makes the second factor compulsory for an account (it enrols at its next setup or sign-in).

    Raises:
        NoSuchAccount: when no account has the email.
    """
    async with store.unit() as unit:
        row = await _existing(unit, email)
        row.totp_required = True
        row.updated_at = now


async def add_setup_token(store: Store, email: str, digest: str, expires_at: datetime, now: datetime) -> None:
    """Issues a one-time setup link for an account; an earlier unused one stops working.

    Raises:
        NoSuchAccount: when no enabled account has the email.
    """
    async with store.unit() as unit:
        row = await _existing(unit, email)
        if row.disabled:
            raise NoSuchAccount(normal_email(email))
        await unit.session.execute(delete(StaffSetupToken).where(StaffSetupToken.account_id == row.id))
        unit.add(StaffSetupToken(digest=digest, account_id=row.id, created_at=now, expires_at=expires_at))


async def setup_account(store: Store, digest: str, now: datetime) -> Account | None:
    """The enabled account a setup link is for, while the link is valid."""
    async with store.unit(write=False) as unit:
        token = await unit.session.get(StaffSetupToken, digest)
        if token is None or token.expires_at <= now:
            return None
        row = await unit.session.get(StaffAccount, token.account_id)
        return None if row is None or row.disabled else Account.of(row)


async def complete_setup(
    store: Store,
    digest: str,
    password_hash: str,
    totp_secret: str | None,
    now: datetime,
    *,
    totp_step: int | None = None,
) -> Account | None:
    """Sets the password (and the enrolled TOTP secret) and spends the link; None when the link is not valid.

    Every session the account had ends: a new password is a new start.
    """
    async with store.unit() as unit:
        token = await unit.session.get(StaffSetupToken, digest)
        if token is None or token.expires_at <= now:
            return None
        row = await unit.session.get(StaffAccount, token.account_id)
        if row is None or row.disabled:
            return None
        row.password_hash = password_hash
        if totp_secret is not None:
            row.totp_secret = totp_secret
            row.totp_last_step = totp_step
        row.failed_attempts = 0
        row.locked_until = None
        row.updated_at = now
        await _revoke(unit, row.id)
        return Account.of(row)


async def record_failure(store: Store, account_id: int, now: datetime, lock_after: int, lock_for: timedelta) -> None:
    """Counts a failed sign-in; the `lock_after`th in a row locks the account for `lock_for`."""
    async with store.unit() as unit:
        row = await unit.session.get(StaffAccount, account_id)
        if row is None:
            return
        row.failed_attempts += 1
        if row.failed_attempts >= lock_after:
            row.locked_until = now + lock_for
            row.failed_attempts = 0
        row.updated_at = now


async def use_totp_step(store: Store, account_id: int, step: int) -> bool:
    """Spends a code's time step; False when this step, or a later one, was used already (a replayed code)."""
    async with store.unit() as unit:
        result = await unit.session.execute(
            update(StaffAccount)
            .where(
                StaffAccount.id == account_id,
                or_(StaffAccount.totp_last_step.is_(None), StaffAccount.totp_last_step < step),
            )
            .values(totp_last_step=step)
        )
        return bool(getattr(result, "rowcount", 0))


async def open_session(
    store: Store, account_id: int, digest: str, csrf_token: str, now: datetime, *, replaces: str | None = None
) -> None:
    """Signs a browser in: a new session (the one it replaces, if any, ends), failures forgotten."""
    async with store.unit() as unit:
        if replaces is not None:
            await unit.session.execute(delete(StaffSession).where(StaffSession.digest == replaces))
        row = await unit.session.get(StaffAccount, account_id)
        if row is not None:
            row.failed_attempts = 0
            row.locked_until = None
        unit.add(
            StaffSession(digest=digest, account_id=account_id, csrf_token=csrf_token, created_at=now, last_seen=now)
        )


async def session_for(
    store: Store, digest: str, now: datetime, idle: timedelta, lifetime: timedelta
) -> SignedIn | None:
    """The live session of this digest, seen now; an expired one, or a disabled account's, is ended."""
    async with store.unit() as unit:
        session = await unit.session.get(StaffSession, digest)
        if session is None:
            return None
        row = await unit.session.get(StaffAccount, session.account_id)
        if row is None or row.disabled or session.last_seen + idle <= now or session.created_at + lifetime <= now:
            await unit.session.delete(session)
            return None
        session.last_seen = now
        return SignedIn(Account.of(row), session.csrf_token, session.created_at)


async def close_session(store: Store, digest: str) -> None:
    """Signs a browser out."""
    async with store.unit() as unit:
        await unit.session.execute(delete(StaffSession).where(StaffSession.digest == digest))


async def count_sessions(store: Store, account_id: int) -> int:
    """How many sessions an account has open."""
    async with store.unit(write=False) as unit:
        return int(
            await unit.session.scalar(
                select(func.count()).select_from(StaffSession).where(StaffSession.account_id == account_id)
            )
            or 0
        )
