"""Operators that name lineage their base class misses (see imdb_pipeline/lineage.py for the naming)."""

from __future__ import annotations

from collections.abc import Sequence

from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator

from imdb_pipeline import lineage


class SQLWithCteInputsOperator(SQLExecuteQueryOperator):
    """SQLExecuteQueryOperator whose OpenLineage inputs also list `cte_inputs`: tables its statements
    read inside a CTE, which the provider's SQL parser drops when it parses with a default schema
    (openlineage-sql 1.52: `with a as (select ... from s.t) select ...` lists no `s.t`). The provider
    merges no other lineage into an operator whose extractor found some, so it is added here."""

    def __init__(self, *, cte_inputs: Sequence[str], **kwargs) -> None:
        super().__init__(**kwargs)
        self.cte_inputs = list(cte_inputs)

    def get_openlineage_facets_on_start(self):
        # get_openlineage_facets_on_complete starts from this method's result, so both events get them.
        from airflow.providers.common.compat.openlineage.facet import Dataset

        operator_lineage = super().get_openlineage_facets_on_start()
        if operator_lineage is None:
            return None
        parsed = {(dataset.namespace, dataset.name) for dataset in operator_lineage.inputs}
        named = lineage.warehouse_table_datasets(self.conn_id, self.cte_inputs)
        missing = [pair for pair in named if pair not in parsed]
        operator_lineage.inputs.extend(Dataset(namespace=namespace, name=name) for namespace, name in missing)
        return operator_lineage
