"""The OAuth dance by hand, over real HTTP: what a connector and a person's browser do.

Used where a test must hold one step still (a wrong verifier, a reused code) or where a
browser would only be slower. The real clients' flows are in tests/e2e/test_oauth_clients.py.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
REDIRECT = "http://127.0.0.1:9/callback"


def challenge_of(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@dataclass
class Signed:
    access_token: str
    refresh_token: str
    expires_in: int
    client_id: str
    verifier: str


class OAuthDriver:
    """Registers a client, fills the consent form and exchanges the code, step by step."""

    def __init__(self, http: httpx.Client, base: str) -> None:
        self.http, self.base = http, base

    def register(self, redirect_uri: str = REDIRECT, **extra: object) -> dict:
        body = {"redirect_uris": [redirect_uri], "token_endpoint_auth_method": "none", **extra}
        response = self.http.post(f"{self.base}/oauth/register", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def authorize_params(
        self, client_id: str, resource: str, verifier: str, redirect_uri: str = REDIRECT
    ) -> dict[str, str]:
        return {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "state": "state-" + secrets.token_hex(4),
            "code_challenge": challenge_of(verifier),
            "code_challenge_method": "S256",
            "resource": resource,
            "scope": "mcp",
        }

    def consent(self, params: dict[str, str]) -> httpx.Response:
        return self.http.get(f"{self.base}/oauth/authorize", params=params)

    def submit(
        self, page: httpx.Response, api_token: str, decision: str = "approve"
    ) -> httpx.Response:
        fields = {html.unescape(k): html.unescape(v) for k, v in HIDDEN.findall(page.text)}
        fields |= {"api_token": api_token, "decision": decision}
        return self.http.post(
            f"{self.base}/oauth/authorize", data=fields, headers={"origin": self.base}
        )

    def code(self, client_id: str, resource: str, api_token: str, verifier: str) -> str:
        page = self.consent(self.authorize_params(client_id, resource, verifier))
        assert page.status_code == 200, page.text
        answer = self.submit(page, api_token)
        assert answer.status_code == 303, answer.text
        query = query_of(answer.headers["location"])
        assert query["iss"] == self.base
        return query["code"]

    def exchange(
        self, client_id: str, code: str, verifier: str, resource: str | None
    ) -> httpx.Response:
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": client_id,
            "code_verifier": verifier,
        }
        if resource is not None:
            data["resource"] = resource
        return self.http.post(f"{self.base}/oauth/token", data=data)

    def refresh(self, client_id: str, refresh_token: str) -> httpx.Response:
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return self.http.post(f"{self.base}/oauth/token", data={**data, "client_id": client_id})

    def sign_in(self, resource: str, api_token: str) -> Signed:
        client_id = self.register()["client_id"]
        verifier = secrets.token_urlsafe(48)
        code = self.code(client_id, resource, api_token, verifier)
        answer = self.exchange(client_id, code, verifier, resource)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        return Signed(
            body["access_token"], body["refresh_token"], body["expires_in"], client_id, verifier
        )


def tools_list(http: httpx.Client, url: str, bearer: str | None) -> httpx.Response:
    headers = {"authorization": f"Bearer {bearer}"} if bearer else {}
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    return http.post(url, json=message, headers={"mcp-protocol-version": "2025-11-25", **headers})


def call_tool(
    http: httpx.Client, url: str, bearer: str, name: str, arguments: dict
) -> httpx.Response:
    message = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }
    return http.post(
        url,
        json=message,
        headers={"mcp-protocol-version": "2025-11-25", "authorization": f"Bearer {bearer}"},
    )
