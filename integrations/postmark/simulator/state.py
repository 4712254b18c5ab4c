"""Everything the simulator remembers, and a fresh copy of the seed to start from."""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from . import records
from .records import SEED, SERVER_ID


@dataclass
class PostmarkState:
    """Everything the simulator remembers; `PostmarkSimulator.reset()` rebuilds it from the
    seeds."""

    server_id: int
    servers: dict[int, dict[str, Any]]
    bounces: list[dict[str, Any]]
    bounce_content: dict[int, str]
    bounce_dumps: dict[int, str]
    templates: dict[int, dict[str, Any]]
    streams: dict[str, dict[str, Any]]
    suppressions: dict[str, list[dict[str, Any]]]
    webhooks: dict[int, dict[str, Any]]
    outbound: list[dict[str, Any]]
    opens: list[dict[str, Any]]
    clicks: list[dict[str, Any]]
    inbound: list[dict[str, Any]]
    inbound_rules: dict[int, dict[str, Any]]
    bulk: dict[str, dict[str, Any]]
    domains: dict[int, dict[str, Any]]
    senders: dict[int, dict[str, Any]]
    data_removals: dict[int, dict[str, Any]]
    pushed: dict[int, set[str]] = field(default_factory=dict)
    next_id: Counter[str] = field(default_factory=Counter)

    @property
    def server(self) -> dict[str, Any]:
        """The server the server token belongs to (`GET /server`); also in `servers`."""
        return self.servers[self.server_id]

    def new_id(self, kind: str, start: int) -> int:
        self.next_id[kind] = max(self.next_id[kind], start) + 1
        return self.next_id[kind]

    def template(self, key: str) -> dict[str, Any] | None:
        """A template by its ID (digits) or its alias (any letter case)."""
        if key.isdigit():
            return self.templates.get(int(key))
        wanted = key.lower()
        aliased = (t for t in self.templates.values() if t["Alias"])
        return next((t for t in aliased if t["Alias"].lower() == wanted), None)

    def stream(self, sid: str) -> dict[str, Any] | None:
        """A message stream by its ID (any letter case)."""
        return next((s for k, s in self.streams.items() if k.lower() == sid.lower()), None)


def seed_state(server_token: str) -> PostmarkState:
    """A fresh copy of the seeded data; nothing is shared with earlier copies."""
    c = copy.deepcopy
    servers = [
        records.server(**{"token": server_token, **row}) for row in SEED["servers"]
    ]  # the first has no token of its own: it is the server token's
    domains = [records.domain(**row) for row in SEED["domains"]]
    by_name = {d["Name"]: d for d in domains}
    senders = [
        records.sender(**row, domain=by_name[row["email"].split("@")[1]]) for row in SEED["senders"]
    ]
    return PostmarkState(
        server_id=SERVER_ID,
        servers={s["ID"]: s for s in servers},
        bounces=c(records.SEED_BOUNCES),
        bounce_content=dict(records.SEED_BOUNCE_CONTENT),
        bounce_dumps=dict(records.SEED_BOUNCE_DUMPS),
        templates={t["TemplateId"]: c(t) for t in records.SEED_TEMPLATES},
        streams={s["ID"]: c(s) for s in records.SEED_STREAMS},
        suppressions=c(records.SEED_SUPPRESSIONS),
        webhooks={w["ID"]: c(w) for w in records.SEED_WEBHOOKS},
        outbound=c(records.SEED_OUTBOUND),
        opens=c(records.SEED_OPENS),
        clicks=c(records.SEED_CLICKS),
        inbound=c(records.SEED_INBOUND),
        inbound_rules={r["ID"]: dict(r) for r in records.SEED_INBOUND_RULES},
        bulk=c(records.SEED_BULK),
        domains={d["ID"]: d for d in domains},
        senders={s["ID"]: s for s in senders},
        data_removals={r["ID"]: dict(r) for r in SEED["data_removals"]},
    )
