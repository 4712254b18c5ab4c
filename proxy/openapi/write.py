"""The manifest as YAML, the review list, and the check that it loads before it is written.

The importer writes the manifest contract in full (bearer/basic/query credentials,
constant headers, form and multipart bodies, cursor/next_url/link_header paging). While
the engine grows into that contract, `check_manifest` compiles a copy with only the keys
today's engine models declare: everything else is still checked, and once the engine
declares a key the copy keeps it, so the check tightens on its own.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, get_args

import yaml

from ..manifest import (
    CredentialProfile,
    LoadedManifest,
    Manifest,
    Method,
    Pagination,
    validate_model,
)

HEADER = """\
# A starting point, not a finished integration. Review before granting it to an agent:
#   descriptions   written for a model: what the tool does, what it needs, what it answers
#   access         read or write; a POST that only reads (search, validate) is `access: read`
#   destructive    writes that cannot be undone need `destructive: true`
#   pagination     each list's paging style, parameters, items and total
#   tags           group tools the way policies will grant them
#   names          resources are named from the URL paths; rename them to read well
# Then: yamcp lint && yamcp tools --integration {name}
"""


def _engine_knows(model: type, key: str) -> bool:
    return key in model.model_fields


def _engine_paging_styles() -> set[str]:
    annotation = Pagination.model_fields["style"].annotation
    found: set[str] = set()
    for arg in get_args(annotation):
        found.update(a for a in get_args(arg) if isinstance(a, str))
    return found


def engine_view(manifest: dict[str, Any]) -> dict[str, Any]:
    """A copy holding only what today's engine models declare (see the module docstring)."""
    out = copy.deepcopy(manifest)
    if not _engine_knows(Manifest, "headers"):
        out.pop("headers", None)
    for name, profile in list((out.get("credentials") or {}).items()):
        kind = next(k for k in ("bearer", "basic", "query", "header") if k in profile)
        if kind == "header" or _engine_knows(CredentialProfile, kind):
            continue
        secret = profile["bearer"] if kind == "bearer" else "stand_in"
        out["credentials"][name] = {"header": "Authorization", "secret": secret}
    styles = _engine_paging_styles()
    for resource in (out.get("resources") or {}).values():
        for method in resource["methods"].values():
            for key in ("body_encoding", "form_style"):
                if not _engine_knows(Method, key):
                    method.pop(key, None)
            paging = method.get("pagination")
            if paging and paging.get("style") not in styles:
                kept = {k: v for k, v in paging.items() if k in ("items", "total", "limit_param")}
                method["pagination"] = {"style": "none", **kept}
            if paging:
                for key in list(method["pagination"]):
                    if not _engine_knows(Pagination, key):
                        del method["pagination"][key]
    return out


def check_manifest(manifest: dict[str, Any], file: Path) -> Any:
    """Compile a manifest dict as `yamcp serve` would; raise ConfigError if it fails."""
    from ..registry import compile_manifest

    model: Manifest = validate_model(Manifest, engine_view(manifest), str(file))
    loaded = LoadedManifest(
        manifest=model,
        folder=file.parent,
        resource_files=dict.fromkeys(model.resources, str(file)),
    )
    return compile_manifest(loaded)


class _Dumper(yaml.SafeDumper):
    """House style: short mappings and scalar lists inline, long text as folded blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _represent_dict(dumper: yaml.SafeDumper, data: dict) -> yaml.Node:
    leaf = all(
        _scalar(v) or (isinstance(v, list) and len(v) <= 8 and all(map(_scalar, v)))
        for v in data.values()
    )
    flow = bool(data) and leaf and len(json.dumps(data, ensure_ascii=False)) <= 80
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


def _represent_list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    flow = all(map(_scalar, data))
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = ">" if len(data) > 80 and "\n" not in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(str, _represent_str)


def render_manifest(
    manifest: dict[str, Any],
    *,
    sources: Sequence[str] = (),
    notes: Sequence[str] = (),
    review: Sequence[str] = (),
) -> str:
    """The manifest as YAML, under a header saying where it came from and what to review."""
    origin = ", ".join(sources) or "an OpenAPI document"
    lines = [f"# Generated by `yamcp import-openapi` from {origin}."]
    lines.append(HEADER.format(name=manifest["name"]).rstrip("\n"))
    if review:
        lines.append("# Look at these first:")
        lines.extend(f"#   - {item}" for item in review)
    if notes:
        lines.append("# Notes from the import:")
        lines.extend(f"#   - {note}" for note in notes)
    lines.append("# yaml-language-server: $schema=../manifest.schema.json")
    body = yaml.dump(manifest, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(lines) + "\n" + body


def write_manifest(
    manifest: dict[str, Any],
    out_dir: Path,
    *,
    sources: Sequence[str] = (),
    notes: Sequence[str] = (),
    review: Sequence[str] = (),
    force: bool = False,
) -> Path:
    """Write `out_dir/<name>/manifest.yaml` after checking it compiles; never replace unforced."""
    file = Path(out_dir) / manifest["name"] / "manifest.yaml"
    if file.exists() and not force:
        raise FileExistsError(f"{file} already exists; pass --force to replace it")
    check_manifest(manifest, file)
    file.parent.mkdir(parents=True, exist_ok=True)
    text = render_manifest(manifest, sources=sources, notes=notes, review=review)
    file.write_text(text, encoding="utf-8")
    return file
