"""The rate limits every channel shares, on a clock the test moves by hand."""

from __future__ import annotations

from handlers.limits import TokenBucket, Verdict, WindowCounts


def test_the_rate_limit_refills_with_time() -> None:
    now = [0.0]
    limiter = TokenBucket(60, clock=lambda: now[0])
    assert all(limiter.allow("a") for _ in range(15)) and not limiter.allow("a")
    assert limiter.allow("b")  # per visitor
    now[0] += 2
    assert limiter.allow("a") and limiter.allow("a") and not limiter.allow("a")
    assert all(TokenBucket(0).allow("a") for _ in range(1000))


def test_a_flood_is_dropped_and_told_once_and_keeps_counting() -> None:
    now = [100.0]
    flood = WindowCounts(lambda: now[0], window=10)
    verdicts = [flood.hit("user", 3) for _ in range(6)]
    assert verdicts == [Verdict.KEEP] * 3 + [Verdict.DROP_AND_SAY, Verdict.DROP, Verdict.DROP]
    assert flood.hit("other", 3) is Verdict.KEEP  # each sender apart
    now[0] += 10
    assert flood.hit("user", 3) is Verdict.DROP  # dropped ones counted too: one who keeps at it stays slowed
    now[0] += 20
    assert [flood.hit("user", 3) for _ in range(4)] == [Verdict.KEEP] * 3 + [Verdict.DROP_AND_SAY]
    assert all(WindowCounts(lambda: now[0]).hit("user", 0) is Verdict.KEEP for _ in range(100))


def test_keys_beyond_the_bound_are_forgotten_oldest_first() -> None:
    counts = WindowCounts(lambda: 0.0, keep=2)
    for key in ("a", "b", "a", "c"):
        counts.take(key)
    assert (counts.count("a"), counts.count("b"), counts.count("c")) == (2, 0, 1)
