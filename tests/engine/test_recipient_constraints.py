"""`email_domains`: recipient lists parsed as RFC 5322 address lists, not matched by regex.

Issue 13, finding 5: with a regex per comma-separated part, `To: "evil@attacker.com;a@
example.com"` (and newline variants) passed, and a `Headers` entry named Bcc smuggled a
recipient past every constraint. Each case below was a bypass or is one a parser must
not open; the end-to-end tests prove nothing reaches the upstream.
"""

from __future__ import annotations

import random
import subprocess
import sys
from typing import Any

import pytest

from proxy.addresses import AddressListError, _parse_or_raise
from proxy.errors import ConfigError
from proxy.policy import (
    check_arguments,
    compile_rules,
    describe_rule,
    load_policies,
    plan,
    rules_for,
)
from proxy.registry import load_registry
from proxy.store import ServerConfig, ServerRecord, utcnow
from tests.support.fake_postmark import FakePostmark
from tests.support.mcp_client import mcp_client
from tests.support.paths import ROOT
from tests.support.serving import Yamcp

REGISTRY = load_registry([ROOT / "integrations"])


def rules(domains: list[str], argument: str = "To", **extra: Any) -> tuple:
    return compile_rules(
        {"t": {argument: {"email_domains": domains, **extra}}}, "policy 'p'", "p.yaml"
    )


def ours() -> tuple:
    return rules(["example.com"])


# --- the parser and the domain check -------------------------------------------------

REFUSED = [
    "evil@attacker.com;a@example.com",  # the finding: ';' was not a separator
    "a@example.com;evil@attacker.com",
    "a@example.com\nBcc: evil@attacker.com",  # header injection
    "a@example.com\r\nevil@attacker.com",
    "a@example.com\revil@attacker.com",
    "a@example.com\x00evil@attacker.com",
    "a@example.com\tevil@attacker.com",
    "a@example.com\u2028evil@attacker.com",  # Unicode line separator
    "a@example.com\u0085evil@attacker.com",  # NEL
    '"a@example.com" <evil@attacker.com>',  # the display name is not the address
    "a@example.com <evil@attacker.com>",
    "evil@attacker.com (a@example.com)",  # a comment is not the address
    "a@example.com (evil@attacker.com)",  # comments are refused outright
    "a@example.com (Jane)",
    "a@example.com, evil@attacker.com",
    "a@example.com,evil@attacker.com",
    "<evil@attacker.com>",
    "evil@attacker.com@example.com",
    "a@example.com.attacker.com",
    "a@example.com.",  # trailing dot: the parser flags it
    "a@sub.example.com",  # no wildcard in the allow-list
    "a@ex\u0430mple.com",  # Cyrillic a
    "a@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com",  # fullwidth: IDNA 2003 maps it to ASCII
    "a@example\u3002com",  # ideographic full stop
    "x: evil@attacker.com;",  # group syntax
    "x: a@example.com;",
    "undisclosed-recipients:;",
    "",
    "   ",
    ",",
    "a@example.com,,b@example.com",  # an empty entry
    "a@example.com,",
    "a",  # no domain
    "a@",
    "@example.com",
    "a@[127.0.0.1]",  # a domain literal
    "<@attacker.com:a@example.com>",  # an obsolete source route
    '"x,evil@attacker.com,y"@example.com',  # a naive comma split finds evil@attacker.com
    '"evil@attacker.com" <a@example.com>',
    '"unterminated <a@example.com>',
    "Jane <a@example.com",
    "a@example.com>",
    "a b@example.com",
    "a@exam ple.com",
]

ACCEPTED = [
    "a@example.com",
    "A@EXAMPLE.COM",
    "a@Example.Com",
    "Jane Doe <jane@example.com>",
    '"Doe, Jane" <jane@example.com>',
    '"weird;local"@example.com',
    "a@example.com, b@example.com",
    "a@example.com; b@example.com",
    "a@example.com;b@example.com",
    '"jane@example.com" <jane@example.com>',
    "=?utf-8?q?J=C3=B6rg?= <jorg@example.com>",
    "J\u00f6rg <jorg@example.com>",
    "  a@example.com  ,  Jane <j@example.com>  ",
]


