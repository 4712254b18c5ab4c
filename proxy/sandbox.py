"""The sandbox: an integration's own simulator on loopback, and an account on it.

`yamcp serve --sandbox` needs nothing set up. An integration whose manifest names a
`sandbox:` module ships a stateful, in-memory simulator of its API; this module loads it,
serves it on 127.0.0.1 with a port the OS picks, in a thread of its own, and builds the
`sandbox` account pointing there. The account's base URL is that loopback address and
nothing else: no setting, accounts file or argument can point it at the real service.

The module's contract (docs/adding-an-integration.md):

* `sandbox_app()` returns an ASGI app, a fresh simulator with its seeded data;
* `CREDENTIALS` maps each secret the manifest's credential profiles name to the value the
  simulator accepts.

`yamcp serve --sandbox` also keeps to itself: its MCP servers live in a temporary SQLite
store (never `./data`, never a shared Redis), it reads no accounts file, and it mints one
URL with every tool the guardrails allow and one per named policy.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from .accounts import Account
from .errors import ConfigError
from .integration_package import load_file
from .policy import PolicySet, decide
from .servers import InvalidServer, ServerRequest, create_admin_token, create_server
from .settings import Settings
from .store import ServerConfig, open_store

if TYPE_CHECKING:
    import uvicorn

    from .registry import Integration, Registry

ACCOUNT_ID = "sandbox"


def with_sandbox(registry: Registry, name: str | None = None) -> Integration:
    """The integration whose sandbox to serve: `name`, or the only one that has one."""
    have = sorted(n for n, i in registry.integrations.items() if i.sandbox is not None)
    if name is not None:
        integration = registry.integrations.get(name)
        if integration is None or integration.sandbox is None:
            raise ConfigError(
                "--sandbox",
                name,
                f"no integration {name!r} ships a sandbox (have: {', '.join(have) or 'none'})",
            )
        return integration
    if len(have) != 1:
        raise ConfigError(
            "--sandbox",
            "",
            "no integration ships a sandbox"
            if not have
            else f"several integrations ship one: name it, --sandbox NAME ({', '.join(have)})",
        )
    return registry.integrations[have[0]]


def load_module(integration: Integration) -> ModuleType:
    """The integration's sandbox module, a module of its package (integration_package.py)."""
    assert integration.sandbox is not None
    try:
        return load_file(integration.name, integration.folder, integration.sandbox)
    except Exception as exc:
        raise ConfigError(str(integration.sandbox), "", f"failed to import: {exc!r}") from exc


class Sandbox:
    """One integration's simulator, served on loopback in a daemon thread."""

    def __init__(self, integration: Integration) -> None:
        module = load_module(integration)
        where = str(integration.sandbox)
        make = getattr(module, "sandbox_app", None)
        credentials = getattr(module, "CREDENTIALS", None)
        if not callable(make):
            raise ConfigError(where, "sandbox_app", "must be a function returning an ASGI app")
        needed = {s for profile in integration.credentials.values() for s in profile.secrets()}
        if not isinstance(credentials, dict) or set(credentials) != needed:
            raise ConfigError(
                where, "CREDENTIALS", f"must map exactly the manifest's secrets {sorted(needed)}"
            )
        self.integration = integration
        self.credentials = {str(k): str(v) for k, v in credentials.items()}
        self.app = make()
        self.url = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Sandbox:
        """Serve the simulator on 127.0.0.1 (the OS picks the port); wait until it is up."""
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            loop="asyncio",
            lifespan="off",
            ws="none",
            log_config=None,
            log_level="warning",
            access_log=False,
            proxy_headers=False,
            server_header=False,
        )
        self._server = uvicorn.Server(config)
        # uvicorn takes signals only in the main thread: yamcp's server; stop() ends this one.
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"sandbox-{self.integration.name}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the {self.integration.name} sandbox did not start")
            time.sleep(0.01)
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def account(self) -> Account:
        """The `sandbox` account: this simulator's loopback URL and credentials, always."""
        if not self.url:
            raise RuntimeError("start the sandbox first")
        return Account(
            id=ACCOUNT_ID,
            integration=self.integration.name,
            base_url=self.url,
            credentials=dict(self.credentials),
        )


def sandbox_settings(settings: Settings, data_dir: Path) -> Settings:
    """`settings` for a sandbox: its store in `data_dir` (a temporary folder), no accounts
    file read, one worker (the simulator and its account live in this process)."""
    return settings.model_copy(
        update={
            "data_dir": data_dir,
            "store_url": None,
            "accounts_file": data_dir / "accounts.yaml",  # never written: no accounts but ours
            "workers": 1,
        }
    )


async def sandbox_admin_token(settings: Settings) -> str:
    """An admin token of the sandbox's own (temporary) store: what a person types on an
    approval page to approve a sandbox call. It dies with the sandbox."""
    store = open_store(settings)
    try:
        return (await create_admin_token(store))[1]
    finally:
        await store.close()


async def mint_urls(
    settings: Settings, policies: PolicySet, integration: Integration
) -> list[tuple[str | None, str]]:
    """MCP URLs on the sandbox account: `(None, url)` with every tool the guardrails allow,
    then `(policy, url)` for each named policy that grants one of the integration's tools."""
    store = open_store(settings)
    urls: list[tuple[str | None, str]] = []
    try:
        for name in [None, *sorted(policies.named)]:
            config = ServerConfig(policy=name)
            if name is not None:
                effective = policies.effective(config)
                if not any(
                    decide(policies, effective, t).allowed for t in integration.tools.values()
                ):
                    continue
            request = ServerRequest(name=f"sandbox {name or 'all tools'}", config=config)
            try:
                created = await create_server(store, settings, policies, ACCOUNT_ID, request)
            except InvalidServer:
                continue  # an expired policy, say: nothing to hand out
            urls.append((name, created.url))
    finally:
        await store.close()
    return urls
