"""Postmark's templates by Mustachio's rules: what one reads from its model, and what it renders.

Postmark renders templates with Mustachio (ActiveCampaign/mustachio). Each rule below says
which of its behaviours it follows; file names are that repository's. The send checks
(hooks.py) use `parse`, `check` and `infer`; the sandbox (simulator/) also uses `parse(...,
strict=True)` to refuse a template as Postmark does when it is saved, and `render` to send
it: one reading of the rules, for both.

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
  (Parser.cs HandleSingleValue, ContextObject.cs ToString's printable types): a null is
  refused like a missing key. Numbers print as .NET's Double.ToString (10.0 is "10").
* `{{{ pm:... }}}` and `{{{ @content }}}` are Postmark's own placeholders (unsubscribe
  links, a layout's content slot), added to Mustachio as token expanders (TokenExpander.cs);
  they read nothing from the model.

A path whose value can never be given (read inside `{{^x}}` without `../`, one `../` inside
a top-level `{{#each}}`, `{{.}}` at the top) prints blank whatever the model says: the check
says so with the template change that would fill it, and asks the model for nothing there.
A field of a list the model gave (`{{#items}}{{name}}` over a list) prints blank too; the
check says to give an object or iterate with `{{#each}}`.

Rendering prints `{{x}}` HTML-escaped in an HtmlBody and `{{{x}}}`/`{{&x}}` as it is; a true
or false prints as .NET does ("True", "False"). A strict parse refuses what Postmark refuses
on save, with its line and column: a `{{` or `}}` that is no tag, an empty tag, a block or
`{{#each}}` without a path (`{{#eachItem}}` is one), a path that is not word characters,
'.' and '/' (`{{first-name}}`, `{{# each x}}`, `{{> partial}}`), a close that matches no
open or is not its block's name as written (`{{/each }}`), and a block left open.
"""

from __future__ import annotations

import html
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
    """One piece of a template: literal text, a printed value, a block with its content, or
    a layout's content slot (`{{{@content}}}`)."""

    kind: str  # text | value | section | inverted | each | content
    path: str  # the model path; a text's literal
    body: list[Tag] = field(default_factory=list)
    raw: bool = False  # a value printed as it is, not HTML-escaped: {{{x}}} or {{&x}}


