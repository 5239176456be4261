"""What some tests need beyond the venv's core (the selection extra, Debian's programs): on a developer's
machine without it they skip with a hint; in CI, which installs all of it (.ci/run), they fail instead."""

from __future__ import annotations

import importlib.util
import shutil

import pytest

from tests.support.postgres import servers_required


def require_selection() -> None:
    """The draw's library (`pip install -e ".[selection]"`); call at a test module's top."""
    if importlib.util.find_spec("sortition_algorithms") is not None:
        return
    why = 'the draw needs the selection extra: pip install -e ".[selection]"'
    if servers_required():
        pytest.fail(f"{why} (CI installs it: .ci/run)", pytrace=False)
    pytest.skip(why, allow_module_level=True)


def require_tool(name: str, package: str) -> str:
    """The path of a program `package` (a Debian package in .ci/run's list) installs; call in the test.

    Not a `skipif` mark: a tool missing in CI would pass unnoticed as a skip, like the servers it fails
    under CI=true (or WSPOLNOTA_REQUIRE_SERVERS=1).
    """
    found = shutil.which(name)
    if found is not None:
        return found
    why = f"{name} is not installed (apt-get install {package})"
    if servers_required():
        pytest.fail(f"{why}; CI installs it (.ci/run)", pytrace=False)
    pytest.skip(why)
