"""A real Rasa server for the tests marked `rasa`: built, trained and started once per session.

Without Python 3.10 or a buildable Rasa environment these tests are skipped with one line saying why,
unless HELPLINE_REQUIRE_RASA=1 (CI), where that is a failure.
"""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from nlu.client import RasaNLU

REPO = Path(__file__).resolve().parents[2]
RASA_SH = REPO / "scripts" / "rasa.sh"
READY_WITHIN = 120.0


@dataclass(frozen=True)
class RasaServer:
    url: str
    token: str


def _unavailable(reason: str) -> None:
    if os.environ.get("HELPLINE_REQUIRE_RASA") == "1":
        pytest.fail(f"Rasa is required here (HELPLINE_REQUIRE_RASA=1): {reason}")
    pytest.skip(reason)


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare() -> None:
    built = subprocess.run([RASA_SH, "env"], capture_output=True, text=True, timeout=1800)
    if built.returncode:
        _unavailable(f"no Rasa environment: {_last_line(built.stderr)}")
    trained = subprocess.run([RASA_SH, "train"], capture_output=True, text=True, timeout=900)
    if trained.returncode:
        pytest.fail(f"training the Rasa model failed:\n{trained.stderr[-3000:]}")


def _wait_until_ready(process: subprocess.Popen, server: RasaServer, log: Path) -> None:
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the Rasa server stopped (exit {process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            answer = httpx.get(f"{server.url}/status", params={"token": server.token}, timeout=2)
            if answer.status_code == 200 and answer.json().get("model_file"):
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    pytest.fail(f"the Rasa server was not ready within {READY_WITHIN:.0f} s:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="session")
def rasa_server(tmp_path_factory) -> RasaServer:
    _prepare()
    port, token = _free_port(), secrets.token_urlsafe(16)
    server = RasaServer(f"http://127.0.0.1:{port}", token)
    log = tmp_path_factory.mktemp("rasa") / "server.log"
    env = {**os.environ, "HELPLINE_RASA_PORT": str(port), "HELPLINE_RASA_TOKEN": token}
    with log.open("w") as out:
        process = subprocess.Popen([RASA_SH, "serve"], env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        _wait_until_ready(process, server, log)
        yield server
    finally:
        _stop(process)


@pytest.fixture
async def rasa_nlu(rasa_server):
    async with RasaNLU(rasa_server.url, rasa_server.token, timeout=10.0) as client:
        yield client
