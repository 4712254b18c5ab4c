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
from pathlib import Path

import pytest

from proxy.policy import load_policies
from proxy.servers import CHATGPT_NOTE, ServerRequest, create_server
from proxy.settings import Settings
from proxy.store import SQLiteStore
from tests.conftest import ROOT, write_workdir
from tests.fake_postmark import FakePostmark

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

    listing = cli("servers", "list")
    lines = listing.stdout.splitlines()
    assert len(lines) == 4 and listing.stderr == ""
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
    assert re.fullmatch(
        rf"{constrained}  acme  'outbound only'  methods=create tags=sending"
        rf" constraints=create_a_postmark_email  expires=\S+Z",
        rows[constrained],
    )
    for created in (everything, triage, reader):
        assert created["url"] not in listing.stdout
    assert "/mcp/" not in listing.stdout

    assert [row["id"] for row in json.loads(cli("servers", "list", "--json").stdout)] == [
        line.split("  ")[0] for line in lines
    ]
    nobody = cli("servers", "list", "--account", "nobody")
    assert nobody.stdout == "" and nobody.stderr == "no MCP servers\n"


def test_mint_prints_the_url_alone_and_refuses_in_one_line(cli: Cli) -> None:
    minted = cli("mint", "--account", "acme")
    assert re.fullmatch(rf"{re.escape(PUBLIC)}/mcp/[A-Za-z0-9_-]{{43}}\n", minted.stdout)
    assert minted.stderr == ""

    assert cli.refused("mint", "--account", "nobody", code=1) == (
        "yamcp: no account 'nobody' in accounts.yaml (have: acme)"
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
        "(have: bounce-triage, deliverability, transactional-sender)"
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
        f"ok: 2 integration(s), {tools} tools, 3 named policies, 1 accounts\n"
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
