"""Word spans from phoneme alignments when espeak's phoneme words differ from the text's words."""

from __future__ import annotations

from appliance.speech.word_timing import TimedPhoneme, word_timings


def timed(phonemes: str, samples: int = 100) -> list[TimedPhoneme]:
    return [TimedPhoneme(p, i * samples, (i + 1) * samples) for i, p in enumerate(phonemes)]


def test_words_espeak_ran_together_are_split_at_the_right_phoneme():
    # "is on the floor" spoken as "ɪz ɔnðə flˈɔːɹ": espeak dropped the space between "on" and "the".
    spoken = timed("^ɪz ɔnðə flˈɔːɹ$")
    alone = [list("ɪz"), list("ˈɑːn"), list("ðə"), list("flˈɔːɹ")]
    spans = word_timings(["is", "on", "the", "floor"], alone, spoken)
    assert [(w.start_sample, w.end_sample) for w in spans] == [
        (100, 300), (400, 600), (600, 800), (900, 1500)]


def test_an_expansion_only_made_in_context_goes_to_its_own_word():
    # "bags, e.g. two": in context "e.g." is read "for example", alone "ee jee".
    spoken = timed("^bˈæɡz, fɔːɹɛɡzˈæmpəl tˈuː$")
    alone = [list("bˈæɡz,"), list("ˌiːdʒˈiː."), list("tˈuː")]
    spans = word_timings(["bags,", "e.g.", "two"], alone, spoken)
    bags, eg, two = spans
    assert bags.end_sample <= eg.start_sample < eg.end_sample <= two.start_sample
    assert (eg.start_sample, eg.end_sample) == (800, 2100)


def test_stress_mark_before_a_word_counts_as_its_start():
    spoken = timed("^hə ˈɛloʊ$")
    spans = word_timings(["uh", "hello"], [list("hə"), list("ˈɛloʊ")], spoken)
    assert spans[1].start_sample == 400


def test_a_swallowed_word_gets_an_empty_span_where_the_previous_ended():
    spoken = timed("^ɡoʊ$")
    spans = word_timings(["go", "&"], [list("ɡoʊ"), []], spoken)
    assert spans[1].start_sample == spans[1].end_sample == spans[0].end_sample
