"""The v5 side of the fake exchange: HTX's ``/v5/...`` REST paths and the v5 WebSockets.

Everything here works on the same order book as the v1 side (one account), and takes its rules
from its own route table (`.routes`) and code table (`.codes`), never from the
client's catalog.
"""
