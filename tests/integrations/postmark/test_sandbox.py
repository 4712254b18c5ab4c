"""The sandbox: `yamcp serve --sandbox` and the Postmark simulator it serves.

The simulator (integrations/postmark/simulator/) is also the tests' fake: these tests check
what the sandbox promises on top. It renders templates as the send checks expect Postmark
to (mustachio.py, whose CASES table in tests/support/postmark_hooks.py is Mustachio's own
behaviour); its seed holds what the shipped policies' workflows need; it is stateful.
Then `yamcp serve --sandbox`, as a user starts it, runs those three workflows through the
official MCP SDK, needs no accounts file and no token, and never reaches anything but its
own simulator.
"""

from __future__ import annotations

import ast
import copy
import itertools
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp.shared.exceptions import MCPError
from starlette.testclient import TestClient

from proxy.errors import ConfigError
from proxy.registry import load_registry
from proxy.sandbox import Sandbox, with_sandbox
from tests.support.fake_postmark import FakePostmark, simulator
from tests.support.mcp_client import mcp_client
from tests.support.paths import ROOT
from tests.support.postmark_hooks import ALWAYS_BLANK, CASES, M, says
from tests.support.serving import free_port

MAILBOX_FULL = 692560179  # the seed's inactive, activatable soft bounce
SERVER = {"X-Postmark-Server-Token": simulator.CREDENTIALS["server_token"]}

# --- the simulator renders as Mustachio does ------------------------------------------------

SENTINEL = "S3NT1NEL"


def _render(template: str, model: Any) -> str | None:
    """What the simulator renders (a strict parse, as it parses a stored template)."""
    try:
        return M.render(M.parse(template, strict=True), model, escape=False)
    except M.RenderError:
        return None


def _with_value(model: Any, path: str, value: str) -> Any:
    """A copy of `model` where the checker's path (`a.b`, `items[1].title`) holds `value`,
    replacing whatever stood in the way."""
    model = copy.deepcopy(model)
    steps: list[str | int] = [
        int(s[1:-1]) if s.startswith("[") else s for s in re.findall(r"\[\d+\]|[^.\[\]]+", path)
    ]
    holder = model
    for step, following in itertools.pairwise(steps):
        nxt = holder[step] if isinstance(holder, dict | list) and _has(holder, step) else None
        if not isinstance(nxt, dict | list) or isinstance(following, str) != isinstance(nxt, dict):
            nxt = {} if isinstance(following, str) else [{} for _ in range(following + 1)]
            holder[step] = nxt
        holder = nxt
    holder[steps[-1]] = value
    return model


def _has(holder: dict | list, step: str | int) -> bool:
    if isinstance(holder, dict):
        return step in holder
    return isinstance(step, int) and step < len(holder)


@pytest.mark.parametrize(("template", "model", "rendered", "problems"), CASES)
def test_the_simulator_renders_what_mustachio_renders_and_the_check_expects(
    template: str, model: Any, rendered: str | None, problems: list[Any]
) -> None:
    assert _render(template, model) == rendered
    found = M.check(M.parse(template), model)
    assert len(found) == len(problems) and all(map(says, found, problems)), found
    # The checker says "fails to render" exactly when Mustachio fails to render.
    assert (rendered is None) == any("fails to render" in p for p in found)
    # Each path the checker names as printing blank is one the renderer reads there: given
    # a value, the value shows; unless no model can fill it, and then it still does not.
    for problem in found:
        if "fails to render" in problem:
            continue
        path = problem.split(": ", 1)[0]
        shown = SENTINEL in (_render(template, _with_value(model, path, SENTINEL)) or "")
        assert shown != (ALWAYS_BLANK in problem), problem


def test_placeholders_are_not_model_variables() -> None:
    template = "{{{ pm:unsubscribe }}}{{{@content}}}{{name}}"
    nodes = M.parse(template, strict=True)
    suggested = M.suggested_model(M.infer(template))
    assert suggested == {"name": "name_Value"}
    model = {"pm:unsubscribe": "leak", "@content": "leak", "name": "Ann"}
    assert M.render(M.with_layout(nodes, M.parse("<p>")), model, escape=True) == "<p>Ann"


