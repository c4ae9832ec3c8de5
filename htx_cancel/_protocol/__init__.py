"""The protocol, sans-I/O: everything that decides what a request means and what comes next.

- ``_codes``: HTX's whole-request codes and the one classifier.
- ``_judges``: every answer (cancel, request, switch) in every shape, turned into a verdict.
- ``_machine``: the attempt machine, the retry rules of every request the library sends.
- ``_merge``: one batch's answer turned into an outcome per id (v1 and v5 shapes).
- ``_reads``: what order info and the listings say (verification's answers).
- ``_plans``: what verification asks (targets, queries).
- ``_fold``: the only writer of reports.

Nothing here sends, sleeps or reads a clock: the client's send chain (``htx_cancel._send``)
drives the machine, as h11's users drive its connection.
"""

from ._codes import (
    MAINTENANCE,
    MIGRATED_CODES,
    NO_ORDERS,
    RATE_LIMITED,
    RATE_LIMITED_CODES,
    Action,
    classify,
)
from ._fold import Call, add, adopt, fold_states, fold_steps
from ._judges import (
    Verdict,
    judge_cancel,
    judge_error,
    judge_head,
    judge_request,
    parse_cancel_after,
)
from ._machine import RESYNC, SEND, Attempts, Done, Sleep, Step
from ._merge import (
    ITEM_OK,
    REPEATED_CANCEL,
    BatchOutcome,
    fail_all,
    merge_all,
    merge_batch,
    merge_items,
    merge_items_all,
    unknown_all,
)
from ._plans import (
    INFO_MAX_IDS,
    PAGE_SIZE,
    V5_ALGO_TYPES,
    V5_PAGE_SIZE,
    Query,
    Target,
    algo_page_query,
    info_path,
    info_queries,
    listing_path,
    listing_query,
    targets_for_ids,
    targets_from_report,
)
from ._reads import (
    NOT_FOUND_CODES,
    Finding,
    Listing,
    listed_states,
    not_found,
    parse_info,
    parse_listing,
    parse_v5_page,
)

__all__ = [
    "INFO_MAX_IDS",
    "ITEM_OK",
    "MAINTENANCE",
    "MIGRATED_CODES",
    "NOT_FOUND_CODES",
    "NO_ORDERS",
    "PAGE_SIZE",
    "RATE_LIMITED",
    "RATE_LIMITED_CODES",
    "REPEATED_CANCEL",
    "RESYNC",
    "SEND",
    "V5_ALGO_TYPES",
    "V5_PAGE_SIZE",
    "Action",
    "Attempts",
    "BatchOutcome",
    "Call",
    "Done",
    "Finding",
    "Listing",
    "Query",
    "Sleep",
    "Step",
    "Target",
    "Verdict",
    "add",
    "adopt",
    "algo_page_query",
    "classify",
    "fail_all",
    "fold_states",
    "fold_steps",
    "info_path",
    "info_queries",
    "judge_cancel",
    "judge_error",
    "judge_head",
    "judge_request",
    "listed_states",
    "listing_path",
    "listing_query",
    "merge_all",
    "merge_batch",
    "merge_items",
    "merge_items_all",
    "not_found",
    "parse_cancel_after",
    "parse_info",
    "parse_listing",
    "parse_v5_page",
    "targets_for_ids",
    "targets_from_report",
    "unknown_all",
]