@pytest.mark.parametrize("value", REFUSED)
def test_adversarial_recipient_lists_are_refused(value: str) -> None:
    problems = check_arguments(ours(), {"To": value})
    assert len(problems) == 1, problems
    assert problems[0].startswith("policy 'p': To ")
    assert len(problems[0]) < 240  # short, even for long values


@pytest.mark.parametrize("value", ACCEPTED)
def test_legitimate_recipient_lists_are_accepted(value: str) -> None:
    assert check_arguments(ours(), {"To": value}) == []


def _outcome(value: str, fast: bool) -> object:
    try:
        return _parse_or_raise(value, fast)
    except AddressListError:
        return "refused"


def test_the_fast_path_answers_as_the_email_parser_does() -> None:
    # The common shapes skip the (slow) parser; they must get the parser's answer.
    rng = random.Random(5322)
    atoms = ["a", "Jane", "o'neil", "x+tag", "A_B", "z9", "-", "é", '"q"', "a.b", "."]
    domains = ["example.com", "EXAMPLE.com", "sub.example.com", "-x.com", "x-.com", "a..b"]
    samples = list(REFUSED) + list(ACCEPTED)
    for _ in range(3000):
        local = rng.choice(atoms) + rng.choice(["", ".", ".."]) + rng.choice(atoms)
        address = f"{local}@{rng.choice(domains)}{rng.choice(['', '.', ' '])}"
        name = " ".join(rng.choice(atoms) for _ in range(rng.randint(0, 3)))
        shape = rng.choice(["{a}", "{n} <{a}>", "{n}<{a}>", "<{a}>", "{n}  <{a}>", "{a} x"])
        samples.append(shape.format(a=address, n=name))
    for value in samples:
        assert _outcome(value, fast=True) == _outcome(value, fast=False), value


def test_the_message_names_rule_argument_and_the_offending_address() -> None:
    [problem] = check_arguments(ours(), {"To": "a@example.com, Eve <evil@attacker.com>"})
    assert problem == (
        "policy 'p': To 'evil@attacker.com' is not at an allowed domain (email_domains: "
        "example.com)"
    )
    [problem] = check_arguments(ours(), {"To": "a@ex\u0430mple.com"})
    assert "xn--exmple-4nf.com" in problem  # the lookalike, spelled so a reader sees it
    [problem] = check_arguments(ours(), {"To": "a@example.com\nBcc: evil@attacker.com"})
    assert "control character" in problem and "\\n" in problem
    [problem] = check_arguments(ours(), {"To": "x: evil@attacker.com;"})
    assert "':' outside quotes (group or route syntax)" in problem
    [problem] = check_arguments(ours(), {"To": "a@example.com (Jane)"})
    assert "comment" in problem
    [problem] = check_arguments(ours(), {"To": "a@example.com, " + "x" * 500 + "@attacker.com"})
    assert len(problem) < 240 and "…" in problem


def test_non_strings_are_refused() -> None:
    for value in (42, {"Email": "a@example.com"}, True, ["a@example.com", 7]):
        problems = check_arguments(ours(), {"To": value})
        assert problems and all("not a string" in p for p in problems), (value, problems)


def test_a_list_of_strings_is_checked_string_by_string() -> None:
    batch = rules(["example.com"], "Messages[].To")
    ok = {"Messages": [{"To": "a@example.com"}, {"To": "Jane <j@example.com>"}]}
    assert check_arguments(batch, ok) == []
    bad = {"Messages": [{"To": "a@example.com"}, {"To": "evil@attacker.com;a@example.com"}]}
    [problem] = check_arguments(batch, bad)
    assert problem.startswith("policy 'p': Messages[].To ")
    # An empty string in a batch is refused, an absent field is not checked.
    assert check_arguments(batch, {"Messages": [{"To": ""}]})
    assert check_arguments(batch, {"Messages": [{"Cc": "x"}]}) == []


def test_every_address_of_a_list_is_checked() -> None:
    many = ", ".join(f"u{i}@example.com" for i in range(49)) + ", evil@attacker.com"
    [problem] = check_arguments(ours(), {"To": many})
    assert "'evil@attacker.com'" in problem


