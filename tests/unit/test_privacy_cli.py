"""Staff privacy operations and live counts from the command line, with an audit trail."""

from __future__ import annotations

import asyncio
from pathlib import Path

from click.testing import CliRunner

from bot.cli import main
from bot.mailroom import build_mailroom
from bot.service import open_service
from bot.settings import load_settings
from storage.models import AuditEntry, Contact, Email, OutboxMessage, Respondent, Submission
from tests.support import count, service_environment

CORPUS = Path(__file__).resolve().parent.parent / "emails"


def env_for(tmp_path: Path) -> dict[str, str]:
    return service_environment(tmp_path / "data")


def counts(env: dict[str, str]) -> dict[str, int]:
    return asyncio.run(_counts(env))


async def _counts(env: dict[str, str]) -> dict[str, int]:
    async with open_service(load_settings(env, env_file=None)) as service:
        return {
            model.__tablename__: await count(service.store, model)
            for model in (Respondent, Contact, Submission, Email, OutboxMessage, AuditEntry)
        }


async def _receive(env: dict[str, str], *names: str) -> None:
    async with open_service(load_settings(env, env_file=None)) as service:
        mailroom = build_mailroom(service)
        for name in names:
            await mailroom.receive((CORPUS / name).read_bytes())


def test_forget_an_email_sender_everywhere_and_audit(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    asyncio.run(_receive(env, "01-gmail-pl-qp-top-posted.eml", "17-windows-1250-8bit-windows-live-mail.eml"))
    before = counts(env)
    assert before["email"] == 2 and before["outbox"] == 2
    address = "Marta.Wisniewska@example.pl"
    result = CliRunner().invoke(main, ["forget", "--email", address.upper(), "--yes"], env=env)
    assert result.exit_code == 0, result.output
    assert "Erased: 1 respondent with" in result.output
    after = counts(env)
    assert after["email"] == 1 and after["outbox"] == 1 and after["respondent"] == 1  # the other sender stays
    assert after["audit_log"] == 1
    again = CliRunner().invoke(main, ["forget", "--email", address, "--yes"], env=env)
    assert "Nothing was stored" in again.output


def test_stats_export_audit_and_purge(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    chat = CliRunner().invoke(main, ["chat"], env=env, input="1\n1\n")
    assert chat.exit_code == 0
    stats = CliRunner().invoke(main, ["stats"], env=env)
    assert "Rozpoczęte: 1" in stats.output and "Odpowiedzi na pytania:" in stats.output  # staff's Polish
    CliRunner().invoke(main, ["export", "--format", "csv", "--out", str(tmp_path / "x.csv")], env=env)
    assert (counts(env))["audit_log"] == 1
    bad = CliRunner().invoke(main, ["purge", "--older-than", "soon", "--yes"], env=env)
    assert bad.exit_code != 0 and "365d" in bad.output
    kept = CliRunner().invoke(main, ["purge", "--older-than", "1d", "--yes"], env=env)
    assert "0 submissions" in kept.output
    assert (counts(env))["submission"] == 1
    assert (counts(env))["audit_log"] == 2
