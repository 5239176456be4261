"""A call for working-group applications open at a given moment, for tests of the service process (which keeps
the real time): the tests' configuration with a recruitment.yaml whose dates and meetings are moved around it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

from tests.support.settings import GROUPS_CONFIG, TEST_CONFIG


def call_around(now: datetime, folder: Path) -> Path:
    """The tests' configuration with a call open at `now` (the service process keeps the real time):
    the tests' events plus the groups' meetings after the decisions."""
    folder.mkdir()
    for name in ("questionnaires", "messages.yaml"):
        (folder / name).symlink_to((TEST_CONFIG / name).resolve())
    day = (now + timedelta(days=60)).strftime("%Y-%m-%d")
    meetings = "".join(
        f"""
  - slug: spotkanie-grupy-{n}
    kind: working_group
    open_to_public: false
    name: {{pl: Grupa {n}, en: Group {n}, uk: Група {n}}}
    district: Wola
    address: ul. Nowolipie 25b
    starts: {day}T17:00:00+01:00
    ends: {day}T20:00:00+01:00
"""
        for n in (1, 2, 3)
    )
    (folder / "events.yaml").write_text((TEST_CONFIG / "events.yaml").read_text() + meetings)
    call = (GROUPS_CONFIG / "recruitment.yaml").read_text()
    dates = {
        "opens": (now - timedelta(days=1)).isoformat(timespec="seconds"),
        "deadline": (now + timedelta(days=30)).isoformat(timespec="seconds"),
        "decision_date": (now + timedelta(days=40)).strftime("%Y-%m-%d"),
    }
    for key, value in dates.items():
        call = re.sub(rf"^{key}: .*$", f"{key}: {value}", call, flags=re.MULTILINE)
    for n, slug in enumerate(
        ("grupa-robocza-1-2026-10-20", "grupa-robocza-2-2026-10-14", "grupa-robocza-3-2026-10-22")
    ):
        call = call.replace(slug, f"spotkanie-grupy-{n + 1}")
    call = call.replace("closing_meeting: spotkanie-plenarne-2026-11-26\n", "")
    (folder / "recruitment.yaml").write_text(call)
    return folder
