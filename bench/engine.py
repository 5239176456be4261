"""Benchmark: simulated respondents complete the shipped questionnaire through engine + SQLite.

Prints answers/s, p50/p99 per step, and the per-answer cost with 1,000 vs 1,000,000 answers
already stored, measured side by side in one run (rounds alternate between the two databases,
so machine noise hits both alike). Usage: `python -m bench.engine [--respondents N] [--rounds R]`.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.service import Service, open_service
from bot.settings import load_settings
from handlers.definitions.questionnaire import QuestionType
from handlers.engine.messages import Action, Inbound, ReplyKind

TYPED = {
    QuestionType.TEXT: "Sąsiedzi, którzy się znają i pomagają sobie nawzajem.",
    QuestionType.EMAIL: "ala@example.org",
    QuestionType.SCALE: "4",
    QuestionType.YES_NO: "tak",
    QuestionType.SINGLE_CHOICE: "2",
    QuestionType.MULTIPLE_CHOICE: "1",
}


def seed(path: Path, answers: int) -> None:
    """Fills the tables directly (fast), shaped like real completed submissions of 12 answers."""
    per = 12
    now = datetime(2026, 5, 30, tzinfo=UTC).replace(tzinfo=None).isoformat(sep=" ")
    connection = sqlite3.connect(path)
    with connection:
        submissions = answers // per
        connection.executemany(
            "INSERT INTO respondent (id, channel, pseudonym, created_at) VALUES (?, 'telegram', ?, ?)",
            ((i, f"seed{i:060d}", now) for i in range(1, submissions + 1)),
        )
        connection.executemany(
            "INSERT INTO submission (id, respondent_id, questionnaire_id, questionnaire_version, channel, event,"
            " event_known, language, privacy_version, status, step, editing, started_at, updated_at, finished_at)"
            " VALUES (?, ?, 'wizja-i-wartosci', 1, 'telegram', 'seed', 0, 'pl', '2026-05-01', 'completed', 'done',"
            " 0, ?, ?, ?)",
            ((i, i, now, now, now) for i in range(1, submissions + 1)),
        )
        connection.executemany(
            "INSERT INTO answer (submission_id, question_code, options, text, number, skipped, answered_at)"
            " VALUES (?, ?, '[\"trust\"]', 'Tekst odpowiedzi', NULL, 0, ?)",
            ((s, f"q{q}", now) for s in range(1, submissions + 1) for q in range(per)),
        )
    connection.close()


async def respondent(service: Service, name: str, latencies: list[float]) -> int:
    """One person from /start to confirmation; returns how many answers they gave."""
    ref = service.respondent("telegram", name)
    conversation = service.conversation
    questionnaire = conversation.questionnaires["wizja-i-wartosci"]
    await conversation.handle(Inbound(ref, action=Action.START, source="bench"))
    replies = await conversation.handle(Inbound(ref, action=Action.ACCEPT))
    answered = 0
    while replies[-1].question is not None:
        question = questionnaire.question(replies[-1].question)
        assert question is not None
        started = time.perf_counter()
        replies = await conversation.handle(Inbound(ref, text=TYPED[question.type]))
        latencies.append(time.perf_counter() - started)
        if replies[0].kind is ReplyKind.PROBLEM:
            raise RuntimeError(f"the benchmark's answer to {question.code} was refused: {replies[0].text}")
        answered += 1
    await conversation.handle(Inbound(ref, action=Action.CONFIRM))
    return answered


async def measure(service: Service, prefix: str, respondents: int, concurrency: int) -> tuple[int, float, list[float]]:
    """Runs respondents in waves of `concurrency`; returns answers, wall seconds, step latencies."""
    latencies: list[float] = []
    answers = 0
    started = time.perf_counter()
    for wave in range(0, respondents, concurrency):
        names = [f"{prefix}-{n}" for n in range(wave, min(wave + concurrency, respondents))]
        answers += sum(await asyncio.gather(*(respondent(service, name, latencies) for name in names)))
    return answers, time.perf_counter() - started, latencies


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=100, help="per round and database")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--large", type=int, default=1_000_000, help="answers already stored in the large DB")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="wspolnota-bench-"))
    services: dict[str, Service] = {}
    contexts = {}
    # "1k, no grouping" runs every step in its own transaction, to show what group commit buys.
    for label, stored in (("1k", 1_000), ("1M", args.large), ("1k-solo", 1_000)):
        settings = load_settings(
            {"WSPOLNOTA_DATA_DIR": str(root / label), "WSPOLNOTA_SECRET_KEY": "bench-" + "x" * 32}, env_file=None
        )
        # Migrate first (through the service), then seed with plain sqlite3, then reopen.
        async with open_service(settings):
            pass
        seeding = time.perf_counter()
        seed(root / label / "wspolnota.db", stored)
        print(f"seeded {label}: {stored:,} answers in {time.perf_counter() - seeding:.1f} s", flush=True)
        contexts[label] = open_service(settings)
        services[label] = await contexts[label].__aenter__()
        if label.endswith("solo"):
            services[label].conversation.batches.max_batch = 1

    results: dict[str, tuple[int, float, list[float]]] = {label: (0, 0.0, []) for label in services}
    for round_ in range(args.rounds):
        order = list(services) if round_ % 2 == 0 else list(reversed(services))  # alternate to share noise
        for label in order:
            answers, seconds, latencies = await measure(
                services[label], f"r{round_}", args.respondents, args.concurrency
            )
            total_answers, total_seconds, all_latencies = results[label]
            results[label] = (total_answers + answers, total_seconds + seconds, all_latencies + latencies)

    print(f"\n{args.rounds} rounds x {args.respondents} respondents per database, {args.concurrency} at a time")
    print(f"{'stored':>8} {'answers':>8} {'answers/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'ms/answer':>10}")
    cost = {}
    for label, (answers, seconds, latencies) in results.items():
        cost[label] = seconds / answers
        print(
            f"{label:>8} {answers:>8} {answers / seconds:>10.0f} {percentile(latencies, 50) * 1e3:>8.2f}"
            f" {percentile(latencies, 99) * 1e3:>8.2f} {cost[label] * 1e3:>10.3f}"
        )
    print(f"\nper-answer cost ratio 1M/1k: {cost['1M'] / cost['1k']:.3f} (goal <= 1.1)")
    print(f"group commit speed-up (1k-solo / 1k cost): {cost['1k-solo'] / cost['1k']:.2f}x")
    for context in contexts.values():
        await context.__aexit__(None, None, None)


if __name__ == "__main__":
    asyncio.run(main())