# --- the simulator's seed and state ---------------------------------------------------------


@pytest.fixture
def sim() -> Iterator[TestClient]:
    with TestClient(simulator.sandbox_app(), headers=SERVER) as client:
        yield client


def test_the_seed_holds_what_the_shipped_workflows_need(sim: TestClient) -> None:
    page = {"count": 500, "offset": 0}
    bounces = sim.get("/bounces", params=page).json()["Bounces"]
    assert {"HardBounce", "SoftBounce", "Transient", "SpamComplaint"} <= {
        b["Type"] for b in bounces
    }
    full = next(b for b in bounces if b["ID"] == MAILBOX_FULL)
    assert (full["Type"], full["Inactive"], full["CanActivate"], full["DumpAvailable"]) == (
        "SoftBounce",
        True,
        True,
        True,
    )
    dump = sim.get(f"/bounces/{MAILBOX_FULL}/dump").json()["Body"]
    assert "552 5.2.2" in dump and "mailbox is full" in dump
    assert any(b["Type"] == "HardBounce" and b["Inactive"] for b in bounces)
    stats = sim.get("/deliverystats").json()
    assert stats["InactiveMails"] == 5 and stats["Bounces"][0] == {"Name": "All", "Count": 7}
    streams = sim.get("/message-streams").json()["MessageStreams"]
    assert {s["MessageStreamType"] for s in streams} == {"Transactional", "Broadcasts", "Inbound"}
    templates = sim.get("/templates", params=page).json()["Templates"]
    laid_out = [
        sim.get(f"/templates/{t['TemplateId']}").json() for t in templates if t["LayoutTemplate"]
    ]
    assert any("{{#each" in t["HtmlBody"] for t in laid_out)
    assert sim.get("/messages/outbound", params=page).json()["TotalCount"] >= 4


def test_sends_are_listed_with_the_message_id_they_answered(sim: TestClient) -> None:
    message = {"From": "sender@example.com", "To": "customer@example.com", "Subject": "Hi"}
    plain = sim.post("/email", json={**message, "TextBody": "plain"}).json()["MessageID"]
    model = {"name": "Ann", "product_name": "Acme", "company": {"address": "1 Road"}}
    templated = sim.post(
        "/email/withTemplate",
        json={**message, "TemplateAlias": "welcome", "TemplateModel": {**model, "items": []}},
    ).json()["MessageID"]
    batch = sim.post("/email/batch", json=[{**message, "TextBody": "one"}]).json()
    listed = sim.get("/messages/outbound", params={"count": 500, "offset": 0}).json()
    ids = [m["MessageID"] for m in listed["Messages"]]
    assert {plain, templated, batch[0]["MessageID"]} <= set(ids)
    details = sim.get(f"/messages/outbound/{templated}/details").json()
    assert details["Subject"] == "Welcome to Acme, Ann!"
    assert "<footer>1 Road</footer>" in details["HtmlBody"]  # rendered in its layout


def test_activation_and_template_edits_change_what_follows(sim: TestClient) -> None:
    assert sim.put(f"/bounces/{MAILBOX_FULL}/activate").json()["Bounce"]["Inactive"] is False
    assert sim.get(f"/bounces/{MAILBOX_FULL}").json()["Inactive"] is False
    assert sim.get("/deliverystats").json()["InactiveMails"] == 4
    edited = sim.put("/templates/password-reset", json={"Subject": "Reset, {{name}}: {{code}}"})
    assert edited.status_code == 200
    message = {"From": "sender@example.com", "To": "customer@example.com"}
    sent = sim.post(
        "/email/withTemplate",
        json={**message, "TemplateAlias": "password-reset", "TemplateModel": {"name": "Ann"}},
    ).json()["MessageID"]
    assert sim.get(f"/messages/outbound/{sent}/details").json()["Subject"] == "Reset, Ann: "


