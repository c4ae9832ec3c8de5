"""``python -m benchmarks --quick --only warm``: a warmed client's first burst opens nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_warm_scenario_runs_and_the_warmed_burst_opens_no_connection(
        tmp_path: Path) -> None:
    out = tmp_path / "warm.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "warm", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (section,) = json.loads(out.read_text())["sections"]
    rows = {(r["api"], r["client"]): r for r in section["rows"]}
    assert set(rows) == {(api, client) for api in ("v5", "v1") for client in ("cold", "warmed")}
    for api, ids in (("v5", 720), ("v1", 1800)):
        cold, warmed = rows[api, "cold"], rows[api, "warmed"]
        assert cold["cancelled"] == warmed["cancelled"] == f"{ids}/{ids}"
        assert cold["opened in burst"] > 50 and warmed["opened in burst"] == 0
        assert warmed["warm-up ms"] > 0 and cold["median ms"] > 0
