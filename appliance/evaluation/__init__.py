"""Evaluations that measure the kiosk on pinned data (run by `make eval-*`, never at run time)."""
