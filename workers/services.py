"""Private PostgreSQL+PostGIS and Redis servers for a checkout, started on free loopback ports.

Used when GRIDWATCH_DATABASE_URL / GRIDWATCH_REDIS_URL are not given. What runs is recorded in
HOME/services.json so every other command finds it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from geodata.db import web_role_url

logger = logging.getLogger(__name__)

DATABASE_NAME = "gridwatch"


class ServiceError(RuntimeError):
    """A private service could not be started or reached."""


@dataclass(frozen=True)
class PostgresBinaries:
    bindir: Path
    version: str


def find_postgres() -> PostgresBinaries:
    """The newest installed PostgreSQL that also has PostGIS."""
    root = Path("/usr/lib/postgresql")
    versions = sorted(
        (p.name for p in root.iterdir() if (p / "bin" / "initdb").exists()) if root.exists() else [],
        key=lambda v: int(v.split(".")[0]),
        reverse=True,
    )
    for version in versions:
        if list(Path(f"/usr/share/postgresql/{version}/extension").glob("postgis.control")):
            return PostgresBinaries(root / version / "bin", version)
    if versions:
        raise ServiceError(
            f"PostgreSQL {versions[0]} has no PostGIS: apt-get install postgresql-{versions[0]}-postgis-3"
        )
    raise ServiceError("PostgreSQL is not installed: apt-get install postgresql postgresql-15-postgis-3")


def data_root(home: Path) -> Path:
    """Where the servers keep their data: reachable by the postgres user, unique per checkout."""
    digest = hashlib.sha1(str(home.resolve()).encode()).hexdigest()[:12]
    if os.geteuid() == 0:
        base = Path("/var/lib/gridwatch")
    else:
        base = Path(tempfile.gettempdir()) / f"gridwatch-{os.getuid()}"
    return base / digest


def free_port(preferred: int | None = None) -> int:
    """A free loopback port, the preferred one when it is still free."""
    candidates = [preferred] if preferred else []
    candidates.append(0)
    for port in candidates:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            # As the servers do: a port whose old connections linger in TIME_WAIT is still usable,
            # so a restarted server gets its old port back and clients' URLs stay valid.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise ServiceError("no free port on 127.0.0.1")


def _redis_ready(port: int) -> bool:
    """True once Redis answers PING with PONG (not LOADING, not a refused connection)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class PrivateServices:
    """Start, stop and report the private servers of one checkout."""

    def __init__(self, home: Path):
        self.home = home
        self.record_file = home / "services.json"
        self.root = data_root(home)
        self.pgdata = self.root / "pg"
        self.sockdir = self.root / "sock"
        self.redisdir = self.root / "redis"
        self.pglogdir = self.root / "pglog"
        self.as_postgres = os.geteuid() == 0

    # -- recording ---------------------------------------------------------------------------
    def recorded(self) -> dict:
        if self.record_file.exists():
            return json.loads(self.record_file.read_text())
        return {}

    def _record(self, data: dict) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        tmp = self.record_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(self.record_file)

    # -- helpers -----------------------------------------------------------------------------
    def _run_pg(self, args: list[str], **kw) -> subprocess.CompletedProcess:
        # initdb refuses to run as root: run the server tools as the postgres system user.
        if self.as_postgres:
            args = ["runuser", "-u", "postgres", "--", *args]
        return subprocess.run(args, capture_output=True, text=True, **kw)

    def _prepare_dirs(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.sockdir.mkdir(exist_ok=True)
        self.redisdir.mkdir(exist_ok=True)
        self.pglogdir.mkdir(exist_ok=True)
        if self.as_postgres:
            pw = pwd.getpwnam("postgres")
            for parent in [self.root, *self.root.parents]:
                if parent == Path("/"):
                    break
                if parent.stat().st_mode & 0o005 != 0o005:
                    parent.chmod(parent.stat().st_mode | 0o755)
            os.chown(self.sockdir, pw.pw_uid, pw.pw_gid)
            os.chown(self.pglogdir, pw.pw_uid, pw.pw_gid)
            if self.pgdata.exists():
                os.chown(self.pgdata, pw.pw_uid, pw.pw_gid)

    # -- PostgreSQL --------------------------------------------------------------------------
    def _pg_running(self, bins: PostgresBinaries) -> bool:
        if not (self.pgdata / "PG_VERSION").exists():
            return False
        res = self._run_pg([str(bins.bindir / "pg_ctl"), "-D", str(self.pgdata), "status"])
        return res.returncode == 0

    def _start_postgres(self, port_hint: int | None) -> int:
        bins = find_postgres()
        self._prepare_dirs()
        if not (self.pgdata / "PG_VERSION").exists():
            if self.as_postgres:
                self.pgdata.mkdir(exist_ok=True)
                pw = pwd.getpwnam("postgres")
                os.chown(self.pgdata, pw.pw_uid, pw.pw_gid)
            res = self._run_pg(
                [str(bins.bindir / "initdb"), "-D", str(self.pgdata), "-U", "postgres",
                 "--auth=trust", "-E", "UTF8", "--no-locale"]
            )
            if res.returncode != 0:
                raise ServiceError(f"initdb failed: {res.stderr.strip() or res.stdout.strip()}")
        if self._pg_running(bins):
            port = self._pg_port()
            if port:
                return port
        port = free_port(port_hint)
        opts = (f"-p {port} -k {self.sockdir} -c listen_addresses=127.0.0.1 "
                "-c shared_buffers=256MB -c max_connections=200")
        res = self._run_pg(
            [str(bins.bindir / "pg_ctl"), "-D", str(self.pgdata), "-o", opts,
             "-l", str(self.pglogdir / "postgres.log"), "-w", "-t", "60", "start"]
        )
        if res.returncode != 0:
            log = self.pglogdir / "postgres.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise ServiceError(f"PostgreSQL did not start: {res.stderr.strip()}\n{tail}")
        (self.root / "pg.port").write_text(str(port))
        self._ensure_database(port)
        return port

    def _pg_port(self) -> int | None:
        f = self.root / "pg.port"
        return int(f.read_text()) if f.exists() else None

    def _ensure_database(self, port: int) -> None:
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')

    def stop_postgres(self) -> None:
        """Stop the private PostgreSQL (a fast shutdown: sessions are disconnected)."""
        try:
            bins = find_postgres()
        except ServiceError:
            return
        if self._pg_running(bins):
            self._run_pg([str(bins.bindir / "pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"])

    # -- Redis -------------------------------------------------------------------------------
    def _redis_pid(self) -> int | None:
        f = self.redisdir / "redis.pid"
        if not f.exists():
            return None
        try:
            pid = int(f.read_text().strip())
            os.kill(pid, 0)
            return pid
        except (ValueError, ProcessLookupError, PermissionError):
            return None

    def _start_redis(self, port_hint: int | None) -> int:
        if shutil.which("redis-server") is None:
            raise ServiceError("redis-server is not installed: apt-get install redis-server")
        self._prepare_dirs()
        port_file = self.redisdir / "redis.port"
        if self._redis_pid() and port_file.exists():
            port = int(port_file.read_text())
            deadline = time.monotonic() + 30
            while not _redis_ready(port) and time.monotonic() < deadline:
                time.sleep(0.05)
            return port
        port = free_port(port_hint)
        # Append-only persistence: the bus is a durable queue, a restart must not lose reports.
        res = subprocess.run(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(self.redisdir),
             "--appendonly", "yes", "--save", "", "--daemonize", "yes",
             "--pidfile", str(self.redisdir / "redis.pid"), "--logfile", str(self.redisdir / "redis.log")],
            capture_output=True, text=True,
        )
        if res.returncode != 0:
            raise ServiceError(f"redis-server did not start: {res.stderr.strip()}")
        deadline = time.monotonic() + 30
        # An open port is not a ready server: while it replays the append-only file Redis answers
        # every command with LOADING, so wait for a real PONG before handing the URL out.
        while not _redis_ready(port):
            if time.monotonic() > deadline:
                raise ServiceError(f"redis-server did not answer on port {port}; see {self.redisdir / 'redis.log'}")
            time.sleep(0.05)
        port_file.write_text(str(port))
        return port

    def stop_redis(self) -> None:
        """Stop the private Redis; with append-only persistence it comes back with its data."""
        pid = self._redis_pid()
        if not pid:
            return
        os.kill(pid, 15)
        deadline = time.monotonic() + 10
        while self._redis_pid() and time.monotonic() < deadline:
            time.sleep(0.05)

    # -- public ------------------------------------------------------------------------------
    def up(self) -> dict:
        """Start both servers (idempotent) and record their URLs."""
        rec = self.recorded()
        pg_port = self._start_postgres(rec.get("pg_port"))
        redis_port = self._start_redis(rec.get("redis_port"))
        database_url = f"postgresql://postgres@127.0.0.1:{pg_port}/{DATABASE_NAME}"
        data = {
            "database_url": database_url,
            # The dashboard's own role (migration 0020; the cluster trusts loopback, so no password).
            "web_database_url": web_role_url(database_url),
            "redis_url": f"redis://127.0.0.1:{redis_port}/0",
            "pg_port": pg_port,
            "redis_port": redis_port,
            "data_dir": str(self.root),
            "private": True,
        }
        self._record(data)
        return data

    def down(self) -> None:
        self.stop_redis()
        self.stop_postgres()

    def destroy(self) -> None:
        """Stop both servers and delete their data (throw-away clusters of tests)."""
        self.down()
        shutil.rmtree(self.root, ignore_errors=True)

    def status(self) -> dict:
        rec = self.recorded()
        try:
            pg_up = self._pg_running(find_postgres())
        except ServiceError:
            pg_up = False
        return {
            "database_url": rec.get("database_url") if pg_up else None,
            "redis_url": rec.get("redis_url") if self._redis_pid() else None,
            "data_dir": str(self.root),
        }
