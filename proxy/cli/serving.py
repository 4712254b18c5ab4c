"""`yamcp serve`, on the configured upstreams or on an integration's sandbox."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from ..settings import Settings
from .common import settings_from


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from ..app import create_app
    from ..logs import configure

    settings = settings_from(args)
    configure(settings.log_level, settings.log_format)
    if args.sandbox is not None:
        return _serve_sandbox(args, settings)
    app = create_app(settings)  # fails here, with file and key, before binding a port
    options = _serve_options(args, settings)
    if settings.workers > 1:
        # Each worker builds its own app from the same environment.
        os.environ["YAMCP_HOST"], os.environ["YAMCP_PORT"] = settings.host, str(settings.port)
        uvicorn.run("proxy.app:create_app", factory=True, workers=settings.workers, **options)
    else:
        uvicorn.run(app, **options)
    return 0


def _serve_options(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    return {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "access_log": args.access_log,
        "server_header": False,
        "proxy_headers": False,
        "timeout_graceful_shutdown": settings.shutdown_grace_seconds,
    }


def _serve_sandbox(args: argparse.Namespace, settings: Settings) -> int:
    """`yamcp serve --sandbox [INTEGRATION]`: the integration's simulator on loopback, the
    `sandbox` account on it, and ready URLs printed once serving (proxy/sandbox.py)."""
    import shutil
    import tempfile

    import uvicorn

    from ..app import create_app
    from ..policy import load_policies
    from ..registry import load_registry
    from ..sandbox import (
        ACCOUNT_ID,
        Sandbox,
        mint_urls,
        sandbox_admin_token,
        sandbox_settings,
        with_sandbox,
    )

    integration = with_sandbox(load_registry(settings.integrations_dirs), args.sandbox or None)
    data_dir = Path(tempfile.mkdtemp(prefix="yamcp-sandbox-"))
    sandbox = Sandbox(integration)
    try:
        settings = sandbox_settings(settings, data_dir)
        sandbox.start()
        app = create_app(settings, accounts={ACCOUNT_ID: sandbox.account()})
        policies = load_policies(settings.policies_dir)
        server = uvicorn.Server(uvicorn.Config(app, **_serve_options(args, settings)))

        async def serve() -> None:
            urls = await mint_urls(settings, policies, integration)
            approvals = any(p.approval for p in policies.named.values())
            admin_token = await sandbox_admin_token(settings) if approvals else None
            serving = asyncio.create_task(server.serve())
            while not server.started and not serving.done():
                await asyncio.sleep(0.02)
            if server.started:
                print(
                    f"yamcp sandbox: {integration.title} simulated in memory at {sandbox.url}; "
                    "nothing leaves this machine. MCP URLs: every tool the guardrails allow, "
                    "then one per named policy:",
                    file=sys.stderr,
                    flush=True,
                )
                for policy, url in urls:
                    label = f"  (policy {policy})" if policy else ""
                    print(f"{url}{label}", flush=True)
                if admin_token:
                    print(
                        "Approvals: a call that needs one answers with a link; approve it "
                        f"there with this sandbox admin token: {admin_token}",
                        file=sys.stderr,
                        flush=True,
                    )
            await serving

        asyncio.run(serve())
    finally:
        sandbox.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0
