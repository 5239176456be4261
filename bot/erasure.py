"""Whom staff are asked to erase: a Telegram user id, an email address or a paper form's id, named as
storage's erasure needs (`wspolnota forget` and the console's People's requests page both ask here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bot.service import Service

# The kinds of identifier staff may give, as the respondents' channels name them.
KINDS: Final = ("telegram", "email", "paper")


@dataclass(frozen=True, slots=True)
class Person:
    """One person to erase (or to count what erasing them takes): storage's `forget` arguments."""

    channel: str
    pseudonym: str
    address: str | None  # the raw email address or chat id; None for a paper form


def normalised(channel: str, identifier: str) -> str:
    """The identifier as the service stores it: an email address stripped and lower-cased, an id stripped."""
    return identifier.strip().lower() if channel == "email" else identifier.strip()


def person_to_erase(service: Service, channel: str, identifier: str) -> Person:
    """Names the person an identifier of this kind points to, by the pseudonym their channel knows them by."""
    identifier = normalised(channel, identifier)
    if channel == "paper":
        # A paper form is known by its own id (no person's identifier to hide), as `wspolnota import` keeps it.
        return Person(channel, identifier, None)
    return Person(channel, service.respondent(channel, identifier).pseudonym, identifier)
