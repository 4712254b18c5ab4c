"""Guardrails scoped to one integration (`integrations.<name>` in policies/guardrails.yaml).

Issue 17: guardrail tags written for Postmark (`domains`) hid another integration's
`domains` tools. Scoped to Postmark, they hold back only Postmark's, and `yamcp lint`
warns when a top-level tag tags tools of several integrations.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mcp.shared.exceptions import MCPError

from proxy.policy import (
    GuardrailRules,
    Guardrails,
    PolicySet,
    decide,
    load_policies,
    plan,
    rules_for,
)
from proxy.registry import load_registry
from proxy.store import ServerConfig
from tests.support.fake_postmark import FakePostmark
from tests.support.json_upstream import JsonHandler, serving
from tests.support.mcp_client import mcp_client
from tests.support.paths import ROOT
from tests.support.serving import Yamcp, start_yamcp, stop_yamcp, write_workdir

# A registrar: a second integration whose `domains` tag has nothing to do with Postmark's.
MANIFEST = """\
name: registrar
title: Registrar
base_url: https://registrar.invalid
credentials:
  key: {header: Authorization, secret: api_key, prefix: "Bearer "}
pagination: {style: none, items: names}
resources:
  domain:
    tags: [domains]
    methods:
      list:
        http: GET /v1/domains
        description: The domain names registered on the account.
"""

DOMAIN_TOOL = "list_all_registrar_domains"


class Registrar(JsonHandler):
    def do_GET(self) -> None:
        self.send_json({"names": ["example.com", "example.org"]})


@pytest.fixture(scope="module")
def integrations(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the registrar integration, next to the shipped ones."""
    folder = tmp_path_factory.mktemp("more-integrations")
    (folder / "registrar").mkdir()
    (folder / "registrar" / "manifest.yaml").write_text(MANIFEST)
    return folder


def _yamcp(
    workdir: Path, integrations: Path, upstream: str, postmark_url: str, policies: Path
) -> Yamcp:
    write_workdir(
        workdir,
        postmark_url,
        "  names:\n"
        "    integration: registrar\n"
        f"    base_url: {upstream}\n"
        "    credentials:\n"
        "      api_key: ${REGISTRAR_KEY}\n",
    )
    dirs = [ROOT / "integrations", integrations]
    server = start_yamcp(
        workdir,
        {
            "YAMCP_INTEGRATIONS_DIRS": ",".join(map(str, dirs)),
            "YAMCP_POLICIES_DIR": str(policies),
            "REGISTRAR_KEY": "registrar-secret",
        },
    )
    server.settings = server.settings.model_copy(update={"integrations_dirs": dirs})
    return server


@pytest.fixture(scope="module")
def registrar_api() -> Iterator[str]:
    with serving(Registrar) as url:
        yield url


@pytest.fixture(scope="module")
def shipped(
    integrations: Path,
    registrar_api: str,
    fake_postmark: FakePostmark,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Yamcp]:
    """yamcp with the shipped policies folder and the registrar dropped in."""
    workdir = tmp_path_factory.mktemp("scoped")
    server = _yamcp(workdir, integrations, registrar_api, fake_postmark.url, ROOT / "policies")
    yield server
    stop_yamcp(server)


async def _tool_names(url: str, headers: dict[str, str] | None = None) -> set[str]:
    async with mcp_client(url, headers=headers) as client:
        return {tool.name for tool in (await client.list_tools()).tools}


async def test_postmarks_scoped_domains_guardrail_does_not_hide_another_integrations_domains(
    shipped: Yamcp,
) -> None:
    url = await shipped.mint(account="names")
    async with mcp_client(url) as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == {DOMAIN_TOOL}
        listed = await client.call_tool(DOMAIN_TOOL, {})
        assert not listed.is_error
        assert listed.structured_content["result"] == ["example.com", "example.org"]


async def test_postmarks_domains_tools_still_need_api_token_auth(shipped: Yamcp) -> None:
    bare = await _tool_names(await shipped.mint(account="acme"))
    assert "list_all_postmark_domains" not in bare
    assert "list_all_postmark_bounces" in bare
    async with mcp_client(await shipped.mint(account="acme")) as client:
        with pytest.raises(MCPError, match="Unknown tool"):  # hidden is also unknown
            await client.call_tool("list_all_postmark_domains", {})

    record = json.loads(
        shipped.cli("mint", "--account", "acme", "--json", "--require-api-token-auth").stdout
    )
    token = shipped.cli("api-token", "create", "--server", record["id"]).stdout.strip()
    with_token = await _tool_names(record["url"], {"authorization": f"Bearer {token}"})
    assert "list_all_postmark_domains" in with_token
    assert "create_a_postmark_data_removal" not in with_token  # scoped deny_tools


