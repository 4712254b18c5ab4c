"""yamcp's benchmark: one command, every figure, side by side.

    python bench/run.py [--duration 10] [--calls 100000] [--skip-peer] [--workers 1]
    python bench/run.py --upstream-delay-ms 100 [--duration 10] [--max-connections N]

Starts the fake upstream (bench/upstream.py), `yamcp serve` with production settings,
and FastMCP's OpenAPI proxy as the peer (in its own virtualenv, bench/.peer), then
drives each with wrk (Debian's `wrk` package) and prints throughput and p50/p99
latency at 1 and 16 connections for (a) the upstream directly, (b) `tools/call
list_all_postmark_bounces` through yamcp, (c) the same through FastMCP, and for
reference a minimal forwarding proxy (bench/minimal_proxy.py); the ratios;
`tools/list` time and size for the full Postmark manifest; start-up time; peak memory;
and memory across a long run. Figures also go to bench/results/latest.json.

With --upstream-delay-ms the upstream answers each request after that delay, as a real
API does, and the run measures only what latency does to throughput: calls/s and
p50/p99 at 100, 400 and 1,000 connections for the upstream directly and for yamcp, and
checks that every call wrk completed reached the upstream (the upstream counts what it
received), with no non-2xx answer and no socket error. The upstream then runs as two
processes so that it is not what limits the direct figure. Figures go to
bench/results/latency.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEER_VENV = HERE / ".peer"
PEER_REQUIREMENTS = ["fastmcp==4.2.3"]
TOKEN = "bench-token"
CALL = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "tools/call",
    "params": {"name": "list_all_postmark_bounces", "arguments": {"limit": 2}},
}
PEER_CALL = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "tools/call",
    "params": {"name": "list_all_postmark_bounces", "arguments": {"count": 2, "offset": 0}},
}
LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
MCP_HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
LATENCY_CONNECTIONS = (100, 400, 1000)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, timeout: float = 30.0, **kw: object) -> float:
    """Seconds until `url` answers below 500."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        try:
            if (
                httpx.request(
                    kw.get("method", "GET"), url, timeout=1, **kw.get("extra", {})
                ).status_code
                < 500
            ):  # type: ignore[arg-type]
                return time.perf_counter() - started
        except httpx.TransportError:
            pass
        time.sleep(0.005)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


