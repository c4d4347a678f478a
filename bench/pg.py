"""A throwaway PostgreSQL cluster for benchmarks and tests: initdb in a temp dir, start on a free loopback port.

    with PgCluster() as pg:          # initdb + pg_ctl start + createdb
        url = pg.url                 # postgresql://postgres@127.0.0.1:PORT/ibot
    # stopped and deleted

Uses Debian's `postgresql` binaries (/usr/lib/postgresql/<version>/bin, the newest one), `pg_config
--bindir`, or IBOT_PG_BIN. PostgreSQL refuses to run as root: as root every server command runs as
the `postgres` OS user (the cluster directory is handed to it); as anyone else it runs as that user.
Trust authentication on loopback only, the Unix socket in the cluster's own directory: nothing
outside the temp dir is touched. `python -m bench.pg` starts one and waits (Ctrl-C stops it).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["PgCluster", "PgUnavailableError", "find_pg_bin", "pg_available"]


class PgUnavailableError(RuntimeError):
    """No usable PostgreSQL server binaries on this machine."""


def find_pg_bin() -> Path:
    """The directory holding initdb and pg_ctl."""
    env = os.environ.get("IBOT_PG_BIN")
    candidates = [Path(env)] if env else []
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    candidates += list(reversed(debian))
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            candidates.append(Path(subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True).stdout.strip()))
        except (OSError, subprocess.CalledProcessError):
            pass
    if shutil.which("initdb"):
        candidates.append(Path(shutil.which("initdb")).parent)  # type: ignore[arg-type]
    for c in candidates:
        if (c / "initdb").exists() and (c / "pg_ctl").exists():
            return c
    raise PgUnavailableError("PostgreSQL server binaries not found: `apt-get install -y postgresql` (or set IBOT_PG_BIN)")


def pg_available() -> bool:
    """True when a throwaway cluster can be started here (binaries present; as root, a `postgres` user exists)."""
    try:
        find_pg_bin()
        if os.geteuid() == 0:
            pwd.getpwnam("postgres")
        return True
    except (PgUnavailableError, KeyError):
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    """One PostgreSQL server in a temp dir; `url` points at database `dbname` as superuser `postgres`."""

    def __init__(self, dbname: str = "ibot", port: int | None = None, base_dir: str | Path | None = None, keep: bool = False):
        self.bin = find_pg_bin()
        self.dbname = dbname
        self.port = port or _free_port()
        self.keep = keep
        self.root = Path(tempfile.mkdtemp(prefix="ibot-pg-", dir=base_dir))
        self.datadir = self.root / "data"
        self.log = self.root / "postgres.log"
        self._run_as: str | None = None
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise PgUnavailableError("running as root and there is no `postgres` OS user to run the server as") from None
            self._run_as = "postgres"
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            os.chmod(self.root, 0o700)
        self.started = False

    @property
    def url(self) -> str:
        """The libpq URL of the benchmark database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.dbname}"

    def admin_url(self, dbname: str = "postgres") -> str:
        """A URL for another database of the cluster."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        cmd = [str(self.bin / args[0]), *args[1:]]
        out = subprocess.run(
            cmd, user=self._run_as, cwd=self.root, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
            env={**os.environ, "LC_ALL": "C", "PGTZ": "UTC"},
        )
        if out.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed ({out.returncode}): {out.stderr[-2000:]}{out.stdout[-1000:]}\n{log}")
        return out

    def start(self, timeout: float = 60) -> PgCluster:
        """initdb (once), start the server, create the database; returns self."""
        if not (self.datadir / "PG_VERSION").exists():
            self._run("initdb", "-D", str(self.datadir), "--username=postgres", "--auth=trust", "--encoding=UTF8", "--no-instructions")
        opts = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=100"
            " -c shared_buffers=64MB -c logging_collector=off"
        )
        self._run("pg_ctl", "-D", str(self.datadir), "-l", str(self.log), "-o", opts, "-w", "-t", str(int(timeout)), "start", timeout=timeout + 10)
        self.started = True
        exists = self._run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres", "-tAc",
                           f"SELECT 1 FROM pg_database WHERE datname = '{self.dbname}'")
        if exists.stdout.strip() != "1":
            self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", self.dbname)
        return self

    def restart(self, timeout: float = 60) -> None:
        """Stop (fast) and start the server again on the same port and data: a database restart."""
        self._run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop", timeout=timeout)
        self.started = False
        self.start(timeout)

    def psql(self, sql: str, dbname: str | None = None) -> str:
        """Run one SQL string with psql (tuples only, unaligned) and return its output."""
        return self._run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", dbname or self.dbname, "-tAc", sql).stdout

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete the cluster directory unless keep=True."""
        if self.started:
            try:
                self._run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop", timeout=60)
            except (RuntimeError, subprocess.TimeoutExpired):
                self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop", timeout=60)
            self.started = False
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PgCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    """Start a cluster, print its URL, wait for Ctrl-C."""
    with PgCluster() as pg:
        print(pg.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