def test_a_templated_send_that_fails_to_render_bounces(sim: TestClient) -> None:
    """Postmark accepts it, then reports a TemplateRenderingFailed bounce."""
    answer = sim.post(
        "/email/withTemplate",
        json={
            "From": "sender@example.com",
            "To": "customer@example.com",
            "TemplateAlias": "welcome",
            "TemplateModel": {"name": "Ann", "items": "not a list"},
        },
    ).json()
    assert answer["ErrorCode"] == 0
    bounces = sim.get(
        "/bounces", params={"count": 10, "offset": 0, "messageID": answer["MessageID"]}
    ).json()["Bounces"]
    assert [(b["Type"], b["Email"]) for b in bounces] == [
        ("TemplateRenderingFailed", "customer@example.com")
    ]
    assert "'items' is used like an array" in bounces[0]["Details"]


def test_the_tests_fake_is_the_simulator() -> None:
    assert issubclass(FakePostmark, simulator.PostmarkSimulator)
    assert "def dispatch(" not in (ROOT / "tests" / "support" / "fake_postmark.py").read_text()


# --- `yamcp serve --sandbox` ------------------------------------------------------------------


@dataclass
class Served:
    """A running `yamcp serve --sandbox` and the URLs it printed: `url` has every tool the
    guardrails allow, `policy[name]` the named policy's."""

    proc: subprocess.Popen
    url: str
    policy: dict[str, str]
    cwd: Path
    stderr: list[str]


def _link_checkout(cwd: Path) -> None:
    """A folder laid out like the checkout: `yamcp serve --sandbox` is run "in this folder"."""
    cwd.mkdir(exist_ok=True)
    for name in ("integrations", "policies"):
        (cwd / name).symlink_to(ROOT / name)


def _pipe(stream: Any, into: queue.Queue[str], keep: list[str] | None = None) -> None:
    for line in iter(stream.readline, ""):
        into.put(line)
        if keep is not None:
            keep.append(line)


