from __future__ import annotations

import pytest

from htx_cancel._order_state import OrderState, state_for_status


@pytest.mark.parametrize(("status", "state"), [
    (1, OrderState.SUBMITTING), (2, OrderState.SUBMITTING), (3, OrderState.OPEN),
    (4, OrderState.PARTIALLY_FILLED), (5, OrderState.PARTIALLY_FILLED_CANCELLED),
    (6, OrderState.FILLED), (7, OrderState.CANCELLED), (10, OrderState.FAILED),
    (11, OrderState.CANCELLING), ("7", OrderState.CANCELLED), ("11", OrderState.CANCELLING),
])
def test_maps_every_htx_status(status: int | str, state: OrderState) -> None:
    assert state_for_status(status) is state


@pytest.mark.parametrize("status", [0, 8, 9, 12, -1, "", "seven", "7.0", " 7", True, "٣"])
def test_unknown_statuses_map_to_none(status: int | str) -> None:
    assert state_for_status(status) is None


def test_states_are_strings_named_for_what_they_mean() -> None:
    assert isinstance(OrderState.CANCELLED, str) and OrderState.CANCELLED.value == "cancelled"
    assert f"{OrderState.FILLED}" == "filled"
    assert str(OrderState.PARTIALLY_FILLED) == "partially_filled"
    assert OrderState("not_found") is OrderState.NOT_FOUND


def test_live_final_and_cancelled_partition_the_states() -> None:
    live = {s for s in OrderState if s.live}
    assert live == {OrderState.SUBMITTING, OrderState.OPEN, OrderState.PARTIALLY_FILLED}
    assert {s for s in OrderState if not s.final} == live | {OrderState.CANCELLING}
    assert {s for s in OrderState if s.cancelled} == {
        OrderState.CANCELLED, OrderState.PARTIALLY_FILLED_CANCELLED}
    assert not any(s.live and s.cancelled for s in OrderState)
