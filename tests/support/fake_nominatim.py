"""A local stand-in for a Nominatim server: /search and /reverse answered from a table the test gives it.

It answers the way Nominatim does (lat/lon as strings, display_name, address parts with addressdetails=1,
{"error": "Unable to geocode"} from /reverse when nothing is near), honours limit, viewbox with bounded=1
and countrycodes, records every request (path, parameters, headers, arrival time), and can be told to fail:
"500" (a server error), "slow" (no answer before the client gives up), "garbage" (an HTML page instead of
JSON) or "odd_json" (JSON of the wrong shape).

    with FakeNominatim([FakePlace("12, Ερμού, Κοζάνη", 40.2993, 21.7865, {"road": "Ερμού"})]) as fake:
        Nominatim(domain=fake.domain, scheme="http", user_agent="test")
"""
from __future__ import annotations

import json
import math
import re
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

FAILURES = ("500", "slow", "garbage", "odd_json")
LICENCE = "Data © OpenStreetMap contributors, ODbL 1.0. https://osm.org/copyright"


@dataclass(frozen=True)
class FakePlace:
    display_name: str
    lat: float
    lon: float
    address: dict[str, str] = field(default_factory=dict)   # road, house_number, city, ... as Nominatim names them
    country_code: str = "gr"
    osm_class: str = "highway"
    osm_type: str = "residential"


@dataclass(frozen=True)
class Request:
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    at: float   # time.monotonic() on arrival


class FakeNominatim:
    def __init__(self, places: list[FakePlace] | tuple[FakePlace, ...] = (), reverse_radius_m: float = 100.0,
                 slow_s: float = 10.0) -> None:
        self.places = list(places)
        self.reverse_radius_m = reverse_radius_m
        self.slow_s = slow_s
        self.requests: list[Request] = []
        self.failure: str | None = None
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    def fail(self, how: str | None) -> None:
        """Answer every later request with this failure (one of FAILURES), or normally again with None."""
        if how is not None and how not in FAILURES:
            raise ValueError(f"unknown failure {how!r}; one of {FAILURES}")
        self.failure = how

    @property
    def domain(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def start(self) -> FakeNominatim:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeNominatim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def search(self, params: dict[str, str]) -> list[dict]:
        wanted = _words(params.get("q", ""))
        found = [p for p in self.places if wanted and wanted <= _words(p.display_name + " " +
                                                                       " ".join(p.address.values()))]
        if params.get("bounded") == "1" and params.get("viewbox"):
            found = [p for p in found if _in_box(p, params["viewbox"])]
        if params.get("countrycodes"):
            codes = {c.strip().lower() for c in params["countrycodes"].split(",")}
            found = [p for p in found if p.country_code in codes]
        limit = min(int(params.get("limit", 10)), 40)
        details = params.get("addressdetails") == "1"
        return [_json(p, params.get("format", "json"), details) for p in found[:limit]]

    def reverse(self, params: dict[str, str]) -> dict:
        lat, lon = float(params["lat"]), float(params["lon"])
        near = sorted((_metres(lat, lon, p.lat, p.lon), i) for i, p in enumerate(self.places))
        if not near or near[0][0] > self.reverse_radius_m:
            return {"error": "Unable to geocode"}
        details = params.get("addressdetails", "1") == "1"
        return _json(self.places[near[0][1]], params.get("format", "json"), details)

    def wait_while_slow(self) -> None:
        self._release.wait(self.slow_s)


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.casefold()))


def _in_box(place: FakePlace, viewbox: str) -> bool:
    lon1, lat1, lon2, lat2 = (float(v) for v in viewbox.split(","))
    return min(lat1, lat2) <= place.lat <= max(lat1, lat2) and min(lon1, lon2) <= place.lon <= max(lon1, lon2)


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance on a sphere; plenty for a fake."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


def _json(place: FakePlace, fmt: str, details: bool) -> dict:
    number = zlib.crc32(place.display_name.encode())
    out = {"place_id": number, "licence": LICENCE, "osm_type": "way", "osm_id": number,
           "lat": f"{place.lat:.7f}", "lon": f"{place.lon:.7f}", "type": place.osm_type,
           "importance": 0.1, "addresstype": "road", "name": place.display_name.split(",")[0],
           "display_name": place.display_name,
           "boundingbox": [f"{place.lat - 0.001:.7f}", f"{place.lat + 0.001:.7f}",
                           f"{place.lon - 0.001:.7f}", f"{place.lon + 0.001:.7f}"]}
    if fmt == "jsonv2":
        out.update(category=place.osm_class, place_rank=26)
    else:
        out["class"] = place.osm_class
    if details:
        out["address"] = {**place.address, "country_code": place.country_code}
    return out


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeNominatim

    def handle_error(self, request, client_address) -> None:
        """A client that gave up before a slow answer is expected here, not an error."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        fake = self.server.fake
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query))
        fake.requests.append(Request(url.path, params, dict(self.headers.items()), time.monotonic()))
        if fake.failure == "slow":
            fake.wait_while_slow()
        if fake.failure == "500":
            return self._send(500, b"<html><body>Internal Server Error</body></html>", "text/html")
        if fake.failure == "garbage":
            return self._send(200, b"<html><body>Bad Gateway</body></html>", "text/html")
        if fake.failure == "odd_json":
            return self._reply(["not", "places"])
        if url.path in ("/search", "/search.php"):
            return self._reply(fake.search(params))
        if url.path in ("/reverse", "/reverse.php"):
            if "lat" not in params or "lon" not in params:
                return self._reply({"error": {"code": 400, "message": "Need coordinates."}}, 400)
            return self._reply(fake.reverse(params))
        self._send(404, b"Not Found", "text/plain")

    def _reply(self, body: object, status: int = 200) -> None:
        self._send(status, json.dumps(body, ensure_ascii=False).encode(), "application/json; charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests read fake.requests instead."""
