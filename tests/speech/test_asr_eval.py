"""The word-error-rate evaluation: its normaliser, its pinned corpus, and a CI-sized run.

The run is a regression test with a generous bound: greedy decoding is
deterministic for a given model (pinned by SHA-256) and onnxruntime version
(pinned in constraints.txt), so Moonshine's WER on this subset only moves when
one of them changes; the bound is three times what was measured, so a
harmless change of a word or two passes and a broken decoder, tokenizer,
resampling or endpointing (pocketsphinx-like error rates) fails.
"""

from __future__ import annotations

import pytest

from appliance.evaluation.asr import load_corpus, recognise, summarise
from appliance.speech.wer import normalise, word_error_rate


@pytest.mark.parametrize(("text", "words"), [
    ("Call-Forward Unconditional.", ["call", "forward", "unconditional"]),
    ("Press 1 to enter an extension!", ["press", "one", "to", "enter", "an", "extension"]),
    ("Room 215, OK?", ["room", "two", "hundred", "fifteen", "okay"]),
    ("  It's   3D audio  ", ["it's", "three", "d", "audio"]),
])
def test_normaliser_forgives_case_punctuation_hyphens_and_digits(text, words):
    assert normalise(text) == words


def test_word_error_rate_counts_substitutions_deletions_and_insertions():
    assert word_error_rate([("the pool is on the roof", "the pool is on the roof")]) == 0.0
    assert word_error_rate([("the pool is on the roof", "a pool is on roof too")]) == pytest.approx(3 / 6)


def test_the_corpus_has_thirty_real_human_utterances_on_each_split():
    for split in ("tune", "held"):
        human = load_corpus(split, kinds=("human",))
        assert len(human) >= 30 and {u.source for u in human} == {"asterisk", "alsa"}


@pytest.mark.slow
def test_moonshine_wer_on_the_ci_subset_is_low_and_beats_pocketsphinx():
    subset = load_corpus("tune", per_source=8, kinds=("human",))
    results = [*recognise("moonshine", subset), *recognise("pocketsphinx", subset)]
    summary = summarise(results)
    moonshine = word_error_rate([(r.reference, r.hypothesis) for r in results if r.engine == "moonshine"])
    sphinx = word_error_rate([(r.reference, r.hypothesis) for r in results if r.engine == "pocketsphinx"])
    print(summary)
    assert moonshine <= 0.15, summary          # measured 0.02 (1 word in 60)
    assert sphinx >= 2 * moonshine, summary    # measured 0.6
