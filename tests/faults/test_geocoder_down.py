"""The geocoder down (Nominatim refusing, or too slow to answer): the resident is asked, politely, to share
the location instead, and the report is filed all the same."""
from __future__ import annotations

import pytest

from bot.i18n import Translator
from tests.support.fake_nominatim import FakeNominatim
from tests.support.stack import LOCALES
from tests.support.telegram_bot import Resident, running_bot, settings_for

pytestmark = pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)


@pytest.mark.parametrize("failure", ["500", "slow", "garbage"])
async def test_report_filed_with_a_shared_location_while_the_geocoder_is_down(tg, migrated_url, failure):
    with FakeNominatim(slow_s=6.0) as nominatim:
        nominatim.fail(failure)
        settings = settings_for(tg, migrated_url).model_copy(update={
            "geocoder": "nominatim", "nominatim_domain": nominatim.domain, "nominatim_scheme": "http",
            "nominatim_min_delay_s": 0})
        async with running_bot(tg, settings) as app:
            maria = Resident(tg, 5301, "Maria", "en", Translator(LOCALES, app.profile.calendar.timezone))
            await maria.say("/start")
            await maria.tap("English")
            await maria.say("The street light outside my house has been dark for a week")
            await maria.tap(maria.label("category_streetlight", "en"))
            asked = await maria.say("Dimokratias 12")
            assert maria.expected("geocoder_down", "en") in asked
            assert tg.last_to(5301).reply_markup["keyboard"][0][0]["request_location"] is True
            place = await maria.location(40.3007, 21.7887)     # the reverse look-up fails too
            assert maria.expected("ask_photo", "en") in place
            await maria.tap(maria.label("btn_skip", "en"))
            filed = await maria.tap(maria.label("btn_send", "en"))
            [ticket] = app.helpline.tickets()
            assert ticket.ref in filed
            assert (ticket.location.lat, ticket.location.lon) == pytest.approx((40.3007, 21.7887))
        assert nominatim.requests, "the geocoder was asked"
