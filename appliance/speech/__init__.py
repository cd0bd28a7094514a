"""The kiosk's ears and voice: wake word, streaming speech recognition, TTS with word timings."""
