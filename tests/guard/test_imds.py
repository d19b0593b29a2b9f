"""Instance credentials: bounded by the expiry the endpoint served, not botocore's extension.

moto's metadata endpoint serves a role a day ahead; the stub (tests/stubs) serves
credentials that expire in 5 minutes, which botocore's ``_evaluate_expiration`` extends by
12 to 20 minutes ("Attempting credential expiration extension…").  No real peer serves a
dying credential on demand, so that case is a stub."""

from __future__ import annotations

import logging
import random
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.utils import InstanceMetadataFetcher

from credaudit.guard import RefreshFailed, guard
from credaudit.guard._botocore import served_expiry
from credaudit.presign import inspect
from tests.guard.conftest import bare_aws_env
from tests.guard.test_sts_presign import PARAMS, SIX_HOURS, url_end, url_key
from tests.stubs.servers import SECRET_KEY, SESSION_TOKEN, credentials_document, fake_imds

pytestmark = pytest.mark.peer
SIGV4 = Config(signature_version="s3v4")
TWO_DAYS = 2 * 24 * 3600


def imds_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str) -> None:
    bare_aws_env(
        monkeypatch,
        tmp_path,
        AWS_EC2_METADATA_SERVICE_ENDPOINT=url,
        AWS_EC2_METADATA_DISABLED="false",
        AWS_DEFAULT_REGION="us-east-1",
    )


def fresh_key() -> str:
    """A key id of the test's own: what IMDS served is remembered per key id."""
    return "ASIA" + "".join(random.choices(string.ascii_uppercase + "234567", k=16))


def unguarded(session: Any, service: str) -> Any:
    inner = session._session
    return inner.__class__.create_client(inner, service, config=SIGV4)


def test_moto_instance_role_bounded_by_the_served_expiry(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    imds_env(monkeypatch, tmp_path, moto_endpoint + "/")
    session = guard(boto3.Session(), presign="clamp")
    s3 = session.client("s3", config=SIGV4)
    assert session.get_credentials().method == "iam-role"
    six = s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=SIX_HOURS)
    assert f"X-Amz-Expires={SIX_HOURS}&" in six  # a day left: untouched
    key = url_key(six)
    served = served_expiry(key)
    theirs = InstanceMetadataFetcher(
        config={"ec2_metadata_service_endpoint": moto_endpoint + "/"}
    ).retrieve_iam_role_credentials()
    assert theirs["access_key"] == key
    assert served is not None
    assert abs(served - datetime.fromisoformat(theirs["expiry_time"])) < timedelta(seconds=5)
    long = s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=TWO_DAYS)
    assert url_end(long) <= served - timedelta(seconds=29)
    assert url_end(long) > datetime.now(UTC) + timedelta(hours=23)


@pytest.mark.parametrize("when", ["session-before-load", "client-after-load"])
def test_dying_instance_credentials_bounded_by_what_imds_served_not_the_extension(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    when: str,
) -> None:
    caplog.set_level(logging.INFO)
    served_at = datetime.now(UTC).replace(microsecond=0)
    document = credentials_document(timedelta(minutes=5), access_key_id=fresh_key(), now=served_at)
    served = served_at + timedelta(minutes=5)
    with fake_imds(documents=[document]) as (server, imds):
        imds_env(monkeypatch, tmp_path, server.url)
        if when == "session-before-load":
            session = guard(boto3.Session(), presign="clamp", min_remaining=60)
            s3 = session.client("s3", config=SIGV4)
        else:
            session = boto3.Session()
            s3 = guard(session.client("s3", config=SIGV4), presign="clamp", min_remaining=60)
        creds = session.get_credentials()
        assert "Attempting credential expiration extension" in caplog.text
        assert creds._expiry_time >= served + timedelta(minutes=6)  # botocore's extension
        reads = imds.reads
        url = s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=3600)
        assert imds.reads - reads == (0 if when == "session-before-load" else 1)
        assert url_end(url) <= served - timedelta(seconds=29)
        key = url_key(url)
        result = inspect(url, now=datetime.now(UTC), sessions={key: served})
        assert "CA301" not in [f.code for f in result.findings]
        # botocore alone: an hour, well past the credentials' real end.
        plain = unguarded(session, "s3").generate_presigned_url(
            "get_object", Params=PARAMS, ExpiresIn=3600
        )
        assert url_end(plain) > served + timedelta(minutes=50)
        assert "CA301" in [
            f.code for f in inspect(plain, now=datetime.now(UTC), sessions={key: served}).findings
        ]


def test_dying_instance_credentials_inside_min_remaining_fail_fast(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    document = credentials_document(timedelta(minutes=5), access_key_id=fresh_key())
    with fake_imds(documents=[document]) as (server, _imds):
        imds_env(monkeypatch, tmp_path, server.url)
        s3 = guard(boto3.Session()).client("s3")  # min_remaining 900 s
        caplog.set_level(logging.WARNING)
        with pytest.raises(RefreshFailed) as raised:
            s3.generate_presigned_url("get_object", Params=PARAMS, ExpiresIn=60)
        assert raised.value.outcome == "same"  # IMDS hands back the dying credentials
        assert raised.value.session_expires_at is not None
        assert raised.value.session_expires_at <= datetime.now(UTC) + timedelta(minutes=5)
        for text in (str(raised.value), caplog.text):
            assert SECRET_KEY not in text and SESSION_TOKEN not in text
