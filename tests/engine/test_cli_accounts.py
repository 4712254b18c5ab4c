"""`yamcp accounts add|list|show|remove` (issue 18), run as the real `python -m proxy.cli`
on the SQLite data dir of a running `yamcp serve`: what the CLI connects, that server
serves; what it removes, that server refuses at once. Credentials come from standard
input or named environment variables, never argv, and no output, log or refusal shows
one. Refusals are the admin API's 422 reasons, one `yamcp: field: reason` line each.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.accounts import PING, call_bounces
from tests.support.fake_postmark import FakePostmark
from tests.support.serving import Yamcp, start_yamcp, stop_yamcp, write_workdir

TOKEN = FakePostmark.server_token


@pytest.fixture(scope="module")
def served(
    fake_postmark: FakePostmark, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Yamcp]:
    workdir = tmp_path_factory.mktemp("cli-accounts")
    write_workdir(workdir, fake_postmark.url)
    server = start_yamcp(workdir)
    yield server
    stop_yamcp(server)


def accounts(
    server: Yamcp, *args: str, stdin: str = "", env: dict[str, str] | None = None, code: int = 0
) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "proxy.cli", "accounts", *args],
        cwd=server.workdir,
        env={**server.env, **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == code, (args, done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def new_id(prefix: str = "cust") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def add_piped(server: Yamcp, *args: str, secret: str) -> tuple[subprocess.CompletedProcess, str]:
    """`accounts add` with the credential on a pipe; returns the process's argv as the
    kernel shows it (`ps`), read while the process waits for its standard input."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "proxy.cli", "accounts", "add", *args],
        cwd=server.workdir,
        env=server.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.2)
    argv = Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode(errors="replace")
    out, err = proc.communicate(f"server_token={secret}\n", timeout=60)
    done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    return done, argv


