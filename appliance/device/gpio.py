"""GPIO on the kiosk: push-to-talk button, status LED, amplifier enable.

Built on gpiozero, and like gpiozero every device takes `pin_factory=` (None
picks the board's default lazily; tests pass `MockFactory`). Every device is
optional: with GPIO disabled or its pin unset it still exists and does
nothing, so the rest of the kiosk never asks "is there a button?".

A pin the board refuses is reported as one line naming the `[gpio]` key.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from appliance.config import GpioSettings
from appliance.errors import ConfigError
from appliance.messages import State


def _open(key: str, pin: int | None, settings: GpioSettings, make: Callable[[int], Any]) -> Any:
    """The gpiozero device for `pin`, None when unused, a ConfigError when unusable."""
    if not settings.enabled or pin is None:
        return None
    from gpiozero import GPIOZeroError

    try:
        return make(pin)
    except (GPIOZeroError, OSError) as error:
        raise ConfigError("[gpio]", key, f"a GPIO pin this board can drive ({error})") from None


class _Closing:
    """close() safe to call twice, and a context manager, for every device here."""

    _device: Any

    def close(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            device.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# --- status LED -------------------------------------------------------------


@dataclass(frozen=True)
class LedPattern:
    """How the LED shows one state. `kind`: off, on, blink, pulse, breathe, double.

    pulse and breathe need a dimmable (PWM) LED: on a plain LED a pulse becomes a
    blink of the same rhythm and a breathe becomes off.
    """

    kind: str
    on_s: float = 0.0
    off_s: float = 0.0


PATTERNS: dict[State, LedPattern] = {
    State.IDLE: LedPattern("breathe", 2.0, 2.0),
    State.LISTENING: LedPattern("on"),
    State.YIELDING: LedPattern("on"),  # the caller already has the floor, as in listening
    State.THINKING: LedPattern("blink", 0.1, 0.1),
    State.SPEAKING: LedPattern("pulse", 0.5, 0.5),
    State.ERROR: LedPattern("double", 0.15, 0.75),
}

DOUBLE_BLINK_STEPS = (1, 0, 1, 0, 0, 0, 0, 0)
"""One double-blink cycle in on_s steps: on, off, on, then a long pause (5 steps)."""


class StatusLed(_Closing):
    """One LED that shows the conversation state with a distinct pattern per state."""

    def __init__(self, settings: GpioSettings, pin_factory: Any = None) -> None:
        self._pwm = settings.led_pwm

        def make(pin: int) -> Any:
            from gpiozero import LED, PWMLED

            kind = PWMLED if settings.led_pwm else LED
            return kind(pin, active_high=settings.led_active_high, pin_factory=pin_factory)

        self._device = _open("led_pin", settings.led_pin, settings, make)
        self.state: State | None = None

    def show(self, state: State) -> None:
        self.state = state
        if self._device is not None:
            self._apply(PATTERNS[state])

    def _apply(self, pattern: LedPattern) -> None:
        led = self._device
        led.source = None  # stops a running double blink; blink()/on()/off() stop the others
        kind = pattern.kind
        if not self._pwm:
            kind = {"pulse": "blink", "breathe": "off"}.get(kind, kind)
        if kind == "off":
            led.off()
        elif kind == "on":
            led.on()
        elif kind == "blink":
            led.blink(on_time=pattern.on_s, off_time=pattern.off_s)
        elif kind in ("pulse", "breathe"):
            led.pulse(fade_in_time=pattern.on_s, fade_out_time=pattern.off_s)
        else:
            led.off()
            led.source_delay = pattern.on_s
            led.source = itertools.cycle(DOUBLE_BLINK_STEPS)


# --- push-to-talk -----------------------------------------------------------


class PushToTalk(_Closing):
    """The button: `on_press()` when pressed, `on_release(held_s)` when let go.

    Callbacks run in gpiozero's pin thread; they must only hand work over
    (set an event, call the detector), never block. What a press means is
    decided in one place, `Kiosk.push_to_talk`, for this button and the
    screen's talk button alike.
    """

    def __init__(
        self,
        settings: GpioSettings,
        on_press: Callable[[], None],
        on_release: Callable[[float], None],
        pin_factory: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._on_press = on_press
        self._on_release = on_release
        self._clock = clock
        self._pressed_at: float | None = None

        def make(pin: int) -> Any:
            from gpiozero import Button

            bounce_s = settings.button_bounce_ms / 1000 or None
            return Button(pin, pull_up=settings.button_active_low, bounce_time=bounce_s,
                          pin_factory=pin_factory)

        self._device = _open("button_pin", settings.button_pin, settings, make)
        if self._device is not None:
            self._device.when_pressed = self._pressed
            self._device.when_released = self._released

    def _pressed(self) -> None:
        self._pressed_at = self._clock()
        self._on_press()

    def _released(self) -> None:
        if self._pressed_at is None:  # released without a press we saw (started held)
            return
        held_s, self._pressed_at = self._clock() - self._pressed_at, None
        self._on_release(held_s)


# --- amplifier enable -------------------------------------------------------


class Amplifier(_Closing):
    """The amplifier's enable pin (MAX98357A SD): on before audio, off after long silence.

    No pop: the duplex loop writes silence all the time, so the I2S clocks run
    and the output sits at zero when the amplifier wakes. `ensure_on()` enables
    it and waits `amp_wake_ms` before returning, so the caller (the speaker
    side, before it queues the first non-silent sample) never plays into a
    waking amplifier. `idle()` starts the countdown; any `ensure_on()` stops it.
    """

    def __init__(self, settings: GpioSettings, pin_factory: Any = None) -> None:
        self._wake_s = settings.amp_wake_ms / 1000
        self._idle_off_s = settings.amp_idle_off_s

        def make(pin: int) -> Any:
            from gpiozero import DigitalOutputDevice

            return DigitalOutputDevice(pin, active_high=settings.amp_active_high,
                                       initial_value=False, pin_factory=pin_factory)

        self._device = _open("amp_enable_pin", settings.amp_enable_pin, settings, make)
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._off_timer: threading.Timer | None = None
        self.switched_off = threading.Event()
        """Set whenever the idle timer has switched the amplifier off."""

    @property
    def is_on(self) -> bool:
        return self._device is not None and bool(self._device.value)

    def ensure_on(self) -> None:
        """Enable now (if off) and return once the amplifier is ready for audio."""
        with self._lock:
            self._cancel_timer()
            if self._device is None or self._device.value:
                return
            self._device.on()
            self.switched_off.clear()
        self._closed.wait(self._wake_s)  # the amp's own start-up time; close() cuts it short

    def idle(self) -> None:
        """The agent went quiet: switch off after `amp_idle_off_s` unless audio comes first."""
        with self._lock:
            self._cancel_timer()
            if self._device is None or self._closed.is_set():
                return
            self._off_timer = threading.Timer(self._idle_off_s, self._switch_off)
            self._off_timer.name = "amp-idle-off"
            self._off_timer.daemon = True
            self._off_timer.start()

    def _switch_off(self) -> None:
        with self._lock:
            if self._device is not None:
                self._device.off()
                self.switched_off.set()

    def _cancel_timer(self) -> None:
        timer, self._off_timer = self._off_timer, None
        if timer is not None:
            timer.cancel()

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            timer, self._off_timer = self._off_timer, None
        if timer is not None:
            timer.cancel()
            timer.join(timeout=1.0)
        if self._device is not None:
            self._device.off()  # released pins float; leave the amplifier shut down
        super().close()
