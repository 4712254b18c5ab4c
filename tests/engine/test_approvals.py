"""Human approval, in process: the policy's `approval:`, the gate in front of a call, the
review page, the admin API, the CLI, the webhook and the audit line, with the fake
Postmark recording what arrives. Real clients, Chromium, Redis and concurrency are in
tests/e2e/test_approvals_e2e.py."""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from proxy.metrics import APPROVALS
from proxy.servers import create_admin_token
from tests.support.fake_postmark import FakePostmark
from tests.support.inprocess import BASE, App, upstream_calls

SEND = "create_a_postmark_email"
TEMPLATED = "create_a_postmark_templated_email"
TEMPLATED_BROADCAST = "create_a_postmark_templated_broadcast_email"
EMAIL = {
    "From": "sender@example.com",
    "To": "receiver@example.com",
    "Subject": "Your receipt",
    "HtmlBody": "<p>Thanks for <b>your order</b></p>",
    "TextBody": "Thanks for your order",
    "Attachments": [
        {"Name": "receipt.pdf", "Content": "JVBERi0xLjQK", "ContentType": "application/pdf"}
    ],
}
APPROVE_SENDS = {"approval": {"tools": [SEND, TEMPLATED, TEMPLATED_BROADCAST], "expires_in": "15m"}}


