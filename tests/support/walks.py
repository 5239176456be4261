"""Whole walks through the tests' questionnaire, for tests that need answers stored before they start."""

from __future__ import annotations

from bot.service import Service
from handlers.engine.messages import Action, ReplyKind
from tests.support.actors import Person

COMMUNITY = [
    "Sąsiedzi, którzy pomagają sobie na podwórku.",
    "Dobre relacje z sąsiadami i wspólne podwórko.",
    "<script>alert('x')</script> sąsiad to podstawa",
    "Pani Kowalska z parteru, tel. 600 100 200, jan@example.pl — sąsiedzi pomagają.",
    "Wspólnota to ludzie.",
]


async def answer_everything(person: Person) -> None:
    """Answers the tests' questionnaire from its first question to the summary (12 answers, no email)."""
    assert person.last.question == "district"
    await person.tap("mokotow")
    await person.send("Sąsiedzi, którzy sobie pomagają.")
    await person.tap("trust")
    await person.tap("mutual_help")
    await person.act(Action.DONE)
    await person.tap("4")
    await person.tap("sometimes")
    await person.send("Wspólne podwórko.")
    await person.send("Brak czasu.")
    await person.tap("belonging")
    await person.send("Zielone podwórka, ludzie się znają.")
    await person.tap("age_30_44")
    await person.tap("yes")
    await person.act(Action.DONE)  # no contact wanted: the email question stays hidden
    assert person.last.kind is ReplyKind.SUMMARY


async def seed(service: Service) -> None:
    """Five completed submissions (three at the Wola event), one text each from COMMUNITY; the last
    resident does not allow quoting."""
    for n, text in enumerate(COMMUNITY):
        person = Person(service, f"r{n}", channel="telegram" if n % 2 else "terminal", assisted=n == 0)
        await person.begin(source="dzien-sasiada-wola" if n < 3 else None)
        await person.tap("wola" if n < 4 else "ursus")
        await person.send(text)
        await person.send("1, 2" if n % 2 else "2, 3")  # values
        await person.send(str(3 + n % 3))  # connection
        for _ in range(6):
            await person.act(Action.SKIP)
        await person.send("tak" if n != 4 else "nie")  # quote consent (the last one says no)
        await person.act(Action.DONE)
        if n == 4:
            assert person.last.question == "no_quote_reason"  # asked only after a "no"
            await person.act(Action.SKIP)
        await person.act(Action.CONFIRM)
