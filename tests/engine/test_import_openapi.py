"""`yamcp import-openapi`: an OpenAPI or Swagger document becomes a manifest that loads.

Postmark's own Swagger files (tests/data, copied from the shared reference folder) go
through the real CLI; a small OpenAPI 3 document written here pins the rules one by one:
bearer auth, page paging, a bare-array body, a `$ref` cycle, actions, renamed ids.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from proxy.manifest import CredentialProfile
from proxy.openapi import import_openapi, manifest_from_openapi, plural, singular, snake
from proxy.registry import Registry, load_registry
from tests.support.paths import DATA, ROOT

SERVER_SWAGGER = DATA / "postmark_server.swagger.yaml"
ACCOUNT_SWAGGER = DATA / "postmark_account.swagger.yaml"


def run_import(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "proxy.cli", "import-openapi", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def postmark_import(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Registry, str]:
    out = tmp_path_factory.mktemp("imported")
    done = run_import(SERVER_SWAGGER, ACCOUNT_SWAGGER, "--integration", "postmark", "--out", out)
    assert done.returncode == 0, done.stderr
    return out / "postmark" / "manifest.yaml", load_registry([out]), done.stdout


# ------------------------------------------------------------------- Postmark's Swagger 2.0


def test_postmark_swagger_imports_into_a_manifest_that_loads(
    postmark_import: tuple[Path, Registry, str],
) -> None:
    file, registry, stdout = postmark_import
    assert stdout.splitlines()[0] == f"wrote {file}"
    assert "postmark: 67 tools" in stdout and "from 67 operations" in stdout
    integration = registry.integrations["postmark"]
    assert integration.base_url == "https://api.postmarkapp.com"
    assert integration.errors.code == "ErrorCode" and integration.errors.message == "Message"
    assert len(registry.tools) == 67
    schema = json.loads((ROOT / "integrations" / "manifest.schema.json").read_text())
    assert not list(Draft202012Validator(schema).iter_errors(yaml.safe_load(file.read_text())))


def test_both_postmark_token_headers_become_credential_profiles(
    postmark_import: tuple[Path, Registry, str],
) -> None:
    _, registry, _ = postmark_import
    assert registry.integrations["postmark"].credentials == {
        "server": CredentialProfile(header="X-Postmark-Server-Token", secret="server_token"),
        "account": CredentialProfile(header="X-Postmark-Account-Token", secret="account_token"),
    }
    # Each tool uses the token its operation declares.
    assert registry.tool("list_all_postmark_bounces").credential == "server"
    assert registry.tool("create_a_postmark_email").credential == "server"
    assert registry.tool("list_all_postmark_domains").credential == "account"
    assert registry.tool("create_a_postmark_template_push").credential == "account"
    by_credential = {t.credential for t in registry.tools.values()}
    assert by_credential == {"server", "account"}


def test_bounces_list_pages_with_count_and_offset(
    postmark_import: tuple[Path, Registry, str],
) -> None:
    _, registry, _ = postmark_import
    tool = registry.tool("list_all_postmark_bounces")
    assert tool.kind == "list" and tool.http_method == "GET" and tool.path == "/bounces"
    assert tool.paging.style == "offset"
    assert (tool.paging.limit_param, tool.paging.offset_param) == ("count", "offset")
    assert tool.paging.items.expression == "Bounces"
    assert tool.paging.total.expression == "TotalCount"
    assert tool.paging.max_limit == 500  # the Swagger's `maximum` on count
    assert "count" not in tool.query_params and "offset" not in tool.query_params
    assert set(tool.input_schema["properties"]) == {
        "type",
        "inactive",
        "emailFilter",
        "messageID",
        "tag",
        "todate",
        "fromdate",
        "limit",
        "next_cursor",
    }
    assert "required" not in tool.input_schema  # count/offset were required, and are gone
    # A key that is no JMESPath identifier is quoted (the Swagger's own mistake, kept).
    templates = registry.tool("list_all_postmark_templates")
    assert templates.paging.items.expression == '"Templates API"'
    assert templates.paging.limit_param == "Count"


def test_get_tools_take_id(postmark_import: tuple[Path, Registry, str]) -> None:
    _, registry, _ = postmark_import
    bounce = registry.tool("get_single_postmark_bounce_by_id")
    assert bounce.path == "/bounces/{id}" and bounce.path_params == ("id",)
    assert bounce.input_schema["required"] == ["id"]
    assert bounce.input_schema["properties"]["id"]["type"] == "integer"
    assert registry.tool("get_single_postmark_bounce_dump_by_id").path == "/bounces/{id}/dump"
    acting_on_one = [
        t
        for t in registry.tools.values()
        if t.kind in ("get", "update", "delete") and t.path_params
    ]
    assert len(acting_on_one) > 15
    for tool in acting_on_one:
        assert tool.path_params[-1] == "id", tool.name
        assert tool.name.endswith("_by_id"), tool.name


def test_tags_methods_and_hints_follow_the_spec(
    postmark_import: tuple[Path, Registry, str],
) -> None:
    _, registry, _ = postmark_import
    assert registry.tool("list_all_postmark_bounces").tags == {"bounces_api"}
    assert registry.tool("create_a_postmark_email_with_template").tags == {
        "sending_api",
        "templates_api",
    }
    assert registry.tool("list_all_postmark_domains").tags == {"domains_api"}
    activate = registry.tool("create_a_postmark_bounce_activation")  # an action, as a noun
    assert (activate.http_method, activate.path) == ("PUT", "/bounces/{id}/activate")
    assert activate.definition["annotations"]["idempotentHint"] is True
    assert activate.access == "write"
    template = registry.tool("update_a_postmark_template_by_id")
    assert template.http_method == "PUT" and "Subject" in template.body_params
    sends = {
        "create_a_postmark_email",
        "create_a_postmark_email_batch",
        "create_a_postmark_email_with_template",
        "create_a_postmark_email_batch_with_template",
        "create_a_postmark_sender_resend",
    }
    for tool in registry.tools.values():
        notes = tool.definition["annotations"]
        assert tool.definition["description"].strip(), tool.name
        reads = tool.http_method == "GET" or tool.name == "create_a_postmark_template_validation"
        assert notes["readOnlyHint"] is reads, tool.name
        # Deletes and sends cannot be undone: destructive, and listed for review.
        assert notes["destructiveHint"] is (tool.kind == "delete" or tool.name in sends), tool.name
    # Stats answer one array beside counters: a summary (get), not a list.
    assert registry.tool("get_single_postmark_stat_outbound_bounce_by_id").kind == "get"
    # A batch send's body is an array: sent whole from one argument.
    batch = registry.tool("create_a_postmark_email_batch")
    assert batch.body_from == "send_email_requests"
    assert batch.input_schema["properties"]["send_email_requests"]["type"] == "array"


def test_the_file_says_where_it_came_from_and_what_to_review(
    postmark_import: tuple[Path, Registry, str],
) -> None:
    file, _, _ = postmark_import
    text = file.read_text()
    first = text.splitlines()[0]
    assert first.startswith("# Generated by `yamcp import-openapi` from ")
    assert str(SERVER_SWAGGER) in first and str(ACCOUNT_SWAGGER) in first
    header = text.split("\nname:")[0]
    for word in ("descriptions", "access", "destructive", "pagination", "tags"):
        assert word in header
    assert "# yaml-language-server: $schema=../manifest.schema.json" in header


def test_one_swagger_file_alone_has_only_its_token(tmp_path: Path) -> None:
    done = run_import(SERVER_SWAGGER, "--integration", "pm", "--out", tmp_path)
    assert done.returncode == 0, done.stderr
    registry = load_registry([tmp_path])
    # The integration's own name is taken off a header's secret only when it is there.
    assert registry.integrations["pm"].credentials == {
        "postmark_server": CredentialProfile(
            header="X-Postmark-Server-Token", secret="postmark_server_token"
        )
    }
    text = (tmp_path / "pm" / "manifest.yaml").read_text()
    assert "credential:" not in text  # one profile: the default, not repeated per method


def test_an_existing_manifest_is_not_overwritten_without_force(tmp_path: Path) -> None:
    args = (SERVER_SWAGGER, "--integration", "postmark", "--out", tmp_path)
    assert run_import(*args).returncode == 0
    file = tmp_path / "postmark" / "manifest.yaml"
    file.write_text("# my edits\n")
    again = run_import(*args)
    assert again.returncode == 1
    assert "already exists" in again.stderr and "--force" in again.stderr
    assert file.read_text() == "# my edits\n"
    forced = run_import(*args, "--force")
    assert forced.returncode == 0, forced.stderr
    assert file.read_text().startswith("# Generated by `yamcp import-openapi`")


def test_bad_names_and_bad_documents_are_refused(tmp_path: Path) -> None:
    bad_name = run_import(SERVER_SWAGGER, "--integration", "Post-mark", "--out", tmp_path)
    assert bad_name.returncode == 1 and "'post_mark'" in bad_name.stderr
    not_openapi = tmp_path / "x.yaml"
    not_openapi.write_text("hello: world\n")
    refused = run_import(not_openapi, "--integration", "x", "--out", tmp_path)
    assert refused.returncode == 1 and "not an OpenAPI 3.x or Swagger 2.0" in refused.stderr
    assert not (tmp_path / "x").exists()


def test_default_out_is_the_integrations_folder(tmp_path: Path) -> None:
    done = run_import(SERVER_SWAGGER, "--integration", "pm", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "integrations" / "pm" / "manifest.yaml").is_file()


# ------------------------------------------------------------- a small OpenAPI 3 document

PROJECT_TAGS = ["Project Management"]
OAS3: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "Tasks",
        "version": "1",
        "description": "A small task tracker.\n\nLong text.",
    },
    "servers": [
        {"url": "https://{region}.tasks.example/v1", "variables": {"region": {"default": "eu"}}}
    ],
    "security": [{"bearerAuth": []}],
    "paths": {
        "/projects": {
            "get": {
                "summary": "List projects",
                "tags": PROJECT_TAGS,
                "parameters": [
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                    {
                        "name": "per_page",
                        "in": "query",
                        "schema": {"type": "integer", "maximum": 200, "default": 30},
                    },
                    {
                        "name": "status",
                        "in": "query",
                        "description": "Only projects in this state.",
                        "schema": {"type": "string", "enum": ["open", "archived"]},
                    },
                    {"name": "X-Request-Id", "in": "header", "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {
                        "description": "The projects.",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Project"},
                                }
                            }
                        },
                    },
                    "default": {"$ref": "#/components/responses/Error"},
                },
            },
            "post": {
                "summary": "Create a project",
                "tags": PROJECT_TAGS,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Project"}}
                    },
                },
                "responses": {"201": {"description": "Created."}},
            },
        },
        "/projects/{projectId}": {
            "parameters": [
                {
                    "name": "projectId",
                    "in": "path",
                    "required": True,
                    "description": "The project.",
                    "schema": {"type": "string"},
                }
            ],
            "get": {
                "operationId": "getProject",
                "tags": PROJECT_TAGS,
                "responses": {
                    "200": {
                        "description": "One project.",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Project"}}
                        },
                    }
                },
            },
            "patch": {
                "summary": "Rename a project",
                "tags": PROJECT_TAGS,
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {"name": {"type": "string", "minLength": 1}},
                            }
                        }
                    }
                },
                "responses": {"200": {"description": "Renamed."}},
            },
            "delete": {
                "summary": "Delete a project",
                "tags": PROJECT_TAGS,
                "responses": {"204": {"description": "Gone."}},
            },
        },
        "/projects/{projectId}/labels": {
            "put": {
                "summary": "Replace the labels of a project",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/Label"},
                            }
                        }
                    },
                },
                "responses": {"200": {"description": "Replaced."}},
            }
        },
        "/projects/{projectId}/archive": {
            "post": {"summary": "Archive a project", "responses": {"204": {"description": "Done."}}}
        },
        "/projects/{projectId}/members": {
            "get": {
                "description": "Who works on a project. Owners first.",
                "responses": {
                    "200": {
                        "description": "The members.",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "members": {"type": "array", "items": {"type": "string"}},
                                        "total": {"type": "integer"},
                                    },
                                }
                            }
                        },
                    }
                },
            }
        },
        "/stats": {
            "get": {
                "summary": "Statistics",
                "responses": {
                    "200": {
                        "description": "Counters and a daily series.",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "days": {"type": "array", "items": {"type": "object"}},
                                        "open": {"type": "integer"},
                                    },
                                }
                            }
                        },
                    }
                },
            }
        },
    },
    "components": {
        "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        "responses": {
            "Error": {
                "description": "An error.",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "error": {
                                    "type": "object",
                                    "properties": {
                                        "code": {"type": "string"},
                                        "message": {"type": "string"},
                                    },
                                }
                            },
                        }
                    }
                },
            }
        },
        "schemas": {
            "Project": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "id": {"type": "string", "readOnly": True},
                    "name": {"type": "string", "description": "Shown in lists."},
                    "parent": {"$ref": "#/components/schemas/Project"},
                    "labels": {"type": "array", "items": {"$ref": "#/components/schemas/Label"}},
                    "budget": {
                        "type": "number",
                        "minimum": 0,
                        "exclusiveMinimum": True,
                        "nullable": True,
                        "example": 1200,
                        "x-internal": True,
                    },
                },
            },
            "Label": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "color": {"type": "string", "pattern": "^#[0-9a-f]{6}$"},
                },
            },
        },
    },
}

LABEL = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "color": {"type": "string", "pattern": "^#[0-9a-f]{6}$"},
    },
}


def test_openapi3_document_becomes_the_expected_manifest() -> None:
    manifest = manifest_from_openapi(OAS3, "tasks")
    assert manifest["name"] == "tasks" and manifest["title"] == "Tasks"
    assert manifest["description"] == "A small task tracker."
    # A server variable is an account setting, not a value frozen at its default.
    assert manifest["base_url"] == "https://{region}.tasks.example/v1"
    assert manifest["credentials"] == {"bearer_auth": {"bearer": "api_key"}}
    assert manifest["errors"] == {"code": "error.code", "message": "error.message"}
    resources = manifest["resources"]
    assert list(resources) == [
        "project",
        "project_label",
        "project_archive",
        "project_member",
        "stat",
    ]

    project = resources["project"]
    assert project["tags"] == ["project_management"]
    assert list(project["methods"]) == ["list", "create", "get", "update", "delete"]
    listing = project["methods"]["list"]
    assert listing["access"] == "read"
    assert listing["query"] == {
        "status": {
            "type": "string",
            "enum": ["open", "archived"],
            "description": "Only projects in this state.",
        }
    }
    assert listing["pagination"] == {
        "style": "page",
        "limit_param": "per_page",
        "page_param": "page",
        "max_limit": 200,
        "default_limit": 30,
        "items": "@",
    }

    create = project["methods"]["create"]
    assert create["http"] == "POST /projects"
    assert create["access"] == "write" and create["destructive"] is False
    assert list(create["body"]) == ["name", "parent", "labels", "budget"]  # `id` is readOnly
    assert create["required"] == ["name"]
    # The $ref cycle Project.parent -> Project is cut, not followed forever.
    assert create["body"]["parent"] == {
        "type": "object",
        "description": "A Project (refers back to itself; not expanded here).",
    }
    assert create["body"]["labels"] == {"type": "array", "items": LABEL}
    # OpenAPI 3.0 keywords become JSON Schema 2020-12; examples and x- keys are dropped.
    assert create["body"]["budget"] == {"type": ["number", "null"], "exclusiveMinimum": 0}

    get = project["methods"]["get"]
    assert get["http"] == "GET /projects/{id}"
    assert get["path"] == {"id": {"type": "string", "description": "The project."}}
    assert get["description"] == "Get project."  # no summary: from the operationId
    update = project["methods"]["update"]
    assert update["http"] == "PATCH /projects/{id}"
    assert update["body"] == {"name": {"type": "string", "minLength": 1}}
    assert update["required"] == ["name"]
    assert project["methods"]["delete"]["destructive"] is True

    labels = resources["project_label"]["methods"]["update"]  # replaces a sub-collection
    assert labels["http"] == "PUT /projects/{id}/labels"
    assert labels["body_from"] == "labels"
    assert labels["body"] == {"labels": {"type": "array", "items": LABEL}}
    assert labels["required"] == ["labels"]
    archive = resources["project_archive"]["methods"]["create"]
    assert archive["http"] == "POST /projects/{id}/archive"
    assert "body" not in archive

    members = resources["project_member"]["methods"]["list"]
    assert members["http"] == "GET /projects/{projectId}/members"  # lists keep their names
    assert members["description"] == "Who works on a project."
    assert members["pagination"] == {"style": "none", "items": "members", "total": "total"}
    assert list(resources["stat"]["methods"]) == ["get"]  # counters beside one array


def test_openapi3_import_notes_what_it_left_out() -> None:
    result = import_openapi([OAS3], "tasks")
    # an optional header is not an argument, and the review says how to make it one
    assert any(
        "optional header X-Request-Id" in line and "`header:`" in line for line in result.review
    )
    assert result.operations == 9 and result.skipped == []
    assert result.summary().startswith(
        "tasks: 9 tools (2 list, 2 create, 2 get, 2 update, 1 delete)"
    )


def test_openapi3_json_file_through_the_cli_loads_and_serves_these_tools(tmp_path: Path) -> None:
    spec = tmp_path / "tasks.json"
    spec.write_text(json.dumps(OAS3))
    done = run_import(spec, "--integration", "tasks", "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert "review: optional header X-Request-Id" in done.stdout
    registry = load_registry([tmp_path / "out"])
    assert sorted(registry.tools) == [
        "create_a_tasks_project",
        "create_a_tasks_project_archive",
        "delete_a_tasks_project_by_id",
        "get_single_tasks_project_by_id",
        "get_single_tasks_stat_by_id",
        "list_all_tasks_project_members",
        "list_all_tasks_projects",
        "update_a_tasks_project_by_id",
        "update_a_tasks_project_label_by_id",
    ]
    listing = registry.tool("list_all_tasks_projects")
    assert set(listing.input_schema["properties"]) == {"status", "limit", "next_cursor"}
    assert listing.paging.style == "page" and listing.paging.limit_param == "per_page"
    assert listing.credential == "bearer_auth"
    create = registry.tool("create_a_tasks_project")
    assert create.validate({"name": "x", "budget": 0}) == [
        "budget: 0 is less than or equal to the minimum of 0"
    ]
    labels = registry.tool("update_a_tasks_project_label_by_id")
    # The imported schema keeps the Label pattern, and nothing else stands in the way.
    assert labels.validate({"id": "p1", "labels": [{"color": "red"}]}) == [
        "labels[0].color: 'red' does not match '^#[0-9a-f]{6}$'"
    ]
    assert labels.validate({"id": "p1", "labels": [{"name": "urgent", "color": "#ff0000"}]}) == []
    assert labels.validate({"labels": []}) == ["arguments: 'id' is a required property"]


def test_swagger2_bearer_header_and_clashing_names() -> None:
    swagger = {
        "swagger": "2.0",
        "info": {"title": "Shop", "version": "1"},
        "schemes": ["http", "https"],
        "host": "shop.example",
        "basePath": "/api/",
        "securityDefinitions": {"key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}},
        "security": [{"key": []}],
        "paths": {
            "/v1/orders": {"get": {"responses": {"200": {"schema": {"type": "object"}}}}},
            "/v2/orders": {"get": {"responses": {"200": {"schema": {"type": "object"}}}}},
            "/order": {"get": {"responses": {"200": {"schema": {"type": "object"}}}}},
            "/orders/{orderId}": {
                "put": {
                    "parameters": [
                        {"name": "orderId", "in": "path", "required": True, "type": "integer"},
                        {"name": "body", "in": "body", "schema": {"type": "object"}},
                    ],
                    "responses": {"200": {"description": "ok"}},
                },
                "patch": {
                    "parameters": [{"name": "orderId", "in": "path", "type": "integer"}],
                    "responses": {"200": {"description": "ok"}},
                },
                "head": {"responses": {"200": {"description": "ok"}}},
            },
            "/a_very_long_segment_name/another_quite_long_segment/and_the_resource_itself": {
                "get": {"responses": {"200": {"schema": {"type": "object"}}}}
            },
        },
    }
    result = import_openapi([swagger], "shop")
    manifest = result.manifest
    assert manifest["base_url"] == "https://shop.example/api"
    assert manifest["credentials"] == {"api": {"header": "X-Api-Key", "secret": "api_key"}}
    resources = manifest["resources"]
    # Clashes: the verb on one URL, else a version segment, the raw plural, the verb.
    assert resources["order"]["methods"]["get"]["http"] == "GET /v1/orders"
    assert resources["order_v2"]["methods"]["get"]["http"] == "GET /v2/orders"
    assert resources["order_get"]["methods"]["get"]["http"] == "GET /order"
    assert resources["order"]["methods"]["update"]["http"] == "PUT /orders/{id}"
    assert resources["order"]["methods"]["update"]["body_from"] == "body"
    assert resources["order_patch"]["methods"]["update"]["http"] == "PATCH /orders/{id}"
    long = [n for n in resources if n.endswith("resource_itself")]
    assert long and len(f"get_single_shop_{long[0]}_by_id") <= 64
    assert result.skipped == ["HEAD /orders/{orderId} (yamcp has no HEAD tools)"]


@pytest.mark.parametrize(
    ("word", "one"),
    [
        ("countries", "country"),
        ("addresses", "address"),
        ("bounces", "bounce"),
        ("status", "status"),
        ("boxes", "box"),
        ("people", "person"),
        ("stats", "stat"),
    ],
)
def test_singular(word: str, one: str) -> None:
    assert singular(word) == one


def test_snake() -> None:
    assert snake("PublicHolidays") == "public_holidays"
    assert snake("X-Postmark-Server-Token") == "x_postmark_server_token"
    assert snake("Bounces API") == "bounces_api"
    assert snake("DKIMRotation") == "dkim_rotation"


# ----------------------------------------------- the second integration started this way


def test_nager_date_manifest_covers_the_imported_document() -> None:
    """integrations/nager_date was started by importing its spec; the endpoints still agree."""
    spec = yaml.safe_load((DATA / "nager_date.openapi.yaml").read_text())
    imported = manifest_from_openapi(spec, "nager_date")
    shipped = yaml.safe_load((ROOT / "integrations" / "nager_date" / "manifest.yaml").read_text())

    def endpoints(manifest: dict) -> set[str]:
        return {m["http"] for r in manifest["resources"].values() for m in r["methods"].values()}

    assert endpoints(imported) == endpoints(shipped)
    assert imported["base_url"] == shipped["base_url"]
    assert imported["errors"] == shipped["errors"]
    assert "credentials" not in imported and "credentials" not in shipped


# --------------------------------------------------------------- issue 17: the importer


def _ok(schema: dict[str, Any], headers: dict | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": "ok",
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        answer["headers"] = headers
    return {"200": answer}


def _oas(paths: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "T", "version": "1"},
        "servers": [{"url": "https://api.t.example"}],
        "paths": paths,
        **extra,
    }


def _tools(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Tool name -> method, as the engine names them."""
    from proxy.tools import tool_name

    found = {}
    for name, resource in manifest["resources"].items():
        for kind, method in resource["methods"].items():
            many = resource.get("plural") or plural(name)
            found[tool_name(manifest["name"], name, many, kind)] = method
    return found


