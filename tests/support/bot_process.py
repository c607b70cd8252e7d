"""`helpline run` as a child process against the fake Bot API in the test process: started, killed, stopped.

    bot = BotProcess(bot_environment(tg, database_url), tmp_path / "bot.log")
    bot.start()
    await bot.wait_until_polling(tg)
    bot.kill()                     # SIGKILL, as the kernel or an operator's kill -9 would
    code = await bot.terminate()   # SIGTERM, as systemd does; the exit code (None if still running)
"""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.fake_telegram import FakeTelegram
from tests.support.stack import PROFILES, ROOT

HELPLINE = Path(sys.executable).with_name("helpline")


def bot_environment(tg: FakeTelegram, database_url: str, profile: str = "kozani", **settings: object) -> dict:
    """The environment `helpline run` reads its settings from (HELPLINE_* variables override config.yml)."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("HELPLINE_") and key not in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL")}
    env.update(HELPLINE_CONFIG=str(ROOT / "config.yml"), HELPLINE_DATA_DIR=str(PROFILES.parent),
               HELPLINE_PROFILE=profile, HELPLINE_DATABASE_URL=database_url, TELEGRAM_BOT_TOKEN=tg.token,
               TELEGRAM_API_BASE_URL=tg.base_url, HELPLINE_RASA="off", HELPLINE_GEOCODER="offline",
               HELPLINE_DELIVERY_INTERVAL_S="0.3", HELPLINE_LOG_LEVEL="INFO", PYTHONUNBUFFERED="1")
    if "telegram_api_base_url" in settings:
        env["TELEGRAM_API_BASE_URL"] = str(settings.pop("telegram_api_base_url"))
    env.update({f"HELPLINE_{name.upper()}": str(value) for name, value in settings.items()})
    return env


class BotProcess:
    def __init__(self, env: dict, log: Path) -> None:
        self.env, self.log = env, log
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        with self.log.open("a") as out:
            out.write(f"\n===== start {self.starts + 1} =====\n")
            out.flush()
            self.process = subprocess.Popen([str(HELPLINE), "run"], env=self.env, cwd=ROOT, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        self.starts += 1

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    async def wait_until_polling(self, tg: FakeTelegram, timeout: float = 60.0) -> None:
        """Until this process has asked the fake for updates (it is serving)."""
        before = len(tg.calls_to("getUpdates"))
        deadline = time.monotonic() + timeout
        while len(tg.calls_to("getUpdates")) <= before:
            if not self.running:
                raise AssertionError(f"helpline run stopped (exit {self.process.returncode}):\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"helpline run was not polling within {timeout:.0f} s:\n{self.tail()}")
            await asyncio.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, the process is simply gone."""
        if self.running:
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait()

    async def terminate(self, within: float = 10.0) -> int | None:
        """SIGTERM, then wait up to `within` seconds; the exit code, or None if it is still running
        (it is then killed, so that no test leaves a process behind)."""
        if not self.running:
            return self.process.returncode if self.process else None
        os.killpg(self.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + within
        while self.running and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self.running:
            self.kill()
            return None
        return self.process.returncode

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])
