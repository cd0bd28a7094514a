"""The simulated room: deterministic, every [room] key, a card buffer like ALSA's."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from appliance.audio.room import RoomSettings, SimulatedRoom, echo_impulse_response, room_responses
from appliance.audiofile import write_wav
from appliance.errors import ConfigError
from appliance.settings import load_section

NOISY = RoomSettings(echo_delay_ms=12, echo_gain_db=-3, rt60_s=0.3, speaker_clip=0.5,
                     noise="pink", noise_dbfs=-45, caller_gain_db=6, seed=7)


def run_room(room: RoomSettings, periods: int = 120, seed: int | None = None) -> SimulatedRoom:
    rng = np.random.default_rng(99)  # the played signal is fixed; only the room's seed varies
    sim = SimulatedRoom(room, seed=seed)
    sim.open()
    sim.add_caller((rng.standard_normal(4000) * 3000).astype(np.int16), at_sample=5000)
    for _ in range(periods):
        sim.exchange((rng.standard_normal(sim.period_samples) * 5000).astype(np.int16))
    return sim


def test_same_seed_same_room_different_seed_different_room():
    first, again = run_room(NOISY), run_room(NOISY)
    assert np.array_equal(first.mic, again.mic)
    other = run_room(NOISY, seed=8)
    assert not np.array_equal(first.mic, other.mic)
    assert np.array_equal(first.actual, other.actual)


def test_scenario_room_table_is_parsed_and_unknown_keys_rejected():
    table = {"echo_delay_ms": 25, "rt60_s": 0, "noise": "white", "seed": 3}
    room = load_section(RoomSettings, table, "suite/x.toml", "room.")
    assert room.echo_delay_ms == 25.0 and room.noise == "white" and room.seed == 3
    with pytest.raises(ConfigError, match=r"suite/x.toml: room.echo_dely_ms"):
        load_section(RoomSettings, {"echo_dely_ms": 3}, "suite/x.toml", "room.")


def test_impulse_response_has_the_direct_path_and_a_decaying_tail():
    room = RoomSettings(echo_delay_ms=10, echo_gain_db=-6, rt60_s=0.25)
    response = echo_impulse_response(room, np.random.default_rng(0))
    assert np.argmax(np.abs(response)) == 160
    assert response[160] == pytest.approx(10 ** (-6 / 20))
    tail = response[161:]
    early, late = np.sum(tail[:800] ** 2), np.sum(tail[-800:] ** 2)
    assert late < early * 1e-3  # exp decay: 60 dB over rt60
    assert np.all(response[:160] == 0)


def test_components_add_up_to_the_mic_signal_without_noise():
    sim = run_room(RoomSettings(rt60_s=0.1, noise="none"))
    total = sim.echo_only.astype(np.int32) + sim.caller_only.astype(np.int32)
    assert np.abs(total - sim.mic.astype(np.int32)).max() <= 2  # rounding of each part
    caller = np.flatnonzero(sim.caller_only)
    assert caller[0] == 5000


def test_noise_level_and_wav_noise(tmp_path):
    for kind in ("white", "pink"):
        sim = run_room(RoomSettings(echo_gain_db=-80, rt60_s=0, noise=kind, noise_dbfs=-30),
                       periods=300)
        quiet = sim.mic[:4000].astype(np.float64) / 32768
        assert 20 * np.log10(np.sqrt(np.mean(quiet**2))) == pytest.approx(-30, abs=1.5)
    hum = (np.sin(np.arange(1600) * 2 * np.pi * 100 / 16000) * 1000).astype(np.int16)
    write_wav(tmp_path / "hum.wav", hum)
    room = RoomSettings(echo_gain_db=-80, rt60_s=0, noise="hum.wav", noise_dbfs=-20)
    sim = SimulatedRoom(room, base_dir=tmp_path)
    sim.open()
    mic = np.concatenate([sim.exchange(np.zeros(160, np.int16)) for _ in range(40)])
    assert np.corrcoef(mic[:1600], mic[1600:3200])[0, 1] > 0.99  # looped


def test_output_queue_depth_and_drop_like_alsa():
    sim = SimulatedRoom(RoomSettings(rt60_s=0, echo_delay_ms=0), period_ms=10, periods=3)
    sim.open()
    marker = np.full(160, 1000, np.int16)
    sim.exchange(marker)
    assert sim.output_delay_samples == 320
    sim.exchange(np.zeros(160, np.int16))
    assert not sim.actual.any()  # still in the modelled card buffer
    sim.drop_playback()
    assert sim.playback_queued_samples == 0
    sim.exchange(np.full(160, 2000, np.int16))
    assert set(np.unique(sim.actual[-160:])) == {2000}  # after a drop the new period plays first
    assert 1000 not in sim.actual  # the dropped marker never left the speaker
    assert sim.output_delay_samples == 320


def test_speaker_clip_compresses_peaks():
    loud = np.full(160, 30000, np.int16)
    for clip, compressed in ((0.0, False), (1.0, True)):
        sim = SimulatedRoom(RoomSettings(rt60_s=0, echo_delay_ms=0, speaker_clip=clip))
        sim.open()
        for _ in range(3):
            sim.exchange(loud)
        assert (sim.echo_only[-1] < 29000) == compressed


SHOEBOX = RoomSettings(model="shoebox", rt60_s=0.4, echo_gain_db=-6, echo_delay_ms=10)


def test_shoebox_gives_the_echo_and_the_caller_their_own_paths():
    echo, caller = room_responses(SHOEBOX, np.random.default_rng(0))
    assert caller is not None and not np.allclose(echo[:len(caller)], caller[:len(echo)])
    assert np.argmax(np.abs(echo)) == 160  # direct path at echo_delay_ms
    assert np.argmax(np.abs(caller)) == 0  # the caller's onset stays where the scenario puts it
    # energies of the simple model: the echo's direct tap plus a tail 3 dB under it; caller unity
    assert np.sum(echo**2) == pytest.approx(10 ** (-6 / 10) * (1 + 10 ** -0.3))
    assert np.sum(caller**2) == pytest.approx(1.0)
    # a longer reverberation time gives a longer tail
    longer, _ = room_responses(dataclasses.replace(SHOEBOX, rt60_s=0.8), np.random.default_rng(0))
    assert len(longer) > len(echo) * 1.5


def test_shoebox_caller_reaches_the_mic_through_the_room():
    sim = run_room(dataclasses.replace(SHOEBOX, noise="none"))
    caller = sim.caller_only.astype(float)
    assert np.flatnonzero(caller)[0] == 5000
    assert np.abs(caller[9000 + 800:]).max() > 0  # reverberation after the 4000-sample burst ends


def test_asymmetric_clipping_and_compression_change_the_echo():
    tone = (np.sin(np.arange(160 * 40) / 4.0) * 25000).astype(np.int16)

    def echo(room: RoomSettings) -> np.ndarray:
        sim = SimulatedRoom(dataclasses.replace(room, rt60_s=0, echo_delay_ms=0))
        sim.open()
        for start in range(0, len(tone), 160):
            sim.exchange(tone[start:start + 160])
        return sim.echo_only.astype(float)

    symmetric = echo(RoomSettings(speaker_clip=0.8))
    assert abs(symmetric.max() + symmetric.min()) < 200
    lopsided = echo(RoomSettings(speaker_clip=0.8, speaker_asymmetry=0.6))
    assert lopsided.max() < -lopsided.min() - 2000  # the positive half-wave clips harder
    compressed = echo(RoomSettings(amp_compression=4.0, amp_threshold_dbfs=-20))
    linear = echo(RoomSettings())
    assert np.abs(compressed[-1600:]).max() < 0.5 * np.abs(linear[-1600:]).max()


@pytest.mark.parametrize("table,key", [
    ({"model": "shoebox", "mic_pos_m": [9.0, 1.0, 1.0]}, "room.mic_pos_m"),
    ({"model": "shoebox", "room_dim_m": [5.0, 4.0]}, "room.room_dim_m"),
    ({"model": "shoebox", "caller_pos_m": [2.5, 0.46, 1.3]}, "room.caller_pos_m"),
    ({"model": "shoebox", "rt60_s": 0.01}, "room.rt60_s"),
])
def test_shoebox_geometry_mistakes_name_the_key(tmp_path, table, key):
    from appliance.bench.scenario import load_scenario

    rows = "\n".join(f"{k} = {v!r}".replace("'", '"') for k, v in table.items())
    path = tmp_path / "x.toml"
    path.write_text(f'name = "x"\nkind = "echo-only"\nagent_text = "Hi."\n\n[room]\n{rows}\n')
    with pytest.raises(ConfigError, match=rf"x.toml: {key}"):
        load_scenario(path)
