"""Self-tests of the fake Postmark: the proxy's tests trust it to behave like Postmark.

Each test states one behaviour the proxy's tests rely on: token and media-type checks as
strict as Postmark's, answers equal to the reference examples, search filters and paging
limits, send validation, template lookup, and every injected fault. The reference data (our
Postmark research notes) lives in tests/data/postmark/.
"""

from __future__ import annotations

import ast
import csv
import json
import re
import threading
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.support.fake_postmark import (
    BULK_ID,
    INBOUND_BLOCKED_ID,
    INBOUND_FAILED_ID,
    INBOUND_PROCESSED_ID,
    RECEIPT_MESSAGE_ID,
    FakePostmark,
)
from tests.support.paths import DATA, ROOT

REFERENCE = DATA / "postmark"
# The simulator the fake serves (tests/support/fake_postmark.py adds only the test harness).
FAKE_SOURCES = sorted((ROOT / "integrations" / "postmark" / "simulator").glob("*.py"))


@pytest.fixture
def fake(postmark: FakePostmark) -> FakePostmark:
    """The session's fake (conftest), reset for this test."""
    return postmark


@pytest.fixture
def client(fake: FakePostmark) -> Any:
    headers = {"X-Postmark-Server-Token": fake.server_token, "Accept": "application/json"}
    with httpx.Client(base_url=fake.url, headers=headers, timeout=5) as c:
        yield c


def _example(name: str) -> Any:
    return json.loads((REFERENCE / "examples" / name).read_text())


def _bounce_ids(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [b["ID"] for b in response.json()["Bounces"]]


def test_tokens_are_checked_like_postmark(fake: FakePostmark, client: httpx.Client) -> None:
    paging = {"count": 10, "offset": 0}
    missing = httpx.get(fake.url + "/bounces", params=paging)
    wrong = client.get("/bounces", params=paging, headers={"X-Postmark-Server-Token": "nope"})
    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.json() == {
            "ErrorCode": 10,
            "Message": "Request does not contain a valid Server token.",
        }
    # Account endpoints want the account token; the server token is not enough.
    servers = client.get("/servers", params=paging)
    assert servers.status_code == 401
    assert "Account token" in servers.json()["Message"]
    ok = client.get(
        "/servers", params=paging, headers={"X-Postmark-Account-Token": fake.account_token}
    )
    assert ok.status_code == 200
    assert [s["ID"] for s in ok.json()["Servers"]] == [23, 24]
    # Rejected requests are recorded too.
    assert fake.count("GET", "/bounces") == 2
    assert fake.last("GET", "/bounces").headers["x-postmark-server-token"] == "nope"


def test_token_must_match_exactly_except_for_letter_case(
    fake: FakePostmark, client: httpx.Client
) -> None:
    """Postmark: "The header name and value are case insensitive"; nothing else is loose."""
    token = fake.server_token
    assert client.get("/server", headers={"x-postmark-server-token": token.upper()}).is_success
    for wrong in (token + "x", "x" + token, token[:-1], f"{token} {token}", token.replace("-", "")):
        answer = client.get("/server", headers={"X-Postmark-Server-Token": wrong})
        assert answer.status_code == 401, wrong
        assert answer.json()["ErrorCode"] == 10
    doubled = httpx.get(
        fake.url + "/server",
        headers=[("X-Postmark-Server-Token", token), ("X-Postmark-Server-Token", token)],
    )
    assert doubled.status_code == 401
    # The account token in the server header (or the other way round) is no token at all.
    assert (
        client.get("/server", headers={"X-Postmark-Server-Token": fake.account_token}).json()[
            "ErrorCode"
        ]
        == 10
    )
    servers = client.get(
        "/servers",
        params={"count": 10, "offset": 0},
        headers={"X-Postmark-Account-Token": fake.server_token},
    )
    assert servers.status_code == 401
    # POSTMARK_API_TEST is a token like the others: its letter case does not matter either.
    message = {"From": "sender@example.com", "To": "a@example.com", "TextBody": "x"}
    test_send = client.post(
        "/email", json=message, headers={"X-Postmark-Server-Token": "postmark_api_test"}
    )
    assert test_send.status_code == 200, test_send.text
    assert (
        client.get("/server", headers={"X-Postmark-Server-Token": "POSTMARK_API_TEST"}).json()[
            "ErrorCode"
        ]
        == 10
    )  # the test token sends; it reads nothing


_MESSAGE = {"From": "sender@example.com", "To": "a@example.com", "TextBody": "x"}


@pytest.mark.parametrize(
    "accept",
    ["text/html", "application/xml", "text/*", "application/json;q=0", "application/json; q=0.0"],
)
def test_an_accept_that_rules_out_json_is_415(
    fake: FakePostmark, client: httpx.Client, accept: str
) -> None:
    answer = client.get("/server", headers={"Accept": accept})
    assert answer.status_code == 415
    assert answer.json()["ErrorCode"] == 409
    assert accept in answer.json()["Message"]


@pytest.mark.parametrize(
    "accept",
    [
        None,  # no Accept: any type will do (RFC 9110)
        "*/*",
        "application/*",
        "APPLICATION/JSON",
        "text/html, application/json;q=0.5",
        "application/json; charset=utf-8",
    ],
)
def test_an_accept_that_allows_json_is_served(fake: FakePostmark, accept: str | None) -> None:
    headers = {"X-Postmark-Server-Token": fake.server_token}
    request = httpx.Request("GET", fake.url + "/server", headers=headers)
    request.headers.pop("accept", None)  # no default of the client's
    if accept is not None:
        request.headers["accept"] = accept
    with httpx.Client(timeout=5) as plain:
        answer = plain.send(request)
    assert answer.status_code == 200, answer.text
    assert fake.last().headers.get("accept") == accept


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/jsonx", "text/json"],
)
def test_a_body_not_sent_as_json_is_415_and_has_no_effect(
    fake: FakePostmark, client: httpx.Client, content_type: str | None
) -> None:
    before = len(fake.state.outbound)
    request = client.build_request("POST", "/email", content=json.dumps(_MESSAGE).encode())
    request.headers.pop("content-type", None)  # httpx sets none for raw bytes; be sure
    if content_type is not None:
        request.headers["content-type"] = content_type
    answer = client.send(request)
    assert answer.status_code == 415, answer.text
    assert answer.json()["ErrorCode"] == 409
    assert len(fake.state.outbound) == before  # nothing was sent
    assert fake.last("POST", "/email").headers.get("content-type") == content_type


