"""Templates and layouts: list, validate (a test render with a suggested model), create,
edit, delete, and push between servers. Content is checked and rendered by Mustachio's
rules (mustachio.py): a template Postmark would refuse to save is refused here too."""

from __future__ import annotations

import re
from typing import Any

from .. import mustachio
from . import records
from .call import ApiError, Call, equals, get, has, json_object, ok, page, paging
from .routing import route
from .state import PostmarkState

_TEMPLATE_FIELDS = ("Name", "Subject", "HtmlBody", "TextBody", "Alias", "LayoutTemplate")
# A layout's content slot: Postmark's docs write it `{{{ @content }}}` and accept it with or
# without whitespace inside the braces, as Mustachio reads every tag.
_CONTENT = re.compile(r"\{\{\{\s*@content\s*\}\}\}")


def find_template(call: Call) -> dict[str, Any]:
    key = call.params["templateIdOrAlias"]
    template = call.state.template(key)
    if template is None:
        field_name = "TemplateId" if key.isdigit() else "TemplateAlias"
        raise ApiError(
            1101, f"The '{field_name}' associated with this request is not valid or was not found."
        )
    return template


def _summary(t: dict[str, Any]) -> dict[str, Any]:
    return {
        k: t[k] for k in ("TemplateId", "Name", "Alias", "Active", "TemplateType", "LayoutTemplate")
    }


def _list_templates(call: Call) -> Any:
    q = call.query
    paging(q, 1100)
    kind = (q.get("TemplateType") or "All").lower()
    if kind not in ("all", "standard", "layout"):
        raise ApiError(1100, "TemplateType must be All, Standard or Layout.")
    layout = q.get("LayoutTemplate")
    rows = [
        {
            "Active": t["Active"],
            "TemplateId": t["TemplateId"],
            "Name": t["Name"],
            "Alias": t["Alias"],
            "TemplateType": t["TemplateType"],
            "LayoutTemplate": t["LayoutTemplate"],
        }
        for t in sorted(call.state.templates.values(), key=lambda t: t["TemplateId"])
        if kind in ("all", t["TemplateType"].lower()) and equals(t["LayoutTemplate"], layout)
    ]
    return page(rows, q, 1100, "Templates")


def _validate_template(call: Call) -> Any:
    """Validate and test-render; the suggested model comes from the {{variables}} used."""
    body = json_object(call.body)
    present = [
        (n, get(body, n))
        for n in ("HtmlBody", "TextBody", "Subject")
        if isinstance(get(body, n), str)
    ]
    if not present:
        raise ApiError(1120, "Provide at least one of Subject, HtmlBody or TextBody.")
    parsed: dict[str, list[mustachio.Tag]] = {}
    errors: dict[str, mustachio.TemplateSyntaxError] = {}
    for name, text in present:
        try:
            parsed[name] = mustachio.parse(text, strict=True)
        except mustachio.TemplateSyntaxError as exc:
            errors[name] = exc
    inferred = mustachio.suggested_model(mustachio.infer(*(t for n, t in present if n in parsed)))
    suggested = inferred if isinstance(inferred, dict) else {}  # `{{.}}` alone names no field
    test_model = get(body, "TestRenderModel")
    model = test_model if isinstance(test_model, dict) else suggested
    result: dict[str, Any] = {"AllContentIsValid": not errors}
    for name, _ in present:
        if name in errors:
            error = errors[name]
            result[name] = {
                "ContentIsValid": False,
                "ValidationErrors": [
                    {
                        "Message": error.message,
                        "Line": error.line,
                        "CharacterPosition": error.column,
                    }
                ],
                "RenderedContent": None,
            }
            continue
        try:
            rendered = mustachio.render(parsed[name], model, escape=name == "HtmlBody")
        except mustachio.RenderError as exc:
            # The content is valid; this test model cannot render it (a send with it bounces).
            result[name] = {
                "ContentIsValid": True,
                "ValidationErrors": [{"Message": str(exc), "Line": 1, "CharacterPosition": 1}],
                "RenderedContent": None,
            }
            continue
        if (
            name == "HtmlBody"
            and get(body, "InlineCssForHtmlTestRender", True) is not False
            and "<html" not in rendered.lower()
        ):
            rendered = f"<html><head></head><body>{rendered}</body></html>"
        result[name] = {"ContentIsValid": True, "ValidationErrors": [], "RenderedContent": rendered}
    result["SuggestedTemplateModel"] = None if errors else suggested
    return result


