"""The resident conversation end to end through the terminal channel, on both databases.

Each test reads what a resident would read on the screen and checks what ended up in the database.
"""
import pytest

from core.dialogue import T
from core.tickets import Actor, Role, Status
from tests.support.stack import build_stack

SQUARE = "/loc 40.3007,21.7887"          # Πλατεία Νίκης, Kozani's central square
ATHENS = "/loc 37.9838,23.7275"


@pytest.fixture
def stack(uow_factory):
    return build_stack(uow_factory)


async def report_by_buttons(t, category="Street light", place=SQUARE):
    await t.say("/start")
    await t.press("English")
    await t.press("Report a problem")
    await t.press(category)
    await t.say("The lamp outside the bakery has been dark for a week")
    out = await t.say(place)
    return out


async def test_a_report_with_buttons_only_files_a_ticket(stack):
    t = stack.console()
    greeting = await t.say("/start")
    assert "citizen's line" in greeting and "/forget" in greeting
    await t.press("English")
    await t.press("Report a problem")
    await t.press("Street light")
    await t.press("Skip")                      # no description needed
    asked = await t.say(SQUARE)
    assert "Place:" in asked and "photo" in asked.lower()
    summary = await t.press("Skip")
    assert "Please check your report" in summary and "Street light" in summary
    filed = await t.press("Send the report")
    assert "Your report is KOZ-2026-00001" in filed and "We promise to respond by" in filed
    [ticket] = stack.helpline.tickets()
    assert (ticket.ref, ticket.category, ticket.status) == ("KOZ-2026-00001", "streetlight", Status.NEW)
    assert ticket.location.lat == pytest.approx(40.3007) and ticket.resolve_due > ticket.created_at


async def test_typed_address_and_photo_reach_the_ticket(stack, tmp_path):
    photo = tmp_path / "hole.jpg"
    photo.write_bytes(b"\xff\xd8\xff")
    t = stack.console()
    await t.say("/start")
    await t.press("English")
    await t.say("huge hole in the road, my car tyre burst")
    await t.press("Pothole")
    place = await t.say("odos Ermou 12")                  # Greeklish, no accents
    assert "Ερμού" in place
    await t.say(f"/photo {photo}")
    await t.press("Send the report")
    [ticket] = stack.helpline.tickets()
    assert ticket.description == "huge hole in the road, my car tyre burst"
    assert ticket.location.address == "Ερμού" and ticket.photos[0].file_id == str(photo)


async def test_an_unknown_address_offers_the_location_instead(stack):
    t = stack.console()
    await t.say("/start")
    await t.press("English")
    await t.press("Report a problem")
    await t.press("Pothole")
    await t.say("outside the church")
    out = await t.say("Nowhere Street 99")
    assert "could not find" in out and "/loc" in out
    out = await t.say(SQUARE)
    assert "Place:" in out


async def test_a_place_outside_the_municipality_is_refused_politely(stack):
    t = stack.console()
    out = await report_by_buttons(t, place=ATHENS)
    assert "outside" in out and "Kozani" in out
    assert stack.helpline.tickets() == []


async def test_a_nearby_open_report_is_offered_and_followed_instead_of_filed(stack):
    first = stack.console(chat_id=2001)
    await report_by_buttons(first)
    await first.press("Skip")
    await first.press("Send the report")
    second = stack.console(chat_id=2002, name="Nikos")
    offered = await report_by_buttons(second, place="/loc 40.30072,21.78874")
    assert "already reported" in offered and "KOZ-2026-00001" in offered
    followed = await second.press("Yes, it is KOZ-2026-00001")
    assert "You now follow KOZ-2026-00001" in followed and "2 people" in followed
    [ticket] = stack.helpline.tickets()
    assert ticket.supporter_count == 1 and ticket.priority >= 1


async def test_the_conversation_resumes_after_a_restart(uow_factory):
    t = build_stack(uow_factory).console()
    await report_by_buttons(t)
    buttons = t.console.buttons
    restarted = build_stack(uow_factory)               # a new process: nothing in memory survives
    t2 = restarted.console()
    t2.console.buttons = buttons                       # the resident still sees the same message
    summary = await t2.press("Skip")
    assert "Please check your report" in summary and "dark for a week" in summary
    assert "Your report is KOZ-2026-00001" in await t2.press("Send the report")


async def test_a_button_of_a_step_that_has_passed_is_not_acted_on(stack):
    t = stack.console()
    await report_by_buttons(t)
    old_buttons = t.console.buttons
    await t.press("Skip")
    await t.press("Send the report")
    t.console.buttons = old_buttons
    out = await t.press("Skip")
    assert "earlier step" in out
    assert len(stack.helpline.tickets()) == 1


async def test_status_by_number_in_free_text(stack):
    t = stack.console()
    await report_by_buttons(t)
    await t.press("Skip")
    await t.press("Send the report")
    other = stack.console(chat_id=3003)
    out = await other.say("what happened to koz-2026-00001??")
    assert "KOZ-2026-00001" in out and "received" in out
    assert "KOZ-2026-00009" in await other.say("/status KOZ-2026-00009") and \
        "cannot find" in await other.say("/status KOZ-2026-00009")


