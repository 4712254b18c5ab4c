"""Real APIs' conventions, from documents the suite had never seen: each finding of
issue 25 reproduced on a published document in tests/data/specs/ (see its SOURCE.md),
imported with `yamcp import-openapi` and served in process against a loopback upstream.
"""

from __future__ import annotations

import asyncio
import json
import shutil
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
from proxy.tools import tool_name
from tests.support.once import once, run_dir
from tests.support.paths import ROOT
from tests.support.recording_upstream import Fake, serving

SPECS = ROOT / "tests" / "data" / "specs"
BASE = "http://yamcp.test"
TOKEN = "tok-5e1d"
ALL = ["read", "write"]


_imports_dir: list[Path] = []  # set once per module by the fixture below


@pytest.fixture(autouse=True, scope="module")
def _shared_imports(tmp_path_factory: pytest.TempPathFactory) -> None:
    _imports_dir[:] = [run_dir(tmp_path_factory, "conventions-imports")]


def imported(tmp_path: Path, name: str, *entry: str) -> dict[str, Any]:
    """`yamcp import-openapi` of a document in tests/data/specs into tmp_path/integrations;
    the manifest written. Each document is imported once per run (tests/support/once.py)
    and copied to each test that asks, which may then change its copy."""

    def make(out: Path) -> None:
        code = yamcp(
            ["import-openapi", *(str(SPECS / e) for e in entry), "--integration", name,
             "--out", str(out)]
        )  # fmt: skip
        assert code == 0

    key = "-".join([name, *entry]).replace("/", "_")
    made = once(_imports_dir[0] / key, make)
    shutil.copytree(made / name, tmp_path / "integrations" / name)
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

    def start(name: str, upstream: str, **account: Any) -> Served:
        served = _serve(tmp_path, name, upstream, monkeypatch, account)
        opened.append(served.http)
        return served

    yield start
    for http in opened:
        http.__exit__(None, None, None)


def _serve(
    tmp_path: Path,
    name: str,
    upstream: str,
    monkeypatch: pytest.MonkeyPatch,
    account: dict[str, Any],
) -> Served:
    manifest = yaml.safe_load((tmp_path / "integrations" / name / "manifest.yaml").read_text())
    secrets = {}
    for profile in (manifest.get("credentials") or {}).values():
        secret = profile.get("bearer") or profile.get("secret")
        secrets[secret] = f"${{REAL_{secret.upper()}}}"
        monkeypatch.setenv(f"REAL_{secret.upper()}", TOKEN)
    accounts = {"accounts": {"acct": {"integration": name, "base_url": upstream, **account}}}
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


def tool_of(manifest: dict[str, Any], http: str) -> str:
    """The tool name of the method at `VERB /path`."""
    for resource_name, resource in manifest["resources"].items():
        for kind, method in resource["methods"].items():
            if method["http"] == http:
                many = resource.get("plural") or f"{resource_name}s"
                return tool_name(manifest["name"], resource_name, many, kind)
    raise AssertionError(f"no method {http}")


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
    assert result.manifest["credentials"]["api"]["prefix"] == "GenieKey "
    # A scheme named for what it holds, not for how its value starts, is sent bare.
    spec["securityDefinitions"] = {"ApiKeyAuth": spec["securityDefinitions"]["GenieKey"]}
    spec["security"] = [{"ApiKeyAuth": []}]
    result = import_openapi([spec], "opsgenie")
    assert "prefix" not in result.manifest["credentials"]["api"]
    assert any("ApiKeyAuth" in line and "sent bare" in line for line in result.review)


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


# ------------------------------------------ 6. and 9. Asana: offset tokens, opt_fields


def test_an_opaque_offset_token_pages_as_a_cursor_to_the_end(
    tmp_path: Path, upstream: Fake, serve: Any
) -> None:
    # Asana's `offset` is a string token from next_page.offset; it was sent as a number,
    # which Asana refuses ("Your pagination token is invalid").
    manifest = imported(tmp_path, "asana", "asana/asana_oas.yaml")
    kind, method = methods(manifest)["GET /projects"]
    assert kind == "list"
    assert method["pagination"]["style"] == "cursor"
    assert method["pagination"]["cursor_param"] == "offset"
    assert method["pagination"]["next_cursor"] == "next_page.offset"
    served = serve("asana", upstream.url)
    tool = tool_of(manifest, "GET /projects")
    first = served.call(tool, {"limit": 2})["structuredContent"]
    second = served.call(tool, {"limit": 2, "next_cursor": first["next_cursor"]})
    assert second["isError"] is False, second
    second = second["structuredContent"]
    assert [p["gid"] for p in first["result"] + second["result"]] == [
        "120400000000", "120400000001", "120400000002"
    ]  # fmt: skip
    assert not second.get("next_cursor")
    assert [dict(r.query).get("offset") for r in upstream.requests] == [None, "eyJ2"]