def test_json_bodies_and_bodyless_writes_pass_the_media_type_check(
    fake: FakePostmark, client: httpx.Client
) -> None:
    body = json.dumps(_MESSAGE).encode()
    for content_type in ("application/json", "Application/JSON; charset=utf-8"):
        sent = client.post("/email", content=body, headers={"Content-Type": content_type})
        assert sent.status_code == 200, (content_type, sent.text)
    # No body, no Content-Type needed: PUT /bounces/{id}/activate sends none.
    activated = client.put("/bounces/692560173/activate")
    assert "content-type" not in fake.last("PUT").headers
    assert activated.status_code == 200


def test_answers_equal_the_reference_examples(fake: FakePostmark, client: httpx.Client) -> None:
    """The seeded data copies the example bodies, so the fake answers them verbatim."""
    cases = {
        "get_bounce.200.json": "/bounces/692560173",
        "bounce_dump.200.json": "/bounces/692560173/dump",
        "bounce_dump.200_unavailable.json": "/bounces/692560174/dump",
        "list_templates.200.json": "/templates?count=10&offset=0",
        "list_message_streams.200.json": "/message-streams",
    }
    for name, path in cases.items():
        answer = client.get(path)
        assert answer.status_code == 200, (name, answer.text)
        assert answer.json() == _example(name), name
    refused = client.get("/server", headers={"X-Postmark-Server-Token": "bad"})
    assert (refused.status_code, refused.json()) == (401, _example("error.401_bad_token.json"))


def _raised_error_codes() -> list[tuple[int, int, str]]:
    """(ErrorCode, HTTP status, file:line) of every `ApiError(<constant>, ...)` in the fake."""
    found = []
    for source in FAKE_SOURCES:
        for node in ast.walk(ast.parse(source.read_text())):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ApiError"):
                continue
            code = node.args[0]
            if not isinstance(code, ast.Constant):
                continue  # a helper's parameter: its callers pass constants, found here too
            status = node.args[2] if len(node.args) > 2 else None
            for keyword in node.keywords:
                if keyword.arg == "status":
                    status = keyword.value
            http = status.value if isinstance(status, ast.Constant) else 422
            found.append((code.value, http, f"{source.name}:{node.lineno}"))
    return found


