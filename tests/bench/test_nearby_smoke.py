"""bench/nearby.py --quick runs end to end on both backends: a small generated town, timed searches, its table
printed and its result line appended."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = {"backend", "tickets", "queries", "first_pass_p95_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms", "found_per_query", "generated_s"}


@pytest.mark.postgres
def test_the_quick_nearby_search_times_both_backends_and_records_its_figures(tmp_path):
    results = tmp_path / "results.jsonl"
    done = subprocess.run([sys.executable, "bench/nearby.py", "--quick", "--tickets", "5000", "--queries", "100"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "HELPLINE_BENCH_RESULTS": str(results)})
    assert done.returncode == 0, done.stderr[-3000:]

    header = next(line for line in done.stdout.splitlines() if "p95_ms" in line)
    assert COLUMNS <= set(header.split())
    line = json.loads(results.read_text())
    assert line["bench"] == "nearby" and line["parameters"] == {"tickets": 5000, "queries": 100, "quick": True,
                                                                 "profile": "kozani"}
    assert {"when", "machine", "commit", "parameters", "figures", "bar"} <= set(line)
    assert set(line["figures"]) == {"sqlite", "postgresql"}
    for figures in line["figures"].values():
        assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"] <= figures["max_ms"]
    assert set(line["bar"]) == {"p95 under 10 ms on sqlite (second pass)", "p95 under 10 ms on postgresql (second pass)"}
