"""The deployment, tested with its real parts.

docker/Dockerfile is read by moby's own Dockerfile parser (the `dockerfile` package) and
docker/compose.yaml by Debian's `docker-compose config`, which interpolates the
environment and validates the file against the compose specification's schema with no
daemon. docker/nginx.conf then runs in Debian's nginx in front of two `yamcp serve`
processes sharing the Redis, each started with the environment that compose resolved
and the image's own ENV. The image build itself cannot run here (no daemon, no
base-image registry).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dockerfile
import httpx
import pytest
import redis
import yaml

from proxy.settings import Settings
from tests.support.fake_postmark import FakePostmark
from tests.support.mcp_client import mcp_client
from tests.support.paths import ROOT
from tests.support.serving import Yamcp, free_port, start_yamcp, stop_yamcp

DOCKERFILE = dockerfile.parse_file(str(ROOT / "docker" / "Dockerfile"))
COMPOSE_FILE = ROOT / "docker" / "compose.yaml"
NGINX_CONF = ROOT / "docker" / "nginx.conf"
README = (ROOT / "README.md").read_text()
SERVICES = ("yamcp-1", "yamcp-2")
PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}


# --- the Dockerfile, as moby parses it ---


def instructions(name: str) -> list[dockerfile.Command]:
    return [command for command in DOCKERFILE if command.cmd == name]


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for command in instructions("ENV"):
        env.update(zip(command.value[::2], command.value[1::2], strict=True))
    return env


def test_dockerfile_is_slim_non_root_and_holds_no_secret() -> None:
    assert [c.value for c in instructions("FROM")] == [("python:3.11-slim",)]
    users = instructions("USER")
    assert users and users[-1].value[0] not in ("root", "0"), "the image must not run as root"
    last_run = max(c.start_line for c in instructions("RUN"))
    assert users[-1].start_line > last_run  # installs as root, then drops privileges
    assert (
        f"--uid 10001 --home-dir /app --shell /usr/sbin/nologin {users[-1].value[0]}"
        in (instructions("RUN")[0].value[0])
    )
    assert instructions("CMD")[-1].json and instructions("CMD")[-1].value == ("yamcp", "serve")
    assert DOCKERFILE[-1].cmd == "CMD"
    names = [*image_env(), *(c.value[0].split("=")[0] for c in instructions("ARG"))]
    for name in names:
        assert not re.search(r"TOKEN|SECRET|PASSWORD|KEY", name), name
    for command in instructions("COPY") + instructions("ADD"):
        for source in command.value[:-1]:
            assert (ROOT / source).exists(), f"COPY {source}: not in the build context"
            assert source not in ("accounts.yaml", ".env", "data"), f"COPY {source}"


def test_dockerfile_image_layout_serves_with_the_default_settings() -> None:
    """`yamcp serve` in WORKDIR finds the integrations and policies the image copies."""
    workdir = Path(instructions("WORKDIR")[-1].value[0])
    copied = {(workdir / c.value[-1]).resolve() for c in instructions("COPY")}
    defaults = Settings(_env_file=None)
    for folder in (*defaults.integrations_dirs, defaults.policies_dir):
        assert (workdir / folder).resolve() in copied, folder
    env = image_env()
    assert instructions("EXPOSE")[0].value == (env["YAMCP_PORT"],)
    assert Path(env["YAMCP_DATA_DIR"]).is_relative_to(workdir)
    assert env["YAMCP_HOST"] == "0.0.0.0"  # inside a container, loopback reaches no one


def test_dockerfile_healthcheck_passes_on_a_serving_yamcp_and_fails_without_one(
    yamcp: Yamcp,
) -> None:
    (check,) = instructions("HEALTHCHECK")
    kind, program, flag, code = check.value
    assert (kind, program, flag) == ("CMD", "python", "-c")
    probe = f"http://127.0.0.1:{image_env()['YAMCP_PORT']}/healthz"
    assert probe in code

    def run(base: str) -> int:
        argv = [sys.executable, flag, code.replace(probe, f"{base}/healthz")]
        return subprocess.run(argv, capture_output=True, timeout=30).returncode

    assert run(yamcp.base) == 0
    assert run(f"http://127.0.0.1:{free_port()}") != 0


# --- the compose file, as Debian's docker-compose resolves it ---


def compose_config(**env: str) -> subprocess.CompletedProcess:
    """`docker-compose config` in an environment holding only PATH and `env`."""
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is missing: .ci/run installs Debian's package"
    return subprocess.run(
        [binary, "-f", str(COMPOSE_FILE), "config"],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def resolved(**env: str) -> dict:
    out = compose_config(**env)
    assert out.returncode == 0, out.stderr
    return yaml.safe_load(out.stdout)


def mounts(service: dict) -> dict[str, tuple[Path, str]]:
    """Container path -> (host path, mode) of a resolved service's bind mounts."""
    found = {}
    for volume in service["volumes"]:
        source, target, mode = volume.split(":")
        found[target] = (Path(source), mode)
    return found


