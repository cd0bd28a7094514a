"""Acoustic echo cancellation: the canceller (delay line + engine), speex through ctypes, and the
optional WebRTC peers behind the same `EchoEngine` interface."""
