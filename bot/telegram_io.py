"""How the bot's Bot API calls travel: python-telegram-bot's request interface over aiohttp's client.

python-telegram-bot's default (HTTPXRequest) goes through httpx's connection pool, which on every request, twice,
looks at every pooled connection (a system call each to see whether the server closed it) and, for each idle one,
counts all the others. With one chat at a time that is nothing; with thirty chats answered side by side, thirty to
forty connections are pooled and that bookkeeping was a quarter of the bot's CPU. aiohttp's connector keeps idle
connections per host and takes one without looking at the others, and parses responses in C: a call costs about a
fifth less CPU than over httpcore's connections of our own, which this module held before.

Each call is a POST with python-telegram-bot's User-Agent and the parameters it prepared, sent as a JSON body (which
the Bot API accepts for every method but uploads): python-telegram-bot's form encoding quoted every character of a
message and its buttons in Python, a tenth of the bot's CPU. Failures are python-telegram-bot's errors: TimedOut for
a timeout (and for waiting longer than pool_timeout for a free connection, the call then not sent), NetworkError for
anything else.

Uploads (multipart), downloads (GET) and a Bot API reached through a proxy named in the environment (HTTPS_PROXY
and the like, which httpx honours) go through HTTPXRequest as before.
"""
from __future__ import annotations

import asyncio
import json
import urllib.request
from functools import cache
from urllib.parse import urlsplit

import aiohttp
import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

KEEPALIVE_S = 5.0       # an idle connection is closed after this long (httpx's default)
JSON = "application/json"
POOL_TIMEOUT = "Pool timeout: all connections to the Bot API are in use. The request was *not* sent to Telegram."


class BotApiRequest(BaseRequest):
    __slots__ = ("_httpx", "_session", "_places", "_size", "_timeouts")

    def __init__(self, connection_pool_size: int = 256, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0) -> None:
        """The defaults are HTTPXRequest's: at most `connection_pool_size` calls at once, timeouts in seconds."""
        self._httpx = HTTPXRequest(connection_pool_size=connection_pool_size, read_timeout=read_timeout,
                                   write_timeout=write_timeout, connect_timeout=connect_timeout,
                                   pool_timeout=pool_timeout)
        self._session: aiohttp.ClientSession | None = None
        self._places = asyncio.Semaphore(connection_pool_size)
        self._size = connection_pool_size
        self._timeouts = {"connect": connect_timeout, "read": read_timeout, "write": write_timeout,
                          "pool": pool_timeout}

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts["read"]

    async def initialize(self) -> None:
        await self._httpx.initialize()
        if self._session is None or self._session.closed:
            # the certificates HTTPXRequest verifies against; as many connections as calls may run at once
            connector = aiohttp.TCPConnector(limit=self._size, keepalive_timeout=KEEPALIVE_S,
                                             ssl=httpx.create_ssl_context())
            self._session = aiohttp.ClientSession(connector=connector, headers={"User-Agent": self.USER_AGENT},
                                                  skip_auto_headers=("Accept-Encoding",))

    async def shutdown(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
        await self._httpx.shutdown()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout=BaseRequest.DEFAULT_NONE, write_timeout=BaseRequest.DEFAULT_NONE,
                         connect_timeout=BaseRequest.DEFAULT_NONE, pool_timeout=BaseRequest.DEFAULT_NONE,
                         ) -> tuple[int, bytes]:
        parts = urlsplit(url)
        if method != "POST" or request_data is None or request_data.multipart_data or \
                _proxied(parts.scheme, parts.hostname or ""):
            return await self._httpx.do_request(url, method, request_data, read_timeout, write_timeout,
                                                connect_timeout, pool_timeout)
        if self._session is None or self._session.closed:
            await self.initialize()
        given = {"connect": connect_timeout, "read": read_timeout, "pool": pool_timeout}
        timeouts = {name: self._timeouts[name] if value is BaseRequest.DEFAULT_NONE else value
                    for name, value in given.items()}
        body = _json(request_data.parameters)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeouts["connect"], sock_read=timeouts["read"])
        await self._take_place(timeouts["pool"])
        try:
            async with self._session.post(url, data=body, headers={"Content-Type": JSON}, timeout=timeout,
                                          allow_redirects=False) as response:
                return response.status, await response.read()
        except asyncio.TimeoutError as error:       # aiohttp's timeouts are asyncio's (and ClientErrors)
            raise TimedOut from error
        except (aiohttp.ClientError, OSError) as error:
            raise NetworkError(f"aiohttp.{error.__class__.__name__}: {error}") from error
        finally:
            self._places.release()

    async def _take_place(self, timeout: float | None) -> None:
        if not self._places.locked():
            await self._places.acquire()
            return
        try:
            await asyncio.wait_for(self._places.acquire(), timeout)
        except asyncio.TimeoutError:
            raise TimedOut(POOL_TIMEOUT) from None


def _json(parameters: dict) -> bytes:
    try:
        return json.dumps(parameters, ensure_ascii=False, separators=(",", ":")).encode()
    except UnicodeEncodeError:      # a lone surrogate somewhere: escaped (\\udXXX), as the form encoding did
        return json.dumps(parameters, separators=(",", ":")).encode()


@cache
def _proxied(scheme: str, host: str) -> bool:
    """Whether the environment names a proxy for this host (then httpx, which honours it, makes the call)."""
    proxies = urllib.request.getproxies()
    if not (proxies.get(scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(host)
