"""What the kiosk may state as fact, and how a reply is kept to it.

`site` loads and validates the operator's knowledge file, `retrieval` picks
the facts that answer the caller's words (misrecognised ones included),
`grounding` checks each clause the model writes against those facts, and
`answer` joins them into the one reply path that `appliance ask` and the
voice pipeline share. The demo site shipped with the package is
`demo_hotel.toml`.
"""
