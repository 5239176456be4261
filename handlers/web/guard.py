"""Ballot stuffing, bounded and made visible: how many new visitors one place may start in an hour,
how many finished submissions it may add before the rest are flagged, and where a visitor is from.

Pure rules, no sockets: the web channel says who asks (a client address, a stand's kiosk) and the
clock says when. The engine never sees an address: only a flag and a keyed, daily-salted tag of it.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from handlers.limits import HOUR, WindowCounts

WINDOW = HOUR  # the limits are per hour
UNKNOWN = "unknown"  # a request whose address cannot be read (a Unix socket, a garbled proxy header)
BURST = "burst"  # the flag: its address finished more submissions in an hour than allowed unflagged
KIOSK_BURST = "kiosk-burst"  # the same for one stand's kiosk token
SERVER_KIOSK = "server"  # the kiosk name of a server that is itself a stand's tablet (WSPOLNOTA_WEB_KIOSK)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
MIN_TOKEN = 16


@dataclass(frozen=True, slots=True)
class Allowance:
    """Per hour; 0 means no limit (new visitors) or never flagged (completions)."""

    new_visitors: int = 120  # per client address: a stand's shared Wi-Fi, a café, an office
    kiosk_new_visitors: int = 300  # per stand token: every person and every idle reset is a new visitor
    completions: int = 10  # per client address before further ones are flagged
    kiosk_completions: int = 60  # per stand token before further ones are flagged


@dataclass(frozen=True, slots=True)
class Who:
    """Where a request comes from, as far as the limits care: an address (or its /64), a stand's kiosk."""

    address: str
    kiosk: str | None = None

    @property
    def key(self) -> str:
        # A stand's tablets share their token's allowance wherever they are; phones share their address's.
        return f"kiosk:{self.kiosk}" if self.kiosk else f"address:{self.address}"


class Guard:
    """Admits new visitors within their place's hourly allowance and flags what a place finishes beyond its own."""

    def __init__(self, limits: Allowance, clock: Callable[[], float], window: float = WINDOW) -> None:
        self.limits = limits
        self.visitors = WindowCounts(clock, window)
        self.completions = WindowCounts(clock, window)

    def admit(self, who: Who) -> bool:
        """Counts a new visitor from this place, unless its allowance for the hour is used up."""
        limit = self.limits.kiosk_new_visitors if who.kiosk else self.limits.new_visitors
        return self.visitors.take(who.key, limit or None)

    def flag(self, who: Who) -> str | None:
        """Why a step from this place is doubted (it finished too many this hour), or None."""
        limit = self.limits.kiosk_completions if who.kiosk else self.limits.completions
        if limit and self.completions.count(who.key) >= limit:
            return KIOSK_BURST if who.kiosk else BURST
        return None

    def completed(self, who: Who) -> None:
        """Counts a submission this place finished."""
        self.completions.take(who.key)

    def retry_after(self, who: Who) -> int:
        """Seconds to suggest before trying again: about when one more visitor fits in the window."""
        limit = (self.limits.kiosk_new_visitors if who.kiosk else self.limits.new_visitors) or 1
        return max(60, int(self.visitors.window / limit))


def client_address(peer: str | None, forwarded_for: str | None = None, *, trusted_proxy: bool = False) -> str:
    """The place a request comes from: the peer's address or, behind our own proxy, the address it saw.

    Behind a trusted proxy that is the *last* X-Forwarded-For entry, the one our proxy appended: the
    entries before it are whatever the client sent and cost nothing to forge. An IPv6 address counts
    as its /64, which one household or phone gets whole and can rotate freely.
    """
    raw = peer
    if trusted_proxy and forwarded_for:
        raw = forwarded_for.split(",")[-1].strip() or peer
    try:
        address = ipaddress.ip_address((raw or "").strip().strip("[]"))
    except ValueError:
        return UNKNOWN
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)


def client_tag(key: bytes, address: str, day: date) -> str:
    """A keyed hash of an address, salted with the day: the same tag means the same place on that day,
    and nothing links days. Stored with a flagged submission instead of the address."""
    message = f"wspolnota-web-client:{day.isoformat()}:{address}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:12]


def token_digest(token: str) -> str:
    """What is stored of a stand's kiosk token (the token itself is shown once, in its link)."""
    return hashlib.sha256(token.encode()).hexdigest()


def kiosk_tokens(entries: Iterable[str]) -> dict[str, str]:
    """Reads WSPOLNOTA_WEB_KIOSK_TOKENS entries, `token` or `name=token`, into names by token.

    Raises:
        ValueError: naming what is wrong with an entry (never echoing a token).
    """
    tokens: dict[str, str] = {}
    for position, entry in enumerate(entries, start=1):
        name, _, token = entry.strip().rpartition("=")
        name = name.strip() or f"kiosk-{position}"
        if not _TOKEN.fullmatch(token.strip()):
            raise ValueError(
                f"entry {position}: a token needs at least {MIN_TOKEN} letters, digits, '-' or '_' "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(18))')"
            )
        if not _NAME.fullmatch(name):
            raise ValueError(f"entry {position}: a name is up to 32 of a-z, 0-9, '-' and '_'")
        tokens[token.strip()] = name
    return tokens


def valid_kiosk_name(name: str) -> bool:
    """Whether staff may call a stand's kiosk this (a-z, 0-9, '-', '_', up to 32)."""
    return _NAME.fullmatch(name) is not None
