"""Benchmark: the bot process's resident memory over 10,000 conversations, and its growth.

Each conversation is a new resident: /start (answered with the greeting and the choice of language), and
every Nth resident files a whole report. The bot runs in its own process, built as `helpline run` builds it, in webhook mode,
against the local fake Bot API server; its VmRSS is read from /proc after each thousand conversations.
Growth is measured from the 2nd to the 10th thousand (the first thousand warms caches and pools up).
python-telegram-bot's overall limit of 30 messages/s is lifted in this run (see conversation_load.py for the
bot as configured): memory does not depend on it, and 10,000 conversations would otherwise take 20 minutes.

With --tracemalloc the bot starts tracing its allocations after the first tenth of the conversations, takes a
snapshot after the second tenth and one at the end; the allocations that grew most between the two are shown by
the line that made them and the helpline's own line that led there: what conversations leave behind, without the
start-up or the warm-up. Tracing slows the bot down several times: `--conversations 3000` is usually enough.

    .venv/bin/python bench/memory.py [--quick] [--conversations 10000] [--report-every 20] [--tracemalloc]
"""
from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from bench.harness.databases import postgres_database, sqlite_database  # noqa: E402
from bench.harness.load import BotProcess, Load, Replies, StepFailed, webhook_client  # noqa: E402
from bench.benchlib import record  # noqa: E402
from bench.harness.report import table  # noqa: E402
from tests.support.fake_telegram import FakeTelegram  # noqa: E402

LANGS = ("el", "sl", "he", "en")


async def conversations(load: Load, args, sample) -> None:
    """`args.conversations` residents, `args.concurrency` at a time; sample(n) after each `args.every` done."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(args.conversations):
        queue.put_nowait(n)
    done = 0

    async def worker() -> None:
        nonlocal done
        while not queue.empty():
            n = queue.get_nowait()
            chat_id = 800_000_000 + n
            try:
                if args.report_every and n % args.report_every == args.report_every - 1:
                    await load.report(chat_id, LANGS[n % 4])
                else:
                    await load.start(chat_id, LANGS[n % 4])
            except StepFailed:
                load.failures += 1
            done += 1
            if done % args.every == 0:
                sample(done)
    await asyncio.gather(*(worker() for _ in range(args.concurrency)))


def top_growth(folder: Path, first: int, last: int, limit: int = 12) -> list[str]:
    """The allocations that grew most between two tracemalloc snapshots, by where they were made: the line that
    allocated, and the innermost line of the helpline's own code on the way there (outside .venv)."""
    before = tracemalloc.Snapshot.load(str(folder / f"snapshot-{first}.pickle"))
    after = tracemalloc.Snapshot.load(str(folder / f"snapshot-{last}.pickle"))
    lines = []
    for stat in after.compare_to(before, "traceback")[:limit]:
        frames = list(reversed(stat.traceback))   # innermost (the allocating line) first
        ours = next((f for f in frames if f.filename.startswith(str(ROOT)) and ".venv" not in f.filename
                     and "/bench/" not in f.filename), None)
        where = f"{_short(frames[0])}" + (f" via {_short(ours)}" if ours and ours is not frames[0] else "")
        lines.append(f"{stat.size_diff / 1024:+8.1f} KiB {stat.count_diff:+7d} blocks  {where}")
    return lines


def _short(frame) -> str:
    name = frame.filename
    for prefix in (str(ROOT / ".venv"), str(ROOT)):
        if name.startswith(prefix):
            name = name[len(prefix) + 1:]
            break
    if "site-packages/" in name:
        name = name.split("site-packages/", 1)[1]
    return f"{name}:{frame.lineno}"


def snapshot(bot: BotProcess, folder: Path, timeout: float = 300.0) -> None:
    """Have the bot write its next tracemalloc snapshot and wait until it is written (the load waits meanwhile:
    a second signal before the bot has handled the first would be lost)."""
    wanted = folder / f"snapshot-{len(list(folder.glob('*.pickle'))) + 1}.pickle"
    bot.process.send_signal(signal.SIGUSR1)
    deadline, size = time.monotonic() + timeout, -1
    while time.monotonic() < deadline:
        time.sleep(0.5)
        if wanted.exists() and wanted.stat().st_size == size > 0:
            return
        size = wanted.stat().st_size if wanted.exists() else -1


