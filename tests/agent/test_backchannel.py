"""The backchannel classifier: bare listener feedback, noise, or a real request."""

import pytest

from appliance.agent.backchannel import classify


@pytest.mark.parametrize(
    "text",
    ["mm-hmm", "Mm-hmm.", "mhm", "uh-huh", "Uh huh!", "yeah", "Yeah.", "yep", "okay", "OK",
     "ok...", "right", "Right?", "sure", "got it", "Got it.", "mm hmm", "m hm", "okay okay",
     "yeah, yeah", "um yeah", "mhm okay",
     # as Moonshine writes them (measured on piper and espeak-ng backchannels)
     "Okay.", "I see,", "Um, okay.", "Mm-mm,", "Got it."],
)
def test_bare_backchannels(text):
    assert classify(text) == "backchannel"


@pytest.mark.parametrize("text", ["", "   ", "...", "?!", "uh", "um", "the", "[unk]", "hmm.",
                                  "M.", "Ah.", "Uh?"])
def test_nothing_or_noise_is_empty(text):
    assert classify(text) == "empty"


@pytest.mark.parametrize(
    "text",
    ["yeah but which floor", "okay where is the gym", "no", "Wait.", "huh?", "right now please",
     "sure, can you book it", "what time is breakfast", "yes please", "got it thanks"],
)
def test_anything_else_is_a_request(text):
    assert classify(text) == "request"
