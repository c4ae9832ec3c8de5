"""Reading and checking input before anything is sent: ids, keys, contract, choices."""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from typing import TextIO

from .._catalog import KINDS, MARGINS, Endpoint, Kind, Margin, endpoint_for
from .._credentials import Credentials
from .._ids import validate_contract_code, validate_ids
from ._args import UsageError

__all__ = ["KIND_ALIASES", "contract_of", "credentials", "endpoint_of", "id_field", "kind_of",
           "margin_of", "read_ids"]

# The command line's first names for kinds, still accepted (deprecated): the library's names
# are the command line's names now. "client" was "order" with client order ids.
KIND_ALIASES: dict[str, tuple[Kind, bool]] = {"regular": ("order", False),
                                              "client": ("order", True)}


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
    for kind in KINDS:
        if kind == given:
            return kind
    raise UsageError(f"--kind must be one of {', '.join(KINDS)}, got {given!r}")


def margin_of(args: argparse.Namespace) -> Margin | None:
    """``--margin`` as the library takes it: v1's default is isolated, v5 takes none."""
    given: str | None = args.margin
    if args.api == "v5":
        if given is not None:
            raise UsageError(f"--margin {given} is for --api v1: v5 cancels take no margin "
                             "mode")
        return None
    for margin in MARGINS:
        if margin == (given or "isolated"):
            return margin
    raise UsageError(f"--margin must be isolated or cross, got {given!r}")


def endpoint_of(api: str, kind: Kind, margin: Margin | None, *,
                cancel_all: bool = False) -> Endpoint:
    """The cancel endpoint of the API for the kind; UsageError (naming --kind) if none."""
    try:
        return endpoint_for(kind, margin, cancel_all=cancel_all, api=api)
    except ValueError as exc:
        raise UsageError(f"--kind {kind} --api {api}: {exc}") from None


def id_field(endpoint: Endpoint, client_ids: bool) -> str:
    """Which id the ids are: the endpoint's client id field with --client-order-ids."""
    fields = endpoint.id_fields
    if not client_ids:
        return fields[0]
    if len(fields) < 2:
        raise UsageError(f"--client-order-ids: {endpoint.name} takes order ids only")
    return fields[1]


def contract_of(contract: str) -> str:
    """The validated contract code; UsageError naming --contract."""
    try:
        return validate_contract_code(contract)
    except ValueError as exc:
        raise UsageError(f"--contract: {exc}") from None


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
