"""The OpenAPI importer's scorecard: how often `yamcp import-openapi` gets it right unedited.

Imports each document of tests/e2e/test_real_specs.py's ENTRY and prints one row per API
(operations, tools, lists by paging style, review lines, skipped), then checks a
hand-labelled sample of its operations (bench/scorecard_labels/<spec>.yaml, written from
the documents, not from the importer) for four answers: paging, auth, body and access.
A label's `paging` may list several answers that each read the whole list; `skipped: true`
says the right import is no tool (a `skipped:` line names the operation). An answer is
right (matches the label), flagged (wrong, or in doubt by `review: true` / `review: <field>`,
but a review line names the operation and speaks of that answer, or it was skipped) or
silently wrong: those are listed at the end, the importer's bugs to fix (`-v` lists the
flagged ones too). A report, not a test: it always exits 0.

    python bench/scorecard.py [-v]
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from proxy.openapi import ImportResult, import_openapi, load_spec  # noqa: E402
from tests.e2e.test_real_specs import ENTRY  # noqa: E402

LABELS = ROOT / "bench" / "scorecard_labels"
FIELDS = ("paging", "auth", "body", "access")
OUTCOMES = ("right", "flagged", "wrong")
# The loader's paging defaults and the keys that belong to one style (proxy/registry.py).
DEFAULTS = {
    "style": "offset",
    "limit_param": "limit",
    "offset_param": "offset",
    "page_param": "page",
}
STYLE_KEYS = ("cursor_param", "next_cursor", "has_more", "cursor_field", "next_url")
NAMED = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE) (/[^\s:,;()]*)")
# What a review line about each answer speaks of ("no summary" lines name every operation).
ABOUT = {
    "paging": re.compile(r"pag|cursor|list|items|answer"),
    "auth": re.compile(r"credential|security|token|auth"),
    "body": re.compile(r"body|form|multipart|encoding"),
    "access": re.compile(r"write|read|destructive|acts|access"),
}


def shape(path: str) -> str:
    """`/a/{x}/b` -> `/a/{}/b`: a path with its parameters' names dropped."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def words(text: str) -> set[str]:
    verbs = {"get", "put", "post", "patch"}
    return {w.rstrip("s") for w in re.split(r"[^a-z0-9]+", text.lower()) if w} - verbs


def find(manifest: dict[str, Any], op: str) -> tuple[str, dict[str, Any]] | str:
    """(method kind, method) for the document's `VERB /path#fragment`, or why there is none."""
    verb, _, key = op.partition(" ")
    path, _, fragment = key.partition("#")
    found = [
        (rname, kind, m)
        for rname, resource in manifest.get("resources", {}).items()
        for kind, m in resource.get("methods", {}).items()
        if m["http"].split(" ", 1)[0] == verb
        and shape(m["http"].split(" ", 1)[1].partition("#")[0]) == shape(path)
    ]
    if len(found) > 1:  # Box's fragments: the resource named by the fragment's words
        own, around = words(fragment), words(re.sub(r"\{[^}]*\}", "", path))
        scores = [len(words(r) & own) - len(words(r) - own - around) for r, _, _ in found]
        best = [f for f, s in zip(found, scores, strict=True) if s == max(scores)]
        found = best if len(best) == 1 else found
    if len(found) != 1:
        return f"({len(found)} methods match)" if found else "(no method)"
    return found[0][1], found[0][2]


def paging(manifest: dict[str, Any], kind: str, method: dict[str, Any]) -> dict[str, Any] | None:
    """A list method's effective paging, as the loader merges it; None for other methods."""
    if kind != "list":
        return None
    merged: dict[str, Any] = dict(DEFAULTS)
    for layer in (manifest.get("pagination") or {}, method.get("pagination") or {}):
        given = {k: v for k, v in layer.items() if v is not None}
        if given.get("style", merged["style"]) != merged["style"]:
            for key in STYLE_KEYS:
                merged.pop(key, None)
        merged.update(given)
    return merged


def auth(manifest: dict[str, Any], method: dict[str, Any]) -> str:
    profiles = manifest.get("credentials") or {}
    if not profiles or method.get("credential") is False:  # false: sent with none
        return "none"
    p = profiles.get(method.get("credential") or next(iter(profiles)), {})
    prefix = str(p.get("prefix") or "")
    if "bearer" in p or (str(p.get("header")).lower(), prefix.strip()) == (
        "authorization",
        "Bearer",
    ):
        return "bearer"
    if "basic" in p or "query" in p:
        return "basic" if "basic" in p else f"query:{p['query']}"
    return f"header:{p.get('header')}" + (f" prefix {prefix!r}" if prefix else "")


def answers(manifest: dict[str, Any], kind: str, method: dict[str, Any]) -> dict[str, Any]:
    has_body = "body" in method or "body_from" in method
    return {
        "paging": paging(manifest, kind, method),
        "auth": auth(manifest, method),
        "body": method.get("body_encoding", "json") if has_body else "none",
        "access": method.get("access") or ("read" if kind in ("list", "get") else "write"),
    }


