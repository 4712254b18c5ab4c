"""Logging: text or JSON lines, with MCP URL tokens and URL query strings redacted from
every record.

The audit line of each tool call is the one line on the hot path. Under load, a
logging record (record, filters, handler) cost ~30 µs of a ~220 µs call in the
benchmark, so once `configure` has set up the handler, `log_call` renders the line
with the same formatter and writes it to the same stream itself (~3 µs). Its fields
are ids and outcomes, never a token or an argument, so it needs no redaction.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Any

import orjson

# An MCP path however it is spelled: any case, any part percent-encoded (`/%6Dcp/`,
# `/mcp%2F`), doubled slashes. Only the canonical form is served, but every form that
# reaches a log line carries the same secret.
TOKEN_IN_PATH = re.compile(r"/(?:m|%6d)(?:c|%63)(?:p|%70)(?:/|%2f)+[^/\s?\"']*", re.IGNORECASE)
# And anything shaped like a token anywhere else (256 bits of URL-safe base64 is 43
# characters): a log line loses nothing it needs by not showing one.
TOKEN_LIKE = re.compile(r"[A-Za-z0-9_-]{40,}")
# The query string of any absolute URL: an upstream's URL carries a query-key credential
# there (`?key=...`), and an HTTP client's error ("error sending request for url (...)")
# quotes the whole URL. yamcp logs no upstream URL itself; this holds for a trace too.
URL_QUERY = re.compile(r"(\bhttps?://[^\s?#\"'<>]*)\?[^\s#\"'<>)]*", re.IGNORECASE)
audit = logging.getLogger("yamcp.audit")


def redact(text: str) -> str:
    text = URL_QUERY.sub(r"\1?<redacted>", text) if "://" in text else text
    return TOKEN_LIKE.sub("<redacted>", TOKEN_IN_PATH.sub("/mcp/<redacted>", text))


class RedactTokens(logging.Filter):
    """The access log prints paths, and an MCP path is a secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


class _Clock:
    """Formats each second once: strftime per line is a measurable cost per tool call."""

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def __call__(self, created: float) -> str:
        second = int(created)
        if second != self._second:
            self._second = second
            self._text = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(second))
        return self._text


class JsonFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        self._clock = _Clock()

    def format(self, record: logging.LogRecord) -> str:
        entry = self._entry(
            record.created,
            record.levelname,
            record.name,
            record.getMessage(),
            getattr(record, "fields", None),
        )
        if record.exc_info:  # one JSON object per line, the trace inside it
            entry["exception"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(entry).decode()

    def render(
        self, created: float, level: str, logger: str, message: str, fields: dict | None
    ) -> str:
        return orjson.dumps(self._entry(created, level, logger, message, fields)).decode()

    def _entry(
        self, created: float, level: str, logger: str, message: str, fields: dict | None
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "ts": self._clock(created),
            "level": level.lower(),
            "logger": logger,
            "message": message,
        }
        if fields:
            entry.update(fields)
        return entry


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        self._clock = _Clock()

    def format(self, record: logging.LogRecord) -> str:
        line = self.render(record.created, record.levelname, record.name, record.getMessage(), None)
        if record.exc_info:
            line += "\n" + redact(self.formatException(record.exc_info))
        fields = getattr(record, "fields", None)
        if fields:
            line += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        return line

    def render(
        self, created: float, level: str, logger: str, message: str, fields: dict | None
    ) -> str:
        line = f"{self._clock(created)} {level} {logger}: {message}"
        if fields:
            line += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        return line


_audit_handler: logging.StreamHandler | None = None  # set by `configure`


def configure(level: str = "info", fmt: str = "text") -> None:
    # The logging module's own switches for what no line here prints (its docs,
    # "Optimization"): finding the caller's frame is the dearest part of a record.
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging.logAsyncioTasks = False  # type: ignore[attr-defined,unused-ignore]  # 3.12+
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactTokens())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    global _audit_handler
    _audit_handler = handler
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
        logger.addFilter(RedactTokens())


def log_call(**fields: Any) -> None:
    """One audit line per tool call. Callers pass ids and outcomes, never arguments."""
    if not audit.isEnabledFor(logging.INFO):
        return
    handler = _audit_handler
    if handler is None or handler not in logging.getLogger().handlers:
        audit.info("tool call", extra={"fields": fields})  # logging set up by someone else
        return
    formatter: TextFormatter | JsonFormatter = handler.formatter  # type: ignore[assignment]
    line = formatter.render(time.time(), "INFO", audit.name, "tool call", fields)
    with handler.lock:  # type: ignore[union-attr]
        handler.stream.write(line + "\n")
        handler.stream.flush()
