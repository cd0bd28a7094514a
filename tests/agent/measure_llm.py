"""Measure the local LLM for the closing note (not a test: prints figures, asserts nothing).

    .venv/bin/python tests/agent/measure_llm.py [--runs 7] [--conversations 3]

Time to first token and to first clause for a kiosk question (system prompt
primed, as at start-up), generation speed, first-token latency at turn 20 over
turn 1 of a scripted conversation, resident memory, and a few re-planning
transcripts after an interruption.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from appliance.agent.history import ChunkPlacement, Conversation
from appliance.agent.llm import LocalLlm
from appliance.config import Config
from appliance.messages import SpeechChunk, WordTiming

QUESTIONS = [
    "What time is breakfast served?", "Is there a gym in the hotel?", "Where can I park my car?",
    "Do you have a swimming pool?", "Can I check out late tomorrow?", "Is there wifi in the rooms?",
    "How do I get to the train station?", "Can you recommend a restaurant nearby?",
    "Is the bar open tonight?", "Can I get a taxi at six?", "Do you have a laundry service?",
    "Where is the elevator?", "Can I have extra towels?", "Is breakfast included in my room?",
    "What is the wifi password?", "Are pets allowed?", "Is there a spa?",
    "Can I store my luggage after check-out?", "Do you sell stamps?", "Thank you, goodbye!",
]
INTERRUPTIONS = [
    ("Where is the swimming pool?", "The swimming pool is on the fifth floor, next to the gym.",
     4, "Actually, where is the gym?"),
    ("What time is breakfast served?", "Breakfast is served from seven to ten in the lobby restaurant.",
     4, "No, I mean on Sunday."),
    ("Can I check out late?", "Late check-out is possible until one o'clock for a small fee.",
     5, "How much is the fee?"),
]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed_reply(llm: LocalLlm, talk: Conversation) -> tuple[float, float]:
    """(first token s, first clause s) of one streamed reply, consumed to its end."""
    started = time.monotonic()
    first_clause = None
    for _clause in llm.stream_clauses(talk):
        if first_clause is None:
            first_clause = time.monotonic() - started
    return llm.last_reply.first_token_s or float("nan"), first_clause or float("nan")


def first_question(llm: LocalLlm, system: str, runs: int) -> None:
    ttft, clause, speeds = [], [], []
    for _ in range(runs):
        talk = Conversation(system)
        llm.prime(talk)
        talk.add_user("Hi, what time is breakfast served?")
        first_token, first_clause = timed_reply(llm, talk)
        reply = llm.last_reply
        ttft.append(first_token)
        clause.append(first_clause)
        speeds.append(reply.generated_tokens / max(reply.total_s - first_token, 1e-6))
    print(f"first question, primed system prompt, {runs} runs: median first token "
          f"{statistics.median(ttft) * 1000:.0f} ms, first clause {statistics.median(clause) * 1000:.0f} ms, "
          f"generation {statistics.median(speeds):.1f} tokens/s")


def conversation(llm: LocalLlm, system: str) -> list[dict[str, float]]:
    talk = Conversation(system)
    llm.prime(talk)
    turns = []
    for question in QUESTIONS:
        talk.add_user(question)
        first_token, first_clause = timed_reply(llm, talk)
        reply = llm.last_reply
        speed = reply.generated_tokens / max(reply.total_s - first_token, 1e-6)
        turns.append({"token": first_token, "clause": first_clause, "speed": speed,
                      "decoded": reply.evaluated_prompt_tokens, "prompt": reply.prompt_tokens})
        talk.add_assistant(reply.text)
    return turns


def report_conversation(number: int, turns: list[dict[str, float]]) -> tuple[float, float]:
    first, last = turns[0], turns[-1]
    token_ratio, clause_ratio = last["token"] / first["token"], last["clause"] / first["clause"]
    print(f"conversation {number}: turn 1 -> turn 20: first token {first['token'] * 1000:.0f} -> "
          f"{last['token'] * 1000:.0f} ms (x{token_ratio:.2f}), first clause "
          f"{first['clause'] * 1000:.0f} -> {last['clause'] * 1000:.0f} ms (x{clause_ratio:.2f}), "
          f"prompt tokens decoded {first['decoded']:.0f}/{first['prompt']:.0f} -> "
          f"{last['decoded']:.0f}/{last['prompt']:.0f}, generation {first['speed']:.0f} -> "
          f"{last['speed']:.0f} tokens/s")
    print("  first token ms per turn: " + " ".join(f"{t['token'] * 1000:.0f}" for t in turns))
    return token_ratio, clause_ratio


def replan_examples(llm: LocalLlm, config: Config) -> None:
    """Each interruption told three ways; temperature 0 so the variants are comparable."""
    styles = {"system note (default)": config.llm.interruption_note, "no note": "",
              "dash in the agent's text": None}
    for question, said, heard_words, correction in INTERRUPTIONS:
        print(f"  guest: {question}\n  agent (cut): {' '.join(said.split()[:heard_words])}"
              f"\n  guest: {correction}")
        for style, note in styles.items():
            talk = Conversation(config.llm.system_prompt, note or "")
            talk.add_user(question)
            words = tuple(WordTiming(w, i * 4410, (i + 1) * 4410) for i, w in enumerate(said.split()))
            chunk = SpeechChunk(said, np.zeros(len(words) * 4410, np.int16), 22050, words)
            talk.truncate_to_heard(heard_words * 3200 + 100, [ChunkPlacement(0, chunk)])
            talk.add_user(correction)
            messages = talk.prompt_messages()
            if note is None:
                messages[-2]["content"] += " —"
            answer = "".join(llm.stream_reply(messages))
            print(f"    [{style}] agent: {answer}")
        print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--conversations", type=int, default=3)
    args = parser.parse_args()
    config = Config()
    before = rss_mb()
    greedy = replace(config.llm, temperature=0.0)
    with LocalLlm(config.llm, config.models_dir()) as llm:
        print(f"resident memory: {before:.0f} MB before the model, {rss_mb():.0f} MB loaded")
        system = config.llm.system_prompt
        first_question(llm, system, args.runs)
        ratios = [report_conversation(n + 1, conversation(llm, system))
                  for n in range(args.conversations)]
        print(f"median turn-20/turn-1 ratio: first token "
              f"{statistics.median(r[0] for r in ratios):.2f}, first clause "
              f"{statistics.median(r[1] for r in ratios):.2f}")
        print(f"resident memory after {args.conversations * 20} turns: {rss_mb():.0f} MB")
    print("re-planning after an interruption (temperature 0):")
    with LocalLlm(greedy, config.models_dir()) as llm:
        replan_examples(llm, config)


if __name__ == "__main__":
    main()
