"""Group commit: requests that arrive while a transaction runs share the next one.

With SQLite through aiosqlite every statement is a hop to the driver's thread, so one
respondent's step costs a dozen thread switches whatever it does. Steps of different
respondents that arrive together run in one transaction instead: one BEGIN, one query for
all their submissions, one flush and one COMMIT. Nobody waits for a timer: under light load
a batch holds one step and costs what it did before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

logger = logging.getLogger(__name__)


class GroupCommit(Generic[T, R]):
    """Runs concurrently submitted items in batches through `run`, one result per item."""

    def __init__(self, run: Callable[[list[T]], Awaitable[list[R]]], *, max_batch: int = 64) -> None:
        self._run = run
        self.max_batch = max_batch  # 1 turns grouping off (the benchmark compares both)
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Queues an item and waits until the batch holding it has been committed."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            await self._settle(batch)

    async def _settle(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._run([item for item, _ in batch])
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as err:
            if len(batch) == 1:
                _, future = batch[0]
                if not future.done():
                    future.set_exception(err)
                return
            # One bad item must not fail the others: the batch rolled back, so run each alone.
            logger.warning("A batch of %d steps failed (%s); retrying them one by one", len(batch), type(err).__name__)
            for entry in batch:
                await self._settle([entry])
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
