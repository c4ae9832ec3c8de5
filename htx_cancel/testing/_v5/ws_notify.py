"""``/ws/v5/notification``: subscriptions and the ``orders`` pushes of every state change.

Topics ``orders`` (regular orders) and ``algo_orders`` (strategy orders) are pushed; the other
topics HTX lists (``match_orders``, ``positions``, ``account``, ``trade``, ``trade_detail``)
may be subscribed but push nothing (the fake models no positions or trades).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .._orders import Order, OrderEvent
from .views import algo_fields, is_algo, order_fields
from .ws import WS_ERRORS, Stream, WsConfig

__all__ = ["PUSHED_TOPICS", "TOPICS", "Notifier", "subscription"]

PUSHED_TOPICS = frozenset({"orders", "algo_orders"})
TOPICS = PUSHED_TOPICS | {"match_orders", "positions", "account", "trade", "trade_detail"}


def subscription(stream: Stream, message: Mapping[str, Any], contracts: Mapping[str, str],
                 ts: int) -> dict[str, object]:
    """Apply a ``sub`` / ``unsub`` op; its ack (``err-code`` 0, or why not).

    ``contract_code`` is one contract or ``"*"`` (every contract). ``unsub`` removes exactly
    that subscription; ``unsub`` of ``"*"`` removes every subscription of the topic.
    """
    op, topic, code = message.get("op"), message.get("topic"), message.get("contract_code")
    ack: dict[str, object] = {"op": op, "cid": message.get("cid"), "topic": topic,
                              "contract_code": code, "ts": ts}
    error = None
    if not stream.authenticated:
        error = 2002
    elif topic not in TOPICS:
        error = 2010
    elif not isinstance(code, str) or not code:
        error = 2040
    elif code != "*" and code not in contracts:
        error = 2011
    if error is not None:
        return {**ack, "err-code": error, "err-msg": WS_ERRORS[error]}
    assert isinstance(topic, str) and isinstance(code, str)
    held = stream.subscriptions.setdefault(topic, set())
    if op == "sub":
        held.add(code)
    else:
        had = bool(held) if code == "*" else code in held
        if code == "*":
            held.clear()
        else:
            held.discard(code)
        if not had:
            return {**ack, "err-code": 2012, "err-msg": WS_ERRORS[2012]}
    return {**ack, "err-code": 0}


class Notifier:
    """Pushes every change of an order to the streams subscribed to it.

    A book listener: placement, partial fill, fill and cancel each push
    ``{"op": "notify", "topic": "orders", "contract_code", "ts", "uid", "data": {order}}``
    (``algo_orders`` and the algo fields for strategy orders). ``push_delay`` holds every push
    back that long; with ``cancel_lag`` a cancel's push comes when the lag ends.
    """

    __slots__ = ("config", "now", "push_delay", "streams")

    def __init__(self, config: WsConfig, now: Callable[[], float], push_delay: float) -> None:
        self.config = config
        self.now = now  # server epoch seconds
        self.push_delay = push_delay
        self.streams: list[Stream] = []

    def _subscribers(self, topic: str, contract_code: str) -> list[Stream]:
        """Authenticated streams subscribed to the topic for this contract (or ``*``)."""
        return [s for s in self.streams
                if s.authenticated and s.open
                and s.subscriptions.get(topic, set()) & {contract_code, "*"}]

    def on_change(self, order: Order, event: OrderEvent) -> None:
        """The book's listener: push the order as it now is (as it will show, with a lag)."""
        if event == "cancelling":
            return  # the v5 state does not change until the phase ends
        topic = "algo_orders" if is_algo(order) else "orders"
        targets = self._subscribers(topic, order.contract_code)
        if not targets:
            return
        now = self.now()
        at = now
        if event == "cancelled" and order.shown_live_until is not None:
            at = max(now, order.shown_live_until)
        fields = algo_fields(order, at) if is_algo(order) else order_fields(order, at)
        message: dict[str, object] = {"op": "notify", "topic": topic,
                                      "contract_code": order.contract_code,
                                      "ts": int(at * 1000), "uid": self.config.uid,
                                      "data": fields}
        delay = (at - now) + self.push_delay
        if delay <= 0:
            for stream in targets:
                stream.send(message)
            return
        clock = self.config.clock

        def later() -> None:
            for stream in targets:
                if stream.open:
                    stream.send(message)

        clock.call_at(clock.now() + delay, later)
