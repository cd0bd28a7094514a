"""The sound cards the kernel knows, read from /proc/asound without opening them.

`appliance doctor` must work while the kiosk holds the card, and only
`appliance/audio/alsa.py` may import alsaaudio, so this reads what the kernel
publishes: the card list, each card's PCM devices and direction, and for USB
cards the formats and rates each direction offers. (An I2S card's formats are
only visible to a program that opens it, e.g. `arecord --dump-hw-params`.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

PROC_ASOUND = Path("/proc/asound")
CARD_LINE = re.compile(r"^\s*(\d+)\s+\[(\S+)\s*\]:\s*(.*?)\s*$")


@dataclass(frozen=True)
class Direction:
    """One direction of a card: its PCM device numbers and, where published, formats and rates."""

    devices: tuple[int, ...] = ()
    formats: tuple[str, ...] = ()
    rates_hz: tuple[int, ...] = ()


@dataclass(frozen=True)
class SoundCard:
    index: int
    id: str
    name: str
    playback: Direction = field(default_factory=Direction)
    capture: Direction = field(default_factory=Direction)

    @property
    def is_duplex(self) -> bool:
        """Capture and playback on this one card, hence on one clock."""
        return bool(self.playback.devices and self.capture.devices)


def list_cards(proc_asound: Path = PROC_ASOUND) -> list[SoundCard]:
    """Every card in /proc/asound/cards; empty when there is none (or no ALSA at all)."""
    try:
        text = (proc_asound / "cards").read_text()
    except OSError:
        return []
    cards = []
    for line in text.splitlines():
        match = CARD_LINE.match(line)
        if match:
            index, card_id, name = int(match[1]), match[2], match[3]
            card_dir = proc_asound / f"card{index}"
            streams = _usb_streams(card_dir)
            cards.append(SoundCard(
                index, card_id, name,
                playback=Direction(_pcm_devices(card_dir, "p"), *streams.get("Playback", ((), ()))),
                capture=Direction(_pcm_devices(card_dir, "c"), *streams.get("Capture", ((), ()))),
            ))
    return cards


def _pcm_devices(card_dir: Path, suffix: str) -> tuple[int, ...]:
    """PCM device numbers of one direction: directories pcm<N>p or pcm<N>c."""
    numbers = [int(m[1]) for path in card_dir.glob(f"pcm*{suffix}")
               if (m := re.fullmatch(rf"pcm(\d+){suffix}", path.name))]
    return tuple(sorted(numbers))


def _usb_streams(card_dir: Path) -> dict[str, tuple[tuple[str, ...], tuple[int, ...]]]:
    """Formats and rates per direction from a USB card's stream files."""
    found: dict[str, tuple[set[str], set[int]]] = {}
    for stream in sorted(card_dir.glob("stream*")):
        direction = None
        for line in stream.read_text(errors="replace").splitlines():
            heading = line.strip().rstrip(":")
            if heading in ("Playback", "Capture") and line.rstrip().endswith(":"):
                direction = heading
                found.setdefault(direction, (set(), set()))
            elif direction and ":" in line:
                key, value = (part.strip() for part in line.split(":", 1))
                if key == "Format":
                    found[direction][0].update(v.strip() for v in value.split(","))
                elif key == "Rates":
                    found[direction][1].update(int(v) for v in re.findall(r"\d+", value))
    return {d: (tuple(sorted(f)), tuple(sorted(r))) for d, (f, r) in found.items()}


def named_card(pcm: str) -> str | None:
    """The card an ALSA PCM name points at directly (hw:1, plughw:CARD=x,DEV=0), else None.

    Names such as `default` or `pulse` are resolved by ALSA's configuration,
    which this does not read.
    """
    match = re.match(r"^(?:plug)?hw:(?:CARD=)?([^,]+)", pcm)
    return match[1] if match else None


def find_card(name: str, cards: list[SoundCard]) -> SoundCard | None:
    """The card with this id or index."""
    return next((card for card in cards if name in (card.id, str(card.index))), None)
