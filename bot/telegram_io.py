"""How the bot's Bot API calls travel: python-telegram-bot's request interface over httpcore's HTTP/1.1
connections, kept on a stack of our own.

python-telegram-bot's default (HTTPXRequest) goes through httpx's connection pool, which on every request, twice,
looks at every pooled connection (a system call each to see whether the server closed it) and, for each idle one,
counts all the others. With one chat at a time that is nothing; with thirty chats answered side by side, thirty to
forty connections are pooled and that bookkeeping was a quarter of the bot's CPU. Here an idle connection is taken
from the top of a stack (the most recently used, so the others expire and close after KEEPALIVE_S) and only the one
taken is checked. Each call is the same HTTP request python-telegram-bot would make (a form-encoded POST with its
User-Agent), and its failures are the same errors: TimedOut for a timeout, NetworkError for anything else.

Uploads (multipart), downloads (GET) and a Bot API reached through a proxy named in the environment (HTTPS_PROXY
and the like, which httpx honours) go through HTTPXRequest as before.
"""
from __future__ import annotations

import asyncio
import ssl
import urllib.request
from functools import cache
from urllib.parse import urlencode, urlsplit

import httpcore
import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

KEEPALIVE_S = 5.0       # an idle connection is closed after this long (httpx's default)
FORM = b"application/x-www-form-urlencoded"
POOL_TIMEOUT = "Pool timeout: all connections to the Bot API are in use. The request was *not* sent to Telegram."


class BotApiRequest(BaseRequest):
    __slots__ = ("_httpx", "_idle", "_places", "_timeouts", "_ssl")

    def __init__(self, connection_pool_size: int = 256, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0) -> None:
        """The defaults are HTTPXRequest's: at most `connection_pool_size` calls at once, timeouts in seconds."""
        self._httpx = HTTPXRequest(connection_pool_size=connection_pool_size, read_timeout=read_timeout,
                                   write_timeout=write_timeout, connect_timeout=connect_timeout,
                                   pool_timeout=pool_timeout)
        self._idle: list[httpcore.AsyncHTTPConnection] = []
        self._places = asyncio.Semaphore(connection_pool_size)
        self._timeouts = {"connect": connect_timeout, "read": read_timeout, "write": write_timeout,
                          "pool": pool_timeout}
        self._ssl: ssl.SSLContext | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts["read"]

    async def initialize(self) -> None:
        await self._httpx.initialize()

    async def shutdown(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.aclose()
        await self._httpx.shutdown()

    @property
    def connections_idle(self) -> int:
        return len(self._idle)

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout=BaseRequest.DEFAULT_NONE, write_timeout=BaseRequest.DEFAULT_NONE,
                         connect_timeout=BaseRequest.DEFAULT_NONE, pool_timeout=BaseRequest.DEFAULT_NONE,
                         ) -> tuple[int, bytes]:
        parts = urlsplit(url)
        if method != "POST" or request_data is None or request_data.multipart_data or \
                _proxied(parts.scheme, parts.hostname or ""):
            return await self._httpx.do_request(url, method, request_data, read_timeout, write_timeout,
                                                connect_timeout, pool_timeout)
        given = {"connect": connect_timeout, "read": read_timeout, "write": write_timeout, "pool": pool_timeout}
        timeouts = {name: self._timeouts[name] if value is BaseRequest.DEFAULT_NONE else value
                    for name, value in given.items()}
        body = urlencode(request_data.json_parameters).encode()
        request = httpcore.Request("POST", url, content=body, extensions={"timeout": timeouts}, headers=[
            (b"Host", parts.netloc.encode()), (b"User-Agent", self.USER_AGENT.encode()),
            (b"Content-Type", FORM), (b"Content-Length", str(len(body)).encode())])
        await self._take_place(timeouts["pool"])
        try:
            return await self._send(request)
        except httpcore.TimeoutException as error:
            raise TimedOut from error
        except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol, OSError) as error:
            raise NetworkError(f"httpcore.{error.__class__.__name__}: {error}") from error
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

    async def _send(self, request: httpcore.Request) -> tuple[int, bytes]:
        connection = await self._connection(request.url.origin)
        try:
            response = await connection.handle_async_request(request)
            content = await response.aread()
            await response.aclose()
        except BaseException:
            await connection.aclose()
            raise
        if connection.is_idle():
            self._idle.append(connection)
        else:
            await connection.aclose()
        return response.status, content

    async def _connection(self, origin: httpcore.Origin) -> httpcore.AsyncHTTPConnection:
        """The most recently used idle connection that the server has not closed, or a new one."""
        while self._idle:
            connection = self._idle.pop()
            if connection.can_handle_request(origin) and not connection.has_expired():
                return connection
            await connection.aclose()
        if origin.scheme == b"https" and self._ssl is None:
            self._ssl = httpx.create_ssl_context()      # what HTTPXRequest verifies against
        return httpcore.AsyncHTTPConnection(origin, ssl_context=self._ssl, keepalive_expiry=KEEPALIVE_S)


@cache
def _proxied(scheme: str, host: str) -> bool:
    """Whether the environment names a proxy for this host (then httpx, which honours it, makes the call)."""
    proxies = urllib.request.getproxies()
    if not (proxies.get(scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(host)
