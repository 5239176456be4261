"""Staff accounts for the console: setup links, passwords, TOTP, lockout, sessions' expiry, disabling, the CLI."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from bot.cli import main
from bot.console.accounts import (
    LOCK_AFTER,
    Outcome,
    Role,
    digest,
    hash_password,
    new_token,
    new_totp_secret,
    sign_in,
)
from bot.service import Service, open_service
from storage.models import AuditEntry, StaffAccount
from storage.staff_accounts import (
    add_account,
    add_setup_token,
    any_active_account,
    complete_setup,
    count_sessions,
    disable_account,
    open_session,
    session_for,
    setup_account,
)
from tests.support import make_settings, service_environment
from tests.support.settings import FakeClock

IDLE, LIFETIME = timedelta(minutes=30), timedelta(hours=12)
PASSWORD = "correct horse battery"


async def set_up(service: Service, email: str = "ala@um.warszawa.pl", *, totp: str | None = None) -> int:
    now = service.conversation.clock()
    account = await add_account(service.store, email, "field", now)
    token = new_token()
    await add_setup_token(service.store, email, digest(token), now + timedelta(hours=1), now)
    assert await complete_setup(service.store, digest(token), hash_password(PASSWORD), totp, now) is not None
    return account.id


def test_roles_include_the_ones_below() -> None:
    assert Role.COORDINATOR.may(Role.ANALYST) and Role.ANALYST.may(Role.FIELD)
    assert not Role.FIELD.may(Role.ANALYST) and not Role.ANALYST.may(Role.COORDINATOR)


async def test_a_setup_link_works_once_and_expires(service: Service, clock: FakeClock) -> None:
    now = clock()
    assert not await any_active_account(service.store)
    await add_account(service.store, "Ola@UM.warszawa.pl", "analyst", now)
    token = new_token()
    await add_setup_token(service.store, "ola@um.warszawa.pl", digest(token), now + timedelta(hours=1), now)
    assert await any_active_account(service.store)
    assert await setup_account(service.store, digest("another"), now) is None
    assert (await setup_account(service.store, digest(token), now)) is not None
    clock.advance(hours=2)
    assert await setup_account(service.store, digest(token), clock()) is None
    assert await complete_setup(service.store, digest(token), hash_password(PASSWORD), None, clock()) is None

    again = new_token()
    await add_setup_token(service.store, "ola@um.warszawa.pl", digest(again), clock() + timedelta(hours=1), clock())
    assert await complete_setup(service.store, digest(again), hash_password(PASSWORD), None, clock()) is not None
    assert await complete_setup(service.store, digest(again), hash_password("x" * 12), None, clock()) is None
    async with service.store.unit(write=False) as unit:
        row = await unit.session.scalar(select(StaffAccount))
        assert row is not None and row.password_hash is not None
        assert PASSWORD not in row.password_hash and row.password_hash.startswith("$argon2id$")


async def test_sign_in_never_says_whether_the_email_exists(service: Service, clock: FakeClock) -> None:
    await set_up(service)
    assert (await sign_in(service.store, "ala@um.warszawa.pl", PASSWORD, "", clock())).outcome is Outcome.SIGNED_IN
    assert (await sign_in(service.store, "ALA@um.warszawa.pl ", PASSWORD, "", clock())).outcome is Outcome.SIGNED_IN
    wrong = await sign_in(service.store, "ala@um.warszawa.pl", "wrong password!", "", clock())
    nobody = await sign_in(service.store, "nobody@um.warszawa.pl", PASSWORD, "", clock())
    assert wrong.outcome is nobody.outcome is Outcome.REFUSED


async def test_five_failures_lock_the_account_for_fifteen_minutes(service: Service, clock: FakeClock) -> None:
    await set_up(service)
    for _ in range(LOCK_AFTER):
        assert (
            await sign_in(service.store, "ala@um.warszawa.pl", "nope nope nope", "", clock())
        ).outcome is Outcome.REFUSED
    assert (await sign_in(service.store, "ala@um.warszawa.pl", PASSWORD, "", clock())).outcome is Outcome.LOCKED
    clock.advance(minutes=14)
    assert (await sign_in(service.store, "ala@um.warszawa.pl", PASSWORD, "", clock())).outcome is Outcome.LOCKED
    clock.advance(minutes=2)
    assert (await sign_in(service.store, "ala@um.warszawa.pl", PASSWORD, "", clock())).outcome is Outcome.SIGNED_IN


async def test_an_enrolled_account_needs_its_current_code(service: Service, clock: FakeClock) -> None:
    secret = new_totp_secret()
    await set_up(service, totp=secret)
    email = "ala@um.warszawa.pl"
    assert (await sign_in(service.store, email, PASSWORD, "", clock())).outcome is Outcome.NEEDS_CODE
    code = pyotp.TOTP(secret).at(clock())
    stale = pyotp.TOTP(secret).at(clock() - timedelta(minutes=5))
    assert (await sign_in(service.store, email, PASSWORD, stale, clock())).outcome is Outcome.REFUSED
    assert (await sign_in(service.store, email, "wrong password!", code, clock())).outcome is Outcome.REFUSED
    assert (await sign_in(service.store, email, PASSWORD, code, clock())).outcome is Outcome.SIGNED_IN


async def test_sessions_expire_when_idle_and_at_their_lifetime(service: Service, clock: FakeClock) -> None:
    account = await set_up(service)
    await open_session(service.store, account, digest("a"), "csrf", clock())
    clock.advance(minutes=29)
    assert await session_for(service.store, digest("a"), clock(), IDLE, LIFETIME) is not None
    clock.advance(minutes=31)
    assert await session_for(service.store, digest("a"), clock(), IDLE, LIFETIME) is None
    assert await count_sessions(service.store, account) == 0

    await open_session(service.store, account, digest("b"), "csrf", clock())
    for _ in range(12 * 3):  # busy all day, never idle for long
        clock.advance(minutes=20)
        seen = await session_for(service.store, digest("b"), clock(), IDLE, LIFETIME)
    assert seen is None


async def test_disabling_ends_every_session_and_the_console(service: Service, clock: FakeClock) -> None:
    account = await set_up(service)
    await open_session(service.store, account, digest("a"), "csrf", clock())
    await open_session(service.store, account, digest("b"), "csrf", clock())
    assert await count_sessions(service.store, account) == 2
    await disable_account(service.store, "ala@um.warszawa.pl", clock())
    assert await count_sessions(service.store, account) == 0
    assert await session_for(service.store, digest("a"), clock(), IDLE, LIFETIME) is None
    assert (await sign_in(service.store, "ala@um.warszawa.pl", PASSWORD, "", clock())).outcome is Outcome.REFUSED
    assert not await any_active_account(service.store)


# -- the commands ----------------------------------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return service_environment(tmp_path / "data")


def invoke(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def audited(env: dict[str, str]) -> list[str]:
    async def read() -> list[str]:
        settings = make_settings(Path(env["WSPOLNOTA_DATA_DIR"]))
        async with open_service(settings) as service, service.store.unit(write=False) as unit:
            return [entry.action for entry in await unit.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]

    return asyncio.run(read())


def test_staff_commands_add_list_require_totp_and_disable(env: dict[str, str]) -> None:
    added = invoke(env, "staff", "add", "Ala@UM.Warszawa.pl", "--role", "coordinator")
    assert added.exit_code == 0, added.output
    link = added.output.strip().splitlines()[-1]
    assert link.startswith("http://127.0.0.1:8080/staff/setup/") and len(link.rsplit("/", 1)[1]) >= 32
    listed = invoke(env, "staff", "list")
    assert "ala@um.warszawa.pl  coordinator  password  setup link pending" in listed.output
    required = invoke(env, "staff", "require-totp", "ala@um.warszawa.pl", "--web", "https://ankieta.example/")
    assert required.exit_code == 0 and "https://ankieta.example/staff/setup/" in required.output
    fresh = invoke(env, "staff", "new-link", "ala@um.warszawa.pl")
    assert fresh.exit_code == 0 and "works once" in fresh.output
    assert fresh.output.strip().splitlines()[-1].startswith("http://127.0.0.1:8080/staff/setup/")
    disabled = invoke(env, "staff", "disable", "ala@um.warszawa.pl")
    assert disabled.exit_code == 0, disabled.output
    assert "disabled" in invoke(env, "staff", "list").output
    assert audited(env) == ["staff_add", "staff_require_totp", "staff_new_link", "staff_disable"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["staff", "disable", "nobody@example.org"], "Error: no staff account for nobody@example.org"),
        (["staff", "require-totp", "nobody@example.org"], "Error: no staff account for nobody@example.org"),
        (["staff", "new-link", "nobody@example.org"], "Error: no staff account for nobody@example.org"),
    ],
)
def test_staff_commands_fail_in_one_line(env: dict[str, str], args: list[str], says: str) -> None:
    result = invoke(env, *args)
    assert result.exit_code == 1 and says in result.output and "Traceback" not in result.output


def test_adding_an_account_twice_fails_in_one_line(env: dict[str, str]) -> None:
    assert invoke(env, "staff", "add", "ala@um.warszawa.pl", "--role", "field").exit_code == 0
    again = invoke(env, "staff", "add", "ala@um.warszawa.pl", "--role", "field")
    assert again.exit_code == 1 and "Error: a staff account for ala@um.warszawa.pl exists already" in again.output
    assert invoke(env, "staff", "add", "not-an-email", "--role", "field").exit_code == 2


async def test_a_code_is_accepted_once(service: Service, clock: FakeClock) -> None:
    secret = new_totp_secret()
    await set_up(service, totp=secret)
    email = "ala@um.warszawa.pl"
    code = pyotp.TOTP(secret).at(clock())
    assert (await sign_in(service.store, email, PASSWORD, code, clock())).outcome is Outcome.SIGNED_IN
    assert (await sign_in(service.store, email, PASSWORD, code, clock())).outcome is Outcome.REFUSED  # replayed
    earlier = pyotp.TOTP(secret).at(clock() - timedelta(seconds=30))
    assert (await sign_in(service.store, email, PASSWORD, earlier, clock())).outcome is Outcome.REFUSED
    clock.advance(seconds=30)
    later = pyotp.TOTP(secret).at(clock())
    assert (await sign_in(service.store, email, PASSWORD, later, clock())).outcome is Outcome.SIGNED_IN
