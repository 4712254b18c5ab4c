"""Log lines: the audit line's own fast path writes what the logging module would, and no
spelling of an MCP path puts its token in a `yamcp serve` log."""

from __future__ import annotations

import json
import logging
import time

import httpx
import pytest

from proxy import logs
from tests.support.serving import Yamcp


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_audit_line_in_json_matches_the_logging_format(restore_logging, capsys) -> None:
    logs.configure("info", "json")
    logs.log_call(server="srv_1", account="acme", tool="t", status=200, outcome="ok", ms=1.5)
    logging.getLogger("yamcp").info("served %s", "/mcp/secret-token-123")
    first, second = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert first == {
        "ts": first["ts"],
        "level": "info",
        "logger": "yamcp.audit",
        "message": "tool call",
        "server": "srv_1",
        "account": "acme",
        "tool": "t",
        "status": 200,
        "outcome": "ok",
        "ms": 1.5,
    }
    assert second["message"] == "served /mcp/<redacted>"
    assert second.keys() == {"ts", "level", "logger", "message"}
    assert first["ts"][:10] == second["ts"][:10]


def test_audit_line_in_text(restore_logging, capsys) -> None:
    logs.configure("info", "text")
    logs.log_call(server="srv_1", tool="t", outcome="ok")
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith(" INFO yamcp.audit: tool call server=srv_1 tool=t outcome=ok")


def test_no_audit_line_below_its_level(restore_logging, capsys) -> None:
    logs.configure("warning", "json")
    logs.log_call(server="srv_1", tool="t", outcome="ok")
    assert capsys.readouterr().err == ""


def test_audit_line_goes_through_logging_when_someone_else_configured_it(
    restore_logging, caplog
) -> None:
    logs.configure("info", "json")
    logging.getLogger().handlers[:] = [caplog.handler]  # an embedding app replaced ours
    with caplog.at_level(logging.INFO, logger="yamcp.audit"):
        logs.log_call(server="srv_1", tool="t", outcome="ok")
    (record,) = caplog.records
    assert record.fields == {"server": "srv_1", "tool": "t", "outcome": "ok"}


def test_an_exception_stays_on_its_json_line(restore_logging, capsys) -> None:
    logs.configure("info", "json")
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("yamcp").exception("tool call failed inside yamcp")
    (line,) = capsys.readouterr().err.splitlines()
    entry = json.loads(line)
    assert entry["level"] == "error"
    assert "ValueError: boom" in entry["exception"]


# --- only the canonical path serves, and every form of it is redacted (issue 13's review) ---


@pytest.fixture(scope="module")
async def url(yamcp: Yamcp) -> str:
    return await yamcp.mint()


@pytest.mark.parametrize(
    "form",
    [
        "/%6Dcp/{t}",
        "/%6dcp/{t}",
        "/mcp%2F{t}",
        "/mcp%2f{t}",
        "/MCP/{t}",
        "/Mcp/{t}",
        "/mcp/{t}/",
        "/mcp//{t}",
        "/mcp/%2F{t}",
        "/mcp/{t}%00",
    ],
)
def test_only_the_canonical_path_serves_and_no_form_is_logged(
    yamcp: Yamcp, url: str, form: str
) -> None:
    token = url.rsplit("/", 1)[1]
    raw = form.format(t=token)
    with httpx.Client(base_url=yamcp.base, timeout=10) as client:
        response = client.post(
            httpx.URL(yamcp.base).copy_with(raw_path=raw.encode()),
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {}},
            },
        )
    assert response.status_code == 404
    time.sleep(0.2)  # let the access log line land
    log = yamcp.log()
    assert token not in log
    assert token[5:25] not in log
