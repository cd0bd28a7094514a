"""The screen wired to a running pipeline: view, server and talk presses.

`Screen` subscribes its view to the pipeline's event log and to the kiosk's
placed chunks, and `tick()` (called by the conversation thread after each
pump) advances the caption to the speaker's played samples. Talk presses from
the page wait in a small queue; `presses()` hands them to the conversation
thread, which calls `Kiosk.push_to_talk`, as it does for the GPIO button.
"""

from __future__ import annotations

import queue
import socket

from appliance.config import ScreenSettings
from appliance.runtime.pipeline import Pipeline
from appliance.runtime.screen.server import ScreenServer
from appliance.runtime.screen.view import ScreenView

PRESS_QUEUE = 8


class Screen:
    """The screen of one pipeline; `close()` stops its server (safe twice)."""

    def __init__(self, settings: ScreenSettings, pipeline: Pipeline, *, serve: bool = True,
                 sock: socket.socket | None = None) -> None:
        self._presses: queue.Queue[None] = queue.Queue(maxsize=PRESS_QUEUE)
        self.server = ScreenServer(settings, self._pressed, sock) if serve else None
        publish = self.server.publish if self.server is not None else _nowhere
        # The site's name is the knowledge file's: one definition, shown on the page.
        self.view = ScreenView(settings, publish, site_name=pipeline.answerer.site.name)
        self._speaker = pipeline.speaker
        # The page is the live caption: it gets the words, and forgets them at idle (idle_clear_s).
        pipeline.events.subscribe(self.view.on_event, words=True)
        pipeline.kiosk.on_placed(self.view.on_placed)
        if self.server is not None:
            self.server.start()

    @property
    def url(self) -> str:
        return self.server.url if self.server is not None else ""

    def _pressed(self) -> None:
        try:
            self._presses.put_nowait(None)
        except queue.Full:              # a burst of taps is one press's worth
            pass

    def presses(self) -> int:
        """Talk presses since the last call (the conversation thread acts on them)."""
        count = 0
        while True:
            try:
                self._presses.get_nowait()
            except queue.Empty:
                return count
            count += 1

    def tick(self) -> None:
        self.view.tick(self._speaker.played_samples)

    def close(self) -> None:
        if self.server is not None:
            self.server.close()

    def __enter__(self) -> Screen:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _nowhere(_view: dict) -> None:
    """No server (the sim's screenshot only needs the view)."""
