"""`yamcp approvals`: the calls waiting for a person, from a shell."""

from __future__ import annotations

import argparse
import sys

import orjson

from .common import print_json, settings_from, with_store


def cmd_approvals_list(args: argparse.Namespace) -> int:
    records = with_store(settings_from(args), lambda store: store.list_approvals(args.server_id))
    if args.status:
        records = [r for r in records if r.status == args.status]
    if args.json:
        print_json([r.public() for r in records])
        return 0
    for r in records:
        print(f"{r.id}  {r.status}  {r.server_id}  {r.summary}  until={r.expires_at.isoformat()}")
    if not records:
        print("no approval requests", file=sys.stderr)
    return 0


def cmd_approvals_show(args: argparse.Namespace) -> int:
    from ..approvals import approval_url

    settings = settings_from(args)
    record = with_store(settings, lambda store: store.get_approval(args.approval_id))
    if record is None:
        print(f"yamcp: no approval request {args.approval_id!r}", file=sys.stderr)
        return 1
    shown = {**record.public(), "url": approval_url(settings.public_url, record.id)}
    if args.json:
        print_json(shown)
        return 0
    for key in ("id", "status", "server_id", "account", "tool", "summary", "expires_at", "url"):
        print(f"{key}: {shown[key]}")
    if record.decided_by:
        print(f"decided_by: {record.decided_by}  note: {record.note or ''}")
    print("arguments: " + orjson.dumps(record.arguments.get("arguments", {})).decode())
    return 0


def cmd_approvals_decide(args: argparse.Namespace) -> int:
    """The operator at the shell decides as the admin does."""
    from ..approvals import decide

    record = with_store(
        settings_from(args),
        lambda store: decide(store, args.approval_id, args.approve, "admin (cli)", args.note),
    )
    if record is None:
        print(f"yamcp: no pending approval request {args.approval_id!r}", file=sys.stderr)
        return 1
    print(f"{record.status} {record.id}")
    return 0
