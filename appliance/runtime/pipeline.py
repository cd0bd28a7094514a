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
import os
import queue
import threading

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
from appliance.messages import SAMPLE_RATE_HZ, SpeechChunk
from appliance.models import require
from appliance.speech.cache import ClauseCache
from appliance.speech.factory import open_recognizer
from appliance.speech.trim import trim_silence
from appliance.speech.tts import Synthesizer
from appliance.speech.wake import WakeWordDetector

log = logging.getLogger(__name__)


WARM_NICE = 5
"""The voice warm-up's niceness: behind the audio loop and the replies, not starved."""


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
        self.voice_cache = ClauseCache(self._synthesize, config.tts.cache_s)
        self._warming = threading.Event()
        self._warmer: threading.Thread | None = None
        self._closers.append(self._stop_warming)   # runs before the voice is closed
        self.voice = Voice(clauses=self.answerer.reply,
                           synthesize=self.voice_cache if config.tts.cache_s else self._synthesize,
                           cancel_llm=llm.cancel if llm is not None else _nothing_to_cancel,
                           system_prompt=self.answerer.system_prompt)
        """What the kiosk speaks with; a test builds its own `Kiosk` around a faulty twin."""
        self.kiosk = Kiosk(config, speaker=self.speaker, confirm=self.frontend.confirm,
                           recognizer=self.recognizer, voice=self.voice, events=events,
                           wake=self.wake.process if self.wake is not None else None)
        self._closers.append(self.kiosk.close)

    def _synthesize(self, clause: str) -> SpeechChunk:
        """A reply's clause in the agent's voice, without the voice's silence at its ends."""
        chunk = self.tts.synthesize_clause(clause)
        return trim_silence(chunk) if self.config.tts.trim_silence else chunk

    def boot(self) -> int:
        """What the kiosk does at start-up: queue the burst that pre-trains the echo
        canceller, decode the system prompt into the LLM's cache (if one is loaded),
        and synthesise the usual first clauses in the background. Returns the
        burst's length in samples."""
        burst_samples = self.retrain()
        if self.llm is not None:
            self.llm.prime(self.kiosk.conversation)
        if self.config.tts.cache_s and self._warmer is None:
            self._warmer = threading.Thread(target=self._warm_voice, name="voice-warm", daemon=True)
            self._warmer.start()
        return burst_samples

    def retrain(self) -> int:
        """Queue the calibration burst that trains the echo canceller on the card as it is
        now (at start-up, and on a card just reopened); the detector is held and nothing
        heard counts as speech until its echo has died away, when `ready` is emitted (again).
        Returns its length in samples."""
        self._ready = False
        burst = self.frontend.calibration_burst()
        self.speaker.enqueue_audio(burst, SAMPLE_RATE_HZ)
        return len(burst)

    def _warm_voice(self) -> None:
        """Synthesise the usual first clauses, a little below the audio loop's priority."""
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WARM_NICE)
        except OSError:
            pass
        try:
            made = self.voice_cache.warm(self.answerer.openings(), stop=self._warming)
            log.info("voice: %d opening clauses ready (%.1f s of audio kept)", made,
                     self.voice_cache.seconds)
        except Exception:  # noqa: BLE001 - a failed warm-up only costs the first replies time
            log.exception("voice warm-up failed; clauses are synthesised when first spoken")

    def wait_warm(self, timeout: float = 60.0) -> None:
        """Wait for the voice's warm-up (the sim's kiosk has been up a while when a guest
        comes; a sound card's kiosk never waits for it)."""
        if self._warmer is not None:
            self._warmer.join(timeout=timeout)

    def _stop_warming(self) -> None:
        """Stop the warm-up at its next clause and wait for it (it uses the voice)."""
        self._warming.set()
        if self._warmer is not None:
            self._warmer.join(timeout=5.0)

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
