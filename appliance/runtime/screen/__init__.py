"""The kiosk's screen: a local web page with live captions, the turn state and a talk button.

`view` builds what the page shows on the conversation thread, `server` serves
the page and streams the view to it (its own thread and event loop),
`snapshot` renders one view to a PNG with headless Chromium, and `screen`
wires the three to a running pipeline. The page itself is in `static/`:
plain HTML, CSS and JavaScript, nothing fetched from anywhere else.
"""
