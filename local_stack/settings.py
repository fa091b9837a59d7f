"""Where the local stack keeps its state and which ports it uses (overridable from the environment)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
# moto's default account: emulated ARNs and queue URLs carry it.
ACCOUNT_ID = "123456789012"
# Dummy credentials: boto3 needs some, the emulator accepts any.
DUMMY_ACCESS_KEY_ID = "local-stack"
DUMMY_SECRET_ACCESS_KEY = "local-stack"
AIRFLOW_USER = "admin"


@dataclass(frozen=True)
class Ports:
    """TCP ports of the services, each overridable by its environment variable."""

    emulator: int
    postgres: int
    airflow: int
    airflow_db: int

    @classmethod
    def from_environment(cls) -> Ports:
        return cls(
            emulator=_port("IMDB_EMULATOR_PORT", 5055),
            postgres=_port("IMDB_POSTGRES_PORT", 5433),
            airflow=_port("IMDB_AIRFLOW_PORT", 8080),
            airflow_db=_port("IMDB_AIRFLOW_DB_PORT", 5434),
        )


PORT_VARIABLES = {
    "emulator": "IMDB_EMULATOR_PORT",
    "postgres": "IMDB_POSTGRES_PORT",
    "airflow": "IMDB_AIRFLOW_PORT",
    "airflow-db": "IMDB_AIRFLOW_DB_PORT",
}


def _port(variable: str, default: int) -> int:
    raw = os.environ.get(variable, str(default))
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ValueError(f"{variable}={raw!r} is not a TCP port number")
    return int(raw)


def local_dir() -> Path:
    """The stack's state directory (`.local/` in the repository unless IMDB_LOCAL_DIR says otherwise)."""
    return Path(os.environ.get("IMDB_LOCAL_DIR", REPO_ROOT / ".local")).resolve()


def stack_file() -> Path:
    return local_dir() / "stack.json"


def read_stack() -> dict:
    """The description `make up` wrote: endpoints, names, DSN and login. Fails clearly if absent."""
    from local_stack.processes import StackError

    path = stack_file()
    if not path.exists():
        raise StackError(f"no local stack is running ({path} is missing): start it with `make up`")
    return json.loads(path.read_text())


def write_stack(stack: dict) -> Path:
    """Write the stack's description, readable by its owner only: it holds the Airflow admin's password."""
    path = stack_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # a file left by an older version keeps its wider mode otherwise
    with os.fdopen(descriptor, "w") as file:
        file.write(json.dumps(stack, indent=2, sort_keys=True) + "\n")
    return path
