"""bench/fanout.py --quick runs end to end: 100 notices through the bot's scheduler to the fake Bot API with
Telegram's limits, its table printed and its result line appended."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIGURES = {"delivered", "per_second_sustained", "slowest_10s_per_second", "lost_rows", "lost_chats",
           "duplicated_chats", "http_429", "total_s"}


@pytest.mark.postgres
def test_the_quick_fan_out_delivers_every_notice_once_and_records_its_figures(tmp_path):
    results = tmp_path / "results.jsonl"
    done = subprocess.run([sys.executable, "bench/fanout.py", "--quick"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "HELPLINE_BENCH_RESULTS": str(results)})
    assert done.returncode == 0, done.stderr[-3000:]

    header = next(line for line in done.stdout.splitlines() if "per_second_sustained" in line)
    assert FIGURES <= set(header.split())
    line = json.loads(results.read_text())
    assert line["bench"] == "fanout" and line["parameters"]["quick"] is True
    assert {"when", "machine", "commit", "parameters", "figures", "bar"} <= set(line)
    assert {"cpus", "cpu_model", "ram_gb"} <= set(line["machine"])
    assert set(line["figures"]) == FIGURES
    assert line["figures"]["delivered"] == 100
    assert line["figures"]["lost_chats"] == line["figures"]["lost_rows"] == line["figures"]["duplicated_chats"] == 0
    assert all(isinstance(bar["met"], bool) for bar in line["bar"].values())
