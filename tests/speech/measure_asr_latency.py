"""Endpoint-to-final latency of the Moonshine recogniser, and its decoder's cost, per option.

Not a test (it asserts nothing): run it for the figures in reports.
  .venv/bin/python tests/speech/measure_asr_latency.py [--utterances N] [--options ...]

Each utterance (the corpus's recorded prompts of at most 5 s, then its piper
phrases) is fed in 80 ms frames *at the pace of speech*, so the draft worker
has the time it would have in the kiosk; at the recogniser's endpoint the
time `final()` takes is the latency the caller waits for. For each option
(incremental decoding on/off, onnxruntime threads) it prints the p50/p90
latency, the median cost of one cached decoder step, of the batched draft
check, and of the encoder per second of audio, and how many draft tokens the
final decode could keep.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

import numpy as np

from appliance.config import Config
from appliance.evaluation.asr import load_corpus
from appliance.speech.factory import open_recognizer

FRAME = 1280
OPTIONS = {"incremental, 1 thread": (True, 1), "incremental, 2 threads": (True, 2),
           "from scratch, 1 thread": (False, 1), "from scratch, 2 threads": (False, 2)}


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(option: str, utterances: list, config: Config) -> dict:
    incremental, threads = OPTIONS[option]
    settings = dataclasses.replace(config.asr, backend="moonshine", incremental=incremental, threads=threads)
    latencies, steps, checks, accepted, encoder_per_s = [], [], [], [], []
    with open_recognizer(settings, config.models_dir()) as rec:
        for utterance in utterances:
            rec.reset()
            audio = np.concatenate([utterance.samples, np.zeros(16000, dtype=np.int16)])
            start = time.perf_counter()
            for index, offset in enumerate(range(0, audio.size, FRAME)):
                rec.accept(audio[offset:offset + FRAME])
                if rec.endpoint:
                    break
                time.sleep(max(0.0, start + (index + 1) * FRAME / 16000 - time.perf_counter()))
            clock = time.perf_counter()
            rec.final()
            latencies.append(time.perf_counter() - clock)
            decoding = rec.last_decoding
            if decoding is not None:
                checks.append(decoding.step_s[0])
                steps += list(decoding.step_s[1:])
                accepted.append(decoding.draft_accepted / max(1, len(decoding.tokens)))
        model = rec._model
        for utterance in utterances[:5]:
            clock = time.perf_counter()
            model.encode(utterance.samples)
            encoder_per_s.append((time.perf_counter() - clock) / (utterance.samples.size / 16000))
    return {"option": option, "p50_ms": 1000 * quantile(latencies, 0.5),
            "p90_ms": 1000 * quantile(latencies, 0.9),
            "step_ms": 1000 * statistics.median(steps) if steps else float("nan"),
            "check_ms": 1000 * statistics.median(checks) if checks else float("nan"),
            "encoder_ms_per_s": 1000 * statistics.median(encoder_per_s),
            "draft_kept": statistics.mean(accepted) if accepted else 0.0, "n": len(latencies)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--utterances", type=int, default=12)
    parser.add_argument("--options", nargs="*", default=list(OPTIONS), choices=list(OPTIONS))
    parser.add_argument("--rounds", type=int, default=1, help="repeat the options in turn (noisy machines)")
    args = parser.parse_args()
    config = Config()
    corpus = [u for u in load_corpus("all")
              if u.source in ("asterisk", "piper") and u.samples.size <= 5 * 16000]
    utterances = ([u for u in corpus if u.source == "asterisk"][: args.utterances // 2]
                  + [u for u in corpus if u.source == "piper"][: args.utterances - args.utterances // 2])
    print(f"{len(utterances)} utterances, {sum(u.samples.size for u in utterances) / 16000:.1f} s of speech")
    for _ in range(args.rounds):
        for option in args.options:
            row = measure(option, utterances, config)
            print(f"{row['option']:24} final after endpoint p50 {row['p50_ms']:6.0f} ms"
                  f"  p90 {row['p90_ms']:6.0f} ms | decoder step {row['step_ms']:5.1f} ms,"
                  f" batched check {row['check_ms']:5.1f} ms, encoder {row['encoder_ms_per_s']:5.1f} ms/s,"
                  f" draft kept {row['draft_kept']:.0%} (n={row['n']})", flush=True)


if __name__ == "__main__":
    main()
