"""What the bench's agent says and does after a cut.

The agent's utterance is synthesised once per text per run (a cache that
lives only for the run) with the project's `Synthesizer`, joined into one
16 kHz signal with word boundaries on that timeline.

After a confirmed cut the conversation classifies what the caller said
(ARCHITECTURE.md, turn-taking step 3). The bench has no ASR on the decision
path, so it uses the scenario's ground-truth `caller_text` as the transcript
(an oracle recogniser), classified by the agent's own
`appliance.agent.backchannel.classify`: a bare backchannel, or nothing recognisable, resumes
the utterance from the word that was cut; anything else re-plans, i.e. the
agent stays stopped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from appliance.agent.backchannel import classify
from appliance.audiofile import resample
from appliance.messages import SAMPLE_RATE_HZ


@dataclass(frozen=True)
class Utterance:
    """The agent's speech at 16 kHz and where each word lies in it (samples)."""

    text: str
    samples: np.ndarray
    word_starts: tuple[int, ...]
    word_ends: tuple[int, ...]

    @property
    def seconds(self) -> float:
        return len(self.samples) / SAMPLE_RATE_HZ

    def resume_sample(self, played: int) -> int:
        """Start of the first word not wholly played after `played` samples."""
        for start, end in zip(self.word_starts, self.word_ends, strict=True):
            if end > played:
                return start
        return len(self.samples)

    def words_heard(self, played: int) -> int:
        return sum(end <= played for end in self.word_ends)


class UtteranceCache:
    """Synthesises each distinct agent text once per bench run."""

    def __init__(self, synthesizer) -> None:
        self._synthesizer = synthesizer
        self._utterances: dict[str, Utterance] = {}

    def get(self, text: str) -> Utterance:
        if text not in self._utterances:
            self._utterances[text] = self._synthesize(text)
        return self._utterances[text]

    def _synthesize(self, text: str) -> Utterance:
        parts, starts, ends, offset = [], [], [], 0
        for chunk in self._synthesizer.synthesize(text):
            audio = resample(chunk.samples, chunk.rate_hz)
            scale = SAMPLE_RATE_HZ / chunk.rate_hz
            for word in chunk.words:
                starts.append(offset + int(round(word.start_sample * scale)))
                ends.append(offset + int(round(word.end_sample * scale)))
            parts.append(audio)
            offset += len(audio)
        samples = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)
        return Utterance(text, samples, tuple(starts), tuple(ends))


def resumes_after_cut(caller_text: str) -> bool:
    """Conversation policy on the (oracle) transcript: backchannel or nothing → resume."""
    return classify(caller_text) in ("backchannel", "empty")
