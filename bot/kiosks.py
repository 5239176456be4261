"""The stands' kiosks as staff see them, for `wspolnota kiosk list` and the console's Events page: those
added with `wspolnota kiosk add` (stored), those named in WSPOLNOTA_WEB_KIOSK_TOKENS, and whether the whole
server is one. Names only: a kiosk's token is never shown again after it is made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.service import Service
from handlers.web.guard import kiosk_tokens
from storage.kiosks import list_kiosks


@dataclass(frozen=True, slots=True)
class AddedKiosk:
    name: str
    added_at: datetime


@dataclass(frozen=True, slots=True)
class StandKiosks:
    """Every kiosk the web chat knows: stored ones by name, then the settings' ones in their order."""

    added: list[AddedKiosk]
    configured: list[str]
    whole_server: bool  # WSPOLNOTA_WEB_KIOSK: every visitor of this server is a kiosk's


async def stand_kiosks(service: Service) -> StandKiosks:
    """The kiosks added (from storage) and configured (from the settings), without their tokens."""
    added = [AddedKiosk(kiosk.name, kiosk.created_at) for kiosk in await list_kiosks(service.store)]
    configured = list(kiosk_tokens(service.settings.web_kiosk_tokens).values())
    return StandKiosks(added, configured, service.settings.web_kiosk)
