"""Outputs do not change: processed rows, quarantine rows and summary.json equal the golden copies
written by the job before its performance rework (see golden_outputs.py)."""

import pytest

from tests.unit.glue.golden_outputs import golden, run_case

pytestmark = pytest.mark.spark


@pytest.mark.parametrize("case", ["seed", "every_kind"])
def test_outputs_equal_the_golden_copies(spark, tmp_path, case):
    expected = golden(case)
    outputs = run_case(spark, case, tmp_path)

    assert outputs["summary"] == expected["summary"]
    assert outputs["processed_columns"] == expected["processed_columns"]
    assert outputs["quarantine"] == expected["quarantine"]
    changed = sorted(set(outputs["processed"]) ^ set(expected["processed"]))
    assert not changed, f"processed rows differ (file:line digest): {changed[:20]}"
    assert outputs["processed"] == expected["processed"]
