"""RasaNLU against a local stand-in server: good answers are understood, every failure falls back fast."""
from __future__ import annotations

import socket
import time

import pytest

from core.ports import Entity, IntentScore
from nlu.client import NoNLU, RasaNLU
from tests.nlu.fake_rasa import QUESTION_ANSWER, FakeRasa

TIMEOUT = 0.4


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def rasa():
    with FakeRasa(token="secret", slow_seconds=0.1, hang_seconds=2.0) as fake:
        yield fake


@pytest.fixture
def clock():
    return FakeMonotonic()


@pytest.fixture
async def nlu(rasa, clock):
    async with RasaNLU(rasa.url, "secret", timeout=TIMEOUT, failure_threshold=2, cool_down=30,
                       monotonic=clock) as client:
        yield client


async def test_a_good_answer_is_understood(nlu, rasa):
    result = await nlu.understand("Big pothole again, see koz-2026-00042")

    assert result.available
    assert (result.intent, result.confidence) == ("report_pothole", pytest.approx(0.9312))
    assert result.ranking[:2] == (IntentScore("report_pothole", pytest.approx(0.9312)),
                                  IntentScore("report_sidewalk_accessibility", pytest.approx(0.0311)))
    assert result.entities == (Entity("ticket_ref", "KOZ-2026-00042", 26, 40),)
    assert result.language == "en"
    assert rasa.requests[-1] == {"path": "/model/parse", "token": "secret",
                                 "body": {"text": "Big pothole again, see koz-2026-00042"}}


async def test_low_confidence_means_not_understood_but_keeps_the_candidates(nlu, rasa):
    rasa.mode = "fallback"
    result = await nlu.understand("hmm")

    assert result.available and result.intent is None
    assert [s.intent for s in result.ranking] == ["greet", "report_other"]


async def test_a_question_is_understood_as_its_topic(nlu, rasa):
    rasa.mode = "question"
    result = await nlu.understand("when is the town hall open on friday?")

    assert (result.intent, result.confidence) == ("ask_office_hours", pytest.approx(0.8871))
    assert [s.intent for s in result.ranking[:3]] == ["ask_office_hours", "help", "ask_contact"]
    assert result.ranking[0].confidence == pytest.approx(0.8871 * 0.9402)


async def test_a_question_without_a_known_topic_is_not_understood(nlu, rasa):
    rasa.mode = "question"
    unknown = {"confidence": 0.99, "intent_response_key": "ask/parking_permits"}
    rasa.answers["question"] = {**QUESTION_ANSWER, "response_selector": {"ask": {"response": unknown,
                                                                                 "ranking": [unknown]}}}
    result = await nlu.understand("can I get a parking permit?")

    assert result.available and result.intent is None
    assert "help" in [s.intent for s in result.ranking]


async def test_a_slow_answer_within_the_timeout_is_used(nlu, rasa):
    rasa.mode = "slow"
    result = await nlu.understand("Na cesti je velika luknja")

    assert result.available and result.intent == "report_pothole"
    assert result.language == "sl"


async def test_a_hanging_server_costs_no_more_than_the_timeout(nlu, rasa):
    rasa.mode = "hang"
    started = time.monotonic()
    result = await nlu.understand("Υπάρχει λακκούβα στον δρόμο")

    assert time.monotonic() - started < TIMEOUT + 0.3
    assert not result.available and result.intent is None
    assert result.language == "el"


@pytest.mark.parametrize("mode", ["unauthorized", "error", "garbage", "wrong_shape"])
async def test_a_broken_answer_falls_back(nlu, rasa, mode):
    rasa.mode = mode
    result = await nlu.understand("יש בור בכביש")

    assert not result.available and result.intent is None
    assert result.language == "he"


async def test_a_wrong_token_falls_back(rasa, clock):
    async with RasaNLU(rasa.url, "not-the-token", timeout=TIMEOUT, monotonic=clock) as client:
        assert not (await client.understand("pothole")).available


async def test_nobody_listening_falls_back():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with RasaNLU(f"http://127.0.0.1:{port}", "t", timeout=TIMEOUT) as client:
        assert not (await client.understand("pothole")).available


async def test_circuit_opens_after_repeated_failures_and_stops_calling(nlu, rasa):
    rasa.mode = "error"
    await nlu.understand("one")
    await nlu.understand("two")
    calls = len(rasa.requests)
    rasa.mode = "good"

    result = await nlu.understand("three")

    assert not result.available
    assert len(rasa.requests) == calls


async def test_circuit_closes_after_the_cool_down_when_the_trial_succeeds(nlu, rasa, clock):
    rasa.mode = "error"
    await nlu.understand("one")
    await nlu.understand("two")
    rasa.mode = "good"
    clock.now += 29
    assert not (await nlu.understand("still cooling down")).available

    clock.now += 1
    assert (await nlu.understand("trial")).available
    assert (await nlu.understand("and after")).available


async def test_a_failed_trial_opens_the_circuit_for_another_cool_down(nlu, rasa, clock):
    rasa.mode = "error"
    await nlu.understand("one")
    await nlu.understand("two")
    clock.now += 30
    await nlu.understand("failed trial")
    calls = len(rasa.requests)
    rasa.mode = "good"

    clock.now += 20
    assert not (await nlu.understand("cooling down again")).available
    assert len(rasa.requests) == calls
    clock.now += 10
    assert (await nlu.understand("second trial")).available


async def test_a_single_failure_does_not_open_the_circuit(nlu, rasa):
    rasa.mode = "error"
    await nlu.understand("one")
    rasa.mode = "good"
    assert (await nlu.understand("two")).available
    rasa.mode = "error"
    await nlu.understand("three")
    rasa.mode = "good"
    assert (await nlu.understand("four")).available


async def test_ready_when_a_model_is_loaded(nlu, rasa):
    assert await nlu.ready()
    rasa.mode = "unauthorized"
    assert not await nlu.ready()


async def test_no_nlu_never_understands():
    result = await NoNLU().understand("There is a pothole on my street")
    assert not result.available and result.intent is None