def test_an_unexploded_array_is_sent_comma_separated(
    tmp_path: Path, upstream: Fake, serve: Any
) -> None:
    # `opt_fields` is `style: form, explode: false`: one comma-separated value. It went as
    # repeated keys, of which Asana keeps one.
    manifest = imported(tmp_path, "asana", "asana/asana_oas.yaml")
    _, method = methods(manifest)["GET /projects"]
    assert method["query_styles"] == {"opt_fields": {"explode": False}}
    served = serve("asana", upstream.url)
    answer = served.call(tool_of(manifest, "GET /projects"), {"opt_fields": ["color", "notes"]})
    assert answer["isError"] is False, answer
    (sent,) = upstream.requests
    assert sent.query == [("opt_fields", "color,notes"), ("limit", "50")]
    assert answer["structuredContent"]["result"][0]["color"] is None  # asked for, so there


def test_query_styles_write_what_openapi_says() -> None:
    from proxy.query import QueryStyle, query_pairs

    def pairs(value: Any, style: str = "form", explode: bool = True) -> list[tuple[str, str]]:
        return list(query_pairs("k", value, QueryStyle(style, explode)))  # type: ignore[arg-type]

    assert pairs(["a", "b"]) == [("k", "a"), ("k", "b")]
    assert pairs(["a", "b"], explode=False) == [("k", "a,b")]
    assert pairs({"R": 100, "G": 200}, explode=False) == [("k", "R,100,G,200")]
    assert pairs({"R": 100, "G": True}) == [("R", "100"), ("G", "true")]
    assert pairs(["a", "b"], "spaceDelimited", False) == [("k", "a b")]
    assert pairs(["a", "b"], "pipeDelimited", False) == [("k", "a|b")]
    assert pairs({"status": "open", "n": 2}, "deepObject") == [
        ("k[status]", "open"), ("k[n]", "2")
    ]  # fmt: skip
    assert pairs(None) == []


def test_a_deep_object_query_parameter_is_imported_and_sent_bracketed(
    tmp_path: Path, upstream: Fake, serve: Any
) -> None:
    from proxy.openapi import import_openapi

    spec = {
        "openapi": "3.0.3",
        "info": {"title": "Asana-like", "version": "1"},
        "servers": [{"url": "https://app.asana.com/api/1.0"}],
        "paths": {"/projects": {"get": {
            "summary": "Get multiple projects",
            "parameters": [{"name": "filter", "in": "query", "style": "deepObject",
                            "schema": {"type": "object", "properties": {
                                "archived": {"type": "boolean"}, "team": {"type": "string"}}}}],
            "responses": {"200": {"description": "ok", "content": {"application/json": {
                "schema": {"type": "object", "properties": {
                    "data": {"type": "array", "items": {"type": "object"}}}}}}}},
        }}},
    }  # fmt: skip
    result = import_openapi([spec], "tasks")
    _, method = methods(result.manifest)["GET /projects"]
    assert method["query_styles"] == {"filter": {"style": "deepObject"}}
    folder = tmp_path / "integrations" / "tasks"
    folder.mkdir(parents=True)
    (folder / "manifest.yaml").write_text(yaml.safe_dump(result.manifest))
    served = serve("tasks", upstream.url)
    tool = tool_of(result.manifest, "GET /projects")
    served.call(tool, {"filter": {"archived": False, "team": "14916"}})
    (sent,) = upstream.requests
    assert sent.query == [("filter[archived]", "false"), ("filter[team]", "14916")]


def test_asana_creates_a_task_with_its_object_under_data(
    tmp_path: Path, upstream: Fake, serve: Any
) -> None:
    manifest = imported(tmp_path, "asana", "asana/asana_oas.yaml")
    served = serve("asana", upstream.url)
    made = served.call(tool_of(manifest, "POST /tasks"), {"data": {"name": "Buy milk"}})
    assert made["isError"] is False, made
    assert made["structuredContent"]["data"]["gid"] == "12345"
    (sent,) = upstream.requests
    assert sent.json() == {"data": {"name": "Buy milk"}}
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"


