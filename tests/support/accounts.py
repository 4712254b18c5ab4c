"""What tests of connected accounts share: a JSON-RPC ping, and one Postmark call through an MCP URL."""

from __future__ import annotations

from tests.support.mcp_client import mcp_client

PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}


async def call_bounces(url: str) -> tuple[bool, str]:
    async with mcp_client(url) as client:
        result = await client.call_tool("list_all_postmark_bounces", {"limit": 1})
    return result.is_error, result.content[0].text
