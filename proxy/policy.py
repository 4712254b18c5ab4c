"""Policies and the one decision function behind both `tools/list` and `tools/call`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .tools import Tool

METHOD_WORDS = {"read", "write", "list", "get", "create", "update", "delete"}


class Policy(BaseModel):
    """What an MCP server may do. Empty `methods` or `tags` means no restriction by that rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    methods: list[str] = Field(
        default_factory=list,
        description="read, write, or method types list/get/create/update/delete.",
    )
    tags: list[str] = Field(default_factory=list, description="Any-of: a tool needs one of these.")

    @field_validator("methods")
    @classmethod
    def _known_methods(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - METHOD_WORDS)
        if unknown:
            raise ValueError(f"unknown method(s) {unknown}; use {sorted(METHOD_WORDS)}")
        return value


def allows(policy: Policy, tool: Tool) -> bool:
    """Whether `policy` exposes `tool`: the same answer for listing and for calling."""
    if policy.methods and not (tool.access in policy.methods or tool.kind in policy.methods):
        return False
    return not policy.tags or not tool.tags.isdisjoint(policy.tags)