# ------------------------------- 6., 10., 11. and 12. Box: marker, upload host, fragments


def test_marker_paging_sends_the_switch_it_needs_and_pages_to_the_end(
    tmp_path: Path, upstream: Fake, serve: Any
) -> None:
    # Box pages /folders/{id}/items by `marker` only with usemarker=true, beside an offset
    # scheme; the import chose the marker and sent no usemarker, so page two was a 400.
    code = yamcp(
        ["import-openapi", str(SPECS / "box/openapi.json"), "--integration", "box",
         "--out", str(tmp_path / "integrations")]
    )  # fmt: skip
    assert code == 0
    text = (tmp_path / "integrations/box/manifest.yaml").read_text()
    manifest = yaml.safe_load(text)
    kind, method = methods(manifest)["GET /folders/{folder_id}/items"]
    assert kind == "list" and method["fixed_query"] == {"usemarker": True}
    assert "offset" not in method["query"] and "usemarker" not in method["query"]
    assert "paged by cursor `marker`, `offset` left out, usemarker=true" in text
    served = serve("box", upstream.url)
    tool = tool_of(manifest, "GET /folders/{folder_id}/items")
    first = served.call(tool, {"folder_id": "0", "limit": 2})["structuredContent"]
    second = served.call(tool, {"folder_id": "0", "limit": 2, "next_cursor": first["next_cursor"]})
    assert second["isError"] is False, second
    names = [e["name"] for e in first["result"] + second["structuredContent"]["result"]]
    assert names == ["Contract 0.pdf", "Contract 1.pdf", "Contract 2.pdf"]
    assert [dict(r.query).get("usemarker") for r in upstream.requests] == ["true", "true"]


def test_an_operation_on_another_host_is_sent_there(
    tmp_path: Path, upstream: Fake, serve: Any
) -> None:
    # Box's POST /files/content declares `servers: upload.box.com`; it was sent to the
    # API's base URL, where uploads do not exist.
    manifest = imported(tmp_path, "box", "box/openapi.json")
    _, method = methods(manifest)["POST /files/content"]
    assert method["base_url"] == "https://upload.box.com/api/2.0"
    # On the fake, the upload host is a path of the loopback server.
    path = tmp_path / "integrations/box/manifest.yaml"
    text = path.read_text().replace("https://upload.box.com/api/2.0", f"{upstream.url}/upload")
    path.write_text(text)
    served = serve("box", upstream.url)
    made = served.call(
        tool_of(manifest, "POST /files/content"),
        {"attributes": {"name": "Contract.pdf", "parent": {"id": "0"}}, "file": "JVBERi0xLjQ="},
    )
    assert made["isError"] is False, made
    (sent,) = upstream.requests
    assert sent.path == "/upload/files/content"
    parts = sent.multipart()
    assert json.loads(parts["attributes"][2]) == {"name": "Contract.pdf", "parent": {"id": "0"}}
    assert parts["file"][2] == b"%PDF-1.4"


def test_path_keys_with_fragments_are_named_and_send_their_query(
    tmp_path: Path, upstream: Fake, serve: Any
) -> None:
    # `/files/{file_id}#get_shared_link`: the fragment went into the request path, the
    # implied `fields=shared_link` was an argument the model had to guess.
    manifest = imported(tmp_path, "box", "box/openapi.json")
    found = methods(manifest)
    assert all("#" not in http for http in found)
    name = tool_of(manifest, "GET /files/{id}")
    assert name == "get_single_box_file_by_id"
    shared = next(
        tool_name("box", r, r + "s", k)
        for r, res in manifest["resources"].items()
        for k, m in res["methods"].items()
        if m.get("fixed_query") == {"fields": "shared_link"} and k == "get" and "file" in r
    )
    assert shared == "get_single_box_file_shared_link_by_id"
    served = serve("box", upstream.url)
    answer = served.call(shared, {"id": "12345"})
    assert answer["structuredContent"]["shared_link"]["url"].startswith("https://app.box.com/s/")
    (sent,) = upstream.requests
    assert sent.target == "/files/12345?fields=shared_link"


