"""Which links make a browser a stand's kiosk: tokens staff configured or added, never `?kiosk=1`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from handlers.engine.faults import StorageError
from handlers.web.guard import SERVER_KIOSK, token_digest

logger = logging.getLogger(__name__)

REFRESH = 30.0  # seconds between reads of the kiosks staff added or removed
_YES = frozenset({"1", "true", "yes", "tak"})


class KioskRegistry:
    """Names the kiosk a link's token belongs to: from WSPOLNOTA_WEB_KIOSK_TOKENS or `wspolnota kiosk add`."""

    def __init__(
        self,
        read_added: Callable[[], Awaitable[Mapping[str, str]]],
        configured: Mapping[str, str],
        clock: Callable[[], float],
        *,
        server: bool = False,
    ) -> None:
        self.read_added = read_added  # the kiosks `wspolnota kiosk add` set up: names by token digest
        self.configured = {token_digest(token): name for token, name in configured.items()}
        self.clock = clock
        self.server = server  # the whole server is a stand's tablet (WSPOLNOTA_WEB_KIOSK=true)
        self.added: dict[str, str] = {}
        self._read_at: float | None = None

    async def refresh(self) -> None:
        """Reads the kiosks staff added, at most every REFRESH seconds (the last known ones if the database is away)."""
        now = self.clock()
        if self._read_at is not None and now - self._read_at < REFRESH:
            return
        self._read_at = now
        try:
            self.added = dict(await self.read_added())
        except (StorageError, OSError) as err:
            logger.warning("Could not read the kiosks staff set up (%s); keeping the last known", type(err).__name__)

    def name_of(self, token: str) -> str | None:
        """The kiosk a link's `?kiosk=` value makes this browser, or None (a phone) for anything else."""
        if self.server and token.strip().lower() in _YES:
            return SERVER_KIOSK
        digest = token_digest(token.strip())
        return self.configured.get(digest) or self.added.get(digest)

    def valid(self, name: object) -> bool:
        """Whether a kiosk named in a visitor's cookie still holds a token (staff may have removed it)."""
        if not isinstance(name, str):
            return False
        if name == SERVER_KIOSK:
            return self.server
        return name in self.configured.values() or name in self.added.values()
