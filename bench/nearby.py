"""Benchmark: the nearby-duplicate search (Helpline.open_tickets_nearby, asked each time a resident sends a
location) with 1,000,000 tickets in the database, on SQLite and on PostgreSQL.

The tickets are spread over Kozani's boundary box (about 7 x 7 km), most of them around the town centre, with a
mix of categories and five years of statuses (most closed, about 7% open). Open tickets carry their audit trail
(two events) and some a photo, as the search loads them. The databases are generated once and cached, keyed by
the schema revision: SQLite under ~/.cache/citizen-helpline/bench/, PostgreSQL as database bench_nearby_<rev>.

    .venv/bin/python bench/nearby.py [--quick] [--tickets 1000000] [--queries 3000] [--fresh]
"""
from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Table, func, select, text  # noqa: E402

from bench.benchlib import CACHE, ROOT, percentile, postgres_url, print_table, record, scratch_postgres  # noqa: E402
from bot import app as composition  # noqa: E402
from bot.db import migrate  # noqa: E402
from bot.db.models import ResidentRow, TicketEventRow, TicketPhotoRow, TicketRow  # noqa: E402
from bot.settings import Settings  # noqa: E402
from core.tickets import Location  # noqa: E402

PROFILE = "kozani"
CENTRE, SPREAD_M = (40.3007, 21.7887), 1500          # the town centre; most reports fall within a few km
CATEGORY_WEIGHTS = {"pothole": 20, "streetlight": 14, "garbage": 14, "bulky_waste": 8, "water_leak": 6,
                    "sewage": 5, "tree": 6, "stray_animal": 4, "noise": 4, "graffiti": 3,
                    "sidewalk_accessibility": 6, "illegal_parking": 5, "abandoned_vehicle": 2, "playground": 2,
                    "traffic_signal": 3, "other": 6}
STATUS_WEIGHTS = {"closed": 84, "rejected": 9, "fixed": 1.5, "in_progress": 2.5, "acknowledged": 1.5, "new": 1,
                  "needs_info": 0.3, "reopened": 0.2}
OPEN = {"new", "acknowledged", "in_progress", "needs_info", "reopened"}
RESIDENTS = 100_000
CHUNK = 50_000
BAR_MS = 10.0


def town(app: composition.App) -> tuple[float, float, float, float]:
    """(south, north, west, east) of the municipality's boundary."""
    lons, lats = zip(*app.profile.boundary)
    return min(lats), max(lats), min(lons), max(lons)


def a_place(rng: random.Random, box: tuple[float, float, float, float]) -> tuple[float, float]:
    """Where a problem is: three in four around the centre, the rest anywhere in the municipality's box."""
    south, north, west, east = box
    if rng.random() < 0.75:
        lat = rng.gauss(CENTRE[0], SPREAD_M / 111_000)
        lon = rng.gauss(CENTRE[1], SPREAD_M / (111_000 * math.cos(math.radians(CENTRE[0]))))
        return min(max(lat, south), north), min(max(lon, west), east)
    return rng.uniform(south, north), rng.uniform(west, east)


def categories(app: composition.App) -> tuple[list[str], list[float]]:
    keys = list(app.profile.categories)
    return keys, [CATEGORY_WEIGHTS.get(key, 3) for key in keys]


# --- generating the database ------------------------------------------------------------------------------

