from __future__ import annotations

import pytest

from htx_cancel import CATALOG, endpoint_for

EXPECTED_MAX = {
    "swap_cancel": 25, "swap_cross_cancel": 25,
    "swap_trigger_cancel": 20, "swap_cross_trigger_cancel": 10,
    "swap_tpsl_cancel": 10, "swap_cross_tpsl_cancel": 10,
    "swap_track_cancel": 10, "swap_cross_track_cancel": 10,
}


def test_every_cancel_endpoint_is_in_the_catalog() -> None:
    alls = {"swap_cancelall", "swap_cross_cancelall", "swap_trigger_cancelall",
            "swap_cross_trigger_cancelall", "swap_tpsl_cancelall", "swap_cross_tpsl_cancelall",
            "swap_track_cancelall", "swap_cross_track_cancelall"}
    assert set(CATALOG) == set(EXPECTED_MAX) | alls
    for name, ep in CATALOG.items():
        assert ep.path == f"/linear-swap-api/v1/{name}"
        assert ep.cancel_all == (name in alls)
        assert ep.margin == ("cross" if "_cross_" in name else "isolated")


def test_ids_per_call_and_pools() -> None:
    for name, limit in EXPECTED_MAX.items():
        ep = CATALOG[name]
        assert ep.max_ids == limit
        assert ep.pools[0] == "trade"
        if ep.kind == "order":
            assert ep.pools == ("trade",)
            assert ep.id_fields == ("order_id", "client_order_id")
        else:
            assert ep.pools == ("trade", name)
            assert ep.id_fields == ("order_id",)


def test_cancel_all_parameters() -> None:
    assert not CATALOG["swap_tpsl_cancelall"].offsets
    assert CATALOG["swap_tpsl_cancelall"].directions
    assert CATALOG["swap_cancelall"].offsets and CATALOG["swap_track_cancelall"].offsets


def test_lookup() -> None:
    assert endpoint_for("trigger", "cross").name == "swap_cross_trigger_cancel"
    assert endpoint_for("track", cancel_all=True).name == "swap_track_cancelall"
    with pytest.raises(ValueError, match="'stop'"):
        endpoint_for("stop")
    with pytest.raises(ValueError, match="'portfolio'"):
        endpoint_for("order", "portfolio")
