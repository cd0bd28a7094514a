"""A headless Chromium per test; a browser that cannot start fails the test with the reason."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser import BrowserUnavailable, open_browser  # noqa: E402


@pytest.fixture
def browser(tmp_path):
    try:
        driver = open_browser(tmp_path / "profile")
    except BrowserUnavailable as error:
        pytest.fail(f"headless Chromium cannot start, so the screen is untested: {error}")
    yield driver
    driver.quit()
