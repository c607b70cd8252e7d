"""The fake Telegram server, driven by the real python-telegram-bot client over HTTP."""
from __future__ import annotations

import json

import httpx
import pytest
from telegram import (ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup,
                      ReplyKeyboardRemove)
from telegram.error import BadRequest, Conflict, Forbidden, RetryAfter, TelegramError, TimedOut
from telegram.request import HTTPXRequest
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler

from tests.support.fake_telegram import FakeTelegram
from tests.support.fake_telegram.html import HtmlError, parse_html

ALICE = 1001
STAFF_GROUP = -1002003004005


@pytest.fixture
async def tg():
    async with FakeTelegram() as fake:
        fake.user(ALICE, "Alice", language_code="el", started=True)
        yield fake


@pytest.fixture
async def bot(tg):
    async with tg.bot() as client:
        yield client


def one_button(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Pothole", callback_data=data)]])


async def test_a_sent_message_reaches_the_chat_as_the_person_sees_it(tg, bot):
    message = await bot.send_message(ALICE, "<b>Ticket</b> KOZ-12 &amp; more", parse_mode="HTML")

    assert message.text == "Ticket KOZ-12 & more"
    assert message.entities[0].type == "bold" and message.entities[0].length == len("Ticket")
    assert tg.plain_text(tg.last_to(ALICE)) == "Ticket KOZ-12 & more"
    assert tg.last_to(ALICE).message_id == message.message_id


async def test_text_longer_than_4096_utf16_units_is_refused(tg, bot):
    await bot.send_message(ALICE, "a" * 4096)
    await bot.send_message(ALICE, "😀" * 2048)
    for too_long in ("a" * 4097, "😀" * 2049, "<b>" + "a" * 4097 + "</b>"):
        with pytest.raises(BadRequest, match="(?i)message is too long"):
            await bot.send_message(ALICE, too_long, parse_mode="HTML")
    assert len(tg.messages_to(ALICE)) == 2


async def test_tags_do_not_count_towards_the_length(tg, bot):
    await bot.send_message(ALICE, "<i>" + "a" * 4096 + "</i>", parse_mode="HTML")
    assert len(tg.last_to(ALICE).text) == 4096


async def test_empty_text_is_refused(tg, bot):
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(ALICE, "<b> </b>", parse_mode="HTML")


async def test_invalid_html_is_refused_with_cant_parse_entities(tg, bot):
    for html in ("Reports < 5 days old", "<b>bold", "<b><i>x</b></i>", "x</b>", "<br>", "<span>x</span>",
                 "fish & chips", "a > b", '<a href="x>y</a>'):
        with pytest.raises(BadRequest, match="(?i)can't parse entities"):
            await bot.send_message(ALICE, html, parse_mode="HTML")
    assert tg.sent == []


async def test_escaped_html_is_accepted_and_shown_unescaped(tg, bot):
    await bot.send_message(ALICE, "Reports &lt; 5 days &amp; &#34;urgent&#x22; &gt; rest", parse_mode="HTML")
    assert tg.last_to(ALICE).text == 'Reports < 5 days & "urgent" > rest'


async def test_the_same_text_without_parse_mode_is_plain(tg, bot):
    await bot.send_message(ALICE, "Reports < 5 days & <b>")
    assert tg.last_to(ALICE).text == "Reports < 5 days & <b>"


async def test_callback_data_is_limited_to_64_bytes(tg, bot):
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE, "Which problem?", reply_markup=one_button("x" * 65))
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE, "Which problem?", reply_markup=one_button("δ" * 33))
    await bot.send_message(ALICE, "Which problem?", reply_markup=one_button("δ" * 32))
    assert tg.buttons(tg.last_to(ALICE)) == [("Pothole", "δ" * 32)]


async def test_inline_button_needs_exactly_one_action(bot):
    for button in ({"text": "Pothole"}, {"text": "Pothole", "callback_data": "p", "url": "https://example.org"}):
        with pytest.raises(BadRequest, match="(?i)can't parse inline keyboard button"):
            await bot.send_message(ALICE, "Which?", reply_markup={"inline_keyboard": [[button]]})


