"""The merges: one batch's answer turned into an outcome for every id it asked about.

Pure functions over the decoded answer: v1's ``{errors, successes}``, v5's per-id items, the
cancel-alls of both. Every id asked lands in exactly one of cancelled, failed, unknown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .._models import BatchData, Code, ErrorItem, Item, code_of
from .._report import Failure

__all__ = ["ITEM_OK", "REPEATED_CANCEL", "BatchOutcome", "fail_all", "merge_all", "merge_batch",
           "merge_items", "merge_items_all", "unknown_all"]

REPEATED_CANCEL = 1071  # "already cancelled": the order is gone, which is what was asked
ITEM_OK = frozenset({200, 0})  # a v5 item's success code (gocryptotrader also reads 0)
NOT_FOUND = frozenset({1061, 1017})  # the order (or, on v5, the client id) is not known


@dataclass(slots=True)
class BatchOutcome:
    """The outcome of one batch, before it is folded into a report."""

    cancelled: list[str] = field(default_factory=list)
    failed: dict[str, Failure] = field(default_factory=dict)
    unknown: dict[str, str] = field(default_factory=dict)
    order_ids: dict[str, str] = field(default_factory=dict)  # client id -> the exchange's id


def _item_id(item: ErrorItem) -> str:
    """The id an error item names (order id, or client order id for client-id cancels)."""
    raw = item.order_id if item.order_id not in (None, "") else item.client_order_id
    return "" if raw is None else str(raw)


def merge_batch(ids: Sequence[str], data: BatchData | None) -> BatchOutcome:
    """Merge a successful v1 batch answer into one outcome per asked id.

    - An id in ``successes`` is cancelled, even when ``errors`` also lists it (1062 "cancelling"
      comes with the id in both lists: the exchange accepted the cancel).
    - 1071 "already cancelled" is cancelled: the order is gone, by this call or an earlier one.
    - An id the answer does not mention is unknown. Ids the answer names but nobody asked about
      are ignored.
    """
    out = BatchOutcome()
    if data is None:
        for id_ in ids:
            out.unknown[id_] = "answer had no data"
        return out
    if not data.errors and data.successes == ",".join(ids):  # the usual answer: all cancelled
        out.cancelled.extend(ids)
        return out
    successes = set(filter(None, (data.successes or "").split(",")))
    errors = {_item_id(item): item for item in data.errors}
    for id_ in ids:
        if id_ in successes:
            out.cancelled.append(id_)
            continue
        item = errors.get(id_)
        if item is None:
            out.unknown[id_] = "not named in the exchange's answer"
            continue
        _put(out, id_, code_of(item.err_code), item.err_msg)
    return out


def _put(out: BatchOutcome, id_: str, code: Code | None, message: str) -> None:
    """One id's per-item result: success codes and 1071 are cancelled, anything else failed."""
    if code is None or code in ITEM_OK or code == REPEATED_CANCEL:
        out.cancelled.append(id_)
    else:
        out.failed[id_] = Failure(code, message)


def _item_code(item: Item) -> Code | None:
    """A v5 item's code: ``code`` (or ``error_code``); ``success`` alone is 200 or "failed".

    None means the item carries no verdict of its own (``cancel_order`` answers the bare ids):
    the envelope's success stands for it.
    """
    raw = item.code if item.code is not None else item.error_code
    if raw is not None:
        return code_of(raw)
    if item.success is None:
        return None
    return 200 if item.success else "failed"


def merge_items(ids: Sequence[str], field: str, items: Sequence[Item], *,
                retried: bool = False) -> BatchOutcome:
    """Merge a successful v5 answer's per-id items into one outcome per asked id.

    Items are matched by the id in the request's own ``field`` (``order_id``,
    ``client_order_id``, ``algo_id``, ``algo_client_order_id``), never by position: HTX answers
    in another order, and names both ids of an order. The item rules are those of
    `merge_batch()`; an id no item names is unknown.

    ``retried`` (an earlier attempt may have reached the exchange) with client ids: v5 forgets
    a client id as soon as its order is done, so "not found" may be the lost attempt's own
    cancel; the id is unknown (verification can still find it), not failed.
    """
    out = BatchOutcome()
    if field not in _EXCHANGE_ID and len(items) == len(ids) and all(
            item.code == 200 for item in items) and (
            {getattr(item, field, None) for item in items} == set(ids)):
        # the usual answer to a cancel by exchange ids: every id named once, all cancelled
        out.cancelled.extend(ids)
        return out
    by_id: dict[str, Item] = {}
    for item in items:
        key = item.id_for(field)
        if key:
            by_id.setdefault(key, item)
    for id_ in ids:
        named = by_id.get(id_)
        if named is None:
            out.unknown[id_] = "not named in the exchange's answer"
            continue
        code = _item_code(named)
        if retried and code in NOT_FOUND and field in _EXCHANGE_ID:
            out.unknown[id_] = (f"{code}: {named.text()} after an earlier attempt got no "
                                "answer: v5 forgets a client id once its order is done, so "
                                "that attempt may have cancelled it")
        else:
            _put(out, id_, code, named.text())
    _name_orders(out, field, by_id)
    return out


_EXCHANGE_ID = {"client_order_id": "order_id", "algo_client_order_id": "algo_id"}


def _name_orders(out: BatchOutcome, field: str, by_id: dict[str, Item]) -> None:
    """A cancel by client ids: keep the exchange's id each item names beside it (v5 answers
    name both), so the order can still be found once v5 has forgotten its client id."""
    own = _EXCHANGE_ID.get(field)
    if own is None:
        return
    for client_id, item in by_id.items():
        order_id = item.id_for(own)
        if order_id:
            out.order_ids[client_id] = order_id


def merge_items_all(items: Sequence[Item]) -> BatchOutcome:
    """Outcome of a v5 cancel-all answer: every order id it names, cancelled or failed."""
    out = BatchOutcome()
    for item in items:
        id_ = item.id_for("order_id") or item.id_for("algo_id")
        if id_ and id_ not in out.failed and id_ not in out.cancelled:
            _put(out, id_, _item_code(item), item.text())
    return out


def merge_all(data: BatchData | None) -> BatchOutcome:
    """Outcome of a cancel-all answer: the ids it names, as cancelled or failed."""
    out = BatchOutcome()
    if data is None:
        return out
    successes = [s for s in (data.successes or "").split(",") if s]
    out.cancelled.extend(dict.fromkeys(successes))
    done = set(successes)
    for item in data.errors:
        id_ = _item_id(item)
        if id_ and id_ not in done:
            out.failed[id_] = Failure(code_of(item.err_code), item.err_msg)
    return out


def fail_all(ids: Iterable[str], failure: Failure) -> BatchOutcome:
    """A whole-request error: every id of the batch failed with it."""
    return BatchOutcome(failed=dict.fromkeys(ids, failure))


def unknown_all(ids: Iterable[str], reason: str) -> BatchOutcome:
    """No answer could be learned for the batch: every id is unknown, with the reason."""
    return BatchOutcome(unknown=dict.fromkeys(ids, reason))