PAGE_PARAMS = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}},
    {"name": "after", "in": "query", "schema": {"type": "string"}},
    {"name": "before", "in": "query", "schema": {"type": "string"}},
]
EMAIL = {"type": "object", "properties": {"id": {"type": "string"}, "to": {"type": "string"}}}


def test_collections_are_lists_whatever_their_paging_and_one_item_is_a_get() -> None:
    """Resend's defect: GET /emails was get_single_resend_email_by_id, and no list at all."""
    listing = {
        "type": "object",
        "properties": {
            "object": {"type": "string"},
            "has_more": {"type": "boolean"},
            "data": {"type": "array", "items": EMAIL},
        },
    }
    spec = _oas(
        {
            "/emails": {
                "get": {
                    "summary": "List emails",
                    "parameters": PAGE_PARAMS,
                    "responses": _ok(listing),
                }
            },
            "/emails/{email_id}": {
                "get": {
                    "summary": "Retrieve a single email",
                    "parameters": [{"name": "email_id", "in": "path", "required": True}],
                    "responses": _ok(EMAIL),
                }
            },
        }
    )
    tools = _tools(manifest_from_openapi(spec, "resend"))
    assert set(tools) == {"list_all_resend_emails", "get_single_resend_email_by_id"}
    assert tools["list_all_resend_emails"]["pagination"] == {
        "style": "cursor",
        "limit_param": "limit",
        "cursor_param": "after",
        "has_more": "has_more",
        "cursor_field": "id",
        "max_limit": 100,
        "default_limit": 50,
        "items": "data",
    }
    assert set(tools["list_all_resend_emails"]["query"]) == {"before"}
    assert tools["get_single_resend_email_by_id"]["http"] == "GET /emails/{id}"


