"""Run the local Rasa server beside the bot: build its environment, train if needed, serve; stop on exit.

All of it happens in the background, so the bot serves residents (with category buttons) while Rasa
installs, trains or loads.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
from pathlib import Path
from urllib.parse import urlparse

log = logging.getLogger(__name__)
SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "rasa.sh"
NO_PYTHON_310 = 3


def is_local(url: str) -> bool:
    return urlparse(url).hostname in ("127.0.0.1", "localhost", "::1")


class RasaServer:
    """`scripts/rasa.sh env && train && serve` as one background process group."""

    def __init__(self, url: str, token: str, on_exit=None) -> None:
        self.url, self.token = url, token
        self.process: subprocess.Popen | None = None
        self.on_exit = on_exit or (lambda code, last_line: None)

    def start(self) -> None:
        env = {**os.environ, "HELPLINE_RASA_TOKEN": self.token,
               "HELPLINE_RASA_PORT": str(urlparse(self.url).port or 5005)}
        command = f'"{SCRIPT}" env && "{SCRIPT}" train && exec "{SCRIPT}" serve'
        self.process = subprocess.Popen(["bash", "-c", command], env=env, start_new_session=True,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._watch, name="rasa-watch", daemon=True).start()

    def _watch(self) -> None:
        assert self.process is not None
        _, err = self.process.communicate()
        code = self.process.returncode
        lines = [line for line in (err or "").strip().splitlines() if line.strip()]
        if code not in (0, -signal.SIGTERM):
            log.warning("Rasa stopped (exit %s): %s", code, lines[-1] if lines else "no message")
        self.on_exit(code, lines[-1:] if code else [])

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
