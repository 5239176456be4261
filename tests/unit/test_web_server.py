"""The web server's own pieces that need no socket: the throttled log line and the connection cap."""

from __future__ import annotations

import logging
import resource

import pytest

from bot.transports.web_server import FD_RESERVE, Throttled, connection_cap


def test_a_recurring_condition_is_logged_once_per_interval_with_a_count(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    note = Throttled(logging.WARNING, "cannot accept: %s", interval=60, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING):
        for second in range(0, 125):  # a condition recurring every second for two minutes
            now[0] = float(second)
            note("Too many open files")
    assert [r.getMessage() for r in caplog.records] == [
        "cannot accept: Too many open files (1 since the last report)",
        "cannot accept: Too many open files (60 since the last report)",
        "cannot accept: Too many open files (60 since the last report)",
    ]


def test_the_connection_cap_leaves_descriptors_for_everything_else() -> None:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert connection_cap(10**9) <= max(8, soft - FD_RESERVE)
    assert connection_cap(8) == 8