def _list_of(response: dict, params: list[dict], headers: dict | None = None) -> dict:
    spec = _oas(
        {
            "/things": {
                "get": {
                    "summary": "Things",
                    "parameters": params,
                    "responses": _ok(response, headers),
                }
            }
        }
    )
    return manifest_from_openapi(spec, "t")["resources"]["thing"]["methods"]["list"]


def _param(name: str, kind: str = "integer") -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": {"type": kind}}


ITEMS = {"type": "array", "items": EMAIL}


def test_each_paging_style_is_detected_and_written() -> None:
    twilio = {
        "type": "object",
        "properties": {
            "things": ITEMS,
            "next_page_uri": {"type": "string"},
            "page": {"type": "integer"},
            "page_size": {"type": "integer"},
        },
    }
    params = [_param("PageSize"), _param("Page"), _param("PageToken", "string")]
    assert _list_of(twilio, params)["pagination"] == {
        "style": "next_url",
        "limit_param": "PageSize",
        "next_url": "next_page_uri",
        "items": "things",
    }
    digitalocean = {
        "allOf": [
            {"type": "object", "properties": {"things": ITEMS}},
            {
                "type": "object",
                "properties": {
                    "links": {
                        "type": "object",
                        "properties": {
                            "pages": {
                                "anyOf": [
                                    {"type": "object", "properties": {"next": {"type": "string"}}}
                                ]
                            }
                        },
                    },
                    "meta": {"allOf": [{"properties": {"total": {"type": "integer"}}}]},
                },
            },
        ]
    }
    assert _list_of(digitalocean, [_param("per_page"), _param("page")])["pagination"] == {
        "style": "next_url",
        "limit_param": "per_page",
        "next_url": "links.pages.next",
        "items": "things",
        "total": "meta.total",
    }
    token = {"type": "object", "properties": {"items": ITEMS, "next_cursor": {"type": "string"}}}
    assert _list_of(token, [_param("cursor", "string")])["pagination"] == {
        "style": "cursor",
        "cursor_param": "cursor",
        "next_cursor": "next_cursor",
        "items": "items",
    }
    linked = _list_of(ITEMS, [_param("per_page")], {"Link": {"schema": {"type": "string"}}})
    assert linked["pagination"] == {"style": "link_header", "limit_param": "per_page", "items": "@"}
    offset = _list_of(ITEMS, [_param("limit"), _param("offset")])
    assert offset["pagination"]["style"] == "offset" and "query" not in offset


