"""The conversation: the turn-taking state machine (`turns`), the history cut to
what the caller heard (`history`), backchannels, the cancellable replies, the
local LLM, and the events the conversation emits (`events`, written by
`eventfile`, guest words redacted by `redact`). Running it is `appliance.runtime`.
"""