def test_names_and_marks_come_from_the_operation_where_the_path_misleads(
    tmp_path: Path,
) -> None:
    box = imported(tmp_path, "box", "box/openapi.json")
    # A tenant's own key in a literal segment makes no name.
    assert not any("vochw" in r.lower() for r in box["resources"])
    # POST /ai/text_gen generates text; it sends nothing, so it is not destructive.
    assert methods(box)["POST /ai/text_gen"][1].get("destructive", False) is False
    # The OAuth token endpoints are no tools: the account holds the token.
    assert not any("oauth2" in http for http in methods(box))
    # PagerDuty's bulk PUT /incidents and PUT /incidents/{id} had each other's names.
    pagerduty = imported(tmp_path, "pagerduty", "pagerduty-rest/openapiv3.json")
    assert tool_of(pagerduty, "PUT /incidents/{id}") == "update_a_pagerduty_incident_by_id"
    assert tool_of(pagerduty, "PUT /incidents") == "create_a_pagerduty_incident_bulk_update"
    # Slack's POST /chat.delete deletes: not `create_a_..._delete` with destructive false.
    slack = imported(tmp_path, "slack", "slack-web/slack_web_openapi_v2.json")
    assert tool_of(slack, "POST /chat.delete") == "delete_a_slack_chat_by_id"
    assert methods(slack)["POST /chat.delete"][1]["destructive"] is True


def test_two_paging_schemes_pick_one_and_say_which() -> None:
    from proxy.openapi import import_openapi, load_spec

    result = import_openapi([load_spec(SPECS / "slack-web/slack_web_openapi_v2.json")], "slack")
    _, method = methods(result.manifest)["GET /stars.list"]
    chosen = method["pagination"]
    assert "cursor" not in method.get("query", {}) or chosen.get("cursor_param") == "cursor"
    assert any(
        line.startswith("GET /stars.list:") and "more than one paging scheme" in line
        for line in result.review
    )


# ---------------------------------------------------- 3. PagerDuty: the From header


def test_a_required_header_is_an_argument_an_account_default_can_fill(
    tmp_path: Path, upstream: Fake, serve: Any
) -> None:
    # PagerDuty's writes require `From` (the acting user's email); it was dropped with a
    # note, so every write was a 400.
    manifest = imported(tmp_path, "pagerduty", "pagerduty-rest/openapiv3.json")
    _, update = methods(manifest)["PUT /incidents/{id}"]
    assert update["header"]["From"]["type"] == "string"
    assert "From" in update["required"]
    assert "From" not in manifest.get("headers", {})
    _, listing = methods(manifest)["GET /incidents"]
    assert "header" not in listing
    served = serve("pagerduty", upstream.url, defaults={"From": "oncall@example.com"})
    tool = tool_of(manifest, "PUT /incidents/{id}")
    done = served.call(tool, {"id": "PT4KHLK", "incident": {"type": "incident", "status": "acknowledged"}})  # fmt: skip
    assert done["isError"] is False, done
    (sent,) = upstream.requests
    assert sent.headers["from"] == "oncall@example.com"
    assert sent.json() == {"incident": {"type": "incident", "status": "acknowledged"}}
    served.call(tool_of(manifest, "GET /incidents"), {})
    assert "from" not in upstream.requests[-1].headers


def test_a_constant_header_of_some_operations_is_sent_only_by_them() -> None:
    from proxy.openapi import import_openapi

    preview = {"name": "X-Preview", "in": "header", "required": True,
               "schema": {"type": "string", "enum": ["incidents-beta"]}}  # fmt: skip
    answer = {"200": {"description": "ok"}}
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "https://api.example.com"}],
        "paths": {
            "/things": {"get": {"summary": "List things", "responses": answer}},
            "/things/{id}/merge": {"post": {"summary": "Merge a thing", "responses": answer,
                                            "parameters": [preview]}},
        },
    }  # fmt: skip
    manifest = import_openapi([spec], "t").manifest
    assert "headers" not in manifest
    _, merge = methods(manifest)["POST /things/{id}/merge"]
    assert merge["headers"] == {"X-Preview": "incidents-beta"}


# ---------------------------------------------------- Opsgenie, DigitalOcean databases