def test_compose_resolves_two_instances_on_one_redis_behind_nginx() -> None:
    config = resolved(POSTMARK_SERVER_TOKEN="s", POSTMARK_ACCOUNT_TOKEN="a")
    services = config["services"]
    assert set(services) == {"redis", *SERVICES, "proxy"}
    assert services["yamcp-1"] == services["yamcp-2"]  # one definition, two instances
    yamcp = services["yamcp-1"]
    assert yamcp["build"] == {"context": str(ROOT), "dockerfile": "docker/Dockerfile"}
    assert (ROOT / yamcp["build"]["dockerfile"]).is_file()
    env = yamcp["environment"]
    assert env["YAMCP_STORE_URL"] == "redis://redis:6379/0"
    assert (env["POSTMARK_SERVER_TOKEN"], env["POSTMARK_ACCOUNT_TOKEN"]) == ("s", "a")
    assert env["YAMCP_PUBLIC_BASE_URL"] == "http://localhost:8080"
    assert env["YAMCP_ALLOWED_HOSTS"] == "localhost"
    volumes = mounts(yamcp)
    assert volumes[env["YAMCP_ACCOUNTS_FILE"]] == (ROOT / "accounts.yaml", "ro")
    assert volumes[env["YAMCP_POLICIES_DIR"]] == (ROOT / "policies", "ro")
    assert yamcp["depends_on"] == {"redis": {"condition": "service_healthy"}}
    grace = Settings(_env_file=None).shutdown_grace_seconds
    assert int(yamcp["stop_grace_period"].removesuffix("s")) > grace
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    proxy = services["proxy"]
    assert mounts(proxy)["/etc/nginx/nginx.conf"] == (NGINX_CONF, "ro")
    assert proxy["ports"] == [{"published": 8080, "target": 80}]
    # nginx balances over exactly the yamcp services, on the port the image serves.
    upstreams = re.findall(r"^\s*server (\S+);", NGINX_CONF.read_text(), re.M)
    assert upstreams == [f"{name}:{image_env()['YAMCP_PORT']}" for name in SERVICES]


def test_compose_refuses_to_start_without_a_server_token() -> None:
    out = compose_config(POSTMARK_ACCOUNT_TOKEN="a")
    assert out.returncode != 0
    assert "set POSTMARK_SERVER_TOKEN" in out.stderr


def test_compose_passes_an_account_token_on_only_when_it_is_set(tmp_path: Path) -> None:
    """Unset, the container has no such variable (never an empty one, which Postmark would
    answer with 401): yamcp itself then refuses an accounts file that references it."""
    env = resolved(POSTMARK_SERVER_TOKEN="s")["services"]["yamcp-1"]["environment"]
    assert "POSTMARK_ACCOUNT_TOKEN" in env and env["POSTMARK_ACCOUNT_TOKEN"] is None
    # yamcp started with that environment and the example accounts file.
    shutil.copy(ROOT / "accounts.example.yaml", tmp_path / "accounts.yaml")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "proxy.cli", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=container_env(env, image_env(), tmp_path, port),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(300):
            if proc.poll() is not None:
                break
            with contextlib.suppress(httpx.TransportError):
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5)
                pytest.fail("yamcp started with no account token for an account that needs one")
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            proc.kill()
        output = proc.communicate(timeout=10)[0].decode()
    assert proc.returncode != 0
    assert "accounts.acme.credentials.account_token" in output, output
    assert "POSTMARK_ACCOUNT_TOKEN is not set" in output, output


