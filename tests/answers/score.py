"""Score `appliance ask - --json` on the answer evaluation and print the table.

    python tests/answers/score.py [--knowledge FILE] [--halves tuning,heldback] [--config FILE]

Each half is a JSON-lines file of questions beside this script: `question`,
`kind` (direct | paraphrase | asr | unanswerable), `topic` (null when the
facts do not answer it) and `expect` (strings the reply must contain, compared
case-insensitively). For each half: accuracy (answerable replies containing
every expected string), invented facts (replies with a number, time, name or
claim absent from the whole knowledge file and the question), fallback rate
on unanswerable questions (fallback or no fact used), replies over two
sentences, and first_clause_ms p50/p95. The tuning half is what settings were
tuned on; the held-back half was never looked at while tuning.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_ask(questions: list[str], knowledge: str | None, config: str | None) -> list[dict]:
    command = [str(Path(sys.executable).with_name("appliance"))]
    if config:
        command += ["--config", config]
    command += ["ask", "--json", "-"]
    if knowledge:
        command += ["--knowledge", knowledge]
    done = subprocess.run(command, input="\n".join(questions) + "\n", capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        sys.exit(f"score: appliance ask failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else float("nan")


def score(cases: list[dict], answers: list[dict], knowledge_text: str) -> dict:
    from appliance.knowledge.grounding import Grounds, ends_sentence
    from appliance.speech.clauses import split_clauses

    answerable = [(c, a) for c, a in zip(cases, answers, strict=True) if c["topic"]]
    unanswerable = [(c, a) for c, a in zip(cases, answers, strict=True) if not c["topic"]]
    correct = [c for c, a in answerable
               if all(e.lower() in " ".join(a["reply"].split()).lower() for e in c["expect"])]
    invented = [a for c, a in zip(cases, answers, strict=True)
                if Grounds.of([knowledge_text, c["question"]]).problem(a["reply"]) is not None]
    declined = [a for c, a in unanswerable if a["fallback"] or not a["facts"]]
    long_replies = [a for a in answers if sum(map(ends_sentence, split_clauses(a["reply"]))) > 2]
    latencies = [a["first_clause_ms"] for a in answers if not a["fallback"]]
    return {
        "answerable": len(answerable), "accuracy": len(correct) / max(1, len(answerable)),
        "invented": len(invented), "unanswerable": len(unanswerable),
        "fallback_rate": len(declined) / max(1, len(unanswerable)),
        "fallbacks": sum(a["fallback"] for a in answers), "over_2_sentences": len(long_replies),
        "model_worded": sum(a.get("source") == "model" for c, a in answerable),
        "first_clause_p50": statistics.median(latencies) if latencies else float("nan"),
        "first_clause_p95": percentile(latencies, 0.95),
        "misses": [(c["question"], a["reply"]) for c, a in answerable if c not in correct],
        "invented_replies": [a["reply"] for a in invented],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--knowledge", help="knowledge file (default: the demo hotel)")
    parser.add_argument("--config", help="appliance config for `appliance ask`")
    parser.add_argument("--halves", default="tuning,heldback", help="question files in tests/answers/")
    parser.add_argument("--questions-dir", type=Path, default=HERE)
    parser.add_argument("--verbose", action="store_true", help="list misses and invented replies")
    args = parser.parse_args()
    from appliance.knowledge.site import demo_site_path

    knowledge_text = Path(args.knowledge or demo_site_path()).read_text(encoding="utf-8")
    print("| half | answerable | accuracy | invented | unanswerable → fallback | fallbacks "
          "| > 2 sentences | worded by the model | first_clause_ms p50 / p95 (answered) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for half in args.halves.split(","):
        lines = (args.questions_dir / f"{half}.jsonl").read_text(encoding="utf-8").splitlines()
        cases = [json.loads(line) for line in lines if line.strip()]
        answers = run_ask([c["question"] for c in cases], args.knowledge, args.config)
        result = score(cases, answers, knowledge_text)
        print(f"| {half} | {result['answerable']} | {result['accuracy']:.0%} | {result['invented']} "
              f"| {result['fallback_rate']:.0%} of {result['unanswerable']} | {result['fallbacks']} "
              f"| {result['over_2_sentences']} | {result['model_worded']} of {result['answerable']} "
              f"| {result['first_clause_p50']:.0f} / "
              f"{result['first_clause_p95']:.0f} |", flush=True)
        if args.verbose:
            for question, reply in result["misses"]:
                print(f"    miss: {question!r} → {reply!r}")
            for reply in result["invented_replies"]:
                print(f"    invented: {reply!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
