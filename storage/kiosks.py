"""Stands' kiosk tablets staff set up: a name and a digest of the token in the tablet's link."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from storage.models import Kiosk
from storage.repository import Store


class KioskExists(Exception):
    """A kiosk of that name is already set up."""

    def __init__(self, name: str) -> None:
        super().__init__(f"a kiosk named {name!r} exists already (see `wspolnota kiosk list`)")


async def add_kiosk(store: Store, name: str, token_digest: str, now: datetime) -> None:
    """Sets up a stand's kiosk.

    Raises:
        KioskExists: when the name is taken.
    """
    async with store.unit() as unit:
        if await unit.session.get(Kiosk, name) is not None:
            raise KioskExists(name)
        unit.add(Kiosk(name=name, token_digest=token_digest, created_at=now))


async def list_kiosks(store: Store) -> list[Kiosk]:
    """The kiosks set up, by name."""
    async with store.unit(write=False) as unit:
        return list(await unit.session.scalars(select(Kiosk).order_by(Kiosk.name)))


async def remove_kiosk(store: Store, name: str) -> bool:
    """Withdraws a kiosk's token (its tablets become ordinary visitors); tells whether it existed."""
    async with store.unit() as unit:
        result = await unit.session.execute(delete(Kiosk).where(Kiosk.name == name))
        return bool(getattr(result, "rowcount", 0))


async def kiosk_digests(store: Store) -> dict[str, str]:
    """Every kiosk's name by its token's digest."""
    async with store.unit(write=False) as unit:
        return {digest: name for name, digest in await unit.session.execute(select(Kiosk.name, Kiosk.token_digest))}
