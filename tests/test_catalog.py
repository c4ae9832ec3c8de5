from __future__ import annotations

import pytest

from htx_cancel import CATALOG
from htx_cancel._catalog import api_table, endpoint_for, endpoint_for_path

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
    cancels = {name: ep for name, ep in CATALOG.items() if ep.is_cancel and ep.api == "v1"}
    assert set(cancels) == set(EXPECTED_MAX) | alls
    for name, ep in cancels.items():
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


# HTX's permission table: (path, pools)
PERMISSIONS = [
    ("swap_order", ("trade",)), ("swap_cross_order", ("trade",)),
    ("swap_batchorder", ("trade",)), ("swap_cross_batchorder", ("trade",)),
    ("swap_lightning_close_position", ("trade",)),
    ("swap_cross_lightning_close_position", ("trade",)),
    ("swap_switch_lever_rate", ("trade",)), ("swap_cross_switch_lever_rate", ("trade",)),
    ("linear-cancel-after", ("trade",)),
    ("swap_order_info", ("read",)), ("swap_cross_order_info", ("read",)),
    ("swap_order_detail", ("read",)), ("swap_openorders", ("read",)),
    ("swap_cross_openorders", ("read",)), ("swap_hisorders", ("read",)),
    ("swap_account_info", ("read",)), ("swap_cross_account_info", ("read",)),
    ("swap_position_info", ("read",)), ("swap_cross_position_info", ("read",)),
    ("swap_trigger_openorders", ("read",)), ("swap_tpsl_openorders", ("read",)),
    ("swap_track_openorders", ("read",)),
    ("swap_trigger_cancel", ("trade", "swap_trigger_cancel")),
]


@pytest.mark.parametrize(("name", "pools"), PERMISSIONS)
def test_pools_follow_htx_permissions(name: str, pools: tuple[str, ...]) -> None:
    ep = endpoint_for_path(f"/linear-swap-api/v1/{name}")
    assert ep.pools == pools
    assert ep.permission == pools[0]
    assert endpoint_for_path(name) is ep


def test_v3_paths_and_unknown_paths() -> None:
    assert endpoint_for_path("/linear-swap-api/v3/swap_hisorders").pools == ("read",)
    with pytest.raises(ValueError, match="not in the catalog"):
        endpoint_for_path("/linear-swap-api/v1/swap_something_new")
    ep = endpoint_for_path("/linear-swap-api/v1/swap_something_new", ("trade",))
    assert (ep.path, ep.pools, ep.kind) == ("/linear-swap-api/v1/swap_something_new",
                                           ("trade",), None)
    assert endpoint_for_path("swap_order", ("read",)).pools == ("read",)
    assert endpoint_for_path("swap_order").pools == ("trade",)
    assert endpoint_for_path("swap_order_info", method="get").method == "GET"
    for bad in ("", "/x?y=1", "swap order"):
        with pytest.raises(ValueError, match="path"):
            endpoint_for_path(bad)
    with pytest.raises(ValueError, match="pools"):
        endpoint_for_path("swap_order", ())


V5_CANCELS = {
    # name: (kind, cancel-all, ids per request, id fields, how ids travel, pools)
    "v5/trade/cancel_batch_orders": ("order", False, 10, ("order_id", "client_order_id"),
                                     "array", ("trade",)),
    "v5/trade/cancel_all_orders": ("order", True, 0, (), "array", ("trade",)),
    "v5/algo/cancel_orders": ("algo", False, 10, ("algo_id", "algo_client_order_id"), "items",
                              ("trade", "v5/algo/cancel_orders")),
}


def test_the_v5_table() -> None:
    cancels = {name: ep for name, ep in CATALOG.items() if ep.is_cancel and ep.api == "v5"}
    assert set(cancels) == set(V5_CANCELS)
    for name, (kind, all_, max_ids, fields, ids_as, pools) in V5_CANCELS.items():
        ep = cancels[name]
        assert (ep.kind, ep.cancel_all, ep.max_ids, ep.id_fields, ep.ids_as, ep.pools) == (
            kind, all_, max_ids, fields, ids_as, pools)
        assert ep.path == f"/{name}" and ep.margin is None and ep.method == "POST"
    assert CATALOG["v5/trade/cancel_all_orders"].filters == ("side", "position_side")


@pytest.mark.parametrize(("kind", "name"), [
    ("order", "v5/trade/cancel_batch_orders"), ("algo", "v5/algo/cancel_orders"),
    ("trigger", "v5/algo/cancel_orders"), ("tpsl", "v5/algo/cancel_orders"),
    ("track", "v5/algo/cancel_orders")])
def test_v5_kinds_and_aliases(kind: str, name: str) -> None:
    assert endpoint_for(kind, None, api="v5").name == name


def test_each_api_refuses_the_other_s_words() -> None:
    with pytest.raises(ValueError, match="v1 filter"):
        api_table("v5").cancel("order", "cross")
    with pytest.raises(ValueError, match="not on the v1 API"):
        endpoint_for("algo", "isolated", api="v1")
    with pytest.raises(ValueError, match="no cancel-all"):
        endpoint_for("algo", None, cancel_all=True, api="v5")
    with pytest.raises(ValueError, match="api must be"):
        endpoint_for("order", api="v2")


@pytest.mark.parametrize(("path", "method", "pools"), [
    ("/v5/trade/order", "POST", ("trade",)), ("/v5/trade/order", "GET", ("read",)),
    ("/v5/trade/batch_orders", "POST", ("trade",)),
    ("/v5/trade/order/opens", "GET", ("read",)), ("/v5/trade/order/history", "GET", ("read",)),
    ("/v5/algo/order", "POST", ("trade",)), ("/v5/algo/order/opens", "GET", ("read",)),
    ("/v5/position/mode", "POST", ("trade",)), ("/v5/position/mode", "GET", ("read",)),
    ("/v5/position/lever", "POST", ("trade",)), ("/v5/account/balance", "GET", ("read",)),
    ("/v5/trade/cancel-after", "POST", ("trade",)),
    ("/v5/trade/position/opens", "GET", ("read",)),
])
def test_v5_paths_a_bot_sends_know_their_pool(path: str, method: str,
                                              pools: tuple[str, ...]) -> None:
    ep = endpoint_for_path(path, method=method)
    assert ep.pools == pools and ep.api == "v5" and ep.path == path


def test_an_unknown_v5_path_needs_its_pools() -> None:
    with pytest.raises(ValueError, match="not in the catalog"):
        endpoint_for_path("/v5/trade/something_new")
    ep = endpoint_for_path("/v5/trade/something_new", ("trade",))
    assert ep.api == "v5" and ep.pools == ("trade",) and ep.name == "v5/trade/something_new"
