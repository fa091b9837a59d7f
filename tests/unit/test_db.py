"""db.py without a database: named parameters bound for both drivers, literals rendered safely."""

import pytest
from imdb_pipeline import db


class RecordingCursor:
    def __init__(self):
        self.executed = []

    def execute(self, sql, parameters=None):
        self.executed.append((sql, parameters))


def test_named_placeholders_become_positional_in_order():
    cursor = RecordingCursor()
    db.execute(cursor, "-- header\nselect %(a)s, %(b)s where x = %(a)s", {"a": 1, "b": "two"})
    assert cursor.executed == [("select %s, %s where x = %s", (1, "two", 1))]


def test_a_list_value_expands_for_in():
    cursor = RecordingCursor()
    db.execute(cursor, "select 1 where k in (%(keys)s)", {"keys": ["a", "b", "c"]})
    assert cursor.executed == [("select 1 where k in (%s, %s, %s)", ("a", "b", "c"))]
    with pytest.raises(ValueError, match="empty list"):
        db.execute(cursor, "select 1 where k in (%(keys)s)", {"keys": []})


def test_a_statement_without_placeholders_gets_no_parameters():
    cursor = RecordingCursor()
    db.execute(cursor, "drop table if exists t", {"unused": 1})
    assert cursor.executed == [("drop table if exists t", None)]


def test_render_puts_plain_values_as_literals():
    assert db.render("where b = %(batch_id)s and n = %(n)s", {"batch_id": "20261125T1-ab_c", "n": 3}) == (
        "where b = '20261125T1-ab_c' and n = 3"
    )


@pytest.mark.parametrize("value", ["x'; drop table t; --", "a b", "", None, 1.5, True, "é"])
def test_render_refuses_anything_that_could_leave_the_literal(value):
    with pytest.raises(ValueError, match="Refusing"):
        db.literal(value)
