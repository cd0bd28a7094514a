"""The screen's web server: the page, a server-sent event stream of views, and a talk button.

aiohttp runs on its own thread and event loop, so nothing here can hold up
the audio loop or the conversation thread: `publish()` appends the view to a
bounded deque (the oldest is dropped when the server falls behind) and wakes
the loop without waiting. Each connected page gets only the newest view, so
a slow page skips views instead of queueing them.

The listening socket is the one systemd passes in (socket activation, see
systemd/README.md) when there is one, else `[screen] host:port`. A press of
the page's talk button calls `on_talk` on the server thread; it must only
queue the press for the conversation thread, like the GPIO button does.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from importlib import resources
from typing import Any

from appliance.config import ScreenSettings
from appliance.errors import ApplianceError

log = logging.getLogger(__name__)

START_TIMEOUT_S = 10.0
HEARTBEAT_S = 15.0
"""An SSE comment this often, so a page that went away is noticed."""
RETRY_MS = 1000
"""How soon a page's EventSource reconnects after the server went away."""
STATIC_FILES = {"/": ("index.html", "text/html"), "/screen.css": ("screen.css", "text/css"),
                "/screen.js": ("screen.js", "text/javascript")}


def static_text(name: str) -> str:
    """One of the page's files, from the package."""
    return resources.files("appliance.runtime.screen").joinpath("static", name).read_text(encoding="utf-8")


def _aiohttp_web() -> Any:
    try:
        from aiohttp import web
    except ImportError as error:
        raise ApplianceError(f"the screen needs aiohttp ({error}); install with: pip install aiohttp") \
            from None
    return web


def systemd_socket() -> socket.socket | None:
    """The listening socket systemd passed in (LISTEN_FDS for this process), if any."""
    from systemd import daemon

    fds = daemon.listen_fds()
    return socket.socket(fileno=fds[0]) if fds else None


class ScreenServer:
    """The page's HTTP server on its own thread; `close()` stops it (safe twice)."""

    def __init__(self, settings: ScreenSettings, on_talk: Callable[[], None],
                 sock: socket.socket | None = None) -> None:
        self._settings = settings
        self._on_talk = on_talk
        self._sock = sock
        self._pending: collections.deque[dict] = collections.deque(maxlen=settings.queue_views)
        self._latest: str | None = None     # the newest view, as JSON; None before the first
        self._changed: list[asyncio.Event] = []
        self._streams: set[asyncio.Task] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: Any = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._start_error: BaseException | None = None
        self._native_id: int | None = None
        self.url = ""

    # -- the conversation thread's side -------------------------------------------------
    def publish(self, view: dict) -> None:
        """Show `view` on every page; never blocks (the oldest unsent view is dropped)."""
        self._pending.append(view)
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._deliver)
            except RuntimeError:     # the loop closed meanwhile
                pass

    def start(self) -> ScreenServer:
        """Serve until `close()`; raises ApplianceError when the address cannot be used."""
        self._thread = threading.Thread(target=self._serve, name="screen-server", daemon=True)
        self._thread.start()
        if not self._started.wait(START_TIMEOUT_S):
            raise ApplianceError("the screen's web server did not start within "
                                 f"{START_TIMEOUT_S:.0f} s")
        if self._start_error is not None:
            raise ApplianceError(f"[screen] cannot serve on {self._settings.host}:"
                                 f"{self._settings.port} ({self._start_error})")
        return self

    def cpu_seconds(self) -> float:
        """CPU time the server thread used so far (user + system), seconds."""
        if self._native_id is None:
            return 0.0
        try:
            with open(f"/proc/self/task/{self._native_id}/stat", encoding="ascii") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    # -- the server thread ------------------------------------------------------------
    def _serve(self) -> None:
        self._native_id = threading.get_native_id()
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._open())
        except BaseException as error:  # noqa: BLE001 - reported by start()
            self._start_error = error
            self._started.set()
            loop.close()
            return
        self._loop = loop
        loop.call_soon(self._deliver)                  # views published before the start
        self._started.set()
        loop.run_forever()
        loop.run_until_complete(self._shut())
        loop.close()

    async def _open(self) -> None:
        web = _aiohttp_web()
        app = web.Application()
        for path, (name, content_type) in STATIC_FILES.items():
            app.router.add_get(path, self._static_handler(web, static_text(name), content_type))
        app.router.add_get("/events", self._events)
        app.router.add_post("/talk", self._talk)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        if self._sock is not None:
            site = web.SockSite(self._runner, self._sock)
        else:
            site = web.TCPSite(self._runner, self._settings.host, self._settings.port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/"
        log.info("screen served at %s", self.url)

    @staticmethod
    def _static_handler(web: Any, text: str, content_type: str) -> Callable:
        async def handler(_request: Any) -> Any:
            return web.Response(text=text, content_type=content_type,
                                headers={"Cache-Control": "no-store"})
        return handler

    def _deliver(self) -> None:
        """On the loop: the newest pending view becomes every page's next message."""
        latest = None
        while self._pending:
            latest = self._pending.popleft()
        if latest is None:
            return
        self._latest = json.dumps(latest, ensure_ascii=False)
        for changed in self._changed:
            changed.set()

    async def _events(self, request: Any) -> Any:
        web = _aiohttp_web()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "Cache-Control": "no-store"})
        await response.prepare(request)
        changed = asyncio.Event()
        if self._latest is not None:
            changed.set()                              # the current view first
        self._changed.append(changed)
        task = asyncio.current_task()
        assert task is not None
        self._streams.add(task)
        try:
            await response.write(f"retry: {RETRY_MS}\n\n".encode())
            while True:
                try:
                    await asyncio.wait_for(changed.wait(), HEARTBEAT_S)
                except TimeoutError:
                    await response.write(b": still here\n\n")
                    continue
                changed.clear()
                await response.write(f"data: {self._latest}\n\n".encode())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self._changed.remove(changed)
            self._streams.discard(task)
        return response

    async def _talk(self, _request: Any) -> Any:
        self._on_talk()
        return _aiohttp_web().Response(status=204)

    async def _shut(self) -> None:
        # Open event streams never end by themselves: cancel them, or aiohttp
        # waits its shutdown timeout (60 s) for them.
        for task in list(self._streams):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()

    def close(self) -> None:
        """Stop serving and join the thread; safe to call twice."""
        loop, self._loop = self._loop, None
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None

    def __enter__(self) -> ScreenServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()
