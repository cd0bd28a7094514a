"""The whole kiosk assembled from the config around one audio device.

`Pipeline` builds the speaker queue, the front end (AEC → VAD → detector),
the duplex loop, the wake word, the recogniser, the LLM and the voice, and
the `Kiosk` that takes turns with them. The same assembly serves
`appliance run` (ALSA, loop in its own thread) and `appliance sim` (the
simulated room, stepped). `pump()` is the conversation thread's work for one
period: hand the kiosk every cleaned frame and detector event, then let it
feed the speaker.
"""

from __future__ import annotations

import logging
import queue

from appliance.agent.events import EventLog
from appliance.agent.llm import LocalLlm
from appliance.agent.turns import Kiosk, Voice
from appliance.agent.vocabulary import Ready
from appliance.audio.device import AudioDevice
from appliance.audio.loop import DuplexLoop
from appliance.audio.speaker import Speaker
from appliance.config import Config
from appliance.knowledge.answer import Answerer
from appliance.knowledge.site import KnowledgeFile
from appliance.listen.frontend import FrontEnd
from appliance.messages import SAMPLE_RATE_HZ
from appliance.models import require
from appliance.speech.factory import open_recognizer
from appliance.speech.tts import Synthesizer
from appliance.speech.wake import WakeWordDetector

log = logging.getLogger(__name__)


def _nothing_to_cancel() -> None:
    """The voice's LLM hook when answers are the facts' own words."""


class Pipeline:
    """Every stage of the kiosk around `device`; `close()` releases them all (safe twice)."""

    def __init__(self, config: Config, device: AudioDevice, events: EventLog) -> None:
        models_dir = config.models_dir()
        self.config = config
        self.device = device
        self.events = events
        self._ready = False
        self._closers: list = []
        # The knowledge file first: a bad one is one line and exit 2 before any model loads.
        knowledge = KnowledgeFile(config.knowledge.file or None)
        try:
            self.speaker = Speaker(device, config.audio)
            self._closers.append(self.speaker.close)
            self.frontend = FrontEnd(config.aec, config.detector, self.speaker,
                                     require("silero_vad.onnx", models_dir))
            self._closers.append(self.frontend.close)
            self.frames = self.frontend.subscribe()
            self.loop = DuplexLoop(device, self.speaker, self.frontend,
                                   config.audio.realtime_priority)
            self._closers.append(self.loop.close)
            self.wake = WakeWordDetector(config.wake, models_dir) if config.wake.enabled else None
            if self.wake is not None:
                self._closers.append(self.wake.close)
            self.recognizer = open_recognizer(config.asr, models_dir)
            self._closers.append(self.recognizer.close)
            # The LLM only words answers with `knowledge.phrasing = "model"`.
            self.llm = LocalLlm(config.llm, models_dir) if config.knowledge.phrasing == "model" else None
            if self.llm is not None:
                self._closers.append(self.llm.close)
            self.tts = Synthesizer(config.tts, models_dir)
            self._closers.append(self.tts.close)
        except BaseException:
            self.close()
            raise
        # After ASR and after a barge-in alike, the kiosk speaks the answerer's
        # checked, capped clauses; the LLM only phrases the retrieved facts.
        llm = self.llm
        self.answerer = Answerer(config, llm.stream_clauses if llm is not None else None, knowledge)
        self.voice = Voice(clauses=self.answerer.reply, synthesize=self.tts.synthesize_clause,
                           cancel_llm=llm.cancel if llm is not None else _nothing_to_cancel,
                           system_prompt=self.answerer.system_prompt)
        """What the kiosk speaks with; a test builds its own `Kiosk` around a faulty twin."""
        self.kiosk = Kiosk(config, speaker=self.speaker, confirm=self.frontend.confirm,
                           recognizer=self.recognizer, voice=self.voice, events=events,
                           wake=self.wake.process if self.wake is not None else None)
        self._closers.append(self.kiosk.close)

    def boot(self) -> int:
        """What the kiosk does at start-up: queue the burst that pre-trains the echo
        canceller, and decode the system prompt into the LLM's cache (if one is
        loaded). Returns the
        burst's length in samples."""
        burst = self.frontend.calibration_burst()
        self.speaker.enqueue_audio(burst, SAMPLE_RATE_HZ)
        if self.llm is not None:
            self.llm.prime(self.kiosk.conversation)
        return len(burst)

    def pump(self, feed: bool = True, timeout: float = 0.0) -> int:
        """Hand the kiosk what the loop produced; returns the number of frames handled.

        With `timeout`, waits that long for the first frame (the conversation
        thread of `appliance run`); `feed=False` holds synthesised speech back
        (the sim's virtual clock while compute time passes).
        """
        handled = 0
        try:
            frame = self.frames.get(timeout=timeout) if timeout else self.frames.get_nowait()
        except queue.Empty:
            frame = None
        while frame is not None:
            self._drain_events()
            self.kiosk.on_frame(frame)
            handled += 1
            try:
                frame = self.frames.get_nowait()
            except queue.Empty:
                frame = None
        self._drain_events()
        if not self._ready and handled and not self.frontend.calibrating:
            self._ready = True          # the canceller is trained: barge-in works from here
            self.events.emit(self.frontend_time, Ready())
        if feed:
            self.kiosk.tick()
        return handled

    @property
    def frontend_time(self) -> float:
        """Pipeline time of the last period the loop completed, seconds."""
        return self.loop.periods_done * self.device.period_samples / SAMPLE_RATE_HZ

    def _drain_events(self) -> None:
        while True:
            try:
                event = self.frontend.events.get_nowait()
            except queue.Empty:
                return
            self.kiosk.on_detector_event(event)

    def close(self) -> None:
        for close in reversed(self._closers):
            try:
                close()
            except Exception:  # noqa: BLE001 - release everything else regardless
                log.exception("closing %s failed", close)
        self._closers.clear()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
