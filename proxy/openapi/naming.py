"""Names: snake_case, singulars and plurals, resource names from paths, actions.

Singulars are a hand rule plus word lists. Measured on the 479 distinct path words of
Resend, DigitalOcean, Twilio's API 2010, SendGrid and the Petstore: the rule gets all but
the acronyms in _UNCHANGED right; `inflect` (7.6) and `inflection` (0.5) get the same
acronyms wrong (tls -> tl, dns -> dn, sms -> sm) and add errors of their own (data ->
datum, metadata -> metadatum, this -> thi, vs -> v), so neither earns a dependency.
"""

from __future__ import annotations

import re

from ..manifest import MethodKind
from ..tools import tool_name

MAX_TOOL_NAME = 64
KINDS: tuple[MethodKind, ...] = ("list", "get", "create", "update", "delete")

# Words that end in "s" and are already singular: acronyms whose S is a word (Transport
# Layer Security), mass nouns, and Latin/Greek endings.
_UNCHANGED = {
    "data", "metadata", "info", "media", "news", "series", "species", "status", "analytics",
    "tls", "ssl", "dns", "sms", "mms", "nfs", "saas", "paas", "iaas", "gps", "cors", "https",
    "kubernetes", "aws", "ios", "os", "sos", "this", "vs", "bps", "cas", "dangerous", "previous",
    "apns", "fcm", "gcs", "ms", "ns", "s3", "sas", "sns", "sqs", "ses", "kms", "eks", "ecs",
    "aks", "gke", "plus", "canvas", "gas", "alias", "always", "access", "less", "process",
}  # fmt: skip
_IRREGULAR = {
    "people": "person",
    "children": "child",
    "indices": "index",
    "men": "man",
    "women": "woman",
    "aliases": "alias",
    "statuses": "status",
    "caches": "cache",
    "analyses": "analysis",
    "bases": "base",
    "responses": "response",
    "licenses": "license",
    "releases": "release",
    "cases": "case",
    "databases": "database",
    "purchases": "purchase",
    "leases": "lease",
    "phases": "phase",
    "addresses": "address",
    "buses": "bus",
}
_PLURAL = {v: k for k, v in _IRREGULAR.items()}
_SKIP_SEGMENT = re.compile(
    r"^(api|rest|v\d+(\.\d+)*[a-z]*|\d+(\.\d+)*|\d{4}-\d{2}-\d{2})$", re.IGNORECASE
)
# An action segment at the end of a path, as the noun DESIGN.md's names use
# (`create_a_postmark_bounce_activation`); verbs without a plain noun stay as they are.
_ACTION_NOUNS = {
    "activate": "activation",
    "deactivate": "deactivation",
    "verify": "verification",
    "validate": "validation",
    "cancel": "cancellation",
    "rotate": "rotation",
    "publish": "publication",
    "authenticate": "authentication",
    "authorize": "authorization",
    "register": "registration",
    "subscribe": "subscription",
    "unsubscribe": "unsubscription",
    "install": "installation",
    "migrate": "migration",
    "resize": "resizing",
    "assign": "assignment",
    "unassign": "unassignment",
    "schedule": "scheduling",
}
# Last segments that name something a call does, not a thing it returns.
ACTION_VERBS = {
    *_ACTION_NOUNS,
    "login", "logout", "signin", "signout", "send", "resend", "retry", "test", "reset",
    "refresh", "revoke", "trigger", "run", "execute", "sync", "enable", "disable", "archive",
    "unarchive", "restore", "approve", "reject", "start", "stop", "pause", "resume", "reboot",
    "upgrade", "clone", "copy", "move", "search", "import", "export", "purge", "redeploy",
    "push", "bypass", "share", "duplicate",
}  # fmt: skip
AUTH_ACTIONS = {"login", "logout", "signin", "signout"}


def snake(text: str) -> str:
    """`PublicHolidays`, `X-Api-Token`, `Bounces API` -> snake_case."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(text))
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def singular(word: str) -> str:
    """Simple English: `countries` -> `country`, `addresses` -> `address`, `tls` -> `tls`."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word in _UNCHANGED or len(word) < 3 or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("zzes"):
        return word[:-3]
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def plural(word: str) -> str:
    """The plural of the last word of a snake_case name (`pet_by_status`: `pets_by_status`)."""
    if "_by_" in word:
        thing, _, by = word.partition("_by_")
        return f"{plural(thing)}_by_{by}"
    head, _, last = word.rpartition("_")
    head = f"{head}_" if head else ""
    if last in _PLURAL:
        return head + _PLURAL[last]
    if last in _UNCHANGED:
        return word  # `enforced_tls` stays
    if re.search(r"[^aeiou]y$", last):
        return head + last[:-1] + "ies"
    if last.endswith(("s", "x", "z", "ch", "sh")):
        return head + last + "es"
    return head + last + "s"