def call(app: App, server_url: str, name: str, arguments: dict, bearer: str = "") -> dict:
    headers = {"mcp-protocol-version": "2025-11-25"}
    if bearer:
        headers["authorization"] = f"Bearer {bearer}"
    message = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }
    answer = app.http.post(server_url, json=message, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["result"]


def sends(postmark: FakePostmark) -> list[str]:
    return [c for c in upstream_calls(postmark) if c.startswith("POST /email")]


def review_form(app: App, approval_url: str) -> tuple[str, dict[str, str]]:
    path = approval_url.removeprefix(BASE)
    page = app.http.get(path)
    assert page.status_code == 200, page.text
    return path, {}


def decide(
    app: App, approval_url: str, credential: str, decision: str = "approve", note: str = ""
) -> Any:
    path = approval_url.removeprefix(BASE)
    return app.http.post(
        path,
        data={"credential": credential, "decision": decision, "note": note},
        headers={"origin": BASE},
    )


@pytest.fixture
def admin(app: App) -> str:
    return app.run(create_admin_token(app.gateway.store))[1]


def test_a_listed_tool_says_each_call_needs_approval(app: App) -> None:
    server = app.mint(secured=False, config={"methods": ["read", "create"], **APPROVE_SENDS})
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    tools = app.http.post(server.url, json=message).json()["result"]["tools"]
    by_name = {t["name"]: t for t in tools}
    assert "needs a person's approval" in by_name[SEND]["description"]
    assert "needs a person's approval" not in by_name["list_all_postmark_bounces"]["description"]


def test_nothing_is_sent_until_a_person_approves_then_exactly_once(
    app: App, postmark: FakePostmark
) -> None:
    server = app.mint(config={"methods": ["read", "create"], **APPROVE_SENDS})
    first = call(app, server.url, SEND, EMAIL, server.api_token)
    assert first["isError"] is False
    held = first["structuredContent"]
    assert held["status"] == "approval_required"
    assert held["approval_url"] == f"{BASE}/approve/{held['approval_id']}"
    assert "Show the user this link" in first["content"][0]["text"]
    assert sends(postmark) == []
    # asking again before a decision: the same request, still nothing sent
    again = call(app, server.url, SEND, EMAIL, server.api_token)
    assert again["structuredContent"]["approval_id"] == held["approval_id"]
    assert sends(postmark) == []

    # the link alone does not approve
    for credential in ("", "not-a-token", server.token):
        refused = decide(app, held["approval_url"], credential)
        assert refused.status_code == 401
    assert sends(postmark) == []

    approved = decide(app, held["approval_url"], server.api_token, note="looks right")
    assert approved.status_code == 200
    assert f"approved by api token {server.api_token_id}" in approved.text
    sent = call(app, server.url, SEND, EMAIL, server.api_token)
    assert sent["isError"] is False
    assert sent["structuredContent"]["MessageID"]
    assert sent["structuredContent"]["approval"] == {
        "id": held["approval_id"],
        "approved_by": f"api token {server.api_token_id}",
    }
    assert sends(postmark) == ["POST /email"]
    body = postmark.last("POST", "/email").json
    assert body["To"] == "receiver@example.com" and body["Subject"] == "Your receipt"

    # a further identical call needs a new approval
    after = call(app, server.url, SEND, EMAIL, server.api_token)
    assert after["structuredContent"]["status"] == "approval_required"
    assert after["structuredContent"]["approval_id"] != held["approval_id"]
    assert sends(postmark) == ["POST /email"]


def test_different_arguments_need_their_own_approval(
    app: App, postmark: FakePostmark, admin: str
) -> None:
    server = app.mint(secured=False, config={"methods": ["read", "create"], **APPROVE_SENDS})
    held = call(app, server.url, SEND, EMAIL)["structuredContent"]
    assert decide(app, held["approval_url"], admin).status_code == 200
    changed = call(app, server.url, SEND, {**EMAIL, "To": "someone-else@example.com"})
    assert changed["structuredContent"]["status"] == "approval_required"
    assert changed["structuredContent"]["approval_id"] != held["approval_id"]
    assert sends(postmark) == []
    # the approved one still goes, once
    assert call(app, server.url, SEND, EMAIL)["structuredContent"]["MessageID"]
    assert sends(postmark) == ["POST /email"]


def test_a_request_that_would_fail_never_waits_for_a_person(
    app: App, postmark: FakePostmark
) -> None:
    server = app.mint(secured=False, config={"methods": ["read", "create"], **APPROVE_SENDS})
    missing = call(app, server.url, SEND, {"From": "sender@example.com", "TextBody": "x"})
    assert missing["isError"] is True
    assert missing["structuredContent"]["error"]["type"] == "invalid_arguments"
    wrong_stream = call(app, server.url, SEND, {**EMAIL, "MessageStream": "broadcast"})
    assert wrong_stream["isError"] is True
    assert app.run(app.gateway.store.list_approvals(server.server_id)) == []
    assert sends(postmark) == []


def test_a_denial_answers_with_the_note_and_sends_nothing(
    app: App, postmark: FakePostmark, admin: str
) -> None:
    server = app.mint(secured=False, config={"methods": ["read", "create"], **APPROVE_SENDS})
    held = call(app, server.url, SEND, EMAIL)["structuredContent"]
    denied = decide(app, held["approval_url"], admin, "deny", "wrong customer")
    assert denied.status_code == 200 and "denied by admin" in denied.text
    answer = call(app, server.url, SEND, EMAIL)
    assert answer["isError"] is True
    error = answer["structuredContent"]["error"]
    assert error["type"] == "approval_denied" and error["note"] == "wrong customer"
    assert "wrong customer" in error["message"]
    # said once; the next call asks anew
    anew = call(app, server.url, SEND, EMAIL)["structuredContent"]
    assert anew["status"] == "approval_required" and anew["approval_id"] != held["approval_id"]
    assert sends(postmark) == []


def test_an_expired_request_answers_so_and_sends_nothing(
    app: App, postmark: FakePostmark, admin: str
) -> None:
    config = {"methods": ["read", "create"], "approval": {"tools": [SEND], "expires_in": 1}}
    server = app.mint(secured=False, config=config)
    held = call(app, server.url, SEND, EMAIL)["structuredContent"]
    time.sleep(1.2)
    too_late = decide(app, held["approval_url"], admin)
    assert too_late.status_code == 409 and "expired" in too_late.text
    answer = call(app, server.url, SEND, EMAIL)
    assert answer["structuredContent"]["error"]["type"] == "approval_expired"
    assert sends(postmark) == []


def test_the_page_shows_the_email_as_it_will_be_sent(app: App) -> None:
    server = app.mint(secured=False, config={"methods": ["read", "create"], **APPROVE_SENDS})
    held = call(app, server.url, SEND, {**EMAIL, "Cc": "boss@example.com"})["structuredContent"]
    page = app.http.get(held["approval_url"].removeprefix(BASE))
    text = page.text
    for shown in (
        "sender@example.com",
        "receiver@example.com",
        "boss@example.com",
        "Your receipt",
        "outbound",
        "Thanks for your order",
        "receipt.pdf (9 bytes)",
    ):
        assert shown in text, shown
    assert "<b>your order</b>" not in text  # the HTML is framed, not inlined
    assert f'src="/approve/{held["approval_id"]}/html"' in text
    csp = page.headers["content-security-policy"]
    assert "script-src" not in csp and "frame-src 'self'" in csp
    frame = app.http.get(f"/approve/{held['approval_id']}/html")
    assert "<b>your order</b>" in frame.text
    assert "sandbox" in frame.headers["content-security-policy"]
    assert "img-src data:" in frame.headers["content-security-policy"]


@pytest.mark.parametrize(
    ("tool", "stream"), [(TEMPLATED, "outbound"), (TEMPLATED_BROADCAST, "broadcasts")]
)
def test_a_templated_send_is_shown_rendered_from_the_template_and_model(
    app: App, tool: str, stream: str
) -> None:
    server = app.mint(secured=False, config={"methods": ["read", "create"], **APPROVE_SENDS})
    model = {
        "name": "Jim",
        "product_name": "Acme Mail",
        "items": [{"title": "First steps"}],
        "company": {"address": "1 Main St"},
    }
    arguments = {
        "From": "sender@example.com",
        "To": "receiver@example.com",
        "TemplateAlias": "welcome",
        "TemplateModel": model,
        "MessageStream": stream,
    }
    held = call(app, server.url, tool, arguments)["structuredContent"]
    page = app.http.get(held["approval_url"].removeprefix(BASE)).text
    assert f"<dt>Stream</dt><dd>{stream}</dd>" in page  # the stream it goes out on
    assert "Welcome to Acme Mail, Jim!" in page  # the rendered subject
    assert "Hello Jim," in page and "- First steps" in page  # the rendered text body
    frame = app.http.get(f"/approve/{held['approval_id']}/html").text
    assert "<h1>Hello Jim</h1>" in frame and "<li>First steps</li>" in frame


def test_any_other_tool_shows_its_arguments(app: App, postmark: FakePostmark, admin: str) -> None:
    config = {"methods": ["read", "delete"], "approval": {"methods": ["delete"]}}
    server = app.mint(secured=False, config=config)
    tool = "delete_a_postmark_template_by_id"
    held = call(app, server.url, tool, {"id": "welcome"})["structuredContent"]
    page = app.http.get(held["approval_url"].removeprefix(BASE)).text
    assert tool in page and "DELETE /templates/welcome" in page and "&quot;welcome&quot;" in page
    assert upstream_calls(postmark) == []
    listed = app.http.get("/approvals", headers={"authorization": f"Bearer {admin}"}).json()
    assert [a["summary"] for a in listed] == [f"{tool} id=welcome"]
    decide(app, held["approval_url"], admin)
    assert call(app, server.url, tool, {"id": "welcome"})["isError"] is False
    assert upstream_calls(postmark) == ["DELETE /templates/welcome"]


def test_the_page_escapes_what_the_agent_wrote(app: App) -> None:
    server = app.mint(secured=False, config={"methods": ["read", "create"], **APPROVE_SENDS})
    evil = {**EMAIL, "Subject": "<script>alert(1)</script>", "TextBody": "</pre><img src=x>"}
    held = call(app, server.url, SEND, evil)["structuredContent"]
    page = app.http.get(held["approval_url"].removeprefix(BASE)).text
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;" in page


def test_the_form_refuses_another_origin(app: App, admin: str) -> None:
    server = app.mint(secured=False, config={"methods": ["read", "create"], **APPROVE_SENDS})
    held = call(app, server.url, SEND, EMAIL)["structuredContent"]
    path = held["approval_url"].removeprefix(BASE)
    answer = app.http.post(
        path,
        data={"credential": admin, "decision": "approve"},
        headers={"origin": "https://evil.example"},
    )
    assert answer.status_code == 403
    assert app.run(app.gateway.store.get_approval(held["approval_id"])).status == "pending"


def test_an_api_token_of_another_server_cannot_approve(app: App) -> None:
    ours = app.mint(config={"methods": ["read", "create"], **APPROVE_SENDS})
    theirs = app.mint()
    held = call(app, ours.url, SEND, EMAIL, ours.api_token)["structuredContent"]
    assert decide(app, held["approval_url"], theirs.api_token).status_code == 401
    assert app.run(app.gateway.store.get_approval(held["approval_id"])).status == "pending"


# --- policy sources ---


def test_guardrails_can_require_approval_for_a_tag_on_every_server(
    make_app: Callable[..., App], tmp_path: Path, postmark: FakePostmark
) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "guardrails.yaml").write_text("approval:\n  tags: [outbound_messages]\n")
    app = make_app(policies_dir=policies)
    server = app.mint(secured=False, config={"methods": ["read", "create"]})
    held = call(app, server.url, SEND, EMAIL)["structuredContent"]
    assert held["status"] == "approval_required"
    assert sends(postmark) == []


