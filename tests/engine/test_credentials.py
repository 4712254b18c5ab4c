"""Credential profiles, constant headers and templated base URLs, checked on the wire.

A manifest written here declares every credential shape (bearer, HTTP Basic from one or
two credentials, a query key, a named header) and constant headers; its base URL names an
account setting. yamcp runs it against a recording upstream on loopback, and the official
MCP client calls the tools. What arrives upstream is what counts; a query key must arrive
there and nowhere else: not in yamcp's log, a tool result or a metric.
"""

from __future__ import annotations

import base64
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from proxy.accounts import load_accounts
from proxy.errors import ConfigError, UpstreamFailure
from proxy.logs import redact
from proxy.settings import Settings
from proxy.upstream import PyreqwestUpstream
from tests.support.json_upstream import JsonHandler, serving
from tests.support.mcp_client import mcp_client
from tests.support.paths import ROOT
from tests.support.serving import Yamcp, free_port, start_yamcp, stop_yamcp

API_KEY = "qk-7f3a9c21"  # short on purpose: the log's long-token rule must not be what hides it
SID = "AC 12&x"  # needs percent-encoding in a path segment
AUTH_TOKEN = "tw-auth-55e1"


def manifest(upstream: str) -> str:
    return f"""\
name: vault
title: Vault
base_url: {upstream}/2010-04-01/Accounts/{{account_sid}}
credentials:
  token: {{bearer: api_key}}
  stripe_like: {{basic: {{username: api_key}}}}
  twilio_like: {{basic: {{username: account_sid, password: auth_token}}}}
  keyed: {{query: key, secret: api_key}}
  named: {{header: X-Api-Key, secret: api_key}}
headers: {{Vault-Version: "2024-01-01", Accept: application/vnd.vault+json}}
resources:
  thing:
    methods:
      get:
        http: GET /things/{{id}}
        description: One thing (bearer).
        path: {{id: {{type: string}}}}
  charge:
    methods:
      get:
        http: GET /charges/{{id}}
        description: One charge (Basic, the key as user name).
        credential: stripe_like
        path: {{id: {{type: string}}}}
  message:
    methods:
      get:
        http: GET /messages/{{id}}
        description: One message (Basic, SID and token).
        credential: twilio_like
        headers: {{vault-version: "2025-06-01", X-Trace: "on"}}
        path: {{id: {{type: string}}}}
  holiday:
    methods:
      get:
        http: GET /holidays/{{id}}
        description: One holiday (query key).
        credential: keyed
        path: {{id: {{type: string}}}}
        query: {{year: {{type: integer}}}}
  widget:
    methods:
      get:
        http: GET /widgets/{{id}}
        description: One widget (named header).
        credential: named
        path: {{id: {{type: string}}}}
"""


class Recorder(JsonHandler):
    """Answers every GET with 200, except the paths that test what a leak would look like."""

    seen: list[dict[str, Any]] = []

    def do_GET(self) -> None:
        Recorder.seen.append(
            {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}}
        )
        if "/holidays/moved" in self.path:  # a redirect that quotes the request URL, key and all
            self.send_response(302)
            self.send_header("location", f"https://elsewhere.invalid/h?key={API_KEY}")
            self.send_header("content-length", "0")
            self.end_headers()
        elif "/holidays/echo" in self.path:  # an error body that echoes the key
            self.send_json({"message": f"key {API_KEY} is not allowed here"}, 403)
        else:
            self.send_json({"ok": True})


def _accounts(upstream: str, dead: str) -> str:
    return f"""\
accounts:
  main:
    integration: vault
    settings: {{account_sid: "{SID}"}}
    credentials:
      api_key: ${{VAULT_KEY}}
      account_sid: ${{VAULT_SID}}
      auth_token: ${{VAULT_TOKEN}}
  eu:
    integration: vault
    base_url: {upstream}/{{region}}/v2
    settings: {{region: eu}}
    credentials:
      api_key: ${{VAULT_KEY}}
  dead:
    integration: vault
    base_url: {dead}
    credentials:
      api_key: ${{VAULT_KEY}}
"""


ENV = {"VAULT_KEY": API_KEY, "VAULT_SID": "ACsid", "VAULT_TOKEN": AUTH_TOKEN}


