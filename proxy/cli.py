"""The `yamcp` command: serve, mint MCP server URLs, list tools, lint configuration."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from typing import Any

import orjson

from .errors import ConfigError, YamcpError
from .settings import Settings


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    for key in ("host", "port"):
        if getattr(args, key, None) is not None:
            overrides[key] = getattr(args, key)
    return Settings(**overrides)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app
    from .logs import configure

    settings = _settings(args)
    configure(settings.log_level, settings.log_format)
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=args.access_log,
        server_header=False,
        timeout_graceful_shutdown=30,
    )
    return 0


def _csv(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def cmd_mint(args: argparse.Namespace) -> int:
    from .servers import ServerRequest, mint

    settings = _settings(args)
    expires_at = datetime.fromisoformat(args.expires_at) if args.expires_at else None
    request = ServerRequest(
        name=args.name or args.account,
        config={"methods": _csv(args.methods), "tags": _csv(args.tags)},
        expires_at=expires_at,
    )
    created = asyncio.run(mint(settings, args.account, request))
    if args.json:
        print(orjson.dumps(created.model_dump(mode="json")).decode())
    else:
        print(created.url)
    return 0


def cmd_tools(args: argparse.Namespace) -> int:
    from .registry import load_registry

    registry = load_registry(Settings().integrations_dirs)
    rows = []
    for tool in registry.tools.values():
        if args.integration and tool.integration != args.integration:
            continue
        rows.append(
            {
                "name": tool.name,
                "integration": tool.integration,
                "method": tool.kind,
                "access": tool.access,
                "http_method": tool.http_method,
                "path": tool.path,
                "tags": sorted(tool.tags),
                "annotations": tool.definition["annotations"],
            }
        )
    if args.json:
        print(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
    else:
        for row in rows:
            print(
                f"{row['name']:<64} {row['http_method']:<6} {row['path']}  [{', '.join(row['tags'])}]"
            )
    return 0


def cmd_lint(args: argparse.Namespace) -> int:
    from .accounts import load_accounts
    from .registry import load_registry

    settings = Settings()
    registry = load_registry(settings.integrations_dirs)
    load_accounts(settings.accounts_file)
    print(f"ok: {len(registry.integrations)} integration(s), {len(registry.tools)} tools")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="yamcp", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="Run the MCP proxy.")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--no-access-log", dest="access_log", action="store_false")
    serve.set_defaults(func=cmd_serve)

    mint = sub.add_parser("mint", help="Create an MCP server and print its URL (shown once).")
    mint.add_argument("--account", required=True)
    mint.add_argument("--name")
    mint.add_argument("--methods", help="Comma-separated: read, write, list, get, ...")
    mint.add_argument("--tags", help="Comma-separated tags; a tool needs one of them.")
    mint.add_argument("--expires-at", help="ISO 8601 time with zone, e.g. 2026-12-31T00:00:00Z")
    mint.add_argument("--json", action="store_true")
    mint.set_defaults(func=cmd_mint)

    tools = sub.add_parser("tools", help="List the tools every integration declares.")
    tools.add_argument("--integration")
    tools.add_argument("--json", action="store_true")
    tools.set_defaults(func=cmd_tools)

    lint = sub.add_parser("lint", help="Check every manifest and the accounts file.")
    lint.set_defaults(func=cmd_lint)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"yamcp: {exc}", file=sys.stderr)
        return 2
    except YamcpError as exc:
        print(f"yamcp: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
