"""The latest figures of every benchmark, as Markdown, from bench/results.jsonl (quick smoke runs left out).

    .venv/bin/python bench/report.py                              # print every benchmark's latest figures
    .venv/bin/python bench/report.py --write docs/performance.md  # refresh the blocks between
                                                                  # <!-- figures:NAME --> and <!-- /figures -->
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.benchlib import RESULTS  # noqa: E402

BLOCK = re.compile(r"(<!-- figures:(?P<name>[\w-]+) -->\n).*?(<!-- /figures -->)", re.S)


def latest(path: Path = RESULTS) -> dict[str, dict]:
    """The newest full (not --quick) result of each benchmark, by name."""
    found: dict[str, dict] = {}
    for text in path.read_text(encoding="utf-8").splitlines() if path.exists() else ():
        line = _normalised(json.loads(text)) if text.strip() else None
        if line and not line["parameters"].get("quick"):
            found[line["bench"]] = line
    return found


def _normalised(line: dict) -> dict:
    """Lines written before the common format (bench/nlu_latency.py: benchmark, at, flat figures)."""
    if "bench" in line:
        return line
    known = {"benchmark", "at", "machine"}
    return {"bench": line["benchmark"], "when": line["at"], "machine": {"cpu_model": line.get("machine")},
            "commit": "-", "parameters": {}, "figures": {k: v for k, v in line.items() if k not in known},
            "bar": {}}


def markdown(line: dict) -> str:
    where = _machine(line["machine"])
    parts = [f"Taken {line['when']} on {where or 'an unrecorded machine'}, commit {line.get('commit', '-')}"
             + (f"; parameters: {_inline(line['parameters'])}" if line["parameters"] else "") + ".", "",
             _table(line["figures"])]
    if line["bar"]:
        parts += ["", "| bar | met |", "|---|---|"]
        parts += [f"| {name} | {'yes' if bar.get('met') else '**no**'} |" for name, bar in line["bar"].items()]
    return "\n".join(parts)


def _machine(machine: dict) -> str:
    if "cpus" not in machine:
        return str(machine.get("cpu_model") or "")
    return f"{machine['cpus']} CPUs ({machine.get('cpu_model', '?')}), {machine.get('ram_gb', '?')} GB RAM"


def _table(figures: dict) -> str:
    """One row, or one row per group when every figure is itself a dict (e.g. per backend)."""
    if figures and all(isinstance(v, dict) for v in figures.values()):
        rows = [{"": name, **values} for name, values in figures.items()]
    else:
        rows = [figures]
    columns = list(dict.fromkeys(c for row in rows for c in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _inline(parameters: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in parameters.items())


def write(document: Path, results: dict[str, dict]) -> list[str]:
    """Replace each figures block of `document` with the latest figures; the names of blocks left as they were."""
    missing: list[str] = []

    def refresh(match: re.Match) -> str:
        line = results.get(match["name"])
        if line is None:
            missing.append(match["name"])
            return match[0]
        return f"{match[1]}{markdown(line)}\n{match[3]}"
    document.write_text(BLOCK.sub(refresh, document.read_text(encoding="utf-8")), encoding="utf-8")
    return missing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, metavar="DOCUMENT")
    args = parser.parse_args()
    results = latest()
    if args.write:
        missing = write(args.write, results)
        print(f"{args.write}: figures refreshed" + (f"; no results yet for {', '.join(missing)}" if missing else ""))
        return 0
    for name, line in results.items():
        print(f"## {name}\n\n{markdown(line)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
