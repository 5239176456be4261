"""Who is offered a freed seat: the first on the group's reserve list who keeps the quotas."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from selection.model import GroupSpec


def next_in_line(spec: GroupSpec, held: Sequence[str], reserve: Sequence[tuple[int, str]]) -> int | None:
    """The id of the reserve person to offer a freed seat of `spec`'s group, or None.

    `held` are the sectors of the seats still held (without the freed one); `reserve` the ranked
    (id, sector) of the reserve people still available, first offered first. The quotas are counted
    again on the seats held:

    1. the first person whose seat exceeds no sector's max and, when some sector is below its min,
       who is of such a sector (so a freed City Hall seat goes to the next City Hall person, while
       City Hall is short);
    2. if nobody on the list does that (no one of a short sector is left), the first person whose seat
       exceeds no max: the group stays short of a min it could not keep anyway;
    3. None when the list is empty, or when every person on it would exceed a max (staff decide: the
       seat stays free rather than break a quota).

    A sector the group leaves out has no limit.
    """
    counts = Counter(held)
    short = {sector for sector, quota in spec.quotas.items() if counts[sector] < quota.min}

    def within_max(sector: str) -> bool:
        quota = spec.quotas.get(sector)
        return quota is None or counts[sector] + 1 <= quota.max

    fallback: int | None = None
    for person, sector in reserve:
        if not within_max(sector):
            continue
        if not short or sector in short:
            return person
        if fallback is None:
            fallback = person
    return fallback
