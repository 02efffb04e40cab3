"""The optional external geocoder, against a Nominatim-like server on this machine."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from places.search import nearest_address, search

pytestmark = pytest.mark.django_db


class Nominatim(BaseHTTPRequestHandler):
    asked: list[tuple[str, dict[str, list[str]]]] = []
    broken = False

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        Nominatim.asked.append((url.path, query))
        if Nominatim.broken:
            body = b"<html>oops</html>"
        elif url.path == "/search":
            body = json.dumps(
                [
                    {"lat": "35.7811", "lon": "-78.6411", "display_name": "Town Hall, Riverton"},
                    {"lat": "10.0", "lon": "10.0", "display_name": "Far away"},
                ]
            ).encode()
        else:
            body = json.dumps(
                {"lat": query["lat"][0], "lon": query["lon"][0], "display_name": "1 Main St"}
            ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def nominatim(settings):
    server = HTTPServer(("127.0.0.1", 0), Nominatim)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Nominatim.asked, Nominatim.broken = [], False
    settings.GEOCODER_URL = f"http://127.0.0.1:{server.server_port}/"
    yield Nominatim
    server.shutdown()
    server.server_close()


def test_off_by_default_asks_no_one(settings):
    assert settings.GEOCODER_URL == ""
    assert search("town hall") == []
    assert nearest_address(35.78, -78.64) is None


def test_search_asks_the_geocoder_when_the_city_has_no_answer(nominatim):
    results = search("town hall")
    assert [(p.label, p.kind) for p in results] == [("Town Hall, Riverton", "external")]
    path, query = nominatim.asked[0]
    assert path == "/search" and query["q"] == ["town hall"] and query["bounded"] == ["1"]
    assert query["format"] == ["jsonv2"]


def test_reverse_asks_the_geocoder_when_no_address_point_is_near(nominatim):
    place = nearest_address(35.78, -78.64)
    assert place is not None and place.label == "1 Main St"
    assert nominatim.asked[0][0] == "/reverse"


def test_a_broken_geocoder_means_no_answer(nominatim):
    nominatim.broken = True
    assert search("town hall") == []
    assert nearest_address(35.78, -78.64) is None


def test_an_unreachable_geocoder_means_no_answer(settings):
    settings.GEOCODER_URL = "http://127.0.0.1:9/"  # discard port: nothing listens
    settings.GEOCODER_TIMEOUT = 1
    assert search("town hall") == []
