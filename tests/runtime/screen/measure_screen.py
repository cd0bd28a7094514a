"""The screen's figures: event-to-frame latency, server CPU, memory, a screenshot per state.

Not a test (it asserts nothing): run it for the figures in reports.
  .venv/bin/python tests/runtime/screen/measure_screen.py [--shots DIR] [--script FILE]
Runs the default front-desk conversation in real time with the screen served,
watched by headless Chromium at 800x480. If nobody has cut the agent by its
third played word, the script presses the page's talk button to cut it, so
that every state gets its screenshot. Each view carries the wall-clock time
the conversation thread published it; the page logs how long after that the
next frame started once the DOM was updated (requestAnimationFrame).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser import open_browser, resize  # noqa: E402
from test_page import free_port  # noqa: E402
from test_sim_screen import Console  # noqa: E402

from appliance.config import Config, ScreenSettings  # noqa: E402
from appliance.runtime.script import load_script  # noqa: E402
from appliance.runtime.sim import run_sim  # noqa: E402

MOMENTS = {
    "idle": "b.ready === 'true' && b.state === 'idle'",
    "listening": "b.state === 'listening'",
    "thinking": "b.state === 'thinking'",
    "speaking": "b.state === 'speaking' && Number(r.heard) >= 3",
    "yielding": "b.state === 'yielding' && r.cut === 'true'",
}


def pss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def browser_pids(profile: Path) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if str(profile) in (proc / "cmdline").read_text(errors="replace"):
                    pids.append(int(proc.name))
            except OSError:
                pass
    return pids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=Path, default=Path("out/screen"))
    parser.add_argument("--script", type=Path)
    args = parser.parse_args()
    args.shots.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="measure-screen-"))
    port = free_port()
    config = Config(screen=ScreenSettings(enabled=True, port=port))
    console, results = Console(), []
    thread = threading.Thread(target=lambda: results.append(run_sim(
        config, load_script(args.script), scratch / "sim", realtime=True, console=console)),
        daemon=True)
    thread.start()
    profile = scratch / "profile"
    driver = open_browser(profile)
    console.serving.wait(600)
    driver.get(f"http://127.0.0.1:{port}/")
    taken, pressed = set(), False
    peak_kib = {"kiosk": 0, "browser": 0, "both": 0}
    check = ("const b = document.body.dataset, r = document.getElementById('reply').dataset;"
             " return {" + ", ".join(f"{name}: {cond}" for name, cond in MOMENTS.items()) + "};")
    while thread.is_alive():
        for name, now in driver.execute_script(check).items():
            if now and name not in taken:
                taken.add(name)
                driver.save_screenshot(str(args.shots / f"{name}-800x480.png"))
                resize(driver, (1920, 1080))
                driver.save_screenshot(str(args.shots / f"{name}-1920x1080.png"))
                resize(driver, (800, 480))
        if "speaking" in taken and not pressed:
            driver.find_element("id", "talk").click()
            pressed = True
        now = {"kiosk": pss_kib([os.getpid()]), "browser": pss_kib(browser_pids(profile))}
        now["both"] = now["kiosk"] + now["browser"]
        peak_kib = {part: max(peak_kib[part], now[part]) for part in peak_kib}
        thread.join(timeout=0.05)
    log = driver.execute_script("return window.screenLog;")
    driver.quit()
    result = results[0]
    latencies = sorted(entry["latency_ms"] for entry in log)
    seconds = result.records[-1]["t"]
    print(f"views rendered: {len(latencies)}; event-to-frame latency: median "
          f"{statistics.median(latencies):.0f} ms, p90 {latencies[int(0.9 * len(latencies))]:.0f} ms, "
          f"max {latencies[-1]:.0f} ms")
    print(f"screen server thread CPU: {result.screen_cpu_s * 1e3:.0f} ms over {seconds:.0f} s "
          f"({100 * result.screen_cpu_s / seconds:.2f} % of one core)")
    print("peak PSS: " + ", ".join(f"{part} {kib / 1024:.0f} MiB" for part, kib in peak_kib.items())
          + " (kiosk = this process: every model, the sim and selenium's client)")
    print(f"screenshots ({', '.join(sorted(taken))}) in {args.shots}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
