"""`yamcp accounts`: the admin API's integrated accounts, from a shell."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Awaitable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import orjson
from pydantic import ValidationError

from ..errors import CommandRefused
from ..settings import Settings
from .common import print_json, settings_from, with_store


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
        from ..secrets import load_box

        return load_box(self.settings)


def _accounts_context(settings: Settings, store: Any) -> _AccountsContext:
    from ..accounts import load_accounts
    from ..registry import load_registry

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
            raise CommandRefused([f"{option}: expected NAME=value, got {value!r}"])
        pairs[key.strip()] = rest
    return pairs


def _problem_lines(errors: list[dict[str, str]]) -> list[str]:
    return [f"{e['field']}: {e['reason']}" for e in errors]


def _read_credentials(args: argparse.Namespace) -> dict[str, str]:
    """From named environment variables (`--credential NAME=ENV_VAR`) and/or standard
    input (`NAME=value` lines). No message here quotes a value: a refused stdin line is
    named by its number, a variable by its name."""
    credentials: dict[str, str] = {}
    for name, variable in _pairs(args.credential, "--credential").items():
        if variable not in os.environ:
            raise CommandRefused(
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
                raise CommandRefused(
                    [f"credentials: standard input line {number} is not NAME=value"]
                )
            credentials[name.strip()] = value
    if not credentials and not from_stdin:
        raise CommandRefused(
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
    from ..connections import AccountRequest, connect_account, input_problems
    from ..errors import AccountRefused
    from ..upstream import make_upstream

    settings = settings_from(args)
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
    except CommandRefused as exc:
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

    record = with_store(settings, work)
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
    from ..accounts import load_accounts
    from ..connections import file_account_public

    async def work() -> list[dict[str, Any]]:
        listed = [
            file_account_public(a)
            for a in load_accounts(settings.accounts_file, resolve=False).values()
        ]
        listed += [record.public() for record in await store.list_accounts()]
        return sorted(listed, key=lambda a: a["id"])

    return work()


def cmd_accounts_list(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    rows = with_store(settings, lambda store: _all_accounts(settings, store))
    if args.json:
        print_json(rows)
        return 0
    for row in rows:
        print(f"{row['id']}  {row['integration']}  {row['source']}  {row['base_url'] or '-'}")
    if not rows:
        print("no accounts", file=sys.stderr)
    return 0


def cmd_accounts_show(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    rows = with_store(settings, lambda store: _all_accounts(settings, store))
    found = next((row for row in rows if row["id"] == args.account_id), None)
    if found is None:
        print(f"yamcp: No integrated account {args.account_id!r}", file=sys.stderr)
        return 1
    if args.json:
        print_json(found)
        return 0
    for key in ("id", "integration", "source", "base_url", "settings", "defaults", "created_at"):
        value = found.get(key)
        if isinstance(value, dict):
            value = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
        print(f"{key}: {'-' if value in (None, '{}') else value}")
    return 0


def cmd_accounts_remove(args: argparse.Namespace) -> int:
    from ..accounts import load_accounts
    from ..connections import file_account_message

    settings = settings_from(args)
    if args.account_id in load_accounts(settings.accounts_file, resolve=False):
        print(f"yamcp: {file_account_message(args.account_id)}", file=sys.stderr)
        return 1

    async def work(store: Any) -> int | None:
        servers = len(await store.list_servers(args.account_id))
        return servers if await store.delete_account(args.account_id) else None

    servers = with_store(settings, work)
    if servers is None:
        print(f"yamcp: No integrated account {args.account_id!r}", file=sys.stderr)
        return 1
    plural = "" if servers == 1 else "s"
    print(f"removed account {args.account_id} and its {servers} MCP server{plural}")
    return 0
