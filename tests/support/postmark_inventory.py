"""Postmark's endpoint inventory (tests/data/postmark_endpoints.tsv) and the Postmark tools of the registry."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator

from proxy.registry import Registry, load_registry
from proxy.tools import Tool
from tests.support.paths import DATA, ROOT

ENDPOINTS_FILE = DATA / "postmark_endpoints.tsv"


def endpoints() -> list[dict[str, str]]:
    with ENDPOINTS_FILE.open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def route(method: str, path: str) -> tuple[str, str]:
    """Method and path, with every `{param}` as `{}` and case ignored."""
    return method.upper(), re.sub(r"\{[^}]*\}", "{}", path).lower()


def registry() -> Registry:
    return load_registry([ROOT / "integrations"])


def postmark_tools(reg: Registry | None = None) -> Iterator[Tool]:
    reg = reg or registry()
    return (tool for tool in reg.tools.values() if tool.integration == "postmark")
