"""What tests are built from: settings on the tests' questionnaire, the actors, the one service starter,
the servers' starters (postgres, dovecot, smtp, telegram_emulator, chromium) and a row counter.

Test modules import from here, never from each other; `bench/` uses it too.
"""

from tests.support.actors import Person, Resident, Visitor
from tests.support.calls import call_around
from tests.support.database import count, submissions
from tests.support.ports import free_port
from tests.support.service import STAFF, ServiceProcess
from tests.support.settings import (
    GROUPS_CONFIG,
    QUESTIONNAIRE,
    REPOSITORY,
    SHIPPED_CONFIG,
    TEST_CONFIG,
    FakeClock,
    make_settings,
    service_environment,
)
from tests.support.walks import answer_everything, seed

__all__ = [
    "GROUPS_CONFIG",
    "QUESTIONNAIRE",
    "REPOSITORY",
    "SHIPPED_CONFIG",
    "STAFF",
    "TEST_CONFIG",
    "FakeClock",
    "Person",
    "Resident",
    "ServiceProcess",
    "Visitor",
    "answer_everything",
    "call_around",
    "count",
    "free_port",
    "make_settings",
    "seed",
    "service_environment",
    "submissions",
]
