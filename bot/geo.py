"""Places: geopy geocoders behind the core.ports.Geocoder port.

Two geopy geocoders: Nominatim (a municipality should run its own; domain and scheme are settings) behind
geopy's RateLimiter, and an offline gazetteer over the profile's sample street list, which implements geopy's
Geocoder interface so the two are interchangeable. geopy is synchronous: calls run in a worker thread so the
bot's event loop never waits on the network.
"""
from __future__ import annotations

import asyncio
import re
import unicodedata
from typing import Callable

from geopy.distance import distance
from geopy.exc import GeopyError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import Nominatim
from geopy.geocoders.base import Geocoder as GeopyGeocoder
from geopy.location import Location as GeopyLocation
from geopy.point import Point

from core.ports import GeocodingUnavailable, Place
from core.profile import Profile
from core.routing import inside_boundary

REVERSE_RADIUS_M = 400
NOMINATIM_TIMEOUT_S = 3.0
NOMINATIM_RESULTS = 5
HEBREW_PREFIXES = "הבלומשכ"
NO_QUOTES = str.maketrans("", "", "'\"`’ʼ׳״")   # ז'בוטינסקי and רמב"ם are typed with and without them

GREEK_PAIRS = {"ου": "ou", "αυ": "av", "ευ": "ev", "ηυ": "iv"}
GREEK_LETTERS = dict(zip("αβγδεζηθικλμνξοπρσςτυφχψω",
                         "a v g d e z i th i k l m n x o p r s s t i f ch ps o".split(), strict=True))
GREEK_DIAERESIS = str.maketrans({"ϊ": "i", "ΐ": "i", "ϋ": "i", "ΰ": "i"})
# Greeklish is typed many ways; both sides of a comparison are reduced to one spelling.
GREEKLISH = tuple((re.compile(pattern), spelling) for pattern, spelling in (
    (r"mp", "b"), (r"gg", "ng"), (r"ch|kh", "h"), (r"ph", "f"), (r"ks", "x"), (r"w", "o"), (r"o[uy]", "u"),
    (r"y", "i"), (r"[eo]i", "i"), (r"ai", "e"), (r"([ae])[uf]", r"\1v"), (r"b", "v"), (r"([a-z])\1", r"\1"),
))


def _greek_to_latin(text: str) -> str:
    """Greek letters as Greeklish typists write them: ου -> ou, ευ -> ev, θ -> th, η -> i."""
    out, i = [], 0
    while i < len(text):
        pair = text[i:i + 2]
        if pair in GREEK_PAIRS:
            out.append(GREEK_PAIRS[pair])
            i += 2
        else:
            out.append(GREEK_LETTERS.get(text[i], text[i]))
            i += 1
    return "".join(out)


def fold(text: str) -> str:
    """A spelling-blind key: no case, accents or punctuation, Greek in Latin letters, Greeklish variants merged.

    "Οδός Ερμού", "odos ermou" and "ΕΡΜΟΥ" fold alike; so do "Prešernova" and "presernova".
    """
    lowered = unicodedata.normalize("NFC", text.casefold()).translate(GREEK_DIAERESIS)
    bare = "".join(ch for ch in unicodedata.normalize("NFD", lowered) if not unicodedata.combining(ch))
    bare = re.sub(r"[^\w\s]", " ", bare.translate(NO_QUOTES))
    latin = _greek_to_latin(bare)
    for pattern, spelling in GREEKLISH:
        latin = pattern.sub(spelling, latin)
    return latin


STREET_WORDS = frozenset(fold(w) for w in (
    "street", "st", "road", "rd", "avenue", "ave", "square", "near", "at", "the", "on",
    "οδός", "οδ", "λεωφόρος", "λεωφ", "πλατεία", "πλ",
    "ulica", "ul", "cesta", "c", "trg",
    "רחוב", "רח", "שדרות", "שד", "כיכר", "דרך",
))


def words(text: str) -> list[str]:
    """The words that name a street: folded, without house numbers or words like street, οδός, ulica, רחוב."""
    return [w for w in fold(text).split() if w not in STREET_WORDS and not w[0].isdigit()]


def hebrew_variants(word: str) -> set[str]:
    """A Hebrew word with up to two one-letter prefixes removed ("וברחוב" -> "ברחוב", "רחוב")."""
    found, current = {word}, word
    for _ in range(2):
        if len(current) > 2 and current[0] in HEBREW_PREFIXES:
            current = current[1:]
            found.add(current)
    return found


def _names(street_word: str, typed: set[str]) -> bool:
    """Whether a typed word names this word of a street; "בנשיאים" names "הנשיאים" (the article drops)."""
    return street_word in typed or (street_word[0] == "ה" and street_word[1:] in typed)


def _contains(asked: list[set[str]], key: list[str]) -> bool:
    """Every word of the street name appears, in order, among the words the resident typed."""
    position = 0
    for word in key:
        while position < len(asked) and not _names(word, asked[position]):
            position += 1
        if position == len(asked):
            return False
        position += 1
    return True


