"""One service for all the examples of a Hypothesis property (each example a new respondent): Hypothesis runs
examples synchronously, so the service lives on an event loop of its own, opened once per test module."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime
from pathlib import Path

from bot.service import Service, open_service
from tests.support.settings import FakeClock, make_settings


class World:
    """A service on `data_dir` (the tests' configuration, `settings` over it), its clock at `now`."""

    def __init__(self, data_dir: Path, *, now: datetime, **settings: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._context = open_service(make_settings(data_dir, **settings), clock=FakeClock(now))
        self.service: Service = self.loop.run_until_complete(self._context.__aenter__())
        self.ids = itertools.count()

    def close(self) -> None:
        self.loop.run_until_complete(self._context.__aexit__(None, None, None))
        self.loop.close()
