"""The manifest loader refuses what it does not understand, and says file, key and reason."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from proxy.errors import ConfigError
from proxy.registry import Registry, load_registry
from proxy.tools import listed_definitions
from tests.support.manifests import GOOD, error_of, write
from tests.support.paths import ROOT


def test_good_manifest_loads_into_named_tools(tmp_path: Path) -> None:
    registry = load_registry([write(tmp_path, GOOD)])
    tool = registry.tool("get_single_tiny_widget_by_id")
    assert tool is not None
    assert tool.http_method == "GET" and tool.path == "/widgets/{id}"
    assert tool.definition["annotations"]["readOnlyHint"] is True
    assert tool.input_schema["required"] == ["id"]


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    err = error_of(
        write(
            tmp_path,
            GOOD.replace(
                "        description: One widget.",
                "        descripton: One widget.\n        description: x",
            ),
        )
    )
    assert err.file.endswith("tiny/manifest.yaml")
    assert err.path == "resources.widget.methods.get.descripton"
    assert err.reason == "unknown key"


def test_unknown_method_type_is_refused(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, GOOD.replace("      get:", "      fetch:")))
    assert err.path.startswith("resources.widget.methods.fetch")


def test_bad_jmespath_is_refused_at_load(tmp_path: Path) -> None:
    text = GOOD + "        response: 'Widgets[?'\n"
    err = error_of(write(tmp_path, text))
    assert err.path == "resources.widget.methods.get.response"
    assert "invalid JMESPath" in err.reason


def test_tool_name_over_64_characters_is_refused(tmp_path: Path) -> None:
    long = "w" * 60
    err = error_of(write(tmp_path, GOOD.replace("  widget:", f"  {long}:")))
    assert "1-64 characters" in err.reason
    assert err.path == f"resources.{long}.methods.get"


def test_resource_name_outside_charset_is_refused(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, GOOD.replace("  widget:", "  Widget-X:")))
    assert "[a-z0-9_]" in err.reason


def test_path_parameter_missing_from_schema_is_refused(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, GOOD.replace("GET /widgets/{id}", "GET /widgets/{id}/{part}")))
    assert err.path == "resources.widget.methods.get.http"
    assert "{part}" in err.reason


def test_duplicate_tool_names_across_files_are_refused(tmp_path: Path) -> None:
    text = GOOD + "include: [more.yaml]\n"
    more = """
    resources:
      widget:
        methods:
          list:
            http: GET /widgets
            description: All widgets.
            pagination: {items: items}
    """
    err = error_of(write(tmp_path, text, extra={"more.yaml": more}))
    assert err.file.endswith("more.yaml")
    assert "already declared" in err.reason


def test_duplicate_integration_names_across_folders_are_refused(tmp_path: Path) -> None:
    write(tmp_path / "a", GOOD)
    write(tmp_path / "b", GOOD)
    with pytest.raises(ConfigError) as info:
        load_registry([tmp_path / "a", tmp_path / "b"])
    assert "already loaded" in info.value.reason


def test_invalid_json_schema_is_refused(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, GOOD.replace("id: {type: integer}", "id: {type: integr}")))
    assert err.path.startswith("resources.widget.methods.get.path.id")


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, GOOD + "  bad: [unclosed\n"))
    assert "not valid YAML" in err.reason and err.path.startswith("line ")


def test_the_shipped_manifests_load() -> None:
    registry = load_registry([ROOT / "integrations"])
    assert "postmark" in registry.integrations
    for name in registry.tools:
        assert len(name) <= 64


def test_serve_refuses_to_start_on_a_broken_manifest(tmp_path: Path) -> None:
    write(tmp_path / "ints", GOOD.replace("GET /widgets/{id}", "GET /widgets/{wid}"))
    proc = subprocess.run(
        [sys.executable, "-m", "proxy.cli", "serve", "--port", "0"],
        cwd=tmp_path,
        env={"YAMCP_INTEGRATIONS_DIRS": str(tmp_path / "ints"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert (
        "tiny/manifest.yaml: resources.widget.methods.get.http: path parameter {wid}" in proc.stderr
    )


def test_published_json_schemas_match_the_models() -> None:
    import json

    from proxy.manifest_files import json_schemas

    for name, schema in json_schemas().items():
        committed = json.loads((ROOT / "integrations" / name).read_text())
        assert committed == schema, f"integrations/{name} is stale: run `yamcp schema`"


def test_shipped_manifests_validate_against_the_published_schema() -> None:
    import json

    import yaml
    from jsonschema import Draft202012Validator

    schemas = {
        name: Draft202012Validator(json.loads((ROOT / "integrations" / name).read_text()))
        for name in ("manifest.schema.json", "resources.schema.json")
    }
    files = sorted((ROOT / "integrations").glob("*/*.yaml"))
    assert files
    for file in files:
        which = "manifest.schema.json" if file.name == "manifest.yaml" else "resources.schema.json"
        errors = list(schemas[which].iter_errors(yaml.safe_load(file.read_text())))
        assert not errors, f"{file}: {errors[0].message}"


def test_schema_catches_a_typo_an_editor_would_flag() -> None:
    import json

    from jsonschema import Draft202012Validator

    schema = json.loads((ROOT / "integrations" / "manifest.schema.json").read_text())
    bad = {"name": "x", "title": "X", "base_url": "https://x", "resourcez": {}}
    assert list(Draft202012Validator(schema).iter_errors(bad))


BATCH = """
name: tiny
title: Tiny
base_url: http://127.0.0.1:9
resources:
  note:
    methods:
      create:
        http: POST /notes
        description: One note.
        body: &note {Text: {type: string}, Author: {type: string}}
        required: [Text]
  note_batch:
    methods:
      create:
        http: POST /notes/batch
        description: Many notes.
        body:
          Notes: {type: array, items: {type: object, properties: *note, required: [Text]}}
        items: {of: Notes, like: create_a_tiny_note}
