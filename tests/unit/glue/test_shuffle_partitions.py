"""The job sizes its shuffles from the batch: one partition per 64 MB of input, at least one per core."""

from movies_quality.job import SHUFFLE_PARTITION_BYTES, shuffle_partitions


def test_a_small_batch_gets_one_partition_per_core_not_spark_s_200():
    assert shuffle_partitions(0, 2) == 2
    assert shuffle_partitions(150_000, 8) == 8


def test_a_large_batch_gets_one_partition_per_64_mb():
    assert SHUFFLE_PARTITION_BYTES == 64 * 1024 * 1024
    assert shuffle_partitions(445_501_263, 2) == 7
    assert shuffle_partitions(10 * SHUFFLE_PARTITION_BYTES + 1, 4) == 11
