"""The model-worded path with the real SmolLM2: the KV cache still serves the next turn."""

from __future__ import annotations

import dataclasses

import pytest

from appliance.agent.llm import LocalLlm
from appliance.config import Config, KnowledgeSettings
from appliance.knowledge.answer import Answerer

pytestmark = pytest.mark.slow

CONFIG = dataclasses.replace(Config(), knowledge=KnowledgeSettings(phrasing="model"))


def test_a_second_turn_decodes_only_what_changed():
    llm_settings = dataclasses.replace(CONFIG.llm, temperature=0.0, timeout_s=60.0)
    with LocalLlm(llm_settings, CONFIG.models_dir()) as llm:
        answerer = Answerer(CONFIG, llm.stream_clauses)
        conversation = answerer.new_conversation()
        llm.prime(conversation)
        conversation.add_user("When is breakfast?")
        conversation.add_assistant(" ".join(answerer.reply(conversation)))
        first = llm.last_reply
        assert 0 < first.evaluated_prompt_tokens < first.prompt_tokens   # the system prompt was cached
        conversation.add_user("And where can I park?")
        conversation.add_assistant(" ".join(answerer.reply(conversation)))
        second = llm.last_reply
        assert answerer.last.facts == ["parking"]
        assert 0 < second.evaluated_prompt_tokens < second.prompt_tokens
        # Only the previous exchange (now without its facts) and the new turn are decoded.
        system_tokens = len(llm.prompt_tokens(conversation.prompt_messages()[:1], open_reply=False))
        assert second.prompt_tokens - second.evaluated_prompt_tokens >= system_tokens