def test_every_error_code_the_fake_raises_is_documented() -> None:
    with (REFERENCE / "errors.tsv").open() as table:
        documented = {
            int(row["error_code"]): set(re.findall(r"\d{3}", row["http_status"]))
            for row in csv.DictReader(table, delimiter="\t")
        }
    raised = _raised_error_codes()
    assert len(raised) > 100
    for code, http, line in raised:
        assert code in documented, f"{line}: ErrorCode {code} is not Postmark's"
        assert str(http) in documented[code], f"{line}: {code} with HTTP {http}"


def test_routing_is_case_insensitive_and_errors_are_postmark_shaped(client: httpx.Client) -> None:
    assert client.get("/Templates/WELCOME").json()["TemplateId"] == 1234
    unknown = client.get("/no/such/endpoint")
    assert unknown.status_code == 404
    assert unknown.json()["ErrorCode"] == 12
    bad_json = client.post(
        "/email", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert bad_json.status_code == 422
    assert bad_json.json()["ErrorCode"] == 402


def test_bounce_search_filters_and_pages(fake: FakePostmark, client: httpx.Client) -> None:
    page = {"count": 50, "offset": 0}
    assert _bounce_ids(client.get("/bounces", params={**page, "emailFilter": "JIM"})) == [
        692560173,
        692560177,
    ]
    assert _bounce_ids(
        client.get(
            "/bounces", params={**page, "type": "HardBounce", "inactive": "true", "tag": "welcome"}
        )
    ) == [692560173, 692560177]
    assert _bounce_ids(client.get("/bounces", params={**page, "messagestream": "broadcasts"})) == [
        692560175
    ]
    assert _bounce_ids(
        client.get(
            "/bounces",
            params={
                **page,
                "messageID": "d12c2f1c-60f3-4258-b163-d17052546ae4",
                "inactive": "false",
            },
        )
    ) == [692560174]

    first = client.get("/bounces", params={"count": 2, "offset": 0}).json()
    second = client.get("/bounces", params={"count": 2, "offset": 2}).json()
    assert first["TotalCount"] == second["TotalCount"] == 7
    assert [b["ID"] for b in first["Bounces"] + second["Bounces"]] == list(
        range(692560173, 692560177)
    )
    assert fake.last("GET", "/bounces").query == {"count": ["2"], "offset": ["2"]}

    for bad in ({"offset": 0}, {"count": 501, "offset": 0}, {"count": 500, "offset": 9600}):
        response = client.get("/bounces", params=bad)
        assert response.status_code == 422, bad
        assert response.json()["ErrorCode"] == 1000


def test_activation_follows_can_activate(client: httpx.Client) -> None:
    activated = client.put("/bounces/692560173/activate")
    assert activated.status_code == 200
    assert activated.json() == _example("activate_bounce.200.json")
    refused = client.put("/bounces/692560175/activate")
    assert refused.status_code == 422
    assert refused.json()["ErrorCode"] == 1003
    stats = client.get("/deliverystats").json()
    assert stats["InactiveMails"] == 4
    assert stats["Bounces"][0] == {"Name": "All", "Count": 7}


def test_send_succeeds_and_fails_like_postmark(client: httpx.Client) -> None:
    message = {
        "From": "sender@example.com",
        "To": "Receiver <receiver@example.com>",
        "Subject": "Hi",
        "TextBody": "Hello",
        "MessageStream": "outbound",
    }
    sent = client.post("/email", json=message)
    assert sent.status_code == 200
    body = sent.json()
    assert body["To"] == "Receiver <receiver@example.com>"
    assert (body["ErrorCode"], body["Message"]) == (0, "OK")
    uuid.UUID(body["MessageID"])
    details = client.get(f"/messages/outbound/{body['MessageID']}/details").json()
    assert details["Subject"] == "Hi"
    assert details["Recipients"] == ["receiver@example.com"]

    failures = {
        406: {**message, "To": "jim@example.com"},
        1235: {**message, "MessageStream": "no-such-stream"},
        300: {k: v for k, v in message.items() if k != "To"},
    }
    for code, bad in failures.items():
        response = client.post("/email", json=bad)
        assert response.status_code == 422, code
        assert response.json()["ErrorCode"] == code
    assert client.post("/email", json={**message, "From": None}).json()["ErrorCode"] == 300
    assert "jim@example.com" in client.post("/email", json=failures[406]).json()["Message"]

    batch = client.post("/email/batch", json=[message, failures[406]])
    assert batch.status_code == 200
    assert [r["ErrorCode"] for r in batch.json()] == [0, 406]


def test_templates_by_alias_validate_and_send(client: httpx.Client) -> None:
    template = client.get("/templates/welcome").json()
    assert template["TemplateId"] == 1234
    assert template["LayoutTemplate"] == "basic-layout"
    validated = client.post(
        "/templates/validate", json={k: template[k] for k in ("Subject", "HtmlBody", "TextBody")}
    ).json()
    assert validated["AllContentIsValid"] is True
    assert validated["SuggestedTemplateModel"] == {
        "product_name": "product_name_Value",
        "name": "name_Value",
        "items": [{"title": "title_Value"}],
        "company": {"address": "address_Value"},
    }

    same_as_example = client.post(
        "/templates/validate",
        json={"Subject": "{{MyName}}", "HtmlBody": "{{MyName}}", "TextBody": "{{MyName}}"},
    ).json()
    assert same_as_example == _example("validate_template.200_valid.json")
    invalid = client.post(
        "/templates/validate", json={"HtmlBody": "<p>{{#each items}}</p>", "TextBody": "{{name"}
    )
    assert invalid.status_code == 200
    assert invalid.json()["AllContentIsValid"] is False
    assert invalid.json()["SuggestedTemplateModel"] is None
    assert invalid.json()["TextBody"]["ValidationErrors"][0]["CharacterPosition"] == 1

    send = {
        "From": "sender@example.com",
        "To": "receiver@example.com",
        "TemplateAlias": "welcome",
        "TemplateModel": {
            "name": "Jo",
            "product_name": "Acme",
            "items": [{"title": "A"}, {"title": "B"}],
            "company": {"address": "1 Main St"},
        },
    }
    sent = client.post("/email/withTemplate", json=send).json()
    rendered = client.get(f"/messages/outbound/{sent['MessageID']}/details").json()
    assert rendered["Subject"] == "Welcome to Acme, Jo!"
    assert "<li>A</li><li>B</li>" in rendered["HtmlBody"]
    assert rendered["HtmlBody"].startswith("<html><body>")  # wrapped in its layout
    unknown = client.post("/email/withTemplate", json={**send, "TemplateAlias": "nope"})
    assert (unknown.status_code, unknown.json()["ErrorCode"]) == (422, 1101)


def test_status_fault_answers_once_with_given_headers(
    fake: FakePostmark, client: httpx.Client
) -> None:
    fake.fail_next(
        "status",
        path="/deliverystats",
        status=429,
        headers={
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": "30",
            "Retry-After": "30",
        },
    )
    assert client.get("/server").status_code == 200  # other paths are not affected
    limited = client.get("/deliverystats")
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "30"
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert limited.json()["ErrorCode"] == 429
    assert client.get("/deliverystats").status_code == 200
    assert fake.count("GET", "/deliverystats") == 2


def test_non_json_and_huge_faults(fake: FakePostmark, client: httpx.Client) -> None:
    fake.fail_next("non_json")
    page = client.get("/server")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    with pytest.raises(json.JSONDecodeError):
        json.loads(page.content)
    fake.fail_next("huge", size=3_000_000)
    huge = client.get("/server")
    assert len(huge.content) == 3_000_000
    assert set(huge.json()) == {"Padding"}


def test_truncated_fault_is_an_incomplete_read(fake: FakePostmark, client: httpx.Client) -> None:
    fake.fail_next("truncated", path="/bounces")
    with pytest.raises(httpx.RemoteProtocolError, match="complete message body"):
        client.get("/bounces", params={"count": 10, "offset": 0})
    assert client.get("/bounces", params={"count": 10, "offset": 0}).status_code == 200


def test_reset_fault_is_a_read_error(fake: FakePostmark, client: httpx.Client) -> None:
    fake.fail_next("reset", method="POST")
    with pytest.raises(httpx.ReadError):
        client.post(
            "/email", json={"From": "sender@example.com", "To": "a@example.com", "TextBody": "x"}
        )
    assert fake.count("POST", "/email") == 1
    assert fake.last("POST", "/email").json["To"] == "a@example.com"
    assert client.get("/server").status_code == 200


def test_stall_fault_holds_one_request_until_released(
    fake: FakePostmark, client: httpx.Client
) -> None:
    fake.fail_next("stall", path="/server")
    results: list[int] = []
    waiter = threading.Thread(
        target=lambda: results.append(
            httpx.get(
                fake.url + "/server",
                timeout=10,
                headers={"X-Postmark-Server-Token": fake.server_token},
            ).status_code
        )
    )
    waiter.start()
    fake.wait_stalled()
    # The server keeps answering other requests meanwhile.
    assert client.get("/deliverystats").status_code == 200
    assert results == []
    assert fake.release() == 1
    waiter.join(timeout=5)
    assert results == [200]


def test_stall_fault_times_out_the_client_and_stop_ends_it() -> None:
    with FakePostmark() as fake:
        fake.fail_next("stall")
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(
                fake.url + "/server",
                timeout=0.3,
                headers={"X-Postmark-Server-Token": fake.server_token},
            )
        # The timed-out request stays stalled until the fake sees it hang up; only then
        # can wait_stalled() below be about the second one.
        gone_by = time.monotonic() + 5
        while fake.stalled and time.monotonic() < gone_by:
            time.sleep(0.01)
        assert fake.stalled == 0
        fake.fail_next("stall")
        answered: list[object] = []

        def get() -> None:
            try:
                answered.append(httpx.get(fake.url + "/server", timeout=10).status_code)
            except httpx.HTTPError as exc:
                answered.append(exc)

        stalled = threading.Thread(target=get)
        stalled.start()
        fake.wait_stalled()
        started = time.monotonic()
    assert time.monotonic() - started < 5
    stalled.join(timeout=5)
    assert not stalled.is_alive()
    assert len(answered) == 1 and isinstance(answered[0], int), answered  # released, answered


_PATH_VALUES = {
    "bounceid": "692560173",
    "templateIdOrAlias": "welcome",
    "bulkRequestId": BULK_ID,
    "stream_ID": "broadcasts",
    "id": "1234567",
    "triggerid": "3",
    "serverid": "24",
    "domainid": "36735",
    "signatureid": "36501",
    "messageid": RECEIPT_MESSAGE_ID,
}
_PATH_OVERRIDES = {
    "/messages/inbound/{messageid}/details": f"/messages/inbound/{INBOUND_PROCESSED_ID}/details",
    "/messages/inbound/{messageid}/bypass": f"/messages/inbound/{INBOUND_BLOCKED_ID}/bypass",
    "/messages/inbound/{messageid}/retry": f"/messages/inbound/{INBOUND_FAILED_ID}/retry",
    "/data-removals/{id}": "/data-removals/1234",
}


def test_every_documented_endpoint_is_served(fake: FakePostmark) -> None:
    """All 87 endpoints answer (GETs with 200); none is unknown, unauthorised or crashing."""
    rows = (REFERENCE / "endpoints.tsv").read_text().splitlines()[1:]
    assert len(rows) == 87
    for row in rows:
        token, method, template = row.split("\t")[:3]
        path = _PATH_OVERRIDES.get(template, template)
        for name, value in _PATH_VALUES.items():
            path = path.replace("{" + name + "}", value)
        headers = {f"X-Postmark-{token.title()}-Token": getattr(fake, f"{token}_token")}
        fake.reset()
        response = httpx.request(
            method,
            fake.url + path,
            headers=headers,
            timeout=5,
            params={"count": 10, "offset": 0} if method == "GET" else None,
            json={} if method in ("POST", "PUT", "PATCH") else None,
        )
        assert response.status_code not in (401, 404, 405, 500), (method, path, response.text)
        assert response.json() is not None
        if method == "GET":
            assert response.status_code == 200, (method, path, response.text)
