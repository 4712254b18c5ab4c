"""yamcp in process, the default way to drive it in a test: `create_app` behind
Starlette's TestClient, with the fake Postmark on loopback as its upstream, and helpers
to mint servers (with API tokens) through the same code the CLI and admin API use."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from proxy.app import create_app
from proxy.gateway import Gateway
from proxy.servers import ServerRequest, create_api_token, create_server
from proxy.settings import Settings
from tests.support.fake_postmark import FakePostmark
from tests.support.oauth_flow import OAuthDriver
from tests.support.paths import ROOT
from tests.support.serving import write_workdir

BASE = "http://yamcp.test"
OTHER_ACCOUNT = (
    "  globex:\n"
    "    integration: postmark\n"
    "    base_url: {upstream}\n"
    "    credentials:\n"
    "      server_token: ${{POSTMARK_SERVER_TOKEN}}\n"
    "      account_token: ${{POSTMARK_ACCOUNT_TOKEN}}\n"
)


@dataclass
class Secured:
    url: str
    token: str  # the URL's own token
    server_id: str
    api_token: str
    api_token_id: str


@dataclass
class App:
    http: TestClient
    gateway: Gateway
    settings: Settings
    oauth: OAuthDriver

    def mint(self, account: str = "acme", *, secured: bool = True, **request: Any) -> Secured:
        async def go() -> Secured:
            store = self.gateway.store
            created = await create_server(
                store,
                self.settings,
                self.gateway.policies,
                account,
                ServerRequest.model_validate(
                    {"name": "oauth test", "require_api_token_auth": secured, **request}
                ),
            )
            info, api_token = await create_api_token(store, created.id) if secured else (None, "")
            return Secured(
                created.url,
                created.url.rsplit("/", 1)[1],
                created.id,
                api_token,
                info.id if info else "",
            )

        return asyncio.run(go())

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`python -m proxy.cli ...` on this app's store and accounts file; fails on a non-zero exit."""
        env = {
            **os.environ,
            "YAMCP_DATA_DIR": str(self.settings.data_dir),
            "YAMCP_ACCOUNTS_FILE": str(self.settings.accounts_file),
        }
        return subprocess.run(
            [sys.executable, "-m", "proxy.cli", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )

    def run(self, coro: Any) -> Any:
        return asyncio.run(coro)


@pytest.fixture
def make_app(
    tmp_path: Path, postmark: FakePostmark, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., App]]:
    monkeypatch.setenv("POSTMARK_SERVER_TOKEN", FakePostmark.server_token)
    monkeypatch.setenv("POSTMARK_ACCOUNT_TOKEN", FakePostmark.account_token)
    write_workdir(tmp_path, postmark.url, OTHER_ACCOUNT.format(upstream=postmark.url))
    opened: list[TestClient] = []

    def make(**overrides: Any) -> App:
        given = {
            "data_dir": tmp_path / "data",
            "accounts_file": tmp_path / "accounts.yaml",
            "integrations_dirs": [ROOT / "integrations"],
            "policies_dir": ROOT / "policies",
            "public_base_url": BASE,
            "oauth_clients_file": tmp_path / "oauth-clients.yaml",
        }
        settings = Settings(_env_file=None, **{**given, **overrides})
        app = create_app(settings)
        http = TestClient(app, base_url=BASE, follow_redirects=False)
        http.__enter__()
        opened.append(http)
        return App(http, app.gateway, settings, OAuthDriver(http, BASE))

    yield make
    for http in opened:
        http.__exit__(None, None, None)


@pytest.fixture
def app(make_app: Callable[..., App]) -> App:
    return make_app()


def upstream_calls(postmark: FakePostmark) -> list[str]:
    return [f"{r.method} {r.path}" for r in postmark.requests]
