"""The docs' claims inventory: every concrete claim of the docs, and the test that proves it.

docs/claims.yaml pairs a few words of a doc (README.md, docs/*.md, integrations/*/README.md,
policies/README.md) with the tests that fail when the claim stops being true; editing a doc
needs no Python edit. The checks below keep the inventory honest in both directions:

* every quoted claim is still in its doc, every test it names exists, every doc has claims;
* every `YAMCP_*` variable a doc names has a test that runs yamcp with a non-default value
  of it (`SETTINGS`), docs/settings.md gives every setting's real default, and every HTTP
  status the README and the pages its text moved to promise is asserted (`STATUSES`);
* every `yamcp ...` command in a doc's shell block is run, verbatim, by
  `test_every_documented_command_runs`, and every subcommand a doc names inline has a test;
* every `error.type` yamcp produces is in the error table of
  docs/errors-and-rate-limits.md, and only those;
* the figures the docs quote (endpoints, tools, `tools/list` bytes, tools a policy grants)
  are computed here the way the docs say and compared with the numbers in the text.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import re
import shlex
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml

from proxy.settings import Settings
from tests.support.fake_postmark import FakePostmark
from tests.support.paths import ROOT
from tests.support.postmark_inventory import endpoints, postmark_tools, route
from tests.support.serving import start_yamcp, stop_yamcp, write_workdir

DOCS = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((ROOT / "integrations").glob("*/README.md")),
    ROOT / "policies" / "README.md",
]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
CLAIMS_FILE = ROOT / "docs" / "claims.yaml"


@dataclass(frozen=True)
class Claim:
    doc: str  # relative to the repository root
    quote: str  # words of the doc; whitespace and line breaks do not matter
    tests: tuple[str, ...]  # pytest node ids, without parameters


def _load_claims() -> list[Claim]:
    """docs/claims.yaml: a list of {doc, quote, tests}. Its shape is checked by
    test_the_claims_file_is_well_formed, so a bad entry fails one test, not the module."""
    entries = yaml.safe_load(CLAIMS_FILE.read_text()) or []
    return [
        Claim(str(e.get("doc")), str(e.get("quote")), tuple(e.get("tests") or ()))
        for e in entries
        if isinstance(e, dict)
    ]


CLAIMS: list[Claim] = _load_claims()

R, POL = "README.md", "policies/README.md"
CHATGPT, CLAUDE = "docs/chatgpt.md", "docs/claude.md"
OA, OC = "tests/engine/test_oauth.py", "tests/e2e/test_oauth_clients.py"
ADDING, NAGER = "docs/adding-an-integration.md", "integrations/nager_date/README.md"
T = "tests/e2e/test_docs_claims.py"
S = "tests/engine/test_documented_settings.py"

# The README and the pages its text moved to: what they promise is held as the README's
# own promises were (statuses, removed settings, the Postmark tool count).
FROM_README = [
    ROOT / "README.md",
    *(
        ROOT / "docs" / f"{name}.md"
        for name in (
            "accounts",
            "admin-api",
            "approvals",
            "architecture",
            "clients",
            "contributing",
            "deploying",
            "discovery",
            "errors-and-rate-limits",
            "manifest",
            "mcp-endpoint",
            "policies",
            "sandbox",
            "security",
            "servers",
            "settings",
            "tools",
        )
    ),
]
# Benchmark figures and commit history: latencies and counts, not HTTP statuses.
NOT_PROMISES = [ROOT / "docs" / "performance.md", ROOT / "docs" / "changelog.md"]
ERRORS_PAGE = ROOT / "docs" / "errors-and-rate-limits.md"
SETTINGS_PAGE = ROOT / "docs" / "settings.md"
POSTMARK_README = ROOT / "integrations" / "postmark" / "README.md"


# Every `YAMCP_*` a doc names -> tests that run yamcp with a non-default value of it. The
# module of each test (or tests/support/serving.py, which starts every `yamcp serve`, or
# tests/support/store_instances.py, the session's short-deadline instance) sets it.
SETTINGS: dict[str, tuple[str, ...]] = {
    "YAMCP_INTEGRATIONS_DIRS": (
        "tests/engine/test_drop_in_integration.py::test_yaml_only_integration_appears_as_tools_and_forwards",
    ),
    "YAMCP_ACCOUNTS_FILE": (f"{S}::test_accounts_file_names_another_file",),
    "YAMCP_APPROVAL_WEBHOOK": (
        "tests/engine/test_approvals.py::test_the_webhook_hears_of_each_new_request_without_a_secret_or_body",
    ),
    "YAMCP_OAUTH_CLIENTS_FILE": (
        f"{OA}::test_the_settings_name_the_clients_file_and_the_sign_in_lifetime",
    ),
    "YAMCP_OAUTH_REFRESH_TOKEN_SECONDS": (
        f"{OA}::test_the_settings_name_the_clients_file_and_the_sign_in_lifetime",
    ),
    "YAMCP_OAUTH_ACCESS_TOKEN_SECONDS": (
        f"{OC}::test_the_sdk_oauth_client_signs_in_calls_refreshes_and_is_cut_off",
    ),
    "YAMCP_OAUTH_METADATA_ALLOW_PRIVATE": (
        f"{OC}::test_the_sdk_oauth_client_signs_in_calls_refreshes_and_is_cut_off",
    ),
    "YAMCP_OAUTH_METADATA_CA_FILE": (
        f"{OC}::test_the_sdk_oauth_client_signs_in_calls_refreshes_and_is_cut_off",
    ),
    "YAMCP_POLICIES_DIR": (f"{T}::test_tools_list_size_is_the_figure_the_docs_quote",),
    "YAMCP_DATA_DIR": ("tests/engine/test_store_contract.py::test_sqlite_files_are_private",),
    "YAMCP_STORE_URL": (
        "tests/e2e/test_redis_instances.py::test_minted_on_one_works_on_the_other_and_revocation_is_seen_at_once",
    ),
    "YAMCP_STORE_PREFIX": ("tests/e2e/test_no_secrets.py::test_redis_run_leaves_no_secret",),
    "YAMCP_SECRET_KEY": (
        "tests/engine/test_secrets.py::test_a_wrong_key_is_an_error_naming_the_setting",
        "tests/engine/test_secrets.py::test_rotation_with_the_key_setting",
    ),
    "YAMCP_SECRET_KEY_FILE": ("tests/engine/test_secrets.py::test_key_file_setting",),
    "YAMCP_TOKEN_CACHE_SECONDS": (
        "tests/e2e/test_redis_instances.py::test_minted_on_one_works_on_the_other_and_revocation_is_seen_at_once",
    ),
    "YAMCP_PUBLIC_BASE_URL": (
        "tests/e2e/test_postmark_e2e.py::test_mint_cli_prints_url_and_json",
        f"{T}::test_every_documented_command_runs",
        f"{S}::test_minted_urls_name_a_reachable_host_for_the_listen_address",
    ),
    "YAMCP_HOST": (
        f"{S}::test_host_and_port_choose_where_serve_listens",
        f"{S}::test_minted_urls_name_a_reachable_host_for_the_listen_address",
    ),
    "YAMCP_PORT": (
        f"{S}::test_host_and_port_choose_where_serve_listens",
        f"{S}::test_minted_urls_follow_the_port_serve_listens_on",
    ),
    "YAMCP_WORKERS": (f"{S}::test_workers_starts_that_many_worker_processes",),
    "YAMCP_ALLOWED_HOSTS": (f"{S}::test_allowed_hosts_admits_a_listed_host_name",),
    "YAMCP_ALLOWED_ORIGINS": (
        "tests/engine/test_policy_lifecycle.py::test_a_listed_browser_origin_is_accepted",
    ),
    "YAMCP_MAX_REQUEST_BYTES": (f"{S}::test_max_request_bytes_bounds_the_body",),
    "YAMCP_REQUEST_BODY_TIMEOUT": (
        "tests/engine/test_deadlines.py::test_a_trickled_request_body_is_cut_off_with_408",
    ),
    "YAMCP_CALL_DEADLINE": (
        "tests/engine/test_deadlines.py::test_a_dripping_upstream_ends_at_the_whole_call_deadline",
    ),
    "YAMCP_MAX_UPSTREAM_BYTES": (
        "tests/engine/test_upstream_failures.py::test_body_over_the_limit_is_an_error",
    ),
    "YAMCP_CONNECT_TIMEOUT": ("tests/engine/test_upstream_failures.py::test_connect_timeout",),
    "YAMCP_READ_TIMEOUT": (
        "tests/engine/test_upstream_failures.py::test_read_timeout_and_a_stall_blocks_no_other_call",
    ),
    "YAMCP_MAX_CONNECTIONS": (
        "tests/engine/test_upstream_pool.py::test_calls_beyond_the_pool_queue_and_all_reach_the_upstream",
    ),
    "YAMCP_POOL_TIMEOUT": (
        "tests/engine/test_upstream_pool.py::test_a_call_that_gets_no_connection_in_time_was_not_sent",
    ),
    "YAMCP_SHUTDOWN_GRACE_SECONDS": (f"{S}::test_shutdown_grace_bounds_an_in_flight_call",),
    "YAMCP_ADMIN_UI": ("tests/e2e/test_admin_ui.py::test_create_preview_copy_use_and_revoke",),
    "YAMCP_LOG_LEVEL": (f"{S}::test_log_level_warning_drops_the_audit_line",),
    "YAMCP_LOG_FORMAT": (
        "tests/engine/test_upstream_failures.py::test_audit_log_has_one_line_per_call_without_arguments",
    ),
    # named by docs/scaling.md as deleted: proven gone, not set
    "YAMCP_UPSTREAM_TRANSPORT": (f"{T}::test_removed_settings_are_gone",),
}
REMOVED_SETTINGS = {"YAMCP_UPSTREAM_TRANSPORT"}

# Every HTTP status the README promises (outside its benchmark figures) -> tests asserting it.
STATUSES: dict[int, tuple[str, ...]] = {
    200: ("tests/engine/test_mcp_http.py::test_health_and_oauth_probes",),
    201: (
        "tests/engine/test_admin_api.py::test_create_answers_201_with_url_once_then_lists_without_url",
        "tests/engine/test_admin_api.py::test_api_tokens_gate_the_url",
    ),
    204: (
        "tests/engine/test_admin_api.py::test_delete_revokes_and_the_url_is_404",
        "tests/engine/test_admin_api.py::test_api_tokens_gate_the_url",
    ),
    401: (
        "tests/e2e/test_policy_e2e.py::test_api_token_required_for_every_method",
        "tests/engine/test_admin_api.py::test_bad_or_missing_admin_token_is_401",
    ),
    403: (
        "tests/engine/test_mcp_http.py::test_foreign_origin_is_403_and_local_origin_is_fine",
        "tests/engine/test_hostile_input.py::test_unparsable_origin_is_403_before_anything",
    ),
    404: (
        "tests/engine/test_mcp_http.py::test_unknown_revoked_expired_and_malformed_tokens_get_the_same_404",
        "tests/engine/test_admin_api.py::test_unknown_account_is_404",
        "tests/engine/test_modern_era.py::test_unknown_and_removed_methods_are_404",
        "tests/e2e/test_admin_ui.py::test_admin_page_is_404_when_off",
    ),
    405: ("tests/engine/test_mcp_http.py::test_get_and_delete_are_405_with_allow_post",),
    409: (
        "tests/engine/test_api_accounts.py::test_refused_input_is_422_with_field_and_reason",
        "tests/engine/test_api_accounts.py::test_file_accounts_cannot_be_changed_here",
    ),
    408: ("tests/engine/test_deadlines.py::test_a_trickled_request_body_is_cut_off_with_408",),
    413: (
        "tests/engine/test_mcp_http.py::test_oversized_body_is_413",
        f"{S}::test_max_request_bytes_bounds_the_body",
    ),
    421: (
        "tests/engine/test_hostile_input.py::test_a_foreign_host_is_refused_on_every_path",
        "tests/engine/test_mcp_http.py::test_foreign_host_is_421_misdirected",
    ),
    422: (
        "tests/engine/test_admin_api.py::test_validation_errors_are_422_with_field_and_reason",
        "tests/engine/test_policy_reload.py::test_reload_with_a_broken_policy_is_refused_and_keeps_the_running_ones",
    ),
    429: (
        "tests/engine/test_upstream_failures.py::test_429_passes_through_once_with_ietf_headers",
    ),
    500: ("tests/engine/test_internal_error.py::test_a_bug_inside_yamcp_is_a_counted_json_500",),
    503: (
        "tests/e2e/test_redis_instances.py::test_redis_outage_is_503_and_the_process_recovers",
        "tests/engine/test_operations.py::test_readyz_is_503_while_the_store_is_down_and_200_when_it_answers",
    ),
}
NOT_STATUSES = {256, 443}  # bits of a token, a port

# `yamcp <subcommand>` named inline (not in a shell block) -> tests that run it.
SUBCOMMANDS: dict[str, tuple[str, ...]] = {
    "approvals": ("tests/engine/test_approvals.py::test_the_cli_lists_shows_and_decides",),
    "serve": (
        "tests/engine/test_manifest.py::test_serve_refuses_to_start_on_a_broken_manifest",
        f"{S}::test_serve_with_no_settings_listens_on_the_documented_defaults",
    ),
    "mint": ("tests/e2e/test_postmark_e2e.py::test_mint_cli_prints_url_and_json",),
    "keys": (
        "tests/engine/test_secrets.py::test_rotation_with_the_key_setting",
        "tests/engine/test_secrets.py::test_rotation_with_the_generated_key_file",
    ),
    "plan": ("tests/engine/test_policy.py::test_plan_prints_a_stable_sorted_grant",),
    "lint": ("tests/engine/test_policy.py::test_lint_fails_with_file_and_reason",),
    "schema": ("tests/engine/test_manifest.py::test_published_json_schemas_match_the_models",),
    "tools": (
        "tests/integrations/postmark/test_postmark_coverage.py::test_tools_cli_lists_every_tool_with_all_hints",
    ),
    "import-openapi": (
        "tests/engine/test_import_openapi.py::test_openapi3_json_file_through_the_cli_loads_and_serves_these_tools",
    ),
    "api-token": (f"{T}::test_every_documented_command_runs",),
    "servers": (f"{T}::test_every_documented_command_runs",),
    "admin-token": (f"{T}::test_every_documented_command_runs",),
    "accounts": (
        "tests/engine/test_cli_accounts.py::test_added_account_serves_and_removed_account_is_404",
        f"{T}::test_every_documented_command_runs",
    ),
}


# ------------------------------------------------------------------------------ helpers


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _test_function(nodeid: str):
    path, _, name = nodeid.partition("::")
    assert path.startswith("tests/") and path.endswith(".py") and name, nodeid
    module = importlib.import_module(path[:-3].replace("/", "."))
    return module, getattr(module, name, None)


def _all_referenced() -> set[str]:
    ids = {t for claim in CLAIMS for t in claim.tests}
    for table in (SETTINGS, STATUSES, SUBCOMMANDS):
        ids.update(t for tests in table.values() for t in tests)
    return ids


def _shell_blocks(doc: Path) -> list[str]:
    return [body for lang, body in FENCE.findall(doc.read_text()) if lang in ("bash", "sh")]


def _prose(doc: Path) -> str:
    return FENCE.sub("", doc.read_text())


def _promises() -> str:
    """The README and the pages its text moved to, without their code blocks and without
    the benchmark figures and the history."""
    assert not set(NOT_PROMISES) & set(FROM_README)
    return "\n".join(_prose(doc) for doc in FROM_README)


# ------------------------------------------------------------------- the inventory itself


def test_the_claims_file_is_well_formed() -> None:
    entries = yaml.safe_load(CLAIMS_FILE.read_text())
    assert isinstance(entries, list) and entries, f"{CLAIMS_FILE.name} holds no list of claims"
    docs = {str(doc.relative_to(ROOT)) for doc in DOCS}
    seen: set[tuple[str, str]] = set()
    for n, entry in enumerate(entries, 1):
        where = f"{CLAIMS_FILE.name}, claim {n}"
        assert isinstance(entry, dict) and set(entry) == {"doc", "quote", "tests"}, where
        assert entry["doc"] in docs, f"{where}: {entry['doc']!r} is not one of the docs"
        assert isinstance(entry["quote"], str) and entry["quote"].strip(), where
        tests = entry["tests"]
        assert isinstance(tests, list) and tests, f"{where}: names no test"
        assert all(isinstance(t, str) and "::" in t for t in tests), where
        key = (entry["doc"], _flat(entry["quote"]))
        assert key not in seen, f"{where}: the same claim twice"
        seen.add(key)
    assert len(CLAIMS) == len(entries)


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: f"{c.doc}:{c.quote[:40]}")
def test_every_claim_is_still_in_its_doc(claim: Claim) -> None:
    text = _flat((ROOT / claim.doc).read_text())
    assert _flat(claim.quote) in text, f"{claim.doc} no longer says {claim.quote!r}"
    assert claim.tests, claim


def test_every_referenced_test_exists() -> None:
    missing = []
    for nodeid in sorted(_all_referenced()):
        _, function = _test_function(nodeid)
        if not (callable(function) and function.__name__.startswith("test_")):
            missing.append(nodeid)
    assert missing == [], "the inventory names tests that do not exist"


def test_every_doc_has_claims() -> None:
    claimed = {claim.doc for claim in CLAIMS}
    assert {str(doc.relative_to(ROOT)) for doc in DOCS} <= claimed


def test_every_documented_variable_is_run_with_a_non_default_value() -> None:
    named = set()
    for doc in DOCS:
        named.update(re.findall(r"\bYAMCP_[A-Z0-9_]+[A-Z0-9]\b", doc.read_text()))
    assert named - set(SETTINGS) == set(), "variables the docs name with no test"
    serving = "".join(
        (ROOT / "tests" / "support" / name).read_text()
        for name in ("serving.py", "store_instances.py")
    )
    for var, tests in SETTINGS.items():
        if var in REMOVED_SETTINGS:
            continue
        field = var.removeprefix("YAMCP_").lower()
        assert field in Settings.model_fields, f"{var} is documented but is not a setting"
        for nodeid in tests:
            module, _ = _test_function(nodeid)
            source = inspect.getsource(module)
            assert var in source or var in serving, f"{nodeid} does not set {var}"


def _documented_default(value: object, said: str) -> bool:
    """Whether a default as a settings table writes it (`unset`, `empty`, a value) is `value`."""
    if said == "unset":
        return value is None
    if said == "empty":
        return value == []
    if isinstance(value, list):
        return [str(v) for v in value] == said.split(",")
    if isinstance(value, bool):
        return str(value).lower() == said
    if isinstance(value, float):
        return value == float(said)
    return str(value) == said


def test_the_settings_page_gives_the_real_defaults() -> None:
    """docs/settings.md, row by row, against the settings' own defaults (the README's
    table at a glance is held the same way by tests/engine/test_documented_settings.py)."""
    rows: dict[str, str] = {}
    table = re.findall(r"^\| (`YAMCP_[^|]+) \| ([^|]+) \|", SETTINGS_PAGE.read_text(), flags=re.M)
    for cell, default in table:
        names = re.findall(r"`(YAMCP_\w+)`", cell)
        defaults = [d.strip().strip("`") for d in default.split(" / ")]
        rows.update(zip(names, defaults * (len(names) // len(defaults)), strict=True))
    actual = Settings(_env_file=None).model_dump()
    assert set(rows) == {f"YAMCP_{name.upper()}" for name in actual}
    for var, said in rows.items():
        value = actual[var.removeprefix("YAMCP_").lower()]
        assert _documented_default(value, said), f"{var}: the page says {said}, it is {value}"


def test_removed_settings_are_gone() -> None:
    for var in REMOVED_SETTINGS:
        assert var.removeprefix("YAMCP_").lower() not in Settings.model_fields
        for doc in FROM_README:
            assert var not in doc.read_text(), f"{doc.name} still offers {var}"


def test_every_status_the_readme_promises_is_asserted() -> None:
    text = _promises()
    # The importer's scorecard figures (counts of operations), which
    # tests/e2e/test_real_specs.py::test_the_scorecard_says_what_the_readme_quotes checks.
    text = re.sub(
        r"of \d+\s+operations\s+labelled\s+by\s+hand.*?access\s+for\s+\d+", "", text, flags=re.S
    )
    promised = {
        int(code) for code in re.findall(r"(?<![\w.,-])([1-5][0-9]{2})(?![\w%-]|[.,][0-9])", text)
    } - NOT_STATUSES
    assert promised - set(STATUSES) == set(), "statuses the docs promise with no test"
    for status, tests in STATUSES.items():
        assert str(status) in text, f"{status} is no longer in the README or its pages"
        for nodeid in tests:
            _, function = _test_function(nodeid)
            assert str(status) in inspect.getsource(function), f"{nodeid} never asserts {status}"


def test_every_inline_subcommand_has_a_test() -> None:
    named = set()
    for doc in DOCS:
        for span in re.findall(r"`([^`\n]+)`", _prose(doc)):
            if m := re.match(r"yamcp ([a-z][a-z-]+)", span):
                named.add(m.group(1))
    assert named - set(SUBCOMMANDS) == set(), "subcommands the docs name with no test"
    for sub, tests in SUBCOMMANDS.items():
        for nodeid in tests:
            module, _ = _test_function(nodeid)
            assert sub in inspect.getsource(module), f"{nodeid} does not run yamcp {sub}"


# ----------------------------------------------------------------- the error.type table


def _produced_error_types() -> set[str]:
    kinds = set()
    for file in (ROOT / "proxy").rglob("*.py"):
        if "openapi" in file.parts:  # the importer's `kind` is a method kind; it answers no call
            continue
        source = file.read_text()
        kinds.update(re.findall(r"error_outcome\(\s*\"([a-z_]+)\"", source))
        kinds.update(re.findall(r"\bkind = \"([a-z_]+)\"", source))
    return kinds


def test_error_table_lists_every_error_type_yamcp_produces() -> None:
    page = _prose(ERRORS_PAGE)
    assert "| `error.type` | when | also in `error` |" in page, "the error table is gone"
    table = set(re.findall(r"^\| `([a-z_]+)` \|", page, flags=re.M))
    produced = _produced_error_types()
    assert {"invalid_arguments", "rate_limited", "unreachable"} <= produced  # the grep works
    assert table == produced, f"README only: {table - produced}; code only: {produced - table}"


# -------------------------------------------------------------------- the quoted figures


def test_endpoint_and_tool_counts_match_the_inventory() -> None:
    rows = endpoints()
    tools = list(postmark_tools())
    per_route = Counter(route(t.http_method, t.path) for t in tools)
    assert {route(r["method"], r["path"]) for r in rows} == set(per_route)  # each has a tool
    shared = [r for r, n in per_route.items() if n > 1]
    readme = _flat((ROOT / "README.md").read_text())
    m = re.search(
        r"every one of the (\d+) endpoints .*?has a tool: (\d+) tools, as (\w+) endpoints back "
        r"two each \(([^)]*)\)",
        readme,
    )
    assert m, "README no longer states the endpoint and tool counts"
    assert (int(m.group(1)), int(m.group(2))) == (len(rows), len(tools))
    named = [route(*found.split(" ", 1)) for found in re.findall(r"`([A-Z]+ /[^`]+)`", m.group(4))]
    assert sorted(shared) == sorted(named)
    assert ["one", "two", "three", "four", "five", "six"].index(m.group(3)) + 1 == len(named)
    assert all(per_route[r] == 2 for r in shared)
    quoting = [*FROM_README, ROOT / "docs" / "performance.md", POSTMARK_README]
    assert any(re.search(r"\((\d+) tools\)", doc.read_text()) for doc in quoting)
    for doc in quoting:
        for n in re.findall(r"\((\d+) tools\)", doc.read_text()):
            assert int(n) == len(tools), f"{doc.name} says {n} tools"


# The pages that quote the size of Postmark's `tools/list`: what an agent sees, the
# benchmark's figures, and the integration's own README (which gives the command).
TOOLS_LIST_SIZE_PAGES = [
    ROOT / "docs" / "tools.md",
    ROOT / "docs" / "performance.md",
    ROOT / "integrations" / "postmark" / "README.md",
]


def _quoted_tools_list_bytes() -> dict[str, int]:
    figures = {}
    for doc in TOOLS_LIST_SIZE_PAGES:
        found = re.findall(r"([0-9][0-9,]{3,})\**\s+bytes", doc.read_text())
        assert found, f"{doc} quotes no tools/list size"
        for figure in found:
            figures[f"{doc.relative_to(ROOT)}: {figure}"] = int(figure.replace(",", ""))
    return figures


def _documented_measure_command() -> str:
    text = (ROOT / "integrations" / "postmark" / "README.md").read_text()
    section = text.split("## Size of tools/list", 1)[1].split("\n## ", 1)[0]
    (block,) = _shell_blocks_of(section)
    (command,) = [line for line in block.splitlines() if line.strip()]
    return command


def _shell_blocks_of(text: str) -> list[str]:
    return [body for lang, body in FENCE.findall(text) if lang in ("bash", "sh")]


async def test_tools_list_size_is_the_figure_the_docs_quote(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The docs quote one size: the body of the `tools/list` answer (`"id":1`) of a server
    granted every Postmark tool with no guardrails, as the benchmark measures it."""
    figures = _quoted_tools_list_bytes()
    assert len(set(figures.values())) == 1, f"the docs quote different sizes: {figures}"
    (figure,) = set(figures.values())

    # the command the Postmark README gives prints it
    command = shlex.split(_documented_measure_command())
    assert command[0] == "yamcp"
    printed = subprocess.run(
        [sys.executable, "-m", "proxy.cli", *command[1:]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    assert printed == ["postmark", str(figure)]

    # and that is what arrives on the wire from `yamcp serve` without guardrails
    workdir = tmp_path_factory.mktemp("tools-list-size")
    write_workdir(workdir, fake_postmark.url)
    no_guardrails = workdir / "no-policies"
    no_guardrails.mkdir()
    server = start_yamcp(workdir, {"YAMCP_POLICIES_DIR": str(no_guardrails)})
    try:
        server.settings.policies_dir = no_guardrails
        url = await server.mint()
        response = httpx.post(
            url,
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={"accept": "application/json, text/event-stream"},
            timeout=10,
        )
    finally:
        stop_yamcp(server)
    assert response.status_code == 200
    tools = response.json()["result"]["tools"]
    assert len(tools) == len(list(postmark_tools()))  # the full manifest, nothing held back
    assert "create_a_postmark_data_removal" in {t["name"] for t in tools}
    assert len(response.content) == figure


def _plan_count(policy: str) -> int:
    out = subprocess.run(
        [sys.executable, "-m", "proxy.cli", "plan", f"policies/{policy}.yaml", "--json"],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("YAMCP_")},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return len(json.loads(out)["tools"])


def test_policy_grants_the_docs_count() -> None:
    counts = {
        "bounce-triage": _plan_count("bounce-triage"),
        "transactional-sender": _plan_count("transactional-sender"),
    }
    chatgpt = _flat((ROOT / "docs" / "chatgpt.md").read_text())
    claude = _flat((ROOT / "docs" / "claude.md").read_text())
    said = {
        "bounce-triage": [
            re.search(r"bounce-triage\.yaml` grants (\d+) tools", chatgpt),
            re.search(r"bounce-triage\.yaml # (\d+) read-only tools", claude),
        ],
        "transactional-sender": [
            re.search(r"It grants (\d+) tools", chatgpt),
            re.search(r"transactional-sender\.yaml # (\d+) tools", claude),
        ],
    }
    for policy, matches in said.items():
        for m in matches:
            assert m, f"the docs no longer state what {policy} grants"
            assert int(m.group(1)) == counts[policy], f"{policy}: docs {m.group(1)}"


# ------------------------------------------------------------ the README's SDK snippet

SDK_URL = "http://127.0.0.1:8000/mcp/<token>"
SDK_TOKEN = "<api token>"


def _python_block(doc: Path, heading: str) -> str:
    """The one Python block of `doc` under `heading`, up to the next heading of its level."""
    level = heading.split(" ", 1)[0]
    text = doc.read_text().split(f"{heading}\n", 1)[1].split(f"\n{level} ", 1)[0]
    (block,) = [body for lang, body in FENCE.findall(text) if lang == "python"]
    return block


def test_the_sdk_snippet_sends_the_api_token_as_a_bearer_header(yamcp, tmp_path: Path) -> None:
    """The Python block under "API-token auth" in docs/servers.md, run as written against a
    server minted with --require-api-token-auth; only its two placeholders are filled in."""
    snippet = _python_block(ROOT / "docs" / "servers.md", "## API-token auth")
    assert f'"{SDK_URL}"' in snippet and f'"{SDK_TOKEN}"' in snippet
    created = json.loads(
        yamcp.cli("mint", "--account", "acme", "--json", "--require-api-token-auth").stdout
    )
    token = yamcp.cli("api-token", "create", "--server", created["id"]).stdout.strip()

    def run(api_token: str) -> subprocess.CompletedProcess:
        script = tmp_path / "snippet.py"
        script.write_text(snippet.replace(SDK_URL, created["url"]).replace(SDK_TOKEN, api_token))
        return subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=60
        )

    done = run(token)
    assert done.returncode == 0, done.stderr
    served = created["summary"]["exposed"]
    assert done.stdout.splitlines() == [f"{served} tools", "list_all_postmark_domains: ok"]
    refused = run("A" * 43)  # the same code with a wrong token gets nowhere
    assert refused.returncode != 0 and "tools" not in refused.stdout


# ------------------------------------------------------- every documented command, run


@dataclass
class DocCommand:
    doc: str
    line: str  # as the doc has it, continuation lines joined
    shown: list[str]  # the comment lines under it: what the doc says it prints
    exports: dict[str, str]  # `export YAMCP_...=` lines above it in the same block


def documented_commands() -> list[DocCommand]:
    found: list[DocCommand] = []
    for doc in DOCS:
        for block in _shell_blocks(doc):
            exports: dict[str, str] = {}
            first = len(found)
            for raw in block.replace("\\\n", " ").splitlines():
                line = raw.strip()
                if m := re.match(r"export (YAMCP_[A-Z_]+)=(\S+)", line):
                    exports[m.group(1)] = m.group(2)
                if line.startswith("#") and len(found) > first:
                    found[-1].shown.append(line.lstrip("# "))
                    continue
                if line.startswith("docker ") and " exec " not in line:
                    continue
                code = line.split(" #", 1)[0].strip()
                if m := re.search(r"(?:^|\$\(|&& |exec \S+ |=\S+ )(yamcp [^)]*)", code):
                    found.append(
                        DocCommand(str(doc.relative_to(ROOT)), _flat(m.group(1)), [], dict(exports))
                    )
    return found


def _link_checkout(workdir: Path) -> None:
    """A folder laid out like the repository, for commands that use relative paths."""
    (workdir / "integrations").mkdir()
    for name in ("postmark", "nager_date", "manifest.schema.json", "resources.schema.json"):
        (workdir / "integrations" / name).symlink_to(ROOT / "integrations" / name)
    (workdir / "policies").symlink_to(ROOT / "policies")
    (workdir / "tests").symlink_to(ROOT / "tests")


def test_every_documented_command_runs(tmp_path: Path) -> None:
    """Each `yamcp` command of each shell block, in doc order, in a folder laid out like the
    checkout and with no `YAMCP_*` set (the documented defaults). Placeholders become the ids
    the earlier commands printed; an example expiry becomes one the guardrails accept."""
    commands = documented_commands()
    assert len(commands) >= 30 and {c.doc for c in commands} >= {
        R,
        CHATGPT,
        CLAUDE,
        ADDING,
        POL,
        NAGER,
    }
    workdir = tmp_path / "checkout"
    workdir.mkdir()
    _link_checkout(workdir)
    write_workdir(
        workdir,
        "https://api.postmarkapp.com",
        "  holidays:\n    integration: nager_date\n",
    )
    scratch = tmp_path / "import"  # import-openapi writes integrations/<name>/ under here
    scratch.mkdir()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("YAMCP_")}
    base_env |= {"POSTMARK_SERVER_TOKEN": "pm-server", "POSTMARK_ACCOUNT_TOKEN": "pm-account"}
    expiry = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    last_server = last_token = None
    ran: Counter[str] = Counter()

    for command in commands:
        if command.line.split()[1] == "serve":
            continue  # long-running: SUBCOMMANDS["serve"] and tests/support/serving.py run it
        if command.line.split()[1] == "approvals":
            continue  # needs a waiting call: SUBCOMMANDS["approvals"] runs each against one
        line = command.line
        variants = [line]
        if "[" in line:  # optional parts: run without and with them
            variants = [re.sub(r"\s*\[[^]]*\]", "", line), re.sub(r"[][]", "", line)]
        for text in variants:
            text = re.sub(r"--expires-at \S+", f"--expires-at {expiry}", text)
            if "srv_0123abcd" in text:
                assert last_server, f"{command.doc}: `{line}` needs a server minted before it"
                text = text.replace("srv_0123abcd", last_server)
            if re.search(r"\btok_\w+", text):
                assert last_token, f"{command.doc}: `{line}` needs an API token created before it"
                text = re.sub(r"\btok_\w+", last_token, text)
            args = shlex.split(text)
            cwd = workdir
            if args[1] == "import-openapi":  # into a fresh folder: it never overwrites
                cwd = scratch / str(ran["import-openapi"])
                cwd.mkdir()
                (cwd / "tests").symlink_to(ROOT / "tests")
            done = subprocess.run(
                [sys.executable, "-m", "proxy.cli", *args[1:]],
                cwd=cwd,
                env=base_env | command.exports,
                capture_output=True,
                text=True,
                timeout=60,
            )
            where = f"{command.doc}: `{text}`"
            assert done.returncode == 0, f"{where} exited {done.returncode}: {done.stderr}"
            ran[args[1]] += 1
            out = done.stdout
            if args[1] == "mint" and "--json" in args:
                created = json.loads(out)
                keys = {"id", "name", "config", "expires_at", "url", "summary"}
                assert set(created) == keys, where
                last_server = created["id"]
            elif args[1] == "mint":
                public = command.exports.get("YAMCP_PUBLIC_BASE_URL", "http://127.0.0.1:8000")
                assert re.fullmatch(rf"{re.escape(public)}/mcp/[A-Za-z0-9_-]{{40,}}\n", out), where
            if args[1:3] == ["api-token", "create"]:
                last_token = re.search(r"api token (\S+) for", done.stderr).group(1)
                assert out.strip() and last_token not in out, where
            if args[1:3] == ["servers", "list"]:
                assert "/mcp/" not in out, f"{where} shows a URL"
                if "--json" in args:
                    assert all("url" not in row for row in json.loads(out)), where
            for shown in command.shown:  # what the doc says the command prints
                expected = shown.split("...", 1)[0].strip()
                if expected.startswith(("wrote ", "nager_date: ")):
                    assert expected in out, f"{where}: the doc shows {shown!r}; it printed {out}"
                if args[1] == "mint" and expected.startswith("srv_"):  # the summary, on stderr
                    said = re.escape(shown.split("...: ", 1)[1])
                    assert re.fullmatch(rf"srv_[0-9a-f]+: {said}\n", done.stderr), (
                        f"{where}: the doc shows {shown!r}; it printed {done.stderr}"
                    )
                    ran["mint summary"] += 1
    # the placeholders pointed at real things: a revoked server and token are gone
    assert ran["mint"] >= 10 and ran["plan"] >= 4 and ran["import-openapi"] >= 1
    assert ran["mint summary"] >= 2
    assert {"lint", "tools", "api-token", "servers", "admin-token"} <= set(ran)
