"""The docs' claims inventory: every concrete claim of the docs, and the test that proves it.

`CLAIMS` pairs a few words of a doc (README.md, docs/*.md, integrations/*/README.md,
policies/README.md) with the tests that fail when the claim stops being true. The checks
below keep the inventory honest in both directions:

* every quoted claim is still in its doc, and every test it names exists;
* every `YAMCP_*` variable a doc names has a test that runs yamcp with a non-default value
  of it (`SETTINGS`), and every HTTP status the README promises is asserted (`STATUSES`);
* every `yamcp ...` command in a doc's shell block is run, verbatim, by
  `test_every_documented_command_runs`, and every subcommand a doc names inline has a test;
* every `error.type` yamcp produces is in the README's error table, and only those;
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

from proxy.settings import Settings
from tests.conftest import ROOT, start_yamcp, stop_yamcp, write_workdir
from tests.fake_postmark import FakePostmark
from tests.test_postmark_coverage import endpoints, postmark_tools, route

DOCS = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((ROOT / "integrations").glob("*/README.md")),
    ROOT / "policies" / "README.md",
]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


@dataclass(frozen=True)
class Claim:
    doc: str  # relative to the repository root
    quote: str  # words of the doc; whitespace and line breaks do not matter
    tests: tuple[str, ...]  # pytest node ids, without parameters


def _c(doc: str, quote: str, *tests: str) -> Claim:
    return Claim(doc, quote, tests)


R, PM, POL = "README.md", "integrations/postmark/README.md", "policies/README.md"
A = "tests/test_api_accounts.py"
CHATGPT, CLAUDE, CONF = "docs/chatgpt.md", "docs/claude.md", "docs/conformance.md"
OAUTH = "docs/oauth.md"
OA, OC = "tests/test_oauth.py", "tests/test_oauth_clients.py"
AP, AE = "tests/test_approvals.py", "tests/test_approvals_e2e.py"
DI = "tests/test_discovery.py"
ADDING, SCALING, NAGER = (
    "docs/adding-an-integration.md",
    "docs/scaling.md",
    ("integrations/nager_date/README.md"),
)
T = "tests/test_docs_claims.py"
SB = "tests/test_sandbox.py"
S = "tests/test_documented_settings.py"

CLAIMS: list[Claim] = [
    # --- README: what yamcp is, setting up
    _c(
        R,
        "every one of the 87 endpoints",
        f"{T}::test_endpoint_and_tool_counts_match_the_inventory",
    ),
    _c(R, "90 tools", f"{T}::test_endpoint_and_tool_counts_match_the_inventory"),
    _c(
        R,
        "a read-only preview and the push",
        "tests/test_postmark_all_tools.py::"
        "test_a_push_preview_changes_nothing_and_only_the_push_is_destructive",
    ),
    _c(
        R,
        "pip install -e . && yamcp serve",
        f"{S}::test_serve_with_no_settings_listens_on_the_documented_defaults",
    ),
    _c(
        R,
        "That serves on `http://127.0.0.1:8000` with the embedded store (SQLite under `data/`",
        f"{S}::test_serve_with_no_settings_listens_on_the_documented_defaults",
    ),
    _c(
        R,
        "`scripts/test` provisions what the tests drive and leaves alone what is already there",
        "tests/test_setup.py::test_what_is_there_is_left_alone_and_the_suite_gets_the_arguments",
        "tests/test_setup.py::test_a_missing_package_is_installed_from_debian",
    ),
    _c(
        R,
        "(after `pip install mcp==2.3.0`,",
        "tests/test_setup.py::test_the_readme_names_the_sdk_version_the_tests_pin",
    ),
    _c(
        R,
        "With neither, the first start generates",
        "tests/test_secrets.py::test_generated_key_file_is_private_reused_and_announced",
    ),
    _c(
        R,
        "A wrong or malformed key stops start-up",
        "tests/test_secrets.py::test_serve_with_the_wrong_key_stops_at_start_naming_the_setting",
        "tests/test_secrets.py::test_a_wrong_key_is_an_error_naming_the_setting",
        "tests/test_secrets.py::test_a_malformed_key_is_an_error_naming_the_setting",
    ),
    _c(
        R,
        "run `yamcp keys rotate` to re-seal every stored credential under",
        "tests/test_secrets.py::test_rotation_with_the_key_setting",
        "tests/test_secrets.py::test_rotation_with_the_generated_key_file",
    ),
    _c(
        R,
        "so every instance sees a new, rotated or deleted one at once",
        "tests/test_api_accounts.py::test_connect_mint_call_rotate_and_delete",
        "tests/test_store_contract.py::test_account_changes_reach_another_instance_at_once",
    ),
    _c(
        R,
        "A test that skips fails the run",
        "tests/test_no_skips.py::test_a_skip_fails_the_run_and_an_expected_failure_does_not",
    ),
    _c(
        R,
        "and CI (`.ci/run`) runs `scripts/test` as written here",
        "tests/test_setup.py::test_ci_runs_the_readme_test_command_verbatim",
    ),
    _c(
        R,
        "A call that omits the argument gets the default",
        "tests/test_account_defaults.py::test_a_call_that_leaves_them_out_gets_the_defaults_on_the_wire",
        "tests/test_account_defaults.py::test_what_the_call_gives_wins_over_the_default",
        "tests/test_account_defaults.py::test_a_policy_constraint_holds_for_a_default_too",
        "tests/test_account_defaults.py::test_tools_list_shows_the_defaults_and_no_longer_requires_them",
        "tests/test_account_defaults.py::test_a_default_no_tool_could_take_is_refused_at_load",
    ),
    _c(
        R,
        "a literal secret is refused",
        "tests/test_hardening.py::test_credentials_in_base_url_are_refused_without_echoing_them",
        "tests/test_deploy.py::test_example_accounts_file_loads",
    ),
    _c(
        R,
        "(shown once; only its SHA-256 is stored)",
        "tests/test_postmark_e2e.py::test_store_keeps_only_token_hashes",
    ),
    _c(
        R,
        "`--expires-at 2027-06-30T00:00:00Z` makes the URL stop working",
        "tests/test_policy_e2e.py::test_expired_server_is_404_like_unknown",
    ),
    _c(
        R,
        "`--tags` keeps tools carrying any of the tags",
        "tests/test_postmark_e2e.py::test_methods_and_tags_filter_what_a_server_lists_and_calls",
        "tests/test_policy.py::test_methods_and_tags_table",
    ),
    # --- README: the sandbox
    _c(
        R,
        "pip install -e . && yamcp serve --sandbox",
        f"{SB}::test_needs_no_accounts_file_no_token_and_no_data_folder",
        f"{SB}::test_the_readme_snippet_runs_bounce_triage",
    ),
    _c(
        R,
        "and they run the bounce triage workflow, one line a step",
        f"{SB}::test_the_readme_snippet_runs_bounce_triage",
    ),
    _c(
        R,
        "`yamcp serve --sandbox` needs no accounts file, no token and no Postmark account",
        f"{SB}::test_needs_no_accounts_file_no_token_and_no_data_folder",
    ),
    _c(
        R,
        "the same one the test suite runs against",
        f"{SB}::test_the_tests_fake_is_the_simulator",
    ),
    _c(
        R,
        "the first with every tool the guardrails allow, then one per named policy in `policies/`",
        f"{SB}::test_needs_no_accounts_file_no_token_and_no_data_folder",
        f"{SB}::test_bounce_triage_finds_reads_and_reactivates",
    ),
    _c(
        R,
        "`--sandbox postmark` names the integration when several ship one",
        f"{SB}::test_the_sandbox_account_cannot_be_pointed_elsewhere",
        f"{SB}::test_with_several_sandboxes_one_must_be_named",
        f"{SB}::test_serve_names_the_integration_or_refuses",
    ),
    _c(
        R,
        "bounces of several types (hard bounces, a spam complaint, a delayed message, and an "
        "inactive soft bounce, `692560179`, whose raw SMTP dump says the mailbox was full",
        f"{SB}::test_the_seed_holds_what_the_shipped_workflows_need",
    ),
    _c(
        R,
        "`welcome` has a layout and an `{{#each}}`",
        f"{SB}::test_the_seed_holds_what_the_shipped_workflows_need",
    ),
    _c(
        R,
        "a reactivation makes the bounce active again",
        f"{SB}::test_bounce_triage_finds_reads_and_reactivates",
        f"{SB}::test_activation_and_template_edits_change_what_follows",
    ),
    _c(
        R,
        "a send is listed among the outbound messages under the MessageID it answered",
        f"{SB}::test_deliverability_reads_stats_and_sends",
        f"{SB}::test_sends_are_listed_with_the_message_id_they_answered",
    ),
    _c(
        R,
        "a template edit changes what the next templated send is checked against",
        f"{SB}::test_transactional_sender_sends_and_sees_template_edits",
        f"{SB}::test_activation_and_template_edits_change_what_follows",
    ),
    _c(
        R,
        "every start begins from the same seed",
        f"{SB}::test_deliverability_reads_stats_and_sends",
    ),
    _c(
        R,
        "in a temporary folder (never `data/`)",
        f"{SB}::test_needs_no_accounts_file_no_token_and_no_data_folder",
    ),
    _c(
        R,
        "which no setting or accounts file can change",
        f"{SB}::test_the_sandbox_account_cannot_be_pointed_elsewhere",
        f"{SB}::test_the_account_is_the_simulator_on_loopback",
    ),
    _c(
        R,
        "wait for the URL of the agent's policy to appear",
        f"{SB}::test_transactional_sender_sends_and_sees_template_edits",
    ),
    _c(
        ADDING,
        "`def sandbox_app()` returns a fresh ASGI app",
        f"{SB}::test_a_sandbox_module_must_keep_the_contract",
        f"{SB}::test_the_account_is_the_simulator_on_loopback",
    ),
    _c(
        ADDING,
        "no setting or accounts file can point a sandbox at the real service",
        f"{SB}::test_the_sandbox_account_cannot_be_pointed_elsewhere",
    ),
    _c(
        PM,
        "`sandbox.py` is a stateful, in-memory Postmark",
        f"{SB}::test_the_tests_fake_is_the_simulator",
        f"{SB}::test_activation_and_template_edits_change_what_follows",
    ),
    _c(
        R,
        "Minted URLs start where `yamcp serve` listens",
        f"{S}::test_minted_urls_follow_the_port_serve_listens_on",
    ),
    _c(
        R,
        "the admin API follows the flags too",
        f"{S}::test_minted_urls_follow_the_port_serve_listens_on",
    ),
    _c(
        R,
        "A wildcard listen address (`0.0.0.0`, `::`) becomes `127.0.0.1`",
        f"{S}::test_minted_urls_name_a_reachable_host_for_the_listen_address",
    ),
    _c(
        R,
        "exposes every tool of the account's integration that the guardrails "
        "(`policies/guardrails.yaml`) allow",
        "tests/test_policy_e2e.py::test_a_bare_mint_serves_what_it_says_the_guardrails_left",
        "tests/test_admin_api.py::test_preview_counts_what_the_guardrails_withhold_and_says_why",
    ),
    _c(
        R,
        "how many tools the server exposes and how many the guardrails withheld and why",
        "tests/test_cli_output.py::test_mint_says_how_many_tools_the_guardrails_withheld_and_why",
        "tests/test_admin_api.py::test_preview_counts_what_the_guardrails_withhold_and_says_why",
        f"{T}::test_every_documented_command_runs",
    ),
    # --- clients
    _c(
        R,
        "the official `mcp` SDK (both eras), the MCP Inspector CLI, `mcp-remote`, the OpenAI Agents SDK",
        "tests/test_modern_era.py::test_sdk_auto_mode_lands_on_the_modern_era",
        "tests/test_modern_era.py::test_sdk_legacy_mode_lands_on_2025_11_25",
        "tests/test_real_clients.py::test_inspector_calls_a_tool",
        "tests/test_real_clients.py::test_mcp_remote_bridges_a_url",
        "tests/test_real_clients.py::test_openai_agents_sdk_lists_and_calls_tools",
        "tests/test_real_clients.py::test_conformance_default_suite_passes_with_the_baseline",
    ),
    # --- policies
    _c(
        R,
        "The same decision filters `tools/list` and authorises `tools/call`",
        "tests/test_policy_e2e.py::test_read_only_server_cannot_send_email",
    ),
    _c(
        R,
        "a constraint breach",
        "tests/test_policy_e2e.py::test_constraint_breach_is_a_tool_error_naming_the_rule_and_sends_nothing",
    ),
    _c(
        R,
        "refuses, fail closed, any address outside the listed domains",
        "tests/test_recipient_constraints.py::test_adversarial_recipient_lists_are_refused",
    ),
    _c(
        R,
        "Postmark's send tools then also refuse `To`/`Cc`/`Bcc` smuggled in `Headers`",
        "tests/test_recipient_constraints.py::test_a_bcc_header_cannot_smuggle_a_recipient_end_to_end",
    ),
    _c(
        R,
        "reload accounts and policies, no restart",
        "tests/test_policy_reload.py::test_sighup_reloads_named_policies",
        "tests/test_accounts_reload.py::test_an_account_appended_is_usable_after_sighup",
    ),
    _c(
        R,
        "reads the file again on `SIGHUP` or `POST /admin/reload`",
        "tests/test_accounts_reload.py::test_an_account_appended_is_usable_after_sighup",
        "tests/test_accounts_reload.py::test_the_reload_endpoint_changes_and_removes_accounts",
    ),
    _c(
        R,
        "is refused whole, leaving what",
        "tests/test_accounts_reload.py::"
        "test_a_broken_accounts_file_is_refused_whole_with_the_policies",
    ),
    _c(
        R,
        "`tests/test_layers.py` holds it",
        "tests/test_layers.py::test_no_module_imports_one_that_imports_it_back",
        "tests/test_layers.py::test_nothing_below_the_application_imports_it",
    ),
    _c(
        R,
        'or every request, `initialize` included, gets 401 with `WWW-Authenticate: Bearer ... resource_metadata="..."`',
        "tests/test_policy_e2e.py::test_api_token_required_for_every_method",
    ),
    _c(
        R,
        "With the official `mcp` Python SDK (2.x), give the header to the `httpx2` client",
        f"{T}::test_the_readme_sdk_snippet_sends_the_api_token_as_a_bearer_header",
    ),
    _c(R, "# never shows URLs", f"{T}::test_every_documented_command_runs"),
    _c(R, "# the URL is 404 at once", "tests/test_policy_e2e.py::test_revoked_server_is_404"),
    _c(
        R,
        "Unknown, revoked and expired URLs all get the same 404 body",
        "tests/test_mcp_http.py::test_unknown_revoked_expired_and_malformed_tokens_get_the_same_404",
        "tests/test_policy_e2e.py::test_expired_server_is_404_like_unknown",
    ),
    # --- admin API
    _c(
        R,
        "Validation errors are 422 with `errors: [{field, reason}]`, an unknown account 404, a bad admin token 401",
        "tests/test_admin_api.py::test_validation_errors_are_422_with_field_and_reason",
        "tests/test_admin_api.py::test_unknown_account_is_404",
        "tests/test_admin_api.py::test_bad_or_missing_admin_token_is_401",
    ),
    _c(
        R,
        "the only time the URL is shown",
        "tests/test_admin_api.py::test_create_answers_201_with_url_once_then_lists_without_url",
    ),
    _c(R, "revoke (204)", "tests/test_admin_api.py::test_delete_revokes_and_the_url_is_404"),
    _c(
        R,
        "the exact tools that config exposes",
        "tests/test_admin_api.py::test_preview_lists_exact_tools_and_exclusion_reasons",
    ),
    _c(
        R,
        "`POST /admin/reload` | re-reads `accounts.yaml` and `policies/`, as one",
        "tests/test_policy_reload.py::test_reload_endpoint_and_no_dropped_requests",
        "tests/test_accounts_reload.py::test_the_reload_endpoint_changes_and_removes_accounts",
    ),
    _c(
        R,
        "`POST` / `GET /integrated-account/{id}/mcp/{server_id}/api-tokens`",
        "tests/test_admin_api.py::test_api_tokens_gate_the_url",
    ),
    # --- accounts over the admin API (issue 18)
    _c(
        R,
        "credentials are never echoed; 409 for an id that exists",
        f"{A}::test_connect_mint_call_rotate_and_delete",
        f"{A}::test_refused_input_is_422_with_field_and_reason",
    ),
    _c(
        R,
        "every account, file and API alike, each with its `source`",
        f"{A}::test_connect_mint_call_rotate_and_delete",
    ),
    _c(
        R,
        "in force on the next call on every instance",
        f"{A}::test_connect_mint_call_rotate_and_delete",
    ),
    _c(
        R,
        "A file account is 409 to PATCH and DELETE",
        f"{A}::test_file_accounts_cannot_be_changed_here",
    ),
    _c(
        R,
        "refused credentials are a 422 carrying Postmark's message, nothing stored",
        f"{A}::test_verify_refuses_credentials_the_upstream_refuses",
    ),
    _c(
        R,
        "every URL is 404",
        f"{A}::test_connect_mint_call_rotate_and_delete",
    ),
    _c(
        R,
        "never shown by any answer, log line or error",
        "tests/test_no_secrets.py::test_sqlite_run_leaves_no_secret",
        "tests/test_no_secrets.py::test_redis_run_leaves_no_secret",
    ),
    _c(
        R,
        "`settings`, only those the base URL names",
        f"{A}::test_refused_input_is_422_with_field_and_reason",
    ),
    # --- `yamcp accounts` (issue 18)
    _c(
        R,
        "the same reasons: a refusal is one `yamcp: field: reason` line each, exit 2",
        "tests/test_cli_accounts.py::test_refusals_are_the_admin_apis_reasons",
    ),
    _c(
        R,
        "never on the command line, where `ps` would show them; no output or error ever quotes",
        "tests/test_cli_accounts.py::test_added_account_serves_and_removed_account_is_404",
        "tests/test_cli_accounts.py::test_verify_refusal_stores_nothing_and_quotes_no_credential",
        "tests/test_cli_accounts.py::test_credentials_from_a_named_environment_variable",
    ),
    _c(
        R,
        "file and API accounts, each with its source",
        "tests/test_cli_accounts.py::test_list_and_show_give_every_account_with_its_source_and_no_credential",
    ),
    _c(
        R,
        "its MCP servers go with it; a file account is refused",
        "tests/test_cli_accounts.py::test_added_account_serves_and_removed_account_is_404",
        "tests/test_cli_accounts.py::test_refusals_are_the_admin_apis_reasons",
    ),
    # --- admin page
    _c(
        R,
        "YAMCP_ADMIN_UI=true yamcp serve",
        "tests/test_admin_ui.py::test_create_preview_copy_use_and_revoke",
    ),
    _c(
        R,
        "strict Content-Security-Policy",
        "tests/test_admin_ui.py::test_page_and_assets_carry_a_strict_csp",
    ),
    _c(
        R,
        "refuses any POST, PATCH or DELETE whose `Origin` is not its own host",
        "tests/test_admin_ui.py::test_foreign_origin_cannot_change_anything",
    ),
    _c(
        R,
        "its credentials go in password fields, are sent once and are never shown again",
        "tests/test_admin_ui.py::test_connect_an_account_then_disconnect_it",
    ),
    # --- Redis
    _c(
        R,
        "A server minted on one instance works on every other at once",
        "tests/test_redis_instances.py::test_minted_on_one_works_on_the_other_and_revocation_is_seen_at_once",
    ),
    _c(
        R,
        "MCP and admin requests get a clear 503",
        "tests/test_redis_instances.py::test_redis_outage_is_503_and_the_process_recovers",
    ),
    # --- what an agent sees
    _c(
        R,
        "all four annotations",
        "tests/test_postmark_coverage.py::test_tools_cli_lists_every_tool_with_all_hints",
        "tests/test_policy.py::test_every_tool_is_read_or_write_and_reads_are_read_only",
    ),
    _c(
        R,
        "List tools page the same way",
        "tests/test_postmark_e2e.py::test_list_bounces_pages_with_next_cursor",
    ),
    _c(
        R,
        "the last page is shrunk to end there, `next_cursor` is null, and a `note` says",
        "tests/test_paging_window.py::test_page_crossing_the_window_shrinks_and_the_cursor_ends_with_a_note",
    ),
    _c(
        R,
        "lists yamcp pages itself have no such limit",
        "tests/test_paging_window.py::test_lists_yamcp_pages_itself_have_no_window",
    ),
    _c(
        R,
        "raw text such as a bounce's SMTP dump",
        "tests/test_postmark_e2e.py::test_get_bounce_dump_is_raw_text",
    ),
    _c(
        R,
        "a bad call is a tool error (`isError: true`) listing each bad field, and reaches no upstream",
        "tests/test_postmark_e2e.py::test_invalid_arguments_name_each_field_and_reach_no_upstream",
    ),
    # --- errors and rate limits
    _c(
        R,
        "an upstream request yamcp makes is made once",
        "tests/test_upstream_failures.py::test_429_passes_through_once_with_ietf_headers",
        "tests/test_upstream_failures.py::test_connection_reset_mid_response_is_not_retried",
        "tests/test_postmark_checks.py::test_stream_lookup_is_cached_per_account",
    ),
    _c(
        R,
        "| `error.type` | when | also in `error` |",
        f"{T}::test_readme_error_table_lists_every_error_type_yamcp_produces",
    ),
    _c(
        R,
        "a redirect (3xx: yamcp follows none",
        "tests/test_hardening.py::test_a_redirected_call_is_an_error_that_says_where",
    ),
    _c(
        R,
        "`internal_error` | a bug in yamcp",
        "tests/test_hardening.py::test_a_bug_inside_yamcp_is_a_counted_json_500",
    ),
    _c(
        R,
        "`CallDeadline`",
        "tests/test_hardening.py::test_a_dripping_upstream_ends_at_the_whole_call_deadline",
    ),
    _c(
        R,
        "credential values replaced by `<redacted>`",
        "tests/test_hardening.py::test_upstream_messages_never_echo_a_credential",
    ),
    _c(
        R,
        "(`inf`, `1e999`, non-ASCII) are ignored",
        "tests/test_hardening.py::test_odd_upstream_headers_are_ignored",
    ),
    _c(
        R,
        "yamcp reads `X-RateLimit-*`, `RateLimit-*` and `Retry-After`, epoch or delta",
        "tests/test_ratelimit.py::test_x_ratelimit_with_an_epoch_reset",
        "tests/test_ratelimit.py::test_ietf_fields_with_a_delta_reset_pass_through",
        "tests/test_ratelimit.py::test_retry_after_as_seconds_and_as_http_date",
        "tests/test_ratelimit.py::test_manifest_declares_other_names_and_kinds",
    ),
    _c(
        R,
        "successful calls carry them too",
        "tests/test_upstream_failures.py::test_success_carries_normalised_rate_limit_headers",
    ),
    _c(
        R,
        "Every tool call writes one audit line",
        "tests/test_upstream_failures.py::test_audit_log_has_one_line_per_call_without_arguments",
        "tests/test_logs.py::test_audit_line_in_json_matches_the_logging_format",
    ),
    # --- the MCP endpoint
    _c(
        R,
        "GET and DELETE answer 405 with `Allow: POST`",
        "tests/test_mcp_http.py::test_get_and_delete_are_405_with_allow_post",
    ),
    _c(
        R,
        "any other spelling of an MCP path",
        "tests/test_hardening.py::test_only_the_canonical_path_serves_and_no_form_is_logged",
    ),
    _c(
        R,
        "A foreign `Host` is 421 on every path",
        "tests/test_hardening.py::test_a_foreign_host_is_refused_on_every_path",
    ),
    _c(
        R,
        "a foreign or unparsable `Origin` 403",
        "tests/test_mcp_http.py::test_foreign_origin_is_403_and_local_origin_is_fine",
        "tests/test_hardening.py::test_unparsable_origin_is_403_before_anything",
    ),
    _c(
        R,
        "a body over `YAMCP_MAX_REQUEST_BYTES` 413",
        "tests/test_mcp_http.py::test_oversized_body_is_413",
        f"{S}::test_max_request_bytes_bounds_the_body",
    ),
    _c(
        R,
        "`YAMCP_REQUEST_BODY_TIMEOUT` 408",
        "tests/test_hardening.py::test_a_trickled_request_body_is_cut_off_with_408",
    ),
    _c(
        R,
        "values nested 1,000 deep",
        "tests/test_hardening.py::test_deeply_nested_params_are_a_clean_error",
    ),
    _c(
        R,
        '`ttlMs`/`cacheScope: "private"` on `tools/list`',
        "tests/test_modern_era.py::test_tools_list_has_ttl_and_private_cache_scope",
    ),
    _c(
        R,
        "unknown methods 404",
        "tests/test_modern_era.py::test_unknown_and_removed_methods_are_404",
    ),
    _c(R, "`GET /healthz` answers 200", "tests/test_mcp_http.py::test_health_and_oauth_probes"),
    # --- adding an integration
    _c(
        R,
        "Credential profiles take four shapes",
        "tests/test_credentials.py::test_a_named_header_profile_is_unchanged",
        "tests/test_credentials.py::test_bearer_and_constant_headers_on_a_templated_base_url",
        "tests/test_credentials.py::test_basic_from_one_credential_has_an_empty_password",
        "tests/test_credentials.py::test_basic_from_two_credentials_and_method_headers_win",
        "tests/test_credentials.py::test_a_query_key_reaches_the_upstream_and_nothing_else",
    ),
    _c(
        R,
        "a query key never appears in a log line, an error or a metric",
        "tests/test_credentials.py::test_a_query_key_reaches_the_upstream_and_nothing_else",
        "tests/test_credentials.py::test_a_client_error_quoting_the_url_is_redacted_in_a_log_line",
    ),
    _c(
        R,
        "they are not secrets, so a `${...}` value is refused",
        "tests/test_credentials.py::test_lint_refuses_bad_constant_headers_and_base_url_templates",
    ),
    _c(
        R,
        "`yamcp lint`, start-up and a reload refuse an account lacking a setting its base URL names",
        "tests/test_credentials.py::test_lint_refuses_an_account_its_base_url_cannot_be_filled_for",
        "tests/test_credentials.py::test_serve_refuses_an_account_lacking_a_setting",
        "tests/test_credentials.py::test_a_reload_refuses_an_account_lacking_a_setting",
    ),
    _c(
        "docs/adding-an-integration.md",
        "An account lacking a setting its base URL names is refused by `yamcp lint`, at start and "
        "on reload",
        "tests/test_credentials.py::test_lint_refuses_an_account_its_base_url_cannot_be_filled_for",
        "tests/test_credentials.py::test_serve_refuses_an_account_lacking_a_setting",
        "tests/test_credentials.py::test_a_reload_refuses_an_account_lacking_a_setting",
    ),
    _c(
        "docs/adding-an-integration.md",
        "A malformed profile (no shape or two, `query` or `header` without `secret`",
        "tests/test_credentials.py::test_lint_refuses_a_malformed_credential_profile",
    ),
    _c(
        R,
        "Drop a folder with a `manifest.yaml` into `integrations/` (or any folder named in `YAMCP_INTEGRATIONS_DIRS`",
        "tests/test_drop_in_integration.py::test_yaml_only_integration_appears_as_tools_and_forwards",
    ),
    _c(
        R,
        "generated from the models by `yamcp schema` (a test keeps them in sync)",
        "tests/test_manifest.py::test_published_json_schemas_match_the_models",
    ),
    _c(
        R,
        "The loader refuses unknown keys, bad JMESPath, invalid schemas, path parameters missing from `path`, duplicate tools and names over 64 characters",
        "tests/test_manifest.py::test_unknown_key_names_file_and_key",
        "tests/test_manifest.py::test_bad_jmespath_is_refused_at_load",
        "tests/test_manifest.py::test_invalid_json_schema_is_refused",
        "tests/test_manifest.py::test_path_parameter_missing_from_schema_is_refused",
        "tests/test_manifest.py::test_duplicate_tool_names_across_files_are_refused",
        "tests/test_manifest.py::test_tool_name_over_64_characters_is_refused",
    ),
    # --- deploying and operations
    _c(
        R,
        "a slim, non-root image with a health check",
        "tests/test_deploy.py::test_dockerfile_is_slim_non_root_and_holds_no_secret",
        "tests/test_deploy.py::test_dockerfile_healthcheck_passes_on_a_serving_yamcp_and_fails_without_one",
    ),
    _c(
        R,
        "runs two instances on one Redis behind nginx",
        "tests/test_deploy.py::test_compose_resolves_two_instances_on_one_redis_behind_nginx",
        "tests/test_deploy.py::test_round_robin_serves_from_both_instances_a_server_minted_on_one",
    ),
    _c(
        R,
        "`GET /readyz` (manifests loaded, store reachable; 503 otherwise)",
        "tests/test_operations.py::test_readyz_is_503_while_the_store_is_down_and_200_when_it_answers",
    ),
    _c(
        R,
        "`yamcp_tool_calls_total{integration,tool,outcome}`",
        "tests/test_operations.py::test_metrics_count_calls_outcomes_and_rate_limits_without_secrets",
    ),
    _c(
        R,
        "finishes in-flight calls",
        "tests/test_operations.py::test_sigterm_finishes_in_flight_calls",
        f"{S}::test_shutdown_grace_bounds_an_in_flight_call",
    ),
    _c(
        R,
        "a trickling client holds up no one else",
        "tests/test_hardening.py::test_trickled_headers_hold_no_one_else_up",
    ),
    _c(
        R,
        "sets `client_header_timeout` and `client_body_timeout` to 10 s",
        "tests/test_deploy.py::test_nginx_cuts_off_trickled_headers",
    ),
    _c(
        R,
        "so no spelling of an MCP path is ever logged",
        "tests/test_deploy.py::test_nginx_logs_no_spelling_of_an_mcp_path",
    ),
    _c(
        R,
        "`tools/list`, full Postmark manifest (90 tools)",
        f"{T}::test_tools_list_size_is_the_figure_the_docs_quote",
    ),
    _c(
        R,
        "Calls beyond the pool wait their turn",
        "tests/test_upstream_pool.py::test_calls_beyond_the_pool_queue_and_all_reach_the_upstream",
        "tests/test_upstream_pool.py::test_a_call_that_gets_no_connection_in_time_was_not_sent",
    ),
    # --- security
    _c(
        R,
        "The SQLite store's folder is created `0700` and its files `0600`",
        "tests/test_hardening.py::test_sqlite_files_are_private",
    ),
    _c(
        R,
        "a YAML error names the line and column, never the text around it",
        "tests/test_hardening.py::test_yaml_errors_do_not_echo_the_text",
    ),
    _c(
        R,
        "with a broken accounts or policy file is a 422 that keeps the running accounts and",
        "tests/test_hardening.py::test_reload_with_a_broken_policy_is_refused_and_keeps_the_running_ones",
        "tests/test_accounts_reload.py::"
        "test_a_broken_accounts_file_is_refused_whole_with_the_policies",
    ),
    _c(
        R,
        "shows each server's effective expiry",
        "tests/test_hardening.py::test_admin_api_shows_the_effective_expiry",
    ),
    _c(
        R,
        "a test greps the data folder, the Redis keys and the logs after a full run and finds none of them",
        "tests/test_no_secrets.py::test_sqlite_run_leaves_no_secret",
        "tests/test_no_secrets.py::test_redis_run_leaves_no_secret",
    ),
    # --- integrations/postmark/README.md
    _c(
        PM,
        "Every endpoint of Postmark's current API has a tool",
        "tests/test_postmark_coverage.py::test_every_current_endpoint_has_a_tool",
    ),
    _c(
        PM,
        "calls every tool once against the fake Postmark",
        "tests/test_postmark_all_tools.py::test_tool_call_reaches_postmark_as_expected",
    ),
    _c(
        PM,
        "an account-token tool then answers a tool error naming the missing credential, and nothing is sent",
        "tests/test_postmark_checks.py::test_server_tools_withhold_postmark_api_tokens",
    ),
    _c(
        PM,
        "denies `create_a_postmark_data_removal` to every server",
        "tests/test_policy.py::test_guardrails_deny_and_api_token_tags",
    ),
    _c(
        PM,
        "Postmark reads at most 10,000 items deep",
        "tests/test_postmark_checks.py::test_paging_limits_are_tool_errors_not_upstream_422s",
    ),
    _c(
        PM,
        "A page that would cross that line is shrunk to end at it",
        "tests/test_paging_window.py::test_page_crossing_the_window_shrinks_and_the_cursor_ends_with_a_note",
    ),
    _c(
        PM,
        "paged by yamcp from that one answer, with no such limit",
        "tests/test_paging_window.py::test_lists_yamcp_pages_itself_have_no_window",
    ),
    _c(
        PM,
        "take a date (`2024-01-15`, a whole day for `todate`) or a date and time",
        "tests/test_paging_window.py::test_date_time_filters_reach_postmark_as_given",
        "tests/test_paging_window.py::test_a_date_time_filter_narrows_to_the_minute",
    ),
    _c(
        PM,
        "Postmark reads both in US Eastern time",
        "tests/test_paging_window.py::test_date_time_filters_reach_postmark_as_given",
    ),
    _c(
        PM,
        "names a `MessageStream` that is not a Transactional stream",
        "tests/test_postmark_checks.py::test_transactional_tool_refuses_a_broadcast_stream",
    ),
    _c(
        PM,
        "a templated send's `TemplateModel` lacks a variable",
        "tests/test_postmark_checks.py::test_templated_send_refuses_a_model_missing_variables",
    ),
    _c(
        PM,
        "The stream and template lookups are cached for a minute per account",
        "tests/test_postmark_checks.py::test_stream_lookup_is_cached_per_account",
    ),
    _c(PM, "bytes** (90 tools)", f"{T}::test_tools_list_size_is_the_figure_the_docs_quote"),
    _c(
        PM,
        "names the ten biggest tools with their sizes",
        "tests/test_tools_budget.py::test_the_whole_set_is_within_the_budget",
    ),
    _c(
        PM,
        "a server granted a batch without its single send gets the whole item",
        "tests/test_account_defaults.py::"
        "test_a_batch_without_its_single_send_shows_the_whole_item_schema",
    ),
    _c(
        PM,
        "fill each message either way",
        "tests/test_account_defaults.py::test_a_batch_fills_each_message_with_the_defaults",
    ),
    _c(
        R,
        "no display title (clients show the name instead",
        "tests/test_tools_budget.py::test_the_compact_tools_keep_what_a_model_needs",
        "tests/test_postmark_coverage.py::test_tools_cli_lists_every_tool_with_all_hints",
    ),
    _c(
        R,
        "points to that tool when the server lists it",
        "tests/test_account_defaults.py::test_a_batch_points_to_the_single_send_a_server_also_lists",
    ),
    _c(
        R,
        "The full Postmark set answers `tools/list` in 58,620 bytes, under its 60,000-byte",
        "tests/test_tools_budget.py::test_the_whole_set_is_within_the_budget",
    ),
    _c(
        PM,
        "a test fails when it is out of date",
        "tests/test_postmark_coverage.py::test_readme_tools_table_is_generated_from_the_manifest",
    ),
    # --- integrations/nager_date/README.md
    _c(
        NAGER,
        "Every tool is a read (`readOnlyHint: true`)",
        "tests/test_second_integration.py::test_the_account_sees_seven_read_only_tools",
    ),
    _c(
        NAGER,
        'so a call with `"Austria"` is a tool error and reaches no upstream',
        "tests/test_second_integration.py::test_bad_arguments_never_reach_nager_date",
    ),
    _c(
        NAGER,
        '`{"status": 204}` (it is not)',
        "tests/test_second_integration.py::test_is_today_a_public_holiday_answers_200_or_an_empty_204",
    ),
    _c(
        NAGER,
        "still declare the same endpoints, base URL and error shape",
        "tests/test_import_openapi.py::test_nager_date_manifest_covers_the_imported_document",
    ),
    # --- policies/README.md
    _c(
        POL,
        "A file that does not load is refused with `file: key: reason` and the running policies stay in force",
        "tests/test_policy_reload.py::test_broken_policy_file_keeps_the_running_policies",
        "tests/test_policy.py::test_bad_policy_file_names_file_and_key",
    ),
    _c(
        POL,
        "`methods` and `tags` combine with AND",
        "tests/test_policy.py::test_methods_and_tags_table",
    ),
    _c(
        POL,
        "`required: true` also refuses calls that leave it out",
        "tests/test_policy.py::test_required_constraint_refuses_a_missing_argument",
    ),
    _c(
        POL,
        "`*.example.com` allows any subdomain of example.com but not example.com itself",
        "tests/test_recipient_constraints.py::test_subdomains_need_a_wildcard_entry",
    ),
    _c(
        POL,
        "An `expires_at` beyond `max_lifetime_days` is refused at creation",
        "tests/test_admin_api.py::test_expiry_beyond_guardrail_lifetime_is_refused",
    ),
    _c(
        POL,
        "prints exactly which tools the policy grants",
        "tests/test_policy.py::test_plan_prints_a_stable_sorted_grant",
        "tests/test_policy.py::test_plan_shows_constraints_and_guardrail_removals",
    ),
    _c(
        POL,
        "Top-level `require_api_token_for_tags`, `deny_tools` and `constraints` apply to the "
        "tools of every integration",
        "tests/test_scoped_guardrails.py::test_an_unscoped_domains_guardrail_hides_both_integrations_domains_tools",
    ),
    _c(
        POL,
        "Put a rule written for one integration under `integrations.<name>`, with the same "
        "keys: it applies to that integration's tools only, in addition to the top-level rules",
        "tests/test_scoped_guardrails.py::test_scoped_constraints_apply_to_their_integration_only",
        "tests/test_scoped_guardrails.py::test_postmarks_domains_tools_still_need_api_token_auth",
    ),
    _c(
        POL,
        "a `domains` tag written for Postmark's sending domains would otherwise also hold back "
        "a registrar integration's `domains` tools",
        "tests/test_scoped_guardrails.py::test_an_unscoped_domains_guardrail_hides_both_integrations_domains_tools",
        "tests/test_scoped_guardrails.py::test_postmarks_scoped_domains_guardrail_does_not_hide_another_integrations_domains",
    ),
    _c(
        POL,
        "The shipped `guardrails.yaml` scopes every Postmark-specific rule to `postmark`; "
        "`max_lifetime_days` stays at the top level",
        "tests/test_scoped_guardrails.py::test_shipped_guardrails_scope_every_postmark_rule_and_name_it_in_the_reason",
        "tests/test_cli_output.py::test_mint_says_how_many_tools_the_guardrails_withheld_and_why",
        "tests/test_postmark_all_tools.py::test_the_api_token_server_lists_every_tool_the_guardrails_allow",
    ),
    _c(
        POL,
        "`yamcp plan`, `yamcp mint` and the admin preview name a scoped rule by its key",
        "tests/test_scoped_guardrails.py::test_plan_names_the_scoped_rule_that_removed_a_tool",
        "tests/test_scoped_guardrails.py::test_the_admin_preview_names_the_scoped_rule_and_leaves_the_other_integration_alone",
        "tests/test_scoped_guardrails.py::test_shipped_guardrails_scope_every_postmark_rule_and_name_it_in_the_reason",
    ),
    _c(
        POL,
        "`yamcp lint` warns (on stderr, one line each, naming the file and the rule; the exit "
        "code stays 0)",
        "tests/test_scoped_guardrails.py::test_lint_warns_when_a_top_level_tag_tags_tools_of_several_integrations",
    ),
    _c(
        POL,
        "a top-level tag in `require_api_token_for_tags` tags tools of more than one "
        "integration: move it to `integrations.<name>.require_api_token_for_tags` if it was "
        "written for one",
        "tests/test_scoped_guardrails.py::test_lint_warns_when_a_top_level_tag_tags_tools_of_several_integrations",
        "tests/test_scoped_guardrails.py::test_lint_is_quiet_about_the_shipped_guardrails_with_a_second_domains_integration",
    ),
    _c(
        POL,
        "`integrations.<name>` names an integration that is not loaded",
        "tests/test_scoped_guardrails.py::test_lint_warns_about_a_scope_for_an_integration_that_is_not_loaded",
    ),
    _c(
        POL,
        "a scoped `require_api_token_for_tags` tag or `deny_tools` entry matches none of its "
        "integration's tools",
        "tests/test_scoped_guardrails.py::test_lint_warns_about_scoped_tags_and_tools_the_integration_does_not_have",
    ),
    _c(
        POL,
        "A scoped constraint that matches none of its integration's tools is an error, as a "
        "top-level one that matches no tool is (exit 2)",
        "tests/test_scoped_guardrails.py::test_lint_refuses_a_scoped_constraint_that_matches_none_of_its_integrations_tools",
        "tests/test_cli_output.py::test_lint_counts_what_it_checked_and_names_the_file_and_key_it_refuses",
    ),
    _c(
        R,
        "Guardrails written for one integration go under `integrations.<name>` in "
        "`guardrails.yaml` and apply to that integration's tools only, so Postmark's `domains` "
        "tag never hides another integration's `domains` tools",
        "tests/test_scoped_guardrails.py::test_postmarks_scoped_domains_guardrail_does_not_hide_another_integrations_domains",
        "tests/test_scoped_guardrails.py::test_postmarks_domains_tools_still_need_api_token_auth",
    ),
    _c(
        R,
        "`yamcp lint` warns when a top-level guardrail tag tags tools of more than one integration",
        "tests/test_scoped_guardrails.py::test_lint_warns_when_a_top_level_tag_tags_tools_of_several_integrations",
    ),
    _c(
        POL,
        "no server using this policy answers after it",
        "tests/test_policy.py::test_expiry_is_the_earliest_of_server_policy_and_guardrail",
    ),
    # --- docs/chatgpt.md and docs/claude.md
    _c(
        CHATGPT,
        "GET answers 405, not 404",
        "tests/test_mcp_http.py::test_get_and_delete_are_405_with_allow_post",
    ),
    _c(
        CHATGPT,
        "grants 5 tools, all `readOnlyHint: true`",
        f"{T}::test_policy_grants_the_docs_count",
    ),
    _c(CHATGPT, "It grants 11 tools", f"{T}::test_policy_grants_the_docs_count"),
    _c(CLAUDE, "# 5 read-only tools", f"{T}::test_policy_grants_the_docs_count"),
    _c(CLAUDE, "# 11 tools", f"{T}::test_policy_grants_the_docs_count"),
    _c(
        CLAUDE,
        '--header", "Authorization:${AUTH_HEADER}"',
        "tests/test_real_clients.py::test_mcp_remote_with_an_authorization_header",
    ),
    _c(
        CLAUDE,
        "yamcp answers them with a fast 404",
        "tests/test_mcp_http.py::test_health_and_oauth_probes",
    ),
    # --- the README's Discovery mode
    _c(
        R,
        "`tools/list` holds three tools, Truto's",
        f"{DI}::test_tools_list_holds_three_tools_within_4096_bytes",
    ),
    _c(
        R,
        "word for word as a name that does not exist",
        f"{DI}::test_a_hidden_tool_is_neither_found_described_nor_callable",
    ),
    _c(
        R,
        "the same upstream request",
        f"{DI}::test_the_seed_workflows_through_the_three_tools_send_what_the_direct_tool_sends",
    ),
    _c(
        R,
        "fit in 4 KiB (the 4,096-byte budget) whatever the integration's size",
        f"{DI}::test_a_600_tool_integration_still_lists_three_tools_within_4096_bytes",
        "tests/test_tools_budget.py::test_discovery_mode_lists_three_tools_within_4096_bytes",
    ),
    _c(
        R,
        "exactly those `tools/list` shows without it",
        f"{DI}::test_discovery_reaches_exactly_what_the_policy_lists",
        f"{DI}::test_discovery_reaches_what_any_config_lists",
    ),
    _c(
        R,
        "definition exactly as `tools/list` would give it",
        f"{DI}::test_get_tool_schema_is_the_definition_tools_list_would_give",
    ),
    _c(
        R,
        'or the page\'s "Discovery mode"',
        "tests/test_admin_ui.py::test_the_approval_option_marks_the_tools_that_wait",
        f"{DI}::test_mint_and_plan_take_the_exposure",
    ),
    # --- the README's Approvals
    _c(
        R,
        "its description says each call needs approval",
        f"{AP}::test_a_listed_tool_says_each_call_needs_approval",
    ),
    _c(
        R,
        "so a request that would fail never waits",
        f"{AP}::test_a_request_that_would_fail_never_waits_for_a_person",
    ),
    _c(
        R,
        '`{status: "approval_required", approval_id, approval_url, expires_at}`',
        f"{AP}::test_nothing_is_sent_until_a_person_approves_then_exactly_once",
    ),
    _c(
        R,
        "the HTML body rendered in a sandboxed frame (no script, no remote image)",
        f"{AP}::test_the_page_shows_the_email_as_it_will_be_sent",
        f"{AE}::test_the_review_page_in_chromium_shows_the_rendered_email",
    ),
    _c(
        R,
        "a templated send is rendered by Postmark's own `/templates/validate`",
        f"{AP}::test_a_templated_send_is_shown_rendered_from_the_template_and_model",
    ),
    _c(
        R,
        "For any other tool: its description, the upstream method and path, and the arguments",
        f"{AP}::test_any_other_tool_shows_its_arguments",
    ),
    _c(
        R,
        "**The link alone does not approve**",
        f"{AP}::test_nothing_is_sent_until_a_person_approves_then_exactly_once",
        f"{AP}::test_an_api_token_of_another_server_cannot_approve",
        f"{AE}::test_the_review_page_in_chromium_shows_the_rendered_email",
    ),
    _c(
        R,
        "(ten identical calls at once send one email)",
        f"{AE}::test_two_instances_agree_and_ten_calls_send_once",
    ),
    _c(
        R,
        "A further identical call needs a new approval",
        f"{AP}::test_nothing_is_sent_until_a_person_approves_then_exactly_once",
    ),
    _c(
        R,
        "Denied or expired, the call answers so",
        f"{AP}::test_a_denial_answers_with_the_note_and_sends_nothing",
        f"{AP}::test_an_expired_request_answers_so_and_sends_nothing",
    ),
    _c(
        R,
        "different arguments need their own",
        f"{AP}::test_different_arguments_need_their_own_approval",
    ),
    _c(
        R,
        "are seen by every instance at once, and go with their server or account",
        f"{AE}::test_two_instances_agree_and_ten_calls_send_once",
        f"{AP}::test_approvals_go_with_their_server",
        "tests/test_store_contract.py::test_approvals_go_with_their_server_and_account",
    ),
    _c(
        R,
        "survive a restart",
        "tests/test_store_contract.py::test_approvals_survive_a_restart_and_reach_another_instance",
    ),
    _c(
        R, "a request no longer pending is 409", f"{AP}::test_the_admin_api_lists_shows_and_decides"
    ),
    _c(
        R,
        "never a secret or a body",
        f"{AP}::test_the_webhook_hears_of_each_new_request_without_a_secret_or_body",
    ),
    _c(R, "`yamcp_approvals_total{event}`", f"{AP}::test_audit_lines_and_metrics_follow_a_request"),
    _c(
        R,
        "prints a sandbox admin token to approve with",
        "tests/test_sandbox.py::test_the_welcome_email_waits_for_a_person_in_the_sandbox",
    ),
    _c(
        R,
        "A person approves each call that changes something",
        "tests/test_admin_ui.py::test_the_approval_option_marks_the_tools_that_wait",
    ),
    _c(
        POL,
        "The guardrails take the same `approval` block",
        f"{AP}::test_guardrails_can_require_approval_for_a_tag_on_every_server",
    ),
    _c(POL, "with a person approving every send", f"{AP}::test_a_named_policy_with_approval"),
    # --- docs/oauth.md and the README's sign-in sections
    _c(
        R,
        "ChatGPT opens yamcp's **Sign in to an MCP server** page",
        f"{OC}::test_the_sdk_oauth_client_signs_in_calls_refreshes_and_is_cut_off",
    ),
    _c(
        R,
        "The page never shows the token again",
        f"{OA}::test_the_page_names_the_server_and_never_shows_a_secret",
    ),
    _c(
        R,
        "Leave the client id empty: ChatGPT registers itself",
        f"{OA}::test_the_real_clients_callbacks_register_and_get_a_code",
    ),
    _c(
        R,
        "Claude Desktop's `mcp-remote` bridge does the same sign-in",
        f"{OC}::test_mcp_remote_signs_in_through_the_browser",
    ),
    _c(
        R,
        "Revoking the API token, the server or its account ends every token of it on every instance at once",
        f"{OA}::test_every_token_dies_with_its_api_token_server_or_account",
        f"{OC}::test_two_instances_on_redis_share_every_grant",
    ),
    _c(R, "bound to one server URL", f"{OA}::test_a_token_for_another_server_url_is_refused"),
    _c(
        CHATGPT,
        "`yamcp api-token revoke` ends ChatGPT's access at once (its next call gets 401)",
        f"{OC}::test_the_sdk_oauth_client_signs_in_calls_refreshes_and_is_cut_off",
    ),
    _c(
        CLAUDE,
        'prints "Please authorize this client by visiting:"',
        f"{OC}::test_mcp_remote_signs_in_through_the_browser",
    ),
    _c(
        OAUTH,
        "gets the MCP endpoint's own 404, byte for byte",
        f"{OA}::test_metadata_of_unknown_revoked_or_open_servers_is_the_mcp_404_byte_for_byte",
    ),
    _c(
        OAUTH,
        "A server without `require_api_token_auth` keeps working with no authentication",
        f"{OA}::test_metadata_of_unknown_revoked_or_open_servers_is_the_mcp_404_byte_for_byte",
    ),
    _c(
        OAUTH,
        "every address the host resolves to must be public",
        f"{OA}::test_a_metadata_document_on_a_private_address_is_never_fetched",
    ),
    _c(
        OAUTH,
        "gets a secret, shown once and kept as a SHA-256",
        f"{OA}::test_a_confidential_registration_gets_a_secret_once_and_needs_it",
    ),
    _c(
        OAUTH,
        "A configured client can be held to some accounts",
        f"{OA}::test_a_configured_client_is_held_to_its_accounts",
    ),
    _c(
        OAUTH,
        "reloaded with the policies (SIGHUP)",
        f"{OA}::test_the_settings_name_the_clients_file_and_the_sign_in_lifetime",
    ),
    _c(
        OAUTH,
        "never `javascript:`, `data:`, `file:` or a fragment",
        f"{OA}::test_registration_refuses_what_cannot_be_trusted",
    ),
    _c(
        OAUTH,
        "gets an error page and is never redirected",
        f"{OA}::test_an_unregistered_redirect_uri_gets_a_page_and_no_redirect",
        f"{OA}::test_an_unknown_client_gets_a_page",
    ),
    _c(
        OAUTH,
        "go back to the client with `state` and `iss`",
        f"{OA}::test_bad_requests_go_back_to_the_client_with_state_and_iss",
        f"{OA}::test_denying_sends_access_denied",
    ),
    _c(OAUTH, "the store keeps only their SHA-256", f"{OA}::test_only_hashes_of_tokens_are_stored"),
    _c(
        OAUTH,
        "a wrong `code_verifier` ends the sign-in",
        f"{OA}::test_a_wrong_pkce_verifier_spends_the_code",
    ),
    _c(
        OAUTH,
        "a code presented twice ends what the first use obtained",
        f"{OA}::test_a_reused_code_is_refused_and_ends_what_the_first_use_got",
    ),
    _c(
        OAUTH,
        "a spent one presented again ends the whole sign-in",
        f"{OA}::test_refresh_rotates_and_a_replayed_refresh_token_ends_the_sign_in",
    ),
    _c(
        OAUTH,
        "ends every token of it on every instance at once, on SQLite and on Redis",
        f"{OA}::test_every_token_dies_with_its_api_token_server_or_account",
        f"{OC}::test_two_instances_on_redis_share_every_grant",
    ),
    _c(
        OAUTH,
        "presented on any other, it is refused",
        f"{OA}::test_a_token_for_another_server_url_is_refused",
    ),
    _c(
        OAUTH,
        "of a refresh token, the whole sign-in",
        f"{OA}::test_revocation_of_an_access_token_and_of_a_refresh_token",
    ),
    _c(
        OAUTH,
        "Everything the client supplied is escaped; the typed API token is never shown back",
        f"{OA}::test_the_page_names_the_server_and_never_shows_a_secret",
    ),
    _c(
        OAUTH,
        "The POST must come from yamcp's own origin",
        f"{OA}::test_the_consent_form_refuses_another_origin",
    ),
    _c(
        OAUTH,
        "after 10 in 15 minutes for one server",
        f"{OA}::test_guessing_api_tokens_is_slowed_per_server",
    ),
    _c(
        OAUTH,
        "It reads on a 390 px phone screen",
        f"{OC}::test_the_sdk_oauth_client_signs_in_calls_refreshes_and_is_cut_off",
    ),
    _c(
        OAUTH,
        "once with DCR and once with a metadata document served over https on loopback, in both MCP eras",
        f"{OC}::test_the_sdk_oauth_client_signs_in_calls_refreshes_and_is_cut_off",
    ),
    _c(
        OAUTH,
        "`mcp-remote` completes the same flow through its own callback port",
        f"{OC}::test_mcp_remote_signs_in_through_the_browser",
    ),
    _c(
        OAUTH,
        "it is redacted in every log line",
        f"{OC}::test_the_log_never_shows_a_token_of_the_flow",
    ),
    # --- docs/conformance.md
    _c(
        CONF,
        "If the packages are missing, or not the pinned versions, the tests fail",
        "tests/test_real_clients.py::test_pinned_clients_are_installed",
    ),
    _c(
        CONF,
        "the test also checks that the set of failures equals the baseline",
        "tests/test_real_clients.py::test_conformance_default_suite_passes_with_the_baseline",
    ),
    _c(
        CONF,
        "`--spec-version 2026-07-28`",
        "tests/test_real_clients.py::test_conformance_2026_07_28_scenario",
    ),
    # --- docs/adding-an-integration.md
    _c(
        ADDING,
        "`max_window` applies to the upstream's own paging only",
        "tests/test_paging_window.py::test_a_none_list_ignores_the_manifest_window",
        "tests/test_paging_window.py::test_lists_yamcp_pages_itself_have_no_window",
    ),
    _c(
        ADDING,
        "A page that would cross the window is shrunk to end at it (with `page`, to a size that divides the offset)",
        "tests/test_paging_window.py::test_page_numbers_reach_every_item_up_to_the_window",
        "tests/test_paging_window.py::test_page_crossing_the_window_shrinks_and_the_cursor_ends_with_a_note",
    ),
    _c(
        ADDING,
        "A cursor past the window is a tool error, and nothing is sent",
        "tests/test_paging_window.py::test_a_cursor_past_the_window_is_a_tool_error_and_nothing_is_sent",
    ),
    _c(
        ADDING,
        "an existing file is never replaced unless you pass `--force`",
        "tests/test_import_openapi.py::test_an_existing_manifest_is_not_overwritten_without_force",
    ),
    _c(
        ADDING,
        "`yamcp serve` refuses to start on the same errors",
        "tests/test_manifest.py::test_serve_refuses_to_start_on_a_broken_manifest",
    ),
    _c(
        ADDING,
        "python -m pytest tests/test_second_integration.py -q",
        "tests/test_second_integration.py::test_countries_and_one_country",
    ),
    # --- the real documents' conventions (issue 25)
    _c(
        R,
        "every other one\nhas a review line, and none is silently wrong",
        "tests/test_real_specs.py::test_the_scorecard_says_what_the_readme_quotes",
    ),
    _c(
        R,
        "`{opt_fields: {explode: false}}` sends `opt_fields=a,b`",
        "tests/test_real_specs_conventions.py::test_an_unexploded_array_is_sent_comma_separated",
        "tests/test_real_specs_conventions.py::test_query_styles_write_what_openapi_says",
    ),
    _c(
        R,
        "`fixed_query` sends query parameters",
        "tests/test_real_specs_conventions.py::test_marker_paging_sends_the_switch_it_needs_and_pages_to_the_end",
    ),
    _c(
        R,
        "PagerDuty's required `From`, which an account's `defaults` can fill",
        "tests/test_real_specs_conventions.py::test_a_required_header_is_an_argument_an_account_default_can_fill",
    ),
    _c(
        R,
        "a method's own\n`base_url` sends it to another host",
        "tests/test_real_specs_conventions.py::test_an_operation_on_another_host_is_sent_there",
    ),
    _c(
        R,
        "makes\na 2xx answer an error",
        "tests/test_real_specs_conventions.py::test_an_error_answered_with_http_200_is_an_error",
    ),
    _c(
        ADDING,
        "`{style: deepObject}` sends an object as",
        "tests/test_real_specs_conventions.py::test_a_deep_object_query_parameter_is_imported_and_sent_bracketed",
    ),
    _c(
        ADDING,
        "The importer makes every header an\n  operation *requires* an argument of that operation, never of the others.",
        "tests/test_real_specs_conventions.py::test_a_required_header_is_an_argument_an_account_default_can_fill",
    ),
    _c(
        ADDING,
        "The importer writes a constant header at the top\n  only when every operation sends it",
        "tests/test_real_specs_conventions.py::test_a_constant_header_of_some_operations_is_sent_only_by_them",
    ),
    _c(
        ADDING,
        "an account's own `base_url` does not move it.",
        "tests/test_real_specs_conventions.py::test_an_operation_on_another_host_is_sent_there",
    ),
    # --- docs/scaling.md (behaviour only; its figures are the benchmark's)
    _c(
        SCALING,
        "A revocation is refused on every instance at once",
        "tests/test_redis_cache.py::test_revocation_reaches_every_instance_at_once",
    ),
    _c(
        SCALING,
        "Never later than the bound, even if a message is lost",
        "tests/test_redis_cache.py::test_a_lost_message_is_bounded_by_cache_seconds",
    ),
    _c(
        SCALING,
        "An expired server never answers",
        "tests/test_redis_cache.py::test_an_expired_server_never_answers_from_the_cache",
    ),
    _c(SCALING, "`YAMCP_UPSTREAM_TRANSPORT`", f"{T}::test_removed_settings_are_gone"),
]

# Every `YAMCP_*` a doc names -> tests that run yamcp with a non-default value of it. The
# module of each test (or tests/conftest.py, which starts every `yamcp serve`) sets it.
SETTINGS: dict[str, tuple[str, ...]] = {
    "YAMCP_INTEGRATIONS_DIRS": (
        "tests/test_drop_in_integration.py::test_yaml_only_integration_appears_as_tools_and_forwards",
    ),
    "YAMCP_ACCOUNTS_FILE": (f"{S}::test_accounts_file_names_another_file",),
    "YAMCP_APPROVAL_WEBHOOK": (
        "tests/test_approvals.py::test_the_webhook_hears_of_each_new_request_without_a_secret_or_body",
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
    "YAMCP_DATA_DIR": ("tests/test_hardening.py::test_sqlite_files_are_private",),
    "YAMCP_STORE_URL": (
        "tests/test_redis_instances.py::test_minted_on_one_works_on_the_other_and_revocation_is_seen_at_once",
    ),
    "YAMCP_STORE_PREFIX": ("tests/test_no_secrets.py::test_redis_run_leaves_no_secret",),
    "YAMCP_SECRET_KEY": (
        "tests/test_secrets.py::test_a_wrong_key_is_an_error_naming_the_setting",
        "tests/test_secrets.py::test_rotation_with_the_key_setting",
    ),
    "YAMCP_SECRET_KEY_FILE": ("tests/test_secrets.py::test_key_file_setting",),
    "YAMCP_TOKEN_CACHE_SECONDS": (
        "tests/test_redis_instances.py::test_minted_on_one_works_on_the_other_and_revocation_is_seen_at_once",
    ),
    "YAMCP_PUBLIC_BASE_URL": (
        "tests/test_postmark_e2e.py::test_mint_cli_prints_url_and_json",
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
        "tests/test_policy_lifecycle.py::test_a_listed_browser_origin_is_accepted",
    ),
    "YAMCP_MAX_REQUEST_BYTES": (f"{S}::test_max_request_bytes_bounds_the_body",),
    "YAMCP_REQUEST_BODY_TIMEOUT": (
        "tests/test_hardening.py::test_a_trickled_request_body_is_cut_off_with_408",
    ),
    "YAMCP_CALL_DEADLINE": (
        "tests/test_hardening.py::test_a_dripping_upstream_ends_at_the_whole_call_deadline",
    ),
    "YAMCP_MAX_UPSTREAM_BYTES": (
        "tests/test_upstream_failures.py::test_body_over_the_limit_is_an_error",
    ),
    "YAMCP_CONNECT_TIMEOUT": ("tests/test_upstream_failures.py::test_connect_timeout",),
    "YAMCP_READ_TIMEOUT": (
        "tests/test_upstream_failures.py::test_read_timeout_and_a_stall_blocks_no_other_call",
    ),
    "YAMCP_MAX_CONNECTIONS": (
        "tests/test_upstream_pool.py::test_calls_beyond_the_pool_queue_and_all_reach_the_upstream",
    ),
    "YAMCP_POOL_TIMEOUT": (
        "tests/test_upstream_pool.py::test_a_call_that_gets_no_connection_in_time_was_not_sent",
    ),
    "YAMCP_SHUTDOWN_GRACE_SECONDS": (f"{S}::test_shutdown_grace_bounds_an_in_flight_call",),
    "YAMCP_ADMIN_UI": ("tests/test_admin_ui.py::test_create_preview_copy_use_and_revoke",),
    "YAMCP_LOG_LEVEL": (f"{S}::test_log_level_warning_drops_the_audit_line",),
    "YAMCP_LOG_FORMAT": (
        "tests/test_upstream_failures.py::test_audit_log_has_one_line_per_call_without_arguments",
    ),
    # named by docs/scaling.md as deleted: proven gone, not set
    "YAMCP_UPSTREAM_TRANSPORT": (f"{T}::test_removed_settings_are_gone",),
}
REMOVED_SETTINGS = {"YAMCP_UPSTREAM_TRANSPORT"}

# Every HTTP status the README promises (outside its benchmark figures) -> tests asserting it.
STATUSES: dict[int, tuple[str, ...]] = {
    200: ("tests/test_mcp_http.py::test_health_and_oauth_probes",),
    201: (
        "tests/test_admin_api.py::test_create_answers_201_with_url_once_then_lists_without_url",
        "tests/test_admin_api.py::test_api_tokens_gate_the_url",
    ),
    204: (
        "tests/test_admin_api.py::test_delete_revokes_and_the_url_is_404",
        "tests/test_admin_api.py::test_api_tokens_gate_the_url",
    ),
    401: (
        "tests/test_policy_e2e.py::test_api_token_required_for_every_method",
        "tests/test_admin_api.py::test_bad_or_missing_admin_token_is_401",
    ),
    403: (
        "tests/test_mcp_http.py::test_foreign_origin_is_403_and_local_origin_is_fine",
        "tests/test_hardening.py::test_unparsable_origin_is_403_before_anything",
    ),
    404: (
        "tests/test_mcp_http.py::test_unknown_revoked_expired_and_malformed_tokens_get_the_same_404",
        "tests/test_admin_api.py::test_unknown_account_is_404",
        "tests/test_modern_era.py::test_unknown_and_removed_methods_are_404",
        "tests/test_admin_ui.py::test_admin_page_is_404_when_off",
    ),
    405: ("tests/test_mcp_http.py::test_get_and_delete_are_405_with_allow_post",),
    409: (
        "tests/test_api_accounts.py::test_refused_input_is_422_with_field_and_reason",
        "tests/test_api_accounts.py::test_file_accounts_cannot_be_changed_here",
    ),
    408: ("tests/test_hardening.py::test_a_trickled_request_body_is_cut_off_with_408",),
    413: (
        "tests/test_mcp_http.py::test_oversized_body_is_413",
        f"{S}::test_max_request_bytes_bounds_the_body",
    ),
    421: (
        "tests/test_hardening.py::test_a_foreign_host_is_refused_on_every_path",
        "tests/test_mcp_http.py::test_foreign_host_is_421_misdirected",
    ),
    422: (
        "tests/test_admin_api.py::test_validation_errors_are_422_with_field_and_reason",
        "tests/test_hardening.py::test_reload_with_a_broken_policy_is_refused_and_keeps_the_running_ones",
    ),
    429: ("tests/test_upstream_failures.py::test_429_passes_through_once_with_ietf_headers",),
    500: ("tests/test_hardening.py::test_a_bug_inside_yamcp_is_a_counted_json_500",),
    503: (
        "tests/test_redis_instances.py::test_redis_outage_is_503_and_the_process_recovers",
        "tests/test_operations.py::test_readyz_is_503_while_the_store_is_down_and_200_when_it_answers",
    ),
}
NOT_STATUSES = {256, 443}  # bits of a token, a port

# `yamcp <subcommand>` named inline (not in a shell block) -> tests that run it.
SUBCOMMANDS: dict[str, tuple[str, ...]] = {
    "approvals": ("tests/test_approvals.py::test_the_cli_lists_shows_and_decides",),
    "serve": (
        "tests/test_manifest.py::test_serve_refuses_to_start_on_a_broken_manifest",
        f"{S}::test_serve_with_no_settings_listens_on_the_documented_defaults",
    ),
    "mint": ("tests/test_postmark_e2e.py::test_mint_cli_prints_url_and_json",),
    "keys": (
        "tests/test_secrets.py::test_rotation_with_the_key_setting",
        "tests/test_secrets.py::test_rotation_with_the_generated_key_file",
    ),
    "plan": ("tests/test_policy.py::test_plan_prints_a_stable_sorted_grant",),
    "lint": ("tests/test_policy.py::test_lint_fails_with_file_and_reason",),
    "schema": ("tests/test_manifest.py::test_published_json_schemas_match_the_models",),
    "tools": ("tests/test_postmark_coverage.py::test_tools_cli_lists_every_tool_with_all_hints",),
    "import-openapi": (
        "tests/test_import_openapi.py::test_openapi3_json_file_through_the_cli_loads_and_serves_these_tools",
    ),
    "api-token": (f"{T}::test_every_documented_command_runs",),
    "servers": (f"{T}::test_every_documented_command_runs",),
    "admin-token": (f"{T}::test_every_documented_command_runs",),
    "accounts": (
        "tests/test_cli_accounts.py::test_added_account_serves_and_removed_account_is_404",
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


def _readme_sections(*drop: str) -> str:
    """README.md without its shell blocks and without the sections titled in `drop`."""
    parts = re.split(r"^(?=## )", _prose(ROOT / "README.md"), flags=re.M)
    return "".join(p for p in parts if not any(p.startswith(f"## {d}") for d in drop))


# ------------------------------------------------------------------- the inventory itself


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
    conftest = (ROOT / "tests" / "conftest.py").read_text()
    for var, tests in SETTINGS.items():
        if var in REMOVED_SETTINGS:
            continue
        field = var.removeprefix("YAMCP_").lower()
        assert field in Settings.model_fields, f"{var} is documented but is not a setting"
        for nodeid in tests:
            module, _ = _test_function(nodeid)
            source = inspect.getsource(module)
            assert var in source or var in conftest, f"{nodeid} does not set {var}"


def test_removed_settings_are_gone() -> None:
    for var in REMOVED_SETTINGS:
        assert var.removeprefix("YAMCP_").lower() not in Settings.model_fields
        assert var not in (ROOT / "README.md").read_text(), f"README still offers {var}"


def test_every_status_the_readme_promises_is_asserted() -> None:
    text = _readme_sections("Performance")
    # The importer's scorecard figures (counts of operations), which
    # tests/test_real_specs.py::test_the_scorecard_says_what_the_readme_quotes checks.
    text = re.sub(r"of \d+\s+operations labelled by hand.*?access for \d+", "", text, flags=re.S)
    promised = {
        int(code) for code in re.findall(r"(?<![\w.,-])([1-5][0-9]{2})(?![\w%-]|[.,][0-9])", text)
    } - NOT_STATUSES
    assert promised - set(STATUSES) == set(), "statuses the README promises with no test"
    for status, tests in STATUSES.items():
        assert str(status) in text, f"{status} is no longer in the README"
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


def test_readme_error_table_lists_every_error_type_yamcp_produces() -> None:
    section = _readme_sections().split("## For agent builders", 1)[1].split("\n## ", 1)[0]
    table = set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M))
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
    assert ["one", "two", "three", "four", "five"].index(m.group(3)) + 1 == len(named)
    assert all(per_route[r] == 2 for r in shared)
    for doc in (ROOT / "README.md", ROOT / "integrations" / "postmark" / "README.md"):
        for n in re.findall(r"\((\d+) tools\)", doc.read_text()):
            assert int(n) == len(tools), f"{doc.name} says {n} tools"


def _quoted_tools_list_bytes() -> dict[str, int]:
    figures = {}
    for doc in (ROOT / "README.md", ROOT / "integrations" / "postmark" / "README.md"):
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


def _readme_python_block(section: str) -> str:
    text = (ROOT / "README.md").read_text().split(f"### {section}", 1)[1].split("\n## ", 1)[0]
    (block,) = [body for lang, body in FENCE.findall(text) if lang == "python"]
    return block


def test_the_readme_sdk_snippet_sends_the_api_token_as_a_bearer_header(
    yamcp, tmp_path: Path
) -> None:
    """The README's Python block under "API-token auth", run as written against a server
    minted with --require-api-token-auth; only its two placeholders are filled in."""
    snippet = _readme_python_block("API-token auth")
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
            continue  # long-running: SUBCOMMANDS["serve"] and the conftest fixtures run it
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