def test_a_named_policy_with_approval(app: App, postmark: FakePostmark) -> None:
    server = app.mint(secured=False, config={"policy": "transactional-sender-approved"})
    held = call(app, server.url, SEND, EMAIL)["structuredContent"]
    assert held["status"] == "approval_required"
    reads = call(app, server.url, "list_all_postmark_templates", {"limit": 1})
    assert reads["isError"] is False  # reads need no approval
    assert sends(postmark) == []


@pytest.mark.parametrize(
    ("approval", "says"),
    [
        ({}, "approval needs methods, tags or tools"),
        ({"tools": ["x"], "expires_in": "soon"}, "not a duration"),
        ({"tools": ["x"], "expires_in": "30d"}, "at most 7 days"),
        ({"methods": ["send"]}, "unknown method"),
    ],
)
def test_a_bad_approval_config_is_refused_naming_the_field(
    app: App, admin: str, approval: dict, says: str
) -> None:
    answer = app.http.post(
        "/integrated-account/acme/mcp",
        json={"name": "x", "config": {"methods": ["read"], "approval": approval}},
        headers={"authorization": f"Bearer {admin}"},
    )
    assert answer.status_code == 422
    assert says in answer.text and "approval" in answer.text


# --- the admin API ---


def test_the_admin_api_lists_shows_and_decides(
    app: App, postmark: FakePostmark, admin: str
) -> None:
    ours = app.mint(config={"methods": ["read", "create"], **APPROVE_SENDS})
    theirs = app.mint(config={"methods": ["read", "create"], **APPROVE_SENDS})
    one = call(app, ours.url, SEND, EMAIL, ours.api_token)["structuredContent"]
    two = call(app, theirs.url, SEND, EMAIL, theirs.api_token)["structuredContent"]
    as_admin = {"authorization": f"Bearer {admin}"}
    listed = app.http.get("/approvals?status=pending", headers=as_admin).json()
    assert {a["id"] for a in listed} == {one["approval_id"], two["approval_id"]}
    assert all("arguments" in a and a["url"].startswith(BASE + "/approve/") for a in listed)
    # an API token sees its own server's requests only
    mine = app.http.get("/approvals", headers={"authorization": f"Bearer {ours.api_token}"}).json()
    assert [a["id"] for a in mine] == [one["approval_id"]]
    assert app.http.get("/approvals").status_code == 401
    assert app.http.get("/approvals", headers={"authorization": "Bearer nope"}).status_code == 401
    hidden = app.http.get(
        f"/approvals/{two['approval_id']}", headers={"authorization": f"Bearer {ours.api_token}"}
    )
    assert hidden.status_code == 404
    shown = app.http.get(f"/approvals/{one['approval_id']}", headers=as_admin).json()
    assert shown["status"] == "pending" and shown["tool"] == SEND
    # the one-line summary comes from the integration's preview hook, never a body
    assert shown["summary"] == f"{SEND} To=receiver@example.com Subject=Your receipt"

    denied = app.http.post(
        f"/approvals/{two['approval_id']}/deny",
        json={"note": "not today"},
        headers={"authorization": f"Bearer {theirs.api_token}"},
    )
    assert denied.status_code == 200
    assert denied.json()["decided_by"] == f"api token {theirs.api_token_id}"
    approved = app.http.post(f"/approvals/{one['approval_id']}/approve", headers=as_admin)
    assert approved.json()["status"] == "approved" and approved.json()["decided_by"] == "admin"
    again = app.http.post(f"/approvals/{one['approval_id']}/deny", headers=as_admin)
    assert again.status_code == 409
    assert call(app, ours.url, SEND, EMAIL, ours.api_token)["structuredContent"]["MessageID"]
    assert sends(postmark) == ["POST /email"]