async def test_an_unscoped_domains_guardrail_hides_both_integrations_domains_tools(
    integrations: Path,
    registrar_api: str,
    fake_postmark: FakePostmark,
    tmp_path: Path,
) -> None:
    """The issue as it was: a top-level tag holds back every integration's tools."""
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "guardrails.yaml").write_text("require_api_token_for_tags: [domains]\n")
    server = _yamcp(tmp_path, integrations, registrar_api, fake_postmark.url, policies)
    try:
        assert await _tool_names(await server.mint(account="names")) == set()
        assert "list_all_postmark_domains" not in await _tool_names(
            await server.mint(account="acme")
        )
    finally:
        stop_yamcp(server)


def test_the_admin_preview_names_the_scoped_rule_and_leaves_the_other_integration_alone(
    shipped: Yamcp,
) -> None:
    token = shipped.cli("admin-token", "create").stdout.strip()
    admin = httpx.Client(
        base_url=shipped.base, headers={"authorization": f"Bearer {token}"}, timeout=10
    )
    names = admin.post("/integrated-account/names/mcp-preview", json={"config": {}}).json()
    assert [tool["name"] for tool in names["tools"]] == [DOMAIN_TOOL]
    assert names["summary"]["withheld_by_guardrails"] == 0

    acme = admin.post("/integrated-account/acme/mcp-preview", json={"config": {}}).json()
    reasons = {e["name"]: e["reason"] for e in acme["excluded"] if e["guardrail"]}
    assert reasons["list_all_postmark_domains"] == (
        "guardrail integrations.postmark.require_api_token_for_tags: domains "
        "(server has no API-token auth)"
    )
    assert reasons["create_a_postmark_data_removal"] == (
        "guardrail integrations.postmark.deny_tools: create_a_postmark_data_removal"
    )
    assert acme["summary"]["need_api_token"]["tags"] == [
        "data_removals",
        "domains",
        "sender_signatures",
        "servers",
    ]


def test_plan_names_the_scoped_rule_that_removed_a_tool(shipped: Yamcp, tmp_path: Path) -> None:
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "guardrails.yaml").write_text((ROOT / "policies" / "guardrails.yaml").read_text())
    (folder / "domains.yaml").write_text("tags: [domains]\nmethods: [list]\n")
    for integration, removed in (
        (
            "postmark",
            [
                "removed by guardrails:",
                "- list_all_postmark_domains  (guardrail integrations.postmark."
                "require_api_token_for_tags: domains (server has no API-token auth))",
            ],
        ),
        ("registrar", []),
    ):
        out = shipped.cli("plan", str(folder / "domains.yaml"), "--integration", integration)
        lines = out.stdout.splitlines()
        tail = lines[lines.index("removed by guardrails:") :] if removed else []
        assert tail == removed
        assert (f"+ {DOMAIN_TOOL}" in out.stdout) == (integration == "registrar")


# ---------------------------------------------------------------- the decision, in-process


def _registry(integrations: Path):
    return load_registry([ROOT / "integrations", integrations])


def test_shipped_guardrails_scope_every_postmark_rule_and_name_it_in_the_reason(
    integrations: Path,
) -> None:
    policies = load_policies(ROOT / "policies")
    rails = policies.guardrails
    assert rails.require_api_token_for_tags == [] and rails.deny_tools == []
    assert rails.max_lifetime_days == 365  # integration-neutral: stays at the top level
    registry = _registry(integrations)
    bare = policies.effective(ServerConfig())
    postmark_domains = decide(policies, bare, registry.tools["list_all_postmark_domains"])
    assert not postmark_domains.allowed and postmark_domains.scope == "postmark"
    assert postmark_domains.reason == (
        "guardrail integrations.postmark.require_api_token_for_tags: domains "
        "(server has no API-token auth)"
    )
    removal = decide(policies, bare, registry.tools["create_a_postmark_data_removal"])
    assert (
        removal.reason
        == "guardrail integrations.postmark.deny_tools: create_a_postmark_data_removal"
    )
    assert decide(policies, bare, registry.tools[DOMAIN_TOOL]).allowed

    registrar = [t for t in registry.tools.values() if t.integration == "registrar"]
    assert plan(policies, bare, registrar)["summary"]["text"] == "1 of 1 tools"


