"""`helpline nlu ...`: ask the running Rasa server about one message, or evaluate it on held-out files."""
from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass

import click

from nlu.client import DEFAULT_URL, RasaNLU
from nlu.evaluate import format_report, load_examples, report, report_json, run, top_categories
from nlu.intents import category_of


@dataclass(frozen=True)
class RasaAddress:
    url: str
    token: str | None
    timeout: float

    def client(self) -> RasaNLU:
        return RasaNLU(self.url, self.token, timeout=self.timeout, failure_threshold=1_000_000)


@click.group()
@click.option("--url", envvar="HELPLINE_RASA_URL", default=DEFAULT_URL, show_default=True,
              help="The Rasa server (env HELPLINE_RASA_URL).")
@click.option("--token", envvar="HELPLINE_RASA_TOKEN", default=None, help="Its auth token (env HELPLINE_RASA_TOKEN).")
@click.option("--timeout", type=float, default=5.0, show_default=True, help="Seconds to wait for each answer.")
@click.pass_context
def nlu(ctx: click.Context, url: str, token: str | None, timeout: float) -> None:
    """Understand residents' messages with the Rasa NLU server."""
    ctx.obj = RasaAddress(url, token, timeout)


@nlu.command()
@click.argument("text")
@click.pass_obj
def classify(address: RasaAddress, text: str) -> None:
    """Print what the NLU makes of TEXT, as JSON."""
    understanding = asyncio.run(_understand(address, text))
    print(json.dumps({
        "available": understanding.available,
        "language": understanding.language,
        "intent": understanding.intent,
        "category": category_of(understanding.intent),
        "confidence": round(understanding.confidence, 4),
        "top_categories": top_categories(understanding, 3),
        "entities": [{"entity": e.name, "value": e.value, "start": e.start, "end": e.end}
                     for e in understanding.entities],
    }, ensure_ascii=False, indent=2))
    if not understanding.available:
        sys.exit(f"Rasa did not answer at {address.url}")


async def _understand(address: RasaAddress, text: str):
    async with address.client() as client:
        return await client.understand(text)


@nlu.command("eval")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--min-top1", type=float, default=None, help="Fail when any language's top-1 is below this.")
@click.option("--min-top3", type=float, default=None, help="Fail when any language's top-3 is below this.")
@click.option("--misses", type=int, default=0, help="Also list this many misclassified messages.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def evaluate(address: RasaAddress, files: tuple[str, ...], min_top1: float | None, min_top3: float | None,
             misses: int, as_json: bool) -> None:
    """Category accuracy, language id, confusions and parse times over held-out FILES (JSON lines)."""
    examples = load_examples(files)
    result = asyncio.run(_evaluate(address, examples))
    if result is None:
        sys.exit(f"Rasa is not ready at {address.url} (is it running, is the token right?)")
    print(json.dumps(report_json(result), indent=2) if as_json else format_report(result, misses))
    problems = result.below(min_top1, min_top3)
    if problems:
        sys.exit("Below the bar: " + "; ".join(problems))


async def _evaluate(address: RasaAddress, examples):
    async with address.client() as client:
        if not await client.ready():
            return None
        return report(await run(client, examples))
