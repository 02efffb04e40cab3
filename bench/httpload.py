"""Serving the project with gunicorn (one sync worker) and loading it with wrk, for
bench/open311.py. wrk runs one thread and one connection, as a single client would."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass
class Result:
    label: str
    p50: float  # milliseconds
    p99: float
    requests: int
    bad: int  # answers that were not 2xx/3xx
    cpu: float = 0.0  # CPU milliseconds per request: the worker plus its database backend


TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time of these processes so far (Linux /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def server_pids(master: int, database: str) -> list[int]:
    """gunicorn's worker(s) under `master`, and the PostgreSQL backends connected to
    `database` (their process title names it); empty off Linux."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == master or (database and title.startswith("postgres: ") and database in title):
            found.append(int(entry.name))
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """A gunicorn with one sync worker serving bench_site; yields its base URL and the
    master's process id."""
    port = free_port()
    server_env = {
        **env,
        "DJANGO_SETTINGS_MODULE": "bench_site",
        "PYTHONPATH": os.pathsep.join([str(BENCH), str(BENCH.parent)]),
    }
    command = [
        sys.executable, "-m", "gunicorn", "--workers", "1", "--worker-class", "sync",
        "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--timeout", "120",
        "civic311.wsgi:application",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=server_env, cwd=BENCH.parent)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/bench/minimal.json", process)
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_until_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited before serving: see its output above.")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer {url} within a minute.")


def wrk(
    label: str,
    url: str,
    *,
    seconds: float,
    headers: dict[str, str] | None = None,
    script: str | None = None,
    pids: list[int] | None = None,
) -> Result:
    """Run wrk against `url` (one thread, one connection) and read its latency
    distribution. `script` is Lua (a POST body, for instance); `pids` are the processes
    whose CPU time is shared out over the requests."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk (Debian/Ubuntu).")
    command = ["wrk", "-t1", "-c1", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "30s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script or "")
    try:
        if script:
            command += ["-s", lua.name]
        before = cpu_seconds(pids or [])
        run = subprocess.run([*command, url], capture_output=True, text=True, check=True)
        used = cpu_seconds(pids or []) - before
    finally:
        os.unlink(lua.name)
    result = parse(label, run.stdout)
    result.cpu = used * 1000 / max(result.requests, 1)
    return result


def parse(label: str, output: str) -> Result:
    def latency(percent: str) -> float:
        match = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if not match:
            raise SystemExit(f"Could not read wrk's {percent}% latency for {label}:\n{output}")
        return float(match.group(1)) * UNITS[match.group(2)]

    done = re.search(r"(\d+) requests in", output)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return Result(
        label,
        latency("50"),
        latency("99"),
        int(done.group(1)) if done else 0,
        int(bad.group(1)) if bad else 0,
    )


def post_script(body: bytes | str, content_type: str, headers: dict[str, str]) -> str:
    """Lua making every request a POST with this body (read from a file when large)."""
    lines = ['wrk.method = "POST"', f'wrk.headers["Content-Type"] = "{content_type}"']
    lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in headers.items()]
    if isinstance(body, str):
        lines.append(f"wrk.body = {lua_string(body)}")
    else:
        path = Path(tempfile.gettempdir()) / f"bench-body-{os.getpid()}.bin"
        path.write_bytes(body)
        lines.append(f'local f = io.open("{path}", "rb"); wrk.body = f:read("*a"); f:close()')
    return "\n".join(lines) + "\n"


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
