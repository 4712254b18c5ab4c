"""Real APIs' conventions, from documents the suite had never seen: each finding of
issue 25 reproduced on a published document in tests/data/specs/ (see its SOURCE.md),
imported with `yamcp import-openapi` and served in process against a loopback upstream.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from proxy.app import create_app
from proxy.cli import main as yamcp
from proxy.servers import ServerRequest, create_server
from proxy.settings import Settings
from tests.conftest import ROOT
from tests.recording_upstream import Fake, serving

SPECS = ROOT / "tests" / "data" / "specs"
BASE = "http://yamcp.test"
TOKEN = "tok-5e1d"
ALL = ["read", "write"]


def imported(tmp_path: Path, name: str, *entry: str) -> dict[str, Any]:
    """`yamcp import-openapi` of a document in tests/data/specs; the manifest written."""
    code = yamcp(
        ["import-openapi", *(str(SPECS / e) for e in entry), "--integration", name,
         "--out", str(tmp_path / "integrations")]
    )  # fmt: skip
    assert code == 0
    return yaml.safe_load((tmp_path / "integrations" / name / "manifest.yaml").read_text())


class Served:
    """An imported integration served in process, one server with every tool."""

    def __init__(self, http: TestClient, url: str) -> None:
        self.http, self.url = http, url

    def rpc(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        message = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}
        answer = self.http.post(
            self.url, json=message, headers={"mcp-protocol-version": "2025-11-25"}
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        return self.rpc("tools/call", {"name": tool, "arguments": arguments})["result"]


@pytest.fixture
def upstream() -> Iterator[Fake]:
    with serving() as fake:
        yield fake


@pytest.fixture
def serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """`serve(name, upstream_url)`: the imported integration, in process."""
    opened: list[TestClient] = []

    def start(name: str, upstream: str) -> Served:
        served = _serve(tmp_path, name, upstream, monkeypatch)
        opened.append(served.http)
        return served

    yield start
    for http in opened:
        http.__exit__(None, None, None)


def _serve(tmp_path: Path, name: str, upstream: str, monkeypatch: pytest.MonkeyPatch) -> Served:
    manifest = yaml.safe_load((tmp_path / "integrations" / name / "manifest.yaml").read_text())
    secrets = {}
    for profile in (manifest.get("credentials") or {}).values():
        secret = profile.get("bearer") or profile.get("secret")
        secrets[secret] = f"${{REAL_{secret.upper()}}}"
        monkeypatch.setenv(f"REAL_{secret.upper()}", TOKEN)
    accounts = {"accounts": {"acct": {"integration": name, "base_url": upstream}}}
    if secrets:
        accounts["accounts"]["acct"]["credentials"] = secrets
    (tmp_path / "accounts.yaml").write_text(yaml.safe_dump(accounts))
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path / "data",
        accounts_file=tmp_path / "accounts.yaml",
        integrations_dirs=[tmp_path / "integrations"],
        policies_dir=ROOT / "policies",
        public_base_url=BASE,
    )
    app = create_app(settings)
    http = TestClient(app, base_url=BASE)
    http.__enter__()
    request = ServerRequest.model_validate({"name": name, "config": {"methods": ALL}})
    created = asyncio.run(
        create_server(app.gateway.store, settings, app.gateway.policies, "acct", request)
    )
    return Served(http, created.url.removeprefix(BASE))


# ------------------------------------------------------------- 1. bounds beyond 64 bits


def test_a_bound_beyond_64_bits_is_served_exactly(
    tmp_path: Path, upstream: Fake, serve: Any
) -> None:
    # DigitalOcean's database config: `maximum: 18446744073709552000` (mysql), beyond
    # what orjson encodes; every request, initialize included, was a -32603.
    imported(tmp_path, "dodb", "digitalocean-databases/DigitalOcean-public.v2.yaml")
    served = serve("dodb", upstream.url)
    info = served.rpc("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                     "clientInfo": {"name": "t", "version": "1"}})  # fmt: skip
    assert "result" in info, info
    answer = served.http.post(
        served.url,
        json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        headers={"mcp-protocol-version": "2025-11-25"},
    )
    assert answer.status_code == 200 and "error" not in answer.json(), answer.text
    assert b"18446744073709552000" in answer.content  # exact, not 1.8446744073709552e+19
    tools = {t["name"]: t for t in answer.json()["result"]["tools"]}
    assert len(tools) == 2, list(tools)
    assert "9223372036854776000" in json.dumps(tools)


def methods(manifest: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """`VERB /path` -> (method kind, method) over the whole manifest."""
    return {
        method["http"]: (kind, method)
        for resource in manifest["resources"].values()
        for kind, method in resource["methods"].items()
    }


# ------------------------------------- 2. and 4. PagerDuty: Content-Type, Token token=


def test_a_content_type_header_parameter_does_not_sink_the_import(tmp_path: Path) -> None:
    # PagerDuty declares `Content-Type: application/json` as a required one-value header
    # parameter; it was written as a constant header, which the loader refused: exit 2.
    manifest = imported(tmp_path, "pagerduty", "pagerduty-rest/openapiv3.json")
    assert manifest["headers"] == {"Accept": "application/vnd.pagerduty+json;version=2"}
    assert len(methods(manifest)) == 11
    assert all(
        "Content-Type" not in (m.get("headers") or {}) for _, m in methods(manifest).values()
    )


def test_an_api_key_format_in_the_description_becomes_the_prefix(
    tmp_path: Path, upstream: Fake, serve: Any
) -> None:
    # "The API Key with format `Token token=<API_KEY>`": sent bare, PagerDuty answers 401.
    manifest = imported(tmp_path, "pagerduty", "pagerduty-rest/openapiv3.json")
    assert manifest["credentials"] == {
        "api": {"header": "Authorization", "secret": "api_token", "prefix": "Token token="}
    }
    served = serve("pagerduty", upstream.url)
    served.call("list_all_pagerduty_services", {})
    (sent,) = upstream.requests
    assert sent.headers["authorization"] == f"Token token={TOKEN}"
    assert sent.headers["accept"] == "application/vnd.pagerduty+json;version=2"


# ------------------------------- 5., 6., 8. and 13. Slack: token, paging.total, files.info


def test_a_parameter_carrying_the_credential_is_never_an_argument(tmp_path: Path) -> None:
    # Slack takes its token in the query of every GET and a header of every POST, beside
    # the OAuth scheme: it was an argument (the model asked to type a secret) and a cursor.
    manifest = imported(tmp_path, "slack", "slack-web/slack_web_openapi_v2.json")
    assert manifest["credentials"] == {"slack_auth": {"bearer": "access_token"}}
    for http, (_, method) in methods(manifest).items():
        for section in ("query", "body"):
            assert "token" not in (method.get(section) or {}), (http, section)
        assert (method.get("pagination") or {}).get("cursor_param") != "token", http


def test_the_total_is_the_total_not_the_page_size(tmp_path: Path) -> None:
    # files.list answers `paging: {count, total, page, pages}`; `count` is the page size.
    manifest = imported(tmp_path, "slack", "slack-web/slack_web_openapi_v2.json")
    kind, method = methods(manifest)["GET /files.list"]
    assert kind == "list"
    assert method["pagination"]["total"] == "paging.total"


def test_one_object_beside_a_side_array_is_not_a_list(tmp_path: Path) -> None:
    # files.info answers `{ok, file, comments, paging}`: a get of the file, not a list of
    # its comments with the file dropped.
    manifest = imported(tmp_path, "slack", "slack-web/slack_web_openapi_v2.json")
    assert methods(manifest)["GET /files.info"][0] == "get"


def test_a_get_that_acts_is_a_write_with_a_review_line(tmp_path: Path) -> None:
    code = yamcp(
        ["import-openapi", str(SPECS / "slack-web/slack_web_openapi_v2.json"),
         "--integration", "slack", "--out", str(tmp_path / "integrations")]
    )  # fmt: skip
    assert code == 0
    manifest = yaml.safe_load((tmp_path / "integrations/slack/manifest.yaml").read_text())
    found = methods(manifest)
    for http in ("GET /auth.revoke", "GET /apps.uninstall", "GET /views.open"):
        assert found[http][1]["access"] == "write", http
    assert found["GET /conversations.list"][1]["access"] == "read"
    review = (tmp_path / "integrations/slack/manifest.yaml").read_text()
    assert "a GET that acts ('revoke'" in review


def test_an_authorization_key_with_no_stated_format_is_flagged() -> None:
    # Opsgenie's `GenieKey` scheme: an API key in Authorization, its `GenieKey <key>`
    # format stated nowhere in the document. Sent bare it is refused; say so.
    from proxy.openapi import import_openapi

    spec = {
        "swagger": "2.0",
        "info": {"title": "Opsgenie REST API", "version": "2.0.0"},
        "host": "api.opsgenie.com",
        "securityDefinitions": {
            "GenieKey": {"type": "apiKey", "name": "Authorization", "in": "header"}
        },
        "security": [{"GenieKey": []}],
        "paths": {"/v2/heartbeats": {"get": {"responses": {"200": {"description": "ok"}}}}},
    }
    result = import_openapi([spec], "opsgenie")
    assert any("GenieKey" in line and "no stated format" in line for line in result.review)


# ---------------------------------------------------------- 7. Slack: errors in HTTP 200


def test_an_error_answered_with_http_200_is_an_error(
    tmp_path: Path, upstream: Fake, serve: Any
) -> None:
    # Slack answers every call with HTTP 200; a failure is {"ok": false, "error": ...}. It
    # was reported as a success, so an agent believed a message had gone out.
    manifest = imported(tmp_path, "slack", "slack-web/slack_web_openapi_v2.json")
    assert manifest["errors"] == {"message": "error", "when": "ok == `false`"}
    served = serve("slack", upstream.url)
    names = [t["name"] for t in served.rpc("tools/list")["result"]["tools"]]
    post = next(n for n in names if "chat_post_message" in n)
    channels = next(n for n in names if n.endswith("conversations_lists"))

    refused = served.call(post, {"channel": "C0NOPE", "text": "Deploy done"})
    assert refused["isError"] is True
    assert "channel_not_found" in refused["content"][0]["text"]
    sent = served.call(post, {"channel": "C012AB3C0", "text": "Deploy done"})
    assert sent["isError"] is False and sent["structuredContent"]["ts"] == "1503435956.000247"
    wire = upstream.requests[-1]
    assert wire.content_type == "application/x-www-form-urlencoded"
    assert dict(wire.form()) == {"channel": "C012AB3C0", "text": "Deploy done"}
    assert wire.headers["authorization"] == f"Bearer {TOKEN}"

    # and the list pages by response_metadata.next_cursor to its end
    first = served.call(channels, {"limit": 2})["structuredContent"]
    second = served.call(channels, {"limit": 2, "next_cursor": first["next_cursor"]})
    second = second["structuredContent"]
    assert [c["id"] for c in first["result"] + second["result"]] == [
        "C012AB3C0", "C012AB3C1", "C012AB3C2"
    ]  # fmt: skip
    assert not second.get("next_cursor")
    cursors = [dict(r.query).get("cursor") for r in upstream.requests if r.method == "GET"]
    assert cursors == [None, "dGVhbTpD2"]
