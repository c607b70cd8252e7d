"""What every benchmark shares: the machine it ran on, percentiles, the printed table and the line appended to
bench/results.jsonl (fields: bench, when, machine, commit, parameters, figures, bar)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(os.environ.get("HELPLINE_BENCH_RESULTS", ROOT / "bench" / "results.jsonl"))   # tests point it elsewhere
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "citizen-helpline" / "bench"
POSTGRES_ADMIN_URL = os.environ.get("HELPLINE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

if str(ROOT) not in sys.path:       # `python bench/x.py` puts bench/, not the repository, on the path
    sys.path.insert(0, str(ROOT))


def machine() -> dict:
    """CPU count, CPU model and RAM of this machine, from /proc."""
    model = next((line.split(":", 1)[1].strip() for line in _lines("/proc/cpuinfo")
                  if line.startswith("model name")), "unknown")
    ram_kb = next((int(line.split()[1]) for line in _lines("/proc/meminfo") if line.startswith("MemTotal:")), 0)
    return {"cpus": os.cpu_count(), "cpu_model": model, "ram_gb": round(ram_kb / 1024 ** 2, 1)}


def git_commit() -> str:
    """The checked-out commit, "-dirty" when the working tree has changes."""
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=7"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share 0.95 for p95)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def print_table(title: str, rows: list[dict]) -> None:
    """A plain aligned table: one column per key of the first row."""
    columns = list(rows[0])
    cells = [[_cell(row[c]) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print(title)
    print("  ".join(c.rjust(w) for c, w in zip(columns, widths)))
    for row in cells:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths)))


def record(bench: str, parameters: dict, figures: dict, bar: dict) -> dict:
    """Append one result line to bench/results.jsonl (and print it) and return it."""
    line = {"bench": bench, "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": machine(), "commit": git_commit(), "parameters": parameters, "figures": figures,
            "bar": bar}
    with RESULTS.open("a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")
    print("result:", json.dumps(line))
    return line


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    return str(value)


def _lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


class scratch_postgres:
    """`with scratch_postgres("bench_x") as url:` a new, empty PostgreSQL database of that name (replacing any
    left by an interrupted run), dropped at the end unless keep=True."""

    def __init__(self, name: str, *, keep: bool = False) -> None:
        if not name.startswith("bench_"):
            raise ValueError("scratch databases are named bench_<something>")
        self.name, self.keep = name, keep

    def __enter__(self) -> str:
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)', f'CREATE DATABASE "{self.name}"')
        return postgres_url(self.name)

    def __exit__(self, *exc: object) -> None:
        if not self.keep:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    @staticmethod
    def _admin(*statements: str) -> None:
        from sqlalchemy import create_engine, text
        engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                for statement in statements:
                    connection.execute(text(statement))
        finally:
            engine.dispose()


def postgres_url(database: str) -> str:
    from sqlalchemy import make_url
    return make_url(POSTGRES_ADMIN_URL).set(database=database).render_as_string(hide_password=False)