def test_opsgenie_sends_its_scheme_word_pages_alerts_and_creates_one(
    tmp_path: Path, upstream: Fake, serve: Any
) -> None:
    # The GenieKey format is stated nowhere but in the scheme's own name: sent bare, every
    # call was a 401. The name is the word the value starts with, and a review line says so.
    manifest = imported(tmp_path, "opsgenie", "opsgenie/swagger.json")
    assert manifest["credentials"]["api"]["prefix"] == "GenieKey "
    served = serve("opsgenie", upstream.url)
    tool = tool_of(manifest, "GET /v2/alerts")
    first = served.call(tool, {"limit": 2})["structuredContent"]
    second = served.call(tool, {"limit": 2, "next_cursor": first["next_cursor"]})
    assert second["isError"] is False, second
    alerts = first["result"] + second["structuredContent"]["result"]
    assert [a["tinyId"] for a in alerts] == ["1791", "1792", "1793"]
    assert not second["structuredContent"].get("next_cursor")
    assert [dict(r.query).get("offset") for r in upstream.requests] == [None, "2"]
    made = served.call(tool_of(manifest, "POST /v2/alerts"), {"message": "Disk full", "priority": "P1"})  # fmt: skip
    assert made["isError"] is False, made
    assert made["structuredContent"]["result"] == "Request will be processed"
    sent = upstream.requests[-1]
    assert sent.json() == {"message": "Disk full", "priority": "P1"}
    assert sent.headers["authorization"] == f"GenieKey {TOKEN}"


def test_digitalocean_database_config_reads_and_patches(
    tmp_path: Path, upstream: Fake, serve: Any
) -> None:
    manifest = imported(tmp_path, "dodb", "digitalocean-databases/DigitalOcean-public.v2.yaml")
    served = serve("dodb", upstream.url)
    uuid = "9cc10173-e9ea-4176-9dbc-a4cee4c4ff30"
    got = served.call(tool_of(manifest, "GET /v2/databases/{id}/config"), {"id": uuid})
    assert got["structuredContent"]["config"]["sql_require_primary_key"] is True
    patch = tool_of(manifest, "PATCH /v2/databases/{database_cluster_uuid}/config")
    done = served.call(
        patch, {"database_cluster_uuid": uuid, "config": {"sql_require_primary_key": False}}
    )
    assert done["isError"] is False, done
    sent = upstream.requests[-1]
    assert (sent.method, sent.path) == ("PATCH", f"/v2/databases/{uuid}/config")
    assert sent.json() == {"config": {"sql_require_primary_key": False}}
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"


def test_items_without_the_guessed_id_keep_page_one(
    tmp_path: Path, upstream: Fake, serve: Any
) -> None:
    # has_more + the last item's `id`, where the items declare no id: page one was an
    # error ("has no cursor for the next page"), so the agent got nothing at all.
    from proxy.openapi import import_openapi

    spec = {
        "openapi": "3.0.3",
        "info": {"title": "Contacts", "version": "1"},
        "servers": [{"url": "https://api.example.com"}],
        "paths": {"/contacts": {"get": {
            "summary": "List contacts",
            "parameters": [{"name": "after", "in": "query", "schema": {"type": "string"}},
                           {"name": "limit", "in": "query", "schema": {"type": "integer"}}],
            "responses": {"200": {"description": "ok", "content": {"application/json": {
                "schema": {"type": "object", "properties": {
                    "has_more": {"type": "boolean"},
                    "data": {"type": "array", "items": {"type": "object", "properties": {
                        "email": {"type": "string"}}}}}}}}}},
        }}},
    }  # fmt: skip
    result = import_openapi([spec], "contacts")
    assert any(
        line.startswith("GET /contacts: paging guessed") and "`id`" in line
        for line in result.review
    )
    folder = tmp_path / "integrations" / "contacts"
    folder.mkdir(parents=True)
    (folder / "manifest.yaml").write_text(yaml.safe_dump(result.manifest))
    served = serve("contacts", upstream.url)
    page = served.call(tool_of(result.manifest, "GET /contacts"), {})
    assert page["isError"] is False, page
    assert page["structuredContent"]["result"] == [
        {"email": "steve.wozniak@gmail.com", "first_name": "Steve"}
    ]
    assert page["structuredContent"]["next_cursor"] is None
    assert "the last item's id is missing" in page["structuredContent"]["note"]


def test_a_next_cursor_shown_only_in_the_example_is_used_and_flagged() -> None:
    # conversations.history's schema leaves out response_metadata, which its example shows;
    # the import paged by has_more + each message's `id`, a field messages do not have.
    from proxy.openapi import import_openapi, load_spec

    result = import_openapi([load_spec(SPECS / "slack-web/slack_web_openapi_v2.json")], "slack")
    _, method = methods(result.manifest)["GET /conversations.history"]
    assert method["pagination"]["next_cursor"] == "response_metadata.next_cursor"
    assert "cursor_field" not in method["pagination"]
    assert any(
        line.startswith("GET /conversations.history:") and "example only" in line
        for line in result.review
    )


