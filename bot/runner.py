"""`helpline run`: start what is configured and say plainly what is running and what is not."""
from __future__ import annotations

import logging
import secrets

import click
from sqlalchemy import make_url

from bot import app as composition
from bot.settings import Settings
from core.services import OMBUDSMAN_CHAT, OPERATORS_CHAT, department_chat
from nlu.server import NO_PYTHON_310, RasaServer, is_local

HOW_TO_GET_A_TOKEN = """\
Telegram: not configured yet (no TELEGRAM_BOT_TOKEN).
  To get a token: open Telegram, talk to @BotFather, send /newbot and follow its questions;
  then start the helpline with  TELEGRAM_BOT_TOKEN=123456:ABC... make run
  Meanwhile, try the resident conversation in this terminal:  make chat  (or: .venv/bin/helpline chat)"""


def status_lines(app: composition.App) -> list[str]:
    s, p = app.settings, app.profile
    url = make_url(s.database_url).render_as_string(hide_password=True)
    return [
        f"Municipality: {p.names['en']} (profile {p.slug}; languages {', '.join(p.languages)}; "
        f"{len(p.departments)} departments, {len(p.categories)} categories)",
        f"Database: {url} (schema up to date)",
        f"Geocoder: {s.geocoder}" + (" (the profile's street list, no network)" if s.geocoder == "offline"
                                     else f" ({s.nominatim_scheme}://{s.nominatim_domain})"),
        chats_line(app),
        outbox_line(app),
    ]


def chats_line(app: composition.App) -> str:
    """Which group chats are bound: without them, departments, the Advocate and operators hear nothing."""
    h, p = app.helpline, app.profile
    bound = [key for key in p.departments if h.chat_of(department_chat(key))]
    line = f"Group chats: {len(bound)} of {len(p.departments)} departments bound"
    for key, name in ((OMBUDSMAN_CHAT, "the Advocate's chat"), (OPERATORS_CHAT, "the operators' chat")):
        line += f"; {name} {'bound' if h.chat_of(key) else 'not bound'}"
    return line + ("" if len(bound) == len(p.departments) else " (bind them with: helpline chats set ...)")


def outbox_line(app: composition.App) -> str:
    with app.helpline.uow() as uow:
        counts = uow.outbox.counts()
    line = f"Notifications: {counts.get('pending', 0)} waiting, {counts.get('failed', 0)} failed"
    return line + (" (see: helpline outbox failed)" if counts.get("failed") else "")


def start_rasa(settings: Settings) -> RasaServer | None:
    """Start the local Rasa server in the background, unless NLU is off or runs elsewhere."""
    if settings.rasa == "off":
        click.echo("NLU: off (rasa: off in config.yml); residents pick categories with buttons")
        return None
    if not is_local(settings.rasa_url):
        click.echo(f"NLU: using the Rasa server at {settings.rasa_url}")
        return None
    if not settings.rasa_token:
        settings.rasa_token = secrets.token_urlsafe(24)

    def stopped(code: int, last_line: list[str]) -> None:
        if code == NO_PYTHON_310:
            click.echo("NLU: off - Python 3.10 was not found (Rasa 3.6 needs it); residents pick categories "
                       "with buttons")
        elif code not in (0, -15):
            click.echo(f"NLU: Rasa stopped ({' '.join(last_line) or f'exit {code}'}); buttons only from now")

    server = RasaServer(settings.rasa_url, settings.rasa_token, stopped)
    server.start()
    click.echo(f"NLU: starting Rasa at {settings.rasa_url} in the background (the first time it installs and "
               "trains, a few minutes); until it answers, residents pick categories with buttons")
    return server


def run_helpline(settings: Settings) -> int:
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    app = composition.build(settings)
    rasa = None
    try:
        for line in status_lines(app):
            click.echo(line)
        if not settings.telegram_token:
            click.echo(HOW_TO_GET_A_TOKEN)
            return 0
        rasa = start_rasa(settings)
        serve_telegram(app)
        return 0
    finally:
        if rasa:
            rasa.stop()
        app.close()


def webhook_options(s: Settings) -> dict:
    """Where the bot listens and what Telegram is told; the secret keeps strangers from posting updates."""
    return {"listen": s.webhook_listen, "port": s.webhook_port, "url_path": "telegram",
            "webhook_url": s.webhook_url, "secret_token": s.webhook_secret}


def serve_telegram(app: composition.App) -> None:
    from telegram import Update

    s = app.settings
    application = app.telegram()
    if s.telegram_mode == "webhook":
        if not (s.webhook_url and s.webhook_secret):
            raise click.ClickException("webhook mode needs webhook_url and webhook_secret in config.yml")
        click.echo(f"Telegram: webhook at {s.webhook_url}, listening on {s.webhook_listen}:{s.webhook_port}")
        application.run_webhook(**webhook_options(s), allowed_updates=Update.ALL_TYPES)
    else:
        click.echo("Telegram: polling for updates; stop with Ctrl-C")
        application.run_polling(allowed_updates=Update.ALL_TYPES)