def test_scoped_constraints_apply_to_their_integration_only(
    integrations: Path, tmp_path: Path
) -> None:
    registry = _registry(integrations)
    rails = Guardrails(integrations={"registrar": GuardrailRules(deny_tools=["*"])})
    assert rails.scopes("postmark") == [("", rails)]
    scoped = PolicySet(guardrails=rails)
    denied = decide(scoped, scoped.effective(ServerConfig()), registry.tools[DOMAIN_TOOL])
    assert denied.reason == "guardrail integrations.registrar.deny_tools: *"
    postmark = registry.tools["create_a_postmark_email"]
    assert decide(scoped, scoped.effective(ServerConfig()), postmark).allowed
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "guardrails.yaml").write_text(
        "integrations:\n  registrar:\n    constraints:\n      '*':\n        limit: {enum: [1]}\n"
    )
    policies = load_policies(folder)
    bare = policies.effective(ServerConfig())
    (rule,) = rules_for(policies, bare, registry.tools[DOMAIN_TOOL])
    assert rule.source == "guardrails integrations.registrar" and rule.integration == "registrar"
    assert rules_for(policies, bare, registry.tools["list_all_postmark_bounces"]) == ()
    listed = plan(policies, bare, [registry.tools[DOMAIN_TOOL]])["tools"][0]
    assert listed["constraints"] == ["limit: enum [1] (guardrails integrations.registrar)"]


# ---------------------------------------------------------------- yamcp lint


def _lint(policies: Path, integrations: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YAMCP_")}
    env.update(
        YAMCP_INTEGRATIONS_DIRS=f"{ROOT / 'integrations'},{integrations}",
        YAMCP_POLICIES_DIR=str(policies),
        YAMCP_ACCOUNTS_FILE="/nonexistent",
    )
    return subprocess.run(
        [sys.executable, "-m", "proxy.cli", "lint"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _policies(tmp_path: Path, guardrails: str) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "guardrails.yaml").write_text(guardrails)
    return folder


def test_lint_is_quiet_about_the_shipped_guardrails_with_a_second_domains_integration(
    integrations: Path,
) -> None:
    done = _lint(ROOT / "policies", integrations)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.startswith("ok: 3 integration(s), ") and "warning" not in done.stdout


def test_lint_warns_when_a_top_level_tag_tags_tools_of_several_integrations(
    integrations: Path, tmp_path: Path
) -> None:
    policies = _policies(tmp_path, "require_api_token_for_tags: [domains, bounces]\n")
    done = _lint(policies, integrations)
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        f"yamcp: warning: {policies / 'guardrails.yaml'}: require_api_token_for_tags: domains: "
        "tags tools of 2 integrations (postmark, registrar); if it was written for one, "
        "move it to integrations.<name>.require_api_token_for_tags\n"
    )
    assert done.stdout.endswith(", 1 warning(s)\n")


def test_lint_warns_about_a_scope_for_an_integration_that_is_not_loaded(
    integrations: Path, tmp_path: Path
) -> None:
    policies = _policies(
        tmp_path,
        "integrations:\n  postmrk:\n    deny_tools: [create_a_postmark_email]\n"
        "    constraints: {nothing_here: {To: {required: true}}}\n",
    )
    done = _lint(policies, integrations)
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        f"yamcp: warning: {policies / 'guardrails.yaml'}: integrations.postmrk: no integration "
        "'postmrk' is loaded (have: nager_date, postmark, registrar); its rules apply to no tool\n"
    )


def test_lint_warns_about_scoped_tags_and_tools_the_integration_does_not_have(
    integrations: Path, tmp_path: Path
) -> None:
    policies = _policies(
        tmp_path,
        "integrations:\n  registrar:\n"
        "    require_api_token_for_tags: [domains, servers]\n"
        "    deny_tools: [create_a_postmark_data_removal, list_all_registrar_*]\n",
    )
    done = _lint(policies, integrations)
    assert done.returncode == 0, done.stderr
    file = policies / "guardrails.yaml"
    assert done.stderr.splitlines() == [
        f"yamcp: warning: {file}: integrations.registrar.require_api_token_for_tags: servers: "
        "no registrar tool has this tag",
        f"yamcp: warning: {file}: integrations.registrar.deny_tools: "
        "create_a_postmark_data_removal: matches no registrar tool",
    ]


def test_lint_refuses_a_scoped_constraint_that_matches_none_of_its_integrations_tools(
    integrations: Path, tmp_path: Path
) -> None:
    """As at the top level, a constraint that matches no tool is an error (exit 2): in a
    scope, it must match one of that integration's tools."""
    policies = _policies(
        tmp_path,
        "integrations:\n  registrar:\n"
        "    constraints: {create_a_postmark_email: {To: {required: true}}}\n",
    )
    done = _lint(policies, integrations)
    assert done.returncode == 2
    assert done.stderr == (
        f"yamcp: {policies / 'guardrails.yaml'}: "
        "integrations.registrar.constraints.create_a_postmark_email: matches no tool\n"
    )


def test_a_typo_in_a_scoped_block_is_refused_with_its_key(tmp_path: Path) -> None:
    policies = _policies(tmp_path, "integrations:\n  postmark:\n    deny_tool: [x]\n")
    with pytest.raises(Exception, match=r"integrations\.postmark\.deny_tool"):
        load_policies(policies)