def serve_sandbox(
    cwd: Path, *args: str, env: dict[str, str] | None = None, expect_urls: bool = True
) -> Served:
    """`python -m proxy.cli serve --sandbox` in `cwd`, with no YAMCP_* and no Postmark token
    in its environment (coverage's own variables stay, so the process measures itself)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("YAMCP_", "POSTMARK_"))}
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "proxy.cli", "serve", "--sandbox", *args, "--port", str(port)],
        cwd=cwd,
        env=clean | (env or {}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    errors: list[str] = []
    threading.Thread(target=_pipe, args=(proc.stdout, lines), daemon=True).start()
    threading.Thread(target=_pipe, args=(proc.stderr, queue.Queue(), errors), daemon=True).start()
    served = Served(proc, "", {}, cwd, errors)
    if not expect_urls:
        return served
    named = sorted(p.stem for p in (ROOT / "policies").glob("*.yaml") if p.stem != "guardrails")
    try:
        while not served.url or set(served.policy) != set(named):
            line = lines.get(timeout=30).strip()
            found = re.fullmatch(
                r"(http://127\.0\.0\.1:\d+/mcp/[\w-]+)(?:\s+\(policy (\S+)\))?", line
            )
            assert found, f"not a URL line: {line!r}"
            if found.group(2):
                served.policy[found.group(2)] = found.group(1)
            else:
                served.url = found.group(1)
    except queue.Empty:
        stop(served)
        raise AssertionError(f"no URLs printed; stderr: {''.join(errors)}") from None
    assert served.url.startswith(f"http://127.0.0.1:{port}/mcp/")
    return served


def stop(served: Served) -> None:
    served.proc.terminate()
    try:
        served.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        served.proc.kill()
        served.proc.wait()


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Served]:
    cwd = tmp_path / "checkout"
    _link_checkout(cwd)
    served = serve_sandbox(cwd)
    yield served
    stop(served)


async def _call(url: str, tool: str, arguments: dict[str, Any], checker: Any = None) -> Any:
    async with mcp_client(url, checker) as client:
        return await client.call_tool(tool, arguments)


async def _ok(url: str, tool: str, arguments: dict[str, Any], checker: Any = None) -> Any:
    result = await _call(url, tool, arguments, checker)
    assert not result.is_error, result.content
    return result.structured_content


async def test_bounce_triage_finds_reads_and_reactivates(
    sandbox: Served, schema_checker: Any
) -> None:
    """policies/bounce-triage.yaml finds the bounces and reads the dump; the deliverability
    policy reactivates; the triage agent then sees the address active again."""
    triage = sandbox.policy["bounce-triage"]
    found = await _ok(triage, "list_all_postmark_bounces", {"inactive": True}, schema_checker)
    kinds = {b["ID"]: b["Type"] for b in found["result"]}
    assert kinds[MAILBOX_FULL] == "SoftBounce" and "HardBounce" in kinds.values()
    dump = await _ok(triage, "get_single_postmark_bounce_dump_by_id", {"id": MAILBOX_FULL})
    assert "552 5.2.2" in dump["Body"] and "mailbox is full" in dump["Body"]
    async with mcp_client(triage) as client:
        with pytest.raises(MCPError) as info:  # read-only: not one of its tools
            await client.call_tool("create_a_postmark_bounce_activation", {"id": MAILBOX_FULL})
        assert info.value.error.code == -32602

    manage = sandbox.policy["deliverability"]
    activated = await _ok(manage, "create_a_postmark_bounce_activation", {"id": MAILBOX_FULL})
    assert activated["Bounce"]["Inactive"] is False
    bounce = await _ok(triage, "get_single_postmark_bounce_by_id", {"id": MAILBOX_FULL})
    assert bounce["Inactive"] is False
    still = await _ok(triage, "list_all_postmark_bounces", {"inactive": True})
    assert MAILBOX_FULL not in {b["ID"] for b in still["result"]}


async def test_deliverability_reads_stats_and_sends(sandbox: Served) -> None:
    manage = sandbox.policy["deliverability"]
    stats = await _ok(manage, "get_single_postmark_delivery_stat_by_id", {})
    assert stats["InactiveMails"] == 5
    await _ok(manage, "create_a_postmark_bounce_activation", {"id": MAILBOX_FULL})
    assert (await _ok(manage, "get_single_postmark_delivery_stat_by_id", {}))["InactiveMails"] == 4
    sent = await _ok(
        manage,
        "create_a_postmark_email",
        {
            "From": "sender@example.com",
            "To": "mia@example.com",
            "Subject": "Your mailbox works again",
            "TextBody": "We reactivated your address.",
            "MessageStream": "outbound",
        },
    )
    listed = await _ok(manage, "list_all_postmark_outbound_messages", {"recipient": "mia@"})
    assert sent["MessageID"] in [m["MessageID"] for m in listed["result"]]
    details = await _ok(
        manage, "get_single_postmark_outbound_message_by_id", {"id": sent["MessageID"]}
    )
    assert details["Subject"] == "Your mailbox works again"


WELCOME = {
    "name": "Ann",
    "product_name": "Acme",
    "items": [{"title": "Docs"}],
    "company": {"address": "1 Road"},
}


async def test_transactional_sender_sends_and_sees_template_edits(sandbox: Served) -> None:
    sender = sandbox.policy["transactional-sender"]
    expected = await _ok(sender, "get_single_postmark_template_model_by_id", {"id": "welcome"})
    assert set(expected["TemplateModel"]) == set(WELCOME)
    send = {
        "From": "sender@example.com",
        "To": "customer@example.com",
        "TemplateAlias": "welcome",
        "TemplateModel": WELCOME,
        "MessageStream": "outbound",
    }
    first = await _ok(sender, "create_a_postmark_templated_email", send)
    details = await _ok(
        sandbox.url, "get_single_postmark_outbound_message_by_id", {"id": first["MessageID"]}
    )
    assert details["Subject"] == "Welcome to Acme, Ann!" and "<li>Docs</li>" in details["HtmlBody"]

    template = await _ok(sandbox.url, "get_single_postmark_template_by_id", {"id": "welcome"})
    edited = template["HtmlBody"] + "<p>Order {{order_number}}</p>"
    await _ok(
        sandbox.url, "update_a_postmark_template_by_id", {"id": "welcome", "HtmlBody": edited}
    )
    refused = await _call(sender, "create_a_postmark_templated_email", send)
    assert refused.is_error and "order_number: missing" in refused.content[0].text
    model = {**WELCOME, "order_number": "A-1001"}
    second = await _ok(
        sender, "create_a_postmark_templated_email", {**send, "TemplateModel": model}
    )
    details = await _ok(
        sandbox.url, "get_single_postmark_outbound_message_by_id", {"id": second["MessageID"]}
    )
    assert "<p>Order A-1001</p>" in details["HtmlBody"]


async def test_the_readme_snippet_runs_bounce_triage(sandbox: Served) -> None:
    """The README's first Python snippet, as pasted into `python -m asyncio`."""
    readme = (ROOT / "README.md").read_text()
    setup = readme.split("## Set up", 1)[1]
    snippet = re.search(r"```python\n(.*?)```", setup, re.S).group(1)
    lines = [line for line in snippet.splitlines() if line.strip()]
    assert len(lines) == 5  # the import, the client, one line a step
    assert "http://127.0.0.1:8000/mcp/<token>" in snippet
    code = compile(
        snippet.replace("http://127.0.0.1:8000/mcp/<token>", sandbox.url),
        "README.md",
        "exec",
        flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
    )
    printed: list[str] = []
    namespace = {"print": lambda *a: printed.append(" ".join(map(str, a)))}
    coroutine = eval(code, namespace)
    if coroutine is not None:
        await coroutine
    text = "\n".join(printed)
    assert "552 5.2.2" in text and "'Inactive': False" in text
    bounce = await _ok(sandbox.url, "get_single_postmark_bounce_by_id", {"id": MAILBOX_FULL})
    assert bounce["Inactive"] is False


