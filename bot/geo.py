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
from geopy.geocoders import Nominatim
from geopy.geocoders.base import Geocoder as GeopyGeocoder
from geopy.extra.rate_limiter import RateLimiter
from geopy.location import Location as GeopyLocation
from geopy.point import Point

from core.ports import GeocodingUnavailable, Place
from core.profile import Profile
from core.routing import inside_boundary

HEBREW_PREFIXES = "הבלומשכ"
STREET_WORDS = {
    "street", "st", "road", "rd", "avenue", "ave", "odos", "οδος", "οδ", "λεωφορος", "λεωφ", "πλατεια",
    "ulica", "ul", "cesta", "c", "trg", "רחוב", "רח", "שדרות", "שד", "כיכר", "near", "at", "the", "on",
}
REVERSE_RADIUS_M = 400


def fold(text: str) -> str:
    """Lower case without accents or final sigma, so "Οδός Ερμού", "odos ermou" and "ΕΡΜΟΥ" compare equal."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("ς", "σ"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^\w\s]", " ", stripped)


def words(text: str) -> list[str]:
    return [w for w in fold(text).split() if w not in STREET_WORDS and not w.isdigit()]


def hebrew_variants(word: str) -> set[str]:
    """A Hebrew word with up to two one-letter prefixes removed ("וברחוב" -> "ברחוב", "רחוב")."""
    found, current = {word}, word
    for _ in range(2):
        if len(current) > 2 and current[0] in HEBREW_PREFIXES:
            current = current[1:]
            found.add(current)
    return found


class OfflineGazetteer(GeopyGeocoder):
    """A geopy geocoder over the profile's street list: no network, for trying the helpline anywhere."""

    def __init__(self, streets: dict[str, tuple[float, float]]) -> None:
        super().__init__()
        self.streets = streets
        self.index = [(name, words(name), lat, lon) for name, (lat, lon) in streets.items()]

    def geocode(self, query: str, *, exactly_one: bool = True, timeout=None):
        asked = [hebrew_variants(w) for w in words(query)]
        matches = [(name, lat, lon) for name, key, lat, lon in self.index if key and _contains(asked, key)]
        if not matches:
            return None
        found = [GeopyLocation(name, Point(lat, lon), {"name": name}) for name, lat, lon in matches]
        return found[0] if exactly_one else found

    def reverse(self, query, *, exactly_one: bool = True, timeout=None):
        point = Point(query)
        near = sorted((distance(point, (lat, lon)).meters, name, lat, lon) for name, _, lat, lon in self.index)
        near = [n for n in near if n[0] <= REVERSE_RADIUS_M]
        if not near:
            return None
        found = [GeopyLocation(name, Point(lat, lon), {"name": name, "metres": m}) for m, name, lat, lon in near]
        return found[0] if exactly_one else found


def _contains(asked: list[set[str]], key: list[str]) -> bool:
    """Every word of the street name appears, in order, among the words the resident typed."""
    position = 0
    for word in key:
        while position < len(asked) and word not in asked[position]:
            position += 1
        if position == len(asked):
            return False
        position += 1
    return True


class GeopyPlaces:
    """core.ports.Geocoder over any geopy geocoder, limited to the municipality's boundary."""

    def __init__(self, geocoder: GeopyGeocoder, profile: Profile, min_delay_s: float = 0.0,
                 to_thread: Callable = asyncio.to_thread) -> None:
        self.profile = profile
        self._geocode = RateLimiter(geocoder.geocode, min_delay_seconds=min_delay_s, max_retries=1,
                                    error_wait_seconds=1.0, swallow_exceptions=False)
        self._reverse = RateLimiter(geocoder.reverse, min_delay_seconds=min_delay_s, max_retries=1,
                                    error_wait_seconds=1.0, swallow_exceptions=False)
        self._extra = _nominatim_limits(profile) if isinstance(geocoder, Nominatim) else {}
        self._to_thread = to_thread

    async def geocode(self, query: str) -> Place | None:
        found = await self._call(self._geocode, query[:200], exactly_one=False, **self._extra)
        for loc in found or []:
            if inside_boundary(self.profile, loc.latitude, loc.longitude):
                return Place(loc.latitude, loc.longitude, _short_address(loc.address))
        return None

    async def reverse(self, lat: float, lon: float) -> str | None:
        found = await self._call(self._reverse, (lat, lon), exactly_one=True)
        return _short_address(found.address) if found else None

    async def _call(self, func, *args, **kwargs):
        try:
            return await self._to_thread(func, *args, **kwargs)
        except GeopyError as exc:
            raise GeocodingUnavailable(str(exc)) from exc


def _nominatim_limits(profile: Profile) -> dict:
    """Ask Nominatim only inside the municipality's bounding box and country."""
    lons = [lon for lon, _ in profile.boundary]
    lats = [lat for _, lat in profile.boundary]
    return {"viewbox": [(min(lats), min(lons)), (max(lats), max(lons))], "bounded": True,
            "country_codes": profile.country.lower()}


def _short_address(address: str) -> str:
    """Nominatim's display names are long; the first four parts say where it is."""
    return ", ".join(part.strip() for part in address.split(",")[:4])


def make_geocoder(settings, profile: Profile) -> GeopyPlaces:
    if settings.geocoder == "nominatim":
        nominatim = Nominatim(domain=settings.nominatim_domain, scheme=settings.nominatim_scheme,
                              user_agent=settings.nominatim_user_agent, timeout=3)
        return GeopyPlaces(nominatim, profile, settings.nominatim_min_delay_s)
    return GeopyPlaces(OfflineGazetteer(profile.gazetteer.streets), profile)
