"""The pytest plugin's fixtures."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from htx_cancel._credentials import Credentials
from htx_cancel.testing import FakeExchange
from htx_cancel.testing.pytest_plugin import pytest_pycollect_makeitem

ROOT = Path(__file__).resolve().parents[2]


async def test_fixtures(fake_exchange: FakeExchange, fake_credentials: Credentials) -> None:
    assert fake_exchange.base_url.startswith("http://127.0.0.1:")
    assert fake_credentials == Credentials("test-access", "test-secret")
    assert fake_exchange.credentials == {"test-access": "test-secret"}


async def test_lifecycle_errors() -> None:
    ex = FakeExchange()
    with pytest.raises(RuntimeError):
        _ = ex.base_url
    await ex.start()
    try:
        with pytest.raises(RuntimeError):
            await ex.start()
    finally:
        await ex.close()
    await ex.close()  # closing twice is fine


def _doc_block_with(marker: str) -> str:
    """The ```python block of docs/testing.md that contains ``marker``."""
    text = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```$", text, re.S | re.M)
    (block,) = [b for b in blocks if marker in b]
    return block


def test_plugin_example_runs_in_a_new_project(tmp_path: Path) -> None:
    """The docs' pytest example, alone in a project with no pytest or asyncio configuration."""
    (tmp_path / "test_bot.py").write_text(_doc_block_with("pytest_plugins"), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert not (tmp_path / "pyproject.toml").exists()  # nothing configured


def test_plugin_marks_only_its_own_async_tests() -> None:
    async def test_uses(fake_exchange: object) -> None: ...
    async def test_other() -> None: ...
    def test_sync(fake_exchange: object) -> None: ...

    for name, func in (("test_uses", test_uses), ("test_other", test_other),
                       ("test_sync", test_sync)):
        pytest_pycollect_makeitem(None, name, func)  # type: ignore[arg-type]
    assert [m.name for m in test_uses.pytestmark] == ["asyncio"]  # type: ignore[attr-defined]
    assert not hasattr(test_other, "pytestmark") and not hasattr(test_sync, "pytestmark")
    pytest_pycollect_makeitem(None, "test_uses", test_uses)  # type: ignore[arg-type]
    assert len(test_uses.pytestmark) == 1  # type: ignore[attr-defined]
