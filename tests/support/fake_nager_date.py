"""A fake Nager.Date (public holiday API, v3) served over real HTTP on loopback.

Shapes follow the public API reference (https://date.nager.at/Api) and
tests/data/nager_date.openapi.yaml: camelCase JSON, lists answered whole, an unsupported
country answered 404 with RFC 9457 problem details, and IsTodayPublicHoliday answering
only with a status (200: a holiday, 204: not), no body. Routing is case-insensitive, as
on the real server. "Now" is fixed (`FakeNagerDate.now`) so answers are deterministic.

Usage:

    with FakeNagerDate() as fake:
        httpx.get(fake.url + "/api/v3/PublicHolidays/2025/AT")
        fake.requests[-1].path, fake.requests[-1].query
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

COUNTRIES = [
    {"countryCode": "AT", "name": "Austria"},
    {"countryCode": "CH", "name": "Switzerland"},
    {"countryCode": "DE", "name": "Germany"},
    {"countryCode": "FR", "name": "France"},
    {"countryCode": "US", "name": "United States"},
]


def _info(code: str, common: str, official: str, borders: list[dict] | None) -> dict[str, Any]:
    return {
        "commonName": common,
        "officialName": official,
        "countryCode": code,
        "region": "Europe" if code != "US" else "Americas",
        "borders": borders,
    }


_BORDER = {
    "CH": _info("CH", "Switzerland", "Swiss Confederation", None),
    "CZ": _info("CZ", "Czechia", "Czech Republic", None),
    "DE": _info("DE", "Germany", "Federal Republic of Germany", None),
    "FR": _info("FR", "France", "French Republic", None),
    "AT": _info("AT", "Austria", "Republic of Austria", None),
}
COUNTRY_INFO = {
    "AT": _info(
        "AT", "Austria", "Republic of Austria", [_BORDER["CZ"], _BORDER["DE"], _BORDER["CH"]]
    ),
    "DE": _info(
        "DE",
        "Germany",
        "Federal Republic of Germany",
        [_BORDER["AT"], _BORDER["CZ"], _BORDER["FR"], _BORDER["CH"]],
    ),
    "CH": _info("CH", "Switzerland", "Swiss Confederation", [_BORDER["AT"], _BORDER["DE"]]),
    "FR": _info("FR", "France", "French Republic", [_BORDER["DE"], _BORDER["CH"]]),
    "US": _info("US", "United States", "United States of America", []),
}

# (month-day, localName, name, counties or None, launchYear, types); Easter-based dates are 2025's.
_AT = [
    ("01-01", "Neujahr", "New Year's Day", None, 1967, ["Public"]),
    ("01-06", "Heilige Drei Könige", "Epiphany", None, None, ["Public"]),
    (
        "03-19",
        "Josefstag",
        "Saint Joseph's Day",
        ["AT-2", "AT-6", "AT-7", "AT-8"],
        None,
        ["Public"],
    ),
    ("04-21", "Ostermontag", "Easter Monday", None, 1642, ["Public"]),
    ("05-01", "Staatsfeiertag", "National Holiday", None, None, ["Public"]),
    ("05-29", "Christi Himmelfahrt", "Ascension Day", None, None, ["Public"]),
    ("06-09", "Pfingstmontag", "Whit Monday", None, None, ["Public"]),
    ("06-19", "Fronleichnam", "Corpus Christi", None, None, ["Public"]),
    ("08-15", "Maria Himmelfahrt", "Assumption Day", None, None, ["Public"]),
    ("10-26", "Nationalfeiertag", "National Holiday", None, None, ["Public"]),
    ("11-01", "Allerheiligen", "All Saints Day", None, None, ["Public"]),
    ("12-08", "Mariä Empfängnis", "Immaculate Conception", None, None, ["Public"]),
    ("12-25", "Weihnachten", "Christmas Day", None, None, ["Public"]),
    ("12-26", "Stefanitag", "St. Stephen's Day", None, None, ["Public"]),
]
_DE = [
    ("01-01", "Neujahr", "New Year's Day", None, None, ["Public"]),
    ("04-18", "Karfreitag", "Good Friday", None, None, ["Public"]),
    ("05-01", "Tag der Arbeit", "Labour Day", None, None, ["Public"]),
    ("10-03", "Tag der Deutschen Einheit", "German Unity Day", None, None, ["Public"]),
    ("11-01", "Allerheiligen", "All Saints' Day", ["DE-BW", "DE-BY", "DE-NW"], None, ["Public"]),
    ("12-25", "Erster Weihnachtstag", "Christmas Day", None, None, ["Public"]),
]
_HOLIDAYS = {"AT": _AT, "DE": _DE}

# Long weekends of Austria in 2025 as Nager.Date computes them with one bridge day.
LONG_WEEKENDS_AT_2025 = [
    {
        "startDate": "2025-04-19",
        "endDate": "2025-04-21",
        "dayCount": 3,
        "needBridgeDay": False,
        "bridgeDays": [],
    },
    {
        "startDate": "2025-05-01",
        "endDate": "2025-05-04",
        "dayCount": 4,
        "needBridgeDay": True,
        "bridgeDays": ["2025-05-02"],
    },
    {
        "startDate": "2025-05-29",
        "endDate": "2025-06-01",
        "dayCount": 4,
        "needBridgeDay": True,
        "bridgeDays": ["2025-05-30"],
    },
    {
        "startDate": "2025-06-07",
        "endDate": "2025-06-09",
        "dayCount": 3,
        "needBridgeDay": False,
        "bridgeDays": [],
    },
    {
        "startDate": "2025-06-19",
        "endDate": "2025-06-22",
        "dayCount": 4,
        "needBridgeDay": True,
        "bridgeDays": ["2025-06-20"],
    },
    {
        "startDate": "2025-08-15",
        "endDate": "2025-08-17",
        "dayCount": 3,
        "needBridgeDay": False,
        "bridgeDays": [],
    },
    {
        "startDate": "2025-12-06",
        "endDate": "2025-12-08",
        "dayCount": 3,
        "needBridgeDay": False,
        "bridgeDays": [],
    },
    {
        "startDate": "2025-12-25",
        "endDate": "2025-12-28",
        "dayCount": 4,
        "needBridgeDay": False,
        "bridgeDays": [],
    },
]


def public_holidays(year: int, code: str) -> list[dict[str, Any]]:
    """The holidays of a supported country in a year ([] where the fake has no data)."""
    return [
        {
            "date": f"{year}-{day}",
            "localName": local,
            "name": name,
            "countryCode": code,
            "fixed": False,
            "global": counties is None,
            "counties": counties,
            "launchYear": launch,
            "types": types,
        }
        for day, local, name, counties, launch, types in _HOLIDAYS.get(code, [])
    ]


def problem(status: int, title: str) -> dict[str, Any]:
    """ASP.NET Core's problem details, as Nager.Date answers errors."""
    return {
        "type": f"https://tools.ietf.org/html/rfc9110#section-15.5.{status - 399}",
        "title": title,
        "status": status,
        "traceId": "00-5b1f0c3e9d6a4f2f8e1c7a9b3d2e4f60-7a1b2c3d4e5f6a7b-00",
    }


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str] = field(repr=False)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeNagerDate

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        self.fake.requests.append(
            Recorded("GET", url.path, query, {k.lower(): v for k, v in self.headers.items()})
        )
        status, body = self.fake.answer(unquote(url.path), query)
        self._send(status, body)

    def do_POST(self) -> None:  # the API is read-only
        self._send(405, problem(405, "Method Not Allowed"))

    def _send(self, status: int, body: Any) -> None:
        self.send_response(status)
        if body is None:
            self.send_header("content-length", "0")
            self.end_headers()
            return
        data = json.dumps(body).encode()
        kind = "application/problem+json" if status >= 400 else "application/json"
        self.send_header("content-type", f"{kind}; charset=utf-8")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


