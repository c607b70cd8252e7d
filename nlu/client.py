"""The bot's side of Rasa NLU: an HTTP client for `POST /model/parse` that never raises.

When Rasa is slow, down, misconfigured or answers nonsense, `understand` returns
`Understanding(intent=None, available=False)` within the timeout, and the dialogue offers category
buttons instead. After `failure_threshold` consecutive failures the circuit opens: Rasa is not asked for
`cool_down` seconds; then one trial request decides whether it closes again.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable

import httpx

from core.ports import Entity, IntentScore, Understanding
from core.tickets import parse_ref
from nlu.intents import FALLBACK, RETRIEVAL_INTENT, TICKET_REF, question_intent
from nlu.langid import detect_language

log = logging.getLogger(__name__)

DEFAULT_URL = "http://127.0.0.1:5005"
WARM_UP_SECONDS = 10.0


class MalformedAnswer(ValueError):
    """Rasa answered, but not with a parse result."""


class CircuitBreaker:
    """Closed -> (N failures) -> open -> (cool-down) -> half-open: one trial -> closed or open again."""

    def __init__(self, failure_threshold: int = 3, cool_down: float = 30.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.failure_threshold = max(1, failure_threshold)
        self.cool_down = cool_down
        self._monotonic = monotonic
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    def allows(self) -> bool:
        """Whether a request may go out now; in half-open state only one at a time."""
        if self._opened_at is None:
            return True
        if self._trial_running or self._monotonic() - self._opened_at < self.cool_down:
            return False
        self._trial_running = True
        return True

    def succeeded(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_running = False

    def failed(self) -> None:
        self._failures += 1
        if self._trial_running or self._failures >= self.failure_threshold:
            if self._opened_at is None:
                log.warning("Rasa NLU failed %d times in a row; not asking it for %.0f s",
                            self._failures, self.cool_down)
            self._opened_at = self._monotonic()
        self._trial_running = False


def _score(item: Any) -> IntentScore:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise MalformedAnswer(f"not an intent: {item!r}")
    confidence = item.get("confidence")
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)):
        raise MalformedAnswer(f"intent without a confidence: {item!r}")
    return IntentScore(item["name"], float(confidence))


def _entities(items: Any) -> tuple[Entity, ...]:
    """Entities without repeats; ticket references normalised to upper case."""
    if not isinstance(items, list):
        raise MalformedAnswer("entities is not a list")
    seen: dict[tuple[str, str], Entity] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("entity"), str):
            raise MalformedAnswer(f"not an entity: {item!r}")
        value = str(item.get("value", ""))
        if item["entity"] == TICKET_REF:
            value = parse_ref(value) or value.upper()
        key = (item["entity"], value)
        if key not in seen:
            seen[key] = Entity(item["entity"], value, item.get("start"), item.get("end"))
    return tuple(seen.values())


def _topics(answer: dict) -> list[IntentScore]:
    """The ResponseSelector's ranking of question topics, as `ask_<topic>` intents, likeliest first."""
    selectors = answer.get("response_selector")
    if not isinstance(selectors, dict):
        return []
    selector = selectors.get(RETRIEVAL_INTENT) or selectors.get("default")
    if not isinstance(selector, dict):
        return []
    ranking = selector.get("ranking") or [selector.get("response")]
    topics: list[IntentScore] = []
    for item in ranking:
        if not isinstance(item, dict):
            continue
        intent = question_intent(item.get("intent_response_key"))
        confidence = item.get("confidence")
        if intent and isinstance(confidence, (int, float)) and not isinstance(confidence, bool):
            topics.append(IntentScore(intent, float(confidence)))
    return topics


def _with_topics(ranking: list[IntentScore], topics: list[IntentScore]) -> list[IntentScore]:
    """The ranking with `ask` replaced by its topics, each weighted by the confidence in `ask` itself."""
    out: list[IntentScore] = []
    for score in ranking:
        if score.intent == RETRIEVAL_INTENT:
            out.extend(IntentScore(t.intent, score.confidence * t.confidence) for t in topics)
        else:
            out.append(score)
    return out