def spawn(
    args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.Popen:
    return subprocess.Popen(
        args,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def memory_kib(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(
    url: str, connections: int, seconds: float, body: dict | None, headers: dict[str, str]
) -> dict:
    """One wrk run: requests/s, p50 and p99 in ms, request count, and errors."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(f"wrk.method = {json.dumps('POST' if body else 'GET')}\n")
        if body is not None:
            script.write(f"wrk.body = {json.dumps(json.dumps(body))}\n")
        for name, value in headers.items():
            script.write(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}\n")
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--latency",
                "--timeout",
                "10s",  # a call that takes longer is a socket error (wrk's default: 2 s)
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    if "50" not in latency:
        raise RuntimeError(f"wrk completed no request on {url}:\n{out}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)$", out, re.M)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": _ms(latency["50"]),
        "p99_ms": _ms(latency["99"]),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1).strip() if socket_errors else None,
    }


def upstream_stats(upstream_url: str) -> dict:
    """What the upstream received, once the requests still in flight have been answered."""
    deadline = time.monotonic() + 30
    last = None
    while time.monotonic() < deadline:
        stats = httpx.get(f"{upstream_url}/stats", timeout=5).json()
        if stats["in_flight"] == 0 and last is not None and stats["requests"] == last["requests"]:
            return stats
        last = stats
        time.sleep(0.3)
    raise RuntimeError("the upstream did not settle")


def latency_runs(upstream_url: str, targets: dict, seconds: float) -> dict:
    """Each target at 100, 400 and 1,000 connections, counting what reached the upstream.

    wrk counts the calls it completed; a call still in flight when wrk stops reaches the
    upstream without being counted, so the upstream may have received up to `conns`
    more. Fewer than wrk completed means some call was answered without an upstream
    request (a pool timeout, say): that run fails the check.
    """
    runs: dict = {}
    for conns in LATENCY_CONNECTIONS:
        for name, (target, body, headers) in targets.items():
            wrk(target, conns, 1, body, headers)  # open the connections, fill the pools
            before = upstream_stats(upstream_url)["requests"]
            run = wrk(target, conns, seconds, body, headers)
            after = upstream_stats(upstream_url)
            run["upstream_received"] = after["requests"] - before
            run["upstream_max_in_flight"] = after["max_in_flight"]
            run["all_reached_upstream"] = (
                0 < run["requests"] <= run["upstream_received"] <= run["requests"] + conns
                and run["non_2xx"] == 0
                and not run["socket_errors"]
            )
            runs.setdefault(name, {})[f"c{conns}"] = run
            httpx.post(f"{upstream_url}/stats", timeout=5)  # reset the most in flight
    return runs


def ensure_peer() -> Path:
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_REQUIREMENTS], check=True)
    return python


def check_call(url: str, body: dict) -> None:
    """Each target must answer the call correctly before it is timed."""
    response = httpx.post(url, json=body, headers=MCP_HEADERS, timeout=10)
    response.raise_for_status()
    result = response.json()["result"]
    if result.get("isError"):
        raise RuntimeError(f"{url}: the benchmark call failed: {result}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--calls", type=int, default=100_000, help="calls in the memory run")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers for yamcp")
    parser.add_argument("--skip-peer", action="store_true", help="do not run FastMCP")
    parser.add_argument(
        "--store",
        default="sqlite",
        choices=["sqlite", "redis"],
        help="sqlite (embedded) or redis (127.0.0.1:6379, a throwaway key prefix)",
    )
    parser.add_argument(
        "--upstream-delay-ms",
        type=float,
        default=0.0,
        help="the upstream answers after this delay; measures 100/400/1,000 connections",
    )
    parser.add_argument(
        "--max-connections", type=int, help="yamcp's upstream pool (YAMCP_MAX_CONNECTIONS)"
    )
    parser.add_argument(
        "--pool-timeout", type=float, help="yamcp's wait for a pooled connection (seconds)"
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    latency_mode = args.upstream_delay_ms > 0
    if args.out is None:
        args.out = HERE / "results" / ("latency.json" if latency_mode else "latest.json")
    if shutil.which("wrk") is None:
        sys.exit("bench needs wrk: apt-get install -y wrk")

    results: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "command": " ".join(["python", "bench/run.py", *sys.argv[1:]]),
        "duration_s": args.duration,
        "store": args.store,
        "workers": args.workers,
        "max_connections": args.max_connections,
        "pool_timeout": args.pool_timeout,
        "upstream_delay_ms": args.upstream_delay_ms,
    }
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        up_port, yamcp_port, peer_port = free_port(), free_port(), free_port()
        upstream_url = f"http://127.0.0.1:{up_port}"
        upstream_args = [str(up_port)]
        if latency_mode:
            upstream_args += [f"{args.upstream_delay_ms:g}", "2"]  # two processes
        upstream = spawn([sys.executable, str(HERE / "upstream.py"), *upstream_args])
        stack.callback(stop, upstream)
        wait_for(f"{upstream_url}/bounces", upstream)

        (work / "accounts.yaml").write_text(
            "accounts:\n  bench:\n    integration: postmark\n"
            f"    base_url: {upstream_url}\n"
            "    credentials:\n      server_token: ${POSTMARK_SERVER_TOKEN}\n"
        )
        env = {
            "POSTMARK_SERVER_TOKEN": TOKEN,
            "YAMCP_INTEGRATIONS_DIRS": str(ROOT / "integrations"),
            # No guardrails: tools/list is measured on the full Postmark manifest.
            "YAMCP_POLICIES_DIR": str(work / "policies"),
            "YAMCP_DATA_DIR": str(work / "data"),
            "YAMCP_ACCOUNTS_FILE": str(work / "accounts.yaml"),
            "YAMCP_PUBLIC_BASE_URL": f"http://127.0.0.1:{yamcp_port}",
            "YAMCP_PORT": str(yamcp_port),
            "YAMCP_WORKERS": str(args.workers),
            "YAMCP_LOG_LEVEL": "info",  # production: one audit line per call
        }
        if args.max_connections is not None:
            env["YAMCP_MAX_CONNECTIONS"] = str(args.max_connections)
        if args.pool_timeout is not None:
            env["YAMCP_POOL_TIMEOUT"] = str(args.pool_timeout)
        if args.store == "redis":
            prefix = f"yamcp-bench-{os.getpid()}:"
            env |= {"YAMCP_STORE_URL": "redis://127.0.0.1:6379/0", "YAMCP_STORE_PREFIX": prefix}
            stack.callback(
                subprocess.run,
                ["sh", "-c", f"redis-cli --scan --pattern '{prefix}*' | xargs -r redis-cli del"],
                stdout=subprocess.DEVNULL,
            )
        mint = subprocess.run(
            [sys.executable, "-m", "proxy.cli", "mint", "--account", "bench"],
            env={**os.environ, **env},
            cwd=work,
            capture_output=True,
            text=True,
            check=True,
        )
        url = mint.stdout.strip()
        serve = [sys.executable, "-m", "proxy.cli", "serve", "--no-access-log"]

        if latency_mode:
            yamcp = spawn(serve, env, work)
            stack.callback(stop, yamcp)
            wait_for(f"http://127.0.0.1:{yamcp_port}/readyz", yamcp)
            check_call(url, CALL)
            direct = f"{upstream_url}/bounces?count=2&offset=0"
            results["latency"] = latency_runs(
                upstream_url,
                {
                    "direct": (direct, None, {"X-Postmark-Server-Token": TOKEN}),
                    "yamcp": (url, CALL, MCP_HEADERS),
                },
                args.duration,
            )
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(results, indent=2) + "\n")
            report_latency(results)
            print(f"\nfigures written to {args.out}")
            return

        startups = []
        for _ in range(5):
            probe = spawn(serve, env, work)
            startups.append(wait_for(f"http://127.0.0.1:{yamcp_port}/readyz", probe))
            stop(probe)
        results["startup_s"] = {"median": statistics.median(startups), "all": startups}

        yamcp = spawn(serve, env, work)
        stack.callback(stop, yamcp)
        wait_for(f"http://127.0.0.1:{yamcp_port}/readyz", yamcp)
        check_call(url, CALL)

        minimal_port = free_port()
        minimal = spawn(
            [sys.executable, str(HERE / "minimal_proxy.py"), str(minimal_port), upstream_url]
        )
        stack.callback(stop, minimal)
        minimal_url = f"http://127.0.0.1:{minimal_port}/mcp"
        wait_for(minimal_url, minimal, method="POST", extra={"json": CALL})

        targets = {
            "direct": (
                f"{upstream_url}/bounces?count=2&offset=0",
                None,
                {"X-Postmark-Server-Token": TOKEN},
            ),
            # The least a Python proxy on this stack does: forward, no MCP, no checks.
            "minimal": (minimal_url, CALL, MCP_HEADERS),
            "yamcp": (url, CALL, MCP_HEADERS),
        }
        if not args.skip_peer:
            peer_python = ensure_peer()
            peer = spawn(
                [str(peer_python), str(HERE / "fastmcp_peer.py"), str(peer_port), upstream_url]
            )
            stack.callback(stop, peer)
            peer_url = f"http://127.0.0.1:{peer_port}/mcp"
            wait_for(
                peer_url, peer, method="POST", extra={"json": PEER_CALL, "headers": MCP_HEADERS}
            )
            check_call(peer_url, PEER_CALL)
            targets["fastmcp"] = (peer_url, PEER_CALL, MCP_HEADERS)

        results["throughput"] = {}
        for name, (target, body, headers) in targets.items():
            wrk(target, 16, min(2.0, args.duration), body, headers)  # warm-up
            results["throughput"][name] = {
                f"c{c}": wrk(target, c, args.duration, body, headers) for c in (1, 16)
            }
        t = results["throughput"]
        ratios = {
            "yamcp_over_direct_rps_c16": t["yamcp"]["c16"]["rps"] / t["direct"]["c16"]["rps"],
            "minimal_over_direct_rps_c16": t["minimal"]["c16"]["rps"] / t["direct"]["c16"]["rps"],
            "yamcp_over_minimal_rps_c16": t["yamcp"]["c16"]["rps"] / t["minimal"]["c16"]["rps"],
            "yamcp_added_p50_ms_c1": t["yamcp"]["c1"]["p50_ms"] - t["direct"]["c1"]["p50_ms"],
        }
        if "fastmcp" in t:
            ratios["yamcp_over_fastmcp_rps_c16"] = (
                t["yamcp"]["c16"]["rps"] / t["fastmcp"]["c16"]["rps"]
            )
            ratios["yamcp_over_fastmcp_rps_c1"] = (
                t["yamcp"]["c1"]["rps"] / t["fastmcp"]["c1"]["rps"]
            )
        results["ratios"] = ratios

        listing = httpx.post(url, json=LIST, headers=MCP_HEADERS, timeout=10)
        listing.raise_for_status()
        results["tools_list"] = {
            "tools": len(listing.json()["result"]["tools"]),
            "bytes": len(listing.content),
            **wrk(url, 1, min(5.0, args.duration), LIST, MCP_HEADERS),
        }

        before = memory_kib(yamcp.pid)
        done, samples = 0, []
        while done < args.calls:
            run = wrk(url, 16, 3, CALL, MCP_HEADERS)
            done += run["requests"]
            samples.append({"calls": done, "rss_kib": memory_kib(yamcp.pid)["VmRSS"]})
        after = memory_kib(yamcp.pid)
        warm = samples[len(samples) // 2]["rss_kib"] if len(samples) > 2 else before["VmRSS"]
        results["memory"] = {
            "rss_before_kib": before["VmRSS"],
            "rss_after_warmup_kib": warm,
            "rss_after_kib": after["VmRSS"],
            "peak_kib": after["VmHWM"],
            "calls": done,
            "growth_after_warmup_kib": after["VmRSS"] - warm,
            "samples": samples,
        }

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    report(results)
    print(f"\nfigures written to {args.out}")


def report_latency(r: dict) -> None:
    machine = r["machine"]
    print(f"machine: {machine['cpus']} CPUs, Python {machine['python']}, {machine['platform']}")
    print(f"command: {r['command']}  ({r['duration_s']:g} s per run, wrk -t1)")
    pool = r["max_connections"] or "default"
    wait = r["pool_timeout"] or "default"
    print(
        f"upstream answers after {r['upstream_delay_ms']:g} ms; "
        f"yamcp: upstream pool {pool}, pool wait {wait}\n"
    )
    print(
        f"{'conns':>6}{'direct/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'yamcp/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'of direct':>11}{'all reached':>13}"
    )
    for conns in LATENCY_CONNECTIONS:
        d, y = r["latency"]["direct"][f"c{conns}"], r["latency"]["yamcp"][f"c{conns}"]
        reached = d["all_reached_upstream"] and y["all_reached_upstream"]
        print(
            f"{conns:>6}{d['rps']:>10.0f}{d['p50_ms']:>9.1f}{d['p99_ms']:>9.1f}"
            f"{y['rps']:>10.0f}{y['p50_ms']:>9.1f}{y['p99_ms']:>9.1f}"
            f"{y['rps'] / d['rps']:>10.0%}{'yes' if reached else 'NO':>13}"
        )


def report(r: dict) -> None:
    machine = r["machine"]
    print(f"machine: {machine['cpus']} CPUs, Python {machine['python']}, {machine['platform']}")
    print(f"command: {r['command']}  ({r['duration_s']:g} s per run, wrk -t1)")
    print(f"yamcp: {r['workers']} worker(s), {r['store']} store\n")
    print(f"{'target':<10}{'conns':>6}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for name, runs in r["throughput"].items():
        for conns, run in runs.items():
            errors = run["non_2xx"] + (1 if run["socket_errors"] else 0)
            print(
                f"{name:<10}{conns[1:]:>6}{run['rps']:>10.0f}{run['p50_ms']:>9.2f}"
                f"{run['p99_ms']:>9.2f}{errors:>8}"
            )
    print()
    for key, value in r["ratios"].items():
        print(f"{key:<32}{value:>8.2f}")
    tl = r["tools_list"]
    print(
        f"\ntools/list: {tl['tools']} tools, {tl['bytes']} bytes, "
        f"p50 {tl['p50_ms']:.2f} ms, p99 {tl['p99_ms']:.2f} ms at 1 connection"
    )
    print(f"start-up (to /readyz): median {r['startup_s']['median'] * 1000:.0f} ms")
    m = r["memory"]
    print(
        f"memory: peak {m['peak_kib'] / 1024:.1f} MiB; "
        f"RSS {m['rss_after_warmup_kib'] / 1024:.1f} MiB "
        f"after warm-up, {m['rss_after_kib'] / 1024:.1f} MiB after {m['calls']} calls "
        f"({m['growth_after_warmup_kib']:+d} KiB)"
    )


if __name__ == "__main__":
    main()
