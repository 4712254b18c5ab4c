"""OAuth 2.1 for secured servers, in process: discovery, registration, the consent page,
codes and tokens, and every way a token must fail, each showing nothing went upstream.

The app runs in process (Starlette's TestClient) against the fake Postmark on loopback;
the real clients (the SDK's OAuth client with Chromium, mcp-remote) and the Redis
instances are in tests/e2e/test_oauth_clients.py.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from proxy.app import create_app
from proxy.settings import Settings
from tests.support.fake_postmark import FakePostmark
from tests.support.inprocess import BASE, App, upstream_calls
from tests.support.oauth_flow import REDIRECT, OAuthDriver, call_tool, query_of, tools_list
from tests.support.paths import ROOT

# --- discovery ---


def test_a_secured_server_answers_401_pointing_at_its_metadata(app: App) -> None:
    server = app.mint()
    response = tools_list(app.http, server.url, None)
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    metadata_url = f"{BASE}/.well-known/oauth-protected-resource/mcp/{server.token}"
    assert f'resource_metadata="{metadata_url}"' in challenge
    assert challenge.startswith("Bearer ")

    document = app.http.get(metadata_url)
    assert document.status_code == 200
    assert document.json() == {
        "resource": server.url,
        "authorization_servers": [BASE],
        "scopes_supported": ["mcp"],
        "bearer_methods_supported": ["header"],
        "resource_name": "Postmark (acme)",
    }
    assert document.headers["cache-control"] == "no-store"


def test_authorization_server_metadata_says_what_the_clients_need(app: App) -> None:
    for path in (
        "/.well-known/oauth-authorization-server",
        "/.well-known/oauth-authorization-server/x",
    ):
        metadata = app.http.get(path).json()
        assert metadata["issuer"] == BASE
        assert metadata["code_challenge_methods_supported"] == ["S256"]
        assert "none" in metadata["token_endpoint_auth_methods_supported"]
        assert metadata["client_id_metadata_document_supported"] is True
        assert metadata["authorization_response_iss_parameter_supported"] is True
        for endpoint in ("authorization", "token", "registration", "revocation"):
            assert metadata[f"{endpoint}_endpoint"].startswith(BASE + "/oauth/")


def test_metadata_of_unknown_revoked_or_open_servers_is_the_mcp_404_byte_for_byte(
    app: App,
) -> None:
    reference = app.http.post("/mcp/" + "x" * 43, json={})
    assert reference.status_code == 404
    revoked = app.mint()
    app.run(app.gateway.store.delete_server(revoked.server_id))
    open_server = app.mint(secured=False)
    for token in ("x" * 43, revoked.token, open_server.token, "", "%2e%2e"):
        answer = app.http.get(f"/.well-known/oauth-protected-resource/mcp/{token}")
        assert answer.status_code == 404
        assert answer.content == reference.content
        assert answer.headers["content-type"] == reference.headers["content-type"]
    # an open server keeps working with no authentication at all
    assert tools_list(app.http, open_server.url, None).status_code == 200


# --- the whole flow, by hand ---


def test_sign_in_then_call_reaches_the_upstream(app: App, postmark: FakePostmark) -> None:
    server = app.mint()
    signed = app.oauth.sign_in(server.url, server.api_token)
    assert signed.expires_in == 3600
    listed = tools_list(app.http, server.url, signed.access_token)
    assert listed.status_code == 200
    assert any(t["name"] == "list_all_postmark_bounces" for t in listed.json()["result"]["tools"])
    called = call_tool(
        app.http, server.url, signed.access_token, "list_all_postmark_bounces", {"limit": 1}
    )
    assert called.json()["result"]["isError"] is False
    sent = postmark.last("GET", "/bounces")
    assert sent.headers["x-postmark-server-token"] == FakePostmark.server_token
    # the access token itself never goes upstream
    assert all(signed.access_token not in str(r.headers) for r in postmark.requests)


def test_the_api_token_itself_still_works_as_a_header(app: App) -> None:
    server = app.mint()
    assert tools_list(app.http, server.url, server.api_token).status_code == 200


def test_refresh_rotates_and_a_replayed_refresh_token_ends_the_sign_in(app: App) -> None:
    server = app.mint()
    signed = app.oauth.sign_in(server.url, server.api_token)
    renewed = app.oauth.refresh(signed.client_id, signed.refresh_token)
    assert renewed.status_code == 200, renewed.text
    fresh = renewed.json()
    assert fresh["refresh_token"] != signed.refresh_token
    assert tools_list(app.http, server.url, fresh["access_token"]).status_code == 200
    # the old refresh token was spent; presenting it again means it leaked
    replay = app.oauth.refresh(signed.client_id, signed.refresh_token)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert tools_list(app.http, server.url, fresh["access_token"]).status_code == 401
    assert app.oauth.refresh(signed.client_id, fresh["refresh_token"]).status_code == 400


def test_a_refresh_by_another_client_is_refused(app: App) -> None:
    server = app.mint()
    signed = app.oauth.sign_in(server.url, server.api_token)
    intruder = app.oauth.register()["client_id"]
    answer = app.oauth.refresh(intruder, signed.refresh_token)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


# --- tokens that must fail: nothing reaches the upstream ---


def test_a_token_for_another_server_url_is_refused(app: App, postmark: FakePostmark) -> None:
    one, two = app.mint(), app.mint()
    signed = app.oauth.sign_in(one.url, one.api_token)
    answer = call_tool(app.http, two.url, signed.access_token, "list_all_postmark_bounces", {})
    assert answer.status_code == 401
    assert upstream_calls(postmark) == []


def test_an_expired_access_token_is_refused(
    make_app: Callable[..., App], postmark: FakePostmark
) -> None:
    app = make_app(oauth_access_token_seconds=1)
    server = app.mint()
    signed = app.oauth.sign_in(server.url, server.api_token)
    assert signed.expires_in == 1
    assert tools_list(app.http, server.url, signed.access_token).status_code == 200
    import time

    time.sleep(1.2)
    answer = call_tool(app.http, server.url, signed.access_token, "list_all_postmark_bounces", {})
    assert answer.status_code == 401
    assert upstream_calls(postmark) == []
    # and the refresh token still renews it
    assert app.oauth.refresh(signed.client_id, signed.refresh_token).status_code == 200


def test_a_wrong_pkce_verifier_spends_the_code(app: App, postmark: FakePostmark) -> None:
    server = app.mint()
    client_id = app.oauth.register()["client_id"]
    verifier = secrets.token_urlsafe(48)
    code = app.oauth.code(client_id, server.url, server.api_token, verifier)
    wrong = app.oauth.exchange(client_id, code, secrets.token_urlsafe(48), server.url)
    assert wrong.status_code == 400
    assert wrong.json() == {
        "error": "invalid_grant",
        "error_description": "code_verifier does not match the code_challenge.",
    }
    assert app.oauth.exchange(client_id, code, verifier, server.url).status_code == 400
    assert upstream_calls(postmark) == []


def test_a_reused_code_is_refused_and_ends_what_the_first_use_got(
    app: App, postmark: FakePostmark
) -> None:
    server = app.mint()
    client_id = app.oauth.register()["client_id"]
    verifier = secrets.token_urlsafe(48)
    code = app.oauth.code(client_id, server.url, server.api_token, verifier)
    first = app.oauth.exchange(client_id, code, verifier, server.url)
    assert first.status_code == 200
    again = app.oauth.exchange(client_id, code, verifier, server.url)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    answer = call_tool(
        app.http, server.url, first.json()["access_token"], "list_all_postmark_bounces", {}
    )
    assert answer.status_code == 401
    assert upstream_calls(postmark) == []


def test_a_code_for_one_resource_cannot_be_exchanged_for_another(app: App) -> None:
    one, two = app.mint(), app.mint()
    client_id = app.oauth.register()["client_id"]
    verifier = secrets.token_urlsafe(48)
    code = app.oauth.code(client_id, one.url, one.api_token, verifier)
    answer = app.oauth.exchange(client_id, code, verifier, two.url)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_target"


def test_a_code_for_another_client_is_refused(app: App) -> None:
    server = app.mint()
    client_id = app.oauth.register()["client_id"]
    other = app.oauth.register()["client_id"]
    verifier = secrets.token_urlsafe(48)
    code = app.oauth.code(client_id, server.url, server.api_token, verifier)
    answer = app.oauth.exchange(other, code, verifier, server.url)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("revoke", ["api_token", "server", "account"])
def test_every_token_dies_with_its_api_token_server_or_account(
    app: App, postmark: FakePostmark, revoke: str
) -> None:
    account = "globex" if revoke == "account" else "acme"
    if revoke == "account":
        # an account connected over the admin API, the kind that can be deleted
        created = app.http.post(
            "/integrated-account",
            json={
                "id": "initech",
                "integration": "postmark",
                "base_url": postmark.url,
                "credentials": {
                    "server_token": FakePostmark.server_token,
                    "account_token": FakePostmark.account_token,
                },
            },
            headers={"authorization": f"Bearer {admin_token(app)}"},
        )
        assert created.status_code == 201, created.text
        account = "initech"
    server = app.mint(account)
    signed = app.oauth.sign_in(server.url, server.api_token)
    assert tools_list(app.http, server.url, signed.access_token).status_code == 200
    store = app.gateway.store
    if revoke == "api_token":
        assert app.run(store.delete_api_token(server.server_id, server.api_token_id))
        expected = 401
    elif revoke == "server":
        assert app.run(store.delete_server(server.server_id))
        expected = 404
    else:
        assert app.run(store.delete_account("initech"))
        expected = 404
    answer = call_tool(app.http, server.url, signed.access_token, "list_all_postmark_bounces", {})
    assert answer.status_code == expected
    refreshed = app.oauth.refresh(signed.client_id, signed.refresh_token)
    assert refreshed.status_code == 400
    assert upstream_calls(postmark) == []


def admin_token(app: App) -> str:
    from proxy.servers import create_admin_token

    return app.run(create_admin_token(app.gateway.store))[1]


def test_revocation_of_an_access_token_and_of_a_refresh_token(app: App) -> None:
    server = app.mint()
    signed = app.oauth.sign_in(server.url, server.api_token)
    revoked = app.http.post(
        "/oauth/revoke", data={"token": signed.access_token, "client_id": signed.client_id}
    )
    assert revoked.status_code == 200
    assert tools_list(app.http, server.url, signed.access_token).status_code == 401
    # the refresh token outlives its access token; revoking it ends the sign-in
    renewed = app.oauth.refresh(signed.client_id, signed.refresh_token).json()
    assert tools_list(app.http, server.url, renewed["access_token"]).status_code == 200
    app.http.post(
        "/oauth/revoke",
        data={"token": renewed["refresh_token"], "client_id": signed.client_id},
    )
    assert tools_list(app.http, server.url, renewed["access_token"]).status_code == 401
    # unknown tokens: 200 all the same (RFC 7009 2.2)
    unknown = app.http.post("/oauth/revoke", data={"token": "nope", "client_id": signed.client_id})
    assert unknown.status_code == 200


def test_another_clients_revocation_is_ignored(app: App) -> None:
    server = app.mint()
    signed = app.oauth.sign_in(server.url, server.api_token)
    intruder = app.oauth.register()["client_id"]
    app.http.post("/oauth/revoke", data={"token": signed.access_token, "client_id": intruder})
    assert tools_list(app.http, server.url, signed.access_token).status_code == 200


# --- the authorization request ---


def test_an_unregistered_redirect_uri_gets_a_page_and_no_redirect(app: App) -> None:
    server = app.mint()
    client_id = app.oauth.register()["client_id"]
    params = app.oauth.authorize_params(client_id, server.url, "v" * 50)
    params["redirect_uri"] = "https://evil.example/steal"
    page = app.oauth.consent(params)
    assert page.status_code == 400
    assert "location" not in page.headers
    assert "Redirect mismatch" in page.text
    assert "evil.example" not in page.text


def test_an_unknown_client_gets_a_page(app: App) -> None:
    server = app.mint()
    params = app.oauth.authorize_params("nobody", server.url, "v" * 50)
    page = app.oauth.consent(params)
    assert page.status_code == 400
    assert "Unknown client" in page.text


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"resource": ""}, "invalid_target"),
        ({"resource": "https://elsewhere.example/mcp/x"}, "invalid_target"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": ""}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
    ],
)
def test_bad_requests_go_back_to_the_client_with_state_and_iss(
    app: App, change: dict[str, str], error: str
) -> None:
    server = app.mint()
    client_id = app.oauth.register()["client_id"]
    params = app.oauth.authorize_params(client_id, server.url, "v" * 50) | change
    answer = app.oauth.consent(params)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith(REDIRECT + "?")
    query = query_of(answer.headers["location"])
    assert query["error"] == error
    assert query["state"] == params["state"]
    assert query["iss"] == BASE


def test_an_expired_server_is_named_plainly(app: App) -> None:
    from datetime import UTC, datetime, timedelta

    server = app.mint(expires_at=(datetime.now(UTC) + timedelta(seconds=1)).isoformat())
    client_id = app.oauth.register()["client_id"]
    import time

    time.sleep(1.1)
    page = app.oauth.consent(app.oauth.authorize_params(client_id, server.url, "v" * 50))
    assert page.status_code == 404
    assert "unknown, revoked or expired" in page.text


def test_an_open_server_needs_no_sign_in(app: App) -> None:
    server = app.mint(secured=False)
    client_id = app.oauth.register()["client_id"]
    page = app.oauth.consent(app.oauth.authorize_params(client_id, server.url, "v" * 50))
    assert page.status_code == 400
    assert "No sign-in needed" in page.text


def test_the_page_names_the_server_and_never_shows_a_secret(app: App) -> None:
    server = app.mint(name="Support desk", config={"methods": ["read"]})
    client_id = app.oauth.register(client_name="<script>alert(1)</script>")["client_id"]
    params = app.oauth.authorize_params(client_id, server.url, "v" * 50)
    params["state"] = '"><img src=x onerror=alert(1)>'
    page = app.oauth.consent(params)
    assert page.status_code == 200
    text = page.text
    assert "Support desk" in text and "acme" in text
    assert "will receive access at <strong>127.0.0.1:9</strong>" in text
    assert "list_all_postmark_bounces" in text
    assert "create_a_postmark_email" not in text  # read-only server: not granted
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "<img" not in text and "&quot;&gt;&lt;img" in text
    assert server.api_token not in text
    csp = page.headers["content-security-policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp
    assert "form-action 'self' http://127.0.0.1:9;" in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["cache-control"] == "no-store"
    # a wrong token: the page again, with no echo of what was typed
    wrong = app.oauth.submit(page, "typed-" + secrets.token_hex(8))
    assert wrong.status_code == 400
    assert "typed-" not in wrong.text
    assert "not an API token of this server" in wrong.text


def test_the_consent_form_refuses_another_origin(app: App) -> None:
    server = app.mint()
    client_id = app.oauth.register()["client_id"]
    page = app.oauth.consent(app.oauth.authorize_params(client_id, server.url, "v" * 50))
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
    fields |= {"api_token": server.api_token, "decision": "approve"}
    for headers in ({"origin": "https://evil.example"}, {}):
        answer = app.http.post("/oauth/authorize", data=fields, headers=headers)
        assert answer.status_code == 403
        assert "location" not in answer.headers


def test_denying_sends_access_denied(app: App) -> None:
    server = app.mint()
    client_id = app.oauth.register()["client_id"]
    page = app.oauth.consent(app.oauth.authorize_params(client_id, server.url, "v" * 50))
    answer = app.oauth.submit(page, "", decision="deny")
    assert answer.status_code == 303
    assert query_of(answer.headers["location"])["error"] == "access_denied"


def test_guessing_api_tokens_is_slowed_per_server(app: App) -> None:
    server = app.mint()
    client_id = app.oauth.register()["client_id"]
    page = app.oauth.consent(app.oauth.authorize_params(client_id, server.url, "v" * 50))
    for _ in range(10):
        assert app.oauth.submit(page, secrets.token_urlsafe(32)).status_code == 400
    # past the limit even the right token waits: the form checks nothing for a while
    blocked = app.oauth.submit(page, server.api_token)
    assert blocked.status_code == 429
    assert "Too many wrong API tokens" in blocked.text
    # another client on the same server is held back too
    second = app.oauth.register()["client_id"]
    page2 = app.oauth.consent(app.oauth.authorize_params(second, server.url, "v" * 50))
    assert app.oauth.submit(page2, server.api_token).status_code == 429
    # another server is not
    other = app.mint()
    page3 = app.oauth.consent(app.oauth.authorize_params(second, other.url, "v" * 50))
    assert app.oauth.submit(page3, other.api_token).status_code == 303


def test_an_api_token_of_another_accounts_server_does_not_sign_in(app: App) -> None:
    ours, theirs = app.mint("acme"), app.mint("globex")
    client_id = app.oauth.register()["client_id"]
    page = app.oauth.consent(app.oauth.authorize_params(client_id, ours.url, "v" * 50))
    assert app.oauth.submit(page, theirs.api_token).status_code == 400


def test_a_configured_client_is_held_to_its_accounts(
    make_app: Callable[..., App], tmp_path: Path, postmark: FakePostmark
) -> None:
    secret = secrets.token_urlsafe(32)
    (tmp_path / "oauth-clients.yaml").write_text(
        "clients:\n"
        "  - client_id: globex-agent\n"
        "    client_name: Globex agent\n"
        f"    redirect_uris: [{REDIRECT}]\n"
        "    token_endpoint_auth_method: client_secret_post\n"
        f"    client_secret_sha256: {hashlib.sha256(secret.encode()).hexdigest()}\n"
        "    accounts: [globex]\n"
    )
    app = make_app()
    acme, globex = app.mint("acme"), app.mint("globex")
    page = app.oauth.consent(app.oauth.authorize_params("globex-agent", acme.url, "v" * 50))
    assert page.status_code == 403
    assert "other accounts" in page.text
    verifier = secrets.token_urlsafe(48)
    code = app.oauth.code("globex-agent", globex.url, globex.api_token, verifier)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        "client_id": "globex-agent",
    }
    assert app.http.post("/oauth/token", data=form).status_code == 401  # no secret
    assert app.http.post("/oauth/token", data=form | {"client_secret": secret}).status_code == 200
    assert upstream_calls(postmark) == []


# --- registration ---


@pytest.mark.parametrize(
    "uri",
    [
        "https://chatgpt.com/connector_platform_oauth_redirect",
        "https://chatgpt.com/connector/oauth/abc123",
        "https://claude.ai/api/mcp/auth_callback",
        "https://claude.com/api/mcp/auth_callback",
        "http://localhost:33418/oauth/callback",
        "cursor://anysphere.cursor-retrieval/oauth/callback",
    ],
)
def test_the_real_clients_callbacks_register_and_get_a_code(app: App, uri: str) -> None:
    server = app.mint()
    client_id = app.oauth.register(uri, client_name="ChatGPT")["client_id"]
    params = app.oauth.authorize_params(client_id, server.url, "v" * 50, redirect_uri=uri)
    page = app.oauth.consent(params)
    assert page.status_code == 200
    origin = uri.split("/")[0] + "//" + uri.split("/")[2] if "://" in uri else ""
    assert f"form-action 'self' {origin}" in page.headers["content-security-policy"]
    answer = app.oauth.submit(page, server.api_token)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith(uri + "?code=")


@pytest.mark.parametrize(
    ("body", "error", "says"),
    [
        ({"redirect_uris": ["http://evil.example/cb"]}, "invalid_redirect_uri", "must use https"),
        ({"redirect_uris": ["javascript:alert(1)"]}, "invalid_redirect_uri", "javascript"),
        ({"redirect_uris": ["https://a.example/cb#x"]}, "invalid_redirect_uri", "fragment"),
        (
            {"redirect_uris": ["https://a.example;script-src:*/cb"]},
            "invalid_redirect_uri",
            "plain host",
        ),
        ({}, "invalid_client_metadata", "redirect_uris"),
        (
            {"redirect_uris": ["https://a.example/cb"], "grant_types": ["client_credentials"]},
            "invalid_client_metadata",
            "grant_types",
        ),
    ],
)
def test_registration_refuses_what_cannot_be_trusted(
    app: App, body: dict, error: str, says: str
) -> None:
    answer = app.http.post("/oauth/register", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"] == error
    assert says in answer.json()["error_description"]


def test_a_confidential_registration_gets_a_secret_once_and_needs_it(app: App) -> None:
    server = app.mint()
    registered = app.http.post(
        "/oauth/register",
        json={"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "client_secret_basic"},
    ).json()
    secret = registered["client_secret"]
    stored = app.run(app.gateway.store.get_oauth("client", registered["client_id"]))
    assert secret not in str(stored)
    verifier = secrets.token_urlsafe(48)
    code = app.oauth.code(registered["client_id"], server.url, server.api_token, verifier)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    basic = base64.b64encode(f"{registered['client_id']}:wrong".encode()).decode()
    refused = app.http.post("/oauth/token", data=form, headers={"authorization": f"Basic {basic}"})
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    basic = base64.b64encode(f"{registered['client_id']}:{secret}".encode()).decode()
    # the refused attempt did not spend the code: client authentication comes first
    good = app.http.post("/oauth/token", data=form, headers={"authorization": f"Basic {basic}"})
    assert good.status_code == 200, good.text


def test_a_metadata_document_on_a_private_address_is_never_fetched(app: App) -> None:
    server = app.mint()
    for client_id in (
        "https://127.0.0.1:9/client.json",
        "https://localhost:9/client.json",
        "https://[::1]:9/client.json",
        "https://10.0.0.1/client.json",
    ):
        page = app.oauth.consent(app.oauth.authorize_params(client_id, server.url, "v" * 50))
        assert page.status_code == 400, client_id
        assert "private, loopback or reserved address" in page.text


def test_only_hashes_of_tokens_are_stored(app: App) -> None:
    server = app.mint()
    signed = app.oauth.sign_in(server.url, server.api_token)
    database = (app.settings.data_dir / "yamcp.sqlite3").read_bytes()
    wal = app.settings.data_dir / "yamcp.sqlite3-wal"
    database += wal.read_bytes() if wal.exists() else b""
    for secret in (signed.access_token, signed.refresh_token, server.token, server.api_token):
        assert secret.encode() not in database


def test_the_settings_name_the_clients_file_and_the_sign_in_lifetime(
    make_app: Callable[..., App], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """YAMCP_OAUTH_CLIENTS_FILE names the file, re-read on a reload (SIGHUP);
    YAMCP_OAUTH_REFRESH_TOKEN_SECONDS bounds how long a sign-in lasts."""
    clients = tmp_path / "elsewhere" / "clients.yaml"
    clients.parent.mkdir()
    monkeypatch.setenv("YAMCP_OAUTH_CLIENTS_FILE", str(clients))
    monkeypatch.setenv("YAMCP_OAUTH_REFRESH_TOKEN_SECONDS", "600")
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path / "data",
        accounts_file=tmp_path / "accounts.yaml",
        integrations_dirs=[ROOT / "integrations"],
        policies_dir=ROOT / "policies",
        public_base_url=BASE,
    )
    assert settings.oauth_clients_file == clients
    made = create_app(settings)
    with TestClient(made, base_url=BASE, follow_redirects=False) as http:
        app = App(http, made.gateway, settings, OAuthDriver(http, BASE))
        server = app.mint()
        params = app.oauth.authorize_params("in-house", server.url, "v" * 50)
        assert "Unknown client" in app.oauth.consent(params).text
        clients.write_text(f"clients:\n  - client_id: in-house\n    redirect_uris: [{REDIRECT}]\n")
        app.gateway.reload()
        assert app.oauth.consent(params).status_code == 200

        signed = app.oauth.sign_in(server.url, server.api_token)
        import sqlite3

        with sqlite3.connect(settings.data_dir / "yamcp.sqlite3") as db:
            (until,) = db.execute("SELECT expires_at FROM oauth WHERE kind = 'grant'").fetchone()
        import time

        assert 590 < until - time.time() <= 600
        assert signed.refresh_token


def test_every_token_dies_when_its_server_expires(app: App, postmark: FakePostmark) -> None:
    import time
    from datetime import UTC, datetime, timedelta

    server = app.mint(expires_at=(datetime.now(UTC) + timedelta(seconds=2)).isoformat())
    signed = app.oauth.sign_in(server.url, server.api_token)
    assert signed.expires_in <= 2  # never past the server's own expiry
    assert tools_list(app.http, server.url, signed.access_token).status_code == 200
    time.sleep(2.2)
    answer = call_tool(app.http, server.url, signed.access_token, "list_all_postmark_bounces", {})
    assert answer.status_code == 404
    assert app.oauth.refresh(signed.client_id, signed.refresh_token).status_code == 400
    assert upstream_calls(postmark) == []
