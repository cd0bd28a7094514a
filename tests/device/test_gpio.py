"""GPIO devices on gpiozero's mock pin factory: LED patterns, push-to-talk, amplifier enable.

There is no GPIO header here, so every test drives gpiozero's own MockFactory
pins (hence "mock" in each name); the device classes are the real ones.
"""

from __future__ import annotations

import threading

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from appliance.config import GpioSettings
from appliance.device.gpio import PATTERNS, Amplifier, PushToTalk, StatusLed
from appliance.errors import ConfigError
from appliance.messages import State

LED_PIN, BUTTON_PIN, AMP_PIN = 12, 17, 22
WAIT_S = 5.0


class WatchedPin(MockPWMPin):
    """A mock PWM pin that lets a test wait for state changes instead of sleeping."""

    def __init__(self, factory, info):
        self.changed = threading.Condition()
        super().__init__(factory, info)

    def _change_state(self, value):
        with self.changed:
            changed = super()._change_state(value)
            self.changed.notify_all()
        return changed

    def wait_for_changes(self, count: int) -> bool:
        """True once `count` more state changes have happened (within WAIT_S)."""
        with self.changed:
            target = len(self.states) + count
            return self.changed.wait_for(lambda: len(self.states) >= target, timeout=WAIT_S)


@pytest.fixture
def factory():
    mock = MockFactory(pin_class=WatchedPin)
    yield mock
    mock.close()


def gpio(**overrides) -> GpioSettings:
    values = dict(enabled=True, led_pin=LED_PIN, button_pin=BUTTON_PIN, amp_enable_pin=AMP_PIN)
    return GpioSettings(**(values | overrides))


def test_mock_plain_led_patterns_follow_states(factory):
    pin = factory.pin(LED_PIN)
    with StatusLed(gpio(), pin_factory=factory) as led:
        led.show(State.LISTENING)
        assert pin.state == 1
        led.show(State.IDLE)  # a plain LED cannot breathe: idle is dark
        assert pin.state == 0
        for blinking in (State.THINKING, State.SPEAKING, State.ERROR):
            led.show(blinking)
            assert pin.wait_for_changes(4), f"{blinking} does not blink"
        led.show(State.YIELDING)
        assert pin.state == 1
        assert led.state is State.YIELDING
    assert pin.function == "input"  # closed: the pin is released


def test_mock_pwm_led_breathes_when_idle_and_pulses_when_speaking(factory):
    pin = factory.pin(LED_PIN)
    with StatusLed(gpio(led_pwm=True), pin_factory=factory) as led:
        for dimming in (State.IDLE, State.SPEAKING):
            led.show(dimming)
            assert pin.wait_for_changes(6)
            assert any(0 < change.state < 1 for change in pin.states[-6:]), f"{dimming} does not dim"
        led.show(State.LISTENING)
        assert pin.state == 1


def test_led_patterns_are_distinct_for_the_states_people_must_tell_apart():
    shown = [State.IDLE, State.LISTENING, State.THINKING, State.SPEAKING, State.ERROR]
    assert set(PATTERNS) == set(State)
    assert len({PATTERNS[state] for state in shown}) == len(shown)
    assert PATTERNS[State.THINKING].on_s < PATTERNS[State.SPEAKING].on_s  # busy blinks faster


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_mock_active_low_button_reports_each_press_and_its_hold(factory):
    presses, held = [], []
    clock = FakeClock()
    pin = factory.pin(BUTTON_PIN)
    with PushToTalk(gpio(), on_press=lambda: presses.append(clock.now), on_release=held.append,
                    pin_factory=factory, clock=clock):
        pin.drive_low()  # active low: pressed
        assert presses == [100.0] and held == []
        clock.now += 1.5
        pin.drive_high()
        clock.now += 1.0
        pin.drive_low()
        clock.now += 0.15
        pin.drive_high()
    assert presses == [100.0, 102.5]
    assert held == [pytest.approx(1.5), pytest.approx(0.15)]


def test_mock_active_high_button_reports_hold_time(factory):
    held: list[float] = []
    clock = FakeClock()
    pin = factory.pin(BUTTON_PIN)
    with PushToTalk(gpio(button_active_low=False), on_press=lambda: None, on_release=held.append,
                    pin_factory=factory, clock=clock):
        pin.drive_high()
        clock.now += 0.75
        pin.drive_low()
    assert held == [pytest.approx(0.75)]


def test_mock_amplifier_is_off_when_idle_and_on_before_the_first_sample(factory):
    pin = factory.pin(AMP_PIN)
    amp = Amplifier(gpio(amp_idle_off_s=0.05, amp_wake_ms=5), pin_factory=factory)
    with amp:
        assert pin.state == 0 and not amp.is_on

        def write_first_sample() -> int:
            amp.ensure_on()
            return pin.state  # the state the first non-silent sample would be played into

        assert write_first_sample() == 1
        amp.idle()
        assert amp.switched_off.wait(WAIT_S)
        assert pin.state == 0
        assert write_first_sample() == 1
    assert [change.state for change in pin.states] == [0, 1, 0, 1, 0]


def test_mock_amplifier_audio_before_idle_timeout_keeps_it_on(factory):
    pin = factory.pin(AMP_PIN)
    with Amplifier(gpio(amp_idle_off_s=30.0, amp_wake_ms=0), pin_factory=factory) as amp:
        amp.ensure_on()
        amp.idle()
        amp.ensure_on()  # the next sentence arrives: the pending switch-off is cancelled
        assert not amp.switched_off.is_set()
        assert pin.state == 1
    assert pin.state == 0  # closing leaves the amplifier shut down


def test_mock_amplifier_active_low_enable(factory):
    pin = factory.pin(AMP_PIN)
    with Amplifier(gpio(amp_active_high=False, amp_wake_ms=0), pin_factory=factory) as amp:
        assert pin.state == 1  # high = shut down on an active-low enable
        amp.ensure_on()
        assert pin.state == 0 and amp.is_on


def test_without_pins_every_device_is_a_no_op():
    settings = GpioSettings()  # GPIO disabled
    pressed: list[str] = []
    with StatusLed(settings) as led, Amplifier(settings) as amp, \
            PushToTalk(settings, lambda: pressed.append("x"), lambda held: None):
        led.show(State.SPEAKING)
        amp.ensure_on()
        amp.idle()
        assert not amp.is_on
        assert led.state is State.SPEAKING
    amp.close()  # twice is fine


def test_mock_pin_in_use_is_one_config_line(factory):
    with StatusLed(gpio(), pin_factory=factory):
        with pytest.raises(ConfigError, match=r"\[gpio\]: button_pin: a GPIO pin"):
            PushToTalk(gpio(button_pin=LED_PIN), lambda: None, lambda held: None, pin_factory=factory)
