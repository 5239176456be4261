"""Where the tests' configuration lives, settings built on it, and a clock the tests move by hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from bot.settings import Settings, load_settings

REPOSITORY = Path(__file__).resolve().parent.parent.parent
SHIPPED_CONFIG = REPOSITORY / "config"  # the programme's data: only its own tests read it
TEST_CONFIG = Path(__file__).resolve().parent / "config"  # the questionnaire and events made for the tests
# The same, with a call for working-group applications (recruitment.yaml): the working groups on.
GROUPS_CONFIG = Path(__file__).resolve().parent / "groups_config"
QUESTIONNAIRE = "sasiedztwo"  # the tests' questionnaire (tests/support/config/questionnaires/sasiedztwo.yaml)
SECRET_KEY = "test-secret-" + "x" * 32


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def service_environment(data_dir: Path, **extra: str) -> dict[str, str]:
    """The WSPOLNOTA_* variables of a service on the tests' configuration; `extra` overrides them."""
    return {
        "WSPOLNOTA_DATA_DIR": str(data_dir),
        "WSPOLNOTA_SECRET_KEY": SECRET_KEY,
        "WSPOLNOTA_CONFIG_DIR": str(TEST_CONFIG),
        **extra,
    }


def make_settings(data_dir: Path, **extra: str) -> Settings:
    """Settings on `data_dir` and the tests' configuration, as a service reads them from its environment."""
    return load_settings(service_environment(data_dir, **extra), env_file=None)
