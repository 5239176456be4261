"""Benchmark: the working groups' draw on 1,000 synthetic applicants, beside a draw of 120 in the same run.

Three groups of 24 with the quotas of config/recruitment.yaml; the applicants' sectors skewed as a real
call's (residents and NGOs many, City Hall few), most asking for one group, some for two or three.
Times one full selection with its reserve lists (aim: <= 30 s on a 2-core machine) and prints the
ratio to the 120-applicant draw, with each group's pool.

Then the decisions for everyone in the full draw: `groups notify` (one message each, the seats with a calendar
invitation) and the mailer's delivery to a local SMTP server (messages/s), beside the same number of plain
messages queued and sent the same way (the ratio is what the decisions cost over sending itself).

Usage: `python -m bench.selection [--applicants 1000] [--small 120] [--seed 20271008] [--untuned]`
(`--untuned` also times the library's own HiGHS adapter, untouched: over a minute more).
Needs the extra: pip install -e ".[selection]".
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from selection.draw import draw
from selection.model import Candidate, Draw, GroupSpec, Quota

ROOT = Path(__file__).resolve().parent.parent
CALL = ROOT / "config" / "recruitment.yaml"
DATA_SEED = 2027  # the synthetic applicants, fixed
# A call's skew: residents and NGOs many, the offices few; how many groups each one asks for.
SECTOR_WEIGHTS = {
    "ngo": 28,
    "informal": 12,
    "resident": 38,
    "district_office": 8,
    "city_institution": 9,
    "city_hall": 5,
}
GROUPS_WANTED = {1: 70, 2: 20, 3: 10}
GROUP_WEIGHTS = (40, 35, 25)  # the first area draws the most applicants


def specs() -> list[GroupSpec]:
    """The groups, seats and quotas of config/recruitment.yaml."""
    call = yaml.safe_load(CALL.read_text(encoding="utf-8"))
    quotas = call.get("quotas", {})
    return [
        GroupSpec(
            code=group["code"],
            seats=int(group["seats"]),
            quotas={sector: Quota(int(q["min"]), int(q["max"])) for sector, q in quotas.get(group["code"], {}).items()},
        )
        for group in call["groups"]
    ]


def applicants(count: int, codes: list[str]) -> list[Candidate]:
    """`count` synthetic applicants, the same for the same count."""
    rng = random.Random(DATA_SEED)
    sectors, weights = list(SECTOR_WEIGHTS), list(SECTOR_WEIGHTS.values())
    out = []
    for n in range(count):
        wanted = rng.choices(list(GROUPS_WANTED), weights=list(GROUPS_WANTED.values()))[0]
        groups: list[str] = []
        while len(groups) < wanted:
            code = rng.choices(codes, weights=GROUP_WEIGHTS[: len(codes)])[0]
            if code not in groups:
                groups.append(code)
        out.append(Candidate(id=n + 1, sector=rng.choices(sectors, weights=weights)[0], groups=tuple(groups)))
    return out


def timed(candidates: list[Candidate], groups: list[GroupSpec], seed: int, *, tuned: bool = True) -> tuple[Draw, float]:
    started = time.perf_counter()
    result = draw(candidates, groups, seed, tuned=tuned)
    return result, time.perf_counter() - started


# ---------------------------------------------------------------------------------------------------
# The decisions: everyone in the draw told once, through the outbox and a local SMTP server.
# ---------------------------------------------------------------------------------------------------
AFTER_THE_CALL = datetime(2027, 10, 8, 7, 0, tzinfo=UTC)  # 09:00 in Warsaw on the decision date


@dataclass(frozen=True, slots=True)
class Sending:
    """What sending the decisions took: queueing them (`groups notify`) and the mailer's delivery."""

    messages: int
    invitations: int
    queue_seconds: float
    send_seconds: float
    plain_seconds: float  # the same number of plain outbox messages, queued and sent the same way


