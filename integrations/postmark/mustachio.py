"""What a Postmark template reads from its model, by Mustachio's rules.

Postmark renders templates with Mustachio (ActiveCampaign/mustachio). Each rule below says
which of its behaviours it follows; file names are that repository's.

* Tags: `{{path}}`, `{{{path}}}`, `{{&path}}`, `{{#path}}`, `{{^path}}`, `{{/path}}`,
  `{{#each path}}`, `{{/each}}`, `{{! comment}}` (Tokenizer.cs, its tag regex and branches).
  `{{#x}}` or `{{^x}}` right inside an open `x` closes it and opens the new one: the
  "else" idiom `{{#x}}..{{^x}}..{{/x}}` (Tokenizer.cs, same-token scope check).
* Paths split on `.`; `../` steps to the parent context, and at the root stays there
  (ContextObject.cs, GetContextForPath). A lookup never falls back to an outer scope.
* A context's parent is the context its path was read from, so inside `{{#each a.b}}` one
  `../` is the list `a.b` itself (which has no fields) and `../../` is `a`
  (TemplateFixture.cs, TemplateRendersWithComplextEachPath). Mustachio's model inference
  (InferredTemplateModel.cs) counts one level fewer there; rendering is what gets sent,
  so these rules follow rendering.
* `{{#x}}` renders when x "exists": not null, false, 0, "" or an empty list or object;
  its content reads from x's value, and does not iterate a list (ContextObject.cs Exists,
  Parser.cs HandleElementOpen).
* `{{^x}}` renders when x does not exist; its content reads from x's (empty) value, so only
  `../` paths can have a value there (TemplateFixture.cs,
  TemplateShouldProcessVariablesInInvertedGroup).
* `{{#each x}}` renders nothing when x does not exist, even when absent; iterates a list;
  and fails to render when x is a non-empty string, an object, a number or true
  (Parser.cs HandleCollectionOpen, "is used like an array by the template").
* `{{x}}` prints nothing for a missing or null value, and nothing for a list or an object
  (Parser.cs HandleSingleValue, ContextObject.cs ToString's printable types).
* `{{{ pm:... }}}` and `{{{ @content }}}` are Postmark's own placeholders (unsubscribe
  links, a layout's content slot), added to Mustachio as token expanders (TokenExpander.cs);
  they read nothing from the model.

A path whose value can never be given (a field of a list, or read inside `{{^x}}` without
`../`) prints blank whatever the model says; no model can fix it, so it is not asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# Tokenizer.cs: "{{...}}" or "{{{...}}}" with no braces inside, the double form first.
_TAG = re.compile(r"(\{\{[^{}]+?\}\})|(\{\{\{[^{}]+?\}\}\})")
# Tokenizer.cs Validated: a path is word characters, '.', '/' ('{{> x}}' is not a path).
_PATH = re.compile(r"[\w./]+")
# ContextObject.cs / InferredTemplateModel.cs: path elements.
_ELEMENT = re.compile(r"(\.\.[\\/])|([^.]+)")


@dataclass
class Tag:
    """One piece of a template: a printed value, or a block with its content."""

    kind: str  # value | section | inverted | each
    path: str
    body: list[Tag] = field(default_factory=list)


def parse(text: str | None) -> list[Tag]:
    """The tags of a template. Lenient: Postmark refuses a malformed template when it is
    saved, so a stray close is skipped and an unclosed block runs to the end."""
    root: list[Tag] = []
    stack: list[tuple[str, list[Tag]]] = [("", root)]  # (opening token, its body)
    for match in _TAG.finditer(text or ""):
        raw = match.group(0)
        token = raw.strip("{}").strip()
        if raw.startswith("{{#each"):
            block = Tag("each", token.lstrip("#").strip()[4:].strip())
            stack[-1][1].append(block)
            stack.append((raw, block.body))
        elif raw.startswith(("{{#", "{{^")):
            name = token[1:].strip()
            if len(stack) > 1 and stack[-1][0] == name:
                stack.pop()  # {{#x}}..{{^x}}: closes x, opens the new block
            block = Tag("section" if raw.startswith("{{#") else "inverted", name)
            stack[-1][1].append(block)
            stack.append((name, block.body))
        elif raw.startswith("{{/"):
            name = token[1:].strip()
            top = stack[-1][0]
            if len(stack) > 1 and (top == name or (name == "each" and top.startswith("{{#"))):
                stack.pop()
        elif raw.startswith("{{!"):
            continue
        else:
            path = token.lstrip("&").strip()
            if path.startswith(("pm:", "@")) or not _PATH.fullmatch(path):
                continue  # Postmark's placeholders; a bad path Postmark refuses on save
            stack[-1][1].append(Tag("value", path))
    return root


def _elements(path: str) -> list[str]:
    return [m.group(0) for m in _ELEMENT.finditer(path)]


def exists(value: Any) -> bool:
    """ContextObject.cs Exists: JavaScript-like truthiness."""
    if value is None or value is False or value == "":
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0:
        return False
    return not (isinstance(value, (list, dict)) and not value)


# --- checking a model ------------------------------------------------------------------


@dataclass
class _Ctx:
    """A context as ContextObject.cs has it: a value, where it was read from, and whether
    fields read from it can be given at all (not a list, not an inverted block's value)."""

    value: Any
    where: str
    parent: _Ctx | None = None
    present: bool = True
    fillable: bool = True


def _name(where: str, element: str) -> str:
    return f"{where}.{element}" if where else element


def _resolve(ctx: _Ctx, path: str) -> _Ctx:
    for element in _elements(path):
        if element.startswith(".."):
            ctx = ctx.parent or ctx  # at the root, "../" stays there
            continue
        value = ctx.value.get(element) if isinstance(ctx.value, dict) else None
        present = isinstance(ctx.value, dict) and element in ctx.value
        fillable = ctx.fillable and not isinstance(ctx.value, list)
        ctx = _Ctx(value, _name(ctx.where, element), ctx, present, fillable)
    return ctx


def check(tags: list[Tag], model: Any) -> list[str]:
    """What would render blank or fail with this model, each as `path: why`."""
    problems: list[str] = []
    _check(tags, _Ctx(model if model is not None else {}, ""), problems)
    return list(dict.fromkeys(problems))


def _check(tags: list[Tag], ctx: _Ctx, problems: list[str]) -> None:
    for tag in tags:
        found = _resolve(ctx, tag.path)
        if tag.kind == "value":
            if found.where and found.fillable and not found.present:
                problems.append(f"{found.where}: missing")
            elif isinstance(found.value, (dict, list)):
                problems.append(f"{found.where}: a list or object, which prints nothing")
        elif tag.kind == "section":
            if exists(found.value):
                _check(tag.body, found, problems)
        elif tag.kind == "inverted":
            if not exists(found.value):
                blank = _Ctx(found.value, found.where, found.parent, found.present, False)
                _check(tag.body, blank, problems)
        elif exists(found.value):  # each
            if not isinstance(found.value, list):
                kind = "an object" if isinstance(found.value, dict) else "a single value"
                problems.append(
                    f"{found.where}: {{{{#each {tag.path}}}}} needs a list, but it is {kind}; "
                    "Postmark fails to render it"
                )
                continue
            listed = _Ctx(found.value, found.where, found.parent, True, False)
            for index, item in enumerate(found.value):
                _check(tag.body, _Ctx(item, f"{found.where}[{index}]", listed), problems)


# --- the model a template expects ----------------------------------------------------------


@dataclass
class _Node:
    """A model path the template reads, and how (InferredTemplateModel.cs UsedAs)."""

    key: str = ""
    parent: _Node | None = None
    uses: set[str] = field(default_factory=set)  # value | section | each
    children: dict[str, _Node] = field(default_factory=dict)
    item: _Node | None = None  # the fields of each list item, for `each`

    def child(self, key: str) -> _Node:
        if key not in self.children:
            self.children[key] = _Node(key, self)
        return self.children[key]


def infer(*texts: str | None) -> _Node:
    """Every model path these templates read where a model can give it."""
    root = _Node()
    for text in texts:
        _infer(parse(text), root, True)
    return root


def _locate(scope: _Node, fillable: bool, path: str) -> _Node | None:
    """The node a path names from scope, or None when no model can give it."""
    node: _Node | None = scope
    for element in _elements(path):
        if element.startswith(".."):
            node, fillable = (node.parent or node), True
            if "each-list" in node.uses:
                fillable = False  # the list itself: it has no fields
            continue
        if not fillable:
            return None
        node = node.child(element)
    return node


def _infer(tags: list[Tag], scope: _Node, fillable: bool) -> None:
    for tag in tags:
        node = _locate(scope, fillable, tag.path)
        if node is None:
            if tag.kind != "value":
                _infer(tag.body, scope, False)
            continue
        if tag.kind == "value":
            node.uses.add("value")
        elif tag.kind == "section":
            node.uses.add("section")
            _infer(tag.body, node, True)
        elif tag.kind == "inverted":
            node.uses.add("section")
            _infer(tag.body, node, False)
        else:
            node.uses.add("each")
            if node.item is None:
                node.item = _Node("[]", _Node(node.key, node.parent, {"each-list"}))
            _infer(tag.body, node.item, True)


def suggested_model(node: _Node) -> Any:
    """A model to fill in, shaped as Postmark's SuggestedTemplateModel
    (InferredTemplateModel.cs GetModelRepresentation): `name` -> "name_Value", a list of
    one item, or three "name_1".. values for a list of plain values."""
    if node.uses == {"value"}:
        return f"{node.key}_Value"
    if "each" in node.uses:
        item = node.item
        if item is not None and item.children:
            return [{k: suggested_model(v) for k, v in item.children.items()}]
        return [f"{node.key}_{i}" for i in (1, 2, 3)]
    return {k: suggested_model(v) for k, v in node.children.items()}


def required_paths(node: _Node, prefix: str = "") -> list[str]:
    """Paths that render blank when missing: values outside any `{{#x}}` block, and those in
    each item of a list (`items[].title`) when the list is given."""
    paths: list[str] = []
    for key, child in node.children.items():
        path = f"{prefix}{key}"
        if "value" in child.uses:
            paths.append(path)
        if "each" in child.uses and child.item is not None:
            paths += required_paths(child.item, f"{path}[].")
        if not child.uses or child.uses == {"value"}:
            paths += required_paths(child, f"{path}.")
    return paths
