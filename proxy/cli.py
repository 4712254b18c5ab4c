"""The `yamcp` command: serve, mint and manage MCP servers, plan and lint configuration."""

from __future__ import annotations

import argparse
import asyncio
import fnmatch
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import orjson
from pydantic import ValidationError

from .errors import ConfigError, YamcpError
from .settings import Settings
from .store.base import StoreUnavailable

T = TypeVar("T")


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    for key in ("host", "port"):
        if getattr(args, key, None) is not None:
            overrides[key] = getattr(args, key)
    return Settings(**overrides)


def _csv(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _print_json(data: Any) -> None:
    print(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())


def _with_store(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    from .store import open_store

    async def run() -> T:
        store = open_store(settings)
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(run())


def _known_account(settings: Settings, account: str) -> Any:
    from .accounts import load_accounts
    from .servers import UnknownAccount

    accounts = load_accounts(settings.accounts_file, resolve=False)
    if account in accounts:
        return accounts[account]
    # An account connected over the admin API (`yamcp accounts add`) lives in the store.
    connected = _with_store(settings, lambda store: store.get_account(account))
    if connected is None:
        known = ", ".join(sorted(accounts)) or "none"
        raise UnknownAccount(
            f"no account {account!r} in {settings.accounts_file} (have: {known}) "
            "or connected over the admin API"
        )
    return connected


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app
    from .logs import configure

    settings = _settings(args)
    configure(settings.log_level, settings.log_format)
    if args.sandbox is not None:
        return _serve_sandbox(args, settings)
    app = create_app(settings)  # fails here, with file and key, before binding a port
    options = _serve_options(args, settings)
    if settings.workers > 1:
        # Each worker builds its own app from the same environment.
        os.environ["YAMCP_HOST"], os.environ["YAMCP_PORT"] = settings.host, str(settings.port)
        uvicorn.run("proxy.app:create_app", factory=True, workers=settings.workers, **options)
    else:
        uvicorn.run(app, **options)
    return 0


def _serve_options(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    return {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "access_log": args.access_log,
        "server_header": False,
        "proxy_headers": False,
        "timeout_graceful_shutdown": settings.shutdown_grace_seconds,
    }


def _serve_sandbox(args: argparse.Namespace, settings: Settings) -> int:
    """`yamcp serve --sandbox [INTEGRATION]`: the integration's simulator on loopback, the
    `sandbox` account on it, and ready URLs printed once serving (proxy/sandbox.py)."""
    import shutil
    import tempfile

    import uvicorn

    from .app import create_app
    from .policy import load_policies
    from .registry import load_registry
    from .sandbox import (
        ACCOUNT_ID,
        Sandbox,
        mint_urls,
        sandbox_admin_token,
        sandbox_settings,
        with_sandbox,
    )

    integration = with_sandbox(load_registry(settings.integrations_dirs), args.sandbox or None)
    data_dir = Path(tempfile.mkdtemp(prefix="yamcp-sandbox-"))
    sandbox = Sandbox(integration)
    try:
        settings = sandbox_settings(settings, data_dir)
        sandbox.start()
        app = create_app(settings, accounts={ACCOUNT_ID: sandbox.account()})
        policies = load_policies(settings.policies_dir)
        server = uvicorn.Server(uvicorn.Config(app, **_serve_options(args, settings)))

        async def serve() -> None:
            urls = await mint_urls(settings, policies, integration)
            approvals = any(p.approval for p in policies.named.values())
            admin_token = await sandbox_admin_token(settings) if approvals else None
            serving = asyncio.create_task(server.serve())
            while not server.started and not serving.done():
                await asyncio.sleep(0.02)
            if server.started:
                print(
                    f"yamcp sandbox: {integration.title} simulated in memory at {sandbox.url}; "
                    "nothing leaves this machine. MCP URLs: every tool the guardrails allow, "
                    "then one per named policy:",
                    file=sys.stderr,
                    flush=True,
                )
                for policy, url in urls:
                    label = f"  (policy {policy})" if policy else ""
                    print(f"{url}{label}", flush=True)
                if admin_token:
                    print(
                        "Approvals: a call that needs one answers with a link; approve it "
                        f"there with this sandbox admin token: {admin_token}",
                        file=sys.stderr,
                        flush=True,
                    )
            await serving

        asyncio.run(serve())
    finally:
        sandbox.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


def cmd_mint(args: argparse.Namespace) -> int:
    from .policy import load_policies
    from .registry import load_registry
    from .servers import ServerRequest, create_server, preview_server

    settings = _settings(args)
    account = _known_account(settings, args.account)
    config: dict[str, Any] = {"methods": _csv(args.methods), "tags": _csv(args.tags)}
    if args.policy:
        config = {"policy": args.policy}
    approval = {
        "methods": _csv(args.approval_methods),
        "tags": _csv(args.approval_tags),
        "tools": _csv(args.approval_tools),
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
    created = _with_store(
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
    from .policy import load_policies
    from .servers import ServerInfo

    settings = _settings(args)
    policies = load_policies(settings.policies_dir)
    records = _with_store(settings, lambda store: store.list_servers(args.account))
    rows = [ServerInfo.of(r, policies).model_dump(mode="json") for r in records]
    if args.json:
        _print_json(rows)
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
    if not _with_store(_settings(args), work):
        print(f"yamcp: no {what}", file=sys.stderr)
        return 1
    print(f"revoked {what}")
    return 0


def cmd_approvals_list(args: argparse.Namespace) -> int:
    records = _with_store(_settings(args), lambda store: store.list_approvals(args.server_id))
    if args.status:
        records = [r for r in records if r.status == args.status]
    if args.json:
        _print_json([r.public() for r in records])
        return 0
    for r in records:
        print(f"{r.id}  {r.status}  {r.server_id}  {r.summary}  until={r.expires_at.isoformat()}")
    if not records:
        print("no approval requests", file=sys.stderr)
    return 0


def cmd_approvals_show(args: argparse.Namespace) -> int:
    from .approvals import approval_url

    settings = _settings(args)
    record = _with_store(settings, lambda store: store.get_approval(args.approval_id))
    if record is None:
        print(f"yamcp: no approval request {args.approval_id!r}", file=sys.stderr)
        return 1
    shown = {**record.public(), "url": approval_url(settings.public_url, record.id)}
    if args.json:
        _print_json(shown)
        return 0
    for key in ("id", "status", "server_id", "account", "tool", "summary", "expires_at", "url"):
        print(f"{key}: {shown[key]}")
    if record.decided_by:
        print(f"decided_by: {record.decided_by}  note: {record.note or ''}")
    print("arguments: " + orjson.dumps(record.arguments.get("arguments", {})).decode())
    return 0


def cmd_approvals_decide(args: argparse.Namespace) -> int:
    """The operator at the shell decides as the admin does."""
    from .approvals import decide

    record = _with_store(
        _settings(args),
        lambda store: decide(store, args.approval_id, args.approve, "admin (cli)", args.note),
    )
    if record is None:
        print(f"yamcp: no pending approval request {args.approval_id!r}", file=sys.stderr)
        return 1
    print(f"{record.status} {record.id}")
    return 0


def cmd_servers_revoke(args: argparse.Namespace) -> int:
    return _revoke(
        args, lambda store: store.delete_server(args.server_id), f"server {args.server_id!r}"
    )


def cmd_api_token_create(args: argparse.Namespace) -> int:
    from .servers import CHATGPT_NOTE, create_api_token

    async def work(store: Any) -> tuple[Any, str] | None:
        if await store.get_server(args.server_id) is None:
            return None
        return await create_api_token(store, args.server_id)

    made = _with_store(_settings(args), work)
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
    from .servers import create_admin_token

    token_id, token = _with_store(_settings(args), create_admin_token)
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
    from .policy import load_policies, plan
    from .registry import load_registry
    from .store import ServerConfig, ServerRecord, utcnow

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
        _print_json(
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


def cmd_tools(args: argparse.Namespace) -> int:
    from .gateway import tools_list_bytes
    from .registry import load_registry

    registry = load_registry(Settings().integrations_dirs)
    if args.bytes:
        for integration in registry.integrations.values():
            if not args.integration or integration.name == args.integration:
                print(integration.name, tools_list_bytes(integration.tools))
        return 0
    rows = [
        {
            "name": tool.name,
            "title": tool.title,
            "integration": tool.integration,
            "method": tool.kind,
            "access": tool.access,
            "http_method": tool.http_method,
            "path": tool.path,
            "tags": sorted(tool.tags),
            "annotations": tool.definition["annotations"],
        }
        for tool in registry.tools.values()
        if not args.integration or tool.integration == args.integration
    ]
    if args.json:
        _print_json(rows)
    else:
        for row in rows:
            tags = ", ".join(row["tags"])
            print(f"{row['name']:<64} {row['http_method']:<6} {row['path']}  [{tags}]")
    return 0


def cmd_lint(args: argparse.Namespace) -> int:
    from .accounts import check_accounts, load_accounts
    from .policy import guardrail_warnings, load_policies
    from .registry import load_registry

    settings = Settings()
    registry = load_registry(settings.integrations_dirs)
    policies = load_policies(settings.policies_dir)
    accounts = load_accounts(settings.accounts_file, resolve=False)
    check_accounts(accounts, registry, settings.accounts_file)
    known = set(registry.tools)
    for name, rules in [("guardrails", policies.guardrail_rules), *policies.named_rules.items()]:
        for rule in rules:
            key = f"constraints.{rule.tool_glob}"
            tools = known
            if rule.integration is not None:  # a scoped guardrail: its integration's tools
                if rule.integration not in registry.integrations:
                    continue  # warned about below, with the block
                key = f"integrations.{rule.integration}.{key}"
                tools = set(registry.integrations[rule.integration].tools)
            if not fnmatch.filter(tools, rule.tool_glob):
                file = settings.policies_dir / f"{name}.yaml"
                raise ConfigError(str(file), key, "matches no tool")
    # Warnings: the configuration loads and works, but likely not as its author meant.
    # They go to stderr, one line each, and leave the exit code 0.
    rails = settings.policies_dir / "guardrails.yaml"
    warnings = guardrail_warnings(policies.guardrails, registry.tools.values())
    for key, message in warnings:
        print(f"yamcp: warning: {rails}: {key}: {message}", file=sys.stderr)
    print(
        f"ok: {len(registry.integrations)} integration(s), {len(registry.tools)} tools, "
        f"{len(policies.named)} named policies, {len(accounts)} accounts"
        + (f", {len(warnings)} warning(s)" if warnings else "")
    )
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from .manifest import json_schemas

    out = Path(args.out)
    for name, schema in json_schemas().items():
        (out / name).write_bytes(
            orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
        )
        print(out / name)
    return 0


def cmd_import_openapi(args: argparse.Namespace) -> int:
    from .openapi import import_openapi, load_spec, write_manifest

    specs = [load_spec(Path(spec)) for spec in args.spec]
    result = import_openapi(specs, args.integration)
    if result.failures:  # a manifest built around holes would look complete and be wrong
        for failure in result.failures:
            print(f"yamcp: {failure}", file=sys.stderr)
        print("yamcp: nothing written", file=sys.stderr)
        return 1
    try:
        file = write_manifest(
            result.manifest,
            Path(args.out),
            sources=args.spec,
            notes=result.notes,
            review=result.review,
            force=args.force,
        )
    except FileExistsError as exc:
        print(f"yamcp: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {file}")
    print(result.summary())
    for tool in result.list_tools():
        print(f"list: {tool}")
    for item in result.review:
        print(f"review: {item}")
    for note in result.notes:
        print(f"note: {note}")
    for skipped in result.skipped:
        print(f"skipped: {skipped}")
    print(f"next: review {file}: descriptions, access, destructive, pagination, tags; yamcp lint")
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    """Re-seal every stored account credential under the primary key. With a key set
    (`YAMCP_SECRET_KEY=NEW,OLD`, or a key file whose first line is new), that is all; with
    the generated key file, first add a new primary line, then re-seal, then drop the
    old lines. Each record is rewritten whole, so a reader holding either key reads
    either version meanwhile."""
    from .secrets import generated_key_path, load_box, new_key, write_key_file

    settings = _settings(args)
    generated = settings.secret_key is None and settings.secret_key_file is None
    box = load_box(settings)
    old_ids = box.key_ids
    if generated:
        path = generated_key_path(settings)
        lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
        fresh = new_key()
        write_key_file(path, [fresh, *lines])
        box = load_box(settings)
        print(f"1/3 added new key {box.primary_id} as the first line of {path}")

    async def work(store: Any) -> tuple[int, int, list[str]]:
        resealed, unreadable = 0, []
        accounts = await store.list_accounts()
        for account in accounts:
            if not box.needs_reseal(account.sealed_credentials):
                continue
            try:
                credentials = box.open(account.id, account.sealed_credentials)
            except YamcpError:
                unreadable.append(account.id)
                continue
            sealed = box.seal(account.id, credentials)
            rewritten = account.model_copy(update={"sealed_credentials": sealed})
            resealed += await store.update_account(rewritten)
        return resealed, len(accounts), unreadable

    resealed, total, unreadable = _with_store(settings, work)
    step = "2/3 " if generated else ""
    print(f"{step}re-sealed {resealed} of {total} account credentials under key {box.primary_id}")
    if unreadable:
        print(
            f"yamcp: {len(unreadable)} account(s) sealed under a key {box.source} does not "
            f"hold, left as they are: {', '.join(unreadable)}",
            file=sys.stderr,
        )
        return 1
    if generated:
        write_key_file(path, [fresh])
        dropped = [kid for kid in old_ids if kid != box.primary_id]
        print(f"3/3 dropped old key(s) {', '.join(dropped)} from {path}")
    return 0


# --- `yamcp accounts`: the admin API's integrated accounts, from a shell ---


@dataclass
class _AccountsContext:
    """What proxy.connections.connect_account needs (its AccountContext), without a Gateway:
    the accounts file is read for its ids only, so its `${VARS}` need not be set here."""

    settings: Settings
    registry: Any
    accounts: dict[str, Any]
    store: Any
    upstream: Any = None

    @cached_property
    def box(self) -> Any:
        """Loaded to seal only: a refused account warns of no generated key."""
        from .secrets import load_box

        return load_box(self.settings)


def _accounts_context(settings: Settings, store: Any) -> _AccountsContext:
    from .accounts import load_accounts
    from .registry import load_registry

    return _AccountsContext(
        settings=settings,
        registry=load_registry(settings.integrations_dirs),
        accounts=load_accounts(settings.accounts_file, resolve=False),
        store=store,
    )


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    """`k=v` options into a dict; a value may itself hold `=`."""
    pairs = {}
    for value in values or []:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip():
            raise _Refused([f"{option}: expected NAME=value, got {value!r}"])
        pairs[key.strip()] = rest
    return pairs


class _Refused(Exception):
    """`yamcp: ...` lines, exit 2: what the admin API answers 422 with."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("; ".join(lines))
        self.lines = lines


def _problem_lines(errors: list[dict[str, str]]) -> list[str]:
    return [f"{e['field']}: {e['reason']}" for e in errors]


def _read_credentials(args: argparse.Namespace) -> dict[str, str]:
    """From named environment variables (`--credential NAME=ENV_VAR`) and/or standard
    input (`NAME=value` lines). No message here quotes a value: a refused stdin line is
    named by its number, a variable by its name."""
    credentials: dict[str, str] = {}
    for name, variable in _pairs(args.credential, "--credential").items():
        if variable not in os.environ:
            raise _Refused(
                [f"credentials.{name}: the environment variable {variable!r} is not set"]
            )
        credentials[name] = os.environ[variable]
    from_stdin = args.credentials_from_stdin
    if from_stdin is None:  # the default: stdin, when nothing else gives them and it is piped
        from_stdin = not credentials and not sys.stdin.isatty()
    if from_stdin:
        for number, line in enumerate(sys.stdin.read().splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            name, sep, value = line.partition("=")
            if not sep or not name.strip():
                raise _Refused([f"credentials: standard input line {number} is not NAME=value"])
            credentials[name.strip()] = value
    if not credentials and not from_stdin:
        raise _Refused(
            [
                "credentials: give them as NAME=value lines on standard input, or with "
                "--credential NAME=ENV_VAR; never on the command line"
            ]
        )
    return credentials


def _setting_values(values: list[str] | None, option: str) -> dict[str, Any]:
    """`--default k=v`: v as JSON when it parses (true, 3, ["a"]), else the text itself."""
    parsed: dict[str, Any] = {}
    for key, text in _pairs(values, option).items():
        try:
            parsed[key] = orjson.loads(text)
        except orjson.JSONDecodeError:
            parsed[key] = text
    return parsed


def cmd_accounts_add(args: argparse.Namespace) -> int:
    from .connections import AccountRequest, connect_account, input_problems
    from .errors import AccountRefused
    from .upstream import make_upstream

    settings = _settings(args)
    try:
        body = AccountRequest.model_validate(
            {
                "id": args.account_id,
                "integration": args.integration,
                "base_url": args.base_url,
                "settings": _pairs(args.setting, "--setting"),
                "defaults": _setting_values(args.default, "--default"),
                "credentials": _read_credentials(args),
                "verify": args.verify,
            }
        )
    except ValidationError as exc:
        return _refuse(_problem_lines(input_problems(exc)))
    except _Refused as exc:
        return _refuse(exc.lines)

    async def work(store: Any) -> Any:
        context = _accounts_context(settings, store)
        if body.verify:
            context.upstream = make_upstream(settings)
        try:
            return await connect_account(context, body)
        except AccountRefused as exc:
            # Returned without its traceback: frames holding the upstream client, freed
            # only at interpreter exit, crash its native runtime (SIGABRT).
            return exc.with_traceback(None)
        finally:
            if context.upstream is not None:
                await context.upstream.aclose()

    record = _with_store(settings, work)
    if isinstance(record, AccountRefused):
        if record.errors:
            return _refuse(_problem_lines(record.errors))
        print(f"yamcp: {record}", file=sys.stderr)
        return 1
    verified = ", credentials verified" if body.verify else ""
    print(f"connected account {record.id} ({record.integration}{verified})")
    return 0


def _refuse(lines: list[str]) -> int:
    for line in lines:
        print(f"yamcp: {line}", file=sys.stderr)
    return 2


def _all_accounts(settings: Settings, store: Any) -> Awaitable[list[dict[str, Any]]]:
    """Every account, file and API alike, as GET /integrated-account lists them."""
    from .accounts import load_accounts
    from .connections import file_account_public

    async def work() -> list[dict[str, Any]]:
        listed = [
            file_account_public(a)
            for a in load_accounts(settings.accounts_file, resolve=False).values()
        ]
        listed += [record.public() for record in await store.list_accounts()]
        return sorted(listed, key=lambda a: a["id"])

    return work()


def cmd_accounts_list(args: argparse.Namespace) -> int:
    settings = _settings(args)
    rows = _with_store(settings, lambda store: _all_accounts(settings, store))
    if args.json:
        _print_json(rows)
        return 0
    for row in rows:
        print(f"{row['id']}  {row['integration']}  {row['source']}  {row['base_url'] or '-'}")
    if not rows:
        print("no accounts", file=sys.stderr)
    return 0


def cmd_accounts_show(args: argparse.Namespace) -> int:
    settings = _settings(args)
    rows = _with_store(settings, lambda store: _all_accounts(settings, store))
    found = next((row for row in rows if row["id"] == args.account_id), None)
    if found is None:
        print(f"yamcp: No integrated account {args.account_id!r}", file=sys.stderr)
        return 1
    if args.json:
        _print_json(found)
        return 0
    for key in ("id", "integration", "source", "base_url", "settings", "defaults", "created_at"):
        value = found.get(key)
        if isinstance(value, dict):
            value = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
        print(f"{key}: {'-' if value in (None, '{}') else value}")
    return 0


def cmd_accounts_remove(args: argparse.Namespace) -> int:
    from .accounts import load_accounts
    from .connections import file_account_message

    settings = _settings(args)
    if args.account_id in load_accounts(settings.accounts_file, resolve=False):
        print(f"yamcp: {file_account_message(args.account_id)}", file=sys.stderr)
        return 1

    async def work(store: Any) -> int | None:
        servers = len(await store.list_servers(args.account_id))
        return servers if await store.delete_account(args.account_id) else None

    servers = _with_store(settings, work)
    if servers is None:
        print(f"yamcp: No integrated account {args.account_id!r}", file=sys.stderr)
        return 1
    plural = "" if servers == 1 else "s"
    print(f"removed account {args.account_id} and its {servers} MCP server{plural}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="yamcp", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="Run the MCP proxy.")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--no-access-log", dest="access_log", action="store_false")
    serve.add_argument(
        "--sandbox",
        nargs="?",
        const="",
        metavar="INTEGRATION",
        help="Serve an account on the integration's in-memory simulator (the only one that "
        "ships a sandbox, or the one named) and print ready URLs; no accounts file, no token, "
        "nothing leaves this machine.",
    )
    serve.set_defaults(func=cmd_serve)

    mint = sub.add_parser("mint", help="Create an MCP server and print its URL (shown once).")
    mint.add_argument("--account", required=True)
    mint.add_argument("--name")
    mint.add_argument("--methods", help="Comma-separated: read, write, list, get, ...")
    mint.add_argument("--tags", help="Comma-separated tags; a tool needs one of them.")
    mint.add_argument("--policy", help="A named policy (policies/<name>.yaml) instead.")
    mint.add_argument("--expires-at", help="ISO 8601 time with zone, e.g. 2026-12-31T00:00:00Z")
    mint.add_argument(
        "--require-api-token-auth",
        action="store_true",
        help="Clients must also send Authorization: Bearer <api token> (not ChatGPT).",
    )
    mint.add_argument(
        "--approval-methods", help="Calls of these methods (e.g. write) need a person's approval."
    )
    mint.add_argument("--approval-tags", help="Calls of tools with these tags need approval.")
    mint.add_argument("--approval-tools", help="Calls of these tools (or globs) need approval.")
    mint.add_argument(
        "--approval-expires-in", default="15m", help="How long a request waits (default 15m)."
    )
    mint.add_argument(
        "--tool-exposure",
        choices=["all", "discovery"],
        help="discovery: tools/list holds search_tools, get_tool_schema and call_tool only.",
    )
    mint.add_argument("--json", action="store_true")
    mint.set_defaults(func=cmd_mint)

    approvals = sub.add_parser("approvals", help="Review calls waiting for a person.")
    approvals_sub = approvals.add_subparsers(dest="action", required=True)
    listing = approvals_sub.add_parser("list")
    listing.add_argument("--status", choices=["pending", "approved", "denied", "expired", "done"])
    listing.add_argument("--server", dest="server_id")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_approvals_list)
    show = approvals_sub.add_parser("show")
    show.add_argument("approval_id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_approvals_show)
    for verb in ("approve", "deny"):
        decide_parser = approvals_sub.add_parser(verb)
        decide_parser.add_argument("approval_id")
        decide_parser.add_argument("--note")
        decide_parser.set_defaults(func=cmd_approvals_decide, approve=verb == "approve")

    servers = sub.add_parser("servers", help="List or revoke MCP servers.")
    servers_sub = servers.add_subparsers(dest="action", required=True)
    listing = servers_sub.add_parser("list")
    listing.add_argument("--account")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_servers_list)
    revoke = servers_sub.add_parser("revoke")
    revoke.add_argument("server_id")
    revoke.set_defaults(func=cmd_servers_revoke)

    api = sub.add_parser("api-token", help="API tokens for servers with API-token auth.")
    api_sub = api.add_subparsers(dest="action", required=True)
    create = api_sub.add_parser("create")
    create.add_argument("--server", dest="server_id", required=True)
    create.set_defaults(func=cmd_api_token_create)
    revoke = api_sub.add_parser("revoke")
    revoke.add_argument("--server", dest="server_id", required=True)
    revoke.add_argument("token_id")
    revoke.set_defaults(func=cmd_api_token_revoke)

    admin = sub.add_parser("admin-token", help="Tokens for the admin API.")
    admin_sub = admin.add_subparsers(dest="action", required=True)
    admin_sub.add_parser("create").set_defaults(func=cmd_admin_token_create)
    revoke = admin_sub.add_parser("revoke")
    revoke.add_argument("token_id")
    revoke.set_defaults(func=cmd_admin_token_revoke)

    plan = sub.add_parser("plan", help="Print exactly what a policy file grants.")
    plan.add_argument("policy", help="policies/<name>.yaml")
    plan.add_argument("--integration")
    plan.add_argument("--json", action="store_true")
    plan.set_defaults(func=cmd_plan)

    tools = sub.add_parser("tools", help="List the tools every integration declares.")
    tools.add_argument("--integration")
    tools.add_argument("--json", action="store_true")
    tools.add_argument(
        "--bytes",
        action="store_true",
        help="Print the size of each integration's whole tools/list answer instead.",
    )
    tools.set_defaults(func=cmd_tools)

    schema = sub.add_parser("schema", help="Write the manifests' JSON Schemas for editors.")
    schema.add_argument("--out", default="integrations")
    schema.set_defaults(func=cmd_schema)

    importer = sub.add_parser(
        "import-openapi",
        help="Write a starting manifest from an OpenAPI 3.x or Swagger 2.0 document.",
    )
    importer.add_argument(
        "spec", nargs="+", metavar="SPEC", help="YAML or JSON file(s) of one API, merged."
    )
    importer.add_argument("--integration", required=True, help="Name, [a-z][a-z0-9_]*.")
    importer.add_argument("--out", default="integrations", help="Folder of integrations.")
    importer.add_argument("--force", action="store_true", help="Replace an existing manifest.")
    importer.set_defaults(func=cmd_import_openapi)

    accounts = sub.add_parser(
        "accounts", help="Customers' accounts connected at run time (the admin API's)."
    )
    accounts_sub = accounts.add_subparsers(dest="action", required=True)
    add = accounts_sub.add_parser(
        "add",
        help="Connect an account. Credentials come from standard input (NAME=value lines) "
        "or named environment variables, never from the command line.",
    )
    add.add_argument("account_id", metavar="ID")
    add.add_argument("--integration", required=True)
    add.add_argument("--base-url")
    add.add_argument("--setting", action="append", metavar="NAME=VALUE")
    add.add_argument(
        "--default", action="append", metavar="ARG=VALUE", help="VALUE as JSON, else text."
    )
    add.add_argument(
        "--credential",
        action="append",
        metavar="NAME=ENV_VAR",
        help="Read credential NAME from the environment variable ENV_VAR.",
    )
    add.add_argument(
        "--credentials-from-stdin",
        action="store_true",
        default=None,
        help="Read NAME=value lines from standard input (the default when it is not a "
        "terminal and no --credential is given).",
    )
    add.add_argument("--verify", action="store_true", help="Call the manifest's verify tool.")
    add.set_defaults(func=cmd_accounts_add)
    listing = accounts_sub.add_parser("list", help="File and API accounts, with their source.")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_accounts_list)
    show = accounts_sub.add_parser("show", help="One account; never its credentials.")
    show.add_argument("account_id", metavar="ID")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_accounts_show)
    remove = accounts_sub.add_parser(
        "remove", help="Disconnect an API account; its MCP servers go with it."
    )
    remove.add_argument("account_id", metavar="ID")
    remove.set_defaults(func=cmd_accounts_remove)

    keys = sub.add_parser("keys", help="The key that seals account credentials at rest.")
    keys_sub = keys.add_subparsers(dest="action", required=True)
    keys_sub.add_parser(
        "rotate",
        help="Re-seal every stored credential under the primary key: the first of "
        "YAMCP_SECRET_KEY=NEW,OLD (or of the key file); with the generated key file, a new "
        "key is made, used, and the old one dropped.",
    ).set_defaults(func=cmd_keys_rotate)

    lint = sub.add_parser("lint", help="Check manifests, policies and the accounts file.")
    lint.set_defaults(func=cmd_lint)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
        sys.stdout.flush()  # here, so a reader that left (`| head`) is caught below
        return code
    except BrokenPipeError:
        # Python's "Note on SIGPIPE": the reader has gone; point stdout at devnull so the
        # flush at exit cannot fail again, and end quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except ConfigError as exc:
        print(f"yamcp: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"])
        print(f"yamcp: {where}: {err['msg']}", file=sys.stderr)
        return 2
    except (YamcpError, ValueError, StoreUnavailable) as exc:
        print(f"yamcp: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
