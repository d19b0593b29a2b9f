"""The Spark engine: the embedded engine's own functions, run by Spark executors.

Spark distributes the files; each partition runs ``reduce_files`` — the same readers and the
same reduction as the embedded engine — and the partial Accumulators are merged with
``treeReduce``, so the driver receives one reduction (sessions and failures, never records) and
runs the same ``analyze``.  There is no second definition of anything to drift: the tests hold
the two engines to identical reports on every scenario anyway.

Local paths are listed on the driver and read by the executors; ``s3a://`` (or any Hadoop) paths
are read with ``binaryFiles`` and handed to the same readers.  pyspark is imported here only
(``pip install 'credaudit[spark]'``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from credaudit.errors import InputError
from credaudit.incident.collect import Accumulator
from credaudit.incident.embedded import Options, reduce_contents, reduce_files
from credaudit.incident.files import decompress

REMOTE = ("s3a://", "s3://", "hdfs://", "gs://", "abfs://")


def _session(master: str) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise InputError("--engine spark needs pyspark: pip install 'credaudit[spark]'") from None
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return (
        SparkSession.builder.master(master)
        .appName("credaudit-incident")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )


def _reduce_blobs(blobs: Iterable[tuple[str, bytes]], options: Options) -> Accumulator:
    return reduce_contents(((path, *decompress(raw)) for path, raw in blobs), options)


def run(files: list[str], options: Options, master: str = "local[*]") -> Accumulator:
    spark = _session(master)
    context = spark.sparkContext
    local = [f for f in files if not f.startswith(REMOTE)]
    remote = [f for f in files if f.startswith(REMOTE)]
    parts = []
    if local:
        slices = max(1, min(len(local), context.defaultParallelism * 4))

        def local_partition(paths: Iterator[str]) -> Iterator[Accumulator]:
            yield reduce_files(paths, options)

        parts.append(context.parallelize(local, slices).mapPartitions(local_partition))
    if remote:

        def remote_partition(blobs: Iterator[tuple[str, bytes]]) -> Iterator[Accumulator]:
            yield _reduce_blobs(blobs, options)

        hadoop = context._jsc.hadoopConfiguration()
        hadoop.set("mapreduce.input.fileinputformat.input.dir.recursive", "true")
        rdd = context.binaryFiles(",".join(remote))
        parts.append(rdd.mapPartitions(remote_partition))
    acc = Accumulator()
    for part in parts:
        acc.merge(part.treeReduce(lambda a, b: a.merge(b)))
    return acc