class FakeNagerDate:
    now = datetime(2025, 10, 26, 9, 30, tzinfo=UTC)  # Austria's National Holiday, a Sunday

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeNagerDate:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        self.requests.clear()

    # --- routes: (status, JSON body or None)

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        parts = [p for p in path.split("/") if p]
        if len(parts) < 3 or [p.lower() for p in parts[:2]] != ["api", "v3"]:
            return 404, None
        route, args = parts[2].lower(), parts[3:]
        if route == "availablecountries" and not args:
            return 200, COUNTRIES
        if route == "nextpublicholidaysworldwide" and not args:
            today = self.now.date()
            return 200, [
                h
                for code in _HOLIDAYS
                for h in self._around(code)
                if today <= date.fromisoformat(h["date"]) < today + timedelta(days=7)
            ]
        if route == "countryinfo" and len(args) == 1:
            info = COUNTRY_INFO.get(args[0].upper())
            return (200, info) if info else (404, problem(404, "Not Found"))
        if route in ("publicholidays", "longweekend") and len(args) == 2:
            if not args[0].isdigit():
                return 400, {
                    **problem(400, "One or more validation errors occurred."),
                    "errors": {"year": [f"The value '{args[0]}' is not valid."]},
                }
            year, code = int(args[0]), args[1].upper()
            if not self._supported(code):
                return 404, problem(404, "Not Found")
            if route == "publicholidays":
                return 200, public_holidays(year, code)
            weekends = LONG_WEEKENDS_AT_2025 if (year, code) == (2025, "AT") else []
            if query.get("availableBridgeDays") == "0":
                weekends = [w for w in weekends if not w["needBridgeDay"]]
            return 200, weekends
        if route == "nextpublicholidays" and len(args) == 1:
            code = args[0].upper()
            if not self._supported(code):
                return 404, problem(404, "Not Found")
            today = self.now.date()
            return 200, [
                h
                for h in self._around(code)
                if today <= date.fromisoformat(h["date"]) < today + timedelta(days=365)
            ]
        if route == "istodaypublicholiday" and len(args) == 1:
            code = args[0].upper()
            if not self._supported(code):
                return 404, problem(404, "Not Found")
            offset = int(query.get("offset") or 0)
            today = (self.now + timedelta(hours=offset)).date().isoformat()
            county = query.get("countyCode")
            holiday = any(
                h["date"] == today and (h["global"] or (county and county in h["counties"]))
                for h in public_holidays(int(today[:4]), code)
            )
            return (200 if holiday else 204), None
        return 404, None

    def _supported(self, code: str) -> bool:
        return any(c["countryCode"] == code for c in COUNTRIES)

    def _around(self, code: str) -> list[dict[str, Any]]:
        year = self.now.year
        return public_holidays(year, code) + public_holidays(year + 1, code)
