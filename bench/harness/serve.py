"""The bot under test, as its own process: the helpline exactly as `helpline run` serves a webhook, or a bare
python-telegram-bot echo bot on the same webhook settings (the yardstick).

    python bench/harness/serve.py helpline|echo --api-base URL --token T --port N --secret S [--database-url U]
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

PUBLIC_URL = "https://helpline.example.org/telegram"     # what Telegram is told; the bot listens locally


def settings(args: argparse.Namespace):
    from bot.settings import Settings
    return Settings(profile=args.profile, data_dir=ROOT / "data", database_url=args.database_url,
                    telegram_token=args.token, telegram_api_base_url=args.api_base, telegram_mode="webhook",
                    webhook_url=PUBLIC_URL, webhook_listen="127.0.0.1", webhook_port=args.port,
                    webhook_secret=args.secret, rasa="on" if args.rasa_url else "off",
                    rasa_url=args.rasa_url or "http://127.0.0.1:5005", rasa_token=args.rasa_token,
                    geocoder="offline", log_level=args.log_level)


def lift_overall_limit() -> None:
    """What-if: the bot's rate limiter (bot/delivery.py) without its overall limit of 29 messages/s (the
    per-group limit stays), to measure what the bot itself can do when replies are not queued behind it."""
    from telegram.ext import AIORateLimiter

    import bot.delivery
    bot.delivery.rate_limiter = lambda: AIORateLimiter(overall_max_rate=0)


def serve_helpline(args: argparse.Namespace) -> None:
    """As bot/runner.py's run_helpline and serve_telegram do, without the Rasa start (the bench starts it)."""
    from bot import app as composition
    from bot.runner import serve_telegram
    if args.no_overall_limit:
        lift_overall_limit()
    s = settings(args)
    logging.basicConfig(level=s.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    app = composition.build(s)
    try:
        serve_telegram(app)
    finally:
        app.close()


def serve_echo(args: argparse.Namespace) -> None:
    """A bare python-telegram-bot bot: answers each text with the same text."""
    from telegram import Update
    from telegram.ext import ApplicationBuilder, MessageHandler, filters

    from bot.runner import webhook_options
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)

    async def echo(update: Update, context) -> None:
        await update.effective_message.reply_text(update.effective_message.text)
    application = (ApplicationBuilder().token(args.token).base_url(args.api_base)
                   .base_file_url(args.api_base.replace("/bot", "/file/bot")).build())
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_webhook(**webhook_options(settings(args)), allowed_updates=Update.ALL_TYPES)


def snapshots_on_signal(folder: str) -> None:
    """The first SIGUSR1 starts tracing allocations (so start-up runs at full speed); each SIGUSR1 writes a
    tracemalloc snapshot to folder/snapshot-<n>.pickle. Growth between two snapshots is what a leak looks like."""
    import itertools
    import signal
    import tracemalloc
    numbers = itertools.count(1)

    def snapshot(*_) -> None:
        if not tracemalloc.is_tracing():
            tracemalloc.start(10)
        tracemalloc.take_snapshot().dump(str(Path(folder) / f"snapshot-{next(numbers)}.pickle"))
    signal.signal(signal.SIGUSR1, snapshot)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=("helpline", "echo"))
    parser.add_argument("--api-base", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--database-url", default="sqlite:///:memory:")
    parser.add_argument("--profile", default="kozani")
    parser.add_argument("--rasa-url", default="")
    parser.add_argument("--rasa-token", default="")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--no-overall-limit", action="store_true")
    parser.add_argument("--tracemalloc", default="", help="folder for tracemalloc snapshots taken on SIGUSR1")
    parser.add_argument("--cprofile", default="", help="write cProfile statistics of the whole run to this file")
    args = parser.parse_args()
    if args.tracemalloc:
        snapshots_on_signal(args.tracemalloc)
    serve = serve_helpline if args.kind == "helpline" else serve_echo
    if not args.cprofile:
        return serve(args)
    import cProfile
    import os
    import time
    # CPU time (waiting on a socket costs nothing); HELPLINE_PROFILE_WALL=1 for wall-clock time (what blocks the loop)
    clock = time.perf_counter if os.environ.get("HELPLINE_PROFILE_WALL") else time.process_time
    with cProfile.Profile(clock) as profile:
        serve(args)
    profile.dump_stats(args.cprofile)


if __name__ == "__main__":
    main()
