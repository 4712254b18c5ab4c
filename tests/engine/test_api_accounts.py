"""Accounts connected over the admin API (issue 18), through real HTTP, on both stores:
connect, list, show, rotate, delete; restarts; several instances on one Redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import redis

from proxy.secrets import new_key
from tests.support.accounts import PING, call_bounces
from tests.support.fake_postmark import FakePostmark
from tests.support.serving import Yamcp, start_yamcp, stop_yamcp, write_workdir

CREATED_KEYS = {"id", "integration", "base_url", "settings", "source", "created_at"}


@dataclass
class Deployment:
    """One or two `yamcp serve` on one store, and how to start them again on it."""

    store: str
    env: dict[str, str]
    servers: list[Yamcp]

    def admin(self, index: int = 0) -> httpx.Client:
        server = self.servers[index]
        if not hasattr(server, "admin_token"):
            server.admin_token = server.cli("admin-token", "create").stdout.strip()  # type: ignore[attr-defined]
        return httpx.Client(
            base_url=server.base,
            headers={"authorization": f"Bearer {server.admin_token}"},  # type: ignore[attr-defined]
            timeout=30,
        )

    def restart(self, index: int = 0) -> Yamcp:
        old = self.servers[index]
        stop_yamcp(old)
        self.servers[index] = start_yamcp(old.workdir, self.env)
        return self.servers[index]


@pytest.fixture(scope="module", params=["sqlite", "redis"])
def deployment(
    request: pytest.FixtureRequest,
    fake_postmark: FakePostmark,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Deployment]:
    env: dict[str, str] = {}
    prefix = f"yamcp-accounts-{uuid.uuid4().hex[:8]}:"
    count = 1
    if request.param == "redis":
        # One key on every instance: each must open what another sealed.
        env = {
            "YAMCP_STORE_URL": "redis://127.0.0.1:6379/0",
            "YAMCP_STORE_PREFIX": prefix,
            "YAMCP_SECRET_KEY": new_key(),
            # A long cache: rotation and deletion must still reach every instance at once.
            "YAMCP_TOKEN_CACHE_SECONDS": "300",
        }
        count = 2
    servers = []
    for i in range(count):
        workdir = tmp_path_factory.mktemp(f"accounts-{request.param}-{i}")
        write_workdir(workdir, fake_postmark.url)
        servers.append(start_yamcp(workdir, env))
    deployed = Deployment(request.param, env, servers)
    yield deployed
    for server in deployed.servers:
        stop_yamcp(server)
    if request.param == "redis":
        client = redis.Redis(port=6379)
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        client.close()


def connect(
    admin: httpx.Client, postmark: FakePostmark, account_id: str, **extra: object
) -> httpx.Response:
    body = {
        "id": account_id,
        "integration": "postmark",
        "base_url": postmark.url,
        "credentials": {"server_token": postmark.server_token},
        **extra,
    }
    return admin.post("/integrated-account", json=body)


def mint(admin: httpx.Client, account_id: str, **extra: object) -> dict:
    created = admin.post(
        f"/integrated-account/{account_id}/mcp",
        json={"name": "customer", "config": {"methods": ["read"]}, **extra},
    )
    assert created.status_code == 201, created.text
    return created.json()


def on(server: Yamcp, url: str) -> str:
    return f"{server.base}/mcp/{url.rsplit('/mcp/', 1)[1]}"


def errors_of(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {e["field"]: e["reason"] for e in response.json()["errors"]}


async def test_connect_mint_call_rotate_and_delete(
    deployment: Deployment, postmark: FakePostmark
) -> None:
    admin = deployment.admin()
    account_id = f"cust-{uuid.uuid4().hex[:6]}"
    created = connect(admin, postmark, account_id, settings={})
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) >= CREATED_KEYS
    assert body["source"] == "api" and body["integration"] == "postmark"
    assert "credentials" not in body and postmark.server_token not in created.text

    listed = {a["id"]: a for a in admin.get("/integrated-account").json()}
    assert listed["acme"]["source"] == "file" and listed[account_id]["source"] == "api"
    assert postmark.server_token not in admin.get("/integrated-account").text
    shown = admin.get(f"/integrated-account/{account_id}")
    assert shown.status_code == 200 and shown.json()["id"] == account_id
    assert postmark.server_token not in shown.text
    file_shown = admin.get("/integrated-account/acme").json()
    assert file_shown["source"] == "file" and set(file_shown) >= CREATED_KEYS

    server = mint(admin, account_id)
    api_token = admin.post(f"/integrated-account/{account_id}/mcp/{server['id']}/api-tokens").json()
    url = server["url"]
    failed, text = await call_bounces(url)
    assert not failed, text
    assert postmark.last("GET", "/bounces").headers["x-postmark-server-token"] == (
        postmark.server_token
    )

    # Rotation: the next call, on every instance, goes out with the new credentials.
    rotated = admin.patch(
        f"/integrated-account/{account_id}", json={"credentials": {"server_token": "rotated-x"}}
    )
    assert rotated.status_code == 200, rotated.text
    assert "rotated-x" not in rotated.text
    for server_ in deployment.servers:
        failed, text = await call_bounces(on(server_, url))
        assert failed and "401" in text, text
        assert postmark.last("GET", "/bounces").headers["x-postmark-server-token"] == "rotated-x"
    back = admin.patch(
        f"/integrated-account/{account_id}",
        json={"credentials": {"server_token": postmark.server_token}},
    )
    assert back.status_code == 200
    for server_ in deployment.servers:
        failed, text = await call_bounces(on(server_, url))
        assert not failed, text

    # Deletion: every server of the account is 404 at once, everywhere; its tokens go too.
    for server_ in deployment.servers:  # each instance holds the server in its cache
        assert httpx.post(on(server_, url), json=PING).status_code == 200
    assert admin.delete(f"/integrated-account/{account_id}").status_code == 204
    for server_ in deployment.servers:
        assert httpx.post(on(server_, url), json=PING).status_code == 404
    assert admin.get(f"/integrated-account/{account_id}").status_code == 404
    assert admin.get(f"/integrated-account/{account_id}/mcp").status_code == 404
    assert admin.delete(f"/integrated-account/{account_id}").status_code == 404
    # Connected again under the same id, nothing of the old account comes back.
    assert connect(admin, postmark, account_id).status_code == 201
    assert admin.get(f"/integrated-account/{account_id}/mcp").json() == []
    tokens = admin.get(f"/integrated-account/{account_id}/mcp/{server['id']}/api-tokens")
    assert tokens.status_code == 404 and api_token["token"] not in tokens.text
    assert admin.delete(f"/integrated-account/{account_id}").status_code == 204


async def test_connected_account_survives_a_restart(
    deployment: Deployment, postmark: FakePostmark
) -> None:
    admin = deployment.admin()
    account_id = f"kept-{uuid.uuid4().hex[:6]}"
    assert connect(admin, postmark, account_id).status_code == 201
    url = mint(admin, account_id)["url"]
    restarted = deployment.restart(0)
    failed, text = await call_bounces(on(restarted, url))
    assert not failed, text
    assert deployment.admin().get(f"/integrated-account/{account_id}").status_code == 200


def test_refused_input_is_422_with_field_and_reason(
    deployment: Deployment, postmark: FakePostmark
) -> None:
    admin = deployment.admin()
    good = f"ok-{uuid.uuid4().hex[:6]}"
    assert "integration" in errors_of(
        admin.post(
            "/integrated-account",
            json={"id": good, "integration": "nope", "credentials": {"server_token": "x"}},
        )
    )
    assert "credentials.server_token" in errors_of(
        connect(admin, postmark, good, credentials={"account_token": "x"})
    )
    assert "credentials.password" in errors_of(
        connect(admin, postmark, good, credentials={"server_token": "x", "password": "x"})
    )
    assert "credentials.server_token" in errors_of(
        connect(admin, postmark, good, credentials={"server_token": "x\n"})
    )
    assert "credentials" in errors_of(
        admin.post("/integrated-account", json={"id": good, "integration": "postmark"})
    )
    for bad_id in ("has space", "-dash", "x" * 65, "a/b", ""):
        assert "id" in errors_of(connect(admin, postmark, bad_id)), bad_id
    assert "settings.region" in errors_of(connect(admin, postmark, good, settings={"region": "eu"}))
    assert "base_url" in errors_of(connect(admin, postmark, good, base_url="http://u:p@h"))
    assert "defaults.Nope" in errors_of(connect(admin, postmark, good, defaults={"Nope": 1}))
    assert "extra" in errors_of(connect(admin, postmark, good, extra=1))
    assert admin.get(f"/integrated-account/{good}").status_code == 404  # none was stored

    assert connect(admin, postmark, good, defaults={"From": "a@example.com"}).status_code == 201
    again = connect(admin, postmark, good)
    assert again.status_code == 409 and again.json()["error"] == "account_exists"
    assert connect(admin, postmark, "acme").status_code == 409  # the file's
    patched = admin.patch(f"/integrated-account/{good}", json={"settings": {"region": "eu"}})
    assert "settings.region" in errors_of(patched)
    assert "credentials.server_token" in errors_of(
        admin.patch(f"/integrated-account/{good}", json={"credentials": {}})
    )
    changed = admin.patch(f"/integrated-account/{good}", json={"defaults": {}})
    assert changed.status_code == 200 and changed.json()["defaults"] == {}
    assert admin.delete(f"/integrated-account/{good}").status_code == 204


def test_file_accounts_cannot_be_changed_here(deployment: Deployment) -> None:
    admin = deployment.admin()
    for response in (
        admin.patch("/integrated-account/acme", json={"settings": {}}),
        admin.delete("/integrated-account/acme"),
    ):
        assert response.status_code == 409, response.text
        assert "accounts file" in response.json()["message"]
    assert admin.get("/integrated-account/acme").status_code == 200
    for method in ("PATCH", "DELETE", "GET"):
        missing = admin.request(method, "/integrated-account/nobody", json={})
        assert missing.status_code == 404


def test_every_account_route_needs_the_admin_token(deployment: Deployment) -> None:
    base = deployment.servers[0].base
    for method, path in (
        ("GET", "/integrated-account"),
        ("POST", "/integrated-account"),
        ("GET", "/integrated-account/acme"),
        ("PATCH", "/integrated-account/acme"),
        ("DELETE", "/integrated-account/acme"),
    ):
        for headers in ({}, {"authorization": "Bearer nope"}):
            response = httpx.request(method, base + path, headers=headers, json={})
            assert response.status_code == 401, (method, path)


def test_verify_refuses_credentials_the_upstream_refuses(
    deployment: Deployment, postmark: FakePostmark
) -> None:
    admin = deployment.admin()
    account_id = f"ver-{uuid.uuid4().hex[:6]}"
    refused = connect(
        admin, postmark, account_id, credentials={"server_token": "wrong-token"}, verify=True
    )
    reason = errors_of(refused)["credentials"]
    assert "Postmark" in reason and "401" in reason, reason  # the upstream's own answer
    assert "wrong-token" not in refused.text
    assert postmark.last("GET", "/server").headers["x-postmark-server-token"] == "wrong-token"
    assert admin.get(f"/integrated-account/{account_id}").status_code == 404  # nothing stored

    assert connect(admin, postmark, account_id, verify=True).status_code == 201
    rotation = admin.patch(
        f"/integrated-account/{account_id}",
        json={"credentials": {"server_token": "wrong-token"}, "verify": True},
    )
    assert "credentials" in errors_of(rotation)
    assert (
        admin.patch(f"/integrated-account/{account_id}", json={"verify": True}).status_code == 200
    )
    assert admin.delete(f"/integrated-account/{account_id}").status_code == 204
