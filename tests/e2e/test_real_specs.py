"""Real published API descriptions, end to end: import, lint, serve, call, check the wire.

Each document in tests/data/specs/ (see its SOURCE.md) goes through `yamcp import-openapi`
and `yamcp lint`; the manifest is checked against expectations written from the document
(which endpoints are lists and their tool names, credential profiles, body encodings,
paging); then `yamcp serve` runs it against tests/support/recording_upstream.py, and the official
MCP client calls a list tool for two pages and a write tool. What reached the fake is
checked as sent: method, path, query, content type, the body parsed back, the auth header.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.fake_postmark import FakePostmark
from tests.support.mcp_client import SchemaChecker, mcp_client
from tests.support.once import once, run_dir
from tests.support.paths import ROOT
from tests.support.recording_upstream import (
    DO_KEYS,
    NETLIFY_SITES,
    PETS,
    RESEND_EMAILS,
    SENDGRID_LISTS,
    TWILIO_MESSAGES,
    TWILIO_SID,
    Fake,
    Recorded,
    serving,
)
from tests.support.serving import Yamcp, start_yamcp, stop_yamcp, write_workdir

SPECS = ROOT / "tests" / "data" / "specs"
ENTRY = {
    "resend": SPECS / "resend" / "resend.yaml",
    "digitalocean": SPECS / "digitalocean" / "DigitalOcean-public.v2.yaml",
    "twilio": SPECS / "twilio" / "twilio_api_v2010.json",
    "sendgrid": SPECS / "sendgrid" / "tsg_mc_lists_v3.json",
    "petstore": SPECS / "petstore" / "openapi.yaml",
    "netlify": SPECS / "netlify" / "swagger.yml",
    "digitalocean_databases": SPECS / "digitalocean-databases" / "DigitalOcean-public.v2.yaml",
    "slack_web": SPECS / "slack-web" / "slack_web_openapi_v2.json",
    "pagerduty_rest": SPECS / "pagerduty-rest" / "openapiv3.json",
    "asana": SPECS / "asana" / "asana_oas.yaml",
    "box": SPECS / "box" / "openapi.json",
    "opsgenie": SPECS / "opsgenie" / "swagger.json",
}
# Where each account's base URL points on the fake (the documents' own base paths).
BASE_PATH = {
    "resend": "",
    "digitalocean": "",
    "twilio": "",
    "sendgrid": "",
    "petstore": "/api/v3",
    "netlify": "/api/v1",
    **{name: "" for name in ("digitalocean_databases", "slack_web", "pagerduty_rest")},
    **{name: "" for name in ("asana", "box", "opsgenie")},
}
TOKEN = "tok-3f9a"  # every bearer or header secret
TWILIO_AUTH_TOKEN = "twilio-auth-token-7c1"


# --------------------------------------------------------------------------- helpers


def cli(*args: str | Path, env: dict[str, str] | None = None, cwd: Path = ROOT):
    return subprocess.run(
        [sys.executable, "-m", "proxy.cli", *map(str, args)],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _shape(path: str) -> str:
    """A path with its parameters' names dropped: `/a/{x}/b` -> `/a/{}/b`."""
    return re.sub(r"\{[^}]*\}", "{}", path)


class Imported:
    """One document's import: the manifest as YAML data and the tools `yamcp tools --json` lists."""

    def __init__(self, name: str, out: Path) -> None:
        self.name = name
        self.out = out  # an integrations folder holding this one integration
        self.file = out / name / "manifest.yaml"
        self.manifest: dict[str, Any] = yaml.safe_load(self.file.read_text())
        done = json.loads(out.with_name(f"{out.name}.cli.json").read_text())
        self.stdout: str = done["import"]
        self.tools: list[dict[str, Any]] = done["tools"]

    def method(self, verb: str, path: str) -> tuple[str, str, dict[str, Any]]:
        """(resource, method type, method) of the operation `verb path` of the document."""
        found = [
            (rname, kind, method)
            for rname, resource in self.manifest.get("resources", {}).items()
            for kind, method in resource.get("methods", {}).items()
            if method["http"].split(" ", 1)[0] == verb
            and _shape(method["http"].split(" ", 1)[1]) == _shape(path)
        ]
        assert len(found) == 1, f"{verb} {path}: {len(found)} methods in {self.file}"
        return found[0]

    def tool(self, verb: str, path: str) -> dict[str, Any]:
        found = [
            t for t in self.tools if t["http_method"] == verb and _shape(t["path"]) == _shape(path)
        ]
        assert len(found) == 1, f"{verb} {path}: {[t['name'] for t in found]}"
        return found[0]

    def paging(self, verb: str, path: str) -> dict[str, Any]:
        """The list's pagination: the manifest's defaults under the method's own."""
        _, kind, method = self.method(verb, path)
        assert kind == "list", f"{verb} {path} is a {kind}, not a list"
        return {**self.manifest.get("pagination", {}), **method.get("pagination", {})}

    def profiles(self) -> dict[str, dict[str, Any]]:
        return self.manifest.get("credentials") or {}


