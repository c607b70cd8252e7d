"""A load generator of simulated residents: each posts Update JSON to the bot's webhook with Telegram's
secret-token header and reads the bot's replies where Telegram would get them, at the fake Bot API server.

The fake server (tests/support/fake_telegram) runs in this process; the bot runs in its own (BotProcess), so
its CPU time and memory are its own. `busy()` tells how much of one core this process used, to show whether
the load generator itself was the bottleneck.
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tests.support.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SEND_METHODS = {"sendmessage", "sendphoto", "sendlocation"}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def webhook_client(connections: int) -> aiohttp.ClientSession:
    """What posts the updates, as Telegram does: at most `connections` at once, kept alive. aiohttp's client, as the
    bot's own Bot API calls use: httpx's pool looks at every pooled connection on each request, which made the load
    generator, not the bot, the busier process at about a hundred updates a second."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections),
                                 timeout=aiohttp.ClientTimeout(total=30))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BotProcess:
    """bench/harness/serve.py in its own process group; its CPU seconds and resident memory from /proc."""

    def __init__(self, kind: str, tg: FakeTelegram, *, database_url: str = "sqlite:///:memory:",
                 rasa_url: str = "", rasa_token: str = "", log: Path | None = None, cprofile: str = "",
                 overall_limit: bool = True, tracemalloc: str = "") -> None:
        self.port, self.secret = free_port(), secrets.token_urlsafe(24)
        self.url = f"http://127.0.0.1:{self.port}/telegram"
        options = {"api-base": tg.base_url, "token": tg.token, "port": self.port, "secret": self.secret,
                   "database-url": database_url, "rasa-url": rasa_url, "rasa-token": rasa_token, "cprofile": cprofile,
                   "tracemalloc": tracemalloc}
        command = [sys.executable, str(ROOT / "bench" / "harness" / "serve.py"), kind,
                   *(f"--{name}={value}" for name, value in options.items())] + \
            ([] if overall_limit else ["--no-overall-limit"])
        self.log = log or Path(os.devnull)
        self._log_file = self.log.open("ab")
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=self._log_file, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    async def ready(self, timeout: float = 60.0) -> None:
        """Wait until the webhook accepts connections (the bot has migrated, built and called setWebhook)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the bot exited with {self.process.returncode}; see {self.log}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            except OSError:
                await asyncio.sleep(0.1)
        raise RuntimeError(f"the bot did not listen within {timeout}s; see {self.log}")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS      # utime + stime

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    async def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (python-telegram-bot shuts down cleanly), SIGKILL if it hangs. Waits without blocking the event
        loop: the fake Bot API server on this loop must go on answering the calls the bot finishes on its way out."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while self.process.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log_file.close()


@dataclass
class Reply:
    """A message the bot sent, as the load generator sees it."""
    at: float
    message_id: int
    text: str
    actions: list[str]            # callback data of its inline buttons, without the "<version>:" prefix
    datas: list[str]
    keyboard: dict


class Replies:
    """Watches the fake server's answers: each chat may wait for the next message that satisfies a test."""

    def __init__(self, tg: FakeTelegram) -> None:
        self.waiting: dict[int, tuple[Callable[[Reply], bool], asyncio.Future]] = {}
        self.unexpected = 0
        call = tg.api.call

        async def watched(token: str, method: str, params: dict):
            status, body = await call(token, method, params)
            if method.lower() in SEND_METHODS and status == 200:
                self._arrived(params, body["result"])
            return status, body
        tg.api.call = watched

    def _arrived(self, params: dict, result: dict) -> None:
        at = time.perf_counter()
        chat_id = int(result["chat"]["id"])
        markup = params.get("reply_markup") or {}
        markup = json.loads(markup) if isinstance(markup, str) else markup
        datas = [b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row]
        reply = Reply(at, result["message_id"], result.get("text") or result.get("caption") or "",
                      [d.split(":", 1)[1] if ":" in d else d for d in datas], datas, markup)
        wanted = self.waiting.get(chat_id)
        if wanted and not wanted[1].done() and wanted[0](reply):
            wanted[1].set_result(reply)

    def expect(self, chat_id: int, test: Callable[[Reply], bool]) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.waiting[chat_id] = (test, future)
        return future

    def forget(self, chat_id: int) -> None:
        self.waiting.pop(chat_id, None)


