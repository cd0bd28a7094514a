"""Headless Chromium for the screen's browser tests, driven by selenium through Debian's
chromedriver (given by path, so selenium's driver manager never runs or downloads).

Chromium runs with the same offline flags as `appliance sim`'s screenshot. The
viewport is set through the DevTools protocol: `--window-size=800,480` gives an
800x337 viewport under chromedriver (the window's frame is taken off it).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from appliance.runtime.screen.snapshot import CHROMIUM_FLAGS, find_chromium

CHROMEDRIVER = "/usr/bin/chromedriver"


class BrowserUnavailable(RuntimeError):
    """Chromium or chromedriver cannot start here; the message says why."""


def open_browser(profile_dir: Path, size: tuple[int, int] = (800, 480)):
    """A selenium Chrome driver on a fresh profile with a `size` CSS-pixel viewport."""
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    from appliance.errors import ApplianceError

    try:
        chromium = find_chromium()
    except ApplianceError as error:
        raise BrowserUnavailable(str(error)) from None
    driver_path = shutil.which("chromedriver") or CHROMEDRIVER
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile_dir}")
    options.add_argument(f"--window-size={size[0]},{size[1]}")
    try:
        driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    except WebDriverException as error:
        raise BrowserUnavailable(f"{chromium} with {driver_path}: {error.msg}") from None
    resize(driver, size)
    return driver


def resize(driver, size: tuple[int, int]) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": size[0], "height": size[1], "deviceScaleFactor": 1,
                            "mobile": False})


def wait_for(driver, script: str, timeout: float = 20.0, what: str = ""):
    """Poll a JavaScript expression in the page until it is truthy; returns its value."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.02).until(
        lambda d: d.execute_script(f"return {script};"), message=what or script)
