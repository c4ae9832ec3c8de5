"""Scenario 3: peak RSS cancelling 1,000 / 10,000 / 100,000 ids, a fresh process per size.

Run as ``python -m benchmarks._memory BASE_URL IDS_FILE [API]`` it is the measured child: it
reads the ids, notes its peak RSS, cancels them all (limits off, on API: v5 by default) and
prints what it saw as JSON.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from ._common import CONTRACT, Section
from ._config import Sizes
from ._server import ExchangeOptions, ExchangeProcess
from ._wire import APIS, ApiName

__all__ = ["run_memory"]

_CHILD_TIMEOUT = 300.0


def _status_kb(field: str) -> int | None:
    """A ``Vm*`` line of /proc/self/status in KiB; None where there is no /proc."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _current_kb() -> int:
    """Resident set size now, in KiB."""
    return _status_kb("VmRSS") or _peak_kb()


def _peak_kb() -> int:
    """Peak RSS of this process in KiB.

    Linux keeps ru_maxrss across fork and exec, so a child spawned by a big parent starts with
    the parent's peak; VmHWM (the high-water mark of this process's own memory) does not.
    ru_maxrss is the fallback elsewhere (macOS reports it in bytes).
    """
    hwm = _status_kb("VmHWM")
    if hwm is not None:
        return hwm
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


async def _child(base_url: str, ids: list[str], api: ApiName) -> dict[str, Any]:
    from ._common import library_client

    client = library_client(base_url, None, api=api)
    try:
        # A warm-up request first: the session, connector and decoders are not per-id costs.
        await client.cancel_orders(CONTRACT, ["1"])
        gc.collect()
        before = _current_kb()
        report = await client.cancel_orders(CONTRACT, ids)
        after = _peak_kb()
        return {"n": len(ids), "before_kb": before, "peak_kb": after,
                "cancelled": len(report.cancelled), "failed": len(report.failed),
                "unknown": len(report.unknown), "batches": len(report.batches)}
    finally:
        await client.close()


def run_memory(ex: ExchangeProcess, sizes: Sizes, apis: Sequence[ApiName]) -> Section:
    """One child process per API and size; KB per id of the growth while cancelling."""
    url = ex.start(ExchangeOptions(rate_limits=False))
    section = Section(
        "memory", "3. Memory: peak RSS cancelling n ids (limits off, fresh process each)",
        ["api", "ids", "RSS before MB", "peak RSS MB", "growth MB", "KB per id", "cancelled",
         "batches"])
    for api, n in ((a, n) for a in apis for n in sizes.memory_sizes):
        ex.clear()
        ids = ex.seed(n)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "ids.txt")
            Path(path).write_text("\n".join(ids))
            del ids
            proc = subprocess.run(
                [sys.executable, "-m", "benchmarks._memory", url, path, api],
                capture_output=True, text=True, timeout=_CHILD_TIMEOUT, check=False,
                cwd=str(Path(__file__).resolve().parent.parent))
        if proc.returncode != 0:
            raise RuntimeError(f"memory child failed for n={n}: {proc.stderr[-2000:]}")
        got = json.loads(proc.stdout.strip().splitlines()[-1])
        growth = got["peak_kb"] - got["before_kb"]
        section.rows.append({
            "api": api, "ids": n, "RSS before MB": round(got["before_kb"] / 1024, 1),
            "peak RSS MB": round(got["peak_kb"] / 1024, 1),
            "growth MB": round(growth / 1024, 2), "KB per id": round(growth / n, 3),
            "cancelled": f"{got['cancelled']}/{n}", "batches": got["batches"],
        })
    section.notes.append(
        "RSS before = resident set after reading the ids and one warm-up request; growth = "
        "peak RSS by the end of cancel_orders(all ids) minus that (the report holds every "
        "id and one BatchRecord per request). Peak = VmHWM: ru_maxrss is inherited from the "
        "parent across exec on Linux, so it would show the harness's own peak.")
    return section


if __name__ == "__main__":
    _ids = Path(sys.argv[2]).read_text().split()
    _api = cast(ApiName, sys.argv[3] if len(sys.argv) > 3 else "v5")
    if _api not in APIS:
        raise SystemExit(f"api must be one of {APIS}, got {_api!r}")
    print(json.dumps(asyncio.run(_child(sys.argv[1], _ids, _api))))