def _workdir(root: Path, upstream: str, accounts: str, manifest_text: str | None = None) -> Path:
    extra = root / "more-integrations"
    (extra / "vault").mkdir(parents=True, exist_ok=True)
    (extra / "vault" / "manifest.yaml").write_text(manifest_text or manifest(upstream))
    (root / "accounts.yaml").write_text(accounts)
    return extra


def _env(extra: Path) -> dict[str, str]:
    return {"YAMCP_INTEGRATIONS_DIRS": f"{ROOT / 'integrations'},{extra}", **ENV}


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with serving(Recorder) as url:
        yield url


@pytest.fixture(scope="module")
def vault(upstream: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Yamcp]:
    workdir = tmp_path_factory.mktemp("vault")
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: the connection is refused
    extra = _workdir(workdir, upstream, _accounts(upstream, dead))
    server = start_yamcp(workdir, _env(extra))
    server.settings = server.settings.model_copy(
        update={"integrations_dirs": [ROOT / "integrations", extra]}
    )
    yield server
    stop_yamcp(server)


async def _call(server: Yamcp, account: str, tool: str, arguments: dict[str, Any]) -> Any:
    url = await server.mint(account=account)
    async with mcp_client(url) as client:
        return await client.call_tool(tool, arguments)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


async def test_bearer_and_constant_headers_on_a_templated_base_url(vault: Yamcp) -> None:
    Recorder.seen.clear()
    result = await _call(vault, "main", "get_single_vault_thing_by_id", {"id": "t1"})
    assert not result.is_error, result
    wire = Recorder.seen[-1]
    # the manifest's {account_sid}, filled from the account's settings and percent-encoded
    assert wire["path"] == "/2010-04-01/Accounts/AC%2012%26x/things/t1"
    assert wire["headers"]["authorization"] == f"Bearer {API_KEY}"
    assert wire["headers"]["vault-version"] == "2024-01-01"
    # a constant Accept replaces the default, it does not go out twice
    assert wire["headers"]["accept"] == "application/vnd.vault+json"


async def test_an_accounts_own_base_url_template_is_filled_from_its_settings(vault: Yamcp) -> None:
    Recorder.seen.clear()
    result = await _call(vault, "eu", "get_single_vault_thing_by_id", {"id": "t2"})
    assert not result.is_error, result
    assert Recorder.seen[-1]["path"] == "/eu/v2/things/t2"


async def test_basic_from_one_credential_has_an_empty_password(vault: Yamcp) -> None:
    Recorder.seen.clear()
    result = await _call(vault, "main", "get_single_vault_charge_by_id", {"id": "ch_1"})
    assert not result.is_error, result
    assert Recorder.seen[-1]["headers"]["authorization"] == _basic(API_KEY, "")


async def test_basic_from_two_credentials_and_method_headers_win(vault: Yamcp) -> None:
    Recorder.seen.clear()
    result = await _call(vault, "main", "get_single_vault_message_by_id", {"id": "SM1"})
    assert not result.is_error, result
    headers = Recorder.seen[-1]["headers"]
    assert headers["authorization"] == _basic("ACsid", AUTH_TOKEN)
    assert headers["vault-version"] == "2025-06-01"  # the method's, over the manifest's
    assert headers["x-trace"] == "on"


async def test_a_credential_the_account_lacks_is_named_and_nothing_is_sent(vault: Yamcp) -> None:
    Recorder.seen.clear()
    result = await _call(vault, "eu", "get_single_vault_message_by_id", {"id": "SM1"})
    assert result.is_error
    assert "the account 'eu' has no 'account_sid' credential" in result.content[0].text
    assert Recorder.seen == []


async def test_a_named_header_profile_is_unchanged(vault: Yamcp) -> None:
    Recorder.seen.clear()
    result = await _call(vault, "main", "get_single_vault_widget_by_id", {"id": "w1"})
    assert not result.is_error, result
    headers = Recorder.seen[-1]["headers"]
    assert headers["x-api-key"] == API_KEY
    assert "authorization" not in headers


