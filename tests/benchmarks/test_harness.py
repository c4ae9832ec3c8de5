"""Smoke test: ``python -m benchmarks --quick`` runs end to end and produces sane rows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks._common import Section, percentile, rate_bound
from benchmarks._output import markdown, plain

ROOT = Path(__file__).resolve().parents[2]


def _rows(doc: dict[str, Any], name: str) -> list[dict[str, Any]]:
    (section,) = [s for s in doc["sections"] if s["name"] == name]
    rows: list[dict[str, Any]] = section["rows"]
    assert rows, name
    return rows


def _all_cancelled(row: dict[str, Any]) -> bool:
    done, total = str(row["cancelled"]).split("/")
    return done == total


def test_quick_run_produces_sane_rows(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    md = tmp_path / "table.md"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json", str(out), "--markdown", str(md)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(out.read_text())
    assert doc["quick"] is True
    assert doc["command"].startswith("python -m benchmarks")
    assert doc["machine"]["cpu_count"] >= 1

    cpu = _rows(doc, "cpu")
    assert all(r["CPU µs/request"] > 0 and _all_cancelled(r) for r in cpu)
    assert {r["vs floor"] for r in cpu if r["client"].startswith("floor")} == {1.0}

    limits = _rows(doc, "limits")
    assert all(_all_cancelled(r) and r["elapsed s"] > 0 for r in limits)
    ours = [r for r in limits if r["client"] == "htx_cancel"]
    assert ours and all(r["1032"] == 0 for r in ours)
    for row in ours:
        seen, limit = (int(x) for x in row["max in window"].split("/"))
        assert seen <= limit

    memory = _rows(doc, "memory")
    assert all(_all_cancelled(r) and r["peak RSS MB"] > 0 for r in memory)

    latency = _rows(doc, "latency")
    assert all(r["median µs"] > 0 and r["p90 µs"] >= r["median µs"] for r in latency)

    verify = {r["run"]: r for r in _rows(doc, "verify")}
    assert set(verify) == {"cancel", "cancel + verify", "verify later"}
    assert all(r["1032"] == 0 for r in verify.values())
    # verification reads on the read pool and takes no trade slot
    assert verify["cancel + verify"]["trade req"] == verify["cancel"]["trade req"]
    assert verify["verify later"]["trade req"] == 0 < verify["verify later"]["read req"]
    assert verify["cancel + verify"]["states"] == f"{verify['cancel']['ids']} cancelled"

    assert "| client |" in md.read_text()
    assert "1. Client CPU" in proc.stdout


def test_helpers() -> None:
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 90) == 9.0
    assert rate_bound(400, (72, 3.0)) == 15.0
    assert rate_bound(72, (72, 3.0)) == 0.0
    assert rate_bound(15, (5, 1.0)) == 2.0
    section = Section("x", "X", ["a", "b"], [{"a": 1, "b": None}], ["note"])
    assert "| 1 |  |" in markdown(section)
    assert plain(section).splitlines()[0] == "X"