def generate(app: composition.App, tickets: int, rng: random.Random) -> None:
    """Residents, tickets, and the events and photos of the open ones, in bulk."""
    box, (keys, weights) = town(app), categories(app)
    statuses, status_weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    now = datetime(2026, 11, 1, tzinfo=UTC)
    write(app, ResidentRow.__table__, ({"id": i, "telegram_id": 800_000_000 + i, "name": None, "language": "el",
                                        "created_at": now - timedelta(days=2000)} for i in range(1, RESIDENTS + 1)))
    open_ids: list[int] = []

    def rows():
        for i in range(1, tickets + 1):
            lat, lon = a_place(rng, box)
            category = rng.choices(keys, weights)[0]
            status = rng.choices(statuses, status_weights)[0]
            created = now - timedelta(minutes=rng.randrange(5 * 365 * 24 * 60))
            if status in OPEN:
                open_ids.append(i)
            yield {"id": i, "ref": f"KOZ-{created.year}-{i:07d}", "municipality": PROFILE, "category": category,
                   "description": "Λακκούβα στο πεζοδρόμιο μπροστά στο σχολείο", "lat": lat, "lon": lon,
                   "address": None, "status": status, "priority": 0,
                   "reporter_id": rng.randrange(1, RESIDENTS + 1), "department": app.profile.category(category)
                   .department, "outside_body": None, "language": "el", "created_at": created,
                   "updated_at": created, "ack_due": None, "resolve_due": None, "reject_reason": None,
                   "duplicate_of": None, "reopen_count": 0, "version": 1, "fixed_at": None, "asked_at": None,
                   "ack_reminded_at": None, "resolve_reminded_at": None, "scheduled_for": None, "breach_level": 0}
    write(app, TicketRow.__table__, rows())
    write(app, TicketEventRow.__table__, (
        {"ticket_id": t, "kind": kind, "at": now, "actor_role": role, "actor_id": None, "from_status": None,
         "to_status": to, "note": None, "public": True, "data": {}}
        for t in open_ids for kind, role, to in (("created", "resident", "new"), ("status", "staff", "in_progress"))))
    write(app, TicketPhotoRow.__table__, (
        {"ticket_id": t, "position": 0, "file_id": f"AgACAgQAAxkBAAI{t:010d}", "file_unique_id": f"AQAD{t}"}
        for t in open_ids if t % 3 == 0))
    with app.engine.begin() as db:
        if app.engine.dialect.name == "postgresql":
            for table in ("tickets", "ticket_events", "ticket_photos", "residents"):
                db.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                f"(SELECT max(id) FROM {table}))"))
            db.execute(text("ANALYZE"))


def write(app: composition.App, table: Table, rows) -> None:
    """Bulk insert: COPY on PostgreSQL, executemany on SQLite, in chunks."""
    chunk: list[dict] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            _flush(app, table, chunk)
            chunk = []
    if chunk:
        _flush(app, table, chunk)


def _flush(app: composition.App, table: Table, chunk: list[dict]) -> None:
    if app.engine.dialect.name != "postgresql":
        with app.engine.begin() as db:
            db.execute(table.insert(), chunk)
        return
    import json
    columns = list(chunk[0])
    raw = app.engine.raw_connection()
    try:
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in chunk:
                copy.write_row([json.dumps(v) if isinstance(v, dict) else v for v in row.values()])
        raw.commit()
    finally:
        raw.close()


# --- the databases, cached -------------------------------------------------------------------------------

def open_database(backend: str, tickets: int, quick: bool, fresh: bool, stack: ExitStack) -> tuple[str, bool]:
    """The URL of a database with `tickets` tickets at the head revision, and whether it must be filled."""
    revision = migrate.head_revision()
    if quick:                     # a throwaway database: nothing cached, nothing left behind
        if backend == "postgresql":
            return stack.enter_context(scratch_postgres(f"bench_nearby_quick_{os.getpid()}")), True
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench_nearby_"))
        return f"sqlite:///{folder}/nearby.db", True
    name = f"bench_nearby_{revision}_{tickets}"
    marker = CACHE / f"{name}.{backend}.done"
    if backend == "postgresql":
        url = postgres_url(name)
        if fresh or not marker.exists() or not _has_tickets(url, tickets):
            scratch_postgres(name, keep=True).__enter__()
            marker.unlink(missing_ok=True)
            return url, True
        return url, False
    path = CACHE / f"{name}.db"
    if fresh or not marker.exists() or not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        for old in CACHE.glob(f"{name}.db*"):
            old.unlink()
        marker.unlink(missing_ok=True)
        return f"sqlite:///{path}", True
    return f"sqlite:///{path}", False


