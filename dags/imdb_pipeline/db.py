"""Warehouse connections and SQL files: one place for opening, transacting and reading SQL.

Functions take a DB-API connection (psycopg2/psycopg for a `postgres` Airflow connection,
redshift_connector for `redshift`), so they run the same from tasks and tests. Nothing here
does I/O at import.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from imdb_pipeline import config

DIALECTS = ("redshift", "postgres")
# No statement of the pipeline runs longer, and none waits longer for a lock (PostgreSQL; Redshift
# has no lock_timeout: its statement_timeout bounds the wait for a LOCK too).
STATEMENT_TIMEOUT_MS = 15 * 60 * 1000
LOCK_TIMEOUT_MS = 2 * 60 * 1000
_NAMED_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_SAFE_LITERAL = re.compile(r"^[A-Za-z0-9+=,.@_/:-]+$")


@contextmanager
def connect(conn_id: str) -> Iterator[Any]:
    """A DB-API connection for the Airflow connection `conn_id` (type `redshift` or `postgres`)."""
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id).get_hook().get_conn()
    try:
        with transaction(conn) as cursor:
            for statement in session_settings(dialect_of(conn)):
                cursor.execute(statement)
        yield conn
    finally:
        conn.close()


@contextmanager
def transaction(conn: Any) -> Iterator[Any]:
    """A cursor whose work commits when the block ends and rolls back if it raises."""
    cursor = conn.cursor()
    try:
        yield cursor
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        cursor.close()


def session_settings(dialect: str) -> list[str]:
    """Statements that bound a session's statements and lock waits, so a stuck one fails instead of
    blocking every later run."""
    settings = [f"set statement_timeout to {STATEMENT_TIMEOUT_MS}"]
    if dialect == "postgres":
        settings.append(f"set lock_timeout to {LOCK_TIMEOUT_MS}")
    return settings


def dialect_of(conn: Any) -> str:
    """`redshift` or `postgres`, from the DB-API driver the Airflow connection type chose."""
    driver = type(conn).__module__.split(".")[0]
    dialects = {"redshift_connector": "redshift", "psycopg2": "postgres", "psycopg": "postgres"}
    if driver not in dialects:
        raise ValueError(f"Unsupported warehouse connection {type(conn)!r}: expected redshift or postgres")
    return dialects[driver]


def sql_text(relative_path: str) -> str:
    """The text of `include/sql/<relative_path>`."""
    return (config.include_dir() / "sql" / relative_path).read_text(encoding="utf-8")


def split_statements(text: str) -> list[str]:
    """The statements of an SQL text, split at semicolons outside strings and comments."""
    from sqlglot.tokens import Tokenizer, TokenType

    statements, start = [], 0
    for token in Tokenizer(dialect="redshift").tokenize(text):
        if token.token_type == TokenType.SEMICOLON:
            statements.append(text[start : token.start])
            start = token.end + 1
    statements.append(text[start:])
    return [statement.strip() for statement in statements if _has_code(statement)]


def _has_code(statement: str) -> bool:
    from sqlglot.tokens import Tokenizer

    return bool(Tokenizer(dialect="redshift").tokenize(statement))


def execute(cursor: Any, statement: str, parameters: Mapping[str, Any] | None = None) -> None:
    """Run one statement, binding `%(name)s` placeholders from `parameters`.

    Both drivers accept the `format` paramstyle (`%s`), not both `pyformat`: each named placeholder
    becomes `%s` with its value bound in place; a list or tuple value becomes `%s, %s, ...` (for `in`).
    """
    statement = _without_leading_comments(statement)
    names = _NAMED_PLACEHOLDER.findall(statement)
    if not names:
        cursor.execute(statement)
        return
    values: list[Any] = []

    def bind(match: re.Match) -> str:
        value = parameters[match.group(1)]
        if isinstance(value, list | tuple):
            if not value:
                raise ValueError(f"Parameter {match.group(1)!r} is an empty list: nothing to bind")
            values.extend(value)
            return ", ".join(["%s"] * len(value))
        values.append(value)
        return "%s"

    cursor.execute(_NAMED_PLACEHOLDER.sub(bind, statement), tuple(values))


def _without_leading_comments(statement: str) -> str:
    """The statement from its first token on: a file's header comment is documentation, not SQL sent."""
    from sqlglot.tokens import Tokenizer

    tokens = Tokenizer(dialect="redshift").tokenize(statement)
    return statement[tokens[0].start :] if tokens else statement


def render(statement: str, parameters: Mapping[str, Any]) -> str:
    """The statement with `%(name)s` placeholders replaced by SQL literals, for an operator that runs
    SQL text as given. Only plain tokens and numbers are accepted as values (see `literal`)."""
    return _NAMED_PLACEHOLDER.sub(lambda match: literal(parameters[match.group(1)]), statement)


def literal(value: Any) -> str:
    """A value as an SQL literal, for the few places where a driver cannot bind it (COPY, rendered SQL).

    Refuses anything but numbers and strings of letters, digits and `+=,.@_/:-`: such a string
    cannot end the literal or start another statement.
    """
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"Refusing to put {value!r} into SQL text: only numbers and plain strings")
    if isinstance(value, int):
        return str(value)
    if not _SAFE_LITERAL.match(value):
        raise ValueError(f"Refusing to put {value!r} into SQL text")
    return f"'{value}'"
