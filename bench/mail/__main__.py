"""Benchmark: 2,000 emails appended to a real Dovecot, ingested by the service; beside it, a bare
aioimaplib fetch of the same messages as the floor. Prints messages/s for both and the ratio.

Usage: `python -m bench.mail [--messages 2000]` (needs Debian's dovecot-imapd).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aioimaplib

from bot.mailroom import build_mailroom
from bot.service import open_service
from bot.settings import load_settings
from bot.transports.mailbox import MailboxReader
from tests.support import REPOSITORY as ROOT
from tests.support.dovecot import DovecotServer, require_dovecot

CORPUS = ROOT / "tests" / "emails"


def messages(count: int) -> list[bytes]:
    """Corpus emails made distinct (each its own Message-ID), cycled to `count`."""
    sources = [path.read_bytes() for path in sorted(CORPUS.glob("*.eml")) if path.stat().st_size < 100_000]
    out = []
    for n in range(count):
        raw = sources[n % len(sources)]
        stamped = re.sub(rb"(?im)^Message-ID:\s*<", f"Message-ID: <bench{n}.".encode(), raw, count=1)
        out.append(stamped if stamped != raw else f"Message-ID: <bench{n}@example.pl>\r\n".encode() + raw)
    return out


async def bare_fetch(server: DovecotServer) -> int:
    """The floor: log in, list the UIDs, fetch each message with BODY.PEEK[] — nothing else."""
    client = aioimaplib.IMAP4(server.host, server.port, timeout=30)
    await client.wait_hello_from_server()
    await client.login(server.user, server.password)
    await client.select("INBOX")
    response = await client.uid_search("ALL", charset=None)
    uids = response.lines[0].split()
    fetched = 0
    for uid in uids:
        reply = await client.uid("fetch", uid.decode(), "(BODY.PEEK[])")
        fetched += any(isinstance(line, bytearray) for line in reply.lines)
    await client.logout()
    return fetched


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    server = DovecotServer(require_dovecot())
    server.start()
    try:
        for raw in messages(args.messages):
            server.append(raw)
        started = time.perf_counter()
        fetched = await bare_fetch(server)
        bare = time.perf_counter() - started

        data = Path(tempfile.mkdtemp(prefix="wspolnota-bench-mail-"))
        settings = load_settings(
            {
                "WSPOLNOTA_DATA_DIR": str(data),
                "WSPOLNOTA_SECRET_KEY": "bench-" + "x" * 32,
                "WSPOLNOTA_WEB_ENABLED": "false",
                **server.environment(),
            },
            env_file=None,
        )
        async with open_service(settings, clock=lambda: datetime.now(UTC)) as service:
            reader = MailboxReader(settings, build_mailroom(service), service.mailbox_positions)
            started = time.perf_counter()
            read = await reader.once()
            ours = time.perf_counter() - started
    finally:
        server.close()
    print(f"\n{args.messages} emails in Dovecot")
    print(f"{'':>30} {'messages':>9} {'seconds':>8} {'messages/s':>11}")
    print(f"{'bare aioimaplib fetch':>30} {fetched:>9} {bare:>8.2f} {fetched / bare:>11.0f}")
    print(f"{'service (parse, store, move)':>30} {read:>9} {ours:>8.2f} {read / ours:>11.0f}")
    ratio = (ours / read) / (bare / fetched)
    print(f"\nservice / bare time per message: {ratio:.2f} (aim: >= 500 messages/s; the ratio is for the record)")


if __name__ == "__main__":
    asyncio.run(main())
