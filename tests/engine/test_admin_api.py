"""The admin API's status codes and bodies, and the server lifecycle it drives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.support.mcp_client import mcp_client
from tests.support.serving import Yamcp


@pytest.fixture(scope="module")
def admin_token(yamcp: Yamcp) -> str:
    out = yamcp.cli("admin-token", "create")
    token = out.stdout.strip()
    assert len(token) >= 40 and "\n" not in token
    return token


@pytest.fixture
def admin(yamcp: Yamcp, admin_token: str) -> httpx.Client:
    return httpx.Client(
        base_url=yamcp.base, headers={"authorization": f"Bearer {admin_token}"}, timeout=10
    )


def test_bad_or_missing_admin_token_is_401(yamcp: Yamcp) -> None:
    for headers in ({}, {"authorization": "Bearer nope"}, {"authorization": "Basic x"}):
        response = httpx.get(f"{yamcp.base}/integrated-account/acme/mcp", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_unknown_account_is_404(admin: httpx.Client) -> None:
    response = admin.post("/integrated-account/nobody/mcp", json={"name": "x"})
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_create_answers_201_with_url_once_then_lists_without_url(admin: httpx.Client) -> None:
    created = admin.post(
        "/integrated-account/acme/mcp",
        json={
            "name": "triage",
            "config": {"methods": ["read"], "tags": ["bounces"]},
            "expires_at": None,
            "require_api_token_auth": False,
        },
    )
    assert created.status_code == 201
    body = created.json()
    assert {"id", "name", "config", "expires_at", "url"} <= set(body)
    assert body["config"]["methods"] == ["read"]
    assert "/mcp/" in body["url"]
    token = body["url"].rsplit("/", 1)[1]
    listed = admin.get("/integrated-account/acme/mcp")
    assert listed.status_code == 200
    assert token not in listed.text
    ids = [s["id"] for s in listed.json()]
    assert body["id"] in ids
    one = admin.get(f"/integrated-account/acme/mcp/{body['id']}")
    assert one.status_code == 200 and token not in one.text
    assert one.json()["created_at"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"config": {}}, "name"),
        ({"name": "x", "config": {"methods": ["explode"]}}, "config.methods"),
        ({"name": "x", "surprise": 1}, "surprise"),
        ({"name": "x", "expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "x", "expires_at": "2030-01-01T00:00:00"}, "expires_at"),
        ({"name": "x", "config": {"policy": "no-such-policy"}}, "config.policy"),
    ],
)
def test_validation_errors_are_422_with_field_and_reason(
    admin: httpx.Client, payload: dict, field: str
) -> None:
    response = admin.post("/integrated-account/acme/mcp", json=payload)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert any(e["field"] == field and e["reason"] for e in errors), errors


def test_expiry_beyond_guardrail_lifetime_is_refused(admin: httpx.Client) -> None:
    far = (datetime.now(UTC) + timedelta(days=4000)).isoformat()
    response = admin.post("/integrated-account/acme/mcp", json={"name": "x", "expires_at": far})
    assert response.status_code == 422
    assert "longest lifetime" in response.json()["errors"][0]["reason"]


def test_default_expiry_is_the_guardrail_lifetime(admin: httpx.Client) -> None:
    body = admin.post("/integrated-account/acme/mcp", json={"name": "x"}).json()
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(days=364) < expires - datetime.now(UTC) <= timedelta(days=365)


async def test_update_changes_what_the_url_serves(admin: httpx.Client) -> None:
    body = admin.post(
        "/integrated-account/acme/mcp", json={"name": "x", "config": {"tags": ["bounces"]}}
    ).json()
    async with mcp_client(body["url"]) as client:
        before = {t.name for t in (await client.list_tools()).tools}
    patched = admin.patch(
        f"/integrated-account/acme/mcp/{body['id']}",
        json={"name": "renamed", "config": {"methods": ["read"], "tags": ["templates"]}},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "renamed"
    async with mcp_client(body["url"]) as client:
        after = {t.name for t in (await client.list_tools()).tools}
    assert "list_all_postmark_bounces" in before and "list_all_postmark_bounces" not in after
    assert "list_all_postmark_templates" in after
    bad = admin.patch(
        f"/integrated-account/acme/mcp/{body['id']}", json={"config": {"methods": ["x"]}}
    )
    assert bad.status_code == 422


def test_delete_revokes_and_the_url_is_404(admin: httpx.Client) -> None:
    body = admin.post("/integrated-account/acme/mcp", json={"name": "x"}).json()
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    assert httpx.post(body["url"], json=ping).status_code == 200
    assert admin.delete(f"/integrated-account/acme/mcp/{body['id']}").status_code == 204
    assert httpx.post(body["url"], json=ping).status_code == 404
    assert admin.delete(f"/integrated-account/acme/mcp/{body['id']}").status_code == 404
    assert admin.get(f"/integrated-account/acme/mcp/{body['id']}").status_code == 404


def test_api_tokens_gate_the_url(admin: httpx.Client) -> None:
    body = admin.post(
        "/integrated-account/acme/mcp", json={"name": "x", "require_api_token_auth": True}
    ).json()
    url = body["url"]
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    refused = httpx.post(url, json=init)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    made = admin.post(f"/integrated-account/acme/mcp/{body['id']}/api-tokens")
    assert made.status_code == 201
    token = made.json()["token"]
    assert "ChatGPT" in made.json()["note"]
    ok = httpx.post(url, json=init, headers={"authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    wrong = httpx.post(url, json=init, headers={"authorization": "Bearer not-it"})
    assert wrong.status_code == 401
    listed = admin.get(f"/integrated-account/acme/mcp/{body['id']}/api-tokens").json()
    assert [t["id"] for t in listed] == [made.json()["id"]] and token not in str(listed)
    gone = admin.delete(f"/integrated-account/acme/mcp/{body['id']}/api-tokens/{made.json()['id']}")
    assert gone.status_code == 204
    assert (
        httpx.post(url, json=init, headers={"authorization": f"Bearer {token}"}).status_code == 401
    )


def test_preview_lists_exact_tools_and_exclusion_reasons(admin: httpx.Client) -> None:
    response = admin.post(
        "/integrated-account/acme/mcp-preview",
        json={"config": {"methods": ["read"], "tags": ["bounces"]}},
    )
    assert response.status_code == 200
    body = response.json()
    names = [t["name"] for t in body["tools"]]
    assert names == sorted(names) and "list_all_postmark_bounces" in names
    assert all(t["access"] == "read" for t in body["tools"])
    reasons = {e["name"]: e["reason"] for e in body["excluded"]}
    assert "not in ['read']" in reasons["create_a_postmark_email"]


async def test_preview_counts_what_the_guardrails_withhold_and_says_why(
    admin: httpx.Client, yamcp: Yamcp
) -> None:
    """A config with no methods or tags gets every tool the guardrails allow: the preview
    says how many they held back and why, and the server minted from it serves exactly
    the rest."""
    bare = admin.post("/integrated-account/acme/mcp-preview", json={"config": {}}).json()
    summary = bare["summary"]
    guarded = [e for e in bare["excluded"] if e["guardrail"]]
    assert summary["total"] == len(bare["tools"]) + len(bare["excluded"])
    assert summary["exposed"] == len(bare["tools"]) == summary["total"] - len(guarded)
    assert summary["withheld_by_guardrails"] == len(guarded) > 0
    need = summary["need_api_token"]
    assert need["tools"] + summary["denied"]["tools"] == len(guarded)
    assert {"servers", "domains"} <= set(need["tags"])
    assert summary["text"].startswith(
        f"{summary['exposed']} of {summary['total']} tools; {len(guarded)} withheld by "
        f"guardrails: {need['tools']} tagged {', '.join(need['tags'])} need API-token auth "
        "(--require-api-token-auth)"
    )

    with_token = admin.post(
        "/integrated-account/acme/mcp-preview",
        json={"config": {}, "require_api_token_auth": True},
    ).json()["summary"]
    assert with_token["need_api_token"] == {"tools": 0, "tags": []}
    assert with_token["exposed"] == summary["exposed"] + need["tools"]

    url = admin.post("/integrated-account/acme/mcp", json={"name": "all"}).json()["url"]
    async with mcp_client(url) as client:
        served = sorted(t.name for t in (await client.list_tools()).tools)
    assert served == [t["name"] for t in bare["tools"]]


def test_accounts_are_listed(admin: httpx.Client) -> None:
    listed = {a["id"]: a for a in admin.get("/integrated-account").json()}
    assert listed["acme"]["integration"] == "postmark"
    assert listed["acme"]["source"] == "file"
