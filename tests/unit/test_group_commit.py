"""Group commit: items that arrive together share a run; one failing item does not fail the rest."""

from __future__ import annotations

import asyncio

import pytest

from handlers.engine.group_commit import GroupCommit


async def test_concurrent_items_share_batches_and_keep_their_results() -> None:
    batches: list[list[int]] = []

    async def run(items: list[int]) -> list[int]:
        batches.append(items)
        await asyncio.sleep(0)  # a transaction's await: others arrive meanwhile
        return [item * 10 for item in items]

    group = GroupCommit(run)
    results = await asyncio.gather(*(group.submit(n) for n in range(20)))
    assert results == [n * 10 for n in range(20)]
    assert len(batches) < 20  # grouped
    assert sorted(n for batch in batches for n in batch) == list(range(20))  # each exactly once


async def test_a_failing_item_is_retried_alone_and_fails_only_itself() -> None:
    async def run(items: list[int]) -> list[int]:
        await asyncio.sleep(0)
        if 3 in items:
            raise ValueError("bad item")
        return items

    group = GroupCommit(run)
    results = await asyncio.gather(*(group.submit(n) for n in range(6)), return_exceptions=True)
    assert [r for r in results if isinstance(r, ValueError)] == [results[3]]
    assert [r for r in results if not isinstance(r, Exception)] == [0, 1, 2, 4, 5]


async def test_batch_size_is_capped() -> None:
    sizes: list[int] = []

    async def run(items: list[int]) -> list[int]:
        sizes.append(len(items))
        await asyncio.sleep(0)
        return items

    group = GroupCommit(run, max_batch=4)
    await asyncio.gather(*(group.submit(n) for n in range(10)))
    assert max(sizes) <= 4


async def test_a_lone_failure_reaches_its_caller() -> None:
    async def run(items: list[int]) -> list[int]:
        raise RuntimeError("database down")

    with pytest.raises(RuntimeError, match="database down"):
        await GroupCommit(run).submit(1)
