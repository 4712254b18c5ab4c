"""Log lines: the audit line's own fast path writes what the logging module would."""

from __future__ import annotations

import json
import logging

import pytest

from proxy import logs


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
