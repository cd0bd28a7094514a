"""Word boundaries of synthesised speech, from piper's phoneme alignments.

Piper tells how many samples each phoneme of a clause lasted, but espeak
phonemises the clause in context: it runs short words together ("on the" ->
"ɔnðə") and expands numbers and abbreviations, so the spaces in the phoneme
string do not map one to one onto the words of the text. Each word is
therefore also phonemised alone, and the two phoneme sequences are aligned
with an edit distance; every spoken phoneme inherits the word of the phoneme
it was aligned with. The alignment is monotonic, so the word spans are too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from appliance.messages import WordTiming

STRESS_MARKS = frozenset("ˈˌ")
"""Stress marks carry duration in piper; they belong to the syllable that follows."""

BOUNDARY = " "
_NOT_SOUNDS = frozenset(" ^$_.,;:!?¡¿—–-…\"'()")

# Edit costs. Spaces are cheap to drop from the per-word sequence (espeak
# joins words) but expensive to pair with a sound, so word edges snap to the
# spoken pauses wherever espeak kept them.
_SUBSTITUTE = 1.0
_INDEL = 1.0
_DROP_BOUNDARY = 0.5
_BOUNDARY_FOR_SOUND = 3.0


@dataclass(frozen=True)
class TimedPhoneme:
    """One phoneme of a clause and the samples it lasted, [start, end)."""

    phoneme: str
    start: int
    end: int


def _symbol(phoneme: str) -> str:
    return BOUNDARY if phoneme in _NOT_SOUNDS else phoneme


def _reference(word_phonemes: Sequence[Sequence[str]]) -> tuple[list[str], list[int | None]]:
    """The words phonemised alone, joined by boundaries, with the word index of each symbol."""
    symbols: list[str] = []
    labels: list[int | None] = []
    for index, phonemes in enumerate(word_phonemes):
        symbols.append(BOUNDARY)
        labels.append(None)
        for phoneme in phonemes:
            if phoneme not in STRESS_MARKS and _symbol(phoneme) != BOUNDARY:
                symbols.append(phoneme)
                labels.append(index)
    return symbols, labels


def _cost(spoken: str, reference: str) -> float:
    if spoken == reference:
        return 0.0
    if BOUNDARY in (spoken, reference):
        return _BOUNDARY_FOR_SOUND
    return _SUBSTITUTE


def _align(spoken: list[str], reference: list[str]) -> list[int | None]:
    """For each spoken symbol, the index of the reference symbol it pairs with (None if inserted)."""
    rows, cols = len(spoken) + 1, len(reference) + 1
    drop = [_DROP_BOUNDARY if symbol == BOUNDARY else _INDEL for symbol in reference]
    table = [[0.0] * cols for _ in range(rows)]
    for j in range(1, cols):
        table[0][j] = table[0][j - 1] + drop[j - 1]
    for i in range(1, rows):
        table[i][0] = table[i - 1][0] + _INDEL
        above, here = table[i - 1], table[i]
        for j in range(1, cols):
            here[j] = min(above[j - 1] + _cost(spoken[i - 1], reference[j - 1]),
                          above[j] + _INDEL, here[j - 1] + drop[j - 1])
    pairs: list[int | None] = [None] * len(spoken)
    i, j = rows - 1, cols - 1
    while i > 0 and j > 0:
        if table[i][j] == table[i - 1][j - 1] + _cost(spoken[i - 1], reference[j - 1]):
            pairs[i - 1] = j - 1
            i, j = i - 1, j - 1
        elif table[i][j] == table[i - 1][j] + _INDEL:
            i -= 1
        else:
            j -= 1
    return pairs


def _segments(spoken: list[str]) -> list[list[int]]:
    """Indices of the sounds between spoken boundaries (pauses, spaces, punctuation)."""
    segments: list[list[int]] = [[]]
    for index, symbol in enumerate(spoken):
        if symbol == BOUNDARY:
            segments.append([])
        else:
            segments[-1].append(index)
    return [segment for segment in segments if segment]


def _spoken_labels(spoken: list[str], pairs: list[int | None], labels: list[int | None],
                   word_count: int) -> list[int | None]:
    """Word index of each spoken sound.

    An unpaired sound joins a paired neighbour in its own spoken segment; a
    segment with no paired sound at all (an expansion espeak made only in
    context, "e.g." -> "for example") takes the next word nobody claimed,
    or else the word before it. Labels stay non-decreasing either way.
    """
    result: list[int | None] = [
        labels[pair] if pair is not None and symbol != BOUNDARY else None
        for symbol, pair in zip(spoken, pairs, strict=True)
    ]
    previous = -1
    segments = _segments(spoken)
    for number, segment in enumerate(segments):
        known = [result[index] for index in segment if result[index] is not None]
        if not known:
            later = [result[i] for s in segments[number + 1:] for i in s if result[i] is not None]
            limit = later[0] if later else word_count
            fill = previous + 1 if previous + 1 < limit else max(previous, 0)
            known = [fill]
        current = known[0]
        for index in segment:
            if result[index] is None:
                result[index] = current
            current = result[index]
        previous = current
    return result


def word_timings(words: Sequence[str], word_phonemes: Sequence[Sequence[str]],
                 spoken: Sequence[TimedPhoneme]) -> tuple[WordTiming, ...]:
    """One WordTiming per word: the samples from its first to its last spoken phoneme.

    `word_phonemes[i]` is word i phonemised on its own; `spoken` is the clause
    as synthesised, with sample spans. Stress marks go with the sound after
    them; pauses and punctuation belong to no word. A word espeak swallowed
    entirely gets an empty span where the previous word ended.
    """
    sounds = [(phoneme, _symbol(phoneme.phoneme)) for phoneme in spoken
              if phoneme.phoneme not in STRESS_MARKS]
    reference, labels = _reference(word_phonemes)
    symbols = [symbol for _, symbol in sounds]
    sound_labels = _spoken_labels(symbols, _align(symbols, reference), labels, len(words))
    spans: dict[int, list[int]] = {}
    for (phoneme, symbol), label in zip(sounds, sound_labels, strict=True):
        if symbol != BOUNDARY and label is not None:
            span = spans.setdefault(label, [phoneme.start, phoneme.end])
            span[1] = phoneme.end
    _extend_over_stress(spoken, spans)
    return _as_timings(words, spans, default_start=spoken[0].start if spoken else 0)


def _extend_over_stress(spoken: Sequence[TimedPhoneme], spans: dict[int, list[int]]) -> None:
    """Move a word's start back over the stress marks that precede its first sound."""
    stress_before: dict[int, int] = {}
    for previous, current in zip(spoken, spoken[1:], strict=False):
        if previous.phoneme in STRESS_MARKS:
            stress_before[current.start] = stress_before.get(previous.start, previous.start)
    for span in spans.values():
        span[0] = stress_before.get(span[0], span[0])


def _as_timings(words: Sequence[str], spans: dict[int, list[int]],
                default_start: int) -> tuple[WordTiming, ...]:
    timings = []
    cursor = default_start
    for index, word in enumerate(words):
        start, end = spans.get(index, (cursor, cursor))
        timings.append(WordTiming(word, start, end))
        cursor = end
    return tuple(timings)