def container_env(
    compose_env: dict, image: dict[str, str], workdir: Path, port: int
) -> dict[str, str]:
    """A service's environment as its container would have it, with the container's paths
    and host names mapped onto this machine (loopback only)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YAMCP_", "POSTMARK_"))}
    env.update(image)
    env.update({k: str(v) for k, v in compose_env.items() if v is not None})
    assert env["YAMCP_ACCOUNTS_FILE"] == "/app/accounts.yaml"
    assert env["YAMCP_POLICIES_DIR"] == "/app/policies"
    env.update(
        YAMCP_HOST="127.0.0.1",
        YAMCP_PORT=str(port),
        YAMCP_DATA_DIR=str(workdir / "data"),
        YAMCP_ACCOUNTS_FILE=str(workdir / "accounts.yaml"),
        YAMCP_POLICIES_DIR=str(ROOT / "policies"),
        YAMCP_INTEGRATIONS_DIRS=str(ROOT / "integrations"),
        YAMCP_STORE_URL=env["YAMCP_STORE_URL"].replace("//redis:6379/", "//127.0.0.1:6379/"),
    )
    return env


# --- docker/nginx.conf in Debian's nginx ---


@dataclass
class Nginx:
    base: str
    access_log: Path
    error_log: Path

    def offset(self) -> int:
        """Where the next request's line will start, once the line of the request before it
        (which nginx may write just after its client has the answer) is in."""
        sizes: list[int] = []
        for _ in range(250):
            sizes.append(self.access_log.stat().st_size if self.access_log.exists() else 0)
            if len(sizes) >= 3 and len(set(sizes[-3:])) == 1:
                break
            time.sleep(0.02)
        return sizes[-1]

    def lines_since(self, offset: int, count: int) -> list[dict[str, str]]:
        """The access log lines written after `offset`, once there are `count` of them
        (nginx writes a line when it finalises a request, just after the client has it)."""
        for _ in range(200):
            with self.access_log.open("rb") as log:
                log.seek(offset)
                lines = log.read().decode().splitlines()
            if len(lines) >= count:
                break
            time.sleep(0.025)
        parsed = [ACCESS_LINE.match(line) for line in lines]
        assert all(parsed), lines
        return [match.groupdict() for match in parsed if match]


ACCESS_LINE = re.compile(
    r'^\S+ \[[^]]+\] "(?P<method>\S+) (?P<path>\S+)" (?P<status>\d{3}) \d+ \S+ '
    r"upstream=(?P<upstream>.*) upstream_status=(?P<upstream_status>.*)$"
)


@contextlib.contextmanager
def run_nginx(port: int, backends: list[str], prefix: Path) -> Iterator[Nginx]:
    """docker/nginx.conf itself: only its upstream names, port and log files are replaced,
    and its 10 s header deadline is shortened to 1 s to keep the test short."""
    conf = NGINX_CONF.read_text()
    for old, new in {
        "server yamcp-1:8000;": f"server {backends[0]};",
        "server yamcp-2:8000;": f"server {backends[1]};",
        "listen 80;": f"listen 127.0.0.1:{port};",
        "/dev/stdout": str(prefix / "access.log"),
        "/dev/stderr": str(prefix / "error.log"),
        "client_header_timeout 10s;": "client_header_timeout 1s;",
    }.items():
        conf = conf.replace(old, new)
    (prefix / "nginx.conf").write_text(f"pid {prefix}/nginx.pid;\n" + conf)
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    # -e: where nginx logs until (and unless) the configuration says otherwise.
    argv = [binary, "-p", f"{prefix}/", "-e", str(prefix / "error.log")]
    proc = subprocess.Popen(
        [*argv, "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    nginx = Nginx(f"http://127.0.0.1:{port}", prefix / "access.log", prefix / "error.log")
    try:
        for _ in range(200):  # listening; no request is proxied before the test's own
            assert proc.poll() is None, (prefix / "error.log").read_text()
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                break
            time.sleep(0.05)
        yield nginx
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def address(instance: Yamcp) -> str:
    return instance.base.split("//", 1)[1]


@dataclass
class Deployment:
    nginx: Nginx
    instances: list[Yamcp]
    url: str  # an MCP URL minted on the first instance, through nginx

    @property
    def token(self) -> str:
        return self.url.rsplit("/", 1)[1]


@pytest.fixture(scope="module")
def deployment(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    """docker/compose.yaml as processes: two `yamcp serve` with the environment compose
    resolved (no account token set), one Redis, docker/nginx.conf in front."""
    port = free_port()
    front = f"http://127.0.0.1:{port}"
    config = resolved(POSTMARK_SERVER_TOKEN=FakePostmark.server_token, YAMCP_PUBLIC_BASE_URL=front)
    store_prefix = f"yamcp-deploy-{uuid.uuid4().hex[:8]}:"
    instances = []
    try:
        for name in SERVICES:
            workdir = tmp_path_factory.mktemp(name)
            # The operator's accounts file, for a Postmark server token alone.
            (workdir / "accounts.yaml").write_text(
                "accounts:\n  acme:\n    integration: postmark\n"
                f"    base_url: {fake_postmark.url}\n"
                "    credentials:\n      server_token: ${POSTMARK_SERVER_TOKEN}\n"
            )
            instance_port = free_port()
            env = container_env(
                config["services"][name]["environment"], image_env(), workdir, instance_port
            )
            env["YAMCP_STORE_PREFIX"] = store_prefix
            instances.append(start_yamcp(workdir, env, port=instance_port))
        created = json.loads(instances[0].cli("mint", "--account", "acme", "--json").stdout)
        assert created["url"].startswith(f"{front}/mcp/")
        prefix = tmp_path_factory.mktemp("nginx")
        with run_nginx(port, [address(i) for i in instances], prefix) as nginx:
            yield Deployment(nginx, instances, created["url"])
    finally:
        for instance in instances:
            stop_yamcp(instance)
        client = redis.Redis(port=6379)
        for key in client.scan_iter(match=f"{store_prefix}*"):
            client.delete(key)
        client.close()


def post(url: str | httpx.URL, **kwargs) -> httpx.Response:
    return httpx.post(url, json=PING, timeout=10, **kwargs)


async def test_round_robin_serves_from_both_instances_a_server_minted_on_one(
    deployment: Deployment, postmark: FakePostmark
) -> None:
    nginx, instances = deployment.nginx, deployment.instances
    offset = nginx.offset()
    for _ in range(4):
        assert post(deployment.url).status_code == 200
    lines = nginx.lines_since(offset, 4)
    assert [(line["path"], line["status"]) for line in lines] == [("/mcp/<redacted>", "200")] * 4
    # Minted through the first instance's CLI, served by both (the store is Redis).
    assert {line["upstream"] for line in lines} == {address(i) for i in instances}

    # Real tool calls through the official client, whichever instance takes each request.
    calls = sum(instance.log().count('"tool call"') for instance in instances)
    for _ in range(2):
        async with mcp_client(deployment.url) as client:
            result = await client.call_tool("list_all_postmark_bounces", {"limit": 1})
            assert not result.is_error, result
    assert sum(instance.log().count('"tool call"') for instance in instances) == calls + 2
    assert postmark.count("GET", "/bounces") == 2


def test_a_revocation_through_nginx_holds_on_both_instances(deployment: Deployment) -> None:
    nginx, instances = deployment.nginx, deployment.instances
    created = json.loads(instances[1].cli("mint", "--account", "acme", "--json").stdout)
    admin = instances[0].cli("admin-token", "create").stdout.strip()
    offset = nginx.offset()
    for _ in range(2):
        assert post(created["url"]).status_code == 200
    revoked = httpx.delete(
        f"{nginx.base}/integrated-account/acme/mcp/{created['id']}",
        headers={"authorization": f"Bearer {admin}"},
        timeout=10,
    )
    assert revoked.status_code == 204
    for _ in range(2):
        assert post(created["url"]).status_code == 404
    lines = nginx.lines_since(offset, 5)
    refused = [line["upstream"] for line in lines[3:] if line["path"] == "/mcp/<redacted>"]
    assert sorted(refused) == sorted(address(i) for i in instances)
    assert all(line["upstream_status"] == "404" for line in lines[3:])


@pytest.mark.parametrize(
    "path", ["{mcp}", "/healthz", "/readyz", "/metrics", "/integrated-account", "/admin"]
)
def test_a_foreign_host_through_nginx_is_421_from_both_instances(
    deployment: Deployment, path: str
) -> None:
    """nginx forwards `Host $host`, so yamcp's DNS-rebinding rule holds behind it."""
    nginx, instances = deployment.nginx, deployment.instances
    target = path.format(mcp=deployment.url.split(nginx.base, 1)[1])
    offset = nginx.offset()
    for _ in range(2):
        refused = httpx.post(
            f"{nginx.base}{target}", json=PING, headers={"host": "rebind.example"}, timeout=10
        )
        assert refused.status_code == 421
        assert refused.json() == {"error": "misdirected", "message": "Host not allowed"}
    lines = nginx.lines_since(offset, 2)
    assert {line["upstream"] for line in lines} == {address(i) for i in instances}
    assert {line["upstream_status"] for line in lines} == {"421"}