async def test_needs_no_accounts_file_no_token_and_no_data_folder(tmp_path: Path) -> None:
    """No accounts file, no Postmark token, no API token; and it keeps to itself even when
    the environment names a data folder and a shared Redis."""
    cwd = tmp_path / "checkout"
    _link_checkout(cwd)
    prefix = f"yamcp-sandbox-test-{os.getpid()}:"
    served = serve_sandbox(
        cwd,
        env={
            "YAMCP_DATA_DIR": str(cwd / "data"),
            "YAMCP_STORE_URL": "redis://127.0.0.1:6379/0",
            "YAMCP_STORE_PREFIX": prefix,
        },
    )
    try:
        async with mcp_client(served.url) as client:  # no Authorization header
            names = {t.name for t in (await client.list_tools()).tools}
            result = await client.call_tool("list_all_postmark_bounces", {"limit": 1})
        assert not result.is_error and "create_a_postmark_templated_email" in names
        assert "list_all_postmark_servers" not in names  # the guardrails still apply
    finally:
        stop(served)
    assert sorted(p.name for p in cwd.iterdir()) == ["integrations", "policies"]
    import redis

    with redis.Redis.from_url("redis://127.0.0.1:6379/0") as raw:
        assert list(raw.scan_iter(f"{prefix}*")) == []