def test_guessed_paging_is_on_the_review_list() -> None:
    spec = _oas(
        {
            "/things": {
                "get": {
                    "summary": "Things",
                    "parameters": [_param("limit")],
                    "responses": _ok(ITEMS),
                }
            }
        }
    )
    result = import_openapi([spec], "t")
    assert result.manifest["resources"]["thing"]["methods"]["list"]["pagination"] == {
        "style": "none",
        "items": "@",
    }
    assert any("GET /things: paging guessed" in item for item in result.review), result.review


@pytest.mark.parametrize(
    ("word", "one"),
    [
        ("tls", "tls"),
        ("dns", "dns"),
        ("sizes", "size"),
        ("statuses", "status"),
        ("data", "data"),
        ("metadata", "metadata"),
        ("quizzes", "quiz"),
    ],
)
def test_singulars_of_the_real_specs_words(word: str, one: str) -> None:
    assert singular(word) == one


def test_enforced_tls_stays_and_finders_read_as_english() -> None:
    spec = _oas(
        {
            "/v3/user/settings/enforced_tls": {
                "get": {"summary": "Enforced TLS", "responses": _ok({"type": "object"})}
            },
            "/pet/findByStatus": {
                "get": {"summary": "Find pets by status", "responses": _ok(ITEMS)}
            },
        }
    )
    assert set(_tools(manifest_from_openapi(spec, "sg"))) == {
        "get_single_sg_user_setting_enforced_tls_by_id",
        "list_all_sg_pets_by_status",
    }