def test_the_hosts_compose_allows_are_served_through_nginx(deployment: Deployment) -> None:
    nginx = deployment.nginx
    path = deployment.url.split(nginx.base, 1)[1]
    for host in ("localhost:8080", "localhost", nginx.base.split("//", 1)[1]):
        for _ in range(2):
            assert post(f"{nginx.base}{path}", headers={"host": host}).status_code == 200, host


async def test_account_tools_without_an_account_token_get_yamcps_own_error(
    deployment: Deployment, postmark: FakePostmark
) -> None:
    instance = deployment.instances[0]
    mint = ["mint", "--account", "acme", "--require-api-token-auth", "--json"]
    created = json.loads(instance.cli(*mint).stdout)
    api_token = instance.cli("api-token", "create", "--server", created["id"]).stdout.strip()
    bearer = {"authorization": f"Bearer {api_token}"}
    async with mcp_client(created["url"], headers=bearer) as client:
        for _ in range(2):  # consecutive requests: one on each instance
            result = await client.call_tool("list_all_postmark_servers", {"limit": 1})
            assert result.is_error
            text = result.content[0].text
            assert "has no 'account_token' credential" in text, text
    assert postmark.count("GET", "/servers") == 0  # never a 401 from Postmark


@pytest.mark.parametrize(
    "form",
    ["/mcp/{t}", "/%6Dcp/{t}", "/mcp%2F{t}", "/MCP/{t}", "//mcp/{t}", "/mcp//{t}", "/mCp/{t}?x=1"],
)
def test_nginx_logs_no_spelling_of_an_mcp_path(deployment: Deployment, form: str) -> None:
    nginx, token = deployment.nginx, deployment.token
    offset = nginx.offset()
    target = httpx.URL(nginx.base).copy_with(raw_path=form.format(t=token).encode())
    assert post(target).status_code == (200 if form == "/mcp/{t}" else 404)
    (line,) = nginx.lines_since(offset, 1)
    assert (line["method"], line["path"]) == ("POST", "/mcp/<redacted>")
    log = nginx.access_log.read_text()
    assert token not in log and token[5:25] not in log