def test_approvals_go_with_their_server(app: App) -> None:
    server = app.mint(secured=False, config={"methods": ["read", "create"], **APPROVE_SENDS})
    held = call(app, server.url, SEND, EMAIL)["structuredContent"]
    assert app.run(app.gateway.store.delete_server(server.server_id))
    assert app.run(app.gateway.store.get_approval(held["approval_id"])) is None
    assert app.http.get(held["approval_url"].removeprefix(BASE)).status_code == 404


def test_audit_lines_and_metrics_follow_a_request(
    app: App, admin: str, caplog: pytest.LogCaptureFixture
) -> None:
    server = app.mint(secured=False, config={"methods": ["read", "create"], **APPROVE_SENDS})
    before = {e: APPROVALS.labels(e)._value.get() for e in ("requested", "approved", "executed")}
    with caplog.at_level("INFO", logger="yamcp.audit"):
        held = call(app, server.url, SEND, EMAIL)["structuredContent"]
        decide(app, held["approval_url"], admin)
        call(app, server.url, SEND, EMAIL)
    lines = [json.loads(r.getMessage()) for r in caplog.records if "approval_" in r.getMessage()]
    assert [line["event"] for line in lines] == [
        "approval_requested",
        "approval_approved",
        "approval_executed",
    ]
    assert lines[1]["by"] == "admin" and lines[2]["outcome"] == "ok"
    assert all(line["approval"] == held["approval_id"] for line in lines)
    for event in before:
        assert APPROVALS.labels(event)._value.get() == before[event] + 1
    assert 'yamcp_approvals_total{event="executed"}' in app.http.get("/metrics").text


