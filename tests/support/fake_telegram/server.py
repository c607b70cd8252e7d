"""The HTTP side: Telegram's URL shapes, request encodings and JSON answers, served by tornado."""
from __future__ import annotations

import json

from tornado.httpserver import HTTPServer
from tornado.iostream import StreamClosedError
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler

from tests.support.fake_telegram.api import NOT_FOUND, BotApi, Upload
from tests.support.fake_telegram.model import bad_request


class _Handler(RequestHandler):
    def initialize(self, api: BotApi) -> None:
        self.api = api

    def reply(self, status: int, body: dict | bytes) -> None:
        self.set_status(status)
        if isinstance(body, bytes):
            self.set_header("Content-Type", "text/html")
            self.finish(body)
        else:
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps(body, ensure_ascii=False))

    def safely_reply(self, status: int, body: dict | bytes) -> None:
        try:
            self.reply(status, body)
        except StreamClosedError:
            pass


class _MethodHandler(_Handler):
    """/bot<token>/<method>: query string, form, multipart or JSON body, like the real Bot API."""

    async def post(self, token: str, method: str) -> None:
        try:
            params = self.params()
        except ValueError:
            self.safely_reply(400, bad_request("can't parse JSON encoded request body").body())
            return
        status, body = await self.api.call(token, method, params)
        self.safely_reply(status, body)

    get = post

    def params(self) -> dict:
        params: dict = {name: values[-1].decode("utf-8") for name, values in self.request.query_arguments.items()}
        if self.request.headers.get("Content-Type", "").startswith("application/json") and self.request.body:
            body = json.loads(self.request.body)
            if not isinstance(body, dict):
                raise ValueError("JSON body must be an object")
            params.update(body)
        else:
            params.update({name: values[-1].decode("utf-8") for name, values in self.request.body_arguments.items()})
        uploads = {name: Upload(files[0].filename, files[0].body) for name, files in self.request.files.items()}
        for name, value in params.items():
            if isinstance(value, str) and value.startswith("attach://") and value[9:] in uploads:
                params[name] = uploads[value[9:]]
        for name, upload in uploads.items():
            params.setdefault(name, upload)
        return params


class _FileHandler(_Handler):
    """/file/bot<token>/<file_path>: the bytes of a file getFile has described."""

    def get(self, token: str, path: str) -> None:
        stored = next((f for f in self.api.state.files.values() if f.file_path == path), None)
        if token != self.api.state.token or stored is None:
            self.reply(404, NOT_FOUND.body())
            return
        self.set_header("Content-Type", "image/jpeg")
        self.finish(stored.content)


class _NotFound(_Handler):
    def prepare(self) -> None:
        self.reply(404, NOT_FOUND.body())


def start_server(api: BotApi) -> tuple[HTTPServer, int]:
    """Serve on 127.0.0.1 at a free port, in the running event loop."""
    routes = [(r"/bot([^/]*)/([^/]*)", _MethodHandler, {"api": api}),
              (r"/file/bot([^/]*)/(.+)", _FileHandler, {"api": api})]
    app = Application(routes, default_handler_class=_NotFound, default_handler_args={"api": api},
                      log_function=lambda handler: None)
    sockets = bind_sockets(0, "127.0.0.1")
    server = HTTPServer(app)
    server.add_sockets(sockets)
    return server, sockets[0].getsockname()[1]
