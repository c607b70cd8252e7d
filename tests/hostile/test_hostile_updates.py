"""Random and malformed updates through the real handlers (hypothesis).

For every update: no exception reaches the bot's error handler, and every Bot API call the bot makes is one
Telegram accepts (the fake refuses what Telegram refuses). A private message from a resident always gets an
answer; a forged press is always answered and changes nothing; strangers in the groups change nothing.
"""
from __future__ import annotations

import itertools
import os

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.support.fake_telegram.photos import store_photo
from tests.hostile.world import (ANNA, ASKER, CENTRE, ELENI, ELSEWHERE, KOSTAS, LIGHTING, OMBUDSMAN, OPERATORS,
                                 RESIDENTS, STRANGER, TECHNICAL, build_world, close_world)

# HELPLINE_HOSTILE_EXAMPLES=500 for a longer, random search (the default is quick and repeatable)
EXAMPLES = settings(max_examples=int(os.environ.get("HELPLINE_HOSTILE_EXAMPLES", 40)), deadline=None,
                    derandomize="HELPLINE_HOSTILE_EXAMPLES" not in os.environ, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
files = itertools.count(1)

# --- what people send ----------------------------------------------------------------------------

NASTY = ["", " ", "\n\n\n", "\u202eevil.exe\u202c", "\u200f\u200e\u2066x\u2069", "<b>bold", "</i>", "<a href='x'>",
         "<script>alert(1)</script>", "&amp; &lt; & &#0; &bogus;", "*bold* _it_ `code` [x](http://e.org) ~s~ ||s||",
         "```\npre\n```", "\x01\x07\x1b[31mred\x1b[0m\x7f", "{ref} {0} {} %s %(x)s {{", "KOZ-2026-00001",
         "KOZ-2026-00002", "KOZ-9999-99999", "?", "יש בור ברחוב?", "Η λάμπα είναι σβηστή <>", "🙂" * 50,
         "a" * 4096, "ж" * 4097, "🙂" * 2100, "\u0301" * 300, "x\u0000y"]
CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
texts = st.one_of(st.sampled_from(NASTY), st.text(CHARS, max_size=200),
                  st.builds(lambda c, n: c * n, CHARS, st.integers(4000, 5000)))
COMMANDS = ["start", "report", "new", "status", "mytickets", "follow", "complain", "language", "help", "cancel",
            "mydata", "queue", "overdue", "ticket", "nonsense", "start@other_bot", "STATUS", "status@"]
commands = st.builds(lambda c, a: f"/{c} {a}".rstrip(), st.sampled_from(COMMANDS),
                     st.one_of(st.sampled_from(["", "KOZ-2026-00001", "KOZ-2026-00002", "x" * 300]), texts))
coordinates = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                        st.sampled_from([0.0, -0.0, 90.0, -90.0, 180.0, -180.0, 90.0000001, 1e308, -1e-308]),
                        st.floats(-200, 200))


def _file(kind: str) -> dict:
    n = next(files)
    return {"file_id": f"{kind}{n:08d}", "file_unique_id": f"u{kind}{n}"}