# --- the webhook ---


@pytest.fixture
def hook_receiver() -> Iterator[tuple[str, list[dict]]]:
    received: list[dict] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["content-length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()


def test_the_webhook_hears_of_each_new_request_without_a_secret_or_body(
    make_app: Callable[..., App],
    hook_receiver: tuple[str, list[dict]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, received = hook_receiver
    monkeypatch.setenv("YAMCP_APPROVAL_WEBHOOK", url)
    app = make_app()
    server = app.mint(config={"methods": ["read", "create"], **APPROVE_SENDS})
    held = call(app, server.url, SEND, EMAIL, server.api_token)["structuredContent"]
    deadline = time.monotonic() + 5
    while not received and time.monotonic() < deadline:
        time.sleep(0.05)
    (payload,) = received
    assert payload["id"] == held["approval_id"] and payload["tool"] == SEND
    assert payload["url"] == held["approval_url"]
    assert held["approval_url"] in payload["text"] and "To=receiver@example.com" in payload["text"]
    flat = json.dumps(payload)
    for secret in (server.token, server.api_token, FakePostmark.server_token, "Thanks for"):
        assert secret not in flat


# --- the CLI ---


def test_the_cli_lists_shows_and_decides(app: App, postmark: FakePostmark) -> None:
    import os
    import subprocess
    import sys

    server = app.mint(secured=False, config={"methods": ["read", "create"], **APPROVE_SENDS})
    held = call(app, server.url, SEND, EMAIL)["structuredContent"]
    env = {
        **os.environ,
        "YAMCP_DATA_DIR": str(app.settings.data_dir),
        "YAMCP_PUBLIC_BASE_URL": BASE,
    }

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "proxy.cli", "approvals", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    listed = cli("list", "--status", "pending")
    assert re.search(
        rf"{held['approval_id']}  pending  {server.server_id}  {SEND} To=receiver@example.com",
        listed.stdout,
    )
    shown = cli("show", held["approval_id"])
    assert f"url: {held['approval_url']}" in shown.stdout and "Your receipt" in shown.stdout
    assert (
        cli("approve", held["approval_id"], "--note", "ok").stdout.strip()
        == f"approved {held['approval_id']}"
    )
    assert cli("deny", held["approval_id"]).returncode == 1  # no longer pending
    sent = call(app, server.url, SEND, EMAIL)
    assert sent["structuredContent"]["approval"]["approved_by"] == "admin (cli)"
    assert sends(postmark) == ["POST /email"]


def test_plan_and_the_admin_preview_mark_the_tools_that_need_approval(app: App, admin: str) -> None:
    import subprocess
    import sys

    from tests.support.paths import ROOT

    shown = subprocess.run(
        [sys.executable, "-m", "proxy.cli", "plan", "policies/transactional-sender-approved.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    block = shown.split(f"+ {SEND}  ", 1)[1].split("\n+ ", 1)[0]
    assert "needs approval (waits 15m)" in block
    reads = shown.split("+ list_all_postmark_templates", 1)[1].split("\n+ ", 1)[0]
    assert "needs approval" not in reads
    preview = app.http.post(
        "/integrated-account/acme/mcp-preview",
        json={"config": {"methods": ["read", "create"], "approval": {"methods": ["write"]}}},
        headers={"authorization": f"Bearer {admin}"},
    ).json()
    by_name = {t["name"]: t for t in preview["tools"]}
    assert by_name[SEND]["approval"] == {"expires_in": 900.0}
    assert "approval" not in by_name["list_all_postmark_templates"]


def test_mint_takes_the_approval_flags(app: App) -> None:
    made = app.cli(
        "mint",
        "--account",
        "acme",
        "--json",
        "--approval-tags",
        "outbound_messages",
        "--approval-expires-in",
        "2h",
    )
    config = json.loads(made.stdout)["config"]
    assert config["approval"] == {
        "methods": [],
        "tags": ["outbound_messages"],
        "tools": [],
        "expires_in": 7200.0,
    }
