"""The Postmark manifest against Postmark's endpoint inventory, and its README against the manifest.

tests/data/postmark_endpoints.tsv holds the method, path and status of every endpoint of the
inventory. Every endpoint whose status is current needs a tool with the same method and path
(parameter names aside), and every tool must be one of those endpoints. The tools table of
integrations/postmark/README.md is generated from the registry by `tools_table()`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.paths import ROOT
from tests.support.postmark_inventory import endpoints, postmark_tools, registry, route

README = ROOT / "integrations" / "postmark" / "README.md"
BEGIN, END = "<!-- tools:begin -->", "<!-- tools:end -->"
HINTS = ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")


def test_the_endpoint_file_is_the_inventory() -> None:
    rows = endpoints()
    assert rows and set(rows[0]) == {"method", "path", "status"}
    assert all(row["method"] and row["path"].startswith("/") and row["status"] for row in rows)
    assert len({route(r["method"], r["path"]) for r in rows}) == len(rows)


def test_every_current_endpoint_has_a_tool() -> None:
    covered = {route(t.http_method, t.path) for t in postmark_tools()}
    missing = [
        f"{row['method']} {row['path']} ({row['status']})"
        for row in endpoints()
        if row["status"].startswith("current") and route(row["method"], row["path"]) not in covered
    ]
    assert missing == [], "current Postmark endpoints without a tool"


def test_every_tool_is_an_endpoint() -> None:
    known = {route(row["method"], row["path"]) for row in endpoints()}
    unknown = [
        f"{t.name}: {t.http_method} {t.path}"
        for t in postmark_tools()
        if route(t.http_method, t.path) not in known
    ]
    assert unknown == [], "tools whose method and path are no Postmark endpoint"


def test_tools_cli_lists_every_tool_with_all_hints() -> None:
    env = {**os.environ, "YAMCP_INTEGRATIONS_DIRS": str(ROOT / "integrations")}
    out = subprocess.run(
        [sys.executable, "-m", "proxy.cli", "tools", "--integration", "postmark", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    rows = json.loads(out)
    assert [row["name"] for row in rows] == [t.name for t in postmark_tools()]
    for row in rows:
        for key in ("name", "title", "http_method", "path", "method", "tags", "annotations"):
            assert row.get(key), f"{row.get('name')}: no {key}"
        assert row["http_method"] in ("GET", "POST", "PUT", "PATCH", "DELETE"), row["name"]
        assert row["path"].startswith("/"), row["name"]
        assert row["method"] in ("list", "get", "create", "update", "delete"), row["name"]
        assert row["name"].startswith(
            {
                "list": "list_all_postmark_",
                "get": "get_single_postmark_",
                "create": "create_a_postmark_",
                "update": "update_a_postmark_",
                "delete": "delete_a_postmark_",
            }[row["method"]]
        ), row["name"]
        assert all(isinstance(tag, str) and tag for tag in row["tags"]), row["name"]
        for hint in HINTS:
            assert isinstance(row["annotations"].get(hint), bool), f"{row['name']}: {hint}"


# ---------------------------------------------------------------- the README's tools table


def tools_table() -> str:
    """The Markdown table of every Postmark tool, as integrations/postmark/README.md has it."""
    reg = registry()
    credentials = reg.integrations["postmark"].credentials
    lines = [
        "| tool | HTTP request | access | tags | destructive | token |",
        "|---|---|---|---|---|---|",
    ]
    for tool in postmark_tools(reg):
        destructive = "yes" if tool.definition["annotations"]["destructiveHint"] else "no"
        lines.append(
            f"| `{tool.name}` | `{tool.http_method} {tool.path}` | {tool.access} "
            f"| {', '.join(sorted(tool.tags))} | {destructive} "
            f"| `{credentials[tool.credential].secret}` |"
        )
    return "\n".join(lines)


def test_readme_tools_table_is_generated_from_the_manifest() -> None:
    text = README.read_text()
    assert text.count(BEGIN) == 1 and text.count(END) == 1, f"{README}: markers missing"
    current = text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n")
    generated = tools_table()
    assert current == generated, (
        f"{README.relative_to(ROOT)} is out of date; paste this between {BEGIN} and {END}:"
        f"\n\n{generated}\n"
    )
