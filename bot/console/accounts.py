"""Staff roles, passwords (Argon2), the second factor (TOTP) and signing in, over storage.staff_accounts."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from storage.repository import Store
from storage.staff_accounts import Account, find_account, record_failure, use_totp_step

MIN_PASSWORD = 12
LOCK_AFTER = 5  # failed sign-ins in a row
LOCK_FOR = timedelta(minutes=15)
ISSUER = "Wspólnota"
_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) parameters
# Checked when the email has no account, so that a wrong email takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class Role(StrEnum):
    """Who may do what; each role may do everything the one before it may."""

    FIELD = "field"  # live counts, events, posters
    ANALYST = "analyst"  # also exports and reports
    COORDINATOR = "coordinator"  # also quotes, erasure, accounts, working groups

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def may(self, needed: Role) -> bool:
        """Whether this role may use what `needed` may."""
        return self.rank >= needed.rank


def new_token() -> str:
    """A random token for a link or a cookie (192 bits)."""
    return secrets.token_urlsafe(24)


def digest(token: str) -> str:
    """What the database keeps of a token: a leaked table gives no working link or cookie."""
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_problem(password: str) -> str | None:
    """Why a new password will not do (a catalog key), or None."""
    if len(password) < MIN_PASSWORD:
        return "password_short"
    return None


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, email: str) -> str:
    """The otpauth:// address an authenticator app reads (as a QR code or typed in)."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step a six-digit code is right for: now's, or one either side (a slow phone clock); None if wrong."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    for offset in (0, -1, 1):
        if hmac.compare_digest(totp.at(now, counter_offset=offset), code):
            return totp.timecode(now) + offset
    return None


class Outcome(StrEnum):
    SIGNED_IN = "signed_in"
    REFUSED = "refused"  # wrong email, password or code: the page never says which
    LOCKED = "locked"  # too many failures: try again later (said the same whether the email exists or not)
    NEEDS_CODE = "needs_code"  # right password, the code is missing


@dataclass(frozen=True, slots=True)
class Attempt:
    outcome: Outcome
    account: Account | None = None


async def sign_in(store: Store, email: str, password: str, code: str, now: datetime) -> Attempt:
    """Checks an email, password and (when enrolled) TOTP code; counts failures and locks after LOCK_AFTER."""
    account = await find_account(store, email)
    if account is None or account.disabled or account.password_hash is None:
        _verify(_DUMMY_HASH, password)
        return Attempt(Outcome.REFUSED)
    if account.locked_until is not None and account.locked_until > now:
        return Attempt(Outcome.LOCKED)
    if account.totp_required and account.totp_secret is None:
        # required after the account was set up: a new setup link (`staff require-totp` prints it) enrols it
        _verify(_DUMMY_HASH, password)
        return Attempt(Outcome.REFUSED)
    if not _verify(account.password_hash, password):
        await record_failure(store, account.id, now, LOCK_AFTER, LOCK_FOR)
        return Attempt(Outcome.REFUSED)
    if account.totp_secret is not None:
        if not code.strip():
            return Attempt(Outcome.NEEDS_CODE)
        step = totp_step(account.totp_secret, code, now)
        if step is None:
            await record_failure(store, account.id, now, LOCK_AFTER, LOCK_FOR)
            return Attempt(Outcome.REFUSED)
        if not await use_totp_step(store, account.id, step):  # a code seen already: someone looked over a shoulder
            return Attempt(Outcome.REFUSED)
    return Attempt(Outcome.SIGNED_IN, account)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
