"""Finding typed addresses: the offline street list of each shipped profile, and Nominatim (a local fake)."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from geopy.distance import distance
from geopy.geocoders import Nominatim

from bot.geo import GeopyPlaces, OfflineGazetteer, make_geocoder
from bot.profiles import load_profile
from bot.settings import Settings
from core.ports import GeocodingUnavailable
from core.routing import inside_boundary
from tests.support.fake_nominatim import FakeNominatim, FakePlace

PROFILES = Path(__file__).resolve().parents[2] / "data" / "municipalities"
SLUGS = ("kozani", "petroupoli", "kranj", "velenje", "sderot")
AGENT = "kozani-helpline-test/1.0 (it@kozani.example)"


@pytest.fixture(scope="module")
def profiles():
    return {slug: load_profile(slug, PROFILES) for slug in SLUGS}


def offline(profile) -> GeopyPlaces:
    return GeopyPlaces(OfflineGazetteer(profile.gazetteer.streets), profile)


# --- the offline street list -------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["Ermou", "ερμου", "ΕΡΜΟΥ", "Ερμού 12", "odos ermou", "Οδός Ερμού 12",
                                   "odos Ermou 12", "ERMOY", "ermu 3"])
async def test_ermou_in_kozani_is_found_however_it_is_typed(profiles, typed):
    kozani = profiles["kozani"]
    place = await offline(kozani).geocode(typed)
    assert place is not None and place.address == "Ερμού"
    assert (place.lat, place.lon) == kozani.gazetteer.streets["Ερμού"]


@pytest.mark.parametrize("slug, typed, street", [
    ("kozani", "Eleftheriou Venizelou 3", "Ελευθερίου Βενιζέλου"),
    ("kozani", "Paulou Mela", "Παύλου Μελά"),
    ("kozani", "pavlou mela 8", "Παύλου Μελά"),
    ("kozani", "Pavlou Charisi", "Παύλου Χαρίση"),
    ("kozani", "Ksenofontos 4", "Ξενοφώντος"),
    ("kozani", "Xenofontos", "Ξενοφώντος"),
    ("kozani", "Nikolaou Chalkia", "Νικολάου Χαλκιά"),
    ("kozani", "nikolaou halkia", "Νικολάου Χαλκιά"),
    ("kozani", "plateia Lasani", "Πλατεία Λασσάνη"),
    ("kozani", "platia Nikis", "Πλατεία Νίκης"),
    ("kozani", "28is Oktovriou", "28ης Οκτωβρίου"),
    ("kozani", "28 Oktwbriou", "28ης Οκτωβρίου"),
    ("kozani", "Kyprou 5", "Κύπρου"),
    ("kozani", "Takiatzidwn", "Τακιατζήδων"),
    ("kozani", "Vasiliou Fori", "Βασιλείου Φόρη"),
    ("kozani", "Dimokratias 20", "Δημοκρατίας"),
    ("kozani", "Ionos Dragoumi", "Ίωνος Δραγούμη"),
    ("petroupoli", "Karaiskaki 7", "Καραϊσκάκη"),
    ("petroupoli", "Boumpoulinas", "Μπουμπουλίνας"),
    ("petroupoli", "Bouboulinas", "Μπουμπουλίνας"),
    ("petroupoli", "leoforos 25is Martiou", "Λεωφόρος 25ης Μαρτίου"),
    ("petroupoli", "25 Martiou", "Λεωφόρος 25ης Μαρτίου"),
    ("petroupoli", "Agias Triados", "Αγίας Τριάδος"),
    ("petroupoli", "Thrakis 1", "Θράκης"),
])
async def test_greeklish_finds_the_greek_street(profiles, slug, typed, street):
    place = await offline(profiles[slug]).geocode(typed)
    assert place is not None and place.address == street


@pytest.mark.parametrize("slug, typed, street", [
    ("kranj", "Presernova", "Prešernova ulica"),
    ("kranj", "PRESERNOVA ULICA 3", "Prešernova ulica"),
    ("kranj", "skofjeloska cesta 10", "Škofjeloška cesta"),
    ("kranj", "Tomsiceva ul. 2", "Tomšičeva ulica"),
    ("kranj", "glavni trg", "Glavni trg"),
    ("velenje", "saleska c. 12", "Šaleška cesta"),
    ("velenje", "Zarova", "Žarova cesta"),
])
async def test_slovenian_streets_are_found_without_diacritics(profiles, slug, typed, street):
    place = await offline(profiles[slug]).geocode(typed)
    assert place is not None and place.address == street


@pytest.mark.parametrize("typed, street", [
    ("ברחוב הרצל", "הרצל"),
    ("להרצל", "הרצל"),
    ("רחוב הרצל 12", "הרצל"),
    ("בז'בוטינסקי 3", "ז'בוטינסקי"),
    ("ברמב״ם", 'רמב"ם'),
    ("בנשיאים", "הנשיאים"),
    ("דרך מנחם בגין 5", "דרך מנחם בגין"),
    ("מנחם בגין", "דרך מנחם בגין"),
])
async def test_hebrew_streets_are_found_with_prefixes(profiles, typed, street):
    place = await offline(profiles["sderot"]).geocode(typed)
    assert place is not None and place.address == street


@pytest.mark.parametrize("slug", SLUGS)
async def test_every_shipped_street_is_found_by_its_own_name(profiles, slug):
    """In capitals, without accents, with a house number: each street of the sample list finds itself."""
    profile = profiles[slug]
    places = offline(profile)
    for name in profile.gazetteer.streets:
        for typed in (name, name.upper(), f"{name} 14", _without_accents(name)):
            place = await places.geocode(typed)
            assert place is not None and place.address == name, typed


def _without_accents(text: str) -> str:
    return text.translate(str.maketrans("άέήίόύώΆΈΉΊΌΎΏšžčŠŽČ", "αεηιουωΑΕΗΙΟΥΩszcSZC"))


async def test_the_street_named_most_fully_wins(profiles):
    streets = {"Βενιζέλου": (40.301, 21.789), "Ελευθερίου Βενιζέλου": (40.302, 21.785)}
    places = GeopyPlaces(OfflineGazetteer(streets), profiles["kozani"])
    assert (await places.geocode("Eleftheriou Venizelou 5")).address == "Ελευθερίου Βενιζέλου"
    assert (await places.geocode("Venizelou 5")).address == "Βενιζέλου"


@pytest.mark.parametrize("slug, typed", [
    ("kozani", "Nowhere Street 99"),
    ("kozani", "odos 12"),
    ("kozani", ""),
    ("kranj", "Ερμού"),
    ("kranj", "ulica"),
    ("kranj", "cesta 5"),
    ("sderot", "רחוב"),
    ("sderot", "Herzl"),
])
async def test_an_unknown_street_is_not_found(profiles, slug, typed):
    assert await offline(profiles[slug]).geocode(typed) is None


@pytest.mark.parametrize("slug", SLUGS)
async def test_reverse_names_the_street_at_a_point(profiles, slug):
    profile = profiles[slug]
    places = offline(profile)
    for name, (lat, lon) in profile.gazetteer.streets.items():
        assert await places.reverse(lat, lon) == name


async def test_reverse_finds_the_nearest_street_within_400_metres_and_nothing_further(profiles):
    north, south = (46.2400, 14.3550), (46.2300, 14.3550)
    places = GeopyPlaces(OfflineGazetteer({"North Street": north, "South Street": south}), profiles["kranj"])
    near_north = distance(meters=300).destination(north, bearing=0)
    near_south = distance(meters=350).destination(south, bearing=180)
    far_away = distance(meters=500).destination(north, bearing=0)
    assert await places.reverse(near_north.latitude, near_north.longitude) == "North Street"
    assert await places.reverse(near_south.latitude, near_south.longitude) == "South Street"
    assert await places.reverse(far_away.latitude, far_away.longitude) is None


# --- Nominatim, against a local fake -----------------------------------------------------------------

ERMOU = FakePlace(
    "12, Ερμού, Κέντρο, Κοζάνη, Δήμος Κοζάνης, Περιφερειακή Ενότητα Κοζάνης, Περιφέρεια Δυτικής Μακεδονίας, "
    "501 00, Ελλάδα", 40.2993, 21.7865,
    {"house_number": "12", "road": "Ερμού", "suburb": "Κέντρο", "city": "Κοζάνη", "postcode": "501 00",
     "country": "Ελλάδα"})


@pytest.fixture
def fake():
    with FakeNominatim([ERMOU]) as server:
        yield server


def nominatim(fake: FakeNominatim, profile, min_delay_s: float = 0.0, timeout: float = 1.0) -> GeopyPlaces:
    geocoder = Nominatim(domain=fake.domain, scheme="http", user_agent=AGENT, timeout=timeout)
    return GeopyPlaces(geocoder, profile, min_delay_s)


def corner_outside(profile) -> tuple[float, float]:
    """A point in the municipality's bounding box but outside its boundary (Nominatim's box is rectangular)."""
    lat = max(lat for _, lat in profile.boundary) - 0.001
    lon = max(lon for lon, _ in profile.boundary) - 0.001
    assert not inside_boundary(profile, lat, lon)
    return lat, lon


async def test_nominatim_finds_an_address_inside_the_municipality(fake, profiles):
    place = await nominatim(fake, profiles["kozani"]).geocode("Ερμού 12")
    assert place is not None and (place.lat, place.lon) == pytest.approx((ERMOU.lat, ERMOU.lon))
    assert place.address.startswith("Ερμού 12") and "Ελλάδα" not in place.address


async def test_nominatim_asks_only_inside_the_municipality_and_says_who_is_asking(fake, profiles):
    kozani = profiles["kozani"]
    await nominatim(fake, kozani).geocode("Ερμού 12")
    [request] = fake.requests
    assert request.path == "/search" and request.params["q"] == "Ερμού 12"
    assert request.headers["User-Agent"] == AGENT
    assert request.params["bounded"] == "1" and request.params["countrycodes"] == "gr"
    lon1, lat1, lon2, lat2 = (float(v) for v in request.params["viewbox"].split(","))
    assert sorted((lon1, lon2)) == [min(x for x, _ in kozani.boundary), max(x for x, _ in kozani.boundary)]
    assert sorted((lat1, lat2)) == [min(y for _, y in kozani.boundary), max(y for _, y in kozani.boundary)]
    assert request.params["accept-language"] == kozani.default_language


async def test_a_result_outside_the_boundary_is_skipped(fake, profiles):
    kozani = profiles["kozani"]
    lat, lon = corner_outside(kozani)
    fake.places = [FakePlace("Ερμού, Ξηρολίμνη, Ελλάδα", lat, lon, {"road": "Ερμού"}), ERMOU]
    place = await nominatim(fake, kozani).geocode("Ερμού")
    assert place is not None and (place.lat, place.lon) == pytest.approx((ERMOU.lat, ERMOU.lon))
    fake.places = fake.places[:1]
    assert await nominatim(fake, kozani).geocode("Ερμού") is None


async def test_nominatim_finding_nothing_is_not_an_error(fake, profiles):
    assert await nominatim(fake, profiles["kozani"]).geocode("Nowhere Street 99") is None


async def test_reverse_gives_a_short_address_or_none_far_away(fake, profiles):
    places = nominatim(fake, profiles["kozani"])
    address = await places.reverse(ERMOU.lat + 0.0001, ERMOU.lon)
    assert address is not None and address.startswith("Ερμού 12") and len(address) < len(ERMOU.display_name) / 2
    assert fake.requests[0].path == "/reverse" and fake.requests[0].headers["User-Agent"] == AGENT
    assert await places.reverse(40.3200, 21.8000) is None


async def test_calls_are_spaced_by_the_minimum_delay(fake, profiles):
    delay = 0.25
    places = nominatim(fake, profiles["kozani"], min_delay_s=delay)
    await places.geocode("Ερμού 12")
    await places.geocode("Ερμού")
    await places.reverse(ERMOU.lat, ERMOU.lon)
    arrivals = [r.at for r in fake.requests]
    assert len(arrivals) == 3
    assert all(later - earlier >= delay - 0.02 for earlier, later in zip(arrivals, arrivals[1:]))


async def test_without_a_delay_calls_are_not_held_back(fake, profiles):
    places = nominatim(fake, profiles["kozani"], min_delay_s=0.0)
    started = time.monotonic()
    for _ in range(3):
        await places.geocode("Ερμού 12")
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize("failure", ["500", "garbage", "odd_json"])
@pytest.mark.parametrize("call", ["geocode", "reverse"])
async def test_a_failing_service_is_reported_unavailable_at_once(fake, profiles, failure, call):
    fake.fail(failure)
    places = nominatim(fake, profiles["kozani"], min_delay_s=0.5)
    started = time.monotonic()
    with pytest.raises(GeocodingUnavailable):
        await (places.geocode("Ερμού 12") if call == "geocode" else places.reverse(ERMOU.lat, ERMOU.lon))
    assert time.monotonic() - started < 0.5
    assert len(fake.requests) == 1


@pytest.mark.parametrize("call", ["geocode", "reverse"])
async def test_a_slow_service_is_given_up_on_after_the_timeout(fake, profiles, call):
    fake.fail("slow")
    timeout = 0.5
    places = nominatim(fake, profiles["kozani"], timeout=timeout)
    started = time.monotonic()
    with pytest.raises(GeocodingUnavailable):
        await (places.geocode("Ερμού 12") if call == "geocode" else places.reverse(ERMOU.lat, ERMOU.lon))
    assert time.monotonic() - started < timeout + 0.5
    assert len(fake.requests) == 1


async def test_a_service_that_is_down_is_reported_unavailable(profiles):
    server = FakeNominatim([ERMOU]).start()
    places = nominatim(server, profiles["kozani"])
    server.stop()
    with pytest.raises(GeocodingUnavailable):
        await places.geocode("Ερμού 12")


async def test_the_service_is_used_again_once_it_recovers(fake, profiles):
    places = nominatim(fake, profiles["kozani"])
    fake.fail("500")
    with pytest.raises(GeocodingUnavailable):
        await places.geocode("Ερμού 12")
    fake.fail(None)
    assert await places.geocode("Ερμού 12") is not None


# --- choosing the geocoder from the settings --------------------------------------------------------

async def test_settings_choose_nominatim_at_the_configured_address(fake, profiles):
    settings = Settings(geocoder="nominatim", nominatim_domain=fake.domain, nominatim_scheme="http",
                        nominatim_user_agent=AGENT, nominatim_min_delay_s=0.0)
    place = await make_geocoder(settings, profiles["kozani"]).geocode("Ερμού 12")
    assert place is not None and place.address.startswith("Ερμού 12")
    [request] = fake.requests
    assert request.path == "/search" and request.headers["User-Agent"] == AGENT


async def test_settings_choose_the_offline_street_list(fake, profiles):
    settings = Settings(geocoder="offline", nominatim_domain=fake.domain, nominatim_scheme="http")
    place = await make_geocoder(settings, profiles["kozani"]).geocode("odos Ermou 12")
    assert place is not None and place.address == "Ερμού"
    assert fake.requests == []