async def test_reply_keyboards_remove_and_force_reply_are_accepted(tg, bot):
    share = ReplyKeyboardMarkup([[KeyboardButton("Share location", request_location=True)]], resize_keyboard=True)
    for markup in (share, ReplyKeyboardRemove(), ForceReply()):
        await bot.send_message(ALICE, "Where is it?", reply_markup=markup)
    assert tg.buttons(tg.messages_to(ALICE)[0]) == [("Share location", None)]
    assert tg.messages_to(ALICE)[1].reply_markup == {"remove_keyboard": True}


async def test_editing_with_the_same_content_is_refused(tg, bot):
    sent = await bot.send_message(ALICE, "<b>Open</b>", parse_mode="HTML", reply_markup=one_button("ack"))
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("<b>Open</b>", ALICE, sent.message_id, parse_mode="HTML",
                                    reply_markup=one_button("ack"))
    await bot.edit_message_text("<b>Open</b>", ALICE, sent.message_id, parse_mode="HTML")

    message = tg.last_to(ALICE)
    assert message.reply_markup is None
    assert [version["reply_markup"] for version in message.edits] == [one_button("ack").to_dict()]


async def test_formatting_alone_is_a_modification(tg, bot):
    sent = await bot.send_message(ALICE, "Open")
    await bot.edit_message_text("<i>Open</i>", ALICE, sent.message_id, parse_mode="HTML")
    assert tg.last_to(ALICE).entities[0]["type"] == "italic"


async def test_editing_needs_an_existing_bot_message_and_an_inline_keyboard(tg, bot):
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("Fixed", ALICE, 999)
    sent = await bot.send_message(ALICE, "Open")
    with pytest.raises(BadRequest, match="(?i)inline keyboard expected"):
        await bot.edit_message_text("Fixed", ALICE, sent.message_id, reply_markup=ReplyKeyboardRemove())
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_reply_markup(ALICE, sent.message_id)


async def test_get_updates_delivers_a_residents_message(tg, bot):
    await tg.send_text(ALICE, "Η λάμπα είναι σβηστή")

    updates = await bot.get_updates(timeout=1)

    assert [u.message.text for u in updates] == ["Η λάμπα είναι σβηστή"]
    assert updates[0].message.from_user.language_code == "el"
    assert updates[0].effective_chat.id == ALICE
    assert await bot.get_updates(offset=updates[0].update_id + 1) == ()
    assert tg.pending_updates == []


async def test_unconfirmed_updates_are_delivered_again(tg, bot):
    await tg.send_command(ALICE, "/start kozani")
    first = await bot.get_updates()
    again = await bot.get_updates()
    assert [u.update_id for u in again] == [u.update_id for u in first]
    assert first[0].message.text == "/start kozani"
    assert first[0].message.entities[0].type == "bot_command" and first[0].message.entities[0].length == 6


async def test_long_poll_returns_as_soon_as_a_resident_writes(tg, bot):
    import asyncio
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    assert not poll.done()
    await tg.send_location(ALICE, 40.3, 21.79)
    updates = await asyncio.wait_for(poll, 2)
    assert updates[0].message.location.latitude == 40.3


async def test_get_updates_conflicts_with_a_webhook(bot):
    await bot.set_webhook("https://helpline.example.org/telegram", secret_token="s3cret")
    assert (await bot.get_webhook_info()).url == "https://helpline.example.org/telegram"
    with pytest.raises(Conflict):
        await bot.get_updates()
    with pytest.raises(BadRequest, match="(?i)HTTPS URL"):
        await bot.set_webhook("http://helpline.example.org/telegram")
    await bot.delete_webhook()
    assert await bot.get_updates() == ()


async def test_callback_queries_are_answered_once_within_15_minutes(tg, bot):
    sent = await bot.send_message(ALICE, "Which problem?", reply_markup=one_button("cat:pothole"))
    first = await tg.press(ALICE, tg.last_to(ALICE), "cat:pothole")
    second = await tg.tap(ALICE, tg.last_to(ALICE), "Pothole")

    updates = await bot.get_updates()
    assert updates[0].callback_query.data == "cat:pothole"
    assert updates[0].callback_query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(first, text="Noted")
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(first)
    tg.advance(15 * 60 + 1)
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(second)
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query("no-such-query")
    assert [a["text"] for a in tg.answers] == ["Noted"]