class TemplateSyntaxError(ValueError):
    """A template Postmark refuses to save; `line` and `column` count from 1."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


class RenderError(ValueError):
    """Mustachio cannot render the template with this model (Parser.cs)."""


EACH_WITHOUT_PATH = (
    "The 'each' block being opened requires a model path to be specified in "
    "the form '{#each <name>}'."
)

_EMPTY_TAG = "Empty tag: a model path is required between the braces."


@dataclass
class _Open:
    """A block being read: its opening token, the body its tags go to, and where it began."""

    token: str
    body: list[Tag]
    block: Tag | None = None
    at: int = 0


def parse(text: str | None, *, strict: bool = False) -> list[Tag]:
    """The pieces of a template. Lenient by default: Postmark refuses a malformed template
    when it is saved, so a stray close is skipped and an unclosed block runs to the end.
    `strict` raises TemplateSyntaxError there instead, as Postmark does on save."""
    text = text or ""
    root: list[Tag] = []
    stack = [_Open("", root)]
    pos = 0
    for match in _TAG.finditer(text):
        _literal(text, pos, match.start(), stack[-1].body, strict)
        pos, at = match.end(), match.start()
        raw = match.group(0)
        token = raw.strip("{}").strip()
        if strict and not token:
            raise _syntax(text, _EMPTY_TAG, at)
        each = raw.startswith("{{#each") and raw[7:8].isspace()
        if raw.startswith("{{#each") and (each or strict):
            block = Tag("each", token.lstrip("#").strip()[4:].strip())
            if strict and not (each and block.path):  # `{{#eachItem}}` too (Tokenizer.cs)
                raise _syntax(text, EACH_WITHOUT_PATH, at)
            if strict and not _PATH.fullmatch(block.path):
                raise _syntax(text, _invalid_path(block.path), at)
            stack[-1].body.append(block)
            stack.append(_Open(raw, block.body, block, at))
        elif raw.startswith(("{{#", "{{^")):
            name = token[1:].strip()
            if strict and not name:
                raise _syntax(text, "A block must name a model path.", at)
            if strict and not _PATH.fullmatch(name):
                raise _syntax(text, _invalid_path(name), at)
            if len(stack) > 1 and stack[-1].token == name:
                stack.pop()  # {{#x}}..{{^x}}: closes x, opens the new block
            block = Tag("section" if raw.startswith("{{#") else "inverted", name)
            stack[-1].body.append(block)
            stack.append(_Open(name, block.body, block, at))
        elif raw.startswith("{{/"):
            name = token[1:].strip()
            top = stack[-1].token
            # Mustachio compares a close with its block's name as written: `{{/each }}`
            # closes nothing (Tokenizer.cs)
            exact = not strict or raw.strip("{}")[1:] == name
            if (
                exact
                and len(stack) > 1
                and (top == name or (name == "each" and top.startswith("{{#")))
            ):
                stack.pop()
            elif strict and len(stack) == 1:
                message = f"The closing element '{{{{/{name}}}}}' has no opening element."
                raise _syntax(text, message, at)
            elif strict:
                message = "It appears that open and closing elements are mismatched."
                raise _syntax(text, message, at)
        elif raw.startswith("{{!"):
            continue
        else:
            path = token.lstrip("&").strip()
            if path.startswith("@"):
                stack[-1].body.append(Tag("content", path))
            elif not path.startswith("pm:") and _PATH.fullmatch(path):
                unescaped = raw.startswith("{{{") or token.startswith("&")
                stack[-1].body.append(Tag("value", path, raw=unescaped))
            elif strict and not path.startswith("pm:"):  # `{{first-name}}`, `{{> partial}}`
                raise _syntax(text, _invalid_path(path), at)
            # else: Postmark's own placeholders, or a path Postmark refuses on save
    _literal(text, pos, len(text), stack[-1].body, strict)
    if strict and len(stack) > 1:
        open_ = stack[-1]
        path = open_.block.path if open_.block is not None else ""
        message = (
            f"A scope block to the following path was opened but not closed: '{path}', "
            "please close it using the appropriate syntax."
        )
        raise _syntax(text, message, open_.at)
    return root


def _invalid_path(path: str) -> str:
    return f"The path '{path}' is not valid. Please see documentation for examples of valid paths."


def _literal(text: str, start: int, end: int, body: list[Tag], strict: bool) -> None:
    """Text between tags; a strict parse refuses a `{{` or `}}` in it that is no tag, and a
    `{` right before a tag (a `{{{` not closed by `}}}`)."""
    if start == end:
        return
    if strict:
        opens = text.find("{{", start, min(end + 1, len(text)))
        closes = text.find("}}", start, end)
        if closes >= 0 and (opens < 0 or closes < opens):
            raise _syntax(text, "Unexpected '}}' without a matching '{{'.", closes)
        if opens >= 0:
            triple = text.startswith("{{{", opens)
            opener, closer = ("{{{", "}}}") if triple else ("{{", "}}")
            close = text.find(closer, opens + len(opener))
            inner = text[opens + len(opener) : close]
            if close < 0:
                message = f"A tag was opened with '{opener}' but never closed with '{closer}'."
                raise _syntax(text, message, opens)
            if "{" in inner or "}" in inner:
                raise _syntax(text, "Unbalanced braces in a tag.", opens)
            if not inner.strip():
                raise _syntax(text, _EMPTY_TAG, opens)
    body.append(Tag("text", text[start:end]))


def _syntax(text: str, message: str, index: int) -> TemplateSyntaxError:
    line = text.count("\n", 0, index) + 1
    return TemplateSyntaxError(message, line, index - (text.rfind("\n", 0, index) + 1) + 1)


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

# What no model can fill: the agent is told so, with the template change that would.
ALWAYS_BLANK = "prints blank whatever the model holds"


@dataclass
class _Ctx:
    """A context as ContextObject.cs has it: a value, where it was read from, and `blank`:
    why a field read from it prints blank whatever it is given (a list has no fields; an
    inverted block's value is empty), or "" when a model can give it. A `<path>` in
    `blank` stands for the path of the tag that reads the field."""

    value: Any
    where: str
    parent: _Ctx | None = None
    present: bool = True
    blank: str = ""


def _name(where: str, element: str) -> str:
    return f"{where}.{element}" if where else element


def _resolve(ctx: _Ctx, path: str) -> _Ctx:
    for element in _elements(path):
        if element.startswith(".."):
            ctx = ctx.parent or ctx  # at the root, "../" stays there
            continue
        value = ctx.value.get(element) if isinstance(ctx.value, dict) else None
        present = isinstance(ctx.value, dict) and element in ctx.value
        blank = ctx.blank
        if not blank and isinstance(ctx.value, list):
            blank = f"prints blank: {ctx.where or 'the model'} is a list, which has no fields"
        ctx = _Ctx(value, _name(ctx.where, element), ctx, present, blank)
    return ctx


def check(tags: list[Tag], model: Any) -> list[str]:
    """What would render blank or fail with this model, each as `path: why`."""
    problems: list[str] = []
    _check(tags, _Ctx(model if model is not None else {}, ""), problems)
    return list(dict.fromkeys(problems))


def _check(tags: list[Tag], ctx: _Ctx, problems: list[str]) -> None:
    for tag in tags:
        if tag.kind in ("text", "content"):
            continue
        found = _resolve(ctx, tag.path)
        if tag.kind == "value":
            _check_value(tag, ctx, found, problems)
        elif tag.kind == "section":
            if isinstance(found.value, list) and found.value:  # exists, and is read once
                why = (
                    f"prints blank: {{{{#{tag.path}}}}} does not loop: it reads the list "
                    f"{found.where}, which has no fields; give {found.where} as an object, or "
                    f"iterate the list with {{{{#each {tag.path}}}}}"
                )
                found = _Ctx(found.value, found.where, found.parent, found.present, why)
            if exists(found.value):
                _check(tag.body, found, problems)
        elif tag.kind == "inverted":
            if not exists(found.value):
                why = found.blank or (
                    f"{ALWAYS_BLANK}: inside {{{{^{tag.path}}}}} a path reads from "
                    f"{found.where}, which is empty there; {{{{../<path>}}}} reads from the "
                    "context around it"
                )
                empty = _Ctx(found.value, found.where, found.parent, found.present, why)
                _check(tag.body, empty, problems)
        elif exists(found.value):  # each
            if not isinstance(found.value, list):
                kind = "an object" if isinstance(found.value, dict) else "a single value"
                problems.append(
                    f"{found.where}: {{{{#each {tag.path}}}}} needs a list, but it is {kind}; "
                    "Postmark fails to render it"
                )
                continue
            why = found.blank or (
                f"{ALWAYS_BLANK}: one ../ inside {{{{#each {tag.path}}}}} is the list "
                f"{found.where} itself, which has no fields; {{{{../<path>}}}} reads from the "
                "context around the list"
            )
            listed = _Ctx(found.value, found.where, found.parent, True, why)
            for index, item in enumerate(found.value):
                _check(tag.body, _Ctx(item, f"{found.where}[{index}]", listed), problems)


def _check_value(tag: Tag, ctx: _Ctx, found: _Ctx, problems: list[str]) -> None:
    """`{{path}}` prints a value that is there and not null, and is no list or object
    (Parser.cs HandleSingleValue, ContextObject.cs ToString)."""
    reads_a_field = found is not ctx and any(
        not element.startswith("..") for element in _elements(tag.path)
    )
    if reads_a_field and found.blank:
        problems.append(f"{found.where}: {found.blank.replace('<path>', tag.path)}")
    elif not found.where and isinstance(found.value, dict):
        problems.append(
            f"{{{{{tag.path}}}}}: {ALWAYS_BLANK}: at the top of the template it is the whole "
            "model, an object, which prints nothing"
        )
    elif reads_a_field and not found.present:
        problems.append(f"{found.where}: missing")
    elif found.where and found.value is None and found.present:
        problems.append(f"{found.where}: null, which prints nothing")
    elif isinstance(found.value, (dict, list)):
        problems.append(f"{found.where}: a list or object, which prints nothing")


# --- rendering ----------------------------------------------------------------------------


def render(tags: list[Tag], model: Any, *, escape: bool) -> str:
    """The template as Postmark sends it with this model; raises RenderError where Mustachio
    fails to render. `escape` HTML-escapes `{{x}}` (an HtmlBody). A layout's content comes
    in through `with_layout`; an unfilled `{{{@content}}}` prints nothing."""
    return _render(tags, _Ctx(model if model is not None else {}, ""), escape)


def _render(tags: list[Tag], ctx: _Ctx, escape: bool) -> str:
    out: list[str] = []
    for tag in tags:
        if tag.kind in ("text", "content"):
            out.append(tag.path if tag.kind == "text" else "")
        elif tag.kind == "value":
            text = _printable(_resolve(ctx, tag.path).value)
            out.append(html.escape(text) if escape and not tag.raw else text)
        else:
            found = _resolve(ctx, tag.path)
            if tag.kind == "section":  # Parser.cs HandleElementOpen: once, no iteration
                if exists(found.value):
                    out.append(_render(tag.body, found, escape))
            elif tag.kind == "inverted":
                if not exists(found.value):
                    out.append(_render(tag.body, found, escape))
            elif exists(found.value):  # each: Parser.cs HandleCollectionOpen
                if not isinstance(found.value, list):
                    raise RenderError(
                        f"'{tag.path}' is used like an array by the template, but is a "
                        "scalar value or object in your model."
                    )
                for item in found.value:
                    out.append(_render(tag.body, _Ctx(item, "", found), escape))
    return "".join(out)


def _printable(value: Any) -> str:
    """ContextObject.cs ToString: plain values print; null, lists and objects print nothing."""
    if value is None or isinstance(value, dict | list):
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"  # .NET's Boolean.ToString()
    if isinstance(value, float):  # .NET's Double.ToString(): 10.0 -> "10", 1e21 -> "1E+21"
        text = repr(value).removesuffix(".0")
        return text.upper() if "e" in text else text
    return str(value)


# --- the model a template expects ----------------------------------------------------------


@dataclass
class _Node:
    """A model path the template reads, and how (InferredTemplateModel.cs UsedAs)."""

    key: str = ""
    parent: _Node | None = None
    uses: set[str] = field(default_factory=set)  # value | value-unless | self | section | each
    children: dict[str, _Node] = field(default_factory=dict)
    item: _Node | None = None  # the fields of each list item, for `each`
    # Printed only inside `{{^x}}` (read there with `../`): each entry the x's of one such
    # read, any of which, given, makes the value unneeded.
    unless: list[tuple[_Node, ...]] = field(default_factory=list)

    def child(self, key: str) -> _Node:
        if key not in self.children:
            self.children[key] = _Node(key, self)
        return self.children[key]


def with_layout(layout: list[Tag], content: list[Tag]) -> list[Tag]:
    """A layout with a template's content in it: Mustachio splices the content's tokens in
    at `{{{@content}}}`, so they read from the scope the placeholder is in
    (`{{#brand}}{{{@content}}}{{/brand}}` makes the content's `{{name}}` read `brand.name`)."""
    spliced: list[Tag] = []
    for tag in layout:
        if tag.kind == "content":
            spliced += content
        elif tag.body:
            spliced.append(Tag(tag.kind, tag.path, with_layout(tag.body, content), tag.raw))
        else:
            spliced.append(tag)
    return spliced


def infer(*templates: str | list[Tag] | None) -> _Node:
    """Every model path these templates (texts, or parsed ones) read where a model can
    give it."""
    root = _Node()
    for template in templates:
        _infer(template if isinstance(template, list) else parse(template), root, True)
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


def _infer(tags: list[Tag], scope: _Node, fillable: bool, unless: tuple[_Node, ...] = ()) -> None:
    for tag in tags:
        if tag.kind in ("text", "content"):
            continue
        node = _locate(scope, fillable, tag.path)
        if node is None:
            if tag.kind != "value":
                _infer(tag.body, scope, False, unless)
            continue
        if tag.kind == "value":
            if node is scope and "section" in node.uses:
                node.uses.add("self")  # `{{#x}}{{.}}{{/x}}`: printed only when x is there
            elif unless:
                node.uses.add("value-unless")
                node.unless.append(unless)
            else:
                node.uses.add("value")
        elif tag.kind == "section":
            node.uses.add("section")
            _infer(tag.body, node, True, unless)
        elif tag.kind == "inverted":
            node.uses.add("section")
            _infer(tag.body, node, False, (*unless, node))
        else:
            node.uses.add("each")
            if node.item is None:
                node.item = _Node("[]", _Node(node.key, node.parent, {"each-list"}))
            _infer(tag.body, node.item, True, unless)


def suggested_model(node: _Node) -> Any:
    """A model to fill in, shaped as Postmark's SuggestedTemplateModel
    (InferredTemplateModel.cs GetModelRepresentation): `name` -> "name_Value", a list of
    one item, or three "name_1".. values for a list of plain values."""
    printed = node.uses & {"value", "value-unless", "self"}
    if printed and "each" not in node.uses and not node.children:
        return f"{node.key}_Value"
    if "each" in node.uses:
        item = node.item
        if item is not None and (item.children or "each" in item.uses):
            return [suggested_model(item)]  # an item that is itself iterated: `{{#each .}}`
        return [f"{node.key}_{i}" for i in (1, 2, 3)]
    return {k: suggested_model(v) for k, v in node.children.items()}


def required_paths(node: _Node, prefix: str = "") -> list[str]:
    """Paths that render blank when missing: values outside any `{{#x}}` block, and those in
    each item of a list (`items[].title`) when the list is given. A value printed only
    inside `{{^x}}` is not among them: `required_one_of` names it with its x."""
    paths: list[str] = []
    for key, child in node.children.items():
        path = f"{prefix}{key}"
        if "value" in child.uses:
            paths.append(path)
        if "each" in child.uses and child.item is not None:
            paths += _item_paths(child.item, f"{path}[]")
        if not child.uses or child.uses == {"value"}:
            paths += required_paths(child, f"{path}.")
    return paths


def _item_paths(item: _Node, prefix: str) -> list[str]:
    """What each item of a list must hold, and each item's items' when the item is itself
    iterated (`{{#each .}}`: `rows[][].cell`)."""
    paths = required_paths(item, f"{prefix}.")
    if "each" in item.uses and item.item is not None:
        paths += _item_paths(item.item, f"{prefix}[]")
    return paths


def required_one_of(node: _Node) -> list[list[str]]:
    """Groups of paths of which the model needs one: a value printed only inside `{{^x}}`
    with its x's (the FAQ's `{{#name}}{{.}}{{/name}}{{^name}}{{../job_title}}{{/name}}`
    needs name or job_title)."""
    groups: list[list[str]] = []
    for child in node.children.values():
        if "value-unless" in child.uses and "value" not in child.uses:
            for conditions in child.unless:
                group = [*(_path(c) for c in conditions), _path(child)]
                if group not in groups:
                    groups.append(group)
        if not child.uses or child.uses <= {"value", "value-unless"}:
            groups += required_one_of(child)
    return groups


def _path(node: _Node) -> str:
    parts: list[str] = []
    while node.parent is not None:
        parts.append(node.key)
        node = node.parent
    return ".".join(reversed(parts))