async def _decisions(result: Draw) -> Sending:
    from bot.service import open_service
    from bot.transports.mailer import Mailer
    from bot.working_groups import working_groups
    from storage.applications import ApplicationFields
    from storage.outbox import QueuedMail, queue_mail
    from tests.support import SHIPPED_CONFIG, FakeClock, make_settings
    from tests.support.applicants import record_applicant
    from tests.support.smtp import RecordingSMTPServer

    server = RecordingSMTPServer()
    await server.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            settings = make_settings(
                Path(folder) / "data", WSPOLNOTA_CONFIG_DIR=str(SHIPPED_CONFIG), **server.environment()
            )
            async with open_service(settings, clock=FakeClock(AFTER_THE_CALL)) as service:
                at = AFTER_THE_CALL - timedelta(days=10)
                async with service.store.unit() as unit:
                    for candidate in result.candidates:  # the draw's applicants, as the engine records them
                        fields = ApplicationFields(
                            name=f"Osoba {candidate.id}",
                            email=f"osoba{candidate.id}@example.pl",
                            organisation="Organizacja",
                            sector=candidate.sector,
                            groups=candidate.groups,
                            available=True,
                            language=("pl", "en", "uk")[candidate.id % 3],
                        )
                        await record_applicant(unit, f"a{candidate.id}", fields, at)
                groups = working_groups(service)
                assert groups is not None
                await groups.store_draw(result, "bench")
                mailer = Mailer(service.settings, service.outbox, service.conversation.clock)
                started = time.perf_counter()
                told = await groups.notify("bench")
                queued = time.perf_counter()
                sent = 0
                while due := await mailer.send_due():
                    sent += due
                done = time.perf_counter()
                await server.wait_for(sent)
                invitations = sum(
                    any(p.get_content_type() == "text/calendar" for p in m.message.walk()) for m in server.received
                )
                assert told == len(result.candidates) and sent >= told, (told, sent)
                # The same number of plain messages through the same outbox and mailer: what sending costs alone.
                plain_started = time.perf_counter()
                async with service.store.unit() as unit:
                    for n in range(sent):
                        mail = QueuedMail(f"plain{n}@example.pl", f"<plain{n}@bench>", "Plain", "Tekst " * 80, "form")
                        queue_mail(unit, mail, service.conversation.clock())
                while await mailer.send_due():
                    pass
                plain_seconds = time.perf_counter() - plain_started
                await server.wait_for(2 * sent)
                return Sending(sent, invitations, queued - started, done - queued, plain_seconds)
    finally:
        await server.stop()


def send_decisions(result: Draw) -> Sending:
    """Records the draw's applicants in a fresh service (SQLite, the shipped call), stores the draw, then
    times `groups notify` and the mailer's delivery to a local SMTP server, beside plain messages."""
    return asyncio.run(_decisions(result))


def describe(name: str, result: Draw, seconds: float) -> None:
    pools = ", ".join(f"{group.code} {len(group.pool)}" for group in result.groups)
    second = sum(len(group.second_seats) for group in result.groups)
    print(
        f"{name:>22} {len(result.candidates):>10} {seconds:>8.2f}   pools: {pools}; second seats: {second}; "
        f"reserves: {sum(len(group.reserve) for group in result.groups)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--applicants", type=int, default=1000)
    parser.add_argument("--small", type=int, default=120)
    parser.add_argument("--seed", type=int, default=20271008)
    parser.add_argument("--untuned", action="store_true", help="also time the library's own HiGHS adapter")
    args = parser.parse_args()
    groups = specs()
    codes = [spec.code for spec in groups]
    big = applicants(args.applicants, codes)
    small = applicants(args.small, codes)

    small_draw, small_seconds = timed(small, groups, args.seed)
    big_draw, big_seconds = timed(big, groups, args.seed)
    print(f"\nThe working groups' draw: {len(groups)} groups, {sum(s.seats for s in groups)} seats, maximin")
    print(f"{'':>22} {'applicants':>10} {'seconds':>8}")
    describe("small call", small_draw, small_seconds)
    describe("full call", big_draw, big_seconds)
    if args.untuned:
        untuned_draw, untuned_seconds = timed(big, groups, args.seed, tuned=False)
        describe("full, library's HiGHS", untuned_draw, untuned_seconds)
        print(f"\nthe library's own HiGHS adapter / ours: {untuned_seconds / big_seconds:.2f}")
    big_pool = sum(len(group.pool) for group in big_draw.groups)
    small_pool = sum(len(group.pool) for group in small_draw.groups)
    print(
        f"\nfull / small time: {big_seconds / small_seconds:.2f} for {big_pool / small_pool:.2f}x the pool "
        f"({big_seconds / big_pool * 1000:.1f} vs {small_seconds / small_pool * 1000:.1f} ms per pool member)"
    )
    print(f"full call with reserves: {big_seconds:.2f} s (aim: <= 30 s)")
    sending = send_decisions(big_draw)
    total = sending.queue_seconds + sending.send_seconds
    print(
        f"\nDecisions for {len(big_draw.candidates)} applicants: {sending.messages} emails "
        f"({sending.invitations} with a calendar invitation), queued in {sending.queue_seconds:.2f} s "
        f"({sending.messages / sending.queue_seconds:.0f}/s), sent through SMTP in {sending.send_seconds:.2f} s "
        f"({sending.messages / sending.send_seconds:.0f}/s)"
    )
    print(
        f"the same number of plain messages, queued and sent: {sending.plain_seconds:.2f} s "
        f"({sending.messages / sending.plain_seconds:.0f}/s); decisions / plain: {total / sending.plain_seconds:.2f}"
    )


if __name__ == "__main__":
    main()
