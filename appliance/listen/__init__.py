"""The listening path: what the microphone hears while the kiosk itself may be talking.

`aec/` cancels the kiosk's own echo (speex, delay-aligned reference, residual
suppression, the ERLE and echo-leak estimates), `vad` scores speech, `detector`
makes the double-talk decision (duck, cut, release), and `frontend` joins them
into the duplex loop's one `PeriodSink`: every 10 ms, cleaned frames and
barge-in events out.
"""