def test_actions_are_named_for_what_they_do_and_sends_are_destructive_for_review() -> None:
    spec = _oas(
        {
            "/user/logout": {"get": {"summary": "Logs out", "responses": {"default": {}}}},
            "/search": {"get": {"summary": "Search", "responses": _ok(ITEMS)}},
            "/contacts/search": {
                "post": {
                    "summary": "Search contacts",
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"query": {"type": "string"}},
                                }
                            }
                        }
                    },
                    "responses": _ok(ITEMS),
                }
            },
            "/broadcasts/{broadcast_id}/send": {
                "post": {"summary": "Send a broadcast", "responses": _ok(EMAIL)}
            },
            "/bounces/{bounce_id}/activate": {
                "put": {"summary": "Activate a bounce", "responses": _ok(EMAIL)}
            },
        }
    )
    result = import_openapi([spec], "x")
    tools = _tools(result.manifest)
    assert set(tools) == {
        "create_a_x_user_logout",
        "list_all_x_search_results",
        "create_a_x_contact_search",
        "create_a_x_broadcast_send",
        "create_a_x_bounce_activation",
    }
    assert tools["create_a_x_user_logout"]["access"] == "write"  # a GET that does something
    assert tools["create_a_x_contact_search"]["access"] == "read"  # a POST that only reads
    send = tools["create_a_x_broadcast_send"]
    assert send["destructive"] is True and send["http"] == "POST /broadcasts/{id}/send"
    assert tools["create_a_x_bounce_activation"]["destructive"] is False
    assert [r for r in result.review if "destructive" in r] == [
        "POST /broadcasts/{broadcast_id}/send: marked destructive because it looks like a send "
        "('send'); confirm, or set destructive: false"
    ]


