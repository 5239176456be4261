"""What staff may ask of the running service from a chat: live counts and the CSV export, through
the same `reports.staff` code as `wspolnota stats` and `wspolnota export`."""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass

from handlers.definitions.population import Population
from handlers.definitions.questionnaire import Questionnaire
from handlers.definitions.recruitment import Recruitment
from handlers.engine.conversation import Conversation
from reports.staff import CSV_ENCODING, export_csv
from reports.stats import StaffLanguage, describe_applications, describe_staff_stats
from storage.repository import Store


@dataclass(frozen=True, slots=True)
class CsvFile:
    """An export as a file to send: its name and its bytes (UTF-8 with a BOM)."""

    name: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Staff:
    """Staff's requests over the default questionnaire, for a transport that may not read the database."""

    store: Store
    questionnaires: Mapping[str, Questionnaire]
    conversation: Conversation
    recruitment: Recruitment | None = None  # the call for working-group applications; None: the groups are off
    population: Population | None = None  # who lives here, to compare with who answered; None: no comparison
    language: StaffLanguage = "pl"  # staff's figures (WSPOLNOTA_STAFF_LANGUAGE)

    @property
    def questionnaire(self) -> Questionnaire:
        return self.questionnaires[self.conversation.default_questionnaire]

    async def stats(self) -> str:
        """Live counts and who answered against who lives here, as text in staff's language (and the working
        groups' applications when there is a call)."""
        text = await describe_staff_stats(
            self.store,
            self.questionnaire,
            self.conversation.clock(),
            population=self.population,
            language=self.language,
        )
        applications = await describe_applications(self.store, self.recruitment, self.language)
        return text if applications is None else f"{text}\n\n{applications}"

    async def export_csv(self, actor: str, via: str) -> CsvFile:
        """Every submission as CSV without contact data, after an audit entry naming `actor`."""
        now = self.conversation.clock()
        buffer = io.StringIO()
        await export_csv(self.store, self.questionnaires, self.questionnaire, buffer, actor=actor, now=now, via=via)
        return CsvFile(f"wspolnota-{now:%Y%m%d-%H%M}.csv", buffer.getvalue().encode(CSV_ENCODING))
