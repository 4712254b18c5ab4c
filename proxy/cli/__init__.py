"""The `yamcp` command: serve, mint and manage MCP servers, plan and lint configuration.

One module per group of subcommands; this one builds the parser and runs the command."""

from __future__ import annotations

import argparse
import os
import sys

from pydantic import ValidationError

from ..errors import ConfigError, StoreUnavailable, YamcpError
from .accounts import cmd_accounts_add, cmd_accounts_list, cmd_accounts_remove, cmd_accounts_show
from .approvals import cmd_approvals_decide, cmd_approvals_list, cmd_approvals_show
from .keys import cmd_keys_rotate
from .manifests import cmd_import_openapi, cmd_lint, cmd_schema, cmd_tools
from .servers import (
    cmd_admin_token_create,
    cmd_admin_token_revoke,
    cmd_api_token_create,
    cmd_api_token_revoke,
    cmd_mint,
    cmd_plan,
    cmd_servers_list,
    cmd_servers_revoke,
)
from .serving import cmd_serve


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="yamcp", description=(__doc__ or "").split("\n\n")[0])
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