def test_nginx_cuts_off_trickled_headers(deployment: Deployment) -> None:
    port = int(deployment.nginx.base.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"POST /mcp/x HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    closed = False
    try:
        for _ in range(100):  # a header line every 0.1 s, never the blank line that ends them
            sock.sendall(b"X-Slow: 1\r\n")
            time.sleep(0.1)
    except OSError:
        closed = True
    finally:
        sock.close()
    assert closed, "nginx kept a connection whose headers never ended open for 10 s"


def test_an_instance_down_is_passed_over_and_no_nginx_log_holds_the_token(
    deployment: Deployment, tmp_path: Path
) -> None:
    """nginx's error log quotes request lines when an upstream fails: it must stay quiet."""
    live, dead = address(deployment.instances[0]), f"127.0.0.1:{free_port()}"
    token = deployment.token
    with run_nginx(free_port(), [live, dead], tmp_path) as nginx:
        path = deployment.url.split("/mcp/", 1)[1]
        offset = nginx.offset()
        for _ in range(4):
            assert post(f"{nginx.base}/mcp/{path}").status_code == 200
        lines = nginx.lines_since(offset, 4)
        assert any(dead in line["upstream"] for line in lines)  # tried, refused, passed over
        assert all(line["upstream"].endswith(live) for line in lines)
        for log in (nginx.access_log, nginx.error_log):
            text = log.read_text() if log.exists() else ""
            assert token not in text and token[5:25] not in text, log.name


def test_readme_documents_the_commands_the_container_runs() -> None:
    section = README[README.index("## Deploying") :]
    assert "docker build -f docker/Dockerfile -t yamcp ." in section
    assert "docker compose -f docker/compose.yaml up" in section


def test_example_accounts_file_loads(tmp_path: Path) -> None:
    from proxy.accounts import load_accounts

    accounts = load_accounts(
        ROOT / "accounts.example.yaml",
        {"POSTMARK_SERVER_TOKEN": "s", "POSTMARK_ACCOUNT_TOKEN": "a"},
    )
    assert accounts["acme"].integration == "postmark"


def test_every_setting_is_documented_in_the_readme_table() -> None:
    from proxy.settings import Settings

    table = README[README.index("## Settings") :]
    for name in Settings.model_fields:
        variable = f"YAMCP_{name.upper()}"
        assert variable in table, f"{variable} is missing from the README's settings table"
