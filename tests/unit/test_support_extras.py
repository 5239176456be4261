"""The tests' own guard: a tool CI installs is skipped without it on a developer's machine, and fails in CI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import REPOSITORY
from tests.support.extras import require_tool

MISSING = "wspolnota-no-such-tool"


def test_a_missing_tool_skips_here_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("WSPOLNOTA_REQUIRE_SERVERS", raising=False)
    with pytest.raises(pytest.skip.Exception, match=f"apt-get install {MISSING}-package"):
        require_tool(MISSING, f"{MISSING}-package")

    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=f"apt-get install {MISSING}-package"):
        require_tool(MISSING, f"{MISSING}-package")


def test_a_tool_found_is_its_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tool = tmp_path / MISSING
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("CI", "true")
    assert require_tool(MISSING, "none") == str(tool)


def test_every_package_required_is_installed_by_ci() -> None:
    """A `require_tool` naming a package .ci/run does not install would fail every CI run."""
    listed = re.search(r'^APT_PACKAGES="([^"]+)"', (REPOSITORY / ".ci" / "run").read_text(), re.MULTILINE)
    assert listed is not None
    installed = set(listed.group(1).split())
    sources = (path.read_text(encoding="utf-8") for path in (REPOSITORY / "tests").rglob("*.py"))
    required = {package for text in sources for package in re.findall(r'require_tool\([^,()]+, "([^"]+)"\)', text)}
    assert {"pspp", "poppler-utils"} <= required  # the pattern still finds them
    assert required - {f"{MISSING}-package", "none"} <= installed