async def test_forget_erases_the_resident_and_keeps_the_ticket_anonymous(stack):
    t = stack.console()
    await report_by_buttons(t)
    await t.press("Skip")
    await t.press("Send the report")
    mine = await t.say("/mydata")
    assert "Maria" in mine and "KOZ-2026-00001" in mine
    await t.say("/forget")
    out = await t.press("Yes, erase my data")
    assert "erased" in out
    [ticket] = stack.helpline.tickets()
    assert ticket.reporter_id is None
    with stack.helpline.uow() as uow:
        assert uow.residents.by_telegram_id(1001) is None
        assert uow.conversations.load(1001) is None


async def test_long_text_with_markup_is_kept_whole_and_shown_safely(stack):
    t = stack.console()
    await t.say("/start")
    await t.press("English")
    long_text = "<b>Broken</b> & dangerous \u202egnikrap\u202c " + "x" * 5000
    await t.say(long_text)
    await t.press("Something else")
    await t.say(SQUARE)
    summary = await t.press("Skip")
    assert "<b>Broken</b> & dangerous" in summary        # shown as the resident typed it, not as markup
    assert len(summary) < 4096
    await t.press("Send the report")
    [ticket] = stack.helpline.tickets()
    assert ticket.description == long_text


async def test_cancel_at_any_step_leaves_nothing_behind(stack):
    t = stack.console()
    await report_by_buttons(t)
    out = await t.say("/cancel")
    assert "Cancelled" in out
    assert stack.helpline.tickets() == []


async def test_replies_follow_the_language_the_resident_writes_in(stack):
    t = stack.console(language=None)
    out = await t.say("Καλησπέρα, έχει μια μεγάλη λακκούβα στον δρόμο μας")
    assert stack.translator.plain(T("pick_category_plain"), "el") in out
    t_sl = stack.console(chat_id=1002, language=None)
    out = await t_sl.say("Na nasi ulici je ze dva tedna pokvarjena javna razsvetljava")
    assert stack.translator.plain(T("pick_category_plain"), "sl") in out


async def test_the_resident_answers_the_departments_question_in_the_chat(stack):
    t = stack.console()
    await report_by_buttons(t)
    await t.press("Skip")
    await t.press("Send the report")
    [ticket] = stack.helpline.tickets()
    clerk = Actor(Role.STAFF, "900", ticket.department)
    stack.helpline.change_status(ticket.ref, Status.NEEDS_INFO, clerk, "Which lamp post, the one by the kiosk?")
    out = await t.say(f"/status {ticket.ref}")
    assert "Which lamp post" in out
    assert "department needs more information" in await t.press("Answer the question")
    assert "your answer is added" in await t.say("Yes, the one by the kiosk, number 14")
    ticket = stack.helpline.ticket(ticket.ref)
    assert ticket.status is Status.ACKNOWLEDGED
    assert ticket.events[-2].note == "Yes, the one by the kiosk, number 14"



async def test_a_complaint_about_the_handling_reaches_the_ombudsmans_list(stack):
    t = stack.console()
    await report_by_buttons(t)
    await t.press("Skip")
    await t.press("Send the report")
    assert "Which report" in await t.say("/complain they closed it but the lamp is still dark")
    out = await t.press("KOZ-2026-00001")
    assert "complaint about KOZ-2026-00001 is recorded" in out and "Citizen's Advocate" in out
    [escalation] = stack.helpline.escalations(open_only=True)
    assert (escalation.ticket_ref, escalation.reason, escalation.level) == ("KOZ-2026-00001", "complaint", "ombudsman")
    assert escalation.note == "they closed it but the lamp is still dark"
    stranger = stack.console(chat_id=4004)
    assert "not one of your reports" in await stranger.say("/complain KOZ-2026-00001 nobody came")
    assert len(stack.helpline.escalations()) == 1


async def test_a_category_dangerous_by_nature_shows_the_emergency_numbers_when_filed(stack):
    t = stack.console()
    await t.say("/start")
    await t.press("English")
    await t.press("Report a problem")
    await t.press("Trees and green areas")
    await t.say("A big branch is hanging over the bus stop and swinging in the wind")
    await t.say(SQUARE)
    await t.press("Skip")
    filed = await t.press("Send the report")
    assert "Your report is KOZ-2026-00001" in filed
    assert "If someone is in danger, call now" in filed and "112" in filed and "199" in filed


async def test_an_ordinary_category_does_not_alarm(stack):
    t = stack.console()
    await report_by_buttons(t)
    await t.press("Skip")
    filed = await t.press("Send the report")
    assert "Your report is KOZ-2026-00001" in filed and "If someone is in danger" not in filed


async def test_a_nul_character_in_what_a_resident_types_is_dropped_not_fatal(stack):
    t = stack.console()
    await t.say("/start")
    await t.press("English")
    await t.press("Report a problem")
    await t.press("Street light")
    await t.say("The lamp\x00 by the bakery is dark")
    await t.say(SQUARE)
    await t.press("Skip")
    filed = await t.press("Send the report")
    assert "Your report is KOZ-2026-00001" in filed
    [ticket] = stack.helpline.tickets()
    assert ticket.description == "The lamp by the bakery is dark"
