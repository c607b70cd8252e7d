"""Figures out: a plain table with named headers on stdout; the results line is bench/benchlib.py's record()."""
from __future__ import annotations

from bench.benchlib import percentile as _nearest_rank


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    return _nearest_rank(values, share) if values else float("nan")


def table(title: str, columns: list[tuple[str, str]], rows: list[dict]) -> str:
    """`columns` are (key, header); numbers print with one decimal, text as is."""
    def cell(value) -> str:
        if isinstance(value, float):
            return "n/a" if value != value else f"{value:.1f}"
        return "-" if value is None else str(value)
    cells = [[cell(row.get(key)) for key, _ in columns] for row in rows]
    widths = [max([len(header)] + [len(r[i]) for r in cells]) for i, (_, header) in enumerate(columns)]
    lines = [title, "  ".join(h.rjust(w) for (_, h), w in zip(columns, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in cells]
    return "\n".join(lines)
