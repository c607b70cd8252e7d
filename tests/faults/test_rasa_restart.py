"""Rasa killed and restarted mid-conversation: while it is down the resident picks the category with buttons;
once it is back, free text is understood again. Rasa here is a stand-in process speaking Rasa's HTTP API
(tests/nlu/fake_rasa.py) that can be SIGKILLed; the real server's answers are covered in tests/nlu/."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import pytest

from bot.i18n import Translator
from nlu.client import RasaNLU
from tests.support.stack import LOCALES, ROOT
from tests.support.tcp_proxy import TcpProxy
from tests.support.telegram_bot import Resident, running_bot, settings_for

pytestmark = pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
TOKEN = "rasa-fault-token"
SERVE = ("import sys, time; from tests.nlu.fake_rasa import FakeRasa; rasa = FakeRasa(sys.argv[1]); "
         "rasa.__enter__(); print(rasa.url.rsplit(':', 1)[1], flush=True); time.sleep(3600)")


def start_rasa() -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen([sys.executable, "-c", SERVE, TOKEN], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                               start_new_session=True)
    return process, int(process.stdout.readline())


def kill(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


async def test_buttons_while_rasa_is_down_and_understanding_after_it_restarts(tg, migrated_url):
    rasa, port = start_rasa()
    proxy = await TcpProxy(port).start()          # Rasa's address stays the same across restarts
    try:
        nlu = RasaNLU(f"http://127.0.0.1:{proxy.port}", TOKEN, timeout=2.0)
        async with running_bot(tg, settings_for(tg, migrated_url), nlu=nlu) as app:
            maria = Resident(tg, 5501, "Maria", "en", Translator(LOCALES, app.profile.calendar.timezone))
            await maria.say("/start")
            await maria.tap("English")
            assert maria.expected("propose_category", "en") in await maria.say("Big pothole on my street")
            await maria.say("/cancel")

            kill(rasa)                                    # Rasa dies mid-conversation
            down = await maria.say("Big pothole on my street")
            assert maria.expected("pick_category_plain", "en") in down
            assert maria.label("category_pothole", "en") in [t for t, _ in tg.buttons(tg.last_to(5501))]
            await maria.say("/cancel")

            rasa, port = start_rasa()                     # restarted (on another port, behind the same address)
            proxy.target = ("127.0.0.1", port)
            back = await maria.say("Big pothole on my street")
            assert maria.expected("propose_category", "en") in back
            assert [t for t, _ in tg.buttons(tg.last_to(5501))][0] == maria.label("category_pothole", "en")
            await maria.tap(maria.label("category_pothole", "en"))
            assert maria.expected("ask_location", "en") in tg.last_to(5501).text
        await nlu.aclose()
    finally:
        if rasa.poll() is None:
            kill(rasa)
        await proxy.stop()