def understanding_from(answer: Any, language: str | None) -> Understanding:
    """Rasa's /model/parse JSON as an Understanding; the fallback intent becomes intent=None.

    A question (`ask`) becomes the topic the ResponseSelector chose, `ask_<topic>`, with DIET's confidence in
    `ask`; with no topic it counts as not understood, so the dialogue lists the topics instead of guessing.
    """
    if not isinstance(answer, dict) or not isinstance(answer.get("intent"), dict):
        raise MalformedAnswer("no intent in the answer")
    top = _score(answer["intent"])
    ranking = [s for s in map(_score, answer.get("intent_ranking") or [answer["intent"]])
               if s.intent != FALLBACK]
    if any(s.intent == RETRIEVAL_INTENT for s in ranking) or top.intent == RETRIEVAL_INTENT:
        topics = _topics(answer)
        ranking = sorted(_with_topics(ranking, topics), key=lambda s: -s.confidence)
        if top.intent == RETRIEVAL_INTENT:
            top = IntentScore(topics[0].intent, top.confidence) if topics else IntentScore(FALLBACK, 0.0)
    entities = _entities(answer.get("entities") or [])
    if top.intent == FALLBACK:
        return Understanding(None, 0.0, tuple(ranking), entities, language)
    return Understanding(top.intent, top.confidence, tuple(ranking), entities, language)


class RasaNLU:
    """core.ports.NLU over Rasa's HTTP API (`rasa run --enable-api --auth-token ...`)."""

    def __init__(self, url: str = DEFAULT_URL, token: str | None = None, timeout: float = 1.5,
                 failure_threshold: int = 3, cool_down: float = 30.0, *,
                 monotonic: Callable[[], float] = time.monotonic,
                 client: httpx.AsyncClient | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.breaker = CircuitBreaker(failure_threshold, cool_down, monotonic)
        self._params = {"token": token} if token else {}
        self._client = client or httpx.AsyncClient(timeout=timeout, trust_env=False)

    async def understand(self, text: str) -> Understanding:
        language = detect_language(text)
        if not self.breaker.allows():
            return Understanding(None, language=language, available=False)
        try:
            answer = await asyncio.wait_for(self._parse(text), self.timeout)
            understanding = understanding_from(answer, language)
        except Exception as error:  # noqa: BLE001 - the resident must get buttons, never a crash
            log.warning("Rasa NLU unavailable: %s", _describe(error))
            self.breaker.failed()
            return Understanding(None, language=language, available=False)
        self.breaker.succeeded()
        return understanding

    async def _parse(self, text: str) -> Any:
        response = await self._client.post(f"{self.url}/model/parse", params=self._params, json={"text": text})
        response.raise_for_status()
        return response.json()

    async def ready(self) -> bool:
        """Whether Rasa has a model loaded and has answered one warm-up parse; never raises.

        Rasa's first parse after start builds its TensorFlow graph and takes over a second, so this also
        keeps the first resident's message from timing out.
        """
        try:
            response = await asyncio.wait_for(
                self._client.get(f"{self.url}/status", params=self._params), self.timeout)
            response.raise_for_status()
            status = response.json()
            if not (isinstance(status, dict) and (status.get("model_file") or status.get("model_id"))):
                return False
            await asyncio.wait_for(self._parse("hello"), max(self.timeout, WARM_UP_SECONDS))
        except Exception:  # noqa: BLE001
            return False
        return True

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> RasaNLU:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _describe(error: Exception) -> str:
    if isinstance(error, httpx.HTTPStatusError):
        return f"HTTP {error.response.status_code}"
    if isinstance(error, asyncio.TimeoutError):
        return "timed out"
    return f"{type(error).__name__}: {error}"


class NoNLU:
    """For deployments without Rasa: nothing is understood, the resident gets buttons."""

    async def understand(self, text: str) -> Understanding:
        return Understanding(None, available=False)     # no language guess: nothing reads it (lingua costs ms)