async def test_added_account_serves_and_removed_account_is_404(
    served: Yamcp, postmark: FakePostmark
) -> None:
    account_id = new_id()
    done, argv = add_piped(
        served,
        account_id,
        "--integration",
        "postmark",
        "--base-url",
        postmark.url,
        "--default",
        "MessageStream=outbound",
        "--verify",
        secret=TOKEN,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"connected account {account_id} (postmark, credentials verified)\n"
    assert postmark.last("GET", "/server").headers["x-postmark-server-token"] == TOKEN
    for text in (argv, done.stdout, done.stderr, served.log()):
        assert TOKEN not in text
    stored = b"".join(f.read_bytes() for f in (served.workdir / "data").iterdir() if f.is_file())
    assert TOKEN.encode() not in stored  # sealed at rest

    # `yamcp mint` finds an account connected over the API as it finds a file account
    minted = served.cli("mint", "--account", account_id, "--methods", "read")
    url = minted.stdout.strip()
    assert url.startswith("http://127.0.0.1:") and "/mcp/" in url, minted.stderr
    failed, text = await call_bounces(url)
    assert not failed, text
    assert postmark.last("GET", "/bounces").headers["x-postmark-server-token"] == TOKEN

    removed = accounts(served, "remove", account_id)
    assert removed.stdout == f"removed account {account_id} and its 1 MCP server\n"
    assert httpx.post(url, json=PING).status_code == 404
    assert accounts(served, "show", account_id, code=1).stderr == (
        f"yamcp: No integrated account {account_id!r}\n"
    )
    assert accounts(served, "remove", account_id, code=1).stderr == (
        f"yamcp: No integrated account {account_id!r}\n"
    )
    assert TOKEN not in served.log()


def test_verify_refusal_stores_nothing_and_quotes_no_credential(
    served: Yamcp, postmark: FakePostmark
) -> None:
    account_id = new_id("ver")
    done, argv = add_piped(
        served, account_id, "--integration", "postmark", "--base-url", postmark.url,
        "--verify", secret="wrong-token-zz",
    )  # fmt: skip
    assert done.returncode == 2 and done.stdout == "", done
    assert done.stderr.startswith("yamcp: credentials: Postmark refused them"), done.stderr
    assert "401" in done.stderr and done.stderr.count("\n") == 1
    for text in (argv, done.stderr, served.log()):
        assert "wrong-token-zz" not in text
    accounts(served, "show", account_id, code=1)


def test_credentials_from_a_named_environment_variable(
    served: Yamcp, postmark: FakePostmark
) -> None:
    account_id = new_id("env")
    added = accounts(
        served, "add", account_id, "--integration", "postmark", "--base-url", postmark.url,
        "--credential", "server_token=THEIR_TOKEN", env={"THEIR_TOKEN": "env-secret-zz"},
    )  # fmt: skip
    assert "env-secret-zz" not in added.stdout + added.stderr
    missing = accounts(
        served, "add", new_id("env"), "--integration", "postmark",
        "--credential", "server_token=NOT_SET_ANYWHERE", code=2,
    )  # fmt: skip
    assert missing.stderr == (
        "yamcp: credentials.server_token: the environment variable 'NOT_SET_ANYWHERE' is not set\n"
    )
    bad_line = accounts(
        served, "add", new_id(), "--integration", "postmark",
        stdin="server_token=ok\nhunter2-no-equals\n", code=2,
    )  # fmt: skip
    assert bad_line.stderr == "yamcp: credentials: standard input line 2 is not NAME=value\n"
    accounts(served, "remove", account_id)


def test_refusals_are_the_admin_apis_reasons(served: Yamcp, postmark: FakePostmark) -> None:
    admin_token = served.cli("admin-token", "create").stdout.strip()
    admin = httpx.Client(
        base_url=served.base, headers={"authorization": f"Bearer {admin_token}"}, timeout=30
    )
    good = new_id("ok")
    cases: list[tuple[list[str], dict]] = [
        (["--integration", "nope"], {"integration": "nope"}),
        (["--integration", "postmark", "--base-url", "http://u:p@h"], {"base_url": "http://u:p@h"}),
        (["--integration", "postmark", "--setting", "region=eu"], {"settings": {"region": "eu"}}),
        (["--integration", "postmark", "--default", "Nope=1"], {"defaults": {"Nope": 1}}),
    ]
    for args, extra in cases:
        body = {"id": good, "integration": "postmark", **extra}
        body["credentials"] = {"server_token": "x-secret"}
        api = admin.post("/integrated-account", json=body)
        assert api.status_code == 422, api.text
        expected = "".join(f"yamcp: {e['field']}: {e['reason']}\n" for e in api.json()["errors"])
        cli = accounts(served, "add", good, *args, stdin="server_token=x-secret\n", code=2)
        assert (cli.stdout, cli.stderr) == ("", expected), args
    for bad_id in ("has space", "-dash", "x" * 65):
        api = admin.post(
            "/integrated-account",
            json={"id": bad_id, "integration": "postmark", "credentials": {"server_token": "x"}},
        )
        cli = accounts(
            served, "add", "--integration", "postmark", "--", bad_id, stdin="server_token=x", code=2
        )
        assert cli.stderr == f"yamcp: id: {api.json()['errors'][0]['reason']}\n"
    for stdin, field in [
        ("account_token=zz-secret\n", "credentials.server_token"),
        ("server_token=zz-secret\npassword=zz-secret\n", "credentials.password"),
        ("server_token=zz\tsecret\n", "credentials.server_token"),
        ("server_token=   \n", "credentials.server_token"),
        ("", "credentials.server_token"),
    ]:
        cli = accounts(served, "add", good, "--integration", "postmark", stdin=stdin, code=2)
        assert cli.stderr.startswith(f"yamcp: {field}: "), cli.stderr
        assert "zz" not in cli.stderr and cli.stdout == ""
    accounts(served, "show", good, code=1)  # none was stored

    # 409s: exit 1, the API's message.
    taken = accounts(
        served, "add", "acme", "--integration", "postmark", stdin="server_token=x", code=1
    )
    assert taken.stderr == "yamcp: An account 'acme' exists (in the accounts file)\n"
    assert (
        admin.post(
            "/integrated-account",
            json={"id": "acme", "integration": "postmark", "credentials": {"server_token": "x"}},
        ).json()["message"]
        == taken.stderr.removeprefix("yamcp: ").strip()
    )
    accounts(served, "add", good, "--integration", "postmark", stdin="server_token=x")
    again = accounts(
        served, "add", good, "--integration", "postmark", stdin="server_token=x", code=1
    )
    assert again.stderr.endswith(f"\nyamcp: An account {good!r} exists\n")  # after a key warning
    file_removal = accounts(served, "remove", "acme", code=1)
    assert file_removal.stderr == (
        "yamcp: The account 'acme' comes from the accounts file, its source of truth: "
        "change it there (and reload)\n"
    )
    assert admin.delete("/integrated-account/acme").json()["message"] in file_removal.stderr
    accounts(served, "remove", good)


def test_list_and_show_give_every_account_with_its_source_and_no_credential(
    served: Yamcp, postmark: FakePostmark
) -> None:
    account_id = new_id("lst")
    accounts(
        served, "add", account_id, "--integration", "postmark", "--setting", "x=1",
        "--base-url", postmark.url + "/{x}", stdin="server_token=list-secret-zz\n",
    )  # fmt: skip
    listed = {row["id"]: row for row in json.loads(accounts(served, "list", "--json").stdout)}
    assert listed["acme"]["source"] == "file" and listed[account_id]["source"] == "api"
    assert listed[account_id]["settings"] == {"x": "1"}
    text = accounts(served, "list").stdout
    assert f"{account_id}  postmark  api  {postmark.url}/{{x}}\n" in text
    assert "acme  postmark  file  " in text
    shown = json.loads(accounts(served, "show", account_id, "--json").stdout)
    assert shown == listed[account_id] and "credentials" not in shown
    assert "source: api\n" in accounts(served, "show", account_id).stdout
    assert json.loads(accounts(served, "show", "acme", "--json").stdout)["source"] == "file"
    for out in (text, json.dumps(listed), accounts(served, "show", account_id).stdout):
        assert "list-secret-zz" not in out
    accounts(served, "remove", account_id)
