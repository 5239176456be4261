"""How far each mailbox folder has been read: UIDs are only stable while UIDVALIDITY is unchanged."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from storage.models import MailboxState
from storage.repository import Store, Unit


class MailboxPositions:
    """The last UID read of each folder, moved in the transaction that stored what was read."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def last_uid(self, folder: str, uidvalidity: int) -> int:
        """The last UID read in this folder, or 0 when it must be read from the start."""
        async with self.store.unit(write=False) as unit:
            state = await unit.session.get(MailboxState, folder)
            if state is None or state.uidvalidity != uidvalidity:
                # UIDs are only stable while UIDVALIDITY is unchanged (RFC 3501 2.3.1.1): read it all
                # again; the mailroom recognises what it has seen.
                return 0
            return state.last_uid

    async def advance(self, folder: str, uidvalidity: int, uid: int, now: datetime) -> None:
        """Moves the position past `uid`, in a transaction of its own."""
        async with self.store.unit() as unit:
            await advance_in(unit, folder, uidvalidity, uid, now)

    def advancing(self, folder: str, uidvalidity: int, uid: int, now: datetime) -> Callable[[Unit], Awaitable[None]]:
        """The same move as a step for another transaction (the one storing the emails read)."""
        return lambda unit: advance_in(unit, folder, uidvalidity, uid, now)


async def advance_in(unit: Unit, folder: str, uidvalidity: int, uid: int, now: datetime) -> None:
    """Moves a folder's position past `uid` in the caller's transaction (never back, unless UIDVALIDITY changed)."""
    state = await unit.session.get(MailboxState, folder)
    if state is None:
        unit.add(MailboxState(folder=folder, uidvalidity=uidvalidity, last_uid=uid, updated_at=now))
    else:
        same = state.uidvalidity == uidvalidity
        state.last_uid = max(uid, state.last_uid) if same else uid
        state.uidvalidity, state.updated_at = uidvalidity, now
