"""Offline, interruptible voice kiosk."""