def offers(prefix: str) -> Callable[[Reply], bool]:
    return lambda reply: any(a.startswith(prefix) for a in reply.actions)


def asks_location(reply: Reply) -> bool:
    return any(b.get("request_location") for row in reply.keyboard.get("keyboard", []) for b in row)


def filed(reply: Reply) -> bool:
    return bool(reply.keyboard.get("remove_keyboard"))


def echoed(text: str) -> Callable[[Reply], bool]:
    return lambda reply: reply.text == text


DESCRIPTIONS = {
    "el": "Η λάμπα στην πλατεία είναι σβηστή εδώ και μια εβδομάδα",
    "sl": "Na ulici je velika luknja v cesti pred šolo",
    "he": "הפח ליד הבית שלי מלא כבר שבוע ואף אחד לא מפנה",
    "en": "There is a huge pothole near the school and it is dangerous",
}
KOZANI = (40.3007, 21.7887)


class StepFailed(Exception):
    pass


class WalkStopped(Exception):
    """The run is over: the resident does not take the next step."""


@dataclass
class Load:
    """Posts updates and times them; one instance per run."""
    tg: FakeTelegram
    replies: Replies
    bot: BotProcess
    client: aiohttp.ClientSession
    timeout: float = 15.0
    latencies: list[float] = field(default_factory=list)      # ms, of updates posted while recording
    updates: int = 0                                           # answered while recording
    failures: int = 0
    recording: bool = False
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    # open load (run_open): residents pause before each step; what is counted is set by the window
    think_s: float = 0.0          # a resident's mean pause before each step (exponential); 0 for none
    thinking: random.Random = field(default_factory=lambda: random.Random(13))   # pauses apart from the walk's choices
    window: list[float] | None = None   # [start, end] (perf_counter): latency of steps posted in it, throughput of
    failed_steps: int = 0               # replies arriving in it; a failed step posted in it counts at the timeout
    posted: int = 0               # updates posted, in or out of the window
    closing: bool = False         # the window is over: residents stop before their next step

    async def step(self, chat_id: int, update: dict, test: Callable[[Reply], bool]) -> Reply:
        """Post one update and wait for the reply that answers it; its latency is POST -> that reply."""
        if self.think_s:
            await asyncio.sleep(self.thinking.expovariate(1 / self.think_s))
        if self.closing:
            raise WalkStopped
        waiting = self.replies.expect(chat_id, test)
        recording, start = self.recording, time.perf_counter()
        self.posted += 1
        try:
            async with self.client.post(self.bot.url, json=update, headers={SECRET_HEADER: self.bot.secret}) as response:
                await response.read()
            if response.status != 200:
                raise StepFailed(f"webhook answered {response.status}")
            try:
                reply = await asyncio.wait_for(waiting, self.timeout)
            except asyncio.TimeoutError:
                raise StepFailed(f"no answer within {self.timeout}s to {list(update)[-1]}") from None
        except StepFailed:
            if self._in_window(start):
                self.latencies.append(self.timeout * 1000)
                self.failed_steps += 1
            raise
        finally:
            self.replies.forget(chat_id)
        if self.window is not None:
            if self._in_window(start):
                self.latencies.append((reply.at - start) * 1000)
            if self._in_window(reply.at):
                self.updates += 1
        elif recording and self.recording:
            self.latencies.append((reply.at - start) * 1000)
            self.updates += 1
        return reply

    def _in_window(self, at: float) -> bool:
        return self.window is not None and self.window[0] <= at < self.window[1]

    def person(self, chat_id: int, lang: str) -> None:
        self.tg.user(chat_id, f"Resident {chat_id}", language_code=lang)

    async def press(self, chat_id: int, reply: Reply, action: str, test) -> Reply:
        data = next(d for d, a in zip(reply.datas, reply.actions) if a == action)
        message = self.tg.state.chats[chat_id].messages[reply.message_id]
        await self.tg.press(chat_id, message, data)
        return await self.step(chat_id, self.last_update(), test)

    def last_update(self) -> dict:
        """The update the fake just queued for getUpdates: taken off the queue and posted to the webhook."""
        return self.tg.state.updates.pop()

    async def say(self, chat_id: int, text: str, test) -> Reply:
        if text.startswith("/"):
            await self.tg.send_command(chat_id, text)
        else:
            await self.tg.send_text(chat_id, text)
        return await self.step(chat_id, self.last_update(), test)

    async def start(self, chat_id: int, lang: str) -> Reply:
        """A new resident's first message: /start, answered with the greeting and the choice of language."""
        self.person(chat_id, lang)
        return await self.say(chat_id, "/start", offers("lang:"))

    async def greet(self, chat_id: int, lang: str) -> Reply:
        """/start and the language: the short exchange every new resident has."""
        self.person(chat_id, lang)
        languages = await self.say(chat_id, "/start", offers("lang:"))
        return await self.press(chat_id, languages, f"lang:{lang}", offers("menu:"))

    async def report(self, chat_id: int, lang: str) -> None:
        """The whole report: /start, language, description, category, (details), place, (not a duplicate),
        no photo, send."""
        await self.greet(chat_id, lang)
        categories = await self.say(chat_id, DESCRIPTIONS[lang], offers("cat:"))
        category = self.rng.choice([a for a in categories.actions if a.startswith("cat:") and a != "cat:more"])
        after = await self.press(chat_id, categories, category, lambda r: offers("details:")(r) or asks_location(r))
        if offers("details:")(after):
            await self.press(chat_id, after, "details:skip", asks_location)
        lat, lon = (KOZANI[0] + self.rng.uniform(-0.01, 0.01), KOZANI[1] + self.rng.uniform(-0.01, 0.01))
        await self.tg.send_location(chat_id, lat, lon)
        place = await self.step(chat_id, self.last_update(), lambda r: offers("photo:")(r) or offers("dup:")(r))
        if offers("dup:")(place):
            place = await self.press(chat_id, place, "dup:new", offers("photo:"))
        summary = await self.press(chat_id, place, "photo:skip", offers("send:"))
        await self.press(chat_id, summary, "send:yes", filed)

    async def echo(self, chat_id: int, lang: str) -> None:
        """For the bare echo bot: a few texts, each answered with itself."""
        self.person(chat_id, lang)
        for n in range(8):
            text = f"{DESCRIPTIONS[lang]} {n}"
            await self.say(chat_id, text, echoed(text))