def alternatives(want: Any) -> list[Any]:
    return want if isinstance(want, list) else [want]


def same(want: Any, got: Any) -> bool:
    if not isinstance(want, dict) or not isinstance(got, dict):
        return want == got
    return all(got.get(k) == v for k, v in want.items())


def show(value: Any, keys: list[str]) -> str:
    if not isinstance(value, dict):
        return "not a list" if value is None else str(value)
    return "{" + ", ".join(f"{k}: {value.get(k)}" for k in keys or value if k in value) + "}"


def score(spec: str, result: ImportResult, tally: Counter, report: dict[str, list[str]]) -> None:
    """Count each labelled answer of one document right, flagged or wrong."""
    lines: dict[tuple[str, str], list[str]] = {}
    for line in result.review + [f"{s} skipped" for s in result.skipped]:
        for verb, path in NAMED.findall(line):
            lines.setdefault((verb, shape(path)), []).append(line)
    unprefixed = any(r.startswith("security scheme") and "prefix" in r for r in result.review)
    for label in yaml.safe_load((LABELS / f"{spec}.yaml").read_text())["operations"]:
        verb, _, key = label["op"].partition(" ")
        named = lines.get((verb, shape(key)), [])
        match = find(result.manifest, label["op"])
        got = answers(result.manifest, *match) if isinstance(match, tuple) else None
        want = {f: label.get(f) for f in FIELDS}
        want["auth"] = str(label["auth"]) + (
            f" prefix {label['prefix']!r}" if "prefix" in label else ""
        )
        # `skipped: true`: the right import is no tool at all, with a skipped line saying why
        # (Box's OAuth token endpoints: what they hand out, the account already holds).
        skipped = label.get("skipped") is True and got is None
        skipped = skipped and any(s.startswith(label["op"] + " (") for s in result.skipped)
        for field in FIELDS:
            value = got[field] if got else match
            ok = skipped or (
                got is not None and any(same(w, value) for w in alternatives(want[field]))
            )
            flag = any(ABOUT[field].search(x) or x.endswith(" skipped") for x in named)
            if field == "auth" and got and unprefixed:  # "set the profile's `prefix`"
                flag = flag or str(value).split(" prefix ")[0] == want[field].split(" prefix ")[0]
            doubt = label.get("review") in (True, field) and not skipped
            outcome = "flagged" if flag and (doubt or not ok) else "right" if ok else "wrong"
            tally[(field, outcome)] += 1
            if outcome == "right" or (got is None and field != "paging"):
                continue
            keys = [k for w in alternatives(want[field]) if isinstance(w, dict) for k in w]
            wanted = " or ".join(show(w, keys) for w in alternatives(want[field]))
            what = f"{field:<7} expected {wanted}, got {show(value, list(dict.fromkeys(keys)))}"
            if got is None:
                what = f"all     got {match}"
            report[outcome].append(f"{spec:<23} {label['op']:<48} {what}")


def cell(counts: Counter, field: str) -> str:
    right, flagged, wrong = (counts[(field, o)] for o in OUTCOMES)
    n = right + flagged + wrong
    share = 100 * right // n if n else 0  # rounded down: 256/257 is not 100 %
    return f"{field} {right}/{n} {share} % ({flagged} fl, {wrong} wr)"


def main() -> int:
    tally: dict[str, Counter] = {}
    report: dict[str, list[str]] = {"flagged": [], "wrong": []}
    print(
        f"{'spec':<23} {'ops':>4} {'tools':>5} {'review':>6} {'skipped':>7}  lists by paging style"
    )
    for spec, path in ENTRY.items():
        result = import_openapi([load_spec(Path(path))], spec)
        styles = Counter(
            (paging(result.manifest, kind, m) or {}).get("style")
            for resource in result.manifest.get("resources", {}).values()
            for kind, m in resource["methods"].items()
            if kind == "list"
        )
        by_style = ", ".join(f"{s} {n}" for s, n in styles.most_common()) or "no lists"
        print(
            f"{spec:<23} {result.operations:>4} {result.tools:>5} {len(result.review):>6} "
            f"{len(result.skipped):>7}  {by_style}"
        )
        tally[spec] = Counter()
        if (LABELS / f"{spec}.yaml").exists():
            score(spec, result, tally[spec], report)
    tally["overall"] = sum(tally.values(), Counter())
    print("\nlabelled sample: right with no edit/n, % (flagged by a review line, silently wrong)")
    for spec, counts in tally.items():
        n = sum(counts[("paging", o)] for o in OUTCOMES)
        print(f"{spec:<23} {n:>3} ops  " + " | ".join(cell(counts, f) for f in FIELDS))
    for outcome in ("flagged", "wrong") if "-v" in sys.argv else ("wrong",):
        print(f"\n{'silently ' * (outcome == 'wrong')}{outcome} ({len(report[outcome])}):")
        print("\n".join(report[outcome]) or "none")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
