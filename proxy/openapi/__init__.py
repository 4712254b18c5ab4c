"""`yamcp import-openapi`: an OpenAPI 3.x or Swagger 2.0 document to a starting manifest.

One module per concern, read from the bottom up: `load` (files and `$ref`s across them),
`text` (prose trimmed for a model), `schema` (JSON Schema conversion), `naming` (resource
and action names, singulars), `paging` (collections and their paging style), `security`
(credential profiles), `document` (where OpenAPI 3 and Swagger 2 keep things), `build`
(operations to methods and resources), `write` (the YAML, its review list, the load check).
This file is the public face: `import_openapi` and what the CLI needs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..tools import tool_name
from .build import Importer
from .document import Document
from .load import Refs, Spec, load_spec
from .naming import plural, singular, snake
from .text import clean, first_paragraph
from .write import check_manifest, render_manifest, write_manifest

DEFAULT_BASE_URL = "https://api.example.invalid"

__all__ = [
    "ImportResult",
    "Spec",
    "check_manifest",
    "import_openapi",
    "load_spec",
    "manifest_from_openapi",
    "plural",
    "render_manifest",
    "singular",
    "snake",
    "write_manifest",
]


@dataclass
class ImportResult:
    """A manifest dict, what a person must look at, and why it must not be written."""

    manifest: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    review: list[str] = field(default_factory=list)
    operations: int = 0
    skipped: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)

    @property
    def tools(self) -> int:
        return sum(len(r["methods"]) for r in self.manifest.get("resources", {}).values())

    @property
    def failures(self) -> list[str]:
        """Reasons not to write the manifest: a hole in the spec, or nothing to serve."""
        found = [f"unresolved {ref}" for ref in self.unresolved]
        if not self.tools:
            found.append(f"no tool was produced from {self.operations} operation(s)")
        return found

    def list_tools(self) -> list[str]:
        integration = self.manifest["name"]
        return sorted(
            tool_name(integration, name, r.get("plural") or f"{name}s", "list")
            for name, r in self.manifest.get("resources", {}).items()
            if "list" in r["methods"]
        )

    def summary(self) -> str:
        resources = self.manifest.get("resources", {})
        kinds: dict[str, int] = {}
        for resource in resources.values():
            for kind in resource["methods"]:
                kinds[kind] = kinds.get(kind, 0) + 1
        by_kind = ", ".join(f"{n} {k}" for k, n in kinds.items())
        profiles = len(self.manifest.get("credentials", {}))
        return (
            f"{self.manifest['name']}: {self.tools} tools ({by_kind or 'none'}) in "
            f"{len(resources)} resources from {self.operations} operations; "
            f"{profiles} credential profile(s); {len(self.skipped)} operation(s) skipped"
        )


def import_openapi(specs: Sequence[Spec | dict[str, Any]], integration: str) -> ImportResult:
    """Build a manifest from one or more documents of the same API (one per token kind)."""
    if not specs:
        raise ValueError("no OpenAPI document given")
    importer = Importer(integration)
    refs = Refs()
    docs = [Document(refs.add_root(s if isinstance(s, Spec) else Spec(s)), refs) for s in specs]
    for doc in docs:
        importer.add_document(doc)
    manifest = _manifest(importer, docs)
    review = [*importer.profiles.review, *importer.review]
    return ImportResult(
        manifest, importer.notes, review, importer.count, importer.skipped, refs.errors
    )


def _manifest(importer: Importer, docs: Sequence[Document]) -> dict[str, Any]:
    info = docs[0].info()
    base_url, variables = next(((u, v) for u, v in (d.base_url() for d in docs) if u), (None, {}))
    if not base_url or not re.match(r"^https?://", base_url):
        importer.flag(f"no absolute server URL in the document; base_url set to {DEFAULT_BASE_URL}")
        base_url = DEFAULT_BASE_URL + (base_url or "")
    for name, default in variables.items():
        importer.flag(
            f"base_url holds {{{name}}}: each account sets it under `settings:` "
            f"(the spec's default: {default!r})"
        )
    integration = importer.integration
    manifest: dict[str, Any] = {
        "name": integration,
        "title": clean(info.get("title")) or integration.replace("_", " ").title(),
    }
    description = first_paragraph(info.get("description"))
    if description:
        manifest["description"] = description
    manifest["base_url"] = base_url
    resources = importer.resources()
    if importer.headers:
        manifest["headers"] = dict(importer.headers)
    if importer.profiles.profiles:
        manifest["credentials"] = importer.profiles.profiles
    errors = next((e for e in (d.error_shape() for d in docs) if e), None)
    if errors:
        manifest["errors"] = errors
        if "when" in errors:
            importer.flag(
                f"errors.when: {errors['when']}: the error schema has an `ok` flag, so an "
                "answer with HTTP 200 and ok false is reported as an error; confirm in the "
                "API's docs that its errors come with HTTP 200"
            )
    _own_servers(importer, resources, base_url)
    manifest["resources"] = resources
    return manifest


def _own_servers(importer: Importer, resources: dict[str, Any], base_url: str) -> None:
    """An operation's own server stays only where it is not the document's."""
    for resource in resources.values():
        for method in resource["methods"].values():
            own = method.get("base_url")
            if own is None:
                continue
            if own == base_url or not re.match(r"^https?://", own):
                del method["base_url"]
                continue
            importer.flag(
                f"{method['http']}: sent to {own} (the operation's own servers), not to "
                "base_url; an account's base_url does not move it"
            )


def manifest_from_openapi(
    spec: dict[str, Any], integration: str, *, extra_specs: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    """A starting manifest (a plain dict, ready to dump as YAML) for an OpenAPI document."""
    return import_openapi([spec, *extra_specs], integration).manifest
