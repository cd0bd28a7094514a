"""Compare retrieval methods on the answer evaluation: which fact each question retrieves.

    python tests/answers/retrieval_methods.py

For each half and each method (plain BM25 over stems, then adding joined
words, synonyms and spelling matches), prints the share of answerable
questions whose best fact is the expected topic and the share of unanswerable
ones that retrieve nothing, at the configured `knowledge.min_coverage`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from appliance.config import Config
from appliance.knowledge.retrieval import FactIndex, RetrievalOptions
from appliance.knowledge.site import load_site

HERE = Path(__file__).resolve().parent
METHODS = {
    "stems only": RetrievalOptions(fuzzy=False, synonyms=False, joined_words=False),
    "+ joined words": RetrievalOptions(fuzzy=False, synonyms=False, joined_words=True),
    "+ synonyms": RetrievalOptions(fuzzy=False, synonyms=True, joined_words=True),
    "+ spelling (all)": RetrievalOptions(fuzzy=True, synonyms=True, joined_words=True),
}


def main() -> int:
    site = load_site(None)
    min_coverage = Config().knowledge.min_coverage
    print("| method | half | right fact (answerable) | asr-style | nothing (unanswerable) |")
    print("| --- | --- | --- | --- | --- |")
    for name, options in METHODS.items():
        index = FactIndex(site.facts, options)
        for half in ("tuning", "heldback"):
            cases = [json.loads(line) for line in (HERE / f"{half}.jsonl").read_text().splitlines()]
            right = asr_right = asr = answerable = declined = 0
            for case in cases:
                found = [m for m in index.search(case["question"], 1) if m.coverage >= min_coverage]
                topic = found[0].fact.topic if found else None
                if case["topic"]:
                    answerable += 1
                    right += topic == case["topic"]
                    if case["kind"] == "asr":
                        asr += 1
                        asr_right += topic == case["topic"]
                else:
                    declined += topic is None
            unanswerable = len(cases) - answerable
            print(f"| {name} | {half} | {right}/{answerable} | {asr_right}/{asr} "
                  f"| {declined}/{unanswerable} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
