"""Running the kiosk: assembling the stages and driving them.

`pipeline` builds every stage around one `AudioDevice`; `service` is
`appliance run` on a sound card (systemd, GPIO, the events file); `sim`,
`script` and `timeline` are `appliance sim` in a simulated room with a scripted
caller; `soak` is hours of it; `screen/` is the kiosk's web page; `doctor` and
`privacy` check the installation and say (or erase) what the kiosk keeps.
"""