async def test_a_query_key_reaches_the_upstream_and_nothing_else(vault: Yamcp) -> None:
    Recorder.seen.clear()
    ok = await _call(vault, "main", "get_single_vault_holiday_by_id", {"id": "h1", "year": 2024})
    assert not ok.is_error, ok
    wire = Recorder.seen[-1]
    assert wire["path"] == f"/2010-04-01/Accounts/AC%2012%26x/holidays/h1?year=2024&key={API_KEY}"
    assert "authorization" not in wire["headers"]

    # Every way the key could come back: a redirect quoting it, an error body echoing it,
    # a connection the client fails to make (its error quotes the whole URL).
    moved = await _call(vault, "main", "get_single_vault_holiday_by_id", {"id": "moved"})
    echoed = await _call(vault, "main", "get_single_vault_holiday_by_id", {"id": "echo"})
    refused = await _call(vault, "dead", "get_single_vault_holiday_by_id", {"id": "h1"})
    for result in (moved, echoed, refused):
        assert result.is_error
        assert API_KEY not in str(result.content) + str(result.structured_content)
    assert moved.structured_content["error"]["status"] == 302
    assert echoed.structured_content["error"]["status"] == 403
    assert refused.structured_content["error"]["type"] == "unreachable"

    scrape = httpx.get(f"{vault.base}/metrics").text
    assert "get_single_vault_holiday_by_id" in scrape  # the calls were counted
    assert API_KEY not in scrape
    time.sleep(0.2)  # the access log line of the last call
    log = vault.log()
    assert "get_single_vault_holiday_by_id" in log  # the audit lines are there
    assert API_KEY not in log and AUTH_TOKEN not in log


async def test_a_client_error_quoting_the_url_is_redacted_in_a_log_line() -> None:
    """yamcp logs no upstream URL, but a trace of an unexpected failure would quote the
    client's message, which holds the whole URL with its query key."""
    upstream = PyreqwestUpstream(Settings(_env_file=None))
    dead = f"http://127.0.0.1:{free_port()}/h"
    try:
        with pytest.raises(UpstreamFailure) as caught:
            await upstream.send("GET", dead, {"key": API_KEY}, None, {}, 1000)
    finally:
        await upstream.aclose()
    chain = f"{caught.value} {caught.value.__cause__}"
    assert API_KEY in chain  # what a trace would print
    assert API_KEY not in redact(chain)


# --- refused at load: yamcp lint, yamcp serve, and a reload --------------------------------


