"""Prose from a spec, trimmed for a model: one line, no markup, a few sentences at most."""

from __future__ import annotations

import json
import re
from typing import Any

SHORT_DESCRIPTION = 300

_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
# An HTML tag, and only that: `Your Name <sender@domain.com>` is an address a model needs.
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(\s[^<>]*)?/?>")


def clean(text: Any) -> str:
    """Markdown links and HTML tags reduced to their text, whitespace to single spaces."""
    text = _MD_LINK.sub(r"\1", str(text or ""))
    text = _HTML_TAG.sub("", text)
    text = re.sub(r"[*`]{1,3}([^*`]+)[*`]{1,3}", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


def short(text: Any, limit: int = SHORT_DESCRIPTION) -> str:
    """At most `limit` characters, cut at a sentence end where there is one."""
    text = clean(text)
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    if end > limit // 3:
        return cut[: end + 1]
    return cut[: cut.rfind(" ")].rstrip(",;:") + "..."


def first_sentence(text: Any) -> str:
    text = clean(text)
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return match.group(1) if match else text


def first_paragraph(text: Any) -> str:
    paragraph = re.split(r"\n\s*\n", str(text or "").strip())[0]
    return short(paragraph)


def describe(op: dict[str, Any]) -> str:
    """An operation's summary (and its description's first sentence), or "" if it has none."""
    summary = clean(op.get("summary"))
    detail = first_sentence(op.get("description") or "")
    text = summary or detail
    if summary and detail and detail.lower() != summary.lower().rstrip("."):
        joined = f"{summary.rstrip('.')}. {detail}"
        if len(joined) <= SHORT_DESCRIPTION:
            text = joined
    text = short(text)
    if not text:
        return ""
    if text[-1] not in ".!?":
        text += "."
    if op.get("deprecated"):
        text += " Deprecated upstream."
    return text


def words_of(identifier: str) -> str:
    """`getProjectById` -> `Get project by id`: an operationId read as a sentence."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", identifier)
    spaced = re.sub(r"[_\-.]+", " ", spaced).strip().lower()
    return spaced[:1].upper() + spaced[1:]


def jmespath_key(key: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        return key
    return json.dumps(key)