def _command(line: str) -> dict:
    word = line.split()[0] if line.split() else "/"
    return {"text": line, "entities": [{"type": "bot_command", "offset": 0, "length": len(word.encode("utf-16-le")) // 2}]}


contents = st.one_of(
    st.builds(lambda t: {"text": t}, texts),
    st.builds(_command, commands),
    st.builds(lambda t, n: {"caption": t[:1024], "photo": n} if t else {"photo": n}, texts, st.integers(1, 3)),
    st.builds(lambda la, lo: {"location": {"latitude": la, "longitude": lo}}, coordinates, coordinates),
    st.builds(lambda la, lo, t, a: {"location": {"latitude": la, "longitude": lo},
                                    "venue": {"location": {"latitude": la, "longitude": lo}, "title": t, "address": a}},
              coordinates, coordinates, texts, texts),
    st.just(None).map(lambda _: {"sticker": {**_file("s"), "type": "regular", "width": 512, "height": 512,
                                             "is_animated": False, "is_video": False}}),
    st.just(None).map(lambda _: {"voice": {**_file("v"), "duration": 3}}),
    st.builds(lambda name: {"document": {**_file("d"), "file_name": name[:255] or "x"}}, texts),
    st.builds(lambda name: {"contact": {"phone_number": "+302461000000", "first_name": name[:64] or "x"}}, texts),
    st.just({"dice": {"emoji": "🎲", "value": 3}}),
)


@pytest.fixture
def world(migrated_url):
    world = build_world(migrated_url)
    yield world
    close_world(world)


def send(world, person: int, content: dict, chat: int | None = None, reply_to=None) -> dict:
    """A message as Telegram delivers it; a photo's sizes are real files on the fake (the bot may forward them)."""
    return world.tg._message(person, chat, real_files(world, content), reply_to)


def real_files(world, content: dict) -> dict:
    return {**content, "photo": store_photo(world.tg.state, content["photo"])} if "photo" in content else content


def assert_clean(world) -> None:
    assert world.errors.take() == [], "an exception reached the error handler"
    assert world.refused_calls() == [], "the bot made a call Telegram refuses"


# --- residents' private messages -----------------------------------------------------------------

def test_every_private_message_from_a_resident_gets_an_answer(world):
    @EXAMPLES
    @given(resident=st.sampled_from((*RESIDENTS, ASKER)), content=contents)
    def check(resident, content):
        before, relayed = len(world.bot_messages(resident)), len(world.bot_messages(OPERATORS))
        world.feed(send(world, resident, content))
        assert_clean(world)
        answered = len(world.bot_messages(resident)) > before
        assert answered or resident == ASKER and len(world.bot_messages(OPERATORS)) > relayed, \
            f"no answer to {content!r}"     # talking to a person, what the resident sends goes to the operators
    check()


# --- forged presses ------------------------------------------------------------------------------

def _presses(world):
    refs = [*world.refs.values(), "KOZ-9999-00001", "KOZ-2026-0000", "", "x" * 40]
    ids = [str(world.escalation), str(world.handover), "999", "-1", "0", "x", "1e3", ""]
    anything = st.one_of(st.sampled_from(refs), st.text(CHARS, max_size=12))
    department = st.builds(lambda a, r, x: f"d:{a}:{r}:{x}", st.sampled_from(
        ["ack", "work", "info", "fix", "rej", "move", "refer", "card", "plan", "x", ""]), st.sampled_from(refs),
        st.one_of(st.sampled_from(["lighting", "technical", "hedno", "invalid", "duplicate", "", "1"]), anything))
    advocate = st.builds(lambda a, i, c: f"o:{a}:{i}:{c}", st.sampled_from(
        ["explain", "uphold", "reopen", "reassign", "show", "x", ""]), st.sampled_from(ids),
        st.sampled_from(["", "5", "technical", "lighting", "-3", "x"]))
    operators = st.builds(lambda a, i: f"op:{a}:{i}", st.sampled_from(["claim", "end", "ticket", "x", ""]),
                          st.sampled_from(ids))
    stale = st.builds(lambda v, a: f"{v}:{a}", st.sampled_from(["999999", "-1", "0x1", "1" * 30]), st.sampled_from(
        ["send:yes", "dup:KOZ-2026-00001", "cat:pothole", "lang:xx", "forget:yes", "menu:report", "edit:place",
         "complain:KOZ-2026-00001", "nothing"]))
    resident_side = st.builds(lambda k, r, a: f"g:{k}:{r}:{a}".rstrip(":"), st.sampled_from(
        ["answer", "status", "dispute", "fixed", "x", ""]), st.sampled_from(refs), st.sampled_from(["yes", "no", ""]))
    raw = st.text(CHARS, max_size=40).filter(lambda s: len(s.encode()) <= 64)
    return st.one_of(department, advocate, operators, stale, resident_side, raw)


def _pressers():
    """Who presses where: anyone but the people entitled to act in that chat (their presses are real work)."""
    own = {LIGHTING: ANNA, TECHNICAL: KOSTAS, OPERATORS: ELENI}
    groups = (LIGHTING, TECHNICAL, OPERATORS, OMBUDSMAN)
    in_groups = st.tuples(st.sampled_from(groups), st.sampled_from((STRANGER, ANNA, KOSTAS, ELENI, *RESIDENTS)))
    in_groups = in_groups.filter(lambda pair: own.get(pair[0]) != pair[1])
    privately = st.sampled_from(RESIDENTS).map(lambda r: (r, r))
    return st.one_of(in_groups, privately)


def test_a_forged_press_is_answered_and_changes_nothing(world):
    before = world.snapshot()

    @EXAMPLES
    @given(where=_pressers(), data=_presses(world), pick=st.integers(0, 1000))
    def check(where, data, pick):
        chat, person = where
        messages = world.bot_messages(chat)
        message = messages[pick % len(messages)]
        query = world.run(world.tg.forge_press(person, message, data))
        world.feed(world.tg.pending_updates[-1])
        assert_clean(world)
        assert any(a["callback_query_id"] == query for a in world.tg.answers), f"{data!r} not answered"
        assert world.snapshot() == before, f"{person} pressing {data!r} in {chat} changed something"
    check()


# --- strangers in the groups, and updates the helpline does not expect ---------------------------

def _group_update(world, chat, person, content, reply):
    messages = world.bot_messages(chat) if chat != ELSEWHERE else []
    target = messages[reply % len(messages)] if messages and reply >= 0 else None
    return send(world, person, content, chat, target)


def test_strangers_and_odd_updates_in_groups_change_nothing(world):
    before = world.snapshot()
    where = st.sampled_from((LIGHTING, TECHNICAL, OPERATORS, OMBUDSMAN, ELSEWHERE))
    who = st.sampled_from((STRANGER, *RESIDENTS))

    @EXAMPLES
    @given(chat=where, person=who, content=contents, reply=st.integers(-1, 20), wrapper=st.sampled_from(
        ["message", "reply", "edited_message", "channel_post", "edited_channel_post", "inline_query",
         "private_edit"]))
    def check(chat, person, content, reply, wrapper):
        if wrapper in ("message", "reply"):
            update = _group_update(world, chat, person, content, reply if wrapper == "reply" else -1)
        elif wrapper == "private_edit":
            message = dict(send(world, person, content)["message"], edit_date=1_772_600_000)
            update = {"edited_message": message}
        elif wrapper == "edited_message":
            message = dict(_group_update(world, chat, person, content, -1)["message"], edit_date=1_772_600_000)
            update = {"edited_message": message}
        elif wrapper == "inline_query":
            update = {"inline_query": {"id": str(next(files)), "from": world.tg.state.users[person].as_json(),
                                       "query": (content.get("text") or "")[:256], "offset": ""}}
        else:
            update = {wrapper: {"message_id": next(files), "date": 1_772_600_000, **real_files(world, content),
                                "chat": {"id": -1007770001, "type": "channel", "title": "News"},
                                "sender_chat": {"id": -1007770001, "type": "channel", "title": "News"}}}
        world.feed(world.run(world.tg.enqueue(update)) if "update_id" not in update else update)
        assert_clean(world)
        assert world.snapshot() == before, f"{wrapper} from {person} in {chat} changed something"
    check()
