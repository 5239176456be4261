"""Property: any sequence of inputs, in the application and the consultation side by side, never crashes the
engine, and an application's address is never verified unless the code mailed to it was typed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.service import Service
from handlers.engine.messages import Action, Inbound
from storage.applications import find_application
from storage.models import OutboxMessage
from tests.support import GROUPS_CONFIG
from tests.support.world import World

CODES = ["ngo", "resident", "otwartosc", "aktywnosc", "yes", "no", "mokotow", "nonsense"]
QUESTIONS = ["name", "email", "organisation", "sector", "groups", "description", "available", "district"]

STEPS = st.one_of(
    st.just({"code": True}),  # the code from the newest email to this respondent, as they would copy it
    st.just({"code": True}),
    st.builds(
        lambda t: {"text": t},
        st.one_of(
            st.text(max_size=40),
            st.sampled_from(["/grupy", "/start", "/start grupy", "/withdraw", "/back", "/skip", "/cancel", "/forget"]),
            st.sampled_from(["ola@example.org", "jan@example.org", "Ola Nowak", "123456", "000000", "1, 2", "tak"]),
        ),
    ),
    st.builds(lambda c, q: {"choice": c, "question": q}, st.sampled_from(CODES), st.sampled_from(QUESTIONS)),
    st.builds(
        lambda a, arg: {"action": a, "argument": arg},
        st.sampled_from(list(Action)),
        st.one_of(st.none(), st.sampled_from(["yes", "no", "en", *QUESTIONS])),
    ),
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    world = World(
        tmp_path_factory.mktemp("application-property"),
        now=datetime(2026, 9, 10, 10, 0, tzinfo=UTC),
        WSPOLNOTA_CONFIG_DIR=str(GROUPS_CONFIG),
    )
    yield world
    world.close()


async def _newest_code(service: Service, respondent_id: int | None) -> str | None:
    async with service.store.sessions() as session:
        query = select(OutboxMessage.body).where(OutboxMessage.respondent_id == respondent_id)
        bodies = (await session.scalars(query.order_by(OutboxMessage.id))).all()
    found = re.search(r"\b(\d{6})\b", bodies[-1]) if bodies else None
    return found.group(1) if found else None


async def _walk(service: Service, channel_id: str, steps: list[dict[str, Any]]) -> None:
    ref = service.respondent("telegram", channel_id, channel_id)
    typed_a_code = False
    for step in steps:
        async with service.store.unit(write=False) as unit:
            respondent = await unit.find_respondent(ref.channel, ref.pseudonym)
        if step.get("code"):
            code = await _newest_code(service, respondent.id if respondent else None)
            if code is None:
                continue
            typed_a_code = True
            step = {"text": code}
        replies = await service.conversation.handle(Inbound(ref, **step))
        assert replies, step
        async with service.store.unit(write=False) as unit:
            respondent = await unit.find_respondent(ref.channel, ref.pseudonym)
            application = await find_application(unit, respondent.id) if respondent else None
        if application is not None and application.email_verified:
            assert typed_a_code, steps  # nothing else marks an address verified


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(STEPS, max_size=30), st.lists(STEPS, max_size=8))
def test_any_inputs_never_crash_nor_verify_without_the_code(
    world: World, start: list[dict[str, Any]], rest: list[dict[str, Any]]
) -> None:
    # Most walks begin in the application, so they reach its questions and the code.
    opening = [{"text": "/grupy"}, {"action": Action.ACCEPT}, {"text": "Ola"}, {"text": "ola@example.org"}]
    person = f"p{next(world.ids)}"
    world.loop.run_until_complete(_walk(world.service, person, [*opening, *start, *rest]))