def test_descriptions_come_from_the_spec_trimmed_never_the_bare_path() -> None:
    spec = _oas(
        {
            "/a": {
                "get": {
                    "summary": "One **thing**",
                    "description": "See [the docs](https://x.example). <b>Long</b> text.",
                    "responses": _ok(EMAIL),
                }
            },
            "/b": {"get": {"operationId": "fetchTheB", "responses": _ok(EMAIL)}},
            "/c": {"description": "A C is a letter. More.", "get": {"responses": _ok(EMAIL)}},
        }
    )
    result = import_openapi([spec], "x")
    described = {m["http"]: m["description"] for m in _tools(result.manifest).values()}
    assert described == {
        "GET /a": "One thing. See the docs.",
        "GET /b": "Fetch the b.",
        "GET /c": "Get one c. A C is a letter.",
    }
    assert sum("no summary or description" in r for r in result.review) == 2


def test_security_schemes_become_credential_profiles() -> None:
    schemes = {
        "key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
        "query": {"type": "apiKey", "in": "query", "name": "api_key"},
        "token": {"type": "http", "scheme": "bearer"},
        "login": {"type": "http", "scheme": "basic"},
        "oauth": {"type": "oauth2", "flows": {}},
    }
    paths = {
        f"/{name}": {"get": {"summary": name, "security": [{name: []}], "responses": _ok(EMAIL)}}
        for name in schemes
    }
    result = import_openapi([_oas(paths, components={"securitySchemes": schemes})], "x")
    assert result.manifest["credentials"] == {
        "api": {"header": "X-Api-Key", "secret": "api_key"},
        "query": {"query": "api_key", "secret": "api_key"},
        "token": {"bearer": "api_key"},
        "login": {"basic": {"username": "username", "password": "password"}},
        "oauth": {"bearer": "access_token"},
    }
    used = {m["http"]: m["credential"] for m in _tools(result.manifest).values()}
    assert used == {
        "GET /key": "api",
        "GET /query": "query",
        "GET /token": "token",
        "GET /login": "login",
        "GET /oauth": "oauth",
    }
    assert any("oauth (oauth2)" in r for r in result.review)
    swagger = {
        "swagger": "2.0",
        "info": {"title": "S", "version": "1"},
        "host": "s.example",
        "securityDefinitions": {"basicAuth": {"type": "basic"}},
        "security": [{"basicAuth": []}],
        "paths": {"/a": {"get": {"summary": "A", "responses": {"200": {"schema": EMAIL}}}}},
    }
    assert manifest_from_openapi(swagger, "s")["credentials"] == {
        "basic_auth": {"basic": {"username": "username", "password": "password"}}
    }


