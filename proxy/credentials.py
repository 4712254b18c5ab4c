"""An account's credentials on one upstream request, as its manifest's profile says.

Four shapes: a named header (`{header, secret, prefix}`), `Authorization: Bearer`,
HTTP Basic from one or two credentials, and a query parameter. A query credential is
added to the request's parameters only here, on its way out: it is never part of a URL
that yamcp logs, quotes in an error or uses as a metric label.
"""

from __future__ import annotations

from base64 import b64encode
from typing import Any

from .accounts import Account
from .errors import ToolArgumentError
from .manifest import CredentialProfile


def _value(account: Account, key: str) -> str:
    value = account.credentials.get(key)
    if value is None:
        raise ToolArgumentError(
            f"the account {account.id!r} has no {key!r} credential, "
            f"which this tool needs; add it to the accounts file"
        )
    return value


def apply_credential(
    profile: CredentialProfile,
    account: Account,
    headers: dict[str, str],
    params: dict[str, Any],
) -> None:
    """Put the profile's credential into `headers` or `params`, replacing whatever is there:
    neither a constant header nor an argument may stand in for it."""
    if profile.basic is not None:
        user = _value(account, profile.basic.username)
        password = _value(account, profile.basic.password) if profile.basic.password else ""
        pair = b64encode(f"{user}:{password}".encode()).decode("ascii")
        headers["authorization"] = f"Basic {pair}"
    elif profile.bearer is not None:
        headers["authorization"] = f"Bearer {_value(account, profile.bearer)}"
    elif profile.query is not None:
        params[profile.query] = _value(account, profile.secret or "")
    elif profile.header is not None:
        headers[profile.header.lower()] = (profile.prefix or "") + _value(
            account, profile.secret or ""
        )
