"""The privacy notice (GDPR art. 13) as the city's data protection officer writes it in a questionnaire file.

A resident reads it in layers: a one-line `lead` (who asks, about what, how long), the `short`
essentials before the first question, and the `full` notice one tap away (/privacy, the web chat's
footer, the end of our email). Two things are chosen rather than written once:
- the legal basis (`basis`: public task, art. 6(1)(e), or consent, art. 6(1)(a)) fills `{basis}`,
  `{basis_short}`, `{objection}` (withdrawing consent or objecting) and `{children}` from `bases`; the accept
  button's wording follows it (the engine's `btn_accept` or `btn_accept_public_task`);
- where the truth differs by channel (an email is kept whole with its sender's address; Telegram
  carries every message through its servers) `{kept}` and `{exercise}` come from `channels`.
A plain notice (the working groups' applicants', written whole in `config/recruitment.yaml`) gives
neither `bases` nor `channels`: its texts then use no placeholder of theirs (`{more}` only).
"""

from __future__ import annotations

import string
from collections.abc import Set
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from handlers.definitions.config_files import Problem
from handlers.definitions.i18n import LANGUAGES, Language, Text

DEFAULT_CHANNEL = "other"  # the channel sentences for a channel without its own (the terminal, paper)

# The placeholders each layer may use; the full notice must use every one of its own.
SHORT_PLACEHOLDERS = frozenset({"basis_short", "kept", "more"})
FULL_PLACEHOLDERS = frozenset({"basis", "objection", "children", "kept", "exercise"})


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LegalBasis(StrEnum):
    PUBLIC_TASK = "public_task"  # art. 6(1)(e) GDPR: the city consults its residents
    CONSENT = "consent"  # art. 6(1)(a) GDPR: each resident agrees


class BasisTexts(_Frozen):
    """What changes with the legal basis."""

    basis: Text  # the basis itself, with its article
    basis_short: Text  # the same in a few words, for the short notice
    objection: Text  # withdrawing consent (6(1)(a)) or objecting (6(1)(e), art. 21)
    children: Text  # what applies to someone under 16


class ChannelTexts(_Frozen):
    """What is true in one channel only."""

    kept: Text  # what this channel stores beyond the answers, and who carries the messages
    exercise: Text  # how to see, correct or delete one's data from this channel


class Privacy(_Frozen):
    """The privacy notice a respondent is shown before any question; its version is stored with them."""

    version: Annotated[str, Field(min_length=1, max_length=40)]
    basis: LegalBasis
    lead: Text
    short: Text
    full: Text
    # Both optional: a plain notice (written whole, no placeholders of theirs) needs neither.
    bases: dict[LegalBasis, BasisTexts] = Field(default_factory=dict)
    channels: dict[str, ChannelTexts] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _chosen_basis_is_written(self) -> Privacy:
        if self.bases and self.basis not in self.bases:
            raise ValueError(f"bases has no texts for the chosen basis '{self.basis.value}'")
        if self.channels and DEFAULT_CHANNEL not in self.channels:
            raise ValueError(f"channels needs an '{DEFAULT_CHANNEL}' entry for channels without their own")
        return self

    def channel(self, channel: str) -> ChannelTexts:
        """The sentences for one channel (`other` where it has none of its own)."""
        return self.channels.get(channel) or self.channels[DEFAULT_CHANNEL]

    def placeholders(self) -> tuple[frozenset[str], frozenset[str]]:
        """The placeholders the short and the full notice may use: those whose texts this notice gives."""
        short, full = {"more"}, set()
        if self.bases:
            short.add("basis_short")
            full |= {"basis", "objection", "children"}
        if self.channels:
            short.add("kept")
            full |= {"kept", "exercise"}
        return frozenset(short), frozenset(full)

    def _values(self, language: Language, channel: str) -> dict[str, str]:
        values: dict[str, str] = {}
        if self.bases:
            basis = self.bases[self.basis]
            values |= {
                "basis": basis.basis(language),
                "basis_short": basis.basis_short(language),
                "objection": basis.objection(language),
                "children": basis.children(language),
            }
        if self.channels:
            texts = self.channel(channel)
            values |= {"kept": texts.kept(language), "exercise": texts.exercise(language)}
        return values

    def short_notice(self, language: Language, channel: str, more: str) -> str:
        """The essentials shown with the first question; `more` says where the full notice is."""
        return self.short(language).format(**self._values(language, channel), more=more)

    def full_notice(self, language: Language, channel: str) -> str:
        """The whole notice, with this channel's own sentences."""
        return self.full(language).format(**self._values(language, channel))


def _used(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


_SOURCE = {"basis_short": "bases", "basis": "bases", "objection": "bases", "children": "bases"} | {
    "kept": "channels",
    "exercise": "channels",
}


def check_privacy(privacy: Privacy, file: str) -> list[Problem]:
    """Placeholders each layer uses, in every language: unknown ones, and those the full notice lacks."""
    short, full = privacy.placeholders()
    layers: tuple[tuple[str, Text, Set[str], Set[str]], ...] = (
        ("short", privacy.short, short, frozenset()),
        ("full", privacy.full, full, full),
    )
    problems: list[Problem] = []
    for name, text, allowed, required in layers:
        for language in LANGUAGES:
            problems += check_placeholders(file, f"privacy.{name}.{language}", text(language), allowed, required)
    return problems


def check_placeholders(
    file: str, key: str, text: str, allowed: Set[str], required: Set[str] = frozenset()
) -> list[Problem]:
    """One text of a notice: placeholders it may not use (or whose texts the notice does not give), and
    those it must use but lacks."""
    try:
        used = _used(text)
    except ValueError as err:
        return [Problem(file, key, f"broken placeholder: {err}")]
    problems: list[Problem] = []
    for unknown in sorted(used - allowed):
        if unknown in _SOURCE and unknown in SHORT_PLACEHOLDERS | FULL_PLACEHOLDERS:
            reason = f"{{{unknown}}} needs the notice's `{_SOURCE[unknown]}`, which it does not give"
        else:
            known = ", ".join(f"{{{p}}}" for p in sorted(allowed)) or "none"
            reason = f"unknown placeholder {{{unknown}}}; this text may use {known}"
        problems.append(Problem(file, key, reason))
    for absent in sorted(set(required) - used):
        problems.append(Problem(file, key, f"the full notice must include {{{absent}}}"))
    return problems
