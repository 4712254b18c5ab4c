"""A bug inside yamcp during a tool call: the caller gets a tool error it can act on, the
log gets the traceback, the metrics count it, and the process goes on serving.

The bug is real code that raises: a check in a drop-in integration's hooks that fails with
an exception yamcp does not know (not `HookRefused`), run by a real `yamcp serve`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.fake_postmark import FakePostmark
from tests.support.json_upstream import JsonHandler, serving
from tests.support.mcp_client import mcp_client
from tests.support.paths import ROOT
from tests.support.serving import Yamcp, start_yamcp, stop_yamcp, write_workdir

MANIFEST = """\
name: brittle
title: Brittle
base_url: https://brittle.invalid
hooks: hooks.py
credentials:
  key: {header: Authorization, secret: api_key, prefix: "Bearer "}
resources:
  note:
    tags: [notes]
    methods:
      create:
        http: POST /notes
        description: Write a note.
        body:
          text: {type: string}
        required: [text]
        checks: [check_note]
      get:
        http: GET /notes/{id}
        description: One note by its ID.
        path:
          id: {type: string}
"""

HOOKS = '''\
async def check_note(ctx, arguments):
    """A check with a bug: it indexes a key the arguments do not have."""
    return arguments["title"].strip()
'''


class Notes(JsonHandler):
    seen: list[str] = []

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        Notes.seen.append(f"{self.command} {self.path}")
        self.send_json({"id": self.path.rsplit("/", 1)[-1], "text": "hello"})


@pytest.fixture(scope="module")
def brittle(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Yamcp]:
    with serving(Notes) as upstream:
        yield from _brittle(fake_postmark, tmp_path_factory, upstream)


def _brittle(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory, upstream: str
) -> Iterator[Yamcp]:
    workdir = tmp_path_factory.mktemp("brittle")
    extra = workdir / "integrations" / "brittle"
    extra.mkdir(parents=True)
    (extra / "manifest.yaml").write_text(MANIFEST)
    (extra / "hooks.py").write_text(HOOKS)
    write_workdir(
        workdir,
        fake_postmark.url,
        "  notes:\n"
        "    integration: brittle\n"
        f"    base_url: {upstream}\n"
        "    credentials:\n"
        "      api_key: ${BRITTLE_KEY}\n",
    )
    server = start_yamcp(
        workdir,
        {
            "YAMCP_INTEGRATIONS_DIRS": f"{ROOT / 'integrations'},{extra.parent}",
            "BRITTLE_KEY": "brittle-secret",
        },
    )
    yield server
    stop_yamcp(server)


async def test_a_bug_in_a_call_is_an_internal_error_result_and_the_server_goes_on(
    brittle: Yamcp,
) -> None:
    url = await brittle.mint(account="notes")
    token = url.rsplit("/", 1)[1]
    Notes.seen.clear()
    async with mcp_client(url) as client:
        broken = await client.call_tool("create_a_brittle_note", {"text": "hi"})
        # The same connection and server serve the next call.
        fine = await client.call_tool("get_single_brittle_note_by_id", {"id": "n1"})

    assert broken.is_error
    error = broken.structured_content["error"]
    assert error["type"] == "internal_error"
    assert error["message"] == (
        "yamcp failed to handle this call (a bug; see its log). If it got as far as the "
        "upstream, the request may have taken effect: check before repeating a write."
    )
    assert broken.content[0].text == error["message"]
    assert "KeyError" not in json.dumps(broken.structured_content)  # no internals to the model
    assert not fine.is_error and fine.structured_content == {"id": "n1", "text": "hello"}
    assert Notes.seen == ["GET /notes/n1"]  # the failed check stopped the write

    server_id = json.loads(brittle.cli("servers", "list", "--json").stdout)[0]["id"]
    failures = [
        json.loads(line)
        for line in brittle.log().splitlines()
        if "tool call failed inside yamcp" in line
    ]
    assert len(failures) == 1
    logged = json.dumps(failures[0])
    assert f"server={server_id} tool=create_a_brittle_note" in logged
    assert "KeyError" in logged and "check_note" in logged  # the traceback, for whoever fixes it
    assert token not in brittle.log()

    metrics = httpx.get(f"{brittle.base}/metrics").text
    counted = re.search(
        r'^yamcp_tool_calls_total\{[^}]*outcome="internal_error"[^}]*\} (\S+)$', metrics, re.M
    )
    assert counted and float(counted.group(1)) == 1.0, metrics
    assert 'tool="create_a_brittle_note"' in counted.group(0)


# --- a bug outside any tool call, in the app itself: a JSON-RPC 500 the metrics count, with
# no token in it (issue 13's review). In process: the bug is a store that raises. ---


async def test_a_bug_inside_yamcp_is_a_counted_json_500(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from proxy.app import create_app
    from proxy.metrics import MCP_REQUESTS
    from proxy.settings import Settings

    app = create_app(
        Settings(
            _env_file=None,
            data_dir=tmp_path,
            accounts_file=tmp_path / "none.yaml",
            integrations_dirs=[ROOT / "integrations"],
            policies_dir=ROOT / "policies",
        )
    )

    async def broken(token_hash: str) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(app.gateway.store, "resolve", broken)
    before = MCP_REQUESTS.labels("500")._value.get()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        response = await client.post("/mcp/sometoken", json={"jsonrpc": "2.0", "id": 1})
    assert response.status_code == 500
    assert response.json()["error"]["code"] == -32603
    assert "sometoken" not in response.text
    assert MCP_REQUESTS.labels("500")._value.get() == before + 1