def singular_name(name: str) -> str:
    head, _, last = name.rpartition("_")
    return f"{head}_{singular(last)}" if head else singular(last)


# A tenant's own key in a literal segment (Box's `securityClassification-6VMVochwUWo`): a
# trailing run of letters and digits, mixed case and with a digit, after a hyphen.
_TENANT_KEY = re.compile(
    r"-(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Z])(?=[A-Za-z0-9]*[a-z])[A-Za-z0-9]{8,}$"
)


def _literal(segment: str) -> str:
    return _TENANT_KEY.sub("", re.sub(r"\.(json|xml)$", "", segment))


def static_segments(path: str) -> list[str]:
    """The path's static segments, without `.json` suffixes, tenant keys, API prefixes or
    versions."""
    segments = [s for s in path.strip("/").split("/") if s and "{" not in s]
    statics = [_literal(s) for s in segments]
    return [s for s in statics if not _SKIP_SEGMENT.match(s)]


def last_segment(path: str) -> str:
    """The last static segment, snake_case ('' when the path ends in a parameter)."""
    tail = path.rstrip("/").rsplit("/", 1)[-1]
    return "" if "{" in tail else snake(re.sub(r"\.(json|xml)$", "", tail))


def is_action(path: str) -> bool:
    """The path ends in a verb (`/user/logout`, `/broadcasts/{id}/send`), not a thing."""
    words = last_segment(path).split("_")
    return words[-1] in ACTION_VERBS or words[0] in ACTION_VERBS


def resource_names(path: str, verb: str, operation_id: str, kind: MethodKind) -> list[str]:
    """Candidate resource names for one operation, the best first."""
    segments = [s for s in path.strip("/").split("/") if s]
    statics = [_literal(s) for s in segments if "{" not in s]
    kept = [s for s in statics if not _SKIP_SEGMENT.match(s)]
    dropped = [snake(s) for s in statics if _SKIP_SEGMENT.match(s) and snake(s)]
    raw = [snake(s) for s in kept if snake(s)]
    if not raw:
        raw = [snake(operation_id) or "root"]
    words = [singular_name(w) for w in raw]
    finder = re.fullmatch(r"(?:find|get|search|list|fetch|query)_by_(\w+)", raw[-1])
    if finder and len(raw) > 1:  # /pet/findByStatus: pets by status
        words[-1] = f"by_{finder.group(1)}"
    crud = re.fullmatch(r"(?:create|add|get|list|find|update|delete|remove)_(\w+)", raw[-1])
    if crud and not finder and len(raw) > 1:  # /user/createWithList: the verb is the method's
        words[-1] = crud.group(1)
    last = raw[-1].split("_")[-1]
    if last in ACTION_VERBS:  # an action: say what it does, as a noun where there is one
        words[-1] = raw[-1].rsplit("_", 1)[0] + "_" if "_" in raw[-1] else ""
        words[-1] += _ACTION_NOUNS.get(last, last)
        if kind == "list":  # GET /search answering a list: its results
            words[-1] += "_result"
    base = "_".join(words)
    names = [base, *(f"{base}_{d}" for d in reversed(dropped)), "_".join(raw)]
    if operation_id and snake(operation_id):
        names.append(snake(operation_id))
    params = re.findall(r"{([^{}]+)}", path)
    if params:
        names.append(f"{base}_by_{snake(params[-1])}")
    names.append(f"{base}_{verb}")
    return list(dict.fromkeys(n for n in names if n))


def longest_tool_name(integration: str, name: str) -> int:
    return max(len(tool_name(integration, name, plural(name), kind)) for kind in KINDS)


def fit(integration: str, name: str) -> str:
    """Drop leading words until every tool name of the resource fits in 64 characters."""
    words = name.split("_")
    while len(words) > 1 and longest_tool_name(integration, "_".join(words)) > MAX_TOOL_NAME:
        words = words[1:]
    name = "_".join(words)
    while longest_tool_name(integration, name) > MAX_TOOL_NAME and len(name) > 1:
        name = name[:-1].rstrip("_")
    if longest_tool_name(integration, name) > MAX_TOOL_NAME:
        raise ValueError(f"integration name {integration!r} is too long for tool names")
    if not re.match(r"[a-z]", name):
        name = f"r_{name}"
    return name