def busy(before: os.times_result, after: os.times_result) -> float:
    """Share of one core this process used between two os.times() readings."""
    cpu = (after.user - before.user) + (after.system - before.system)
    return cpu / max(after.elapsed - before.elapsed, 1e-9)


async def run(load: Load, walk: str, *, concurrency: int, warmup_s: float, measure_s: float,
              first_chat: int = 700_000_000) -> dict:
    """`concurrency` residents at a time, each walking `walk` ("report" or "echo") again and again with a new
    chat; records latencies and counts only in the measuring window, after the warm-up."""
    chats = iter(range(first_chat, first_chat + 10_000_000))
    langs = ("el", "sl", "he", "en")
    for lang in langs:                  # one walk each first: lazy loading (language models, catalogs) is not load
        await getattr(load, walk)(next(chats), lang)
    stop_at = time.monotonic() + warmup_s + measure_s
    walker = getattr(load, walk)

    async def resident_after_resident() -> None:
        while time.monotonic() < stop_at:
            chat_id = next(chats)
            try:
                await walker(chat_id, langs[chat_id % 4])
            except StepFailed:
                load.failures += 1
    workers = [asyncio.create_task(resident_after_resident()) for _ in range(concurrency)]
    await asyncio.sleep(warmup_s)
    load.recording = True
    cpu0, own0, started = load.bot.cpu_seconds(), os.times(), time.perf_counter()
    await asyncio.sleep(measure_s)
    load.recording = False
    cpu1, own1, elapsed = load.bot.cpu_seconds(), os.times(), time.perf_counter() - started
    await asyncio.gather(*workers)
    return {"updates": load.updates, "updates_per_s": load.updates / elapsed,
            "bot_cpu_ms_per_update": (cpu1 - cpu0) * 1000 / max(load.updates, 1),
            "bot_cpu_share": (cpu1 - cpu0) / elapsed, "loadgen_cpu_share": busy(own0, own1),
            "failures": load.failures, "window_s": elapsed}