"""


def test_items_like_points_to_a_tool_whose_arguments_the_items_are(tmp_path: Path) -> None:
    tool = load_registry([write(tmp_path, BATCH)]).tool("create_a_tiny_note_batch")
    assert tool is not None and tool.like == ("Notes", "create_a_tiny_note")
    assert tool.brief is not None
    notes = tool.brief["inputSchema"]["properties"]["Notes"]
    assert notes["items"] == {"type": "object"}
    assert notes["description"] == "Each item takes the arguments of create_a_tiny_note."
    # the full definition keeps the items' schema, for a server without the single tool
    assert tool.definition["inputSchema"]["properties"]["Notes"]["items"]["required"] == ["Text"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("like: create_a_tiny_note}", "like: create_a_tiny_nope}"),
        ("required: [Text]}}", "required: []}}"),
        ("properties: *note,", "properties: {Text: {type: string}},"),
    ],
)
def test_items_like_must_be_true(tmp_path: Path, change: str, reason: str) -> None:
    """The pointer replaces the items' schema on the wire, so it is checked, not trusted."""
    err = error_of(write(tmp_path, BATCH.replace(change, reason)))
    assert err.path == "resources.note_batch.methods.create.items.like"
    assert "no other tool" in err.reason or "differ from create_a_tiny_note" in err.reason


TWINS = """
name: tiny
title: Tiny
base_url: http://127.0.0.1:9
resources:
  note:
    methods:
      create:
        http: POST /notes
        description: One note.
        body: &note
          Text: {type: string, description: "What the note says."}
          Tags: {type: array, items: {type: string}}
          Folder: {type: string, default: inbox, description: "Any folder."}
        required: [Text]
  pinned_note:
    methods:
      create:
        http: POST /notes
        like: create_a_tiny_note
        description: One pinned note.
        body:
          <<: *note
          Folder: {type: string, description: "A pinned folder."}
        required: [Text, Folder]
"""


def _listed(registry: Registry, *names: str) -> dict[str, dict]:
    tools = {name: registry.tools[name] for name in names}
    return {d["name"]: d for d in listed_definitions(tools, {})}


def test_like_lists_shared_arguments_by_type_beside_the_twin(tmp_path: Path) -> None:
    registry = load_registry([write(tmp_path, TWINS)])
    both = _listed(registry, "create_a_tiny_note", "create_a_tiny_pinned_note")
    pinned = both["create_a_tiny_pinned_note"]
    properties = pinned["inputSchema"]["properties"]
    # what the twin declares alike: its type alone; what differs: in full
    assert properties["Text"] == {"type": "string"}
    assert properties["Tags"] == {"type": "array"}
    assert properties["Folder"] == {"type": "string", "description": "A pinned folder."}
    assert pinned["inputSchema"]["required"] == ["Text", "Folder"]
    assert pinned["description"] == (
        "One pinned note. Arguments given by type alone are as in create_a_tiny_note."
    )
    assert both["create_a_tiny_note"]["inputSchema"]["properties"]["Text"]["description"]
    # without its twin, a tool lists its whole schema
    alone = _listed(registry, "create_a_tiny_pinned_note")["create_a_tiny_pinned_note"]
    assert alone["description"] == "One pinned note."
    assert alone["inputSchema"]["properties"]["Tags"]["items"] == {"type": "string"}
    # and the arguments are checked against the whole schema either way
    tool = registry.tools["create_a_tiny_pinned_note"]
    assert tool.validate({"Text": "x", "Folder": "a", "Tags": [1]})


@pytest.mark.parametrize(
    ("change", "reason", "says"),
    [
        ("like: create_a_tiny_note", "like: create_a_tiny_nope", "no other tool"),
        ("like: create_a_tiny_note", "like: create_a_tiny_pinned_note", "no other tool"),
        ("<<: *note", "Text: {type: integer}", "declares no argument as create_a_tiny_note"),
        (
            "        required: [Text]\n  pinned",
            "        required: [Text]\n        like: create_a_tiny_pinned_note\n  pinned",
            "names a `like` itself",
        ),
    ],
)
def test_like_must_name_a_twin_one_hop_away(
    tmp_path: Path, change: str, reason: str, says: str
) -> None:
    """A pointer to a pointer would leave the shared arguments described nowhere."""
    manifest = TWINS.replace(change, reason)
    assert manifest != TWINS
    err = error_of(write(tmp_path, manifest))
    assert err.path.endswith("methods.create.like") and says in err.reason, err


FIXED = """
name: tiny
title: Tiny
base_url: http://127.0.0.1:9
resources:
  push_preview:
    methods:
      create:
        http: PUT /push
        description: What a push would do.
        access: read
        body: {Source: {type: integer}}
        fixed_body: {DryRun: true}
"""


def test_fixed_body_fields_are_sent_but_are_not_arguments(tmp_path: Path) -> None:
    tool = load_registry([write(tmp_path, FIXED)]).tool("create_a_tiny_push_preview")
    assert tool is not None and tool.fixed_body == {"DryRun": True}
    assert set(tool.input_schema["properties"]) == {"Source"}


def test_a_fixed_body_field_cannot_also_be_an_argument(tmp_path: Path) -> None:
    err = error_of(
        write(tmp_path, FIXED.replace("{Source: {type: integer}}", "{DryRun: {type: boolean}}"))
    )
    assert err.path == "resources.push_preview.methods.create.fixed_body.DryRun"
    assert "also an argument" in err.reason
