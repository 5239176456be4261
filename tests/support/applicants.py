"""Working-group applicants as the engine records them, and a draw stored by hand: for the tests and benches
of what follows the call (no lottery needed)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storage.applications import ApplicationFields, record_application
from storage.repository import Store, Unit
from storage.selection import PlacementValues, save_draw


async def record_applicant(
    unit: Unit,
    who: str,
    fields: ApplicationFields,
    at: datetime,
    *,
    channel: str = "email",
    chat: str | None = None,
    late: bool = False,
    complete: bool = True,
) -> int:
    """One person's application (a respondent named `who` in `channel`; `chat`: their Telegram chat), its id."""
    respondent = await unit.ensure_respondent(channel, who, at)
    if chat is not None:
        await unit.set_contact(respondent.id, chat, at)
    application = await record_application(
        unit,
        respondent_id=respondent.id,
        submission_id=None,
        channel=channel,
        received_at=at,
        late=late,
        fields=fields,
        complete=complete,
        now=at,
    )
    return application.id


async def store_draw_by_hand(store: Store, placements: Sequence[PlacementValues], now: datetime, seed: int = 7) -> None:
    """A draw whose placements the test chose (no lottery), stored as `groups select` stores one."""
    await save_draw(
        store,
        seed=seed,
        algorithm="maximin",
        library_version="test",
        solver_version="test",
        result={},
        placements=placements,
        actor="test",
        now=now,
    )