async def test_the_sandbox_account_cannot_be_pointed_elsewhere(
    tmp_path: Path, postmark: FakePostmark
) -> None:
    """An accounts file (here or named by YAMCP_ACCOUNTS_FILE) with a `sandbox` account on
    another Postmark changes nothing: the sandbox reads no accounts file, and its account's
    base URL is its simulator's."""
    cwd = tmp_path / "checkout"
    _link_checkout(cwd)
    accounts = (
        "accounts:\n  sandbox:\n    integration: postmark\n"
        f"    base_url: {postmark.url}\n"
        "    credentials:\n      server_token: ${POSTMARK_SERVER_TOKEN}\n"
    )
    (cwd / "accounts.yaml").write_text(accounts)
    served = serve_sandbox(
        cwd,
        "postmark",
        env={
            "YAMCP_ACCOUNTS_FILE": str(cwd / "accounts.yaml"),
            "POSTMARK_SERVER_TOKEN": postmark.server_token,
        },
    )
    try:
        found = await _ok(served.url, "list_all_postmark_bounces", {"inactive": True})
        assert MAILBOX_FULL in {b["ID"] for b in found["result"]}
        await _ok(served.url, "create_a_postmark_bounce_activation", {"id": MAILBOX_FULL})
    finally:
        stop(served)
    assert postmark.requests == []
    assert postmark.state.bounces == simulator.seed_state(postmark.server_token).bounces
    said = "".join(served.stderr)
    assert re.search(r"simulated in memory at http://127\.0\.0\.1:\d+;", said), said


def test_the_account_is_the_simulator_on_loopback() -> None:
    registry = load_registry([ROOT / "integrations"])
    integration = with_sandbox(registry)
    assert integration.name == "postmark"
    assert integration.sandbox == ROOT / "integrations" / "postmark" / "sandbox.py"
    box = Sandbox(integration).start()
    try:
        account = box.account()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", account.base_url or "")
        assert account.base_url == box.url and account.id == "sandbox"
        assert account.credentials == simulator.CREDENTIALS
        with TestClient(box.app) as direct:  # the app it serves is a fresh simulator
            assert direct.get("/server", headers=SERVER).json()["ID"] == simulator.SERVER_ID
    finally:
        box.stop()
    with pytest.raises(ConfigError, match="no integration 'nager_date' ships a sandbox"):
        with_sandbox(registry, "nager_date")


def test_serve_names_the_integration_or_refuses(tmp_path: Path) -> None:
    cwd = tmp_path / "checkout"
    _link_checkout(cwd)
    served = serve_sandbox(cwd, "nager_date", expect_urls=False)
    assert served.proc.wait(timeout=30) == 2
    time.sleep(0.2)  # the stderr reader's last line
    assert "no integration 'nager_date' ships a sandbox (have: postmark)" in "".join(served.stderr)


def _integration(folder: Path, sandbox: str, module: str | None = None) -> Path:
    folder.mkdir(parents=True)
    (folder / "manifest.yaml").write_text(
        "name: widgets\ntitle: Widgets\nbase_url: https://widgets.invalid\n"
        "credentials:\n  key: {header: X-Key, secret: api_key}\n"
        "pagination: {style: page, limit_param: per_page, page_param: page, items: data}\n"
        f"sandbox: {sandbox}\n"
        "resources:\n  widget:\n    tags: [widgets]\n    methods:\n"
        "      list: {http: GET /widgets, description: List widgets.}\n"
    )
    if module is not None:
        (folder / "sim.py").write_text(module)
    return folder


@pytest.mark.parametrize("sandbox", ["missing.py", "../outside.py", "manifest.yaml"])
def test_the_manifest_names_a_python_file_in_its_folder(tmp_path: Path, sandbox: str) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "outside.py").write_text("")  # a real Python file, but not its own
    _integration(tmp_path / "x" / "widgets", sandbox)
    with pytest.raises(ConfigError) as info:
        load_registry([tmp_path / "x"])
    assert info.value.path == "sandbox" and "no such Python file in this folder" in str(info.value)


