"""Prompt and generation speed of an installed llama-cpp-python build on the shipped model.

Not a test (it asserts nothing): run it with each build's interpreter to compare
builds on one machine, in the same sitting, e.g.
  .venv/bin/python tests/agent/measure_llama_build.py --runs 7
  /tmp/native-venv/bin/python tests/agent/measure_llama_build.py --runs 7
It prints llama.cpp's own system line (which instruction sets the build uses),
then the medians over runs: prompt tokens per second (a 120-token prompt in
one batch) and generated tokens per second (64 greedy tokens). A build that
crashes shows here as a signal, not a figure.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import llama_cpp

MODEL = Path(__file__).resolve().parents[2] / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
PROMPT = ("The Harbour View Hotel serves breakfast from seven to half past ten in the Garden Room. "
          "Dinner is served from six to ten in the restaurant on the ground floor. The pool on the "
          "fifth floor opens at six in the morning and closes at ten at night; towels are at the "
          "entrance. Parking is in the garage under the hotel, entrance on Quay Street. ") * 2


def one_run(llm: llama_cpp.Llama, prompt: list[int], generate: int) -> tuple[float, float]:
    llm.reset()
    started = time.perf_counter()
    llm.eval(prompt)
    prompt_s = time.perf_counter() - started
    started = time.perf_counter()
    for count, _token in enumerate(llm.generate(prompt, temp=0.0, reset=False), start=1):
        if count == generate:
            break
    return len(prompt) / prompt_s, generate / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--generate", type=int, default=64)
    args = parser.parse_args()
    print(llama_cpp.llama_print_system_info().decode().strip())
    llm = llama_cpp.Llama(str(MODEL), n_ctx=512, n_threads=args.threads,
                          n_threads_batch=args.threads, verbose=False)
    prompt = llm.tokenize(PROMPT.encode())[:120]
    one_run(llm, prompt, 8)  # warm-up: page the weights in
    runs = [one_run(llm, prompt, args.generate) for _ in range(args.runs)]
    print(f"llama-cpp-python {llama_cpp.__version__}, {args.threads} threads, {args.runs} runs: "
          f"prompt {statistics.median(r[0] for r in runs):.0f} tok/s, "
          f"generation {statistics.median(r[1] for r in runs):.1f} tok/s")


if __name__ == "__main__":
    main()