async def test_unknown_chats_and_people_who_never_wrote_are_refused(tg, bot):
    tg.user(2002, "Bob")
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(424242, "Hello")
    with pytest.raises(Forbidden, match="(?i)can't initiate conversation"):
        await bot.send_message(2002, "Hello")
    await tg.send_text(2002, "hi")
    await bot.send_message(2002, "Hello")
    tg.block(2002)
    with pytest.raises(Forbidden, match="(?i)blocked"):
        await bot.send_message(2002, "Hello again")
    assert [call.error for call in tg.calls_to("sendMessage")][:2] == ["Bad Request: chat not found",
                                                                       "Forbidden: bot can't initiate conversation with a user"]


async def test_a_staff_group_gets_messages_and_its_members_press_buttons(tg, bot):
    tg.group(STAFF_GROUP, "Roads department")
    clerk = tg.user(3003, "Clerk")
    await bot.send_message(STAFF_GROUP, "New ticket", reply_markup=one_button("ack:12"))
    await tg.press(clerk, tg.last_to(STAFF_GROUP), "ack:12")
    update = (await bot.get_updates())[0]
    assert update.callback_query.message.chat.type == "supergroup"
    assert update.callback_query.from_user.id == 3003


async def test_retry_after_reaches_the_client(tg, bot):
    tg.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as refused:
        await bot.send_message(ALICE, "Hello")
    assert "retry in 7 seconds" in str(refused.value).lower()
    await bot.send_message(ALICE, "Hello")
    assert [c.status for c in tg.calls_to("sendMessage")] == [429, 200]


async def test_rate_limits_when_switched_on(tg, bot):
    tg.rate_limits = True
    await bot.send_message(ALICE, "one")
    with pytest.raises(RetryAfter):
        await bot.send_message(ALICE, "two")
    tg.advance(1)
    await bot.send_message(ALICE, "two")
    assert [m.text for m in tg.messages_to(ALICE)] == ["one", "two"]


async def test_timeouts_and_garbage(tg):
    async with tg.bot(request=HTTPXRequest(read_timeout=0.2)) as impatient:
        tg.fail_next("sendMessage", "timeout", delivered=True, hang_seconds=1)
        tg.fail_next("getMe", "garbage")
        with pytest.raises(TimedOut):
            await impatient.send_message(ALICE, "Did this arrive?")
        assert tg.last_to(ALICE).text == "Did this arrive?"
        with pytest.raises(TelegramError, match="(?i)Invalid server response"):
            await impatient.get_me()
    tg.fail_next("sendMessage", 500, times=2)
    async with tg.bot() as client:
        for _ in range(2):
            with pytest.raises(TelegramError, match="(?i)Internal Server Error"):
                await client.send_message(ALICE, "again")
        await client.send_message(ALICE, "again")


async def test_unknown_methods_and_tokens_answer_like_telegram(tg):
    async with httpx.AsyncClient() as client:
        unknown = await client.post(f"{tg.base_url}{tg.token}/sendTelepathy", data={"chat_id": ALICE})
        wrong_token = await client.post(f"{tg.base_url}123:WRONG/getMe")
        json_body = await client.post(f"{tg.base_url}{tg.token}/SENDMESSAGE", json={"chat_id": ALICE, "text": "hi"})
    assert (unknown.status_code, unknown.json()) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    assert wrong_token.status_code == 401
    assert json_body.json()["result"]["text"] == "hi"


async def test_photos_have_increasing_sizes_and_can_be_downloaded(tg, bot):
    await tg.send_photo(ALICE, sizes=3, caption="Here")
    photo = (await bot.get_updates())[0].message.photo
    assert [p.width for p in photo] == sorted(p.width for p in photo) and len({p.file_id for p in photo}) == 3
    largest = await photo[-1].get_file()
    content = await largest.download_as_bytearray()
    assert len(content) == largest.file_size and content.startswith(b"\xff\xd8")
    echoed = await bot.send_photo(ALICE, photo[-1].file_id, caption="<b>Your photo</b>", parse_mode="HTML")
    assert echoed.caption == "Your photo"
    uploaded = await bot.send_photo(ALICE, b"\xff\xd8uploaded\xff\xd9")
    assert await (await uploaded.photo[-1].get_file()).download_as_bytearray() == b"\xff\xd8uploaded\xff\xd9"
    with pytest.raises(BadRequest, match="(?i)caption is too long"):
        await bot.send_photo(ALICE, photo[0].file_id, caption="x" * 1025)


