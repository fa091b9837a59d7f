"""The job's query plan does not grow with the number of input files (one scan, one parse per header)."""

import pytest
from movies_quality.cleaning import type_movies
from movies_quality.headers import inspect_files
from movies_quality.reading import parse_records, scan_lines

from tests.unit.glue.movie_rows import csv_text, movie

pytestmark = pytest.mark.spark


def plan_lines(spark, folder, files: int) -> int:
    paths = []
    for number in range(files):
        path = folder / f"part-{number}.csv"
        path.write_text(csv_text([movie(Series_Title=f"Film {number}")]))
        paths.append(path.as_uri())
    layouts = inspect_files(spark, paths, paths)
    typed = type_movies(parse_records(scan_lines(spark, layouts), layouts))
    return len(typed._jdf.queryExecution().optimizedPlan().toString().splitlines())


def test_forty_files_plan_as_many_operators_as_two(spark, tmp_path):
    (tmp_path / "two").mkdir()
    (tmp_path / "forty").mkdir()

    assert plan_lines(spark, tmp_path / "forty", 40) == plan_lines(spark, tmp_path / "two", 2)
