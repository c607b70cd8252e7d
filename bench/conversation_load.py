"""Benchmark: conversation load on the bot's webhook, against a bare python-telegram-bot echo bot.

Simulated residents walk the whole report (/start, language, description, category, place, no photo, send),
many at once, posting Update JSON to the webhook with Telegram's secret-token header; the bot (its own
process, built as `helpline run` builds it, in webhook mode) answers through a local fake Bot API server.
Latency: from the webhook POST to the arrival at the fake server of the bot's message that answers it.
Runs: NLU off on SQLite, NLU off on PostgreSQL, the real Rasa server on PostgreSQL, and the echo bot. (Replies
to residents are not held to Telegram's 30 messages/s for bulk sends, bot/delivery.py; that limit had capped the
bot at about 30 / (messages per update) updates/s.) The load is closed: each of `concurrency` residents waits for
the answer before the next step, so the mean latency is about concurrency / updates per second.

    .venv/bin/python bench/conversation_load.py [--quick] [--concurrency 32] [--seconds 20]
"""
from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.harness.databases import postgres_database, sqlite_database  # noqa: E402
from bench.harness.load import BotProcess, Load, Replies, free_port, run  # noqa: E402
from bench.benchlib import record  # noqa: E402
from bench.harness.report import percentile, table  # noqa: E402
from tests.support.fake_telegram import FakeTelegram  # noqa: E402

BAR_UPDATES_PER_S, BAR_P95_MS = 200, 100
COLUMNS = [("run", "run"), ("updates", "updates"), ("updates_per_s", "updates/s"), ("median_ms", "median ms"),
           ("p95_ms", "p95 ms"), ("p99_ms", "p99 ms"), ("bot_cpu_ms_per_update", "bot CPU ms/update"),
           ("bot_cpu_share", "bot CPU"), ("loadgen_cpu_share", "loadgen CPU"), ("failures", "failed walks"),
           ("vs_echo", "cost vs echo")]


async def one_run(name: str, kind: str, walk: str, args, logs: Path, database_url: str = "sqlite:///:memory:",
                  rasa: tuple[str, str] = ("", ""), overall_limit: bool = True) -> dict:
    async with FakeTelegram() as tg:
        replies = Replies(tg)
        bot = BotProcess(kind, tg, database_url=database_url, rasa_url=rasa[0], rasa_token=rasa[1],
                         log=logs / (re.sub(r"\W+", "_", name) + ".log"), overall_limit=overall_limit)
        try:
            await bot.ready()
            limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
            async with httpx.AsyncClient(limits=limits, timeout=30) as client:
                load = Load(tg, replies, bot, client)
                figures = await run(load, walk, concurrency=args.concurrency, warmup_s=args.warmup,
                                    measure_s=args.seconds)
        finally:
            bot.stop()
    return {"run": name, **figures, "median_ms": percentile(load.latencies, 0.5),
            "p95_ms": percentile(load.latencies, 0.95), "p99_ms": percentile(load.latencies, 0.99)}


def rasa_model_ready() -> str | None:
    """None when Rasa can serve now; otherwise why not (the benchmark does not install or train it)."""
    try:
        path = subprocess.run([str(ROOT / "scripts" / "rasa.sh"), "path"], capture_output=True, text=True,
                              timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"scripts/rasa.sh path failed: {exc}"
    if path.returncode == 3:
        return "Python 3.10 was not found (Rasa 3.6 needs it)"
    model = Path(path.stdout.strip())
    if path.returncode != 0 or not model.is_file():
        return f"no model trained for the current NLU data ({model.name or path.stderr.strip()}); " \
               "run scripts/rasa.sh train first"
    return None


async def with_rasa(args, logs: Path) -> dict | str:
    """The helpline on PostgreSQL with the real Rasa server; a line saying why not when it cannot run."""
    from nlu.client import RasaNLU
    from nlu.server import RasaServer

    if why := rasa_model_ready():
        return why
    url, token = f"http://127.0.0.1:{free_port()}", secrets.token_urlsafe(16)
    server = RasaServer(url, token)
    server.start()
    try:
        async with RasaNLU(url, token, timeout=10.0) as client:
            deadline = time.monotonic() + 180
            while not await client.ready():
                if server.process.poll() is not None or time.monotonic() > deadline:
                    return "the Rasa server did not become ready"
                await asyncio.sleep(1)
            await client.understand("warm up")
        with postgres_database("conversation") as database_url:
            return await one_run("rasa, PostgreSQL", "helpline", "report", args, logs, database_url, (url, token))
    finally:
        server.stop()


async def main_async(args) -> int:
    logs = Path(tempfile.mkdtemp(prefix="bench_conversation_logs_"))
    rows, skipped = [], {}
    echo = await one_run("echo bot", "echo", "echo", args, logs)
    rows.append(echo)
    with sqlite_database("conversation") as url:
        rows.append(await one_run("NLU off, SQLite", "helpline", "report", args, logs, url))
    postgres = None
    try:
        if args.postgres:
            with postgres_database("conversation") as url:
                postgres = await one_run("NLU off, PostgreSQL", "helpline", "report", args, logs, url)
                rows.append(postgres)
        else:
            skipped["NLU off, PostgreSQL"] = "not asked for (--quick or --no-postgres)"
    except Exception as exc:  # noqa: BLE001 - say why and go on with the other runs
        skipped["NLU off, PostgreSQL"] = f"PostgreSQL unavailable: {exc.__class__.__name__}: {exc}"
    if args.rasa:
        outcome = await with_rasa(args, logs)
        if isinstance(outcome, str):
            skipped["rasa, PostgreSQL"] = outcome
        else:
            rows.append(outcome)
    else:
        skipped["rasa, PostgreSQL"] = "not asked for (--quick or --no-rasa)"
    for row in rows:
        row["vs_echo"] = f"{row['bot_cpu_ms_per_update'] / echo['bot_cpu_ms_per_update']:.1f}x"
    print(table(f"Conversation load: {args.concurrency} residents at a time, {args.seconds:g} s measured after "
                f"{args.warmup:g} s warm-up (bot logs in {logs})", COLUMNS, rows))
    for name, why in skipped.items():
        print(f"skipped {name}: {why}")
    met = postgres is not None and postgres["updates_per_s"] >= BAR_UPDATES_PER_S and postgres["p95_ms"] < BAR_P95_MS
    bar = {"postgres_200_updates_per_s_p95_under_100ms": {
        "met": met, "updates_per_s": postgres and postgres["updates_per_s"], "p95_ms": postgres and postgres["p95_ms"]},
        "ratio_to_echo_printed": {"met": True}}
    print(f"bar: >= {BAR_UPDATES_PER_S} updates/s with p95 < {BAR_P95_MS} ms on PostgreSQL, NLU off: "
          f"{'met' if met else 'NOT met'}")
    record("conversation_load", {"concurrency": args.concurrency, "warmup_s": args.warmup, "seconds": args.seconds,
                                 "quick": args.quick, "profile": "kozani", "skipped": skipped},
           {row["run"]: {k: v for k, v in row.items() if k != "run"} for row in rows}, bar)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds: echo bot and SQLite")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--no-rasa", dest="rasa", action="store_false")
    parser.add_argument("--no-postgres", dest="postgres", action="store_false")
    args = parser.parse_args()
    if args.quick:
        args.concurrency, args.seconds, args.warmup, args.rasa, args.postgres = 4, 1.5, 0.5, False, False
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
