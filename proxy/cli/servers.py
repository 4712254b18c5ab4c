"""`yamcp mint`, `servers`, `api-token`, `admin-token` and `plan`: MCP servers and their tokens."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from ..errors import ConfigError
from ..settings import Settings
from .common import csv_list, known_account, print_json, settings_from, with_store


def cmd_mint(args: argparse.Namespace) -> int:
    from ..policy import load_policies
    from ..registry import load_registry
    from ..servers import ServerRequest, create_server, preview_server

    settings = settings_from(args)
    account = known_account(settings, args.account)
    config: dict[str, Any] = {"methods": csv_list(args.methods), "tags": csv_list(args.tags)}
    if args.policy:
        config = {"policy": args.policy}
    approval = {
        "methods": csv_list(args.approval_methods),
        "tags": csv_list(args.approval_tags),
        "tools": csv_list(args.approval_tools),
    }
    if any(approval.values()):
        config["approval"] = {**approval, "expires_in": args.approval_expires_in}
    if args.tool_exposure:
        config["tool_exposure"] = args.tool_exposure
    try:
        expires_at = datetime.fromisoformat(args.expires_at) if args.expires_at else None
    except ValueError:
        raise ValueError(
            f"--expires-at: {args.expires_at!r} is not an ISO 8601 time, e.g. 2026-12-31T00:00:00Z"
        ) from None
    request = ServerRequest(
        name=args.name or args.account,
        config=config,
        expires_at=expires_at,
        require_api_token_auth=args.require_api_token_auth,
    )
    policies = load_policies(settings.policies_dir)
    integration = load_registry(settings.integrations_dirs).integrations.get(account.integration)
    if integration is None:
        where = f"accounts.{args.account}.integration"
        raise ConfigError(str(settings.accounts_file), where, "no such integration is loaded")
    tools = integration.tools
    created = with_store(
        settings, lambda store: create_server(store, settings, policies, args.account, request)
    )
    # What the guardrails held back of the integration's tools, said at once: a bare mint
    # "exposes every tool" the guardrails allow, and no more.
    summary = preview_server(
        policies, tools.values(), args.account, request.config, request.require_api_token_auth
    )["summary"]
    if args.json:
        shown = created.model_dump(mode="json", exclude={"require_api_token_auth"})
        print(orjson.dumps({**shown, "summary": summary}).decode())
    else:
        print(created.url)
        print(f"{created.id}: {summary['text']}", file=sys.stderr)
    return 0


def cmd_servers_list(args: argparse.Namespace) -> int:
    from ..policy import load_policies
    from ..servers import ServerInfo

    settings = settings_from(args)
    policies = load_policies(settings.policies_dir)
    records = with_store(settings, lambda store: store.list_servers(args.account))
    rows = [ServerInfo.of(r, policies).model_dump(mode="json") for r in records]
    if args.json:
        print_json(rows)
        return 0
    for row in rows:
        auth = "  api-token-auth" if row["require_api_token_auth"] else ""
        print(
            f"{row['id']}  {row['account']}  {row['name']!r}  {_scope(row['config'])}"
            f"  expires={row['expires_at'] or 'never'}{auth}"
        )
    if not rows:
        print("no MCP servers", file=sys.stderr)
    return 0


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _scope(config: dict[str, Any]) -> str:
    """What a listed server may do, in one phrase: its named policy, or its inline config
    (the admin API's `config`, which carries `policy` and `constraints` only when set)."""
    if config.get("policy"):
        return f"policy={config['policy']}"
    scope = f"methods={','.join(config['methods']) or '*'} tags={','.join(config['tags']) or '*'}"
    if config.get("constraints"):
        scope += f" constraints={','.join(sorted(config['constraints']))}"
    return scope


def _revoke(args: argparse.Namespace, work: Callable[[Any], Awaitable[bool]], what: str) -> int:
    """Run one store deletion; say what went, or that there was nothing to revoke."""
    if not with_store(settings_from(args), work):
        print(f"yamcp: no {what}", file=sys.stderr)
        return 1
    print(f"revoked {what}")
    return 0


def cmd_servers_revoke(args: argparse.Namespace) -> int:
    return _revoke(
        args, lambda store: store.delete_server(args.server_id), f"server {args.server_id!r}"
    )


def cmd_api_token_create(args: argparse.Namespace) -> int:
    from ..servers import CHATGPT_NOTE, create_api_token

    async def work(store: Any) -> tuple[Any, str] | None:
        if await store.get_server(args.server_id) is None:
            return None
        return await create_api_token(store, args.server_id)

    made = with_store(settings_from(args), work)
    if made is None:
        print(f"yamcp: no server {args.server_id!r}", file=sys.stderr)
        return 1
    info, token = made
    print(token)
    print(f"api token {info.id} for {args.server_id}; shown once. {CHATGPT_NOTE}", file=sys.stderr)
    return 0


def cmd_api_token_revoke(args: argparse.Namespace) -> int:
    return _revoke(
        args,
        lambda store: store.delete_api_token(args.server_id, args.token_id),
        f"api token {args.token_id!r} on {args.server_id!r}",
    )


def cmd_admin_token_create(args: argparse.Namespace) -> int:
    from ..servers import create_admin_token

    token_id, token = with_store(settings_from(args), create_admin_token)
    print(token)
    print(f"admin token {token_id}; shown once", file=sys.stderr)
    return 0


def cmd_admin_token_revoke(args: argparse.Namespace) -> int:
    return _revoke(
        args,
        lambda store: store.delete_admin_token(args.token_id),
        f"admin token {args.token_id!r}",
    )


def cmd_plan(args: argparse.Namespace) -> int:
    from ..policy import load_policies, plan
    from ..registry import load_registry
    from ..store import ServerConfig, ServerRecord, utcnow

    settings = Settings()
    path = Path(args.policy)
    policies = load_policies(path.parent if path.parent != Path("") else settings.policies_dir)
    if path.stem not in policies.named:
        raise ConfigError(str(path), "", "not a policy file in a policies folder")
    registry = load_registry(settings.integrations_dirs)
    record = ServerRecord(
        id="plan",
        name="plan",
        account="plan",
        config=ServerConfig(policy=path.stem),
        created_at=utcnow(),
    )
    effective = policies.effective(record.config, record)
    tools = [
        t
        for t in registry.tools.values()
        if not args.integration or t.integration == args.integration
    ]
    result = plan(policies, effective, tools)
    named = policies.named[path.stem]
    if args.json:
        print_json(
            {
                "policy": path.stem,
                "require_api_token_auth": named.require_api_token_auth,
                "tool_exposure": named.tool_exposure,
                **result,
            }
        )
        return 0
    print(f"policy {path.stem}: {len(result['tools'])} tools")
    print(f"require_api_token_auth: {str(named.require_api_token_auth).lower()}")
    if named.tool_exposure != "all":
        print(f"tool_exposure: {named.tool_exposure} (tools/list: three tools that reach these)")
    if named.expires_at:
        print(f"expires_at: {named.expires_at.isoformat()}")
    for tool in result["tools"]:
        print(f"+ {tool['name']}  ({tool['access']}; {', '.join(tool['tags'])})")
        for rule in tool["constraints"]:
            print(f"    constraint {rule}")
        if "approval" in tool:
            print(f"    needs approval (waits {_duration(tool['approval']['expires_in'])})")
    removed = [t for t in result["excluded"] if t["guardrail"]]
    if removed:
        print("removed by guardrails:")
        for tool in removed:
            print(f"- {tool['name']}  ({tool['reason']})")
    return 0
