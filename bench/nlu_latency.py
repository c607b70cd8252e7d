"""Benchmark: parse latency through the bot's NLU client, and the Rasa server's memory.

Starts the local Rasa server as `helpline run` does (building and training first if needed), sends the
held-out messages of all four languages through nlu.client.RasaNLU one at a time, and prints a table.
A benchmark, not a test: it reports the figures and appends them to bench/results.jsonl.

    .venv/bin/python bench/nlu_latency.py [--rounds 2]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import platform
import secrets
import socket
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from nlu.client import RasaNLU
from nlu.evaluate import load_examples
from nlu.server import RasaServer

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = sorted((ROOT / "nlu" / "tests" / "heldout").glob("*.jsonl"))
RESULTS = ROOT / "bench" / "results.jsonl"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def resident_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


async def measure(url: str, token: str, texts: list[str], rounds: int) -> list[float]:
    async with RasaNLU(url, token, timeout=10.0) as client:
        deadline = time.monotonic() + 1800
        while not await client.ready():
            if time.monotonic() > deadline:
                raise SystemExit("Rasa did not become ready")
            await asyncio.sleep(1)
        await client.understand("warm up")
        timings = []
        for _ in range(rounds):
            for text in texts:
                start = time.perf_counter()
                answer = await client.understand(text)
                timings.append((time.perf_counter() - start) * 1000)
                if not answer.available:
                    raise SystemExit(f"Rasa did not answer for {text!r}")
        return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    texts = [example.text for example in load_examples(HELDOUT)]
    url, token = f"http://127.0.0.1:{free_port()}", secrets.token_urlsafe(16)
    server = RasaServer(url, token)
    server.start()
    try:
        timings = asyncio.run(measure(url, token, texts, args.rounds))
        memory = resident_memory_mb(server.process.pid)
    finally:
        server.stop()
    figures = {"parses": len(timings), "median_ms": statistics.median(timings),
               "p95_ms": percentile(timings, 0.95), "p99_ms": percentile(timings, 0.99),
               "rasa_rss_mb": memory}
    print(f"NLU parse latency through the client ({len(texts)} held-out messages x {args.rounds})")
    print(f"{'parses':>8} {'median ms':>10} {'p95 ms':>8} {'p99 ms':>8} {'Rasa RSS MB':>12}")
    print(f"{figures['parses']:>8} {figures['median_ms']:>10.1f} {figures['p95_ms']:>8.1f} "
          f"{figures['p99_ms']:>8.1f} {figures['rasa_rss_mb']:>12.0f}")
    record = {"benchmark": "nlu_latency", "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": f"{platform.machine()} {platform.processor() or ''}".strip(), **figures}
    with RESULTS.open("a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