def _lint(workdir: Path, extra: Path) -> subprocess.CompletedProcess:
    env = {**_settings_env(workdir), **_env(extra)}
    return subprocess.run(
        [sys.executable, "-m", "proxy.cli", "lint"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _settings_env(workdir: Path) -> dict[str, str]:
    import os

    return {
        **os.environ,
        "YAMCP_POLICIES_DIR": str(ROOT / "policies"),
        "YAMCP_DATA_DIR": str(workdir / "data"),
    }


GOOD_ACCOUNTS = """\
accounts:
  main:
    integration: vault
    settings: {account_sid: AC1}
    credentials:
      api_key: ${VAULT_KEY}
"""


@pytest.mark.parametrize(
    ("profile", "reason"),
    [
        ("{}", "give exactly one of header, bearer, basic, query"),
        ("{bearer: api_key, basic: {username: api_key}}", "(got bearer, basic)"),
        ("{bearer: api_key, secret: api_key}", "`secret` goes with header or query"),
        ("{query: key}", "`query` needs `secret`"),
        ("{basic: {password: auth_token}}", "username"),
        ("{basic: {username: a, pasword: b}}", "unknown key"),
        ("{header: X Api Key, secret: api_key}", "is not an HTTP header name"),
        ("{bearer: api_key, prefix: 'Token '}", "`prefix` goes with `header` only"),
    ],
)
def test_lint_refuses_a_malformed_credential_profile(
    tmp_path: Path, profile: str, reason: str
) -> None:
    text = manifest("http://127.0.0.1:9").replace(
        "  token: {bearer: api_key}\n", f"  token: {profile}\n"
    )
    extra = _workdir(tmp_path, "", GOOD_ACCOUNTS, text)
    done = _lint(tmp_path, extra)
    assert done.returncode != 0
    assert f"{extra / 'vault' / 'manifest.yaml'}: credentials.token" in done.stderr
    assert reason in done.stderr


def test_lint_refuses_a_malformed_profile_name(tmp_path: Path) -> None:
    text = manifest("http://127.0.0.1:9").replace("  token: {bearer", "  my token: {bearer")
    extra = _workdir(tmp_path, "", GOOD_ACCOUNTS, text)
    done = _lint(tmp_path, extra)
    assert done.returncode != 0
    assert f"{extra / 'vault' / 'manifest.yaml'}: credentials.my token.[key]" in done.stderr
    assert "should match pattern" in done.stderr


@pytest.mark.parametrize(
    ("old", "new", "where", "reason"),
    [
        (
            'headers: {Vault-Version: "2024-01-01"',
            'headers: {Vault-Version: "${VAULT_KEY}"',
            "headers",
            "a ${...} value is refused",
        ),
        (
            'headers: {vault-version: "2025-06-01"',
            'headers: {vault-version: "Bearer ${VAULT_KEY}"',
            "resources.message.methods.get.headers",
            "a ${...} value is refused",
        ),
        (
            "headers: {Vault-Version",
            "headers: {Authorization: x, Vault-Version",
            "headers",
            "is set by yamcp itself",
        ),
        (
            'X-Trace: "on"}',
            'X-Trace: "on", Content-Type: text/plain}',
            "resources.message.methods.get.headers",
            "is set by yamcp itself",
        ),
        (
            "headers: {Vault-Version",
            "headers: {x-api-key: x, Vault-Version",
            "",
            "is the header of credential profile 'named'",
        ),
        (
            "credential: named\n",
            "credential: named\n        headers: {X-API-KEY: x}\n",
            "resources.widget.methods.get.headers.X-API-KEY",
            "is the header of credential profile 'named'",
        ),
        (
            "Accounts/{account_sid}",
            "Accounts/{account sid}",
            "base_url",
            "is not a setting name",
        ),
        (
            "query: {year: {type: integer}}",
            "query: {year: {type: integer}, key: {type: string}}",
            "resources.holiday.methods.get.query.key",
            "is the query parameter of credential profile 'keyed'",
        ),
    ],
)
def test_lint_refuses_bad_constant_headers_and_base_url_templates(
    tmp_path: Path, old: str, new: str, where: str, reason: str
) -> None:
    text = manifest("http://127.0.0.1:9")
    assert old in text
    extra = _workdir(tmp_path, "", GOOD_ACCOUNTS, text.replace(old, new, 1))
    done = _lint(tmp_path, extra)
    assert done.returncode != 0
    assert f"{extra / 'vault' / 'manifest.yaml'}: {where}" in done.stderr
    assert reason in done.stderr


@pytest.mark.parametrize(
    ("account", "where", "reason"),
    [
        (
            "    credentials:\n      api_key: ${VAULT_KEY}\n",
            "accounts.main.settings",
            "the vault base_url names {account_sid}",
        ),
        (
            "    base_url: http://127.0.0.1:9/{region}/{zone}\n    settings: {region: eu}\n",
            "accounts.main.settings",
            "its base_url names {zone}",
        ),
        (
            "    settings: {account_sid: AC1/../admin}\n",
            "accounts.main.settings",
            "account_sid: may not contain /",
        ),
        (
            "    settings: {account_sid: 'evil.example:80@'}\n",
            "accounts.main.settings",
            "may not contain : @",
        ),
        (
            "    settings: {account_sid: '${VAULT_SID}'}\n",
            "accounts.main.settings",
            "settings are plain values, not ${ENV} references",
        ),
        (
            "    base_url: http://api.{region}.example\n    settings: {region: 'e u'}\n",
            "accounts.main.base_url",
            "not a host name",
        ),
        (
            "    base_url: http://127.0.0.1:9/{}/{region}\n    settings: {region: eu}\n",
            "accounts.main.base_url",
            "placeholder {} is not a setting name",
        ),
        (
            "    base_url: http://127.0.0.1:9/v1?key={region}\n    settings: {region: eu}\n",
            "accounts.main.base_url",
            "must not carry a query string",
        ),
    ],
)
def test_lint_refuses_an_account_its_base_url_cannot_be_filled_for(
    tmp_path: Path, account: str, where: str, reason: str
) -> None:
    accounts = f"accounts:\n  main:\n    integration: vault\n{account}"
    extra = _workdir(tmp_path, "", accounts, manifest("http://127.0.0.1:9"))
    done = _lint(tmp_path, extra)
    assert done.returncode != 0
    assert f"accounts.yaml: {where}" in done.stderr
    assert reason in done.stderr


def test_lint_accepts_the_good_case(tmp_path: Path) -> None:
    extra = _workdir(tmp_path, "", GOOD_ACCOUNTS, manifest("http://127.0.0.1:9"))
    done = _lint(tmp_path, extra)
    assert done.returncode == 0, done.stderr


def test_serve_refuses_an_account_lacking_a_setting(tmp_path: Path) -> None:
    accounts = GOOD_ACCOUNTS.replace("    settings: {account_sid: AC1}\n", "")
    extra = _workdir(tmp_path, "", accounts, manifest("http://127.0.0.1:9"))
    env = {**_settings_env(tmp_path), **_env(extra)}
    done = subprocess.run(
        [sys.executable, "-m", "proxy.cli", "serve", "--port", str(free_port())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "accounts.yaml: accounts.main.settings" in done.stderr
    assert "{account_sid}" in done.stderr


def test_serve_refuses_a_credential_with_a_line_break_without_showing_it(tmp_path: Path) -> None:
    extra = _workdir(tmp_path, "", GOOD_ACCOUNTS, manifest("http://127.0.0.1:9"))
    env = {**_settings_env(tmp_path), **_env(extra), "VAULT_KEY": f"{API_KEY}\n"}
    done = subprocess.run(
        [sys.executable, "-m", "proxy.cli", "serve", "--port", str(free_port())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "accounts.yaml: accounts.main.credentials.api_key" in done.stderr
    assert "VAULT_KEY holds a control character" in done.stderr
    assert API_KEY not in done.stderr + done.stdout


def test_a_reload_refuses_an_account_lacking_a_setting(upstream: str, tmp_path: Path) -> None:
    extra = _workdir(tmp_path, upstream, GOOD_ACCOUNTS)
    server = start_yamcp(tmp_path, _env(extra))
    try:
        (tmp_path / "accounts.yaml").write_text(
            GOOD_ACCOUNTS.replace("    settings: {account_sid: AC1}\n", "")
        )
        server.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "nothing reloaded" not in server.log() and time.monotonic() < deadline:
            time.sleep(0.1)
        log = server.log()
        assert "nothing reloaded" in log
        assert "accounts.main.settings" in log and "{account_sid}" in log
    finally:
        stop_yamcp(server)


# --- accounts.yaml: no literal secret, and no YAML error echoes one (issue 13's review) ---


@pytest.mark.parametrize(
    ("base_url", "secret"),
    [
        ("https://user:hunter2@api.postmarkapp.com", "hunter2"),
        ("https://sk-live-abc@api.postmarkapp.com", "sk-live-abc"),
        ("https://api.postmarkapp.com?api_key=sk-live-abc", "sk-live-abc"),
        ("https://api.postmarkapp.com/v1?token=sk-live-abc", "sk-live-abc"),
        ("https://api.postmarkapp.com/#sk-live-abc", "sk-live-abc"),
    ],
)
def test_credentials_in_base_url_are_refused_without_echoing_them(
    tmp_path: Path, base_url: str, secret: str
) -> None:
    file = tmp_path / "accounts.yaml"
    file.write_text(f"accounts:\n  acme:\n    integration: postmark\n    base_url: {base_url}\n")
    with pytest.raises(ConfigError) as caught:
        load_accounts(file, {})
    assert "accounts.acme.base_url" in str(caught.value)
    assert secret not in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "accounts:\n  acme:\n    credentials:\n      server_token: *sk-live-secret\n",
        "accounts:\n  acme: {credentials: {server_token: sk-live-secret}\n",
        "accounts:\n  acme:\n\tserver_token: sk-live-secret\n",
        "accounts: [sk-live-secret\n",
        "accounts:\n  acme: 'sk-live-secret\n",
    ],
)
def test_yaml_errors_do_not_echo_the_text(tmp_path: Path, text: str) -> None:
    file = tmp_path / "accounts.yaml"
    file.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_accounts(file, {})
    assert "sk-live-secret" not in str(caught.value)
    assert "line" in str(caught.value)


def test_an_empty_credential_variable_is_refused_like_an_unset_one(tmp_path: Path) -> None:
    file = tmp_path / "accounts.yaml"
    file.write_text(
        "accounts:\n  acme:\n    integration: postmark\n"
        "    credentials:\n      server_token: ${POSTMARK_SERVER_TOKEN}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_accounts(file, {"POSTMARK_SERVER_TOKEN": ""})
    assert "accounts.acme.credentials.server_token" in str(caught.value)
    assert "POSTMARK_SERVER_TOKEN is not set or empty" in str(caught.value)
