"""Starting and measuring server processes: Baraza (wsgi.py), the bare relay, a private Redis, PostgreSQL.

Server CPU is utime+stime from /proc/<pid>/stat; memory is VmRSS/VmHWM from /proc/<pid>/status.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
BENCH_DB = "bench"  # the PostgreSQL database this benchmark owns; never `test`


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def memory_kb(pid: int, key: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not start:\n{log.read_text()[-3000:]}")


@dataclass
class Process:
    """One server process on one port."""

    port: int
    proc: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@dataclass
class Cluster:
    """The server processes under test (one, or two sharing a message queue) and how to measure them."""

    kind: str  # "baraza" or "relay"
    processes: list[Process] = field(default_factory=list)
    database_url: str | None = None
    env: dict = field(default_factory=dict)

    @property
    def urls(self) -> list[str]:
        return [p.url for p in self.processes]

    def cpu(self) -> float:
        return sum(cpu_seconds(p.proc.pid) for p in self.processes)

    def rss_kb(self) -> int:
        return sum(memory_kb(p.proc.pid) for p in self.processes)

    def peak_kb(self) -> int:
        return sum(memory_kb(p.proc.pid, "VmHWM") for p in self.processes)

    def db_bytes(self) -> int | None:
        if not self.database_url:
            return None
        if self.database_url.startswith("sqlite:///"):
            import sqlite3

            path = Path(self.database_url.removeprefix("sqlite:///"))
            # The WAL holds rewritten pages, not growth: fold it into the file first (as SQLite does by itself
            # every 1,000 pages), then the file size is the data.
            conn = sqlite3.connect(path, timeout=5)
            try:
                busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            finally:
                conn.close()
            if busy:  # the server was writing: the WAL could not be folded in, the size would mislead
                return None
            return path.stat().st_size
        import sqlalchemy as sa

        engine = sa.create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar()
        finally:
            engine.dispose()

    def stop(self) -> None:
        for p in self.processes:
            p.stop()


def start_baraza(
    workdir: Path,
    mode: str = "eventlet",
    workers: int = 1,
    database_url: str | None = None,
    queue: str | None = None,
) -> Cluster:
    """wsgi.py, the production entry point, once per worker; each upgrades the schema before serving."""
    database_url = database_url or f"sqlite:///{workdir / 'baraza.sqlite3'}"
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "SECRET_KEY": secrets.token_hex(16),
        "DATABASE_URL": database_url,
        "SESSION_COOKIE_SECURE": "0",
        "PREFERRED_URL_SCHEME": "http",
        "BARAZA_ENV": "development",
        "FLASK_DEBUG": "0",
        "SOCKETIO_ASYNC_MODE": mode,
        "MAX_CONNECTIONS": "5000",
        # The one flood-control change: the moderator approves 10-30 contributions a second. Participants keep
        # the production limits (each of them posts or votes rarely; the load is spread across them).
        "LIVE_MODERATOR_FACTOR": "40",
    }
    if queue:
        env["SOCKETIO_MESSAGE_QUEUE"] = queue
    cluster = Cluster("baraza", database_url=database_url, env=env)
    for index in range(workers):
        port = free_port()
        log = workdir / f"baraza-{index}-{port}.log"
        proc = subprocess.Popen(
            [sys.executable, "wsgi.py"],
            cwd=ROOT,
            env={**env, "PORT": str(port)},
            stdout=open(log, "w"),  # noqa: SIM115 - the child keeps it
            stderr=subprocess.STDOUT,
        )
        process = Process(port, proc, log)
        cluster.processes.append(process)
        try:
            # One after the other: two simultaneous schema upgrades of an empty database would race.
            wait_http(process.url + "/healthz", proc, log)
        except Exception:
            cluster.stop()
            raise
    return cluster


def start_relay(workdir: Path, mode: str = "eventlet", workers: int = 1, queue: str | None = None) -> Cluster:
    cluster = Cluster("relay")
    channel = f"bench-relay-{secrets.token_hex(4)}"
    for index in range(workers):
        port = free_port()
        log = workdir / f"relay-{index}-{port}.log"
        args = [sys.executable, "-m", "bench.relay", "--port", str(port), "--mode", mode, "--channel", channel]
        if queue:
            args += ["--queue", queue]
        proc = subprocess.Popen(args, cwd=ROOT, stdout=open(log, "w"), stderr=subprocess.STDOUT)  # noqa: SIM115
        process = Process(port, proc, log)
        cluster.processes.append(process)
        try:
            wait_http(process.url + "/", proc, log)
        except Exception:
            cluster.stop()
            raise
    return cluster


class PrivateRedis:
    """A redis-server of our own on a free port: Baraza publishes on Flask-SocketIO's fixed default channel
    ("flask-socketio"; the app has no setting for it), so the machine's shared Redis would mix our traffic
    with anyone else's on that channel."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = workdir / f"redis-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    def start(self) -> PrivateRedis:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=open(self.log, "w"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        import redis

        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                if redis.Redis(port=self.port, socket_timeout=1).ping():
                    return self
            except redis.RedisError:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)


def postgres_url(base: str) -> str | None:
    """Create (once) and empty the `bench` database; None when PostgreSQL cannot be reached."""
    import sqlalchemy as sa

    server, _, _name = base.rpartition("/")
    url = f"{server}/{BENCH_DB}"
    try:
        admin = sa.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": BENCH_DB}).first()
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{BENCH_DB}"'))
        admin.dispose()
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    except sa.exc.SQLAlchemyError:
        return None
    return url