def _check_content(state: PostmarkState, t: dict[str, Any]) -> None:
    if not t["Name"]:
        raise ApiError(1120, "The 'Name' field is required.")
    if not (t["HtmlBody"] or t["TextBody"]):
        raise ApiError(1120, "Provide an HtmlBody or a TextBody.")
    if t["TemplateType"] == "Standard" and not t["Subject"]:
        raise ApiError(1120, "The 'Subject' field is required for a Standard template.")
    if t["TemplateType"] == "Layout":
        if t["Subject"]:
            raise ApiError(1123, "A layout may not have a Subject.")
        for name in ("HtmlBody", "TextBody"):
            if t[name] and len(_CONTENT.findall(t[name])) != 1:
                raise ApiError(
                    1131,
                    f"The layout {name} must contain the '{{{{{{@content}}}}}}' "
                    "placeholder exactly once.",
                )
    for name in ("Subject", "HtmlBody", "TextBody"):
        try:
            mustachio.parse(t[name], strict=True)
        except mustachio.TemplateSyntaxError as exc:
            raise ApiError(1122, f"The '{name}' is not a valid template: {exc.message}") from None
    if t["Alias"]:
        if not re.match(r"^[A-Za-z][\w.-]*$", t["Alias"]):
            raise ApiError(1122, f"Invalid template alias '{t['Alias']}'.")
        for other in state.templates.values():
            if other["TemplateId"] != t["TemplateId"] and (
                (other["Alias"] or "").lower() == t["Alias"].lower()
            ):
                raise ApiError(1122, f"A template with the alias '{t['Alias']}' already exists.")
    if t["LayoutTemplate"]:
        layout = state.template(t["LayoutTemplate"])
        if layout is None or layout["TemplateType"] != "Layout":
            raise ApiError(1101, f"The 'LayoutTemplate' '{t['LayoutTemplate']}' was not found.")


def _create_template(call: Call) -> Any:
    body = json_object(call.body)
    if not body:
        raise ApiError(1109, "No template data received.")
    kind = get(body, "TemplateType") or "Standard"
    if kind not in ("Standard", "Layout"):
        raise ApiError(1122, "TemplateType must be Standard or Layout.")
    if len(call.state.templates) >= 100:
        raise ApiError(1105, "The template limit (100) would be exceeded.")
    tid = call.state.new_id("template", max(call.state.templates, default=1236))
    template = records.template(tid, "", "", kind, None, None, "", "")
    template.update({k: get(body, k) for k in _TEMPLATE_FIELDS})
    _check_content(call.state, template)
    call.state.templates[tid] = template
    return _summary(template)


def _push_templates(call: Call) -> Any:
    """Copy aliased templates between servers; the simulator only holds templates for its own
    server, so other servers have none of their own (pushed aliases are remembered)."""
    body = json_object(call.body)
    source, dest = get(body, "SourceServerID"), get(body, "DestinationServerID")
    for value in (source, dest):
        if not isinstance(value, int) or value not in call.state.servers:
            raise ApiError(601, f"Server {value} does not exist.")
    templates = (
        sorted(call.state.templates.values(), key=lambda t: t["TemplateId"])
        if source == call.state.server_id
        else []
    )
    templates = [t for t in templates if t["Alias"]]
    if not templates:
        raise ApiError(1124, "There are no templates with an alias to push.")
    existing = (
        {(t["Alias"] or "").lower() for t in call.state.templates.values()}
        if dest == call.state.server_id
        else call.state.pushed.get(dest, set())
    )
    rows = [
        {
            "Action": "Edit" if t["Alias"].lower() in existing else "Create",
            "TemplateId": t["TemplateId"],
            "Alias": t["Alias"],
            "Name": t["Name"],
            "TemplateType": t["TemplateType"],
        }
        for t in templates
    ]
    if get(body, "PerformChanges") is True and dest != call.state.server_id:
        call.state.pushed.setdefault(dest, set()).update(t["Alias"].lower() for t in templates)
    return {"TotalCount": len(rows), "Templates": rows}


def _get_template(call: Call) -> Any:
    return dict(find_template(call))


def _edit_template(call: Call) -> Any:
    template = find_template(call)
    body = json_object(call.body)
    if not body:
        raise ApiError(1109, "No template data received.")
    kind = get(body, "TemplateType")
    if kind is not None and kind != template["TemplateType"]:
        raise ApiError(1122, "The TemplateType of a template cannot be changed.")
    edited = {**template, **{k: get(body, k) for k in _TEMPLATE_FIELDS if has(body, k)}}
    _check_content(call.state, edited)
    template.update(edited)
    return _summary(template)


def _delete_template(call: Call) -> Any:
    template = find_template(call)
    if (
        template["TemplateType"] == "Layout"
        and template["Alias"]
        and any(
            (t["LayoutTemplate"] or "").lower() == template["Alias"].lower()
            for t in call.state.templates.values()
        )
    ):
        raise ApiError(1130, "This layout cannot be deleted: templates use it.")
    del call.state.templates[template["TemplateId"]]
    return ok("Template removed.")


ROUTES = (
    route("GET", "/templates", _list_templates),
    route("POST", "/templates/validate", _validate_template),
    route("POST", "/templates", _create_template),
    route("PUT", "/templates/push", _push_templates, token="account"),
    route("GET", "/templates/{templateIdOrAlias}", _get_template),
    route("PUT", "/templates/{templateIdOrAlias}", _edit_template),
    route("DELETE", "/templates/{templateIdOrAlias}", _delete_template),
)
