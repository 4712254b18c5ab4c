"""`yamcp tools`, `lint`, `schema` and `import-openapi`: the manifests, checked and written."""

from __future__ import annotations

import argparse
import fnmatch
import sys
from pathlib import Path

import orjson

from ..errors import ConfigError
from ..settings import Settings
from .common import print_json


def cmd_tools(args: argparse.Namespace) -> int:
    from ..gateway import tools_list_bytes
    from ..registry import load_registry

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
        print_json(rows)
    else:
        for row in rows:
            tags = ", ".join(row["tags"])
            print(f"{row['name']:<64} {row['http_method']:<6} {row['path']}  [{tags}]")
    return 0


def cmd_lint(args: argparse.Namespace) -> int:
    from ..accounts import check_accounts, load_accounts
    from ..policy import guardrail_warnings, load_policies
    from ..registry import load_registry

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
    from ..manifest_files import json_schemas

    out = Path(args.out)
    for name, schema in json_schemas().items():
        (out / name).write_bytes(
            orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
        )
        print(out / name)
    return 0


def cmd_import_openapi(args: argparse.Namespace) -> int:
    from ..openapi import import_openapi, load_spec, write_manifest

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
