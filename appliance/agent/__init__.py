"""The conversation side of the kiosk: the local LLM, the history it reads, and
the small text classifiers the turn-taking agent needs (clauses for TTS,
backchannels after a cut)."""
