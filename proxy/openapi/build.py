"""Operations to manifest methods, grouped into resources with names that fit.

What kind of tool an operation becomes:

* GET: a collection (see `paging`) is a `list`; an action path (`/user/logout`) a
  `create` named for the action; anything else one item, a `get`.
* POST: `create` (a send-like one `destructive: true`, for review); POST search/validate
  actions that only read get `access: read`.
* PUT/PATCH: `update` on a path ending in a parameter, else `create` (an action such as
  PUT /bounces/{id}/activate); DELETE: `delete`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..manifest import NAME_RE, RESERVED_HEADERS, MethodKind
from ..tools import tool_name
from . import naming
from .document import VERBS, Body, Document
from .load import ref_name
from .naming import fit, plural, snake
from .paging import detect
from .parameters import fragment_query, query_style
from .schema import files_as_base64, is_array, object_view
from .security import CREDENTIAL_HEADER, Profiles
from .text import describe, first_sentence, words_of
from .verbs import (
    PARAM,
    SEND_VERBS,
    SENT_THINGS,
    acting_get,
    answers,
    changes_many,
    names_one,
    put_kind,
    reads,
    token_endpoint,
)

# Parameters that hold an API credential by their very name (checked only in a document
# that declares a security scheme, which then sends the credential).
_CREDENTIALPARAM = re.compile(
    r"(access_|auth_|api_|bearer_)?token|api_?key|access_key", re.IGNORECASE
)


@dataclass
class Operation:
    verb: str
    path: str
    kind: MethodKind
    names: list[str]  # candidate resource names, best first
    method: dict[str, Any]
    tags: list[str]


class Importer:
    """Collects the operations of one or more documents into one manifest's resources."""

    def __init__(self, integration: str) -> None:
        if not re.fullmatch(NAME_RE, integration):
            raise ValueError(
                f"integration name {integration!r} must be [a-z][a-z0-9_]* "
                f"(try {snake(integration) or 'my_api'!r})"
            )
        self.integration = integration
        self.profiles = Profiles(integration)
        self.notes: list[str] = []
        self.review: list[str] = []
        self.skipped: list[str] = []
        self.headers: dict[str, str] = {}
        self.operations: list[Operation] = []
        self.seen: set[tuple[str, str]] = set()
        self.count = 0
        self._holders: dict[tuple[str, str], Operation] = {}
        self._credential_names: set[str] | None = None  # the current document's

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def flag(self, text: str) -> None:
        if text not in self.review:
            self.review.append(text)

    def add_document(self, doc: Document) -> None:
        declared = doc.security_schemes()
        schemes = self.profiles.from_schemes(declared, doc.swagger)
        self._credential_names = (
            {str(s.get("name", "")).lower() for s in declared.values() if s.get("in")}
            if declared
            else None
        )
        for path, item, verb, operation in doc.operations():
            if not isinstance(operation, dict):
                continue
            self.count += 1
            if verb not in VERBS:
                self.skipped.append(f"{verb.upper()} {path} (yamcp has no {verb.upper()} tools)")
                continue
            try:
                self.add(doc, schemes, path, item, verb, operation)
            except Exception as exc:  # one odd operation must never sink the import
                self.skipped.append(f"{verb.upper()} {path} (could not be imported: {exc})")
                self.flag(f"{verb.upper()} {path}: not imported: {exc}")

    # --- one operation

    def add(
        self,
        doc: Document,
        schemes: dict[str, str],
        path: str,
        path_item: dict,
        verb: str,
        op: dict,
    ) -> None:
        where = f"{verb.upper()} {path}"
        if (verb, path) in self.seen:
            self.skipped.append(f"{where} (declared again)")
            return
        self.seen.add((verb, path))
        if token_endpoint(path, op):
            self.skipped.append(
                f"{where} (an OAuth token endpoint: the account holds the token yamcp sends)"
            )
            return
        # Box keys several operations on one path with `#fragment` suffixes; the fragment is
        # no part of the URL, only a name for the operation.
        path, _, fragment = path.partition("#")
        params = doc.parameters(path_item, op)
        fixed_query: dict[str, Any] = {}

        credential = None
        for requirement in doc.security_requirements(op):
            credential = next((schemes[s] for s in requirement if s in schemes), None)
            if credential:
                break
        path_args: dict[str, dict] = {}
        query: dict[str, dict] = {}
        styles: dict[str, dict] = {}
        header: dict[str, dict] = {}
        constant_headers: dict[str, str] = {}
        required: list[str] = []
        for param in params:
            where_in, name = param["in"], str(param["name"])
            if where_in == "header":
                # A header parameter named like a credential counts only where the operation
                # states no security requirement: Petstore's deletePet takes an optional
                # `api_key` header, yet authenticates with OAuth (bearer).
                if credential and self._carries_credential(name):
                    # Slack's `token` header beside its OAuth scheme: the scheme sends it.
                    self.note(f"header parameter {name} carries the credential; not an argument")
                    continue
                found = self._header(doc, where, param, header, constant_headers)
                credential = credential or found
                if param.get("required") and name in header:
                    required.append(name)
            elif where_in == "path":
                path_args[name] = doc.parameter_schema(param)
            elif where_in == "query" and self._carries_credential(name):
                self.flag(
                    f"{where}: query parameter {name} carries the credential; not an argument "
                    "(the credential profile sends it)"
                )
            elif where_in == "query":
                query[name] = doc.parameter_schema(param)
                style = query_style(doc.swagger, where, param, query[name], self.flag)
                if style:
                    styles[name] = style
                if param.get("required"):
                    required.append(name)
            elif where_in == "cookie":
                self.note(f"{where}: cookie parameter {name} left out")
        in_template = PARAM.findall(path)
        path_args = {p: path_args.get(p, {"type": "string"}) for p in in_template}
        if fragment:
            fragment_query(where, fragment, params, query, required, fixed_query, self.flag)

        declared = doc.request_body(op, params)
        if isinstance(declared, str):
            self.skipped.append(f"{where} ({declared}; a tool without its body would be wrong)")
            self.flag(f"{where}: not imported: {declared}")
            return
        body_spec: Body | None = declared
        body: dict[str, dict] = {}
        body_from = None
        body_required: set[str] = set()
        if body_spec is None and verb in ("put", "patch"):
            # Resend's PATCH /emails/{id} declares its body as the answer's schema instead.
            self.flag(f"{where}: a {verb.upper()} with no request body in the spec; it sends none")
        if body_spec is not None and verb == "get":
            self.note(f"{where}: a GET with a body; the body is left out")
            body_spec = None
        elif body_spec is not None:
            if body_spec.encoding == "multipart":
                files_as_base64(body_spec.schema)
            properties, need = object_view(body_spec.schema)
            if properties and not is_array(body_spec.schema):
                body = {k: v for k, v in properties.items() if not v.get("readOnly")}
                for name in [k for k in body if self._carries_credential(k)]:
                    del body[name]
                    self.flag(
                        f"{where}: body field {name} carries the credential; not an argument "
                        "(the credential profile sends it)"
                    )
                body_required = {r for r in need if r in body}
                required.extend(body_required)
            elif body_spec.encoding != "json":
                self.skipped.append(f"{where} (a {body_spec.encoding} body with no fields)")
                self.flag(
                    f"{where}: not imported: its {body_spec.encoding} body declares no fields"
                )
                return
            else:
                body_from = _body_argument(body_spec, self.refs_name(body_spec))
                body = {body_from: body_spec.schema}
                if body_spec.required:
                    required.append(body_from)

        kind, pagination, fixed = self._kind(doc, verb, path, query, op, where)
        fixed_query.update(fixed)
        bulk = kind == "update" and verb in ("put", "patch") and changes_many(path, op)
        if bulk:  # PagerDuty's PUT /incidents (updateIncidents): many at once, no id
            kind = "create"
            self.flag(
                f"{where}: changes many at once ({op.get('operationId')}): an action named "
                "bulk_update, not the update of one by id"
            )
        if kind == "list":
            for arg in ("limit", "next_cursor"):
                for section in (query, body):
                    if arg in section:
                        del section[arg]
                        self.note(f"{where}: argument {arg!r} left out (list tools add their own)")
            if any(p in ("limit", "next_cursor") for p in path_args):
                kind, pagination, fixed_query = "get", None, {}

        # Each argument name once: path first, then query, then body.
        for name in list(query):
            if name in path_args:
                del query[name]
                self.note(f"{where}: query parameter {name} has a path parameter's name; left out")
        for name in list(header):
            if name in path_args or name in query:
                del header[name]
                self.note(f"{where}: header parameter {name} has a parameter's name; left out")
        for name in list(body):
            if name in path_args or name in query or name in header:
                # Netlify's POST /hooks: a required `site_id` query beside an optional body
                # field of that name, which the query then carries alone.
                if body_from == name or name in body_required:
                    self.skipped.append(f"{where} (body field {name} clashes with a parameter)")
                    self.flag(f"{where}: not imported: body field {name} has a parameter's name")
                    return
                del body[name]
                self.note(f"{where}: optional body field {name} has a parameter's name; left out")
        required = [r for r in dict.fromkeys(required) if r in query or r in body or r in header]
        styles = {k: v for k, v in styles.items() if k in query}

        template = path
        # The object a tool acts on is `id` (DESIGN.md): the item of get/update/delete, or the
        # object of an action (`POST /bounces/{id}/activate`). A create that adds to a
        # collection under a parent (`POST /Accounts/{AccountSid}/Messages.json`) keeps the
        # parent's name, as the list of that collection does.
        acts_on_last = kind in ("get", "update", "delete") or naming.is_action(path)
        if kind != "list" and in_template and acts_on_last:
            last = in_template[-1]
            if last != "id" and "id" not in path_args and "id" not in query and "id" not in body:
                template = path.replace("{" + last + "}", "{id}")
                schema = path_args.pop(last)
                if "description" not in schema:
                    schema["description"] = f"The {snake(last).replace('_', ' ')}."
                path_args = {
                    ("id" if p == last else p): path_args.get(p, schema) for p in in_template
                }

        names = naming.resource_names(path, verb, str(op.get("operationId") or ""), kind)
        if fragment:
            names.insert(0, f"{names[0]}_{_without_verb(snake(fragment), kind)}")
        if bulk:
            names.insert(0, f"{names[0]}_bulk_update")
        if kind == "delete" and verb == "post":  # Slack's chat.delete deletes a chat message
            names.insert(0, re.sub(r"_(delete|remove)$", "", names[0]) or names[0])
        description = describe(op)
        if not description:
            description = self._fallback_description(op, path_item, kind, names[0])
            self.flag(f"{where}: no summary or description in the spec; wrote {description!r}")
        method: dict[str, Any] = {"http": f"{verb.upper()} {template}", "description": description}
        if credential:
            method["credential"] = credential
        elif self.profiles.profiles and doc.public(op):
            method["credential"] = False  # sent with no credential: none is needed
        method["access"] = self._access(verb, path, kind)
        acting = acting_get(verb, path, op)
        if method["access"] == "read" and acting:
            method["access"] = "write"
            self.flag(
                f"{where}: a GET that acts ({acting!r} in its name or summary): marked a write "
                "(not readOnlyHint); confirm, or set access: read"
            )
        if method["access"] == "write":
            method["destructive"] = kind == "delete" or self._send_like(verb, path, op, where)
        if verb == "put" and kind == "create":
            method["idempotent"] = True
        if body_spec is not None and body_spec.encoding != "json":
            method["body_encoding"] = body_spec.encoding
            if body_spec.form_style:
                method["form_style"] = body_spec.form_style
            if body_spec.style_guessed:
                self.flag(
                    f"{where}: form body with nested fields and no encoding in the spec; "
                    f"guessed form_style {body_spec.form_style}"
                )
        own_server = doc.operation_server(path_item, op)
        if own_server:
            method["base_url"] = own_server  # kept only where it is not the base URL
        optional = {
            "path": path_args,
            "query": query,
            "query_styles": styles,
            "header": header,
            "body": body,
            "body_from": body_from,
            "required": required,
            "pagination": pagination,
            "fixed_query": fixed_query,
            "headers": constant_headers,
        }
        method.update({key: value for key, value in optional.items() if value})
        tags = [snake(t) for t in op.get("tags") or [] if snake(t)]
        self.operations.append(Operation(verb, path, kind, names, method, tags))

    def refs_name(self, body: Body) -> str | None:
        items = body.raw.get("items") if isinstance(body.raw, dict) else None
        if isinstance(items, dict) and isinstance(items.get("$ref"), str):
            return plural(snake(ref_name(items["$ref"])))
        return None

    def _carries_credential(self, name: str) -> bool:
        """A parameter that holds the secret a security scheme sends (Slack's `token`, which
        the API also takes as a query or form field): the model must never be asked for it."""
        if self._credential_names is None:  # the document declares no security scheme
            return False
        return name.lower() in self._credential_names or bool(_CREDENTIALPARAM.fullmatch(name))

    def _header(
        self,
        doc: Document,
        where: str,
        param: dict[str, Any],
        arguments: dict[str, dict],
        constants: dict[str, str],
    ) -> str | None:
        """A header parameter, per operation: a credential profile (returned), a constant
        header (into `constants`), a header argument (into `arguments`), or left out."""
        name = str(param["name"])
        if name.lower() in RESERVED_HEADERS:
            # `Content-Type: application/json` as a one-value enum declares the body's media
            # type, which yamcp sends from the body encoding; Authorization is a scheme's.
            self.note(f"header parameter {name} is not an argument (yamcp sets it)")
            return None
        if CREDENTIAL_HEADER.search(name):
            bearer = "bearer" in str(param.get("description", "")).lower()
            return self.profiles.header(name, "Bearer " if bearer else "")
        schema = doc.parameter_schema(param)
        values = schema.get("enum") or []
        constant = values[0] if len(values) == 1 else schema.get("default")
        if param.get("required") and constant is not None and not isinstance(constant, dict):
            constants[name] = str(constant)
            return None
        if param.get("required"):
            # PagerDuty's From (the acting user's email) on the writes that need it.
            arguments[name] = schema
            self.flag(
                f"required header {name}: an argument of the operations that require it; "
                "where it names the acting user, set it once in the account's `defaults`"
            )
        else:
            self.flag(
                f"optional header {name}: not an argument; add it under a method's "
                "`header:` where an agent needs to send it"
            )
        return None

    def _kind(
        self, doc: Document, verb: str, path: str, query: dict[str, dict], op: dict, where: str
    ) -> tuple[MethodKind, dict | None, dict[str, Any]]:
        ends_in_param = names_one(path)
        words = re.split(r"[^a-z]+", naming.last_segment(path))
        if verb == "post" and words[-1] in ("delete", "remove"):  # Slack's POST /chat.delete
            return "delete", None, {}
        if verb == "post":  # POST to one object's URL changes it (Twilio, and many others)
            return ("update" if ends_in_param else "create"), None, {}
        if verb == "delete":
            return "delete", None, {}
        if verb in ("put", "patch"):
            return put_kind(path), None, {}
        response, headers = doc.response(op)
        nouns = {snake(s) for s in naming.static_segments(path)}
        listing = detect(query, response or {}, headers, nouns, doc.response_example(op))
        if listing is not None and (not ends_in_param or listing.pagination["items"] == "@"):
            for name in listing.consumed:
                query.pop(name, None)
            if listing.guessed:
                self.flag(f"{where}: paging guessed: {listing.guessed}")
            return "list", listing.pagination, listing.fixed
        if response is None and not ends_in_param and not naming.is_action(path):
            self.flag(f"{where}: the spec declares no JSON answer; imported as one item (get)")
        if naming.last_segment(path) and naming.last_segment(path).split("_")[-1] in (
            naming.AUTH_ACTIONS
        ):
            return "create", None, {}  # GET /user/logout does something; it returns no item
        return "get", None, {}

    def _access(self, verb: str, path: str, kind: MethodKind) -> str:
        if verb == "get" and kind != "create":
            return "read"
        if verb == "post" and reads(path):
            return "read"
        if verb == "post" and answers(path):
            self.flag(
                f"POST {path}: computes an answer ({naming.last_segment(path)!r}) and changes "
                "nothing, so marked a read (readOnlyHint); confirm, or set access: write"
            )
            return "read"
        return "write"

    def _send_like(self, verb: str, path: str, op: dict, where: str) -> bool:
        if verb != "post" or reads(path):
            return False
        statics = [snake(seg) for seg in naming.static_segments(path)]
        last = statics[-1].split("_") if statics else [""]
        firsts = [
            str(op.get("summary") or "").split(" ", 1)[0].lower(),
            words_of(str(op.get("operationId") or "")).split(" ", 1)[0].lower(),
        ]
        created = statics[-1] if statics else ""
        if len(statics) > 1 and created in ("batch", "bulk"):
            created = statics[-2]
        found = next(
            (w for w in [last[0], last[-1], *firsts] if w in SEND_VERBS),
            created if created in SENT_THINGS and not names_one(path) else None,
        )
        if found:
            self.flag(
                f"{where}: marked destructive because it looks like a send ({found!r}); "
                "confirm, or set destructive: false"
            )
        return bool(found)

    def _fallback_description(
        self, op: dict, path_item: dict, kind: MethodKind, resource: str
    ) -> str:
        """From the operationId and the path's own description; else from the method type."""
        thing = resource.replace("_", " ")
        if op.get("operationId"):
            text = words_of(str(op["operationId"])).rstrip(".") + "."
        else:
            text = {
                "list": f"List {plural(resource).replace('_', ' ')}.",
                "get": f"Get one {thing}.",
                "create": f"Create a {thing}.",
                "update": f"Update a {thing}.",
                "delete": f"Delete a {thing}.",
            }[kind]
        about = first_sentence(path_item.get("description") or "")
        return f"{text} {about}" if about else text

    # --- resources

    def resources(self) -> dict[str, Any]:
        self._hoist_headers()
        resources: dict[str, dict[str, Any]] = {}
        tools: set[str] = set()
        for op in self.operations:
            name = self._free_name(op, resources, tools)
            resource = resources.setdefault(name, {"methods": {}, "_tags": []})
            resource["methods"][op.kind] = op.method
            resource["_tags"].append(op.tags)
            tools.add(tool_name(self.integration, name, plural(name), op.kind))
        for name, resource in resources.items():
            tag_lists = resource.pop("_tags")
            common = [t for t in tag_lists[0] if all(t in tags for tags in tag_lists)]
            for tags, method in zip(tag_lists, resource["methods"].values(), strict=True):
                own = [t for t in tags if t not in common]
                if own:
                    method["tags"] = own
            ordered: dict[str, Any] = {}
            if "list" in resource["methods"] and plural(name) != f"{name}s":
                ordered["plural"] = plural(name)
            if common:
                ordered["tags"] = common
            ordered["methods"] = {
                kind: _ordered_method(m) for kind, m in resource["methods"].items()
            }
            resources[name] = ordered
        if len(self.profiles.profiles) < 2:
            for resource in resources.values():
                for method in resource["methods"].values():
                    if method.get("credential") is not False:
                        method.pop("credential", None)
        return resources

    def _hoist_headers(self) -> None:
        """A constant header every operation sends alike goes to the manifest; one that only
        some operations declare stays on theirs, so no other call sends it."""
        methods = [op.method for op in self.operations]
        if not methods:
            return
        first = methods[0].get("headers") or {}
        common = {
            name: value
            for name, value in first.items()
            if all((m.get("headers") or {}).get(name) == value for m in methods)
        }
        self.headers = common
        for method in methods:
            own = {k: v for k, v in (method.pop("headers", None) or {}).items() if k not in common}
            if own:
                method["headers"] = own

    def _free_name(self, op: Operation, resources: dict, tools: set[str]) -> str:
        candidates = [*op.names]
        base = candidates[0]
        holder = self._holders.get((fit(self.integration, base), op.kind))
        if holder is not None and holder.path == op.path:  # PUT and PATCH of one URL
            candidates.insert(1, f"{base}_{op.verb}")
        candidates += [f"{base}_{n}" for n in range(2, 100)]
        for candidate in dict.fromkeys(candidates):
            name = fit(self.integration, candidate)
            if name in resources and op.kind in resources[name]["methods"]:
                continue
            if tool_name(self.integration, name, plural(name), op.kind) in tools:
                continue
            self._holders[(name, op.kind)] = op
            return name
        raise ValueError(f"{op.verb.upper()} {op.path}: no free resource name")  # pragma: no cover


def _without_verb(fragment: str, kind: MethodKind) -> str:
    """`get_shared_link` on a get is `shared_link`; `add_shared_link` keeps its verb."""
    first, _, rest = fragment.partition("_")
    same = {"get": {"get", "read"}, "update": {"update", "set"}, "delete": {"delete"}}
    return rest if rest and first in same.get(kind, set()) else fragment


def _ordered_method(method: dict[str, Any]) -> dict[str, Any]:
    order = (
        "http", "description", "credential", "base_url", "access", "destructive",
        "idempotent", "tags", "path", "query", "query_styles", "header", "body", "body_from",
        "body_encoding", "form_style", "required", "pagination", "fixed_query", "headers",
    )  # fmt: skip
    return {key: method[key] for key in order if key in method}


def _body_argument(body: Body, items_name: str | None) -> str:
    """The argument that carries a whole body: its declared name, or the items' plural."""
    name = body.name
    if name and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) and name.lower() != "body":
        return name
    if items_name:
        return items_name
    return "items" if is_array(body.schema) else "body"