async def measure(args, database_url: str, logs: Path) -> dict:
    snapshots = Path(tempfile.mkdtemp(prefix="bench_memory_snapshots_")) if args.tracemalloc else None
    async with FakeTelegram() as tg:
        replies = Replies(tg)
        bot = BotProcess("helpline", tg, database_url=database_url, log=logs / "bot.log", overall_limit=False,
                         tracemalloc=str(snapshots or ""))
        samples: list[tuple[int, float]] = []
        try:
            await bot.ready()
            async with webhook_client(args.concurrency) as client:
                load = Load(tg, replies, bot, client)
                started = time.perf_counter()
                samples.append((0, bot.rss_mb()))

                def sample(done: int) -> None:
                    samples.append((done, bot.rss_mb()))
                    print(f"  {done} conversations: {samples[-1][1]:.1f} MB after {time.perf_counter() - started:.0f} s",
                          flush=True)
                    if snapshots and done in (args.every, 2 * args.every, args.conversations):
                        snapshot(bot, snapshots)         # start tracing (an empty snapshot); snapshot; snapshot
                await conversations(load, args, sample)
                elapsed = time.perf_counter() - started
        finally:
            await bot.stop()
    growth = {}
    if snapshots and len(list(snapshots.glob("*.pickle"))) >= 3:
        growth["tracemalloc_top_growth"] = top_growth(snapshots, 2, 3)
        print(f"tracemalloc snapshots in {snapshots}")
    return {"samples": samples, "elapsed_s": elapsed, "failures": load.failures, **growth}


async def main_async(args) -> int:
    logs = Path(tempfile.mkdtemp(prefix="bench_memory_logs_"))
    database = postgres_database if args.postgres else sqlite_database
    with database("memory") as url:
        result = await measure(args, url, logs)
    samples = dict(result["samples"])
    second, last = samples.get(2 * args.every), samples.get(args.conversations)
    growth = (last - second) if second is not None and last is not None else float("nan")
    rows = [{"conversations": n, "rss_mb": rss} for n, rss in result["samples"]]
    print(table(f"Bot process memory (VmRSS) over {args.conversations} conversations on "
                f"{'PostgreSQL' if args.postgres else 'SQLite'}, {args.concurrency} at a time, a full report "
                f"every {args.report_every}th ({result['elapsed_s']:.0f} s, {result['failures']} failed; "
                f"bot log {logs / 'bot.log'})",
                [("conversations", "conversations"), ("rss_mb", "RSS MB")], rows))
    print(f"growth from {2 * args.every} to {args.conversations} conversations: {growth:+.1f} MB "
          f"({growth * 1024 / max(args.conversations - 2 * args.every, 1):+.2f} KB per conversation)")
    for line in result.get("tracemalloc_top_growth", []):
        print("  " + line)
    figures = {"rss_mb": {str(n): round(rss, 1) for n, rss in result["samples"]}, "growth_mb": growth,
               "elapsed_s": result["elapsed_s"], "failures": result["failures"]}
    if "tracemalloc_top_growth" in result:
        figures["tracemalloc_top_growth"] = result["tracemalloc_top_growth"]
    bar = {"no_growth_2k_to_10k": {"met": growth <= args.tolerance_mb, "growth_mb": growth,
                                   "tolerance_mb": args.tolerance_mb}}
    print(f"aim: no growth (within {args.tolerance_mb:g} MB): {'met' if bar['no_growth_2k_to_10k']['met'] else 'NOT met'}")
    record("memory", {"conversations": args.conversations, "every": args.every, "report_every": args.report_every,
                      "concurrency": args.concurrency, "database": "postgresql" if args.postgres else "sqlite",
                      "quick": args.quick, "overall_30_per_s_limit": "lifted"}, figures, bar)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20 conversations, sampled each 2")
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--report-every", type=int, default=50, help="every Nth resident files a whole report")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--tracemalloc", action="store_true", help="show the lines whose allocations grew most")
    parser.add_argument("--tolerance-mb", type=float, default=1.0,
                        help="growth below this counts as none (the allocator takes memory in steps)")
    args = parser.parse_args()
    if args.quick:
        args.conversations, args.report_every, args.concurrency = 20, 10, 4
    args.every = max(args.conversations // 10, 1)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
