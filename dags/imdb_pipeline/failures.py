"""Failures that a retry cannot change: bad input, a failed quality gate. Tasks fail at once on them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class PermanentFailure(Exception):
    """The data, not the infrastructure, is at fault: retrying the task would fail the same way."""


@contextmanager
def fail_fast() -> Iterator[None]:
    """Turn a PermanentFailure into Airflow's fail-without-retry, keeping its message."""
    from airflow.exceptions import AirflowFailException

    try:
        yield
    except PermanentFailure as failure:
        raise AirflowFailException(str(failure)) from failure
