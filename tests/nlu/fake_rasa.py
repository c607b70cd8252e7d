"""A stand-in Rasa HTTP server on 127.0.0.1, in a thread, answering the way the real one does or fails."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

# An answer of `rasa run --enable-api` (3.6) to POST /model/parse, trimmed to five ranked intents.
POTHOLE_ANSWER = {
    "text": "Big pothole again, see koz-2026-00042",
    "intent": {"name": "report_pothole", "confidence": 0.9312},
    "entities": [
        {"entity": "ticket_ref", "start": 26, "end": 40, "value": "koz-2026-00042",
         "extractor": "RegexEntityExtractor"},
        {"entity": "ticket_ref", "start": 26, "end": 40, "value": "KOZ-2026-00042",
         "extractor": "RegexEntityExtractor"},
    ],
    "text_tokens": [[0, 3], [4, 11], [12, 17], [19, 22], [23, 37]],
    "intent_ranking": [
        {"name": "report_pothole", "confidence": 0.9312},
        {"name": "report_sidewalk_accessibility", "confidence": 0.0311},
        {"name": "check_status", "confidence": 0.0207},
        {"name": "report_water_leak", "confidence": 0.0101},
        {"name": "report_other", "confidence": 0.0069},
    ],
}

FALLBACK_ANSWER = {
    "text": "hmm",
    "intent": {"name": "nlu_fallback", "confidence": 0.3},
    "entities": [],
    "intent_ranking": [
        {"name": "nlu_fallback", "confidence": 0.3},
        {"name": "greet", "confidence": 0.21},
        {"name": "report_other", "confidence": 0.18},
    ],
}

# A question: DIET's retrieval intent `ask`, and the ResponseSelector's ranking of its topics (trimmed).
QUESTION_ANSWER = {
    "text": "when is the town hall open on friday?",
    "intent": {"name": "ask", "confidence": 0.8871, "full_retrieval_intent_name": "ask/office_hours"},
    "entities": [],
    "intent_ranking": [
        {"name": "ask", "confidence": 0.8871},
        {"name": "help", "confidence": 0.0612},
        {"name": "report_other", "confidence": 0.0203},
    ],
    "response_selector": {
        "all_retrieval_intents": ["ask"],
        "ask": {
            "response": {"responses": [{"text": "office_hours"}], "confidence": 0.9402,
                         "intent_response_key": "ask/office_hours", "utter_action": "utter_ask/office_hours"},
            "ranking": [
                {"confidence": 0.9402, "intent_response_key": "ask/office_hours"},
                {"confidence": 0.0411, "intent_response_key": "ask/contact"},
                {"confidence": 0.0105, "intent_response_key": "ask/fees"},
            ],
        },
    },
}

STATUS_ANSWER = {"model_id": "a1b2", "model_file": "nlu-0123456789ab.tar.gz", "num_active_training_jobs": 0}


class FakeRasa:
    """Set `mode` to one of: good, fallback, question, slow, hang, unauthorized, error, garbage, wrong_shape."""

    def __init__(self, token: str = "secret", slow_seconds: float = 0.1, hang_seconds: float = 3.0) -> None:
        self.mode = "good"
        self.token = token
        self.slow_seconds = slow_seconds
        self.hang_seconds = hang_seconds
        self.requests: list[dict] = []
        self.answers: dict[str, dict] = {"fallback": FALLBACK_ANSWER, "question": QUESTION_ANSWER}   # per mode
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeRasa:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _reply(self, path: str, token: str | None, body: dict | None) -> tuple[int, bytes]:
        self.requests.append({"path": path, "token": token, "body": body})
        if self.mode == "unauthorized" or token != self.token:
            return 401, b'{"status": "failure", "reason": "NotAuthenticated"}'
        if self.mode == "error":
            return 500, b'{"status": "failure", "reason": "ParsingError"}'
        if self.mode == "garbage":
            return 200, b"<html>502 Bad Gateway</html>"
        if self.mode == "wrong_shape":
            return 200, json.dumps({"intent": "report_pothole", "entities": []}).encode()
        if self.mode == "slow":
            time.sleep(self.slow_seconds)
        if self.mode == "hang":
            time.sleep(self.hang_seconds)
        if path == "/status":
            return 200, json.dumps(STATUS_ANSWER).encode()
        answer = self.answers.get(self.mode, POTHOLE_ANSWER)
        return 200, json.dumps({**answer, "text": (body or {}).get("text", "")}).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, body: dict | None) -> None:
                url = urlparse(self.path)
                token = parse_qs(url.query).get("token", [None])[0]
                status, payload = fake._reply(url.path, token, body)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self) -> None:
                self._answer(None)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._answer(json.loads(self.rfile.read(length) or b"null"))

        return Handler