def _post(content: dict[str, Any]) -> dict[str, Any]:
    return {"summary": "Make it", "requestBody": {"content": content}, "responses": _ok(EMAIL)}


FORM_FIELDS = {
    "type": "object",
    "required": ["To"],
    "properties": {
        "To": {"type": "string"},
        "Events": {"type": "array", "items": {"type": "string"}},
    },
}


def test_form_and_multipart_bodies_are_carried_and_others_drop_the_tool() -> None:
    form = "application/x-www-form-urlencoded"
    spec = _oas(
        {
            "/twilio": {"post": _post({form: {"schema": FORM_FIELDS}})},
            "/stripe": {
                "post": _post(
                    {form: {"schema": FORM_FIELDS, "encoding": {"Events": {"style": "deepObject"}}}}
                )
            },
            "/files": {
                "post": _post(
                    {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "file": {"type": "string", "format": "binary"},
                                    "purpose": {"type": "string"},
                                },
                            }
                        }
                    }
                )
            },
            "/raw": {"post": _post({"application/octet-stream": {"schema": {"type": "string"}}})},
        }
    )
    result = import_openapi([spec], "x")
    tools = _tools(result.manifest)
    twilio = tools["create_a_x_twilio"]
    assert (twilio["body_encoding"], twilio["form_style"]) == ("form", "repeat")
    assert twilio["required"] == ["To"] and set(twilio["body"]) == {"To", "Events"}
    assert tools["create_a_x_stripe"]["form_style"] == "deep_object"
    files = tools["create_a_x_file"]
    assert files["body_encoding"] == "multipart" and "form_style" not in files
    assert files["body"]["file"] == {"type": "string", "contentEncoding": "base64"}
    # No tool with its body dropped: the octet-stream upload is not imported, and says so.
    assert "create_a_x_raw" not in tools
    assert any(s.startswith("POST /raw (a application/octet-stream body") for s in result.skipped)
    assert any("POST /raw: not imported" in r for r in result.review)
    assert any("guessed form_style repeat" in r for r in result.review)


def test_a_required_version_header_with_one_value_becomes_a_constant_header() -> None:
    version = {
        "name": "Api-Version",
        "in": "header",
        "required": True,
        "schema": {"type": "string", "enum": ["2024-01-01"]},
    }
    spec = _oas({"/a": {"get": {"summary": "A", "parameters": [version], "responses": _ok(EMAIL)}}})
    manifest = manifest_from_openapi(spec, "x")
    assert manifest["headers"] == {"Api-Version": "2024-01-01"}
    assert "query" not in _tools(manifest)["get_single_x_a_by_id"]


def _write(folder: Path, files: dict[str, Any]) -> None:
    for name, data in files.items():
        file = folder / name
        file.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(data) if name.endswith(".json") else yaml.safe_dump(data)
        file.write_text(text)


