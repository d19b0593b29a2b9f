"""The chain differential again, with the instance metadata service live (moto server) instead
of disabled: wherever nothing earlier in the chain answers, both tools must fall through to
``iam-role``, and everywhere else IMDS must stay shadowed exactly as botocore shadows it."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings

from tests.test_chain_differential import _botocore, _credaudit, _write_host, hosts

pytestmark = pytest.mark.peer


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(host=hosts())
def test_winner_matches_botocore_with_imds_live(
    host: dict[str, Any], moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.mktemp("home")
    env, explicit = _write_host(home, host)
    del env["AWS_EC2_METADATA_DISABLED"]
    env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = moto_endpoint + "/"
    expected = _botocore(env, explicit)
    got, why = _credaudit(env, explicit, home, network=True, probe_timeout=timedelta(seconds=3))
    expected_kind = "error" if expected.startswith("error:") else expected
    event(f"botocore: {expected}")
    assert got == expected_kind, (
        f"botocore: {expected}, credaudit: {got} ({why})\nhost: {json.dumps(host, indent=1)}"
    )
