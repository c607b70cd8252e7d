"""Benchmark: conversation load on the bot's webhook, against a bare python-telegram-bot echo bot.

Simulated residents walk the whole report (/start, language, description, category, place, no photo, send),
many at once, posting Update JSON to the webhook with Telegram's secret-token header; the bot (its own
process, built as `helpline run` builds it, in webhook mode) answers through a local fake Bot API server.
Latency: from the webhook POST to the arrival at the fake server of the bot's message that answers it.
Runs: NLU off on SQLite, NLU off on PostgreSQL, the real Rasa server on PostgreSQL, and the echo bot. (Replies
to residents are not held to Telegram's 30 messages/s for bulk sends, bot/delivery.py; that limit had capped the
bot at about 30 / (messages per update) updates/s.)

The load is open, as residents are: they arrive at random at a rate that offers `--rate` updates a second (a bit
above the bar of 200, which is judged on what was answered), and each pauses about `--think` seconds before each
step, so a slow bot meets more residents at once rather than a gentler load. One more run on PostgreSQL is closed,
to show the bot's capacity: `--concurrency` residents that never pause, each waiting for its answer before the next
step. Its latency is not comparable with the bar's: by Little's law it is about concurrency / updates per second
(32 residents at 200 updates/s wait 160 ms on average however fast the bot is).

    .venv/bin/python bench/conversation_load.py [--quick] [--rate 220] [--think 0.5] [--seconds 20] [--concurrency 32]
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

from bench.harness.databases import postgres_database, sqlite_database  # noqa: E402
from bench.harness.load import BotProcess, Load, Replies, free_port, run, run_open, webhook_client  # noqa: E402
from bench.benchlib import record  # noqa: E402
from bench.harness.report import percentile, table  # noqa: E402
from tests.support.fake_telegram import FakeTelegram  # noqa: E402

BAR_UPDATES_PER_S, BAR_P95_MS = 200, 100
TELEGRAM_WEBHOOK_CONNECTIONS = 40
LOADGEN_BUSY = 0.7          # a load generator busier than this may delay the replies it times
COLUMNS = [("run", "run"), ("load", "load"), ("posted_per_s", "posted/s"), ("updates", "updates"),
           ("updates_per_s", "updates/s"),
           ("median_ms", "median ms"),
           ("p95_ms", "p95 ms"), ("p99_ms", "p99 ms"), ("bot_cpu_ms_per_update", "bot CPU ms/update"),
           ("bot_cpu_share", "bot CPU"), ("loadgen_cpu_share", "loadgen CPU"), ("failures", "failed walks"),
           ("vs_echo", "cost vs echo")]


async def one_run(name: str, kind: str, walk: str, args, logs: Path, database_url: str = "sqlite:///:memory:",
                  rasa: tuple[str, str] = ("", ""), overall_limit: bool = True, closed: bool = False) -> dict:
    async with FakeTelegram() as tg:
        replies = Replies(tg)
        bot = BotProcess(kind, tg, database_url=database_url, rasa_url=rasa[0], rasa_token=rasa[1],
                         log=logs / (re.sub(r"\W+", "_", name) + ".log"), overall_limit=overall_limit)
        try:
            await bot.ready()
            # open load: at most 40 requests in flight, as Telegram holds to a webhook by default (max_connections)
            connections = args.concurrency if closed else TELEGRAM_WEBHOOK_CONNECTIONS
            async with webhook_client(connections) as client:
                load = Load(tg, replies, bot, client)
                if closed:
                    figures = await run(load, walk, concurrency=args.concurrency, warmup_s=args.warmup,
                                        measure_s=args.seconds)
                    figures["load"] = f"closed, {args.concurrency} at once"
                else:
                    figures = await run_open(load, walk, rate=args.rate, think_s=args.think, warmup_s=args.warmup,
                                             measure_s=args.seconds)
                    figures["load"] = f"open, {args.rate:g}/s offered, ~{figures['residents_at_once']:.0f} at once"
        finally:
            await bot.stop()
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
            with postgres_database("conversation") as url:
                rows.append(await one_run("capacity, PostgreSQL", "helpline", "report", args, logs, url,
                                          closed=True))
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
    print(table(f"Conversation load: residents arriving to offer {args.rate:g} updates/s, pausing ~{args.think:g} s "
                f"before each step; {args.seconds:g} s measured after {args.warmup:g} s warm-up; the capacity run: "
                f"{args.concurrency} residents that never pause (bot logs in {logs})", COLUMNS, rows))
    for name, why in skipped.items():
        print(f"skipped {name}: {why}")
    for row in rows:
        if row["loadgen_cpu_share"] > LOADGEN_BUSY:
            print(f"warning: in {row['run']!r} the load generator (and the fake Bot API server beside it) used "
                  f"{row['loadgen_cpu_share']:.0%} of a core: its own delays may show in the latency")
    met = postgres is not None and postgres["updates_per_s"] >= BAR_UPDATES_PER_S and \
        postgres["p95_ms"] < BAR_P95_MS and postgres["failures"] == 0
    bar = {"postgres_200_updates_per_s_p95_under_100ms": {
        "met": met, "updates_per_s": postgres and postgres["updates_per_s"], "p95_ms": postgres and postgres["p95_ms"],
        "failures": postgres and postgres["failures"]},
        "ratio_to_echo_printed": {"met": True}}
    print(f"bar: >= {BAR_UPDATES_PER_S} updates/s with p95 < {BAR_P95_MS} ms and no walk failed on PostgreSQL, "
          f"NLU off: {'met' if met else 'NOT met'}")
    record("conversation_load", {"rate": args.rate, "think_s": args.think, "concurrency": args.concurrency,
                                 "warmup_s": args.warmup, "seconds": args.seconds,
                                 "quick": args.quick, "profile": "kozani", "skipped": skipped},
           {row["run"]: {k: v for k, v in row.items() if k != "run"} for row in rows}, bar)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds: echo bot and SQLite")
    parser.add_argument("--rate", type=float, default=220.0, help="updates a second offered by arriving residents")
    parser.add_argument("--think", type=float, default=0.5, help="a resident's mean pause before each step, seconds")
    parser.add_argument("--concurrency", type=int, default=32, help="residents of the closed capacity run")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=6.0, help="long enough for arriving residents to reach "
                                                                   "every step of the report")
    parser.add_argument("--no-rasa", dest="rasa", action="store_false")
    parser.add_argument("--no-postgres", dest="postgres", action="store_false")
    args = parser.parse_args()
    if args.quick:
        args.rate, args.concurrency, args.seconds, args.warmup, args.rasa, args.postgres = 20, 4, 1.5, 1.0, False, False
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