def test_relative_refs_into_other_files_are_followed_with_cycles_cut(tmp_path: Path) -> None:
    """DigitalOcean's layout: whole operations, parameters and schemas in other files."""
    _write(
        tmp_path,
        {
            "spec/root.yaml": {
                "openapi": "3.0.0",
                "info": {"title": "Multi", "version": "1", "description": {"$ref": "intro.yml#/x"}},
                "servers": [{"url": "https://m.example"}],
                "paths": {
                    "/v2/apps": {"post": {"$ref": "resources/apps/apps_create.yml"}},
                    "/v2/apps/{app_id}": {"get": {"$ref": "resources/apps/apps_get.yml"}},
                },
            },
            "spec/intro.yml": {"x": "Apps on a platform."},
            "spec/resources/apps/apps_create.yml": {
                "summary": "Create an app",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "models/app.yml"}}},
                },
                "responses": {"200": {"$ref": "../../shared/responses.json#/app"}},
            },
            "spec/resources/apps/apps_get.yml": {
                "summary": "Get an app",
                "parameters": [{"$ref": "parameters.yml#/app_id"}],
                "responses": {"200": {"$ref": "../../shared/responses.json#/app"}},
            },
            "spec/resources/apps/parameters.yml": {
                "app_id": {
                    "name": "app_id",
                    "in": "path",
                    "required": True,
                    "description": "The app.",
                    "schema": {"type": "string"},
                }
            },
            "spec/resources/apps/models/app.yml": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string"},
                    "spec": {"$ref": "app_spec.yml#/app_spec"},
                },
            },
            "spec/resources/apps/models/app_spec.yml": {
                "app_spec": {
                    "type": "object",
                    "properties": {"region": {"type": "string"}, "app": {"$ref": "app.yml"}},
                }
            },
            "spec/shared/responses.json": {
                "app": {
                    "description": "ok",
                    "content": {
                        "application/json": {"schema": {"$ref": "../resources/apps/models/app.yml"}}
                    },
                }
            },
        },
    )
    done = run_import(tmp_path / "spec/root.yaml", "--integration", "multi", "--out", tmp_path)
    assert done.returncode == 0, done.stderr
    manifest = yaml.safe_load((tmp_path / "multi" / "manifest.yaml").read_text())
    assert manifest["description"] == "Apps on a platform."
    tools = _tools(manifest)
    create = tools["create_a_multi_app"]
    assert create["description"] == "Create an app."
    assert create["required"] == ["name"]
    spec = create["body"]["spec"]
    assert spec["properties"]["region"] == {"type": "string"}
    assert spec["properties"]["app"] == {
        "type": "object",
        "description": "A app (refers back to itself; not expanded here).",
    }
    get = tools["get_single_multi_app_by_id"]
    assert get["path"] == {"id": {"type": "string", "description": "The app."}}
    assert load_registry([tmp_path]).tool("create_a_multi_app") is not None


def test_an_unresolved_ref_fails_the_import_and_writes_nothing(tmp_path: Path) -> None:
    spec = _oas(
        {
            "/a": {"get": {"summary": "A", "responses": _ok({"$ref": "models.yaml#/Missing"})}},
            "/b": {"get": {"$ref": "nowhere.yaml"}},
        }
    )
    (tmp_path / "models.yaml").write_text("Other: {type: object}\n")
    (tmp_path / "api.json").write_text(json.dumps(spec))
    done = run_import(tmp_path / "api.json", "--integration", "x", "--out", tmp_path / "out")
    assert done.returncode == 1
    assert "models.yaml#/Missing" in done.stderr and "nowhere.yaml" in done.stderr
    assert "nothing written" in done.stderr and not (tmp_path / "out").exists()


def test_no_tool_produced_fails_the_import(tmp_path: Path) -> None:
    spec = _oas({"/raw": {"post": _post({"text/plain": {"schema": {"type": "string"}}})}})
    (tmp_path / "api.json").write_text(json.dumps(spec))
    done = run_import(tmp_path / "api.json", "--integration", "x", "--out", tmp_path / "out")
    assert done.returncode == 1
    assert "no tool was produced from 1 operation(s)" in done.stderr
    assert not (tmp_path / "out").exists()


def test_the_cli_prints_the_lists_and_the_review_list(tmp_path: Path) -> None:
    spec = _oas(
        {
            "/emails": {
                "get": {"summary": "List", "parameters": PAGE_PARAMS, "responses": _ok(ITEMS)},
                "post": {"responses": _ok(EMAIL)},
            }
        }
    )
    (tmp_path / "api.json").write_text(json.dumps(spec))
    done = run_import(tmp_path / "api.json", "--integration", "x", "--out", tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "list: list_all_x_emails" in lines
    review = [line for line in lines if line.startswith("review: ")]
    assert any("POST /emails: no summary or description" in line for line in review)
    assert any("POST /emails: marked destructive" in line for line in review)
    header = (tmp_path / "x" / "manifest.yaml").read_text().split("\nname:")[0]
    assert "# Look at these first:" in header and "POST /emails: marked destructive" in header


def test_markup_goes_but_an_address_in_angle_brackets_stays() -> None:
    """Resend documents its From format as "Your Name <sender@domain.com>": stripping every
    `<...>` as HTML told a model to send `Your Name ` and nothing else."""
    from proxy.openapi.text import clean

    assert clean('Use "Your Name <sender@domain.com>".') == 'Use "Your Name <sender@domain.com>".'
    assert clean("A <b>bold</b> <a href='x'>link</a><br/> and [docs](https://x).") == (
        "A bold link and docs."
    )
    assert clean("Keep 1 < 2 and 3 > 2, and <T> placeholders.") == (
        "Keep 1 < 2 and 3 > 2, and placeholders."
    )
