"""A second integration, Nager.Date, from YAML alone: every tool end to end against a fake.

The manifest is integrations/nager_date/manifest.yaml (started with `yamcp import-openapi`).
yamcp serves it to an account whose base_url points at tests/support/fake_nager_date.py, and the
official MCP client calls each of its seven tools; each test checks what the fake received
and what the model gets back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.fake_nager_date import (
    COUNTRIES,
    COUNTRY_INFO,
    LONG_WEEKENDS_AT_2025,
    FakeNagerDate,
    public_holidays,
)
from tests.support.fake_postmark import FakePostmark
from tests.support.mcp_client import SchemaChecker, mcp_client
from tests.support.paths import ROOT
from tests.support.serving import Yamcp, start_yamcp, stop_yamcp, write_workdir

TOOLS = [
    "get_single_nager_date_country_by_id",
    "get_single_nager_date_public_holiday_today_by_id",
    "list_all_nager_date_countries",
    "list_all_nager_date_long_weekends",
    "list_all_nager_date_public_holidays",
    "list_all_nager_date_upcoming_public_holidays",
    "list_all_nager_date_worldwide_upcoming_public_holidays",
]


@pytest.fixture(scope="module")
def fake_nager() -> Iterator[FakeNagerDate]:
    with FakeNagerDate() as fake:
        yield fake


@pytest.fixture
def nager(fake_nager: FakeNagerDate) -> FakeNagerDate:
    fake_nager.reset()
    return fake_nager


@pytest.fixture(scope="module")
def yamcp_nager(
    fake_nager: FakeNagerDate, fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Yamcp]:
    workdir = tmp_path_factory.mktemp("nager")
    # No credentials: Nager.Date is a public API.
    write_workdir(
        workdir,
        fake_postmark.url,
        f"  holidays:\n    integration: nager_date\n    base_url: {fake_nager.url}\n",
    )
    server = start_yamcp(workdir)
    yield server
    stop_yamcp(server)


@pytest.fixture(scope="module")
async def url(yamcp_nager: Yamcp) -> str:
    return await yamcp_nager.mint(account="holidays", name="holidays")


async def call(url: str, checker: SchemaChecker, tool: str, arguments: dict[str, Any]) -> Any:
    async with mcp_client(url, checker) as client:
        return await client.call_tool(tool, arguments)


async def test_the_account_sees_seven_read_only_tools(
    url: str, schema_checker: SchemaChecker
) -> None:
    assert (ROOT / "integrations" / "nager_date" / "manifest.yaml").is_file()
    assert not list((ROOT / "integrations" / "nager_date").glob("*.py")), "YAML only"
    async with mcp_client(url, schema_checker) as client:
        tools = (await client.list_tools()).tools
    assert sorted(t.name for t in tools) == TOOLS
    for tool in tools:
        notes = tool.annotations
        assert notes.read_only_hint is True and notes.destructive_hint is False, tool.name
        assert notes.idempotent_hint is True and notes.open_world_hint is True, tool.name
        assert tool.description and len(tool.description) > 40, tool.name
    by_name = {t.name: t for t in tools}
    holidays = by_name["list_all_nager_date_public_holidays"].input_schema
    assert holidays["required"] == ["year", "countryCode"]
    assert set(holidays["properties"]) == {"year", "countryCode", "limit", "next_cursor"}
    assert by_name["get_single_nager_date_country_by_id"].input_schema["required"] == ["id"]


async def test_public_holidays_of_a_year_are_paged_by_yamcp(
    url: str, nager: FakeNagerDate, schema_checker: SchemaChecker
) -> None:
    expected = public_holidays(2025, "AT")
    first = await call(
        url,
        schema_checker,
        "list_all_nager_date_public_holidays",
        {"year": 2025, "countryCode": "AT", "limit": 10},
    )
    assert not first.is_error
    page = first.structured_content
    assert page["result"] == expected[:10] and page["total"] == 14 and page["next_cursor"]
    assert page["result"][0] == {
        "date": "2025-01-01",
        "localName": "Neujahr",
        "name": "New Year's Day",
        "countryCode": "AT",
        "fixed": False,
        "global": True,
        "counties": None,
        "launchYear": 1967,
        "types": ["Public"],
    }
    second = await call(
        url,
        schema_checker,
        "list_all_nager_date_public_holidays",
        {"year": 2025, "countryCode": "AT", "limit": 10, "next_cursor": page["next_cursor"]},
    )
    assert second.structured_content == {"result": expected[10:], "next_cursor": None, "total": 14}
    # Nager.Date answers the whole year; yamcp sends no paging parameters of its own.
    assert [(r.method, r.path, r.query) for r in nager.requests] == [
        ("GET", "/api/v3/PublicHolidays/2025/AT", {}),
        ("GET", "/api/v3/PublicHolidays/2025/AT", {}),
    ]
    assert "authorization" not in nager.requests[0].headers
    assert nager.requests[0].headers["accept"] == "application/json"


async def test_upcoming_public_holidays_of_a_country(
    url: str, nager: FakeNagerDate, schema_checker: SchemaChecker
) -> None:
    result = await call(
        url, schema_checker, "list_all_nager_date_upcoming_public_holidays", {"countryCode": "at"}
    )
    items = result.structured_content["result"]
    assert [h["date"] for h in items[:3]] == ["2025-10-26", "2025-11-01", "2025-12-08"]
    assert items[-1]["date"] == "2026-08-15" and len(items) == 14  # 365 days from 2025-10-26
    assert [(r.path, r.query) for r in nager.requests] == [("/api/v3/NextPublicHolidays/at", {})]


async def test_upcoming_public_holidays_worldwide(
    url: str, nager: FakeNagerDate, schema_checker: SchemaChecker
) -> None:
    result = await call(
        url, schema_checker, "list_all_nager_date_worldwide_upcoming_public_holidays", {}
    )
    page = result.structured_content
    assert [(h["countryCode"], h["date"]) for h in page["result"]] == [
        ("AT", "2025-10-26"),
        ("AT", "2025-11-01"),
        ("DE", "2025-11-01"),
    ]
    assert page["total"] == 3 and page["next_cursor"] is None
    assert page["result"][2]["counties"] == ["DE-BW", "DE-BY", "DE-NW"]
    assert [r.path for r in nager.requests] == ["/api/v3/NextPublicHolidaysWorldwide"]


async def test_long_weekends_pass_their_query_arguments(
    url: str, nager: FakeNagerDate, schema_checker: SchemaChecker
) -> None:
    result = await call(
        url,
        schema_checker,
        "list_all_nager_date_long_weekends",
        {"year": 2025, "countryCode": "AT", "availableBridgeDays": 0, "subdivisionCode": "AT-9"},
    )
    assert result.structured_content["result"] == [
        w for w in LONG_WEEKENDS_AT_2025 if not w["needBridgeDay"]
    ]
    default = await call(
        url,
        schema_checker,
        "list_all_nager_date_long_weekends",
        {"year": 2025, "countryCode": "AT"},
    )
    bridges = [w["bridgeDays"] for w in default.structured_content["result"] if w["needBridgeDay"]]
    assert bridges == [["2025-05-02"], ["2025-05-30"], ["2025-06-20"]]
    assert [(r.path, r.query) for r in nager.requests] == [
        ("/api/v3/LongWeekend/2025/AT", {"availableBridgeDays": "0", "subdivisionCode": "AT-9"}),
        ("/api/v3/LongWeekend/2025/AT", {}),
    ]


async def test_is_today_a_public_holiday_answers_200_or_an_empty_204(
    url: str, nager: FakeNagerDate, schema_checker: SchemaChecker
) -> None:
    tool = "get_single_nager_date_public_holiday_today_by_id"
    austria = await call(url, schema_checker, tool, {"id": "AT"})
    assert not austria.is_error and austria.structured_content == {"status": 200}
    germany = await call(url, schema_checker, tool, {"id": "DE"})
    assert not germany.is_error and germany.structured_content == {"status": 204}
    assert germany.content[0].text == '{"status":204}'
    yesterday = await call(
        url, schema_checker, tool, {"id": "AT", "offset": -12, "countyCode": "AT-9"}
    )
    assert yesterday.structured_content == {"status": 204}
    assert [(r.path, r.query) for r in nager.requests] == [
        ("/api/v3/IsTodayPublicHoliday/AT", {}),
        ("/api/v3/IsTodayPublicHoliday/DE", {}),
        ("/api/v3/IsTodayPublicHoliday/AT", {"countyCode": "AT-9", "offset": "-12"}),
    ]


async def test_countries_and_one_country(
    url: str, nager: FakeNagerDate, schema_checker: SchemaChecker
) -> None:
    listed = await call(url, schema_checker, "list_all_nager_date_countries", {"limit": 2})
    assert listed.structured_content["result"] == COUNTRIES[:2]
    assert listed.structured_content["total"] == len(COUNTRIES)
    austria = await call(url, schema_checker, "get_single_nager_date_country_by_id", {"id": "AT"})
    assert not austria.is_error
    assert austria.structured_content == COUNTRY_INFO["AT"]
    assert [b["countryCode"] for b in austria.structured_content["borders"]] == ["CZ", "DE", "CH"]
    assert [r.path for r in nager.requests] == [
        "/api/v3/AvailableCountries",
        "/api/v3/CountryInfo/AT",
    ]


async def test_an_unsupported_country_is_an_upstream_404_tool_error(
    url: str, nager: FakeNagerDate, schema_checker: SchemaChecker
) -> None:
    country = await call(url, schema_checker, "get_single_nager_date_country_by_id", {"id": "XX"})
    assert country.is_error
    error = country.structured_content["error"]
    assert error["type"] == "upstream_error" and error["status"] == 404
    assert error["upstream_message"] == "Not Found"
    assert country.content[0].text == "Nager.Date answered HTTP 404: Not Found"
    holidays = await call(
        url,
        schema_checker,
        "list_all_nager_date_public_holidays",
        {"year": 2025, "countryCode": "XX"},
    )
    assert holidays.is_error and holidays.structured_content["error"]["status"] == 404
    assert [r.path for r in nager.requests] == [
        "/api/v3/CountryInfo/XX",
        "/api/v3/PublicHolidays/2025/XX",
    ]


async def test_bad_arguments_never_reach_nager_date(
    url: str, nager: FakeNagerDate, schema_checker: SchemaChecker
) -> None:
    result = await call(
        url,
        schema_checker,
        "list_all_nager_date_public_holidays",
        {"year": "2025", "countryCode": "Austria"},
    )
    assert result.is_error
    problems = result.structured_content["error"]["problems"]
    assert any(p.startswith("countryCode:") for p in problems)
    assert any(p.startswith("year: expected integer") for p in problems)
    today = await call(
        url,
        schema_checker,
        "get_single_nager_date_public_holiday_today_by_id",
        {"id": "AT", "offset": 13},
    )
    assert today.is_error and today.structured_content["error"]["type"] == "invalid_arguments"
    assert nager.requests == []
