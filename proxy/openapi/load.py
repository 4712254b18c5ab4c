"""Reading OpenAPI documents and following their `$ref`s, across files too.

Every `$ref` is made absolute when its file is read (`/abs/dir/file.yaml#/json/pointer`),
so a node can be resolved wherever it is met, whichever file it came from. Files are read
on first use and kept; a cycle of files is no problem because nothing is read twice, and a
cycle of references is cut by the callers that walk schemas (they keep the refs they are
inside). A reference that leads nowhere is recorded in `errors`: the import fails on it,
because a tool built around a hole would look complete and be wrong.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

from ..config_files import SafeLoader
from ..errors import ConfigError

MAX_HOPS = 20


class Spec:
    """One document given to the importer: its data and the file it came from, if any."""

    def __init__(self, data: dict[str, Any], file: Path | None = None) -> None:
        self.data = data
        self.file = file.resolve() if file else None


def read_file(file: Path) -> Any:
    """A YAML or JSON file's data; ConfigError naming the file when it cannot be read."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(file), "", exc.strerror or str(exc)) from None
    try:
        if file.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.load(text, Loader=SafeLoader)
    except (ValueError, yaml.YAMLError) as exc:
        raise ConfigError(str(file), "", f"not valid YAML or JSON: {exc}") from None


def load_spec(file: Path) -> Spec:
    """Read an OpenAPI document from a YAML or JSON file (its relative refs resolve from it)."""
    data = read_file(Path(file))
    if not isinstance(data, dict):
        raise ConfigError(str(file), "", "an OpenAPI document must be a mapping")
    return Spec(data, Path(file))


def ref_name(ref: str) -> str:
    """The name a reference gives its target: the pointer's last part, else the file's stem."""
    uri, _, pointer = ref.partition("#")
    last = pointer.rstrip("/").rsplit("/", 1)[-1] if pointer.strip("/") else ""
    return last or Path(uri).stem


class Refs:
    """All documents reached from the roots, by absolute name; resolves `$ref`s between them."""

    def __init__(self) -> None:
        self.documents: dict[str, Any] = {}
        self.errors: list[str] = []
        self._anonymous = 0

    def add_root(self, spec: Spec) -> Any:
        """Take a root document in; returns its data with every `$ref` made absolute."""
        if spec.file is not None:
            key = str(spec.file)
        else:  # a dict given in code: its refs can only be local ones
            self._anonymous += 1
            key = f"<document {self._anonymous}>"
        base = spec.file.parent if spec.file else Path.cwd()
        data = _absolute(spec.data, key, base)
        self.documents[key] = data
        return data

    def error(self, text: str) -> None:
        if text not in self.errors:
            self.errors.append(text)

    def target(self, ref: str) -> Any:
        """The node an absolute ref names; KeyError (and an error recorded) if there is none."""
        uri, _, pointer = ref.partition("#")
        if uri.startswith(("http://", "https://")):
            self.error(f"$ref {ref}: remote references are not fetched")
            raise KeyError(ref)
        document = self._document(uri, ref)
        node = document
        for raw in (p for p in unquote(pointer).split("/") if p):
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                self.error(f"$ref {_short_ref(ref)}: {pointer!r} points at nothing")
                raise KeyError(ref)
        return node

    def deref(self, node: Any) -> Any:
        """Follow a chain of `$ref`s at the top of a node; {} (and an error) if it breaks."""
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen or len(seen) >= MAX_HOPS:
                self.error(f"$ref {_short_ref(ref)}: refers to itself")
                return {}
            seen.add(ref)
            try:
                node = self.target(ref)
            except KeyError:
                return {}
        return node

    def _document(self, uri: str, ref: str) -> Any:
        if uri not in self.documents:
            file = Path(uri)
            try:
                data = read_file(file)
            except ConfigError as exc:
                self.error(f"$ref {_short_ref(ref)}: {exc.reason}")
                raise KeyError(ref) from None
            self.documents[uri] = _absolute(data, uri, file.parent)
        return self.documents[uri]


def _short_ref(ref: str) -> str:
    """A ref as a person wrote it, relative to the working folder where that reads better."""
    uri, _, pointer = ref.partition("#")
    with contextlib.suppress(ValueError):  # outside the working folder: keep it absolute
        uri = str(Path(uri).relative_to(Path.cwd()))
    return f"{uri}#{pointer}" if pointer else uri


def _absolute(node: Any, key: str, base: Path) -> Any:
    """A copy of `node` with every `$ref` absolute: `key` for local ones, a path for files."""
    if isinstance(node, list):
        return [_absolute(v, key, base) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _absolute(v, key, base) for k, v in node.items() if k != "$ref"}
    ref = node.get("$ref")
    if "$ref" in node:
        if isinstance(ref, str):
            uri, _, pointer = ref.partition("#")
            if not uri:
                uri = key
            elif not uri.startswith(("http://", "https://")):
                uri = str((base / unquote(uri)).resolve())
            ref = f"{uri}#{pointer}"
        out = {"$ref": ref, **out}
    return out
