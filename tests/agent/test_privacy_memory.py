"""Back at idle the kiosk forgets the guest: the next person's answer cannot draw on the last
person's words (the real pipeline in the simulated room, as in test_turns.py)."""

from __future__ import annotations

import pytest
from test_turns import _ask_a_question, kiosk  # noqa: F401 - kiosk is a fixture

from appliance.messages import State

pytestmark = pytest.mark.slow   # a whole pipeline: VAD, ASR, TTS


def test_the_history_is_forgotten_when_the_kiosk_returns_to_idle(kiosk):  # noqa: F811
    pipeline, room, stepper, events = kiosk
    _ask_a_question(pipeline, room, stepper)
    assert [m.role for m in pipeline.kiosk.conversation.messages][:2] == ["system", "user"]
    stepper.until(lambda: pipeline.kiosk.state is State.LISTENING, "the end of the answer")
    assert [m.role for m in pipeline.kiosk.conversation.messages] == ["system", "user", "assistant"]
    stepper.until(lambda: pipeline.kiosk.state is State.IDLE, "the follow-up window to close")
    assert [m.role for m in pipeline.kiosk.conversation.messages] == ["system"]