def _dirs_env(out: Path) -> dict[str, str]:
    return {"YAMCP_INTEGRATIONS_DIRS": f"{ROOT / 'integrations'},{out}"}


def secrets_of(profiles: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Each secret the profiles name -> the value the test account holds for it."""
    values: dict[str, str] = {}
    for profile in profiles.values():
        if "basic" in profile:
            values[profile["basic"]["username"]] = TWILIO_SID
            if profile["basic"].get("password"):
                values[profile["basic"]["password"]] = TWILIO_AUTH_TOKEN
        elif "bearer" in profile:
            values[profile["bearer"]] = TOKEN
        else:
            values[profile["secret"]] = TOKEN
    return values


def account_yaml(name: str, base_url: str, secrets: dict[str, str]) -> str:
    text = f"  {name}:\n    integration: {name}\n    base_url: {base_url}\n"
    if secrets:
        text += "    credentials:\n" + "".join(
            f"      {s}: ${{{_env_name(name, s)}}}\n" for s in secrets
        )
    return text


def _env_name(name: str, secret: str) -> str:
    return f"REAL_{name}_{secret}".upper()


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def assert_has(actual: dict[str, Any], **expected: Any) -> None:
    """`actual` holds each expected key with that value (other keys may be there too)."""
    got = {k: actual.get(k) for k in expected}
    assert got == expected, actual


def query(rec: Recorded) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in rec.query:
        out.setdefault(key, []).append(value)
    return out


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the documents are imported, each into its own folder: shared by the run's
    workers, so each document is imported once however the tests are spread."""
    return run_dir(tmp_path_factory, "real-specs")


_imports: dict[str, Imported] = {}


def imported(out_dir: Path, name: str) -> Imported:
    """`yamcp import-openapi` of one document, and `yamcp tools --json` of what it wrote
    (once per run: tests/support/once.py)."""
    if name not in _imports:
        out = once(out_dir / name, lambda out: _import(out, name))
        _imports[name] = Imported(name, out)
    return _imports[name]


def _import(out: Path, name: str) -> None:
    done = cli("import-openapi", ENTRY[name], "--integration", name, "--out", out)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    listed = cli("tools", "--integration", name, "--json", env=_dirs_env(out))
    assert listed.returncode == 0, listed.stderr
    kept = {"import": done.stdout, "tools": json.loads(listed.stdout)}
    out.with_name(f"{out.name}.cli.json").write_text(json.dumps(kept))


@pytest.fixture(scope="module")
def upstream() -> Iterator[Fake]:
    with serving() as fake:
        yield fake


@pytest.fixture
def wire(upstream: Fake) -> Fake:
    upstream.reset()
    return upstream


def _serve(out: Path, names: list[str], fake: Fake, postmark: FakePostmark, workdir: Path) -> Yamcp:
    accounts, env = "", {**_dirs_env(out)}
    for name in names:
        secrets = secrets_of(
            yaml.safe_load((out / name / "manifest.yaml").read_text()).get("credentials") or {}
        )
        accounts += account_yaml(name, fake.url + BASE_PATH[name], secrets)
        env.update({_env_name(name, s): v for s, v in secrets.items()})
    write_workdir(workdir, postmark.url, accounts)
    server = start_yamcp(workdir, env)
    server.settings = server.settings.model_copy(
        update={"integrations_dirs": [ROOT / "integrations", out]}
    )
    return server


_servers: dict[tuple[Path, str], Yamcp] = {}


@pytest.fixture(scope="module")
def served(
    out_dir: Path,
    upstream: Fake,
    fake_postmark: FakePostmark,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Any]:
    """`served(name)`: a `yamcp serve` of that one imported integration (started once)."""

    def start(name: str, out: Path | None = None) -> Yamcp:
        if out is None:
            out = imported(out_dir, name).out
        key = (out, name)
        if key not in _servers:
            workdir = tmp_path_factory.mktemp(f"serve-{name}")
            _servers[key] = _serve(out, [name], upstream, fake_postmark, workdir)
        return _servers[key]

    yield start
    for key in list(_servers):
        stop_yamcp(_servers.pop(key))


def lint(out: Path, name: str, workdir: Path) -> subprocess.CompletedProcess:
    """`yamcp lint` over the shipped integrations and the imported one, with its account."""
    profiles = yaml.safe_load((out / name / "manifest.yaml").read_text()).get("credentials") or {}
    secrets = secrets_of(profiles)
    write_workdir(workdir, "http://127.0.0.1:9", account_yaml(name, "http://127.0.0.1:9", secrets))
    env = {
        **_dirs_env(out),
        "YAMCP_POLICIES_DIR": str(ROOT / "policies"),
        "YAMCP_ACCOUNTS_FILE": str(workdir / "accounts.yaml"),
        "YAMCP_DATA_DIR": str(workdir / "data"),
        "POSTMARK_SERVER_TOKEN": "x",
        "POSTMARK_ACCOUNT_TOKEN": "x",
        **{_env_name(name, s): v for s, v in secrets.items()},
    }
    return cli("lint", env=env, cwd=workdir)


async def two_pages(
    url: str, checker: SchemaChecker, tool: str, arguments: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    async with mcp_client(url, checker) as client:
        first = await client.call_tool(tool, {**arguments, "limit": 2})
        assert not first.is_error, first.content
        cursor = first.structured_content["next_cursor"]
        assert isinstance(cursor, str) and cursor, first.structured_content
        second = await client.call_tool(tool, {**arguments, "limit": 2, "next_cursor": cursor})
        assert not second.is_error, second.content
    return first.structured_content, second.structured_content


async def call(url: str, checker: SchemaChecker, tool: str, arguments: dict[str, Any]) -> Any:
    async with mcp_client(url, checker) as client:
        result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    return result.structured_content


# =========================================================== every document: import + lint


@pytest.mark.parametrize("name", list(ENTRY))
def test_each_real_document_imports_and_lints_clean(
    name: str, out_dir: Path, tmp_path: Path
) -> None:
    imp = imported(out_dir, name)
    assert imp.stdout.splitlines()[0] == f"wrote {imp.file}", imp.stdout
    assert imp.tools, f"{name}: no tools"
    for tool in imp.tools:
        assert len(tool["name"]) <= 64 and re.fullmatch(r"[a-z0-9_]+", tool["name"]), tool
    done = lint(imp.out, name, tmp_path)
    assert done.returncode == 0, f"lint exit {done.returncode}\n{done.stdout}\n{done.stderr}"


@pytest.mark.parametrize("name", list(ENTRY))
async def test_each_imported_document_serves_its_whole_catalogue(
    name: str, out_dir: Path, served: Any, schema_checker: SchemaChecker
) -> None:
    # No imported manifest may make a request to the server a JSON-RPC error (a uint64
    # bound once made every one, initialize included, a -32603): the official client
    # initializes and reads every tools/list page, each answer schema-checked.
    url = await served(name).mint(account=name)
    listed: list[str] = []
    async with mcp_client(url, schema_checker) as client:
        cursor = None
        while True:
            page = await client.list_tools(cursor=cursor)
            listed += [tool.name for tool in page.tools]
            cursor = page.next_cursor
            if not cursor:
                break
    assert sorted(listed) == sorted(t["name"] for t in imported(out_dir, name).tools)


def test_every_spec_folder_says_where_it_came_from() -> None:
    folders = sorted(p for p in SPECS.iterdir() if p.is_dir())
    assert [p.name for p in folders] == sorted(
        e.relative_to(SPECS).parts[0] for e in ENTRY.values()
    )
    for folder in folders:
        source = (folder / "SOURCE.md").read_text()
        assert re.search(r"Commit: `[0-9a-f]{40}`", source), folder
        assert "https://github.com/" in source and "SPDX" in source, folder
        # A document published with no licence says so; any other has its licence beside it.
        if "SPDX `NOASSERTION`" not in source:
            assert (folder / "LICENSE").read_text().strip(), folder
    total = sum(p.stat().st_size for p in SPECS.rglob("*") if p.is_file())
    assert total < 2_000_000, total


# ====================================================================== Resend (3.1)


def test_resend_manifest_matches_the_document(out_dir: Path) -> None:
    imp = imported(out_dir, "resend")
    assert imp.manifest["base_url"] == "https://api.resend.com"
    # bearerAuth (http, bearer): one bearer profile.
    (profile,) = imp.profiles().values()
    assert set(profile) == {"bearer"}, profile
    # GET /emails answers {object: list, has_more, data: [Email]}: a list, paged by cursor.
    emails = imp.tool("GET", "/emails")
    assert (emails["name"], emails["method"]) == ("list_all_resend_emails", "list")
    assert_has(
        imp.paging("GET", "/emails"),
        style="cursor",
        limit_param="limit",
        cursor_param="after",
        has_more="has_more",
        cursor_field="id",
        items="data",
    )
    # The other lists of the same shape are lists too; one email by id is a get.
    for path, tool in [
        ("/domains", "list_all_resend_domains"),
        ("/api-keys", "list_all_resend_api_keys"),
        ("/contacts/imports", "list_all_resend_contact_imports"),
    ]:
        assert (imp.tool("GET", path)["name"], imp.tool("GET", path)["method"]) == (tool, "list")
    assert imp.tool("GET", "/emails/{email_id}")["name"] == "get_single_resend_email_by_id"
    # Writes: JSON, except the contact import's multipart/form-data with a binary file.
    send = imp.tool("POST", "/emails")
    assert (send["name"], send["method"]) == ("create_a_resend_email", "create")
    _, _, method = imp.method("POST", "/emails")
    assert method.get("body_encoding", "json") == "json"
    assert set(method["body"]) >= {"from", "to", "subject", "html"}
    _, kind, upload = imp.method("POST", "/contacts/imports")
    assert kind == "create" and upload.get("body_encoding") == "multipart", upload
    assert upload["body"]["file"].get("contentEncoding") == "base64", upload["body"]["file"]


async def test_resend_pages_by_cursor_and_sends_json_and_multipart(
    served: Any, wire: Fake, schema_checker: SchemaChecker
) -> None:
    url = await served("resend").mint(account="resend")
    first, second = await two_pages(url, schema_checker, "list_all_resend_emails", {})
    assert [e["id"] for e in first["result"]] == [e["id"] for e in RESEND_EMAILS[:2]]
    assert [e["id"] for e in second["result"]] == [RESEND_EMAILS[2]["id"]]
    assert second["next_cursor"] is None
    email = {
        "from": "Acme <onboarding@resend.dev>",
        "to": ["delivered@resend.dev"],
        "subject": "hello world",
        "html": "<p>it works!</p>",
    }
    sent = await call(url, schema_checker, "create_a_resend_email", email)
    assert sent["id"] == "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"
    csv = b"email,First Name\nsteve.wozniak@gmail.com,Steve\n"
    upload = {"file": base64.b64encode(csv).decode(), "on_conflict": "upsert"}
    tool = "create_a_resend_contact_import"
    assert (await call(url, schema_checker, tool, upload))["object"] == "contact_import"

    page1, page2, post, multipart = wire.requests
    for rec in wire.requests:
        assert rec.headers["authorization"] == f"Bearer {TOKEN}"
    assert (page1.method, page1.path, query(page1)) == ("GET", "/emails", {"limit": ["2"]})
    after = {"limit": ["2"], "after": [RESEND_EMAILS[1]["id"]]}
    assert (page2.method, page2.path, query(page2)) == ("GET", "/emails", after)
    assert (post.method, post.path, post.target) == ("POST", "/emails", "/emails")
    assert post.content_type == "application/json" and post.json() == email
    assert (multipart.method, multipart.path) == ("POST", "/contacts/imports")
    assert multipart.content_type == "multipart/form-data"
    parts = multipart.multipart()
    assert parts["file"][2] == csv and parts["file"][0] == "file"
    assert parts["on_conflict"][2] == b"upsert"


# ============================================================ DigitalOcean (multi-file)


def test_digitalocean_cross_file_refs_become_a_next_url_list_and_a_json_create(
    out_dir: Path,
) -> None:
    imp = imported(out_dir, "digitalocean")
    assert imp.manifest["base_url"] == "https://api.digitalocean.com"
    (profile,) = imp.profiles().values()  # bearer_auth: http bearer
    assert set(profile) == {"bearer"}, profile
    keys = imp.tool("GET", "/v2/account/keys")
    assert (keys["name"], keys["method"]) == ("list_all_digitalocean_account_keys", "list")
    assert keys["tags"] == ["ssh_keys"]  # from resources/ssh_keys/sshKeys_list.yml
    paging = imp.paging("GET", "/v2/account/keys")
    assert (paging["style"], paging["next_url"]) == ("next_url", "links.pages.next"), paging
    assert (paging["limit_param"], paging["items"]) == ("per_page", "ssh_keys"), paging
    assert paging.get("total") == "meta.total", paging
    assert paging.get("max_limit") == 200, paging  # shared/parameters.yml per_page maximum
    one = imp.tool("GET", "/v2/account/keys/{ssh_key_identifier}")
    assert (one["name"], one["method"]) == ("get_single_digitalocean_account_key_by_id", "get")
    create = imp.tool("POST", "/v2/account/keys")
    assert (create["name"], create["method"]) == ("create_a_digitalocean_account_key", "create")
    _, _, method = imp.method("POST", "/v2/account/keys")
    # The body schema is models/sshKeys.yml, two files away: its fields, typed, required.
    assert method.get("body_encoding", "json") == "json"
    assert set(method["body"]) >= {"name", "public_key"}, method.get("body")
    assert method["body"]["public_key"]["type"] == "string"
    assert set(method.get("required", [])) == {"name", "public_key"}


async def test_digitalocean_follows_links_pages_next_and_creates_a_key(
    served: Any, wire: Fake, schema_checker: SchemaChecker
) -> None:
    url = await served("digitalocean").mint(account="digitalocean")
    first, second = await two_pages(url, schema_checker, "list_all_digitalocean_account_keys", {})
    assert [k["id"] for k in first["result"]] == [k["id"] for k in DO_KEYS[:2]]
    assert [k["id"] for k in second["result"]] == [DO_KEYS[2]["id"]]
    assert first.get("total") == 3 and second["next_cursor"] is None
    key = {
        "name": "My SSH Public Key",
        "public_key": "ssh-rsa AEXAMPLEaC1yc2EAAAADAQABAAAAQQDDHr/jh2Jy4yALcK4JyWbVkPRaWmhck3IgC"
        "oeOO3z1e2dBowLh64QAM+Qb72pxekALga2oi4GvT+TlWNhzPH4V example",
    }
    created = await call(url, schema_checker, "create_a_digitalocean_account_key", key)
    assert created["ssh_key"]["id"] == 512190

    page1, page2, post = wire.requests
    for rec in wire.requests:
        assert rec.headers["authorization"] == f"Bearer {TOKEN}"
    assert (page1.method, page1.path, query(page1)) == (
        "GET",
        "/v2/account/keys",
        {"per_page": ["2"]},
    )
    # The second page is exactly the absolute URL the first answer gave at links.pages.next.
    assert (page2.method, page2.target) == ("GET", "/v2/account/keys?page=2&per_page=2")
    assert (post.method, post.target, post.content_type) == (
        "POST",
        "/v2/account/keys",
        "application/json",
    )
    assert post.json() == key


# ============================================================ Twilio (form, Basic auth)

TWILIO_PATH = "/2010-04-01/Accounts/{AccountSid}/Messages.json"


def test_twilio_basic_auth_form_body_and_next_page_uri(out_dir: Path) -> None:
    imp = imported(out_dir, "twilio")
    assert imp.manifest["base_url"] == "https://api.twilio.com"
    # accountSid_authToken (http, basic): user = Account SID, password = auth token.
    (profile,) = imp.profiles().values()
    assert set(profile) == {"basic"}, profile
    assert profile["basic"].get("username") and profile["basic"].get("password"), profile
    listing = imp.tool("GET", TWILIO_PATH)
    # 2010-04-01 is a version, not a resource: the resource is the account's messages.
    assert (listing["name"], listing["method"]) == ("list_all_twilio_account_messages", "list")
    paging = imp.paging("GET", TWILIO_PATH)
    assert (paging["style"], paging["next_url"]) == ("next_url", "next_page_uri"), paging
    assert (paging["limit_param"], paging["items"]) == ("PageSize", "messages"), paging
    _, _, lister = imp.method("GET", TWILIO_PATH)
    assert not {"PageSize", "Page", "PageToken"} & set(lister.get("query", {})), lister["query"]
    create = imp.tool("POST", TWILIO_PATH)
    assert (create["name"], create["method"]) == ("create_a_twilio_account_message", "create")
    _, _, method = imp.method("POST", TWILIO_PATH)
    # application/x-www-form-urlencoded; arrays (MediaUrl) explode as repeated keys: the
    # OpenAPI default for a form body (style form, explode true).
    assert method.get("body_encoding") == "form", method.get("body_encoding")
    assert method.get("form_style") == "repeat", method.get("form_style")
    assert set(method["body"]) >= {"To", "From", "Body", "MediaUrl"}
    assert method["body"]["MediaUrl"]["type"] == "array"
    assert "To" in method.get("required", [])
    # A create acts on the collection: its path parameter keeps its name, as the list's does.
    assert create["path"] == listing["path"] == TWILIO_PATH


async def test_twilio_pages_by_next_page_uri_and_sends_a_form(
    served: Any, wire: Fake, schema_checker: SchemaChecker
) -> None:
    url = await served("twilio").mint(account="twilio")
    args = {"AccountSid": TWILIO_SID, "To": "+18182008801"}
    first, second = await two_pages(url, schema_checker, "list_all_twilio_account_messages", args)
    assert [m["sid"] for m in first["result"]] == [m["sid"] for m in TWILIO_MESSAGES[:2]]
    assert [m["sid"] for m in second["result"]] == [TWILIO_MESSAGES[2]["sid"]]
    assert second["next_cursor"] is None
    message = {
        "AccountSid": TWILIO_SID,
        "To": "+15558675310",
        "From": "+15017122661",
        "Body": "Hi there & welcome = 100%",
        "MediaUrl": ["https://demo.twilio.com/owl.png", "https://demo.twilio.com/cat.png"],
    }
    sent = await call(url, schema_checker, "create_a_twilio_account_message", message)
    assert sent["status"] == "queued" and sent["to"] == "+15558675310"

    page1, page2, post = wire.requests
    for rec in wire.requests:
        assert rec.headers["authorization"] == basic(TWILIO_SID, TWILIO_AUTH_TOKEN)
    path = f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    assert (page1.method, page1.path) == ("GET", path)
    assert query(page1) == {"To": ["+18182008801"], "PageSize": ["2"]}
    # The second page is next_page_uri, relative to the base URL, exactly as given.
    expected = f"{path}?To=%2B18182008801&PageSize=2&Page=1&PageToken=PASM2"
    assert (page2.method, page2.target) == ("GET", expected)
    assert (post.method, post.target) == ("POST", path)
    assert post.content_type == "application/x-www-form-urlencoded"
    assert sorted(post.form()) == sorted(
        [
            ("To", "+15558675310"),
            ("From", "+15017122661"),
            ("Body", "Hi there & welcome = 100%"),
            ("MediaUrl", "https://demo.twilio.com/owl.png"),
            ("MediaUrl", "https://demo.twilio.com/cat.png"),
        ]
    )


# ================================================================ SendGrid (3.1, next)


def test_sendgrid_lists_page_by_metadata_next(out_dir: Path) -> None:
    imp = imported(out_dir, "sendgrid")
    assert imp.manifest["base_url"] == "https://api.sendgrid.com"
    (profile,) = imp.profiles().values()  # BearerAuth: http bearer
    assert set(profile) == {"bearer"}, profile
    lists = imp.tool("GET", "/v3/marketing/lists")
    assert (lists["name"], lists["method"]) == ("list_all_sendgrid_marketing_lists", "list")
    assert_has(
        imp.paging("GET", "/v3/marketing/lists"),
        style="next_url",
        next_url="_metadata.next",
        limit_param="page_size",
        items="result",
        total="_metadata.count",
        max_limit=1000,
    )
    _, _, lister = imp.method("GET", "/v3/marketing/lists")
    assert "page_token" not in lister.get("query", {}), lister.get("query")
    create = imp.tool("POST", "/v3/marketing/lists")
    assert (create["name"], create["method"]) == ("create_a_sendgrid_marketing_list", "create")
    _, _, method = imp.method("POST", "/v3/marketing/lists")
    assert method.get("body_encoding", "json") == "json"
    assert method["body"]["name"]["maxLength"] == 100 and method.get("required") == ["name"]
    one = imp.tool("GET", "/v3/marketing/lists/{id}")
    assert (one["name"], one["method"]) == ("get_single_sendgrid_marketing_list_by_id", "get")


async def test_sendgrid_follows_metadata_next_and_creates_a_list(
    served: Any, wire: Fake, schema_checker: SchemaChecker
) -> None:
    url = await served("sendgrid").mint(account="sendgrid")
    first, second = await two_pages(url, schema_checker, "list_all_sendgrid_marketing_lists", {})
    assert [x["id"] for x in first["result"]] == [x["id"] for x in SENDGRID_LISTS[:2]]
    assert [x["id"] for x in second["result"]] == [SENDGRID_LISTS[2]["id"]]
    assert first.get("total") == 3 and second["next_cursor"] is None
    made = await call(url, schema_checker, "create_a_sendgrid_marketing_list", {"name": "VIPs"})
    assert made == {
        "id": "ca7a3796-e8a8-4029-9ccb-df8937940562",
        "contact_count": 0,
        "name": "VIPs",
    }

    page1, page2, post = wire.requests
    for rec in wire.requests:
        assert rec.headers["authorization"] == f"Bearer {TOKEN}"
    assert (page1.method, page1.target) == ("GET", "/v3/marketing/lists?page_size=2")
    # Exactly the absolute URL the first answer gave at _metadata.next.
    assert (page2.method, page2.target) == ("GET", "/v3/marketing/lists?page_size=2&page_token=PT2")
    assert (post.method, post.target, post.content_type) == (
        "POST",
        "/v3/marketing/lists",
        "application/json",
    )
    assert post.json() == {"name": "VIPs"}


# ====================================================================== Swagger Petstore


def test_petstore_two_profiles_and_odd_paths(out_dir: Path) -> None:
    imp = imported(out_dir, "petstore")
    assert imp.manifest["base_url"] == "https://petstore3.swagger.io/api/v3"
    profiles = imp.profiles()
    shapes = sorted(tuple(sorted(p)) for p in profiles.values())
    # api_key: apiKey in header `api_key`; petstore_auth: OAuth2, sent as a bearer token.
    assert shapes == [("bearer",), ("header", "secret")] or shapes == [
        ("bearer",),
        ("header", "prefix", "secret"),
    ], profiles
    (header,) = [p for p in profiles.values() if "header" in p]
    assert header["header"] == "api_key" and not header.get("prefix"), header
    by_status = imp.tool("GET", "/pet/findByStatus")
    assert by_status["method"] == "list", by_status  # answers a bare array of Pet
    assert by_status["name"].startswith("list_all_petstore_") and "status" in by_status["name"]
    assert imp.paging("GET", "/pet/findByStatus")["style"] in ("none", None)
    add = imp.tool("POST", "/pet")
    assert (add["name"], add["method"]) == ("create_a_petstore_pet", "create")
    _, _, method = imp.method("POST", "/pet")
    # Offered as JSON, XML and a form: JSON is the one to send.
    assert method.get("body_encoding", "json") == "json", method.get("body_encoding")
    assert set(method.get("required", [])) >= {"name", "photoUrls"}
    # GET /user/logout takes nothing and changes the session: one tool, not read-only (a
    # client asks before an agent logs the user out), not destructive.
    logout = imp.tool("GET", "/user/logout")
    _, _, method = imp.method("GET", "/user/logout")
    assert not method.get("path") and not method.get("query") and not method.get("required")
    assert logout["access"] == "write" and logout["annotations"]["readOnlyHint"] is False
    assert logout["annotations"]["destructiveHint"] is False
    assert imp.tool("GET", "/store/inventory")["method"] == "get"
    # Each operation uses the scheme its `security` names: GET /store/inventory api_key
    # only; DELETE /pet/{petId} petstore_auth only (its optional `api_key` header
    # *parameter* is no security requirement).
    (bearer_name,) = [n for n, p in profiles.items() if "bearer" in p]
    (header_name,) = [n for n, p in profiles.items() if "header" in p]
    default = next(iter(profiles))

    def credential(verb: str, path: str) -> str:
        return imp.method(verb, path)[2].get("credential", default)

    assert credential("GET", "/store/inventory") == header_name
    assert credential("GET", "/pet/findByStatus") == bearer_name
    assert credential("DELETE", "/pet/{petId}") == bearer_name


async def test_petstore_lists_by_status_adds_a_pet_and_uses_each_operations_credential(
    out_dir: Path, served: Any, wire: Fake, schema_checker: SchemaChecker
) -> None:
    imp = imported(out_dir, "petstore")
    url = await served("petstore").mint(account="petstore")
    tool = imp.tool("GET", "/pet/findByStatus")["name"]
    first, second = await two_pages(url, schema_checker, tool, {"status": "available"})
    assert [p["id"] for p in first["result"]] == [p["id"] for p in PETS[:2]]
    assert [p["id"] for p in second["result"]] == [PETS[2]["id"]]
    assert second["next_cursor"] is None
    pet = {
        "id": 10,
        "name": "doggie",
        "category": {"id": 1, "name": "Dogs"},
        "photoUrls": ["https://example.com/doggie.png"],
        "status": "available",
    }
    assert await call(url, schema_checker, "create_a_petstore_pet", pet) == pet
    inventory = await call(url, schema_checker, imp.tool("GET", "/store/inventory")["name"], {})
    assert inventory == {"approved": 57, "placed": 100, "delivered": 50}

    *pages, post, inv = wire.requests
    assert len(pages) == 2  # the whole array, answered twice: yamcp pages it
    for rec in pages:
        assert (rec.method, rec.path) == ("GET", "/api/v3/pet/findByStatus")
        assert query(rec) == {"status": ["available"]}
    for rec in [*pages, post]:  # petstore_auth
        assert rec.headers["authorization"] == f"Bearer {TOKEN}"
        assert "api_key" not in rec.headers
    assert (post.method, post.target, post.content_type) == (
        "POST",
        "/api/v3/pet",
        "application/json",
    )
    assert post.json() == pet
    # GET /store/inventory declares only api_key: the header, and no Authorization.
    assert inv.target == "/api/v3/store/inventory" and inv.headers.get("api_key") == TOKEN
    assert "authorization" not in inv.headers


# ======================================================== Netlify (Swagger 2.0, Link)


def test_netlify_swagger2_page_paging_and_bearer(out_dir: Path) -> None:
    imp = imported(out_dir, "netlify")
    assert imp.manifest["base_url"] == "https://api.netlify.com/api/v1"
    (profile,) = imp.profiles().values()  # netlifyAuth: OAuth2, sent as a bearer token
    assert set(profile) == {"bearer"}, profile
    sites = imp.tool("GET", "/sites")
    assert (sites["name"], sites["method"]) == ("list_all_netlify_sites", "list")
    paging = imp.paging("GET", "/sites")
    # The document declares page + per_page and no Link header: page paging.
    assert paging["style"] == "page", paging
    assert (paging["limit_param"], paging["page_param"]) == ("per_page", "page"), paging
    create = imp.tool("POST", "/sites")
    assert (create["name"], create["method"]) == ("create_a_netlify_site", "create")
    _, _, method = imp.method("POST", "/sites")
    assert method.get("body_encoding", "json") == "json"
    assert "name" in method["body"] and "configure_dns" in method.get("query", {})


async def test_netlify_pages_by_page_number_and_creates_a_site(
    served: Any, wire: Fake, schema_checker: SchemaChecker
) -> None:
    url = await served("netlify").mint(account="netlify")
    first, second = await two_pages(url, schema_checker, "list_all_netlify_sites", {})
    assert [s["id"] for s in first["result"]] == [s["id"] for s in NETLIFY_SITES[:2]]
    assert [s["id"] for s in second["result"]] == [NETLIFY_SITES[2]["id"]]
    site = {"name": "my-new-site", "custom_domain": "www.example.com"}
    created = await call(url, schema_checker, "create_a_netlify_site", site)
    assert created["id"] == "new-site-id"

    page1, page2, post = wire.requests[:3]
    for rec in wire.requests:
        assert rec.headers["authorization"] == f"Bearer {TOKEN}"
    assert (page1.method, page1.path, query(page1)) == (
        "GET",
        "/api/v1/sites",
        {"per_page": ["2"], "page": ["1"]},
    )
    assert query(page2) == {"per_page": ["2"], "page": ["2"]}
    assert (post.method, post.target, post.content_type) == (
        "POST",
        "/api/v1/sites",
        "application/json",
    )
    assert post.json() == site


@pytest.fixture(scope="module")
def netlify_reviewed(out_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The import, after the one review edit the document cannot carry: Link-header paging."""
    imp = imported(out_dir, "netlify")
    reviewed = tmp_path_factory.mktemp("reviewed")
    (reviewed / "netlify").mkdir(parents=True)
    manifest = yaml.safe_load(imp.file.read_text())
    for resource in manifest["resources"].values():
        list_method = resource.get("methods", {}).get("list")
        if list_method and list_method["http"] == "GET /sites":
            list_method["pagination"] = {
                "style": "link_header",
                "limit_param": "per_page",
                "items": "@",
            }
    (reviewed / "netlify" / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    return reviewed


async def test_netlify_reviewed_to_link_header_follows_rel_next(
    netlify_reviewed: Path, served: Any, wire: Fake, schema_checker: SchemaChecker
) -> None:
    url = await served("netlify", netlify_reviewed).mint(account="netlify")
    first, second = await two_pages(url, schema_checker, "list_all_netlify_sites", {})
    assert [s["id"] for s in first["result"]] == [s["id"] for s in NETLIFY_SITES[:2]]
    assert [s["id"] for s in second["result"]] == [NETLIFY_SITES[2]["id"]]
    assert second["next_cursor"] is None  # page 2's Link has no rel="next"
    page1, page2 = wire.requests
    assert (page1.method, page1.path, query(page1)) == ("GET", "/api/v1/sites", {"per_page": ["2"]})
    # Exactly the URL of page 1's `Link: <...>; rel="next"`.
    assert (page2.method, page2.target) == ("GET", "/api/v1/sites?page=2&per_page=2")
    assert page2.headers["authorization"] == f"Bearer {TOKEN}"


def test_the_docs_walk_through_imports_resend_as_shown(tmp_path: Path) -> None:
    """docs/adding-an-integration.md's walk-through: its import prints what the doc shows,
    names the review items the doc discusses, and lints clean where the doc says."""
    doc = (ROOT / "docs" / "adding-an-integration.md").read_text()
    section = doc.split("### A real document, end to end: Resend", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.S)
    importing, linting = blocks[0].splitlines(), blocks[1].strip()
    command = importing[0].replace("--out imported", f"--out {tmp_path}")
    shown = [line[2:].replace(" imported/", f" {tmp_path}/") for line in importing[1:]]
    run = subprocess.run(
        [sys.executable, "-m", "proxy.cli", *shlex.split(command)[1:]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    printed = (run.stdout + run.stderr).splitlines()
    assert printed[: len(shown)] == shown
    for quoted in re.findall(r"`((?:review|note): [^`]+)`", section):
        assert any(line.startswith(quoted) for line in printed), quoted
    assert sum(line.startswith("list: list_all_resend_") for line in printed) == 25
    env_part, lint = linting.split(" ", 1)
    dirs = env_part.split("=", 1)[1].replace("imported", str(tmp_path))
    linted = subprocess.run(
        [sys.executable, "-m", "proxy.cli", *shlex.split(lint)[1:]],
        cwd=ROOT,
        env={**os.environ, "YAMCP_INTEGRATIONS_DIRS": dirs},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert linted.returncode == 0, linted.stderr


def test_the_scorecard_says_what_the_readme_quotes() -> None:
    # bench/scorecard.py checks 257 hand-labelled operations (bench/scorecard_labels/); the
    # README quotes its overall line, and no answer may be wrong without a review line.
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "scorecard.py")],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    overall = next(line for line in run.stdout.splitlines() if line.startswith("overall"))
    got = dict(re.findall(r"(paging|auth|body|access) (\d+)/\d+", overall))
    total = int(re.search(r"(\d+) ops", overall).group(1))
    assert "silently wrong (0):" in run.stdout, run.stdout
    readme = " ".join((ROOT / "README.md").read_text().split())
    quoted = re.search(
        r"of (\d+) operations labelled by hand from the documents, paging comes out right "
        r"with no edit for (\d+) \((\d+) %\), auth for (\d+) \((\d+) %\), the body for (\d+) "
        r"and access for (\d+)",
        readme,
    )
    assert quoted, "the README no longer quotes the scorecard"
    n, paging, paging_pct, auth, auth_pct, body, access = map(int, quoted.groups())
    assert n == total
    assert (paging, auth, body, access) == tuple(int(got[f]) for f in ("paging", "auth", "body", "access"))  # fmt: skip
    assert (paging_pct, auth_pct) == (100 * paging // n, 100 * auth // n)
    assert paging_pct >= 90 and auth == n  # issue 25's bar: paging ≥ 90 %, auth all