async def test_venues_locations_commands_actions_and_deletion(tg, bot):
    await tg.send_venue(ALICE, 40.3, 21.79, "Town hall", "Kozani")
    venue = (await bot.get_updates())[0].message.venue
    assert venue.title == "Town hall" and venue.location.longitude == 21.79
    await bot.send_location(ALICE, 40.3, 21.79)
    await bot.send_chat_action(ALICE, "typing")
    with pytest.raises(BadRequest, match="(?i)wrong parameter action"):
        await bot.send_chat_action(ALICE, "dancing")
    await bot.set_my_commands([("start", "Start"), ("report", "Report a problem")], language_code="el")
    assert [c.command for c in await bot.get_my_commands(language_code="el")] == ["start", "report"]
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([("Report-Now", "x")])
    sent = await bot.send_message(ALICE, "oops")
    await bot.delete_message(ALICE, sent.message_id)
    assert tg.last_to(ALICE).media["location"]["latitude"] == 40.3
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await bot.delete_message(ALICE, sent.message_id)


async def test_wait_for_waits_until_the_bot_has_sent(tg, bot):
    import asyncio
    asyncio.get_running_loop().call_later(0.1, lambda: asyncio.ensure_future(bot.send_message(ALICE, "Later")))
    message = await tg.wait_for(lambda fake: fake.last_to(ALICE))
    assert message.text == "Later"
    with pytest.raises(AssertionError, match="(?i)timed out"):
        await tg.wait_for(2, timeout=0.2)


async def test_webhook_posts_carry_the_secret_token(tg):
    received = []

    class Receiver(RequestHandler):
        def post(self):
            received.append((self.request.headers.get("X-Telegram-Bot-Api-Secret-Token"), self.request.body))

    sockets = bind_sockets(0, "127.0.0.1")
    server = HTTPServer(Application([(r"/hook", Receiver)]))
    server.add_sockets(sockets)
    try:
        update = await tg.send_text(ALICE, "hi")
        status = await tg.post_update_to(f"http://127.0.0.1:{sockets[0].getsockname()[1]}/hook", update, "s3cret")
    finally:
        server.stop()
    assert status == 200 and received[0][0] == "s3cret"
    assert json.loads(received[0][1])["message"]["text"] == "hi"


def test_in_thread_serves_sync_callers():
    with FakeTelegram.in_thread() as tg:
        tg.user(ALICE, "Alice", started=True)
        tg.send_text(ALICE, "hello")
        answer = httpx.post(f"{tg.base_url}{tg.token}/getUpdates", data={"timeout": 1}).json()
        assert answer["result"][0]["message"]["text"] == "hello"
        httpx.post(f"{tg.base_url}{tg.token}/sendMessage", data={"chat_id": ALICE, "text": "hi there"})
        assert tg.wait_for(1).text == "hi there"


def test_html_parser_reports_telegrams_errors_with_byte_offsets():
    with pytest.raises(HtmlError, match=r'(?i)Unmatched end tag at byte offset 9, expected "</i>", found "</b>"'):
        parse_html("<b>é<i>x</b></i>")
    with pytest.raises(HtmlError, match=r'(?i)Unsupported start tag "" at byte offset 2'):
        parse_html("a < b", strict=False)
    assert parse_html("fish & chips > x", strict=False)[0] == "fish & chips > x"


def test_html_entities_are_counted_in_utf16_units():
    text, entities = parse_html('😀 <a href="https://x.org/?a=1&amp;b=2">map</a> <pre><code class="language-py">'
                                'x</code></pre> <blockquote expandable>q</blockquote>')
    assert text == "😀 map x q"
    assert entities == [{"offset": 3, "length": 3, "type": "text_link", "url": "https://x.org/?a=1&b=2"},
                        {"offset": 7, "length": 1, "type": "pre", "language": "py"},
                        {"offset": 9, "length": 1, "type": "expandable_blockquote"}]
