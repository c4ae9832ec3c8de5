"""docs/reference.md documents every public name, where users import it from."""

from __future__ import annotations

import importlib
import re

import pytest

from ._blocks import ROOT

ENTRIES = re.findall(r"^:::\s*(\S+)\s*$", (ROOT / "docs" / "reference.md").read_text(), re.M)
NOT_OBJECTS = {"CATALOG", "__version__"}  # data, not API to document one by one


def test_no_entry_names_a_private_module() -> None:
    private = [e for e in ENTRIES if any(part.startswith("_") for part in e.split("."))]
    assert private == []


@pytest.mark.parametrize("module", ["htx_cancel", "htx_cancel.testing", "htx_cancel.metrics",
                                    "htx_cancel.redis_limiter", "htx_cancel.integrations.ccxt"])
def test_every_public_name_is_documented(module: str) -> None:
    exported = set(importlib.import_module(module).__all__) - NOT_OBJECTS
    documented = {e.removeprefix(f"{module}.") for e in ENTRIES
                  if e.startswith(f"{module}.") and "." not in e.removeprefix(f"{module}.")}
    missing = {n for n in exported if n not in documented and n.upper() != n}  # constants aside
    assert missing == set()
