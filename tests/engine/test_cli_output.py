"""What each `yamcp` subcommand prints for a person, run as the real `python -m proxy.cli`.

The `--json` forms are what scripts parse and are checked elsewhere; here the text a person
reads: one line per server whatever it was minted with, tokens shown once on stdout with the
explanation on stderr, and every refusal a single `yamcp: ...` line with exit 1 (a runtime
refusal) or 2 (a configuration or argument error), never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase as fnmatch
from pathlib import Path

import pytest
import yaml

from proxy.policy import load_policies
from proxy.servers import CHATGPT_NOTE, ServerRequest, create_server
from proxy.settings import Settings
from proxy.store import SQLiteStore
from tests.support.fake_postmark import FakePostmark
from tests.support.paths import ROOT
from tests.support.serving import free_port, write_workdir

PUBLIC = "http://127.0.0.1:8000"
SERVER_ID = r"srv_[0-9a-f]+"


@dataclass
class Cli:
    workdir: Path
    env: dict[str, str]

    def __call__(self, *args: str, code: int = 0) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "-m", "proxy.cli", *args],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == code, (args, done.returncode, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr, done.stderr
        return done

    def refused(self, *args: str, code: int) -> str:
        """The one line a refused command prints on stderr (nothing on stdout)."""
        done = self(*args, code=code)
        assert done.stdout == ""
        assert done.stderr.startswith("yamcp: ") and done.stderr.count("\n") == 1, done.stderr
        return done.stderr.strip()

    def mint(self, *args: str) -> dict:
        return json.loads(self("mint", "--account", "acme", "--json", *args).stdout)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    write_workdir(tmp_path, "http://127.0.0.1:9")
    env = {k: v for k, v in os.environ.items() if not k.startswith("YAMCP_")}
    env.update(
        YAMCP_INTEGRATIONS_DIRS=str(ROOT / "integrations"),
        YAMCP_POLICIES_DIR=str(ROOT / "policies"),
        YAMCP_DATA_DIR=str(tmp_path / "data"),
        YAMCP_PUBLIC_BASE_URL=PUBLIC,
        POSTMARK_SERVER_TOKEN=FakePostmark.server_token,
        POSTMARK_ACCOUNT_TOKEN=FakePostmark.account_token,
    )
    return Cli(tmp_path, env)


def _mint_with_constraints(cli: Cli) -> str:
    """A server with inline constraints, which the CLI cannot mint (the admin API can)."""

    async def mint() -> str:
        settings = Settings(
            _env_file=None,
            data_dir=cli.workdir / "data",
            public_base_url=PUBLIC,
            accounts_file=cli.workdir / "accounts.yaml",
            integrations_dirs=[ROOT / "integrations"],
            policies_dir=ROOT / "policies",
        )
        store = SQLiteStore(settings.data_dir)
        try:
            request = ServerRequest.model_validate(
                {
                    "name": "outbound only",
                    "config": {
                        "methods": ["create"],
                        "tags": ["sending"],
                        "constraints": {
                            "create_a_postmark_email": {"MessageStream": {"enum": ["outbound"]}}
                        },
                    },
                }
            )
            created = await create_server(
                store, settings, load_policies(settings.policies_dir), "acme", request
            )
        finally:
            await store.close()
        return created.id

    return asyncio.run(mint())


def test_servers_list_prints_one_line_per_server_whatever_it_was_minted_with(cli: Cli) -> None:
    soon = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    stamp = soon.strftime("%Y-%m-%dT%H:%M:%SZ")
    everything = cli.mint()  # no methods, tags or policy: the one that crashed the listing
    triage = cli.mint("--policy", "bounce-triage", "--name", "Triage")
    reader = cli.mint(
        "--methods", "read", "--tags", "bounces,stats", "--name", "Bounce bot's",
        "--expires-at", soon.isoformat(), "--require-api-token-auth",
    )  # fmt: skip
    constrained = _mint_with_constraints(cli)
    agent = cli.mint("--require-api-token-auth", "--name", "agent")

    listing = cli("servers", "list")
    lines = listing.stdout.splitlines()
    assert len(lines) == 5 and listing.stderr == ""
    rows = {line.split("  ")[0]: line for line in lines}
    default_expiry = everything["expires_at"]  # the guardrail's longest lifetime
    assert rows[everything["id"]] == (
        f"{everything['id']}  acme  'acme'  methods=* tags=*  expires={default_expiry}"
    )
    assert rows[triage["id"]] == (
        f"{triage['id']}  acme  'Triage'  policy=bounce-triage  expires={triage['expires_at']}"
    )
    assert rows[reader["id"]] == (
        f'{reader["id"]}  acme  "Bounce bot\'s"  methods=read tags=bounces,stats'
        f"  expires={stamp}  api-token-auth"
    )
    assert rows[agent["id"]] == (
        f"{agent['id']}  acme  'agent'  methods=* tags=*  expires={agent['expires_at']}"
        "  api-token-auth"
    )
    assert re.fullmatch(
        rf"{constrained}  acme  'outbound only'  methods=create tags=sending"
        rf" constraints=create_a_postmark_email  expires=\S+Z",
        rows[constrained],
    )
    for created in (everything, triage, reader, agent):
        assert created["url"] not in listing.stdout
    assert "/mcp/" not in listing.stdout

    assert [row["id"] for row in json.loads(cli("servers", "list", "--json").stdout)] == [
        line.split("  ")[0] for line in lines
    ]
    nobody = cli("servers", "list", "--account", "nobody")
    assert nobody.stdout == "" and nobody.stderr == "no MCP servers\n"


def _guardrails_withhold(cli: Cli) -> tuple[int, list[str], list[str], list[str]]:
    """What policies/guardrails.yaml holds back from a Postmark server without API-token
    auth, worked out from the tool list and the file: (all tools, denied, need a token, their
    tags)."""
    tools = json.loads(cli("tools", "--integration", "postmark", "--json").stdout)
    rails = yaml.safe_load((ROOT / "policies" / "guardrails.yaml").read_text())
    # The top-level rules and those scoped to postmark (`integrations.postmark`).
    blocks = [rails, rails.get("integrations", {}).get("postmark", {})]
    patterns = [p for block in blocks for p in block.get("deny_tools", [])]
    denied = [t["name"] for t in tools if any(fnmatch(t["name"], p) for p in patterns)]
    token_tags = {tag for block in blocks for tag in block.get("require_api_token_for_tags", [])}
    need = [t for t in tools if t["name"] not in denied and token_tags & set(t["tags"])]
    tags = sorted(token_tags & {tag for t in need for tag in t["tags"]})
    return len(tools), denied, [t["name"] for t in need], tags


def test_mint_says_how_many_tools_the_guardrails_withheld_and_why(cli: Cli) -> None:
    """The README's bare mint "exposes every tool" the guardrails allow: the count of what
    they held back, and why, is on stderr (the URL alone on stdout) and in `--json`."""
    total, denied, need, tags = _guardrails_withhold(cli)
    # What the shipped guardrails hold back from Postmark, scoped to it or not.
    assert denied == ["create_a_postmark_data_removal"]
    assert tags == ["data_removals", "domains", "sender_signatures", "servers"]
    withheld = len(denied) + len(need)
    minted = cli("mint", "--account", "acme")
    url = minted.stdout.strip()
    assert re.fullmatch(rf"{re.escape(PUBLIC)}/mcp/[A-Za-z0-9_-]{{43}}", url)
    server = re.fullmatch(rf"({SERVER_ID}): (.*)\n", minted.stderr)
    assert server, minted.stderr
    assert server.group(2) == (
        f"{total - withheld} of {total} tools; {withheld} withheld by guardrails: "
        f"{len(need)} tagged {', '.join(tags)} need API-token auth (--require-api-token-auth); "
        f"{len(denied)} no server may expose ({', '.join(denied)})"
    )
    assert url not in minted.stderr

    record = cli.mint()
    assert record["summary"] == {
        "exposed": total - withheld,
        "total": total,
        "withheld_by_guardrails": withheld,
        "need_api_token": {"tools": len(need), "tags": tags},
        "denied": {"tools": len(denied), "names": denied},
        "text": server.group(2),
    }

    with_token = cli("mint", "--account", "acme", "--require-api-token-auth").stderr
    assert with_token.split(": ", 1)[1] == (
        f"{total - len(denied)} of {total} tools; {len(denied)} withheld by guardrails: "
        f"{len(denied)} no server may expose ({', '.join(denied)})\n"
    )
    triage = cli.mint("--policy", "bounce-triage")["summary"]
    assert triage["withheld_by_guardrails"] == 0
    assert triage["text"] == f"{triage['exposed']} of {total} tools"


def test_mint_prints_the_url_alone_and_refuses_in_one_line(cli: Cli) -> None:
    minted = cli("mint", "--account", "acme")
    assert re.fullmatch(rf"{re.escape(PUBLIC)}/mcp/[A-Za-z0-9_-]{{43}}\n", minted.stdout)
    assert minted.stderr.count("\n") == 1 and "withheld by guardrails" in minted.stderr

    assert cli.refused("mint", "--account", "nobody", code=1) == (
        "yamcp: no account 'nobody' in accounts.yaml (have: acme) or connected over the admin API"
    )
    assert cli.refused("mint", "--account", "acme", "--expires-at", "tomorrow", code=1) == (
        "yamcp: --expires-at: 'tomorrow' is not an ISO 8601 time, e.g. 2026-12-31T00:00:00Z"
    )
    assert cli.refused("mint", "--account", "acme", "--methods", "read,fly", code=2) == (
        "yamcp: config.methods: Value error, unknown method(s) ['fly']; "
        "use ['read', 'write', 'list', 'get', 'create', 'update', 'delete']"
    )
    assert cli.refused("mint", "--account", "acme", "--policy", "nope", code=1) == (
        "yamcp: config.policy: no policy 'nope' "
        "(have: bounce-triage, deliverability, transactional-sender, "
        "transactional-sender-approved)"
    )
    # None of the refusals minted anything.
    assert len(cli("servers", "list").stdout.splitlines()) == 1


def test_revoking_says_what_went_and_a_second_time_that_nothing_is_left(cli: Cli) -> None:
    server = cli.mint("--require-api-token-auth")["id"]

    made = cli("api-token", "create", "--server", server)
    token = made.stdout.strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]{40,}\n", made.stdout)
    token_id = re.fullmatch(
        rf"api token (tok_[0-9a-f]+) for {server}; shown once\. {re.escape(CHATGPT_NOTE)}\n",
        made.stderr,
    ).group(1)
    assert token not in made.stderr
    assert cli.refused("api-token", "create", "--server", "srv_nope", code=1) == (
        "yamcp: no server 'srv_nope'"
    )

    what = f"api token '{token_id}' on '{server}'"
    revoked = cli("api-token", "revoke", "--server", server, token_id)
    assert (revoked.stdout, revoked.stderr) == (f"revoked {what}\n", "")
    assert cli.refused("api-token", "revoke", "--server", server, token_id, code=1) == (
        f"yamcp: no {what}"
    )

    revoked = cli("servers", "revoke", server)
    assert (revoked.stdout, revoked.stderr) == (f"revoked server '{server}'\n", "")
    assert cli.refused("servers", "revoke", server, code=1) == f"yamcp: no server '{server}'"
    assert cli("servers", "list").stdout == ""


def test_admin_tokens_are_shown_once_and_revoked_by_id(cli: Cli) -> None:
    made = cli("admin-token", "create")
    token = made.stdout.strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]{40,}\n", made.stdout)
    token_id = re.fullmatch(r"admin token (\S+); shown once\n", made.stderr).group(1)
    assert token not in made.stderr and token_id not in made.stdout

    revoked = cli("admin-token", "revoke", token_id)
    assert (revoked.stdout, revoked.stderr) == (f"revoked admin token '{token_id}'\n", "")
    assert cli.refused("admin-token", "revoke", token_id, code=1) == (
        f"yamcp: no admin token '{token_id}'"
    )


def test_plan_heads_its_grant_with_the_count_auth_and_expiry(cli: Cli, tmp_path: Path) -> None:
    policies = tmp_path / "reviewed"
    policies.mkdir()
    (policies / "guardrails.yaml").write_text("max_lifetime_days: 30\n")
    (policies / "holidays.yaml").write_text(
        "methods: [read]\ntags: [holidays]\nrequire_api_token_auth: true\n"
        "expires_at: 2031-01-01T00:00:00Z\n"
    )
    plan = cli("plan", str(policies / "holidays.yaml"), "--integration", "nager_date")
    lines = plan.stdout.splitlines()
    granted = [line for line in lines if line.startswith("+ ")]
    assert lines[:3] == [
        f"policy holidays: {len(granted)} tools",
        "require_api_token_auth: true",
        "expires_at: 2031-01-01T00:00:00+00:00",
    ]
    assert len(granted) >= 3 and len(lines) == 3 + len(granted)
    assert "+ list_all_nager_date_public_holidays  (read; holidays)" in granted
    assert not any("postmark" in line for line in lines)

    shipped = cli(
        "plan", str(ROOT / "policies" / "bounce-triage.yaml"), "--integration", "postmark"
    ).stdout
    assert shipped.splitlines()[:2] == [
        f"policy bounce-triage: {shipped.count('+ ')} tools",
        "require_api_token_auth: false",
    ]
    assert "expires_at" not in shipped

    assert cli.refused("plan", str(policies / "absent.yaml"), code=2) == (
        f"yamcp: {policies / 'absent.yaml'}: not a policy file in a policies folder"
    )


def test_plan_lists_constraints_under_each_tool_and_what_the_guardrails_removed(
    cli: Cli, tmp_path: Path
) -> None:
    policies = tmp_path / "reviewed"
    policies.mkdir()
    (policies / "guardrails.yaml").write_text(
        "require_api_token_for_tags: [domains]\n"
        "deny_tools: [delete_a_nager_date_*]\n"
        "constraints: {list_all_nager_date_public_holidays: {countryCode: {pattern: '^[A-Z]{2}$'}}}\n"
    )
    (policies / "holidays.yaml").write_text("methods: [read]\n")
    lines = cli("plan", str(policies / "holidays.yaml"), "--integration", "nager_date")
    lines = lines.stdout.splitlines()
    granted = [line for line in lines if line.startswith("+ ")]
    assert lines[:2] == [f"policy holidays: {len(granted)} tools", "require_api_token_auth: false"]
    at = lines.index("+ list_all_nager_date_public_holidays  (read; holidays)")
    assert lines[at + 1] == "    constraint countryCode: pattern ^[A-Z]{2}$ (guardrails)"
    assert "removed by guardrails:" not in lines  # nager_date has no domains or deletes

    (policies / "guardrails.yaml").write_text(
        "require_api_token_for_tags: [domains]\ndeny_tools: [create_a_postmark_email]\n"
    )
    (policies / "senders.yaml").write_text("methods: [list, create]\ntags: [domains, sending]\n")
    lines = cli("plan", str(policies / "senders.yaml"), "--integration", "postmark")
    lines = lines.stdout.splitlines()
    removed = lines[lines.index("removed by guardrails:") + 1 :]
    assert "- create_a_postmark_email  (guardrail deny_tools: create_a_postmark_email)" in removed
    assert (
        "- list_all_postmark_domains  (guardrail require_api_token_for_tags: domains "
        "(server has no API-token auth))"
    ) in removed
    assert all(line.startswith("- ") for line in removed)
    assert not {line[2:].split()[0] for line in removed} & {
        line[2:].split()[0] for line in lines if line.startswith("+ ")
    }


def test_tools_bytes_prints_each_integrations_tools_list_size(cli: Cli) -> None:
    sizes = dict(line.split(" ") for line in cli("tools", "--bytes").stdout.splitlines())
    assert set(sizes) == {"nager_date", "postmark"}
    assert all(size.isdigit() and int(size) > 1000 for size in sizes.values())
    assert cli("tools", "--bytes", "--integration", "nager_date").stdout == (
        f"nager_date {sizes['nager_date']}\n"
    )


def test_import_openapi_says_what_it_wrote_noted_and_skipped_and_what_is_next(
    cli: Cli, tmp_path: Path
) -> None:
    spec = tmp_path / "pets.json"
    spec.write_text(
        json.dumps(
            {
                "openapi": "3.0.3",
                "info": {"title": "Pets", "version": "1"},
                "servers": [{"url": "https://pets.example.com/v1"}],
                "paths": {
                    "/pets": {
                        "get": {
                            "operationId": "listPets",
                            "parameters": [
                                {"name": "X-Trace", "in": "header", "schema": {"type": "string"}}
                            ],
                            "responses": {"200": {"description": "ok"}},
                        },
                        "trace": {"responses": {"200": {"description": "ok"}}},
                    }
                },
            }
        )
    )
    out = tmp_path / "integrations"
    out.mkdir()
    done = cli("import-openapi", str(spec), "--integration", "pets", "--out", str(out))
    file = out / "pets" / "manifest.yaml"
    lines = done.stdout.splitlines()
    assert lines[0] == f"wrote {file}" and file.exists()
    assert re.fullmatch(
        r"pets: 1 tools \(1 get\) in 1 resources from \d+ operations; "
        r"\d+ credential profile\(s\); \d+ operation\(s\) skipped",
        lines[1],
    ), lines[1]
    prefixes = ("list: ", "review: ", "note: ", "skipped: ")
    assert all(line.startswith(prefixes) for line in lines[2:-1]), lines
    assert any("X-Trace" in line for line in lines if line.startswith("review: ")), lines
    assert lines[-1] == (
        f"next: review {file}: descriptions, access, destructive, pagination, tags; yamcp lint"
    )
    assert done.stderr == ""
    again = cli("import-openapi", str(spec), "--integration", "pets", "--out", str(out), code=1)
    assert again.stdout == "" and again.stderr.startswith("yamcp: ")
    assert again.stderr.count("\n") == 1


def test_tools_prints_name_verb_path_and_tags_per_tool(cli: Cli) -> None:
    text = cli("tools", "--integration", "nager_date").stdout.splitlines()
    listed = json.loads(cli("tools", "--integration", "nager_date", "--json").stdout)
    assert len(text) == len(listed) >= 5
    for line, tool in zip(text, listed, strict=True):
        assert line == (
            f"{tool['name']:<64} {tool['http_method']:<6} {tool['path']}  "
            f"[{', '.join(tool['tags'])}]"
        )
    assert "list_all_nager_date_public_holidays".ljust(64) + " GET    /api/v3/PublicHolidays/" in (
        "\n".join(text)
    )
    everything = cli("tools").stdout.splitlines()
    assert len(everything) > len(text)
    assert any(line.startswith("create_a_postmark_email ") for line in everything)


def test_lint_counts_what_it_checked_and_names_the_file_and_key_it_refuses(cli: Cli) -> None:
    tools = len(json.loads(cli("tools", "--json").stdout))
    assert cli("lint").stdout == (
        f"ok: 2 integration(s), {tools} tools, 4 named policies, 1 accounts\n"
    )

    accounts = cli.workdir / "accounts.yaml"
    accounts.write_text(
        accounts.read_text() + "  elsewhere:\n    integration: nowhere\n"
        "    base_url: http://127.0.0.1:9\n    credentials: {}\n"
    )
    assert cli.refused("lint", code=2) == (
        "yamcp: accounts.yaml: accounts.elsewhere.integration: no integration 'nowhere' is loaded (have: nager_date, postmark)"
    )

    write_workdir(cli.workdir, "http://127.0.0.1:9")
    policies = cli.workdir / "policies"
    policies.mkdir()
    (policies / "guardrails.yaml").write_text(
        "constraints: {create_a_postmark_emial: {MessageStream: {enum: [outbound]}}}\n"
    )
    cli.env["YAMCP_POLICIES_DIR"] = str(policies)
    assert cli.refused("lint", code=2) == (
        f"yamcp: {policies / 'guardrails.yaml'}: constraints.create_a_postmark_emial: "
        "matches no tool"
    )


def test_schema_writes_the_published_schemas_and_names_each_file(cli: Cli) -> None:
    out = cli.workdir / "schemas"
    out.mkdir()
    written = cli("schema", "--out", str(out)).stdout.splitlines()
    assert sorted(written) == sorted(str(path) for path in out.iterdir())
    assert {Path(path).name for path in written} == {
        "manifest.schema.json",
        "resources.schema.json",
    }
    for path in map(Path, written):
        # The copies committed next to the integrations, which editors read, are current.
        assert path.read_text() == (ROOT / "integrations" / path.name).read_text(), path.name


@pytest.mark.parametrize(
    "args",
    [
        ("tools",),
        ("tools", "--json"),
        ("tools", "--bytes"),
        ("plan", str(ROOT / "policies" / "bounce-triage.yaml")),
        ("lint",),
        ("mint", "--account", "acme"),
        ("servers", "list"),
        ("admin-token", "create"),
    ],
    ids=" ".join,
)
def test_output_into_a_closed_pipe_ends_quietly(cli: Cli, args: tuple[str, ...]) -> None:
    """`yamcp tools | head`: the reader has gone before yamcp writes. Python's note on
    SIGPIPE: no traceback, no "Exception ignored" line, exit 1."""
    if args == ("servers", "list"):
        cli.mint()
    read, write = os.pipe()
    os.close(read)  # the reader has already exited, as `head` does
    try:
        done = subprocess.run(
            [sys.executable, "-m", "proxy.cli", *args],
            cwd=cli.workdir,
            env=cli.env,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write)
    assert done.stderr == "" or "shown once" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
    assert done.returncode == 1


def test_tools_piped_into_head_prints_its_first_lines_and_nothing_else(cli: Cli) -> None:
    done = subprocess.run(
        f"{sys.executable} -m proxy.cli tools --json | head -n 3",
        shell=True,
        cwd=cli.workdir,
        env=cli.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.splitlines()[0] == "["
    assert len(done.stdout.splitlines()) == 3
    assert done.stderr == ""


# A store that cannot be reached is one line too, never a traceback (issue 13's review).
@pytest.mark.parametrize(
    "args", [["servers", "list"], ["admin-token", "create"], ["mint", "--account", "acme"]]
)
def test_cli_with_redis_down_says_so_in_one_line(tmp_path: Path, args: list[str]) -> None:
    write_workdir(tmp_path, "http://127.0.0.1:9")
    env = {
        **os.environ,
        "YAMCP_STORE_URL": f"redis://127.0.0.1:{free_port()}/0",
        "YAMCP_INTEGRATIONS_DIRS": str(ROOT / "integrations"),  # mint counts their tools
    }
    out = subprocess.run(
        [sys.executable, "-m", "proxy.cli", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert out.stderr.count("\n") == 1 and "unreachable" in out.stderr, out.stderr
