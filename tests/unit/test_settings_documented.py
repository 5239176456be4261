"""Every setting of the service is documented where staff look for it: the example env file and the docs."""

from __future__ import annotations

import re

import pytest

from bot.settings import PREFIX, Settings
from tests.support import REPOSITORY

SETTINGS = sorted(PREFIX + name.upper() for name in Settings.model_fields)


def documentation() -> str:
    """The README and whatever reference has moved from it into docs/."""
    pages = [REPOSITORY / "README.md", *sorted((REPOSITORY / "docs").rglob("*.md"))]
    return "\n".join(page.read_text(encoding="utf-8") for page in pages)


@pytest.mark.parametrize("name", SETTINGS)
def test_every_setting_is_in_the_example_env_file(name: str) -> None:
    example = (REPOSITORY / "config" / "settings.example.env").read_text(encoding="utf-8")
    assert re.search(rf"^#? ?{name}=", example, re.MULTILINE), f"{name} is missing from config/settings.example.env"


@pytest.mark.parametrize("name", SETTINGS)
def test_every_setting_is_in_the_documentation(name: str) -> None:
    assert re.search(rf"`{name}`", documentation()), f"{name} is not documented (README.md or docs/), spelled out whole"


def test_nothing_documented_is_unknown() -> None:
    """A setting renamed or removed in the code does not linger in the example file."""
    example = (REPOSITORY / "config" / "settings.example.env").read_text(encoding="utf-8")
    named = set(re.findall(rf"^#? ?({PREFIX}[A-Z0-9_]+)=", example, re.MULTILINE))
    assert named <= set(SETTINGS), sorted(named - set(SETTINGS))