def _has_tickets(url: str, tickets: int) -> bool:
    from sqlalchemy.exc import OperationalError
    from bot.db.engine import make_engine
    engine = make_engine(url)
    try:
        with engine.connect() as db:
            return db.scalar(select(func.count()).select_from(TicketRow.__table__)) == tickets
    except OperationalError:
        return False
    finally:
        engine.dispose()


def build_app(url: str) -> composition.App:
    settings = Settings(profile=PROFILE, data_dir=ROOT / "data", database_url=url, telegram_token="1:bench",
                        rasa="off", geocoder="offline")
    return composition.build(settings, upgrade=False)


# --- measuring ----------------------------------------------------------------------------------------------

def measure(app: composition.App, queries: int, rng: random.Random) -> tuple[list[float], list[float], int]:
    """Time open_tickets_nearby for random reports (places and categories as the tickets'), in two passes of
    `queries` searches each at different places: the first with the database file as the machine left it (on a
    machine that did something else since, much of a 1 GB SQLite file is no longer in the page cache), the second
    once the first has read the town's open tickets in, as on a helpline that is running. ms each, and the number
    of open tickets the second pass found in all."""
    box, (keys, weights) = town(app), categories(app)
    asks = [(rng.choices(keys, weights)[0], Location(*a_place(rng, box))) for _ in range(2 * queries + 50)]
    for category, place in asks[:50]:                   # the connection pool and the ORM's caches
        app.helpline.open_tickets_nearby(category, place)
    passes: list[list[float]] = [[], []]
    found = 0
    for n, (category, place) in enumerate(asks[50:]):
        start = time.perf_counter()
        found_here = len(app.helpline.open_tickets_nearby(category, place))
        passes[n // queries].append((time.perf_counter() - start) * 1000)
        found += found_here if n >= queries else 0
    return passes[0], passes[1], found


def run_backend(backend: str, tickets: int, queries: int, quick: bool, fresh: bool) -> dict:
    with ExitStack() as stack:
        url, empty = open_database(backend, tickets, quick, fresh, stack)
        generated_s = 0.0
        if empty:
            start = time.monotonic()
            migrate.upgrade(url)
            app = build_app(url)
            generate(app, tickets, random.Random(1))
            app.close()
            generated_s = time.monotonic() - start
            if not quick:
                (CACHE / f"bench_nearby_{migrate.head_revision()}_{tickets}.{backend}.done").write_text(url + "\n")
        app = build_app(url)
        try:
            first, timings, found = measure(app, queries, random.Random(2))
        finally:
            app.close()
    return {"backend": backend, "tickets": tickets, "queries": queries,
            "first_pass_p95_ms": round(percentile(first, 0.95), 2),
            "p50_ms": round(statistics.median(timings), 2), "p95_ms": round(percentile(timings, 0.95), 2),
            "p99_ms": round(percentile(timings, 0.99), 2), "max_ms": round(max(timings), 2),
            "found_per_query": round(found / queries, 2), "generated_s": round(generated_s, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 tickets, 200 searches, nothing cached")
    parser.add_argument("--tickets", type=int, default=None)
    parser.add_argument("--queries", type=int, default=None)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), action="append")
    parser.add_argument("--fresh", action="store_true", help="generate the cached databases again")
    args = parser.parse_args()
    tickets = args.tickets or (20_000 if args.quick else 1_000_000)
    queries = args.queries or (200 if args.quick else 3000)
    rows = [run_backend(backend, tickets, queries, args.quick, args.fresh)
            for backend in args.backend or ("sqlite", "postgresql")]
    print_table(f"Nearby-duplicate search (Helpline.open_tickets_nearby), {tickets:,} tickets, {queries} searches "
                "(first pass: the database file as found; the other columns: the second pass)", rows)
    bar = {f"p95 under {BAR_MS:g} ms on {row['backend']} (second pass)": {"met": row["p95_ms"] < BAR_MS,
                                                                          "p95_ms": row["p95_ms"]}
           for row in rows}
    record("nearby", {"tickets": tickets, "queries": queries, "quick": args.quick, "profile": PROFILE},
           {row["backend"]: {k: v for k, v in row.items() if k != "backend"} for row in rows}, bar)
    return 0


if __name__ == "__main__":
    sys.exit(main())
