"""Offline, interruptible voice kiosk.

Importing the package turns telemetry off first (`appliance.offline`): every
entry point imports it before any library that phones home can load.
"""

from appliance.offline import keep_offline

keep_offline()
