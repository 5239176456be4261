"""The optional extras some tests need: skipped on a developer's machine without them, a failure in CI."""

from __future__ import annotations

import importlib.util
import os

import pytest


def require_selection() -> None:
    """The draw's library (`pip install -e ".[selection]"`); call at a test module's top."""
    if importlib.util.find_spec("sortition_algorithms") is not None:
        return
    why = 'the draw needs the selection extra: pip install -e ".[selection]"'
    if os.environ.get("CI"):
        pytest.fail(f"{why} (CI installs it: .ci/run)", pytrace=False)
    pytest.skip(why, allow_module_level=True)
