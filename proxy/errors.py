"""The errors yamcp raises, one type per failure a caller can act on."""

from __future__ import annotations

from typing import Any


class YamcpError(Exception):
    """Base of every error yamcp raises on purpose."""


class ConfigError(YamcpError):
    """A manifest, policy or accounts file is wrong: `file: path.to.key: reason`."""

    def __init__(self, file: str, path: str, reason: str) -> None:
        self.file = file
        self.path = path
        self.reason = reason
        where = f"{file}: {path}" if path else file
        super().__init__(f"{where}: {reason}")


class AccountRefused(YamcpError):
    """An account that cannot be connected: `errors` ({field, reason}s, the API's 422)
    when it is invalid, else `message` (the API's 409: its id is taken)."""

    def __init__(self, message: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class ToolArgumentError(YamcpError):
    """Arguments a tool cannot take; the message lists each bad field."""


class HookRefused(YamcpError):
    """An integration hook refused the call before it left. `code` is the upstream's own
    error code for what the hook caught (the code it answers a request naming a missing thing),
    so the agent sees the code the upstream would have answered."""

    def __init__(self, message: str, *, code: Any = None) -> None:
        super().__init__(message)
        self.code = code


class UpstreamFailure(YamcpError):
    """An upstream call that ended without a whole answer. `sent` says whether the
    upstream may have received the request: a model must not repeat a write blindly."""

    sent = True


class NotSent(UpstreamFailure):
    """The request never left: safe to try again."""

    sent = False


class ConnectError(NotSent):
    """The connection was refused, or its name did not resolve."""


class ConnectTimeout(NotSent):
    """No connection within YAMCP_CONNECT_TIMEOUT."""


class PoolTimeout(NotSent):
    """Every pooled connection stayed busy for YAMCP_POOL_TIMEOUT."""


class ReadTimeout(UpstreamFailure):
    """Sent, then no byte for YAMCP_READ_TIMEOUT."""


class WriteError(UpstreamFailure):
    """The connection failed while the request was being written."""


class ReadError(UpstreamFailure):
    """The connection failed after the request went out."""


class RemoteProtocolError(UpstreamFailure):
    """The answer was malformed or cut short."""


class CommandRefused(YamcpError):
    """`yamcp: ...` lines, exit 2: what the admin API answers 422 with."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("; ".join(lines))
        self.lines = lines


class ClientError(YamcpError):
    """A client or its request cannot be served; `error` is the RFC's code."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


class GrantError(YamcpError):
    """The token request cannot be honoured; `error` is RFC 6749's code, the text says why."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


class PageError(YamcpError):
    """Shown to the person, never sent to the client: who asked cannot be trusted."""

    def __init__(self, title: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.title, self.message, self.status = title, message, status


class ClientRedirect(YamcpError):
    """An error for the client, sent to its (checked) redirect URI."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class NextPageRefused(YamcpError):
    """The upstream named a next page yamcp will not fetch; the message says why."""


class StoreUnavailable(YamcpError):
    """The store cannot be reached; callers answer 503 and try again later."""


class AccountExists(YamcpError):
    """An account with this id is already stored."""


class AddressListError(YamcpError, ValueError):
    """A value that is not a clean RFC 5322 address list; the text says why."""
