"""What the bench's agent says and does after a cut.

The agent's utterance is synthesised once per text per run (a cache that
lives only for the run) with the project's `Synthesizer`, joined into one
16 kHz signal. Its chunks are placed on that timeline as the kiosk's speaker
places them (`ChunkPlacement`), so which words were heard and where the cut
word starts come from the conversation's own rule (`agent.history.split_heard`).

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
from appliance.agent.history import ChunkPlacement, split_heard, word_end_played, word_start_played
from appliance.audiofile import resample
from appliance.messages import SAMPLE_RATE_HZ


@dataclass(frozen=True)
class Utterance:
    """The agent's speech at 16 kHz and where each of its chunks starts in it (samples)."""

    text: str
    samples: np.ndarray
    placements: tuple[ChunkPlacement, ...]

    @property
    def seconds(self) -> float:
        return len(self.samples) / SAMPLE_RATE_HZ

    @property
    def word_starts(self) -> tuple[int, ...]:
        return tuple(word_start_played(p, word) for p in self.placements for word in p.chunk.words)

    @property
    def word_ends(self) -> tuple[int, ...]:
        return tuple(word_end_played(p, word) for p in self.placements for word in p.chunk.words)

    def resume_sample(self, played: int) -> int:
        """Start of the first word not wholly played after `played` samples."""
        heard = self.words_heard(played)
        starts = self.word_starts
        return starts[heard] if heard < len(starts) else len(self.samples)

    def words_heard(self, played: int) -> int:
        return len(split_heard(played, self.placements)[0])


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
        parts, placements, offset = [], [], 0
        for chunk in self._synthesizer.synthesize(text):
            audio = resample(chunk.samples, chunk.rate_hz)
            placements.append(ChunkPlacement(offset, chunk))
            parts.append(audio)
            offset += len(audio)
        samples = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)
        return Utterance(text, samples, tuple(placements))


def resumes_after_cut(caller_text: str) -> bool:
    """Conversation policy on the (oracle) transcript: backchannel or nothing → resume."""
    return classify(caller_text) in ("backchannel", "empty")