@pytest.mark.parametrize(
    ("module", "problem"),
    [
        ("CREDENTIALS = {'api_key': 'k'}\n", "sandbox_app: must be a function"),
        ("def sandbox_app(): ...\nCREDENTIALS = {'other': 'k'}\n", "must map exactly"),
        ("raise RuntimeError('boom')\n", "failed to import"),
    ],
)
def test_a_sandbox_module_must_keep_the_contract(tmp_path: Path, module: str, problem: str) -> None:
    _integration(tmp_path / "x" / "widgets", "sim.py", module)
    integration = load_registry([tmp_path / "x"]).integrations["widgets"]
    sys.modules.pop("yamcp_integrations.widgets.sim", None)
    with pytest.raises(ConfigError, match=problem):
        Sandbox(integration)
    sys.modules.pop("yamcp_integrations.widgets.sim", None)


@pytest.mark.parametrize("package", [False, True])
def test_a_sandbox_module_imports_its_neighbours(tmp_path: Path, package: bool) -> None:
    """The folder is imported as one package (with or without an `__init__.py`): the sandbox
    module imports a neighbour relatively, loading again answers the same module, and a
    folder of the same name elsewhere replaces it."""
    sim = "from .parts import CREDENTIALS, sandbox_app\n"
    parts = "CREDENTIALS = {'api_key': 'k'}\n\ndef sandbox_app():\n    return 'app'\n"
    modules = []
    for copy_name in ("one", "two"):
        folder = _integration(tmp_path / copy_name / "widgets", "sim.py", sim)
        (folder / "parts.py").write_text(parts.replace("'app'", repr(copy_name)))
        if package:
            (folder / "__init__.py").write_text("")
        integration = load_registry([folder.parent]).integrations["widgets"]
        assert Sandbox(integration).app == copy_name
        modules.append(sys.modules["yamcp_integrations.widgets.sim"])
        assert Sandbox(integration).app == copy_name
        assert sys.modules["yamcp_integrations.widgets.sim"] is modules[-1]
    assert modules[0] is not modules[1]


def test_with_several_sandboxes_one_must_be_named(tmp_path: Path) -> None:
    _integration(tmp_path / "widgets", "sim.py", "")
    registry = load_registry([ROOT / "integrations", tmp_path])
    with pytest.raises(ConfigError, match="several integrations ship one"):
        with_sandbox(registry)
    assert with_sandbox(registry, "widgets").name == "widgets"
    (tmp_path / "none").mkdir()
    with pytest.raises(ConfigError, match="no integration ships a sandbox"):
        with_sandbox(load_registry([tmp_path / "none"]))


async def test_the_welcome_email_waits_for_a_person_in_the_sandbox(sandbox: Served) -> None:
    """The seed's welcome-email prompt under transactional-sender-approved: nothing goes
    out until someone approves it with the sandbox admin token the sandbox printed."""
    found = None
    for _ in range(100):
        found = re.search(r"sandbox admin token: (\S+)", "".join(sandbox.stderr))
        if found:
            break
        time.sleep(0.05)
    assert found, "".join(sandbox.stderr)
    sender = sandbox.policy["transactional-sender-approved"]
    send = {
        "From": "sender@example.com",
        "To": "customer@example.com",
        "TemplateAlias": "welcome",
        "TemplateModel": WELCOME,
    }
    held = await _ok(sender, "create_a_postmark_templated_email", send)
    assert held["status"] == "approval_required"
    base = sender.split("/mcp/")[0]
    page = httpx.get(held["approval_url"], timeout=10)
    assert "Welcome to Acme, Ann!" in page.text
    approved = httpx.post(
        held["approval_url"],
        data={"credential": found.group(1), "decision": "approve"},
        headers={"origin": base},
        timeout=10,
    )
    assert approved.status_code == 200 and "approved by admin" in approved.text
    sent = await _ok(sender, "create_a_postmark_templated_email", send)
    details = await _ok(
        sandbox.url, "get_single_postmark_outbound_message_by_id", {"id": sent["MessageID"]}
    )
    assert details["Subject"] == "Welcome to Acme, Ann!"
