"""Benchmark: notification fan-out. 10,000 queued "status_changed" notices to 10,000 residents' chats, delivered
by the bot's own scheduler and deliverer (python-telegram-bot with AIORateLimiter, as App.telegram() builds it)
to the fake Bot API with Telegram's limits on (30 messages a second overall, one a second per chat, 429 with
retry_after beyond them).

Reports delivered per second sustained, lost (rows not sent, chats without their message), duplicated (chats
with more than one), 429s received and the total time; appends them to bench/results.jsonl.

    .venv/bin/python bench/fanout.py [--quick] [--count 10000] [--backend postgresql|sqlite]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.benchlib import ROOT, print_table, record, scratch_postgres  # noqa: E402
from bot import app as composition  # noqa: E402
from bot.db import migrate  # noqa: E402
from bot.db.engine import make_engine  # noqa: E402
from bot.db.models import ResidentRow, TicketRow  # noqa: E402
from bot.settings import Settings  # noqa: E402
from core.ports import Notification  # noqa: E402
from tests.support.fake_telegram import DEFAULT_TOKEN, FakeTelegram  # noqa: E402

FIRST_CHAT = 700_000_001
LANGUAGES = (("el", 0.80), ("en", 0.12), ("sl", 0.04), ("he", 0.04))     # Kozani: mostly Greek
STATUSES = (("acknowledged", 0.35), ("in_progress", 0.25), ("fixed", 0.20), ("closed", 0.10),
            ("needs_info", 0.05), ("rejected", 0.05))
NOTES = ("", "", "Το συνεργείο θα περάσει την Τρίτη <πρωί> & θα το φτιάξει.", "Ordered the part; 2 weeks.")
BAR_PER_SECOND = 28


def pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def fill(app: composition.App, count: int, rng: random.Random) -> None:
    """Residents, one ticket each, and one queued status notice per resident (as Helpline._tell_residents
    writes it), due now."""
    now = app.clock.now()
    languages = [pick(rng, LANGUAGES) for _ in range(count)]
    statuses = [pick(rng, STATUSES) for _ in range(count)]
    with app.engine.begin() as db:
        db.execute(ResidentRow.__table__.insert(), [
            {"id": i + 1, "telegram_id": FIRST_CHAT + i, "name": f"Resident {i}", "language": languages[i],
             "created_at": now - timedelta(days=30)} for i in range(count)])
        db.execute(TicketRow.__table__.insert(), [
            {"id": i + 1, "ref": ref(i), "municipality": "kozani", "category": "pothole", "description": "Λακκούβα",
             "lat": 40.30 + rng.uniform(-0.02, 0.02), "lon": 21.79 + rng.uniform(-0.03, 0.03), "address": None,
             "status": statuses[i], "priority": 0, "reporter_id": i + 1, "department": "technical",
             "language": languages[i], "created_at": now - timedelta(days=3), "updated_at": now,
             "reopen_count": 0, "version": 1} for i in range(count)])
    for start in range(0, count, 1000):
        with app.helpline.uow() as uow:
            for i in range(start, min(start + 1000, count)):
                payload = {"ref": ref(i), "status": statuses[i], "note": rng.choice(NOTES)}
                if statuses[i] == "rejected":
                    payload["reason"] = "invalid"
                uow.outbox.add(Notification(chat_id=FIRST_CHAT + i, kind="status_changed", ticket_ref=ref(i),
                                            payload=payload, language=languages[i], created_at=now))
            uow.commit()


def ref(i: int) -> str:
    return f"KOZ-2026-{i + 1:05d}"


async def deliver(app: composition.App, count: int, timeout_s: float) -> list[tuple[float, int]]:
    """Run the bot's scheduler until every notice is recorded sent (or the time is up); the count of sent rows
    sampled every 0.2 s, as (seconds since start, sent)."""
    application = app.telegram()
    samples: list[tuple[float, int]] = []
    async with application:
        await application.post_init(application)        # as run_polling does: starts the scheduler
        await application.start()
        start = time.monotonic()
        try:
            while time.monotonic() - start < timeout_s:
                sent = await asyncio.to_thread(_sent_rows, app)
                samples.append((time.monotonic() - start, sent))
                if sent >= count and _settled(samples):
                    break
                await asyncio.sleep(0.2)
        finally:
            await application.stop()
            await application.post_shutdown(application)
    return samples


def _sent_rows(app: composition.App) -> int:
    with app.helpline.uow() as uow:
        return uow.outbox.counts()["sent"]


def _settled(samples: list[tuple[float, int]]) -> bool:
    """All there and nothing more for a second (a late retry would still show)."""
    last = samples[-1]
    return any(t <= last[0] - 1.0 for t, n in samples if n == last[1])


def figures(app: composition.App, telegram: dict, count: int, samples: list[tuple[float, int]]) -> dict:
    """The figures, from what the fake Bot API received and what the outbox recorded."""
    per_chat = {int(chat): n for chat, n in telegram["per_chat"].items()}
    with app.helpline.uow() as uow:
        counts = uow.outbox.counts()
    first = next((t for t, n in samples if n > 0), 0.0)
    done = next((t for t, n in samples if n >= count), samples[-1][0])
    delivered = sum(per_chat.values())
    return {
        "delivered": delivered,
        "per_second_sustained": round(counts["sent"] / max(done - first, 1e-9), 2),
        "slowest_10s_per_second": round(_slowest_window(samples, first, done, 10.0), 2),
        "lost_rows": counts["pending"] + counts["failed"],
        "lost_chats": count - len(per_chat),
        "duplicated_chats": sum(1 for n in per_chat.values() if n > 1),
        "http_429": telegram["http_429"],
        "total_s": round(done, 1),
    }


def _slowest_window(samples: list[tuple[float, int]], first: float, done: float, width: float) -> float:
    """The fewest messages per second over any `width`-second window between the first and the last one."""
    rates = []
    for t, n in samples:
        if first <= t and t + width <= done:
            later = next(m for u, m in samples if u >= t + width)
            rates.append((later - n) / width)
    return min(rates) if rates else 0.0


# --- the fake Bot API, in a process of its own (as Telegram is: it does not share the bot's CPU) -------------

def serve_fake_telegram(count: int) -> None:
    """Run the fake with Telegram's limits and `count` residents who have started the bot; print its base URL,
    serve until stdin closes, then print what it received as one JSON line."""
    async def serve() -> None:
        async with FakeTelegram(rate_limits=True) as tg:
            for i in range(count):
                tg.user(FIRST_CHAT + i, f"Resident {i}", language_code="el", started=True)
            print(tg.base_url, flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
            per_chat = Counter(m.chat_id for m in tg.sent)
            print(json.dumps({"per_chat": per_chat, "http_429": sum(1 for c in tg.calls if c.status == 429),
                              "calls": len(tg.calls)}), flush=True)
    asyncio.run(serve())


class fake_telegram_process:
    """`with fake_telegram_process(count) as (base_url, received):` received() -> the fake's JSON summary."""

    def __init__(self, count: int) -> None:
        self.process = subprocess.Popen([sys.executable, __file__, "--serve-fake", str(count)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def __enter__(self):
        base_url = self.process.stdout.readline().strip()
        if not base_url:
            raise SystemExit("the fake Bot API did not start")
        return base_url, self.received

    def received(self) -> dict:
        out, _ = self.process.communicate(timeout=60)
        return json.loads(out.strip().splitlines()[-1])

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def run(count: int, backend: str) -> dict:
    rng = random.Random(7)
    with fake_telegram_process(count) as (base_url, received), _database(backend) as url:
        migrate.upgrade(url)
        settings = Settings(profile="kozani", data_dir=ROOT / "data", database_url=url, telegram_token=DEFAULT_TOKEN,
                            telegram_api_base_url=base_url, rasa="off", geocoder="offline")
        app = composition.build(settings, upgrade=False)
        try:
            fill(app, count, rng)
            samples = asyncio.run(deliver(app, count, timeout_s=count / 20 + 60))
            return figures(app, received(), count, samples)
        finally:
            app.close()


class _database:
    """A fresh scratch database: PostgreSQL bench_fanout_<pid> (dropped after), or a SQLite file in a temp dir."""

    def __init__(self, backend: str) -> None:
        self.backend = backend

    def __enter__(self) -> str:
        if self.backend == "postgresql":
            self._pg = scratch_postgres(f"bench_fanout_{os.getpid()}")   # runs side by side never meet
            return self._pg.__enter__()
        self._dir = tempfile.TemporaryDirectory(prefix="bench_fanout_")
        return f"sqlite:///{self._dir.name}/fanout.db"

    def __exit__(self, *exc: object) -> None:
        if self.backend == "postgresql":
            self._pg.__exit__(*exc)
        else:
            self._dir.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 notifications: a smoke run of a few seconds")
    parser.add_argument("--count", type=int, default=None)
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--serve-fake", type=int, metavar="CHATS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake is not None:
        serve_fake_telegram(args.serve_fake)
        return 0
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)   # each 429 is counted instead
    count = args.count or (100 if args.quick else 10_000)
    result = run(count, args.backend)
    print_table(f"Notification fan-out: {count} status notices to {count} chats, Telegram's limits enforced "
                f"({args.backend})", [result])
    bar = {f"at least {BAR_PER_SECOND}/s sustained": result["per_second_sustained"] >= BAR_PER_SECOND,
           "zero lost": result["lost_rows"] == 0 and result["lost_chats"] == 0,
           "zero duplicated": result["duplicated_chats"] == 0,
           "429s counted (aim: none)": result["http_429"] == 0}
    record("fanout", {"notifications": count, "chats": count, "backend": args.backend, "quick": args.quick},
           result, {name: {"met": met} for name, met in bar.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
