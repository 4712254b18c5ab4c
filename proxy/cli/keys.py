"""`yamcp keys rotate`: re-seal every stored credential under a new secret key."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import YamcpError
from .common import settings_from, with_store


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    """Re-seal every stored account credential under the primary key. With a key set
    (`YAMCP_SECRET_KEY=NEW,OLD`, or a key file whose first line is new), that is all; with
    the generated key file, first add a new primary line, then re-seal, then drop the
    old lines. Each record is rewritten whole, so a reader holding either key reads
    either version meanwhile."""
    from ..secrets import generated_key_path, load_box, new_key, write_key_file

    settings = settings_from(args)
    generated = settings.secret_key is None and settings.secret_key_file is None
    box = load_box(settings)
    old_ids = box.key_ids
    if generated:
        path = generated_key_path(settings)
        lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
        fresh = new_key()
        write_key_file(path, [fresh, *lines])
        box = load_box(settings)
        print(f"1/3 added new key {box.primary_id} as the first line of {path}")

    async def work(store: Any) -> tuple[int, int, list[str]]:
        resealed, unreadable = 0, []
        accounts = await store.list_accounts()
        for account in accounts:
            if not box.needs_reseal(account.sealed_credentials):
                continue
            try:
                credentials = box.open(account.id, account.sealed_credentials)
            except YamcpError:
                unreadable.append(account.id)
                continue
            sealed = box.seal(account.id, credentials)
            rewritten = account.model_copy(update={"sealed_credentials": sealed})
            resealed += await store.update_account(rewritten)
        return resealed, len(accounts), unreadable

    resealed, total, unreadable = with_store(settings, work)
    step = "2/3 " if generated else ""
    print(f"{step}re-sealed {resealed} of {total} account credentials under key {box.primary_id}")
    if unreadable:
        print(
            f"yamcp: {len(unreadable)} account(s) sealed under a key {box.source} does not "
            f"hold, left as they are: {', '.join(unreadable)}",
            file=sys.stderr,
        )
        return 1
    if generated:
        write_key_file(path, [fresh])
        dropped = [kid for kid in old_ids if kid != box.primary_id]
        print(f"3/3 dropped old key(s) {', '.join(dropped)} from {path}")
    return 0
