"""Sound in and out: the device interface, ALSA, the simulated room, the speaker queue."""
