"""`python -m local_stack up|down|status|doctor|demo` (behind `make up`, `make down`, `make status`, `make demo`)."""

from __future__ import annotations

import argparse
import sys

from local_stack.processes import StackError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_stack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("up", help="start and provision everything; returns when all is ready")
    start.add_argument("--without-airflow", action="store_true", help="only the emulator and the warehouse")
    commands.add_parser("down", help="stop every service of the stack")
    commands.add_parser("status", help="show each service and its port")
    commands.add_parser("doctor", help="check the running stack's settings, connections and services")
    commands.add_parser("demo", help="up, upload the seed file, wait for its DAG run, print a summary")
    cli = commands.add_parser("airflow", help="run an Airflow CLI command against the running stack")
    cli.add_argument("arguments", nargs=argparse.REMAINDER, help="e.g. backfill create --dag-id ...")
    options = parser.parse_args(argv)

    from local_stack import stack

    try:
        if options.command == "airflow":
            return run_airflow_cli(options.arguments)
        if options.command == "up":
            stack.up(with_airflow=not options.without_airflow)
        elif options.command == "down":
            stack.down()
        elif options.command == "status":
            return 0 if stack.print_status() else 3
        elif options.command == "doctor":
            from local_stack.doctor import run_doctor

            return run_doctor()
        else:
            from local_stack.demo import run_demo

            return run_demo()
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def run_airflow_cli(arguments: list[str]) -> int:
    """The Airflow CLI with the stack's environment (its metadata DB, connections and variables)."""
    import os
    from pathlib import Path

    from local_stack.environment import airflow_env
    from local_stack.settings import read_stack

    airflow = str(Path(sys.executable).with_name("airflow"))
    os.execve(airflow, [airflow, *arguments], {**os.environ, **airflow_env(read_stack())})


if __name__ == "__main__":
    sys.exit(main())