async def run_open(load: Load, walk: str, *, rate: float, think_s: float, warmup_s: float, measure_s: float,
                   first_chat: int = 700_000_000) -> dict:
    """Open load: new residents arrive at random (a Poisson process) so that, with the steps a walk takes, about
    `rate` updates a second are offered whatever the bot's speed; each resident pauses about `think_s` before each
    step. A slow bot meets more residents at once and its latency grows, as with real residents, instead of
    slowing the load down. Latency: of every step posted in the measuring window, answered then or later (a step
    that failed counts at the timeout); updates/s: the replies that arrived within the window."""
    chats = iter(range(first_chat, first_chat + 10_000_000))
    langs = ("el", "sl", "he", "en")
    walker = getattr(load, walk)
    for lang in langs:                  # one walk each first: lazy loading is not load; also counts steps per walk
        await walker(next(chats), lang)
    steps_per_walk = load.posted / len(langs)
    arrivals_per_s = rate / steps_per_walk
    load.think_s = think_s
    walking: set[asyncio.Task] = set()

    async def resident(chat_id: int) -> None:
        try:
            await walker(chat_id, langs[chat_id % 4])
        except StepFailed:
            load.failures += 1
        except WalkStopped:
            pass

    rng, at_once = random.Random(11), []
    began = time.monotonic()
    window_at, stop_at = began + warmup_s, began + warmup_s + measure_s
    next_at, cpu0 = began, None
    while (now := time.monotonic()) < stop_at:
        if cpu0 is None and now >= window_at:
            cpu0, own0, posted0 = load.bot.cpu_seconds(), os.times(), load.posted
            load.window = [time.perf_counter(), float("inf")]
        if now >= next_at:
            task = asyncio.create_task(resident(next(chats)))
            walking.add(task)
            task.add_done_callback(walking.discard)
            if load.window:
                at_once.append(len(walking))
            next_at += rng.expovariate(arrivals_per_s)
        wake = min(next_at, stop_at, window_at if cpu0 is None else stop_at)
        await asyncio.sleep(max(0.0, wake - time.monotonic()))
    load.window[1], load.closing = time.perf_counter(), True
    cpu1, own1, posted1 = load.bot.cpu_seconds(), os.times(), load.posted
    elapsed = load.window[1] - load.window[0]
    await asyncio.gather(*walking)      # steps posted in the window are answered (or time out) before counting
    return {"updates": load.updates, "updates_per_s": load.updates / elapsed, "offered_per_s": rate,
            "posted_per_s": (posted1 - posted0) / elapsed,
            "residents_at_once": sum(at_once) / max(len(at_once), 1), "steps_per_walk": steps_per_walk,
            "bot_cpu_ms_per_update": (cpu1 - cpu0) * 1000 / max(load.updates, 1),
            "bot_cpu_share": (cpu1 - cpu0) / elapsed, "loadgen_cpu_share": busy(own0, own1),
            "failures": load.failures, "failed_steps": load.failed_steps, "window_s": elapsed}
