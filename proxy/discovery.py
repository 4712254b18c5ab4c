"""Discovery mode: any number of tools behind three, so `tools/list` stays small.

A server with `tool_exposure: discovery` lists `search_tools`, `get_tool_schema` and
`call_tool` (Truto's names, so agents and prompts written for Truto work unchanged).
What they can find, describe and run is exactly what the server's policy exposes: the
index is built from the same decided tools `tools/list` would show, and `call_tool`
takes the same path as calling a tool directly.

Ranking is SQLite's FTS5 with BM25 and the Porter stemmer, which ship with Python: no
dependency, and an index per server view built once, in memory, in about a millisecond
for Postmark's 93 tools.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from typing import Any

from .tools import Tool

SEARCH, SCHEMA, CALL = "search_tools", "get_tool_schema", "call_tool"
INSTRUCTIONS = (
    "This server lists three tools: search_tools finds the tool for a task, "
    "get_tool_schema gives its arguments, call_tool runs it with them."
)
_HINTS = {"readOnlyHint": True, "destructiveHint": False, "idempotentHint": True}
DEFINITIONS: list[dict[str, Any]] = [
    {
        "name": SEARCH,
        "description": "Find the tools for a task, in plain words. Answers name, summary, "
        "access (read/write), whether a call needs a person's approval, and a score.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "The task, e.g. hard bounces."},
                "limit": {"type": "integer", "minimum": 1, "maximum": 20, "default": 5},
            },
            "required": ["query"],
        },
        "annotations": {**_HINTS, "openWorldHint": False},
    },
    {
        "name": SCHEMA,
        "description": "The full definition of one tool found by search_tools: its "
        "description, input schema and annotations.",
        "inputSchema": {
            "type": "object",
            "properties": {"name": {"type": "string"}},
            "required": ["name"],
        },
        "annotations": {**_HINTS, "openWorldHint": False},
    },
    {
        "name": CALL,
        "description": "Run a tool by name with its arguments (get_tool_schema gives "
        "them). Answers what the tool answers.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "arguments": {"type": "object"},
            },
            "required": ["name"],
        },
        "annotations": {
            "readOnlyHint": False,
            "destructiveHint": True,
            "idempotentHint": False,
            "openWorldHint": True,
        },
    },
]


@dataclass(frozen=True, slots=True)
class MetaTool:
    """One of the three: it stands in `ServerView.tools` where a manifest tool would."""

    name: str


META = {d["name"]: MetaTool(d["name"]) for d in DEFINITIONS}
_WORD = re.compile(r"[a-z0-9]+")
_ADDRESS = re.compile(r"\S+@\S+|https?://\S+")
_STOPWORDS = (  # words that say nothing about which tool
    "a an and are be by did do does for from how i in is it "
    "me my of on or our show that the their this to was what when which who why with"
)
_STOP = frozenset(_STOPWORDS.split())


def _words(text: str) -> str:
    return " ".join(_WORD.findall(text.replace("_", " ").lower()))


def _parameters(schema: dict[str, Any]) -> str:
    names = []
    for name, prop in (schema.get("properties") or {}).items():
        names.append(name)
        if isinstance(prop, dict) and prop.get("description"):
            names.append(str(prop["description"]))
    return " ".join(names)


# How people ask for each method, whatever the API: "show me", "find", "add", "remove".
KIND_WORDS = {
    "list": "list all find show search which lookup",
    "get": "get details one single look view",
    "create": "create add new send make start",
    "update": "update change edit modify rename set",
    "delete": "delete remove drop",
}


class ToolIndex:
    """The BM25 index of one server's tools: name, title, tags, resource, keywords the
    manifest gives, the description and the parameters, weighted in that order."""

    # bm25() column weights, in the column order below
    WEIGHTS = (6.0, 4.0, 3.0, 3.0, 5.0, 2.0, 1.0, 0.5)

    def __init__(self, tools: dict[str, Tool], approvals: frozenset[str]) -> None:
        self.tools = tools
        self.approvals = approvals
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute(
            "CREATE VIRTUAL TABLE tools USING fts5(name, title, tags, resource, keywords, "
            "kind, description, parameters, tokenize='porter unicode61')"
        )
        self._db.executemany(
            "INSERT INTO tools VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    _words(tool.name),
                    _words(tool.title),
                    _words(" ".join(sorted(tool.tags))),
                    _words(tool.resource),
                    _words(" ".join(tool.keywords)),
                    KIND_WORDS[tool.kind] + (" how many count rate" if "stat" in tool.name else ""),
                    _words(tool.definition.get("description", "")),
                    _words(_parameters(tool.input_schema)),
                )
                for tool in tools.values()
            ],
        )
        self._names = list(tools)

    def search(self, query: str, limit: int) -> list[dict[str, Any]]:
        # An address or URL in a task names whom it concerns, not which tool does it.
        words = _WORD.findall(_ADDRESS.sub(" ", query.lower()))
        terms = [w for w in words if w not in _STOP]
        if not terms:
            return []
        match = " OR ".join(f'"{t}"' for t in dict.fromkeys(terms))
        weights = ", ".join(str(w) for w in self.WEIGHTS)
        rows = self._db.execute(
            f"SELECT rowid, bm25(tools, {weights}) AS rank FROM tools WHERE tools MATCH ? "
            "ORDER BY rank LIMIT ?",
            (match, limit),
        ).fetchall()
        found = []
        for rowid, rank in rows:
            tool = self.tools[self._names[rowid - 1]]
            found.append(
                {
                    "name": tool.name,
                    "description": _first_sentence(tool.definition.get("description", "")),
                    "access": tool.access,
                    "needs_approval": tool.name in self.approvals,
                    "score": round(-rank, 3),
                }
            )
        return found


def _first_sentence(text: str) -> str:
    sentence = text.split(". ", 1)[0].strip()
    return sentence if len(sentence) <= 160 else sentence[:159] + "…"
