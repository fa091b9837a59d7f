"""Background services: start in their own process group, record a pid file, stop without leftovers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path


class StackError(RuntimeError):
    """A problem the user can act on; the message says what happened and the way out."""


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port nothing listens on right now (for tests and benchmarks)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def spawn(argv: list[str], log_path: Path, env: dict[str, str] | None = None,
          cwd: Path | None = None) -> subprocess.Popen:
    """Start `argv` as the leader of a new process group, output appended to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, cwd=cwd, start_new_session=True)


def is_alive(pid: int) -> bool:
    """True for a running process; zombies (exited, not yet reaped) count as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return True
    return state != "Z"


def stop_process_group(pid: int, timeout: float = 15.0) -> None:
    """SIGTERM the group led by `pid`, SIGKILL what is left after `timeout` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + (timeout if sig == signal.SIGTERM else 5.0)
        while time.monotonic() < deadline:
            _reap(pid)
            if not group_alive(pid):
                return
            time.sleep(0.1)


def group_alive(pgid: int) -> bool:
    """Whether a process of group `pgid` still runs (zombies do not)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


def _reap(pid: int) -> None:
    """Collect our own child's exit status so it does not linger as a zombie."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


class PidFiles:
    """One JSON pid file per service under `<run_dir>`: pid (the process group leader), port, log."""

    def __init__(self, run_dir: Path):
        self.run_dir = run_dir

    def path(self, service: str) -> Path:
        return self.run_dir / f"{service}.pid"

    def write(self, service: str, pid: int, port: int, log_path: Path) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        record = {"pid": pid, "port": port, "log": str(log_path)}
        self.path(service).write_text(json.dumps(record) + "\n")

    def read(self, service: str) -> dict | None:
        path = self.path(service)
        if not path.exists():
            return None
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError:
            return {"pid": None, "port": None, "log": None}

    def running(self, service: str) -> dict | None:
        """The service's record if its process is alive; a stale pid file is removed."""
        record = self.read(service)
        if record is None:
            return None
        if record.get("pid") and is_alive(record["pid"]):
            return record
        self.path(service).unlink(missing_ok=True)
        return None

    def clean_stale(self) -> list[str]:
        """Remove pid files whose process is gone; return those services."""
        stale = []
        for path in sorted(self.run_dir.glob("*.pid")):
            if self.running(path.stem) is None:
                stale.append(path.stem)
        return stale

    def stop(self, service: str) -> bool:
        """Stop the service's process group; True if something was running."""
        record = self.running(service)
        if record is None:
            return False
        stop_process_group(record["pid"])
        self.path(service).unlink(missing_ok=True)
        return True


def tail(path: Path | None, lines: int = 30) -> str:
    if path is None or not Path(path).exists():
        return "(no log)"
    return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])


def wait_until(check: Callable[[], bool], timeout: float, what: str, log_path: Path | None = None,
               process: subprocess.Popen | None = None, interval: float = 0.2,
               say: Callable[[str], None] | None = None, say_every: float = 10.0) -> None:
    """Poll `check` until true; on timeout or if `process` dies, raise with the end of its log.

    With `say`, a line every `say_every` seconds tells what is awaited and for how long so far.
    """
    started = time.monotonic()
    deadline = started + timeout
    next_report = started + say_every
    while time.monotonic() < deadline:
        if check():
            return
        if say is not None and time.monotonic() >= next_report:
            say(f"           still waiting for {what}: {time.monotonic() - started:.0f} s of at most {timeout:.0f} s")
            next_report += say_every
        if process is not None and process.poll() is not None:
            raise StackError(f"{what} exited with code {process.returncode} before it was ready. "
                             f"End of {log_path}:\n{tail(log_path)}")
        time.sleep(interval)
    raise StackError(f"{what} was not ready after {timeout:.0f} s. End of {log_path}:\n{tail(log_path)}")


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False
