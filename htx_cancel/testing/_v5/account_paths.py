"""The v5 paths a bot uses besides orders: the dead man's switch, modes, balance, positions.

Modes are kept (``/v5/position/mode`` decides what ``position_side`` a placement needs); the
rest answer plausibly and empty: the fake models no positions, balances or fills lists.
"""

from __future__ import annotations

from .._process import Processed
from .._switch import MIN_TIMEOUT_MS
from .account import V5Account
from .codes import empty, illegal
from .envelope import ok
from .params import as_object, choice, contract, number
from .request import V5Request

__all__ = [
    "account_balance",
    "cancel_after",
    "empty_list",
    "empty_object",
    "get_asset_mode",
    "get_lever",
    "get_position_mode",
    "set_asset_mode",
    "set_lever",
    "set_position_mode",
]


def _switch_value(value: object, name: str, allowed: tuple[str, ...]) -> str | None:
    """A switch field given as a string or a JSON integer (not a boolean); None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise illegal(name)
    text = str(value)
    if text not in allowed and not (allowed == () and text.isdigit()):
        raise illegal(name)
    return text


def cancel_after(acct: V5Account, req: V5Request) -> Processed:
    """``POST /v5/trade/cancel-after``: ``on_off`` "1" arms / "0" disarms (integers too),
    ``time_out`` ms (default 5000, at least 5000). ``data`` is ``{"current_time",
    "trigger_time"}`` (server epoch ms; trigger_time 0 once disarmed). The account's one switch:
    the v1 ``linear-cancel-after`` arms the same one."""
    p = as_object(req.body)
    on_off = _switch_value(p.get("on_off"), "on_off", ("0", "1"))
    if on_off is None:
        raise empty("on_off")
    timeout = _switch_value(p.get("time_out"), "time_out", ()) or str(MIN_TIMEOUT_MS)
    if int(timeout) < MIN_TIMEOUT_MS:
        raise illegal("time_out", f"at least {MIN_TIMEOUT_MS} ms is required")
    if on_off == "1":
        trigger = acct.switch.arm(int(timeout))
    else:
        acct.switch.disarm()
        trigger = 0
    return Processed(ok({"current_time": req.ts, "trigger_time": trigger}, req.ts))


POSITION_MODES = ("single_side", "dual_side")


def get_position_mode(acct: V5Account, req: V5Request) -> Processed:
    """``GET /v5/position/mode``: ``{"position_mode": "single_side" | "dual_side"}``."""
    return Processed(ok({"position_mode": acct.position_mode}, req.ts))


def set_position_mode(acct: V5Account, req: V5Request) -> Processed:
    """``POST /v5/position/mode`` ``{"position_mode"}``: one-way or hedge from now on."""
    mode = choice(as_object(req.body), "position_mode", POSITION_MODES, required=True)
    assert mode is not None
    acct.position_mode = mode
    return Processed(ok({"position_mode": mode}, req.ts))


def get_asset_mode(acct: V5Account, req: V5Request) -> Processed:
    """``GET /v5/account/asset_mode``: ``{"assets_mode": 0 | 1}`` (1: multi-assets)."""
    return Processed(ok({"assets_mode": acct.assets_mode}, req.ts))


def set_asset_mode(acct: V5Account, req: V5Request) -> Processed:
    """``POST /v5/account/asset_mode`` ``{"assets_mode": 0 | 1}``."""
    value = _switch_value(as_object(req.body).get("assets_mode"), "assets_mode", ("0", "1"))
    if value is None:
        raise empty("assets_mode")
    acct.assets_mode = int(value)
    return Processed(ok({"assets_mode": acct.assets_mode}, req.ts))


def account_balance(acct: V5Account, req: V5Request) -> Processed:
    """``GET /v5/account/balance``: an account with nothing in it."""
    zero = "0"
    data = {"state": "normal", "equity": zero, "initial_margin": zero,
            "maintenance_margin": zero, "maintenance_margin_rate": zero,
            "profit_unreal": zero, "available_margin": zero, "voucher_value": zero,
            "created_time": str(req.ts), "updated_time": str(req.ts), "details": []}
    return Processed(ok(data, req.ts))


def get_lever(acct: V5Account, req: V5Request) -> Processed:
    """``GET /v5/position/lever``: no positions, so no leverage entries (``[]``)."""
    contract(as_object(req.body), acct.book.contracts, required=False)
    return Processed(ok([], req.ts))


def set_lever(acct: V5Account, req: V5Request) -> Processed:
    """``POST /v5/position/lever`` ``{contract_code, margin_mode, lever_rate}``: echoed."""
    p = as_object(req.body)
    code = contract(p, acct.book.contracts)
    margin = choice(p, "margin_mode", ("cross", "isolated"), required=True)
    lever = number(p, "lever_rate", required=True)
    if not isinstance(lever, int) or not 1 <= lever <= 200:
        raise illegal("lever_rate", "an integer in [1, 200] is required")
    data = {"contract_code": code, "margin_mode": margin, "lever_rate": lever,
            "position_side": choice(p, "position_side", ("long", "short", "both"))}
    return Processed(ok(data, req.ts))


def empty_object(acct: V5Account, req: V5Request) -> Processed:
    """A trade path on what the fake does not model (closing positions, position margin):
    accepted, nothing changes, ``data`` is ``{}``."""
    as_object(req.body)
    return Processed(ok({}, req.ts))


def empty_list(acct: V5Account, req: V5Request) -> Processed:
    """A read the fake does not model (positions, fills, bills, risk limits): ``[]``."""
    as_object(req.body)
    return Processed(ok([], req.ts))
