"""Smoke runs of the conversation-load and memory benchmarks in --quick mode: they run, print their tables and
append a JSON line with the agreed fields (to a temporary file, not bench/results.jsonl)."""
import json
import os
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]


def quick(script: str, tmp_path: Path) -> tuple[str, dict]:
    results = tmp_path / "results.jsonl"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / script), "--quick"], cwd=tmp_path,
                          env={**os.environ, "HELPLINE_BENCH_RESULTS": str(results)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    [line] = results.read_text().splitlines()
    record = json.loads(line)
    assert set(record) == {"bench", "when", "machine", "commit", "parameters", "figures", "bar"}
    assert set(record["machine"]) == {"cpus", "cpu_model", "ram_gb"} and record["parameters"]["quick"] is True
    assert all(isinstance(bar["met"], bool) for bar in record["bar"].values())
    return done.stdout, record


def test_conversation_load_quick(tmp_path):
    out, record = quick("conversation_load.py", tmp_path)
    assert "updates/s" in out and "p95 ms" in out and "cost vs echo" in out
    assert record["bench"] == "conversation_load"
    for run in ("echo bot", "NLU off, SQLite"):
        figures = record["figures"][run]
        assert figures["updates"] > 0 and figures["failures"] == 0, figures
        assert figures["median_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
    assert "postgres_200_updates_per_s_p95_under_100ms" in record["bar"]


def test_memory_quick(tmp_path):
    out, record = quick("memory.py", tmp_path)
    assert "RSS MB" in out and "growth from 4 to 20 conversations" in out
    figures = record["figures"]
    assert record["bench"] == "memory" and figures["failures"] == 0
    assert list(figures["rss_mb"]) == [str(n) for n in range(0, 21, 2)]
    assert all(mb > 20 for mb in figures["rss_mb"].values())      # a live Python process with the bot loaded
