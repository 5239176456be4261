"""Benchmark: 2,000 working-group application emails through a real Dovecot and the service (read,
store, recognise, extract, record through the engine, acknowledge), beside 2,000 consultation opinions
the same way in the same run. Prints messages/s for both and the ratio (aim: applications within 1.5×).

Usage: `python -m bench.applications [--messages 2000]` (needs Debian's dovecot-imapd). Both run on the
shipped configuration, inside its call for applications (September 2027), each sender distinct.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bot.mailroom import build_mailroom
from bot.service import open_service
from bot.settings import load_settings
from bot.transports.mailbox import MailboxReader
from storage.models import Email
from storage.repository import Store
from tests.support import REPOSITORY as ROOT
from tests.support import SHIPPED_CONFIG
from tests.support.dovecot import DovecotServer, require_dovecot

OPINIONS = ROOT / "tests" / "emails"
APPLICATIONS = OPINIONS / "applications"
DURING_THE_CALL = datetime(2027, 9, 15, 10, 0, tzinfo=UTC)  # when our mailbox received them


async def email_kinds(store: Store) -> dict[str, int]:
    """How the stored emails were read: opinion, form_reply, application, auto_reply…"""
    async with store.sessions() as session:
        rows = await session.execute(select(Email.kind, func.count()).group_by(Email.kind))
        return {kind: n for kind, n in rows.all()}


def messages(folder: Path, count: int) -> list[bytes]:
    """The folder's emails, each made a new one from its own sender (Message-ID and From), cycled to `count`."""
    sources = [path.read_bytes() for path in sorted(folder.glob("*.eml")) if path.stat().st_size < 100_000]
    out = []
    for n in range(count):
        raw = sources[n % len(sources)]
        stamped = re.sub(rb"(?im)^Message-ID:\s*<", f"Message-ID: <bench{n}.".encode(), raw, count=1)
        if stamped == raw:
            stamped = f"Message-ID: <bench{n}@example.pl>\r\n".encode() + raw
        out.append(re.sub(rb"(?im)^From:.*$", f"From: Osoba {n} <person{n}@example.pl>".encode(), stamped, count=1))
    return out


async def ingest(raws: list[bytes]) -> tuple[int, float, dict[str, int]]:
    """Appends the emails to a fresh Dovecot (received during the call) and times one read by the service."""
    server = DovecotServer(require_dovecot())
    server.start()
    try:
        for raw in raws:
            path = server.append(raw)
            os.utime(path, (DURING_THE_CALL.timestamp(), DURING_THE_CALL.timestamp()))
        data = Path(tempfile.mkdtemp(prefix="wspolnota-bench-applications-"))
        settings = load_settings(
            {
                "WSPOLNOTA_DATA_DIR": str(data),
                "WSPOLNOTA_SECRET_KEY": "bench-" + "x" * 32,
                "WSPOLNOTA_CONFIG_DIR": str(SHIPPED_CONFIG),
                "WSPOLNOTA_WEB_ENABLED": "false",
                **server.environment(),
            },
            env_file=None,
        )
        async with open_service(settings, clock=lambda: DURING_THE_CALL) as service:
            reader = MailboxReader(settings, build_mailroom(service), service.mailbox_positions)
            started = time.perf_counter()
            read = await reader.once()
            seconds = time.perf_counter() - started
            kinds = await email_kinds(service.store)
            return read, seconds, kinds
    finally:
        server.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    opinions = await ingest(messages(OPINIONS, args.messages))
    applications = await ingest(messages(APPLICATIONS, args.messages))
    print(f"\n{args.messages} emails of each kind in Dovecot, read by the service in one run")
    print(f"{'':>14} {'messages':>9} {'seconds':>8} {'messages/s':>11}")
    for name, (read, seconds, kinds) in (("opinions", opinions), ("applications", applications)):
        taken = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
        print(f"{name:>14} {read:>9} {seconds:>8.2f} {read / seconds:>11.0f}   ({taken})")
    ratio = (applications[1] / applications[0]) / (opinions[1] / opinions[0])
    print(f"\napplication / opinion time per message: {ratio:.2f} (aim: <= 1.5)")


if __name__ == "__main__":
    asyncio.run(main())
