from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.incident.scenarios import SCENARIOS, Scenario
from tests.peers.peer_util import require_peer


@pytest.fixture(params=sorted(SCENARIOS))
def scenario(request: pytest.FixtureRequest, tmp_path: Path) -> Scenario:
    return SCENARIOS[request.param](tmp_path / request.param)


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One SparkSession for the whole test session (starting one costs seconds)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        require_peer("pyspark is not installed (scripts/test installs it)")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        require_peer("no Java for Spark")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("credaudit-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
