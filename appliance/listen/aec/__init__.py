"""Acoustic echo cancellation: speex through ctypes, and the canceller around it."""