class OfflineGazetteer(GeopyGeocoder):
    """A geopy geocoder over the profile's street list: no network, for trying the helpline anywhere."""

    def __init__(self, streets: dict[str, tuple[float, float]]) -> None:
        super().__init__()
        self.streets = streets
        self.index = [(name, words(name), lat, lon) for name, (lat, lon) in streets.items()]

    def geocode(self, query: str, *, exactly_one: bool = True, timeout=None):
        """Streets all of whose words were typed; the most specific (longest) name first."""
        asked = [hebrew_variants(w) for w in words(query)]
        matches = [(name, key, lat, lon) for name, key, lat, lon in self.index if key and _contains(asked, key)]
        if not matches:
            return None
        matches.sort(key=lambda match: -len(match[1]))
        found = [GeopyLocation(name, Point(lat, lon), {"name": name}) for name, _, lat, lon in matches]
        return found[0] if exactly_one else found

    def reverse(self, query, *, exactly_one: bool = True, timeout=None):
        """The streets within REVERSE_RADIUS_M of the point, nearest first."""
        point = Point(query)
        near = sorted((distance(point, (lat, lon)).meters, name, lat, lon) for name, _, lat, lon in self.index)
        near = [n for n in near if n[0] <= REVERSE_RADIUS_M]
        if not near:
            return None
        found = [GeopyLocation(name, Point(lat, lon), {"name": name, "metres": m}) for m, name, lat, lon in near]
        return found[0] if exactly_one else found


def _ask(method: Callable, *args, **kwargs):
    return method(*args, **kwargs)


class GeopyPlaces:
    """core.ports.Geocoder over any geopy geocoder, limited to the municipality's boundary.

    Searches and reverse look-ups share one rate limit, and a failed call is not retried: the resident is
    waiting, and can send their location instead.
    """

    def __init__(self, geocoder: GeopyGeocoder, profile: Profile, min_delay_s: float = 0.0,
                 to_thread: Callable = asyncio.to_thread) -> None:
        self.geocoder = geocoder
        self.profile = profile
        self._limited = RateLimiter(_ask, min_delay_seconds=min_delay_s, max_retries=0,
                                    error_wait_seconds=min_delay_s, swallow_exceptions=False)
        self._search, self._lookup = _nominatim_options(profile) if isinstance(geocoder, Nominatim) else ({}, {})
        self._to_thread = to_thread

    async def geocode(self, query: str) -> Place | None:
        query = " ".join(query.split())[:200]
        if not query:
            return None
        found = await self._call(self.geocoder.geocode, query, exactly_one=False, **self._search)
        for loc in found or []:
            if inside_boundary(self.profile, loc.latitude, loc.longitude):
                return Place(loc.latitude, loc.longitude, short_address(loc))
        return None

    async def reverse(self, lat: float, lon: float) -> str | None:
        found = await self._call(self.geocoder.reverse, (lat, lon), exactly_one=True, **self._lookup)
        return short_address(found) if found else None

    async def _call(self, method: Callable, *args, **kwargs):
        """The geocoder's answer; a failure, or a reply that cannot be read, means the service is unavailable."""
        try:
            return await self._to_thread(self._limited, method, *args, **kwargs)
        except (GeopyError, ValueError, TypeError, KeyError, AttributeError) as exc:
            raise GeocodingUnavailable(f"{type(exc).__name__}: {exc}") from exc


def _nominatim_options(profile: Profile) -> tuple[dict, dict]:
    """Ask Nominatim only inside the municipality's bounding box and country, in its language."""
    lons = [lon for lon, _ in profile.boundary]
    lats = [lat for _, lat in profile.boundary]
    language = profile.default_language
    search = {"viewbox": [(min(lats), min(lons)), (max(lats), max(lons))], "bounded": True,
              "country_codes": profile.country.lower(), "limit": NOMINATIM_RESULTS, "addressdetails": True,
              "language": language}
    return search, {"language": language}


STREET_PARTS = ("road", "pedestrian", "square", "footway", "path", "place")
TOWN_PARTS = ("suburb", "city_district", "neighbourhood", "village", "town", "city")


def short_address(location: GeopyLocation) -> str:
    """"Ερμού 12, Κοζάνη" from Nominatim's address parts, else the first parts of the full address."""
    parts = (location.raw or {}).get("address") or {}
    street = next((parts[key] for key in STREET_PARTS if parts.get(key)), None)
    if not street:
        return ", ".join(part.strip() for part in (location.address or "").split(",")[:4])
    town = next((parts[key] for key in TOWN_PARTS if parts.get(key)), None)
    place = f"{street} {parts['house_number']}" if parts.get("house_number") else street
    return f"{place}, {town}" if town else place


def make_geocoder(settings, profile: Profile) -> GeopyPlaces:
    """Nominatim when settings.geocoder is "nominatim", else the profile's offline street list."""
    if settings.geocoder == "nominatim":
        nominatim = Nominatim(domain=settings.nominatim_domain, scheme=settings.nominatim_scheme,
                              user_agent=settings.nominatim_user_agent, timeout=NOMINATIM_TIMEOUT_S)
        return GeopyPlaces(nominatim, profile, settings.nominatim_min_delay_s)
    return GeopyPlaces(OfflineGazetteer(profile.gazetteer.streets), profile)
