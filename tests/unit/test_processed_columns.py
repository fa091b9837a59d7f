"""One declaration of the processed columns (`movies_quality.columns.PROCESSED`): every other place
that lists them must agree with it, so a column added in one place and not the others fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlglot
import yaml
from imdb_pipeline import db, quality, warehouse
from movies_quality.columns import PROCESSED, PROCESSED_COLUMNS
from sqlglot import exp

ROOT = Path(__file__).resolve().parents[2]
# Columns of imdb_movies that staging does not have, and the staging column it does not keep.
TARGET_ONLY = ("first_loaded_batch", "last_loaded_batch", "updated_at", "source_time", "source_modified_at")
# The Soda contract's type names: ones both Redshift and PostgreSQL report in information_schema.
CONTRACT_TYPES = {"char": "char", "varchar": "varchar", "integer": "integer", "bigint": "bigint",
                  "decimal": "numeric", "boolean": "boolean", "timestamp": "timestamp"}  # fmt: skip


def bound(sql: str) -> str:
    """The SQL with its `%(name)s` placeholders bound, as the warehouse receives it."""
    return re.sub(r"%\((\w+)\)s", "'B1'", sql)


def ddl_columns(table: str) -> list[tuple[str, str, bool]]:
    """(name, type, nullable) of a warehouse table as its Redshift DDL declares it."""
    for statement in warehouse.ddl_statements("redshift"):
        tree = sqlglot.parse_one(statement, read="redshift")
        if tree.args.get("kind") == "TABLE" and tree.find(exp.Table).name == table:
            return [
                (
                    column.name,
                    column.args["kind"].sql("redshift").lower().replace(" ", ""),
                    not any(isinstance(c.kind, exp.NotNullColumnConstraint) for c in column.constraints),
                )
                for column in tree.find_all(exp.ColumnDef)
            ]
    raise AssertionError(f"no DDL for {table}")


def test_staging_ddl_has_the_declared_names_types_widths_and_nullability():
    declared = [(c.name, c.warehouse_type, c.nullable) for c in PROCESSED]
    assert ddl_columns("imdb_movies_staging") == declared


def test_imdb_movies_has_the_declared_columns_but_batch_id_plus_its_own():
    declared = [(c.name, c.warehouse_type, c.nullable) for c in PROCESSED if c.name != "batch_id"]
    movies = ddl_columns("imdb_movies")
    assert [column for column in movies if column[0] not in TARGET_ONLY] == declared
    assert [column[0] for column in movies if column[0] in TARGET_ONLY] == list(TARGET_ONLY)


def test_soda_staging_contract_lists_the_declared_columns_and_types():
    contract = yaml.safe_load(quality.contract_file(quality.STAGING_CONTRACT).read_text())
    listed = [(column["name"], column["data_type"]) for column in contract["columns"]]
    declared = [(c.name, CONTRACT_TYPES[re.sub(r"\(.*", "", c.warehouse_type)]) for c in PROCESSED]
    assert listed == declared


def test_merge_moves_every_declared_column():
    statements = [sqlglot.parse_one(bound(s), read="redshift") for s in
                  db.split_statements(db.sql_text("movies/merge_imdb_movies.sql"))]  # fmt: skip
    (source,) = [s for s in statements if isinstance(s, exp.Create) and s.find(exp.Table).name == "merge_source"]
    # merge_source adds the times of the data (from the ledger) that decide which version wins.
    source_times = ["source_time", "source_modified_at"]
    assert [e.alias_or_name for e in source.expression.expressions] == [*PROCESSED_COLUMNS, *source_times]
    (ranked,) = [cte for cte in source.find_all(exp.CTE) if cte.alias == "ranked_rows"]
    assert [e.alias_or_name for e in ranked.this.expressions][:-1] == [*PROCESSED_COLUMNS, *source_times]
    (merge,) = [s for s in statements if isinstance(s, exp.Merge)]
    updated, inserted = merge.args["whens"].expressions
    kept = [name for name in PROCESSED_COLUMNS if name != "batch_id"]
    assert [eq.this.name for eq in updated.args["then"].expressions] == [
        *[name for name in kept if name != "movie_id"], "last_loaded_batch", "updated_at", *source_times
    ]
    assert [column.name for column in inserted.args["then"].this.expressions] == [*kept, *TARGET_ONLY]


def test_athena_table_lists_the_declared_columns():
    tree = sqlglot.parse_one(
        re.sub(r"\{\{.*?\}\}", "x", (ROOT / "include/sql/athena/create_processed_table.sql").read_text()),
        read="athena",
    )
    assert [column.name for column in tree.find(exp.Schema).expressions] == list(PROCESSED_COLUMNS)


def test_docs_table_lists_the_declared_columns_in_order():
    text = (ROOT / "docs" / "interfaces.md").read_text()
    table = text[text.index("Processed Parquet columns") :].split("\n\n")[1]
    names = []
    for line in table.splitlines()[2:]:
        cell = line.split("|")[1].strip()
        first, _, last = cell.partition(" .. ")
        if last:  # `star1 .. star4`
            stem = first.rstrip("0123456789")
            names += [f"{stem}{n}" for n in range(int(first[len(stem):]), int(last[len(stem):]) + 1)]
        else:
            names.append(cell)
    assert names == list(PROCESSED_COLUMNS)


@pytest.mark.parametrize("column", [c for c in PROCESSED if c.max_bytes], ids=lambda c: c.name)
def test_text_widths_come_from_the_declaration(column):
    assert column.max_bytes == int(re.search(r"\d+", column.warehouse_type).group())
