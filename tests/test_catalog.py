from __future__ import annotations

import pytest

from htx_cancel import CATALOG
from htx_cancel._catalog import endpoint_for, endpoint_for_path

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
    cancels = {name: ep for name, ep in CATALOG.items() if ep.is_cancel}
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
