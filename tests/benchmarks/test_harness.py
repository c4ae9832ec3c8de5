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
        cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(out.read_text())
    assert doc["quick"] is True
    assert doc["command"].startswith("python -m benchmarks")
    assert doc["machine"]["cpu_count"] >= 1
    assert doc["apis"] == ["v5", "v1"]
    assert len(doc["load"]["before"]) == 3

    # every scenario but verification runs on both APIs, v5 first
    for name in ("cpu", "limits", "memory", "latency", "outside", "priority"):
        apis = [r["api"] for r in _rows(doc, name)]
        assert apis == sorted(apis, key=["v5", "v1"].index) and set(apis) == {"v5", "v1"}, name

    cpu = _rows(doc, "cpu")
    assert all(r["CPU µs/request"] > 0 and _all_cancelled(r) for r in cpu)
    floors = [r for r in cpu if r["client"].startswith("floor")]
    assert {r["vs floor"] for r in floors} == {1.0} and len(floors) == 4
    assert {int(r["cancelled"].split("/")[1]) for r in floors} == {120 * 10, 120 * 25}

    limits = _rows(doc, "limits")
    assert all(_all_cancelled(r) and r["elapsed s"] > 0 for r in limits)
    ours = [r for r in limits if r["client"] == "htx_cancel"]
    assert ours and all(r["1032"] == 0 for r in ours)
    for row in ours:
        seen, limit = (int(x) for x in row["max in window"].split("/"))
        assert seen <= limit
    kinds = {(r["api"], r["kind"]) for r in limits}
    assert {("v5", "order"), ("v5", "algo"), ("v1", "trigger"), ("v1", "track")} <= kinds
    bulk = {(r["api"], r["client"]): r for r in limits if r["scenario"] == "1000 ids"}
    assert bulk["v5", "htx_cancel"]["requests"] == 100 and bulk["v1", "ccxt"]["requests"] == 40
    assert {"v5", "v1"} == {api for api, client in bulk if client == "ccxt"}

    memory = _rows(doc, "memory")
    assert all(_all_cancelled(r) and r["peak RSS MB"] > 0 for r in memory)
    assert {(r["api"], r["batches"]) for r in memory if r["ids"] == 2000} == {("v5", 200),
                                                                              ("v1", 80)}

    latency = _rows(doc, "latency")
    assert all(r["median µs"] > 0 and r["p90 µs"] >= r["median µs"] for r in latency)

    outside = _rows(doc, "outside")
    assert all(r["ours 1032"] == 0 and r["outsider requests"] > 0 for r in outside)
    assert {r["api"]: r["requests"] for r in outside} == {"v5": 100, "v1": 40}
    assert all(r["cancelled"] == "4/4" for r in _rows(doc, "priority"))

    verify = {r["run"]: r for r in _rows(doc, "verify")}
    assert {r["api"] for r in verify.values()} == {"v1"}
    assert set(verify) == {"cancel", "cancel + verify", "verify later"}
    assert all(r["1032"] == 0 for r in verify.values())
    # verification reads on the read pool and takes no trade slot
    assert verify["cancel + verify"]["trade req"] == verify["cancel"]["trade req"]
    assert verify["verify later"]["trade req"] == 0 < verify["verify later"]["read req"]
    assert verify["cancel + verify"]["states"] == f"{verify['cancel']['ids']} cancelled"

    assert "| client |" in md.read_text()
    assert "1. Client CPU" in proc.stdout


def test_one_api(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--api", "v5", "--only", "latency",
         "verify", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(out.read_text())
    assert doc["apis"] == ["v5"]
    assert {r["api"] for r in _rows(doc, "latency")} == {"v5"}
    (verify,) = [s for s in doc["sections"] if s["name"] == "verify"]
    assert verify["rows"] == [] and any("v1 only" in n for n in verify["notes"])


def test_helpers() -> None:
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 90) == 9.0
    assert rate_bound(400, (72, 3.0)) == 15.0
    assert rate_bound(72, (72, 3.0)) == 0.0
    assert rate_bound(15, (5, 1.0)) == 2.0
    section = Section("x", "X", ["a", "b"], [{"a": 1, "b": None}], ["note"])
    assert "| 1 |  |" in markdown(section)
    assert plain(section).splitlines()[0] == "X"
