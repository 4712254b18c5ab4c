"""The errors yamcp raises, one type per failure a caller can act on."""

from __future__ import annotations


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


class ToolArgumentError(YamcpError):
    """Arguments a tool cannot take; the message lists each bad field."""


class HookRefused(YamcpError):
    """An integration hook refused the call before it left."""
