"""The rules that bound ballot stuffing: hourly allowances per place, the completion flag, where a request is from."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from handlers.definitions.config_files import ConfigError
from handlers.limits import WindowCounts
from handlers.web.guard import (
    BURST,
    KIOSK_BURST,
    UNKNOWN,
    Allowance,
    Guard,
    Who,
    client_address,
    client_tag,
    kiosk_tokens,
)
from tests.support import make_settings


class Seconds:
    """A monotonic clock a test moves by hand."""

    def __init__(self) -> None:
        self.now = 3600.0 * 300  # the start of an hour

    def __call__(self) -> float:
        return self.now


def test_counts_slide_out_of_the_window() -> None:
    clock = Seconds()
    counts = WindowCounts(clock, window=3600)
    for _ in range(10):
        assert counts.take("a", limit=10)
    assert not counts.take("a", limit=10)
    assert counts.count("b") == 0  # places are counted apart
    clock.now += 1800
    assert counts.count("a") == 10  # all within the last hour
    clock.now += 3600
    assert counts.count("a") == 5  # half of that hour lies in the window: half its ten, as if spread evenly
    clock.now += 7200
    assert counts.count("a") == 0 and counts.take("a", limit=10)


def test_new_visitors_over_the_allowance_are_refused_until_the_hour_moves_on() -> None:
    clock = Seconds()
    guard = Guard(Allowance(new_visitors=3), clock)
    cafe = Who("192.0.2.7")
    assert [guard.admit(cafe) for _ in range(5)] == [True, True, True, False, False]
    assert guard.admit(Who("192.0.2.8"))  # a neighbour's own address is not affected
    assert guard.retry_after(cafe) >= 60
    clock.now += 3600 * 2
    assert guard.admit(cafe)


def test_a_kiosk_has_its_own_larger_allowance() -> None:
    guard = Guard(Allowance(new_visitors=2, kiosk_new_visitors=5), Seconds())
    stand = "192.0.2.7"
    assert [guard.admit(Who(stand)) for _ in range(3)] == [True, True, False]
    assert [guard.admit(Who(stand, kiosk="zoliborz-1")) for _ in range(6)] == [True] * 5 + [False]


def test_no_limit_when_set_to_zero() -> None:
    guard = Guard(Allowance(new_visitors=0, completions=0), Seconds())
    for _ in range(1000):
        assert guard.admit(Who("192.0.2.7"))
        guard.completed(Who("192.0.2.7"))
    assert guard.flag(Who("192.0.2.7")) is None


def test_completions_beyond_the_threshold_are_flagged() -> None:
    clock = Seconds()
    guard = Guard(Allowance(completions=3, kiosk_completions=5), clock)
    script, kiosk = Who("198.51.100.1"), Who("198.51.100.1", kiosk="wola-1")
    flags = []
    for _ in range(5):
        flags.append(guard.flag(script))
        guard.completed(script)
    assert flags == [None, None, None, BURST, BURST]
    assert guard.flag(kiosk) is None  # a stand's tablet is counted by its token
    for _ in range(5):
        guard.completed(kiosk)
    assert guard.flag(kiosk) == KIOSK_BURST
    clock.now += 3600 * 2
    assert guard.flag(script) is None


def test_the_client_is_the_peer_unless_behind_a_trusted_proxy() -> None:
    assert client_address("203.0.113.5", "10.9.9.9") == "203.0.113.5"  # a header anyone can send
    assert client_address("127.0.0.1", "203.0.113.5", trusted_proxy=True) == "203.0.113.5"
    assert client_address("127.0.0.1", None, trusted_proxy=True) == "127.0.0.1"


def test_a_forged_forwarded_for_entry_does_not_change_the_client() -> None:
    # Our proxy appends the address it saw; what the client put before it is not believed.
    assert client_address("127.0.0.1", "1.2.3.4, 203.0.113.5", trusted_proxy=True) == "203.0.113.5"
    assert client_address("127.0.0.1", "garbage", trusted_proxy=True) == UNKNOWN


def test_an_ipv6_client_counts_as_its_64() -> None:
    one = client_address("2001:db8:1:2:aaaa::1")
    assert one == client_address("2001:db8:1:2:bbbb::99") == "2001:db8:1:2::/64"
    assert client_address("::ffff:192.0.2.1") == "192.0.2.1"
    assert client_address(None) == UNKNOWN


def test_the_client_tag_is_keyed_and_changes_daily() -> None:
    day = date(2026, 5, 30)
    tag = client_tag(b"k" * 32, "192.0.2.7", day)
    assert len(tag) == 12 and "192" not in tag
    assert tag == client_tag(b"k" * 32, "192.0.2.7", day)
    assert tag != client_tag(b"k" * 32, "192.0.2.7", date(2026, 5, 31))
    assert tag != client_tag(b"j" * 32, "192.0.2.7", day)


def test_kiosk_tokens_are_named_and_must_be_long() -> None:
    assert kiosk_tokens(["zoliborz-1=" + "a" * 16, "b" * 20]) == {"a" * 16: "zoliborz-1", "b" * 20: "kiosk-2"}
    with pytest.raises(ValueError, match="entry 1: a token needs at least 16") as err:
        kiosk_tokens(["1"])
    assert "'1'" not in str(err.value)


def test_settings_refuse_a_short_kiosk_token(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        make_settings(tmp_path, WSPOLNOTA_WEB_KIOSK_TOKENS="stand=short")
    assert "WSPOLNOTA_WEB_KIOSK_TOKENS" in str(err.value.problems[0])
    settings = make_settings(tmp_path, WSPOLNOTA_WEB_KIOSK_TOKENS="stand=" + "x" * 16 + ", " + "y" * 16)
    assert settings.web_kiosk_tokens == ("stand=" + "x" * 16, "y" * 16)
    assert settings.web_new_visitors_per_hour == 120 and settings.web_completions_per_hour == 10
