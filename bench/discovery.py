"""Discovery mode's retrieval, measured: the task set in bench/discovery_queries.yaml ranked
by search_tools over every tool of the integration. Prints top-1 and top-3 hit rates, the
misses, and the bytes of a search_tools answer. Not a test: the figures go in docs/discovery.md.

    python bench/discovery.py [--integration postmark] [--show-misses]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from proxy.discovery import ToolIndex  # noqa: E402
from proxy.forward import tool_result  # noqa: E402
from proxy.registry import load_registry  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--integration", default="postmark")
    parser.add_argument("--queries", type=Path, default=ROOT / "bench" / "discovery_queries.yaml")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    registry = load_registry([ROOT / "integrations"])
    tools = registry.integrations[args.integration].tools
    index = ToolIndex(dict(tools), frozenset())
    cases = yaml.safe_load(args.queries.read_text())[args.integration]
    top1 = top3 = 0
    sizes = []
    for query, expected in cases:
        assert expected in tools, expected
        found = index.search(query, 5)
        names = [f["name"] for f in found]
        sizes.append(len(orjson.dumps(tool_result({"tools": found}))))
        top1 += bool(names[:1] == [expected])
        top3 += expected in names[:3]
        if args.show_misses and names[:1] != [expected]:
            print(f"miss: {query!r}: want {expected}, got {names[:3]}")
    n = len(cases)
    print(f"{args.integration}: {len(tools)} tools, {n} tasks")
    print(f"top-1 {top1}/{n} = {top1 / n:.0%}, top-3 {top3}/{n} = {top3 / n:.0%}")
    print(f"search_tools answer (limit 5): median {sorted(sizes)[n // 2]} bytes, max {max(sizes)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
