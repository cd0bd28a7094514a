"""One view of the screen as a PNG, rendered by headless Chromium with no network.

The page's own HTML, CSS and JavaScript are inlined into one file together
with the view (`window.SCREEN_VIEW`), so Chromium renders exactly what a
connected page would show for that view, without a server. `CHROMIUM_FLAGS`
keep the browser offline: besides switching off its background services, a
host-resolver rule answers every name with "not found", because Chromium
looks up Google's hosts even with background networking disabled. The
browser tests run Chromium with the same flags.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from appliance.errors import ApplianceError
from appliance.runtime.screen.server import static_text

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
    "--disable-default-apps", "--disable-extensions", "--metrics-recording-only",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1", "--hide-scrollbars",
)
SCREENSHOT_TIMEOUT_S = 60.0


def find_chromium() -> str:
    """The Chromium executable, or an ApplianceError with the install hint."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    raise ApplianceError("Chromium is not installed (apt install chromium chromium-driver)")


def snapshot_html(view: dict) -> str:
    """The page with its stylesheet, script and `view` inlined: renders with no server."""
    data = json.dumps(view, ensure_ascii=False).replace("</", "<\\/")
    return (static_text("index.html")
            .replace('<link rel="stylesheet" href="/screen.css">',
                     f"<style>\n{static_text('screen.css')}</style>")
            .replace("<!--SNAPSHOT-->", f"<script>window.SCREEN_VIEW = {data};</script>")
            .replace('<script src="/screen.js"></script>', f"<script>\n{static_text('screen.js')}</script>"))


def screenshot(view: dict, path: Path, size: tuple[int, int] = (800, 480)) -> Path:
    """Render `view` at `size` (CSS pixels) into the PNG `path` with headless Chromium."""
    chromium = find_chromium()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="appliance-screen-") as scratch:
        page = Path(scratch) / "screen.html"
        page.write_text(snapshot_html(view), encoding="utf-8")
        command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={scratch}/profile",
                   f"--window-size={size[0]},{size[1]}", f"--screenshot={path.resolve()}",
                   page.as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, text=True,
                                  timeout=SCREENSHOT_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise ApplianceError(f"Chromium took over {SCREENSHOT_TIMEOUT_S:.0f} s for a screenshot") \
                from None
    if done.returncode != 0 or not path.exists():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ApplianceError(f"Chromium could not take the screenshot {path} ({last})")
    return path
