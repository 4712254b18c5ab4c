"""The admin API's status codes and bodies, and the server lifecycle it drives."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import redis

from tests.support.mcp_client import mcp_client
from tests.support.plain_http import admin_client, create, initialize
from tests.support.serving import Yamcp
from tests.support.store_instances import REDIS_URL


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


# --- a PATCH with null must not corrupt a server, on either store (issue 13's review) ---


@pytest.mark.parametrize("store", ["sqlite", "redis"])
@pytest.mark.parametrize(
    "patch", [{"name": None}, {"require_api_token_auth": None}, {"config": None}]
)
def test_patch_with_null_is_422_and_writes_nothing(
    request: pytest.FixtureRequest, store: str, patch: dict
) -> None:
    server: Yamcp = request.getfixturevalue(f"{store}_instance")
    with admin_client(server) as admin:
        created = create(admin, name="keep-me", config={"methods": ["read"]})
        path = f"/integrated-account/acme/mcp/{created['id']}"
        response = admin.patch(path, json=patch)
        assert response.status_code == 422, response.text
        (field,) = patch
        assert response.json()["errors"][0]["field"] == field
        shown = admin.get(path)
        assert shown.status_code == 200
        assert shown.json()["name"] == "keep-me"
        assert shown.json()["require_api_token_auth"] is False
        assert shown.json()["config"]["methods"] == ["read"]
        assert admin.get("/integrated-account/acme/mcp").status_code == 200
        assert initialize(created["url"]).status_code == 200
        assert admin.delete(path).status_code == 204


def test_a_record_corrupted_by_an_older_version_is_revoked_not_a_500(
    redis_instance: Yamcp,
) -> None:
    prefix = redis_instance.env["YAMCP_STORE_PREFIX"]
    raw = redis.Redis.from_url(REDIS_URL)
    with admin_client(redis_instance) as admin:
        created = create(admin, name="soon-corrupt")
        key = f"{prefix}server:{created['id']}"
        record = json.loads(raw.hget(key, "record"))
        raw.hset(key, "record", json.dumps({**record, "name": None}))  # what the bug stored
        listed = admin.get("/integrated-account/acme/mcp")
        assert listed.status_code == 200
        assert created["id"] not in [s["id"] for s in listed.json()]
        assert initialize(created["url"]).status_code == 404
        assert admin.get(f"/integrated-account/acme/mcp/{created['id']}").status_code == 404
    assert not raw.exists(key)
    assert "Traceback" not in redis_instance.log()


# --- constraints that cannot compile are refused where they are written (issue 13) ---

BAD_CONSTRAINTS = [
    ({"To": {"pattern": "("}}, "To"),
    ({"To[": {"enum": ["a"]}}, "To["),
    ({"To": {"regex": "x"}}, "To"),
    ({"To": {}}, "To"),
    ({"To": "x"}, "To"),
]


@pytest.mark.parametrize(("rule", "argument"), BAD_CONSTRAINTS)
def test_constraints_that_cannot_compile_are_422_everywhere(
    sqlite_instance: Yamcp, rule: dict, argument: str
) -> None:
    config = {"methods": ["read", "write"], "constraints": {"create_a_postmark_email": rule}}
    field_prefix = f"config.constraints.create_a_postmark_email.{argument}"
    with admin_client(sqlite_instance) as admin:
        for response in (
            admin.post("/integrated-account/acme/mcp", json={"name": "x", "config": config}),
            admin.post("/integrated-account/acme/mcp-preview", json={"config": config}),
        ):
            assert response.status_code == 422, response.text
            assert response.json()["errors"][0]["field"].startswith(field_prefix)
        created = create(admin)
        path = f"/integrated-account/acme/mcp/{created['id']}"
        response = admin.patch(path, json={"config": config})
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"].startswith(field_prefix)
        assert initialize(created["url"]).status_code == 200
