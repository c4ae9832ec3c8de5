"""The v5 answer envelope and the variants of it HTX really sends (answer styles)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from .._answers import JSON
from .codes import ENVELOPE_OK, OK

__all__ = ["ID_KEYS", "V5_STYLES", "V5Style", "check_styles", "error", "ok", "restyle"]

V5Style = Literal["msg", "success", "null_message", "no_ts", "string_codes", "number_ids"]
V5_STYLES: dict[str, str] = {
    "msg": "the text under 'msg' instead of 'message' (HTX's asset-mode example)",
    "success": "a 'success' boolean beside 'code' (the order-info example)",
    "null_message": "'message': null on success (the order-info example)",
    "no_ts": "no 'ts' (the order-info example)",
    "string_codes": "codes as strings: '200', item codes too",
    "number_ids": "ids as bare JSON numbers, above 2^53 (the order-info example's order_id)",
}
ID_KEYS = frozenset({"order_id", "client_order_id", "algo_id", "algo_client_order_id", "id"})


def ok(data: object, ts: int) -> JSON:
    """A success: ``{"code": 200, "message": "Success", "data": ..., "ts": ...}``."""
    return {"code": OK, "message": ENVELOPE_OK, "data": data, "ts": ts}


def error(code: int | str, message: str, ts: int) -> JSON:
    """A whole-request failure: ``{"code": ..., "message": ..., "ts": ...}`` (HTTP 200)."""
    return {"code": code, "message": message, "ts": ts}


def check_styles(styles: Iterable[str]) -> frozenset[str]:
    """The chosen styles; ValueError naming an unknown one."""
    chosen = frozenset(styles)
    unknown = sorted(chosen - V5_STYLES.keys())
    if unknown:
        raise ValueError(f"unknown v5 style {unknown[0]!r}; expected some of "
                         f"{', '.join(V5_STYLES)}")
    return chosen


def restyle(answer: JSON, styles: frozenset[str]) -> JSON:
    """The answer in the chosen styles; answers without a ``code`` are left alone."""
    if not styles or "code" not in answer:
        return answer
    code = answer["code"]
    styled = dict(answer)
    if "null_message" in styles and code == OK and "message" in styled:
        styled["message"] = None
    if "msg" in styles and "message" in styled:
        styled["msg"] = styled.pop("message")
    if "success" in styles:
        styled["success"] = code == OK
    if "no_ts" in styles:
        styled.pop("ts", None)
    if "string_codes" in styles:
        styled["code"] = str(code)
    if "data" in styled and styles & {"string_codes", "number_ids"}:
        styled["data"] = _items(styled["data"], "string_codes" in styles,
                                "number_ids" in styles)
    return styled


def _items(data: object, string_codes: bool, number_ids: bool) -> object:
    """``data`` with item codes as strings and/or digit-string ids as numbers."""
    if isinstance(data, list):
        return [_items(item, string_codes, number_ids) for item in data]
    if not isinstance(data, dict):
        return data
    out: JSON = {}
    for key, value in data.items():
        if number_ids and key in ID_KEYS and isinstance(value, str) and value.isdigit():
            out[key] = int(value)
        elif string_codes and key == "code" and isinstance(value, int):
            out[key] = str(value)
        else:
            out[key] = value
    return out
