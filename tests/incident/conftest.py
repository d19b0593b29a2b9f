from __future__ import annotations

from pathlib import Path

import pytest

from tests.incident.scenarios import SCENARIOS, Scenario


@pytest.fixture(params=sorted(SCENARIOS))
def scenario(request: pytest.FixtureRequest, tmp_path: Path) -> Scenario:
    return SCENARIOS[request.param](tmp_path / request.param)
