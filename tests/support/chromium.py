"""Debian's Chromium for the browser tests (the report's page, and the web chat through Playwright)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from playwright.async_api import Browser, async_playwright

from tests.support.postgres import servers_required


def chromium() -> str:
    """The browser's path; skips the test without it (fails under CI=true, where it must be installed)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if servers_required():
            pytest.fail("chromium is not installed (apt-get install chromium)", pytrace=False)
        pytest.skip("apt-get install chromium")
    return found


@asynccontextmanager
async def launch_chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium under Playwright (no browser download), closed on exit."""
    executable = chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            await browser.close()