# ------------------------------------------- what the scorecard's labelled sample found


def test_an_operation_that_needs_no_credential_is_sent_without_one(
    tmp_path: Path, upstream: Fake, serve: Any
) -> None:
    # Petstore's /store and /user declare no security where /pet does: every one of them
    # was sent the account's bearer token, a secret to an endpoint that asks for none.
    manifest = imported(tmp_path, "petstore", "petstore/openapi.yaml")
    _, order = methods(manifest)["POST /store/order"]
    assert order["credential"] is False
    assert "credential" not in methods(manifest)["GET /pet/findByStatus"][1] or (
        methods(manifest)["GET /pet/findByStatus"][1]["credential"] is not False
    )
    served = serve("petstore", upstream.url)
    placed = served.call(tool_of(manifest, "POST /store/order"), {"id": 10, "petId": 198772, "quantity": 7})  # fmt: skip
    assert placed["isError"] is False, placed
    (sent,) = upstream.requests
    assert "authorization" not in sent.headers and "api_key" not in sent.headers
    assert sent.json() == {"id": 10, "petId": 198772, "quantity": 7}


def test_lists_the_first_reading_missed(tmp_path: Path) -> None:
    # Box's GET /search answers a oneOf of two result shapes, both with `entries`; Opsgenie's
    # GET /v2/heartbeats keeps its items one level down, at data.heartbeats. Both were gets.
    box = imported(tmp_path, "box", "box/openapi.json")
    kind, search = methods(box)["GET /search"]
    assert kind == "list"
    assert search["pagination"]["items"] == "entries"
    assert search["pagination"]["style"] == "offset"
    opsgenie = imported(tmp_path, "opsgenie", "opsgenie/swagger.json")
    kind, beats = methods(opsgenie)["GET /v2/heartbeats"]
    assert kind == "list" and beats["pagination"]["items"] == "data.heartbeats"


def test_what_the_document_leaves_out_or_misnames_is_said_or_fixed(tmp_path: Path) -> None:
    from proxy.openapi import import_openapi, load_spec

    # Resend's PATCH /emails/{id} has no requestBody (its body is given as the answer).
    resend = import_openapi([load_spec(SPECS / "resend/resend.yaml")], "resend")
    assert any(
        line.startswith("PATCH /emails/{email_id}:") and "no request body" in line
        for line in resend.review
    )
    # Box AI answers a question and writes text: reads, not sends.
    box = imported(tmp_path, "box", "box/openapi.json")
    assert methods(box)["POST /ai/ask"][1]["access"] == "read"
    assert methods(box)["POST /ai/text_gen"][1]["access"] == "read"
    # Netlify's POST /hooks: a required query `site_id` beside an optional body field of
    # the same name; the operation was skipped as a clash.
    netlify = imported(tmp_path, "netlify", "netlify/swagger.yml")
    _, hook = methods(netlify)["POST /hooks"]
    assert "site_id" in hook["query"] and "site_id" not in hook["body"]
    assert "site_id" in hook["required"]


def test_a_methods_own_base_url_needs_the_settings_it_names(tmp_path: Path) -> None:
    # An operation on another host, per region: an account that does not say its region is
    # refused at load, naming the tool, rather than a call going to `https://upload.{region}`.
    from proxy.accounts import check_accounts, load_accounts
    from proxy.errors import ConfigError
    from proxy.registry import load_registry

    folder = tmp_path / "integrations" / "files"
    folder.mkdir(parents=True)
    manifest = {
        "name": "files", "title": "Files", "base_url": "https://api.example.com",
        "resources": {"upload": {"methods": {"create": {
            "http": "POST /files", "description": "Upload a file.",
            "base_url": "https://upload.{region}.example.com",
            "body": {"name": {"type": "string"}},
        }}}},
    }  # fmt: skip
    (folder / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    registry = load_registry([tmp_path / "integrations"])
    accounts_file = tmp_path / "accounts.yaml"
    accounts_file.write_text(yaml.safe_dump({"accounts": {"a": {"integration": "files"}}}))
    with pytest.raises(ConfigError) as refused:
        check_accounts(load_accounts(accounts_file), registry, accounts_file)
    assert "create_a_files_upload's base_url names {region}" in str(refused.value)
    accounts_file.write_text(yaml.safe_dump(
        {"accounts": {"a": {"integration": "files", "settings": {"region": "eu"}}}}
    ))  # fmt: skip
    check_accounts(load_accounts(accounts_file), registry, accounts_file)  # now it loads
