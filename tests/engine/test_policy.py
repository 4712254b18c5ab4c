"""The decision function over a table of policies and tools, and argument constraints."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from proxy.errors import ConfigError
from proxy.policy import (
    Guardrails,
    PolicyFile,
    PolicySet,
    check_arguments,
    compile_rules,
    decide,
    load_policies,
    rules_for,
)
from proxy.registry import load_registry
from proxy.store import ServerConfig, ServerRecord, utcnow
from tests.support.paths import ROOT

REGISTRY = load_registry([ROOT / "integrations"])
TOOLS = REGISTRY.tools


def record(config: ServerConfig, **kw: object) -> ServerRecord:
    return ServerRecord(
        id="srv_t", name="t", account="acme", config=config, created_at=utcnow(), **kw
    )


def exposed(policies: PolicySet, config: ServerConfig, **kw: object) -> set[str]:
    effective = policies.effective(config, record(config, **kw))
    return {n for n, t in TOOLS.items() if decide(policies, effective, t).allowed}


NO_RULES = PolicySet()


@pytest.mark.parametrize(
    ("config", "included", "excluded"),
    [
        (ServerConfig(), {"create_a_postmark_email", "list_all_postmark_bounces"}, set()),
        (
            ServerConfig(methods=["read"]),
            {"list_all_postmark_bounces", "create_a_postmark_template_validation"},
            {"create_a_postmark_email", "delete_a_postmark_template_by_id"},
        ),
        (
            ServerConfig(methods=["write"]),
            {"create_a_postmark_email", "delete_a_postmark_webhook_by_id"},
            {"list_all_postmark_bounces", "create_a_postmark_template_validation"},
        ),
        (
            ServerConfig(methods=["list"]),
            {"list_all_postmark_bounces"},
            {"get_single_postmark_bounce_by_id"},
        ),
        (
            ServerConfig(methods=["get", "delete"]),
            {"get_single_postmark_bounce_by_id", "delete_a_postmark_template_by_id"},
            {"list_all_postmark_bounces", "create_a_postmark_email"},
        ),
        (
            ServerConfig(tags=["bounces"]),
            {"list_all_postmark_bounces", "create_a_postmark_bounce_activation"},
            {"create_a_postmark_email", "list_all_postmark_templates"},
        ),
        (
            ServerConfig(methods=["read", "write"], tags=["bounces", "outbound_messages"]),
            {"create_a_postmark_email", "create_a_postmark_bounce_activation"},
            {"list_all_postmark_templates", "list_all_postmark_webhooks"},
        ),
        (
            ServerConfig(methods=["read"], tags=["no-such-tag"]),
            set(),
            {"list_all_postmark_bounces"},
        ),
    ],
)
def test_methods_and_tags_table(config: ServerConfig, included: set, excluded: set) -> None:
    names = exposed(NO_RULES, config)
    assert included <= names
    assert not (excluded & names)


def test_every_tool_is_read_or_write_and_reads_are_read_only() -> None:
    for tool in TOOLS.values():
        assert tool.access in ("read", "write")
        assert tool.definition["annotations"]["readOnlyHint"] is (tool.access == "read")


def test_guardrails_deny_and_api_token_tags() -> None:
    policies = PolicySet(
        guardrails=Guardrails(
            deny_tools=["create_a_postmark_data_removal"], require_api_token_for_tags=["domains"]
        )
    )
    without = exposed(policies, ServerConfig())
    assert "create_a_postmark_data_removal" not in without
    assert "list_all_postmark_domains" not in without
    with_token = exposed(policies, ServerConfig(), require_api_token_auth=True)
    assert "list_all_postmark_domains" in with_token
    assert "create_a_postmark_data_removal" not in with_token
    effective = policies.effective(ServerConfig(), record(ServerConfig()))
    decision = decide(policies, effective, TOOLS["list_all_postmark_domains"])
    assert decision.by_guardrail and "require_api_token_for_tags" in decision.reason


def test_guardrail_is_not_blamed_for_what_the_policy_never_granted() -> None:
    policies = PolicySet(guardrails=Guardrails(deny_tools=["create_a_postmark_data_removal"]))
    config = ServerConfig(methods=["read"])
    effective = policies.effective(config, record(config))
    decision = decide(policies, effective, TOOLS["create_a_postmark_data_removal"])
    assert not decision.allowed and not decision.by_guardrail


def test_constraints_enum_pattern_split_and_nested() -> None:
    rules = compile_rules(
        {
            "create_a_postmark_*email": {
                "MessageStream": {"enum": ["outbound"]},
                "To": {"pattern": r"@ours\.com>?$", "split": ","},
            },
            "create_a_postmark_email_batch": {"Messages[].To": {"pattern": r"@ours\.com$"}},
        },
        "policy 'x'",
        "x.yaml",
    )
    send = [r for r in rules if r.tool_glob == "create_a_postmark_*email"]
    assert check_arguments(tuple(send), {"To": "a@ours.com", "MessageStream": "outbound"}) == []
    assert check_arguments(tuple(send), {"To": "a@ours.com"}) == []  # upstream default stream
    problems = check_arguments(tuple(send), {"To": "a@ours.com", "MessageStream": "broadcasts"})
    assert problems == ["policy 'x': MessageStream 'broadcasts' is not one of ['outbound']"]
    # A second recipient cannot ride along behind an allowed one.
    problems = check_arguments(tuple(send), {"To": "a@ours.com, b@evil.com"})
    assert problems == ["policy 'x': To 'b@evil.com' does not match pattern @ours\\.com>?$"]
    assert check_arguments(tuple(send), {"To": "Ann <a@ours.com>"}) == []
    batch = [r for r in rules if r.tool_glob == "create_a_postmark_email_batch"]
    bad = {"Messages": [{"To": "a@ours.com"}, {"To": "x@evil.com"}]}
    assert len(check_arguments(tuple(batch), bad)) == 1


def test_required_constraint_refuses_a_missing_argument() -> None:
    rules = compile_rules(
        {"*": {"MessageStream": {"enum": ["outbound"], "required": True}}}, "g", "g"
    )
    assert check_arguments(rules, {}) == ["g: MessageStream is required"]


def test_rules_for_matches_globs_and_puts_guardrails_first() -> None:
    policies = PolicySet(
        guardrails=Guardrails(),
        guardrail_rules=compile_rules({"create_*": {"To": {"required": True}}}, "guardrails", "g"),
    )
    config = ServerConfig(constraints={"create_a_postmark_email": {"Tag": {"enum": ["a"]}}})
    effective = policies.effective(config, record(config))
    rules = rules_for(policies, effective, TOOLS["create_a_postmark_email"])
    assert [r.source for r in rules] == ["guardrails", "server config"]
    assert rules_for(policies, effective, TOOLS["list_all_postmark_bounces"]) == ()


def test_expiry_is_the_earliest_of_server_policy_and_guardrail() -> None:
    policies = PolicySet(guardrails=Guardrails(max_lifetime_days=1))
    now = utcnow()
    rec = record(ServerConfig(), expires_at=now + timedelta(days=30))
    assert policies.expiry(rec) == rec.created_at + timedelta(days=1)
    rec = record(ServerConfig(), expires_at=now + timedelta(hours=1))
    assert policies.expiry(rec) == now + timedelta(hours=1)


def test_a_named_policy_brings_its_expiry_and_api_token_auth_to_its_servers() -> None:
    now = utcnow()
    policies = PolicySet(
        guardrails=Guardrails(max_lifetime_days=30, require_api_token_for_tags=["domains"]),
        named={
            "gated": PolicyFile(
                tags=["domains"], require_api_token_auth=True, expires_at=now + timedelta(days=2)
            ),
            "open": PolicyFile(tags=["domains"]),
        },
        named_rules={"gated": (), "open": ()},
    )
    config = ServerConfig(policy="gated")
    rec = record(config, expires_at=now + timedelta(days=10))  # its own: later than the policy's
    assert policies.expiry(rec) == now + timedelta(days=2)
    effective = policies.effective(config, rec)
    assert effective.expires_at == now + timedelta(days=2)
    assert effective.require_api_token_auth is True
    assert "list_all_postmark_domains" in exposed(policies, config)
    # Without the policy's demand, the guardrail withholds the domains tools.
    assert policies.effective(ServerConfig(policy="open"), rec).require_api_token_auth is False
    assert "list_all_postmark_domains" not in exposed(policies, ServerConfig(policy="open"))


def test_shipped_policies_load_and_grant_what_they_say() -> None:
    policies = load_policies(ROOT / "policies")
    assert {"bounce-triage", "deliverability", "transactional-sender"} <= set(policies.named)
    triage = exposed(policies, ServerConfig(policy="bounce-triage"))
    assert triage and all(TOOLS[n].access == "read" and "bounces" in TOOLS[n].tags for n in triage)
    sender = exposed(policies, ServerConfig(policy="transactional-sender"))
    assert "create_a_postmark_email" in sender
    assert "create_a_postmark_template" not in sender
    assert not any("message_stream_archive" in n for n in sender)


def test_bad_policy_file_names_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("methods: [read, explode]\n")
    with pytest.raises(ConfigError) as info:
        load_policies(tmp_path)
    assert info.value.file.endswith("broken.yaml") and info.value.path == "methods"
    (tmp_path / "broken.yaml").write_text("constraints: {x: {To: {pattern: '('}}}\n")
    with pytest.raises(ConfigError) as info:
        load_policies(tmp_path)
    assert "not a regular expression" in info.value.reason
    (tmp_path / "broken.yaml").write_text("constraints: {x: {To: {email_domains: [a@b.com]}}}\n")
    with pytest.raises(ConfigError) as info:
        load_policies(tmp_path)
    assert info.value.path == "constraints.x.To.email_domains"
    assert "'a@b.com' is not a domain" in info.value.reason


def yamcp_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "proxy.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "YAMCP_ACCOUNTS_FILE": "/nonexistent/accounts.yaml"},
    )


def test_plan_prints_a_stable_sorted_grant() -> None:
    first = yamcp_cli("plan", "policies/bounce-triage.yaml")
    assert first.returncode == 0, first.stderr
    assert first.stdout == yamcp_cli("plan", "policies/bounce-triage.yaml").stdout
    granted = [line[2:].split()[0] for line in first.stdout.splitlines() if line.startswith("+ ")]
    assert granted == sorted(granted)
    assert "list_all_postmark_bounces" in granted
    assert "create_a_postmark_email" not in first.stdout


def test_plan_shows_constraints_and_guardrail_removals(tmp_path: Path) -> None:
    (tmp_path / "guardrails.yaml").write_text("deny_tools: [create_a_postmark_email_batch]\n")
    (tmp_path / "sender.yaml").write_text(
        "methods: [create]\ntags: [sending]\n"
        "constraints: {create_a_postmark_email: {MessageStream: {enum: [outbound]}}}\n"
    )
    out = yamcp_cli("plan", str(tmp_path / "sender.yaml"))
    assert out.returncode == 0, out.stderr
    assert "constraint MessageStream: enum ['outbound']" in out.stdout
    assert "- create_a_postmark_email_batch  (guardrail deny_tools" in out.stdout


def test_lint_fails_with_file_and_reason(tmp_path: Path) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "proxy.cli", "lint"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "YAMCP_ACCOUNTS_FILE": "/nonexistent"},
    )
    assert ok.returncode == 0, ok.stderr
    (tmp_path / "bad.yaml").write_text("tags: [x]\nsurprise: 1\n")
    bad = subprocess.run(
        [sys.executable, "-m", "proxy.cli", "lint"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "YAMCP_POLICIES_DIR": str(tmp_path),
            "YAMCP_ACCOUNTS_FILE": "/nonexistent",
        },
    )
    assert bad.returncode == 2
    assert "bad.yaml: surprise: unknown key" in bad.stderr
