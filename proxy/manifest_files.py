"""Integration folders on disk: finding their manifests, reading one with the files it
includes into one checked model, and the JSON Schemas editors check manifests with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from .config_files import read_yaml, validate_model
from .errors import ConfigError
from .manifest import Manifest, ResourceFile


class LoadedManifest(BaseModel):
    """A manifest with every included resource merged in, and where it came from."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    manifest: Manifest
    folder: Path
    resource_files: dict[str, str]  # resource name -> file it was declared in


def load_manifest(file: Path) -> LoadedManifest:
    """Read one manifest and the files it includes into one checked model."""
    data = read_yaml(file)
    if not isinstance(data, dict):
        raise ConfigError(str(file), "", "a manifest must be a mapping")
    manifest: Manifest = validate_model(Manifest, data, str(file))
    resources = dict(manifest.resources)
    origin = dict.fromkeys(resources, str(file))
    for index, name in enumerate(manifest.include):
        part = file.parent / name
        if file.parent.resolve() not in part.resolve().parents:
            raise ConfigError(str(file), f"include.{index}", "must name a file in this folder")
        extra: ResourceFile = validate_model(ResourceFile, read_yaml(part), str(part))
        for rname, resource in extra.resources.items():
            if rname in resources:
                raise ConfigError(
                    str(part), f"resources.{rname}", f"already declared in {origin[rname]}"
                )
            resources[rname] = resource
            origin[rname] = str(part)
    merged = manifest.model_copy(update={"resources": resources, "include": []})
    return LoadedManifest(manifest=merged, folder=file.parent, resource_files=origin)


def discover(dirs: list[Path]) -> list[Path]:
    """Every `*/manifest.yaml` under the given folders, in a stable order."""
    found: list[Path] = []
    for folder in dirs:
        if not folder.is_dir():
            raise ConfigError(str(folder), "", "integrations folder does not exist")
        found.extend(sorted(folder.glob("*/manifest.yaml")))
    return found


SCHEMA_FILES: dict[str, type[BaseModel]] = {
    "manifest.schema.json": Manifest,
    "resources.schema.json": ResourceFile,
}


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schemas editors use to check and complete manifests, from the models."""
    out = {}
    for file, model in SCHEMA_FILES.items():
        schema = model.model_json_schema()
        out[file] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://yamcp.dev/schemas/{file}",
            "title": f"yamcp {'manifest' if model is Manifest else 'manifest include file'}",
            **schema,
        }
    return out
