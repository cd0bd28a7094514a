"""What makes the kiosk a device: GPIO (button, LED, amplifier), systemd
readiness and watchdog, journal logging, and the sound cards in `/proc/asound`.

Everything here is optional at run time: with no GPIO pins configured and no
systemd around, each piece turns into a no-op so a laptop runs the same code.
"""
