"""The conversation side of the kiosk: the local LLM and its cancellable replies,
the history cut to what the caller heard, the turn-taking state machine, and
the two ways to run it all (`appliance sim` in a simulated room, `appliance
run` on a sound card)."""
