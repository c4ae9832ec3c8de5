"""Reading and checking input before anything is sent: ids, keys, contract, choices."""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from typing import TextIO

from .._catalog import Kind, Margin, endpoint_for
from .._credentials import Credentials
from .._ids import validate_contract_code, validate_ids
from ._args import UsageError

__all__ = ["KIND_ALIASES", "credentials", "id_field", "kind_of", "margin_of", "read_ids",
           "target"]

# The command line's first names for kinds, still accepted (deprecated): the library's names
# are the command line's names now. "client" was "order" with client order ids.
KIND_ALIASES: dict[str, tuple[Kind, bool]] = {"regular": ("order", False),
                                              "client": ("order", True)}
_KINDS: tuple[Kind, ...] = ("order", "trigger", "tpsl", "track")


def kind_of(args: argparse.Namespace, err: TextIO) -> Kind:
    """The library's kind named by ``--kind`` (an old name is noted on ``err``).

    ``--kind client`` also sets ``args.client_order_ids``, as ``--client-order-ids`` does.
    """
    given: str = args.kind
    if given in KIND_ALIASES:
        kind, client_ids = KIND_ALIASES[given]
        new = f"--kind {kind}" + (" --client-order-ids" if client_ids else "")
        err.write(f"htx-cancel {args.command}: --kind {given} is deprecated, use {new} (the "
                  "library's names); the old name will be removed in a later release\n")
        if client_ids:
            args.client_order_ids = True
        return kind
    for kind in _KINDS:
        if kind == given:
            return kind
    raise UsageError(f"--kind must be one of {', '.join(_KINDS)}, got {given!r}")


def id_field(client_ids: bool) -> str:
    """Which id the ids are: client_order_id with --client-order-ids, order_id otherwise."""
    return "client_order_id" if client_ids else "order_id"


def margin_of(text: str) -> Margin:
    """The margin mode as the library types it."""
    if text == "cross":
        return "cross"
    if text == "isolated":
        return "isolated"
    raise UsageError(f"margin must be isolated or cross, got {text!r}")


def target(contract: str, kind: Kind, margin: str, *, cancel_all: bool = False) -> str:
    """The validated contract code; UsageError if the contract or the endpoint is wrong."""
    try:
        endpoint_for(kind, margin, cancel_all=cancel_all)
        return validate_contract_code(contract)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def credentials() -> Credentials:
    """The key pair from HTX_ACCESS_KEY / HTX_SECRET_KEY; UsageError when missing."""
    try:
        return Credentials.from_env()
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _check(text: str, what: str, where: str) -> str:
    """One id through the library's validation; UsageError saying where it came from."""
    try:
        return validate_ids([text], what)[0]
    except ValueError as exc:
        raise UsageError(f"{where}: {exc}") from None


def _read_lines(lines: Iterable[str], name: str, what: str) -> list[str]:
    """Ids one a line; blank lines and # comments skipped."""
    ids: list[str] = []
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if text and not text.startswith("#"):
            ids.append(_check(text, what, f"{name}:{number}"))
    return ids


def _read_file(path: str, what: str, stdin: TextIO) -> list[str]:
    """Ids from a file, or from stdin for '-'."""
    if path == "-":
        return _read_lines(stdin, "<stdin>", what)
    try:
        with open(path, encoding="utf-8") as handle:
            return _read_lines(handle, path, what)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not a UTF-8 text file") from None


def read_ids(args: Sequence[str], ids_file: str | None, what: str, stdin: TextIO) -> list[str]:
    """Every id given (arguments, file, stdin), validated, duplicates dropped, order kept.

    No source at all is a UsageError; a file or stdin with no ids gives an empty list (nothing
    to cancel), so a pipe from a bot with no open orders is not an error.
    """
    if not args and ids_file is None:
        raise UsageError("no ids given: pass them as arguments, with --ids-file FILE, "
                         "or - to read stdin")
    ids: list[str] = []
    for number, raw in enumerate(args, 1):
        if raw == "-":
            ids += _read_file("-", what, stdin)
        else:
            ids.append(_check(raw, what, f"argument {number}"))
    if ids_file is not None:
        ids += _read_file(ids_file, what, stdin)
    return validate_ids(ids, what) if ids else []
