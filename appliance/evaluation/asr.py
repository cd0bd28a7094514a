"""Word error rate of each recogniser on real human and synthetic English speech.

    python -m appliance.evaluation.asr [--engines moonshine,pocketsphinx] [--split tune|held|all]
                                       [--per-source N] [--json FILE]

Every utterance is streamed through the recogniser exactly as `appliance
transcribe` streams a file (80 ms at a time, endpointing on), so the figures
are those of the kiosk's own path. Prints WER per engine and source for the
chosen split, and each engine's real-time factor (processing time over audio
time; below 1 is faster than speech). The corpus is `asr_corpus.toml` beside
this file; its human recordings come from Debian packages and are verified by
SHA-256 before use.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from appliance.errors import ApplianceError, ConfigError

CORPUS = Path(__file__).with_name("asr_corpus.toml")
ENGINES = ("moonshine", "pocketsphinx")
SPLITS = ("tune", "held", "all")


@dataclass(frozen=True)
class Utterance:
    source: str
    text: str
    split: str
    samples: np.ndarray = dataclasses.field(repr=False)


def _checked_audio(entry: dict, corpus: Path) -> np.ndarray:
    from appliance.audiofile import read_wav

    path = Path(entry["file"])
    if not path.exists():
        raise ApplianceError(f"{corpus}: {path} is missing; install its Debian package (make setup)")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != entry["sha256"]:
        raise ApplianceError(f"{corpus}: {path} has sha256 {digest[:12]}…, not the pinned one")
    return read_wav(path)


def _synthesise(source: str, text: str, piper) -> np.ndarray:
    from appliance.runtime.script import CallerLine, speak

    pad = np.zeros(4000, dtype=np.int16)
    voice = "piper" if source == "piper" else "en-us"
    return np.concatenate([pad, speak(CallerLine(text=text, voice=voice), piper), pad])


def load_corpus(split: str = "all", per_source: int = 0, kinds: tuple[str, ...] = ("human", "synthetic"),
                corpus: Path = CORPUS) -> list[Utterance]:
    """The corpus's utterances of `split` from sources of `kinds` (at most `per_source` of each when > 0)."""
    try:
        table = tomllib.loads(corpus.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(str(corpus), "<file>", f"a readable TOML corpus ({error})") from None
    sources = {source["name"]: source for source in table["source"]}
    wanted = [e for e in table["utterance"]
              if split in ("all", e["split"]) and sources[e["source"]]["kind"] in kinds]
    phrases = [p for p in table.get("phrase", []) if split in ("all", p["split"])]
    synthetic = [name for name, source in sources.items()
                 if source["kind"] == "synthetic" and "synthetic" in kinds]
    chosen: list[tuple[str, dict]] = [(e["source"], e) for e in wanted]
    chosen += [(name, phrase) for name in synthetic for phrase in phrases]
    counts: dict[str, int] = {}
    utterances = []
    piper = _piper() if any(name == "piper" for name, _ in chosen) else None
    for source, entry in chosen:
        counts[source] = counts.get(source, 0) + 1
        if per_source and counts[source] > per_source:
            continue
        samples = (_checked_audio(entry, corpus) if "file" in entry
                   else _synthesise(source, entry["text"], piper))
        utterances.append(Utterance(source, entry["text"], entry["split"], samples))
    return utterances


def _piper():
    """The kiosk's piper voice, deterministic (no generator noise), as text -> chunks."""
    from appliance.config import Config
    from appliance.speech.tts import Synthesizer

    config = Config()
    settings = dataclasses.replace(config.tts, noise_scale=0.0, noise_w_scale=0.0)
    synthesizer = Synthesizer(settings, config.models_dir())
    return synthesizer.synthesize


@dataclass(frozen=True)
class Result:
    engine: str
    source: str
    reference: str
    hypothesis: str
    audio_s: float
    compute_s: float


def recognise(engine: str, utterances: list[Utterance]) -> Iterator[Result]:
    """Each utterance through `engine` as `appliance transcribe` would run it."""
    from appliance.commands.transcribe import transcribe
    from appliance.config import Config
    from appliance.speech.factory import open_recognizer

    config = Config()
    with open_recognizer(dataclasses.replace(config.asr, backend=engine), config.models_dir()) as rec:
        for utterance in utterances:
            rec.reset()
            clock = time.perf_counter()
            text = " ".join(t.text for t in transcribe(utterance.samples, rec))
            yield Result(engine, utterance.source, utterance.text, text,
                         utterance.samples.size / 16000, time.perf_counter() - clock)


def summarise(results: list[Result]) -> dict:
    """WER per engine and source (and over all human speech), real-time factor per engine."""
    from appliance.speech.wer import normalise, word_error_rate

    table: dict = {}
    for engine in dict.fromkeys(r.engine for r in results):
        mine = [r for r in results if r.engine == engine]
        sources = dict.fromkeys(r.source for r in mine)
        groups = {source: [r for r in mine if r.source == source] for source in sources}
        rows = {source: {"wer": word_error_rate([(r.reference, r.hypothesis) for r in group]),
                         "utterances": len(group),
                         "words": sum(len(normalise(r.reference)) for r in group)}
                for source, group in groups.items()}
        table[engine] = {"sources": rows,
                         "rtf": sum(r.compute_s for r in mine) / sum(r.audio_s for r in mine)}
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m appliance.evaluation.asr",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated recognisers")
    parser.add_argument("--split", choices=SPLITS, default="all")
    parser.add_argument("--per-source", type=int, default=0, metavar="N",
                        help="at most N utterances per source")
    parser.add_argument("--json", metavar="FILE", help="write every hypothesis and the summary")
    parser.add_argument("--show", action="store_true", help="print each reference and hypothesis")
    args = parser.parse_args(argv)
    try:
        utterances = load_corpus(args.split, args.per_source)
        results = [r for engine in args.engines.split(",") for r in recognise(engine.strip(), utterances)]
    except ApplianceError as error:
        print(f"eval-asr: {error}", file=sys.stderr)
        return error.exit_code
    summary = summarise(results)
    if args.show:
        for r in results:
            print(f"{r.engine:12} {r.source:9} {r.reference!r} -> {r.hypothesis!r}")
    print(f"split {args.split}: WER per engine and source (utterances, reference words)")
    for engine, row in summary.items():
        cells = "  ".join(f"{source} {cell['wer']:6.1%} ({cell['utterances']}, {cell['words']})"
                          for source, cell in row["sources"].items())
        print(f"{engine:12} {cells}  RTF {row['rtf']:.3f}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        report = {"split": args.split, "summary": summary,
                  "results": [dataclasses.asdict(r) for r in results]}
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
