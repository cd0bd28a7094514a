"""`appliance ask [--knowledge FILE] [--json] QUESTION|-`: the reply the kiosk would speak.

Each question is the first turn of a fresh conversation, answered by the same
path as the voice pipeline (`appliance.knowledge.answer`). With `-`, every
stdin line is a question; the models load once. The knowledge file is
validated before any model loads, so a bad file costs one line and exit 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Iterable

from appliance.commands import config_from


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ask", help="print the kiosk's reply to a question (no audio)")
    parser.add_argument("question", metavar="QUESTION", help="the question, or - for one per stdin line")
    parser.add_argument("--knowledge", metavar="FILE", help="site knowledge file (default: the config's "
                        "[knowledge] file, else the demo hotel)")
    parser.add_argument("--json", action="store_true", help="one JSON object per question")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from appliance.agent.llm import LocalLlm
    from appliance.knowledge.answer import Answerer
    from appliance.knowledge.site import KnowledgeFile

    config = config_from(args)
    if args.knowledge:
        config = dataclasses.replace(
            config, knowledge=dataclasses.replace(config.knowledge, file=args.knowledge))
    knowledge = KnowledgeFile(config.knowledge.file or None)
    questions: Iterable[str] = (
        (line.rstrip("\r\n") for line in sys.stdin) if args.question == "-" else [args.question]
    )
    if config.knowledge.phrasing != "model":
        answerer = Answerer(config, None, knowledge)
        for question in questions:
            print(_answer(answerer, question, args.json), flush=True)
        return 0
    with LocalLlm(config.llm, config.models_dir()) as llm:
        answerer = Answerer(config, llm.stream_clauses, knowledge)
        llm.prime(answerer.new_conversation())
        for question in questions:
            print(_answer(answerer, question, args.json), flush=True)
    return 0


def _answer(answerer, question: str, as_json: bool) -> str:
    conversation = answerer.new_conversation()
    conversation.add_user(question)
    started = time.perf_counter()
    first_clause_s = None
    for _clause in answerer.reply(conversation):
        if first_clause_s is None:
            first_clause_s = time.perf_counter() - started
    total_s = time.perf_counter() - started
    record = answerer.last
    if not as_json:
        return record.text
    return json.dumps({
        "question": question, "reply": record.text, "facts": record.facts,
        "fallback": record.fallback,
        "first_clause_ms": round(1000 * (first_clause_s if first_clause_s is not None else total_s)),
        "total_ms": round(1000 * total_s),
        "source": record.source, "rejected": record.rejected,
    }, ensure_ascii=False)