def test_subdomains_need_a_wildcard_entry() -> None:
    wild = rules(["*.example.com"])
    assert check_arguments(wild, {"To": "a@sub.example.com, b@x.y.example.com"}) == []
    assert check_arguments(wild, {"To": "a@example.com"})  # the wildcard is subdomains only
    assert check_arguments(wild, {"To": "a@badexample.com"})
    assert check_arguments(wild, {"To": "a@example.com.attacker.com"})
    both = rules(["example.com", "*.example.com"])
    assert check_arguments(both, {"To": "a@example.com, b@sub.example.com"}) == []


def test_allow_list_entries_are_normalised_at_load() -> None:
    loud = rules(["EXAMPLE.COM.", "b\u00fccher.de"])
    assert check_arguments(loud, {"To": "a@example.com, b@B\u00dcCHER.de"}) == []
    assert check_arguments(loud, {"To": "b@xn--bcher-kva.de"}) == []
    assert check_arguments(loud, {"To": "b@bucher.de"})


@pytest.mark.parametrize(
    ("constraint", "reason"),
    [
        ({"email_domains": []}, "at least 1"),
        ({"email_domains": ["exa mple.com"]}, "not a domain"),
        ({"email_domains": ["@example.com"]}, "not a domain"),
        ({"email_domains": ["a@example.com"]}, "not a domain"),
        ({"email_domains": ["example.*"]}, "not a domain"),
        ({"email_domains": ["*"]}, "not a domain"),
        ({"email_domains": ["ex\uff41mple.com"]}, "not a domain"),
        ({"email_domains": ["example.com"], "split": ","}, "split"),
        ({"email_domains": ["example.com"], "enum": ["a@example.com"]}, "enum"),
    ],
)
def test_bad_email_domains_are_refused_at_load(constraint: dict, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        compile_rules({"t": {"To": constraint}}, "policy 'p'", "p.yaml")
    assert reason in info.value.reason, info.value.reason


def test_email_domains_combines_with_required() -> None:
    strict = rules(["example.com"], required=True)
    assert check_arguments(strict, {}) == ["policy 'p': To is required"]
    assert check_arguments(strict, {"To": "a@example.com"}) == []


def test_describe_rule_shows_the_kind() -> None:
    [rule] = rules(["example.com", "*.example.org"])
    assert describe_rule(rule) == "To: email_domains ['example.com', '*.example.org'] (policy 'p')"


# --- the shipped policies --------------------------------------------------------------


SHIPPED = load_policies(ROOT / "policies")
SEND_TOOLS = [
    "create_a_postmark_email",
    "create_a_postmark_templated_email",
    "create_a_postmark_email_batch",
    "create_a_postmark_templated_email_batch",
]


def _effective(policy: str) -> Any:
    config = ServerConfig(policy=policy)
    record = ServerRecord(id="s", name="s", account="a", config=config, created_at=utcnow())
    return SHIPPED.effective(config, record)


@pytest.mark.parametrize("tool", SEND_TOOLS)
def test_transactional_sender_constrains_every_recipient_field_with_email_domains(
    tool: str,
) -> None:
    effective = _effective("transactional-sender")
    found = rules_for(SHIPPED, effective, REGISTRY.tools[tool])
    prefix = "Messages[]." if tool.endswith("_batch") else ""
    by_argument = {r.argument: r.constraint for r in found}
    for field in ("To", "Cc", "Bcc"):
        constraint = by_argument[prefix + field]
        assert constraint.email_domains == ["example.com"]
        assert constraint.pattern is None and constraint.split is None
    # The finding's first bypass, as the shipped policy sees it.
    key = "Messages" if prefix else None
    value = "evil@attacker.com;a@example.com"
    arguments = {key: [{"To": value}]} if key else {"To": value}
    assert check_arguments(found, arguments)


def test_no_shipped_policy_constrains_recipients_with_a_regex() -> None:
    for name, compiled in [("guardrails", SHIPPED.guardrail_rules), *SHIPPED.named_rules.items()]:
        for rule in compiled:
            leaf = rule.argument.rsplit(".", 1)[-1]
            if leaf in ("To", "Cc", "Bcc"):
                assert rule.constraint.email_domains, (name, rule.argument)
                assert rule.constraint.pattern is None, (name, rule.argument)


def test_plan_of_transactional_sender_shows_email_domains() -> None:
    effective = _effective("transactional-sender")
    granted = plan(SHIPPED, effective, REGISTRY.tools.values())["tools"]
    send = next(t for t in granted if t["name"] == "create_a_postmark_email")
    assert (
        "To: email_domains ['example.com'] (policy 'transactional-sender')" in (send["constraints"])
    )


# --- the Postmark check: recipient headers ---------------------------------------------


def _hooks() -> Any:
    load_registry([ROOT / "integrations"])
    return sys.modules["yamcp_integrations.postmark.hooks"]


def _takes_headers(schema: dict) -> bool:
    properties = schema.get("properties", {})
    items = properties.get("Messages", {}).get("items", {})
    return "Headers" in properties or "Headers" in items.get("properties", {})


def test_every_send_tool_with_headers_runs_the_recipient_header_check() -> None:
    takes = {
        name
        for name, tool in REGISTRY.tools.items()
        if tool.integration == "postmark" and _takes_headers(tool.definition["inputSchema"])
    }
    assert takes == {
        "create_a_postmark_email",
        "create_a_postmark_templated_email",
        "create_a_postmark_email_batch",
        "create_a_postmark_templated_email_batch",
        "create_a_postmark_bulk_email",
        "create_a_postmark_broadcast_email",
        "create_a_postmark_templated_broadcast_email",
        "create_a_postmark_broadcast_email_batch",
        "create_a_postmark_templated_broadcast_email_batch",
    }
    for name in takes:
        checks = [check.__name__ for check in REGISTRY.tools[name].checks]
        assert checks[0] == "check_recipient_headers", name  # first: it needs no lookup


class _Ctx:
    def __init__(self, rules: tuple = ()) -> None:
        self.rules = rules


@pytest.mark.parametrize(
    "name",
    ["Bcc", "bcc", " BCC ", "To", "cc", "Resent-To", "resent-cc", "Resent-Bcc", "\tCc\t"],
)
async def test_recipient_headers_are_refused_under_an_email_domains_rule(name: str) -> None:
    hooks = _hooks()
    ctx = _Ctx(rules(["example.com"]))
    arguments = {"To": "a@example.com", "Headers": [{"Name": name, "Value": "evil@attacker.com"}]}
    with pytest.raises(hooks.HookRefused) as info:
        await hooks.check_recipient_headers(ctx, arguments)
    assert "Headers[0]" in str(info.value) and "Nothing was sent" in str(info.value)


async def test_header_injection_in_headers_is_refused_under_an_email_domains_rule() -> None:
    hooks = _hooks()
    ctx = _Ctx(rules(["example.com"]))
    for header in (
        {"Name": "X-Note", "Value": "hi\r\nBcc: evil@attacker.com"},
        {"Name": "X-Note\r\nBcc", "Value": "evil@attacker.com"},
        {"Name": "Bcc:", "Value": "evil@attacker.com"},
        {"Name": "X-Note: x\nBcc", "Value": "evil@attacker.com"},
    ):
        with pytest.raises(hooks.HookRefused):
            await hooks.check_recipient_headers(ctx, {"To": "a@example.com", "Headers": [header]})


async def test_batch_and_bulk_headers_are_checked_message_by_message() -> None:
    hooks = _hooks()
    ctx = _Ctx(rules(["example.com"], "Messages[].To"))
    bcc = [{"Name": "Bcc", "Value": "evil@attacker.com"}]
    batch = {"Messages": [{"To": "a@example.com"}, {"To": "b@example.com", "Headers": bcc}]}
    with pytest.raises(hooks.HookRefused) as info:
        await hooks.check_recipient_headers(ctx, batch)
    assert "Messages[1].Headers[0]" in str(info.value)
    bulk = {"Headers": bcc, "Messages": [{"To": "a@example.com"}]}
    with pytest.raises(hooks.HookRefused) as info:
        await hooks.check_recipient_headers(ctx, bulk)
    assert "Headers[0]" in str(info.value)


async def test_headers_pass_without_an_email_domains_rule() -> None:
    hooks = _hooks()
    arguments = {
        "To": "a@example.com",
        "Headers": [{"Name": "Bcc", "Value": "audit@elsewhere.org"}],
    }
    await hooks.check_recipient_headers(_Ctx(), arguments)
    other = compile_rules({"t": {"Tag": {"enum": ["x"]}}}, "p", "p")
    await hooks.check_recipient_headers(_Ctx(other), arguments)
    ok = {"To": "a@example.com", "Headers": [{"Name": "X-Tracking", "Value": "1"}]}
    await hooks.check_recipient_headers(_Ctx(rules(["example.com"])), ok)


def test_the_engine_never_mentions_postmark() -> None:
    for module in ("policy.py", "addresses.py"):
        assert "postmark" not in (ROOT / "proxy" / module).read_text().lower()


# --- end to end: the real stack, the fake Postmark -------------------------------------

SEND = {"From": "sender@example.com", "TextBody": "hi", "MessageStream": "outbound"}
TEMPLATED = {"From": "sender@example.com", "TemplateAlias": "welcome", "MessageStream": "outbound"}
WELCOME_MODEL = {
    "name": "Ann",
    "product_name": "Acme",
    "items": [{"title": "Widget"}],
    "company": {"address": "1 Road"},
}
BYPASSES = [
    "evil@attacker.com;a@example.com",
    "a@example.com;evil@attacker.com",
    "a@example.com\nBcc: evil@attacker.com",
    "a@example.com\r\nevil@attacker.com",
    '"a@example.com" <evil@attacker.com>',
    "a@example.com <evil@attacker.com>",
    "evil@attacker.com (a@example.com)",
    "<evil@attacker.com>",
    "evil@attacker.com@example.com",
    "a@example.com.attacker.com",
    "a@sub.example.com",
    "a@ex\u0430mple.com",
    "x: evil@attacker.com;",
]


def sends(postmark: FakePostmark) -> list[Any]:
    """What reached the fake's send endpoints."""
    return [r for r in postmark.requests if r.method == "POST" and r.path.startswith("/email")]


async def test_each_recipient_bypass_is_refused_end_to_end(
    yamcp: Yamcp, postmark: FakePostmark
) -> None:
    url = await yamcp.mint(config={"policy": "transactional-sender"})
    async with mcp_client(url) as client:
        for field in ("To", "Cc", "Bcc"):
            for value in BYPASSES:
                arguments = SEND | {"To": "a@example.com", field: value}
                result = await client.call_tool("create_a_postmark_email", arguments)
                assert result.is_error, (field, value)
                text = result.content[0].text
                assert "transactional-sender" in text and f"{field} " in text, text
        batch = {
            "Messages": [
                SEND | {"To": "a@example.com"},
                SEND | {"To": "evil@attacker.com;a@example.com"},
            ]
        }
        result = await client.call_tool("create_a_postmark_email_batch", batch)
        assert result.is_error and "Messages[].To" in result.content[0].text
    assert sends(postmark) == []


HEADER_CALLS = [
    ("create_a_postmark_email", SEND | {"To": "a@example.com"}, None),
    (
        "create_a_postmark_templated_email",
        TEMPLATED | {"To": "a@example.com", "TemplateModel": WELCOME_MODEL},
        None,
    ),
    ("create_a_postmark_email_batch", SEND | {"To": "a@example.com"}, "Messages"),
    (
        "create_a_postmark_templated_email_batch",
        TEMPLATED | {"To": "a@example.com", "TemplateModel": WELCOME_MODEL},
        "Messages",
    ),
]


@pytest.mark.parametrize(("tool", "message", "batch"), HEADER_CALLS)
async def test_a_bcc_header_cannot_smuggle_a_recipient_end_to_end(
    yamcp: Yamcp, postmark: FakePostmark, tool: str, message: dict, batch: str | None
) -> None:
    url = await yamcp.mint(config={"policy": "transactional-sender"})
    async with mcp_client(url) as client:
        for name in ("Bcc", " bcc ", "CC", "To", "Resent-Bcc"):
            headers = [{"Name": "X-Ok", "Value": "1"}, {"Name": name, "Value": "evil@attacker.com"}]
            smuggled = message | {"Headers": headers}
            arguments = {batch: [message, smuggled]} if batch else smuggled
            result = await client.call_tool(tool, arguments)
            assert result.is_error, (tool, name)
            text = result.content[0].text
            assert "Headers[1]" in text and "Nothing was sent" in text, text
        injected = message | {"Headers": [{"Name": "X-Note", "Value": "x\r\nBcc: e@attacker.com"}]}
        result = await client.call_tool(tool, {batch: [injected]} if batch else injected)
        assert result.is_error, tool
    assert sends(postmark) == []


async def test_bulk_headers_are_refused_under_a_recipient_constraint_end_to_end(
    yamcp: Yamcp, postmark: FakePostmark
) -> None:
    url = await yamcp.mint(
        config={
            "tags": ["sending"],
            "constraints": {
                "create_a_postmark_bulk_email": {
                    "Messages[].To": {"email_domains": ["example.com"]},
                    "Messages[].Cc": {"email_domains": ["example.com"]},
                    "Messages[].Bcc": {"email_domains": ["example.com"]},
                }
            },
        }
    )
    bcc = [{"Name": "bcc", "Value": "evil@attacker.com"}]
    base = {
        "From": "sender@example.com",
        "Subject": "s",
        "TextBody": "t",
        "MessageStream": "broadcasts",
    }
    async with mcp_client(url) as client:
        top = await client.call_tool(
            "create_a_postmark_bulk_email",
            base | {"Headers": bcc, "Messages": [{"To": "a@example.com"}]},
        )
        assert top.is_error and "Headers[0]" in top.content[0].text
        inner = await client.call_tool(
            "create_a_postmark_bulk_email",
            base | {"Messages": [{"To": "a@example.com"}, {"To": "b@example.com", "Headers": bcc}]},
        )
        assert inner.is_error and "Messages[1].Headers[0]" in inner.content[0].text
        to = await client.call_tool(
            "create_a_postmark_bulk_email",
            base | {"Messages": [{"To": "a@example.com;evil@attacker.com"}]},
        )
        assert to.is_error and "server config: Messages[].To" in to.content[0].text
        assert sends(postmark) == []
        ok = await client.call_tool(
            "create_a_postmark_bulk_email",
            base
            | {
                "Headers": [{"Name": "X-Campaign", "Value": "q3"}],
                "Messages": [{"To": "Jane <jane@example.com>"}],
            },
        )
        assert not ok.is_error, ok.content[0].text
    [sent] = sends(postmark)
    assert sent.path == "/email/bulk" and sent.json["Headers"][0]["Name"] == "X-Campaign"


async def test_a_legit_send_still_goes_through_end_to_end(
    yamcp: Yamcp, postmark: FakePostmark
) -> None:
    url = await yamcp.mint(config={"policy": "transactional-sender"})
    to = '"Doe, Jane" <jane@example.com>, B@EXAMPLE.COM'
    headers = [{"Name": "X-Order", "Value": "42"}, {"Name": "Reply-To", "Value": "r@example.com"}]
    async with mcp_client(url) as client:
        single = await client.call_tool(
            "create_a_postmark_email",
            SEND | {"To": to, "Cc": "Ann <ann@example.com>", "Headers": headers},
        )
        assert not single.is_error, single.content[0].text
        batch = await client.call_tool(
            "create_a_postmark_templated_email_batch",
            {
                "Messages": [
                    TEMPLATED
                    | {"To": "a@example.com", "TemplateModel": WELCOME_MODEL, "Headers": headers},
                    TEMPLATED | {"To": to, "TemplateModel": WELCOME_MODEL},
                ]
            },
        )
        assert not batch.is_error, batch.content[0].text
    assert [r.path for r in sends(postmark)] == ["/email", "/email/batchWithTemplates"]
    first = postmark.last("POST", "/email").json
    assert first["To"] == to and first["Headers"] == headers


async def test_without_a_recipient_constraint_headers_pass_as_before(
    yamcp: Yamcp, postmark: FakePostmark
) -> None:
    url = await yamcp.mint()
    headers = [{"Name": "Bcc", "Value": "audit@elsewhere.org"}]
    async with mcp_client(url) as client:
        result = await client.call_tool(
            "create_a_postmark_email", SEND | {"To": "x@elsewhere.org", "Headers": headers}
        )
        assert not result.is_error, result.content[0].text
    assert postmark.last("POST", "/email").json["Headers"] == headers


def test_yamcp_plan_shows_email_domains() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "proxy.cli", "plan", "policies/transactional-sender.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "YAMCP_ACCOUNTS_FILE": "/nonexistent/accounts.yaml"},
    )
    assert out.returncode == 0, out.stderr
    assert "constraint To: email_domains ['example.com']" in out.stdout
    assert "constraint Messages[].Bcc: email_domains ['example.com']" in out.stdout
    assert "pattern" not in out.stdout
